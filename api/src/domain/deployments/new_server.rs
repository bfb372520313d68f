//! A deployment onto a new guest waits for the server request filed with it and follows it.

use super::{enqueue, free_port, lifecycle::transition, ports_in_use, APP_PORT_OFFSET};
use crate::auth::AuthUser;
use crate::entities::deployments as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::deployments::{
    AppStep, DeployRequest, DeploymentAction, DeploymentStatus, DeploymentType,
};
use shared::Permission;
use uuid::Uuid;

/// Files (and when the caller may, approves) the server request a deployment onto a new VM or
/// LXC guest waits for. VM or LXC follows the image: a Proxmox LXC template (`…vztmpl…`) makes
/// a container. What the deployment leaves out comes from the account's catalog: its first
/// location, its first image of the deployment's type, and for fixed sizes the cheapest server
/// type with the cores, memory and disk asked for.
/// The guest a deployment asks for: its name, the team and account it belongs to, and the public
/// key that logs in to it.
pub(super) struct NewGuest<'a> {
    pub name: &'a str,
    pub team_id: Uuid,
    pub account_id: Uuid,
    pub login_key: &'a str,
}

pub(super) async fn request_server(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    input: &DeployRequest,
    guest: NewGuest<'_>,
) -> ApiResult<Uuid> {
    let NewGuest {
        name,
        team_id,
        account_id,
        login_key,
    } = guest;
    let account = crate::entities::provider_accounts::Entity::find_by_id(account_id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::field("provider_account_id", "no such provider account"))?;
    let catalog = crate::domain::providers::catalog_of(&account);
    let settings: shared::providers::ProviderSettings =
        serde_json::from_value(account.settings.clone().unwrap_or_default()).unwrap_or_default();
    let kind = shared::providers::ProviderKind::parse(&account.kind);
    let proxmox = matches!(
        kind,
        Some(
            shared::providers::ProviderKind::Proxmox
                | shared::providers::ProviderKind::TerraformProxmox
        )
    );
    if input.deployment_type == DeploymentType::Lxc && !proxmox {
        return Err(ApiError::field(
            "deployment_type",
            "LXC containers need a Proxmox account",
        ));
    }
    let wants_container = input.deployment_type == DeploymentType::Lxc;
    let image = match &input.image {
        Some(image) => image.clone(),
        None => catalog
            .images
            .iter()
            .find(|i| settings.is_container_image(i) == wants_container)
            .cloned()
            .ok_or_else(|| {
                ApiError::field(
                    "image",
                    if wants_container {
                        "this account offers no LXC template: choose another account or a VM"
                    } else {
                        "this account offers no VM image: choose another account"
                    },
                )
            })?,
    };
    match (wants_container, settings.is_container_image(&image)) {
        (true, false) => {
            return Err(ApiError::field(
                "image",
                "choose an LXC template for an LXC deployment",
            ))
        }
        (false, true) => {
            return Err(ApiError::field(
                "image",
                "this image is an LXC template; choose a VM image or deployment type lxc",
            ))
        }
        _ => {}
    }
    let location = match &input.location {
        Some(location) => location.clone(),
        None => catalog.locations.first().cloned().ok_or_else(|| {
            ApiError::field("location", "this account's catalog offers no location")
        })?,
    };
    // Fixed sizes only (Hetzner): the cheapest that fits what was asked.
    let server_type = match &input.server_type {
        Some(name) => Some(name.clone()),
        None if catalog.custom_limits.is_none() => Some(
            catalog
                .cheapest_fitting(input.cpu, input.ram_mb, input.disk_gb)
                .map(|t| t.name.clone())
                .ok_or_else(|| {
                    ApiError::field(
                        "server_type",
                        "no server type of this account has the cores, memory and disk asked for",
                    )
                })?,
        ),
        None => None,
    };
    let (cpu, ram_mb, disk_gb) = match server_type {
        Some(_) => (None, None, None),
        None => (input.cpu, input.ram_mb, input.disk_gb),
    };
    let request = shared::requests::CreateServerRequest {
        hostname: name.to_owned(),
        team_id,
        provider_account_id: account_id,
        location,
        server_type,
        cpu,
        ram_mb,
        disk_gb,
        image,
        purpose: format!("App deployment {name}"),
        ssh_public_keys: vec![login_key.to_owned()],
        notes: String::new(),
        subscription_id: None,
    };
    let id = crate::domain::requests::create_in(txn, state, auth, request).await?;
    let pending = crate::entities::server_requests::Entity::find_by_id(id)
        .one(txn)
        .await?
        .is_some_and(|r| r.status == shared::workflow::RequestStatus::Pending.as_str());
    if pending && auth.can(Permission::RequestsApprove) {
        match crate::domain::requests::approve_in(txn, state, auth, id).await {
            // The team's policy may want someone else's approval too.
            Ok(()) | Err(ApiError::Forbidden) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(id)
}

/// The key that logs in to a new guest: the caller's public key, or a fresh ed25519 pair whose
/// private half stays sealed under the master key until its one download.
pub(super) struct GuestKey {
    pub public: String,
    pub sealed_private: Option<String>,
}

pub(super) fn guest_key(state: &AppState, given: Option<&str>, name: &str) -> ApiResult<GuestKey> {
    if let Some(given) = given {
        let parsed = crate::domain::ssh_keys::parse_public_key(given)
            .map_err(|e| ApiError::field("ssh_public_key", e))?;
        return Ok(GuestKey {
            public: parsed.canonical,
            sealed_private: None,
        });
    }
    let private = ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)
        .map_err(|e| anyhow::anyhow!("generating a key pair: {e}"))?;
    let mut public = private.public_key().clone();
    public.set_comment(format!("provisio-{name}"));
    let pem = private
        .to_openssh(ssh_key::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the private key: {e}"))?;
    Ok(GuestKey {
        public: public
            .to_openssh()
            .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?,
        sealed_private: Some(crate::crypto::seal(&state.keys.master_key, pem.as_str())?),
    })
}

/// Deployments still waiting for the server of a request.
async fn waiting_for<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Vec<rows::Model>, DbErr> {
    rows::Entity::find()
        .filter(rows::Column::RequestId.eq(request_id))
        .filter(rows::Column::Status.is_in([
            DeploymentStatus::Pending.as_str(),
            DeploymentStatus::Provisioning.as_str(),
        ]))
        .all(db)
        .await
}

/// Keeps deployments that wait for a server request in step with it: provisioning started, or
/// the request failed, was rejected or cancelled (the deployment fails at "provisioning").
pub async fn follow_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    to: shared::workflow::RequestStatus,
    reason: &str,
) -> Result<(), DbErr> {
    use shared::workflow::RequestStatus as R;
    let waiting = waiting_for(db, request_id).await?;
    for row in waiting {
        let moved = match to {
            R::Provisioning => {
                transition(db, &row, DeploymentAction::StartProvisioning, vec![]).await
            }
            R::Failed | R::Rejected | R::Cancelled => {
                let error = if reason.is_empty() {
                    format!("the server request was {}", to.as_str())
                } else {
                    format!("the server request was {}: {reason}", to.as_str())
                };
                transition(
                    db,
                    &row,
                    DeploymentAction::MarkFailed,
                    vec![
                        (rows::Column::FailedStep, Expr::value("provisioning")),
                        (rows::Column::Error, Expr::value(error)),
                    ],
                )
                .await
            }
            _ => continue,
        };
        if let Err(ApiError::Internal(e)) = moved {
            return Err(DbErr::Custom(e.to_string()));
        }
    }
    Ok(())
}

/// The server request's provisioning started as `execution`: the deployments waiting for it show
/// its live log as their current step.
pub async fn follow_provisioning<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    execution: Uuid,
) -> Result<(), DbErr> {
    rows::Entity::update_many()
        .col_expr(rows::Column::ExecutionId, Expr::value(execution))
        .filter(rows::Column::RequestId.eq(request_id))
        .filter(rows::Column::Status.eq(DeploymentStatus::Provisioning.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The server a deployment waited for is ready: it gets its ports and the deploy job starts.
pub async fn server_ready<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    request_id: Uuid,
    server_id: Uuid,
) -> Result<(), DbErr> {
    let waiting = waiting_for(db, request_id).await?;
    for row in waiting {
        let used = ports_in_use(db, server_id).await?;
        let Ok(port) = free_port(state.config.deploy.first_port, &used, None) else {
            continue;
        };
        rows::Entity::update_many()
            .col_expr(rows::Column::ServerId, Expr::value(server_id))
            .col_expr(rows::Column::Port, Expr::value(port))
            .col_expr(rows::Column::AppPort, Expr::value(port + APP_PORT_OFFSET))
            .filter(rows::Column::Id.eq(row.id))
            .exec(db)
            .await?;
        enqueue(db, &row, AppStep::Deploy, row.created_by).await?;
    }
    Ok(())
}
