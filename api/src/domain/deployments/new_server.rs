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
use uuid::Uuid;

/// The guest a deployment asks for: its name, the team and account it belongs to, and the public
/// key that logs in to it.
pub(super) struct NewGuest<'a> {
    pub name: &'a str,
    pub team_id: Uuid,
    pub account_id: Uuid,
    pub login_key: &'a str,
}

/// Files (and when the caller may, approves) the server request a deployment onto a new VM or
/// LXC guest waits for. VM or LXC follows the deployment's type.
pub(super) async fn request_server(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    input: &DeployRequest,
    guest: NewGuest<'_>,
) -> ApiResult<Uuid> {
    let spec = crate::domain::requests::GuestSpec {
        hostname: guest.name.to_owned(),
        team_id: guest.team_id,
        account_id: guest.account_id,
        login_keys: vec![guest.login_key.to_owned()],
        purpose: format!("App deployment {}", guest.name),
        container: input.deployment_type == DeploymentType::Lxc,
        location: input.location.clone(),
        image: input.image.clone(),
        server_type: input.server_type.clone(),
        cpu: input.cpu,
        ram_mb: input.ram_mb,
        disk_gb: input.disk_gb,
    };
    crate::domain::requests::request_guest(txn, state, auth, spec).await
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
