//! A server request filed on someone's behalf together with what will run on it: a deployment
//! onto a new VM or LXC guest, or a managed resource on a new server. What the caller leaves
//! out comes from the provider account's catalog: its first location, its first image of the
//! kind asked for, and for fixed sizes the cheapest server type with the cores, memory and disk
//! asked for. Errors name the same fields as the caller's body (`location`, `image`, …).

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait};
use shared::providers::{ProviderKind, ProviderSettings};
use shared::Permission;
use uuid::Uuid;

/// The guest asked for. `None` fields take the catalog's defaults.
pub struct GuestSpec {
    pub hostname: String,
    pub team_id: Uuid,
    pub account_id: Uuid,
    /// Public keys that log in to it besides the service key.
    pub login_keys: Vec<String>,
    pub purpose: String,
    /// An LXC container rather than a VM (Proxmox accounts only).
    pub container: bool,
    pub location: Option<String>,
    pub image: Option<String>,
    pub server_type: Option<String>,
    pub cpu: Option<u32>,
    pub ram_mb: Option<u32>,
    pub disk_gb: Option<u32>,
}

/// The account a team's new guests go to when the caller names none.
pub async fn default_account<C: ConnectionTrait>(db: &C, team_id: Uuid) -> ApiResult<Uuid> {
    crate::entities::teams::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .and_then(|team| team.default_provider_account_id)
        .ok_or_else(|| {
            ApiError::field(
                "provider_account_id",
                "choose a server, or a provider account for a new one (this team has no default \
                 account for new guests; an administrator can set one on the team)",
            )
        })
}

/// Files the request (and, when the caller may, approves its first step) in `txn`.
pub async fn request_guest(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    spec: GuestSpec,
) -> ApiResult<Uuid> {
    let account = crate::entities::provider_accounts::Entity::find_by_id(spec.account_id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::field("provider_account_id", "no such provider account"))?;
    let catalog = crate::domain::providers::catalog_of(&account);
    let settings: ProviderSettings =
        serde_json::from_value(account.settings.clone().unwrap_or_default()).unwrap_or_default();
    let proxmox = matches!(
        ProviderKind::parse(&account.kind),
        Some(ProviderKind::Proxmox | ProviderKind::TerraformProxmox)
    );
    if spec.container && !proxmox {
        return Err(ApiError::field(
            "deployment_type",
            "LXC containers need a Proxmox account",
        ));
    }
    let image = match spec.image {
        Some(image) => image,
        None => catalog
            .images
            .iter()
            .find(|i| settings.is_container_image(i) == spec.container)
            .cloned()
            .ok_or_else(|| {
                ApiError::field(
                    "image",
                    if spec.container {
                        "this account offers no LXC template: choose another account or a VM"
                    } else {
                        "this account offers no VM image: choose another account"
                    },
                )
            })?,
    };
    match (spec.container, settings.is_container_image(&image)) {
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
    let location = match spec.location {
        Some(location) => location,
        None => catalog.locations.first().cloned().ok_or_else(|| {
            ApiError::field("location", "this account's catalog offers no location")
        })?,
    };
    // Fixed sizes only (Hetzner): the cheapest that fits what was asked.
    let server_type = match spec.server_type {
        Some(name) => Some(name),
        None if catalog.custom_limits.is_none() => Some(
            catalog
                .cheapest_fitting(spec.cpu, spec.ram_mb, spec.disk_gb)
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
        None => (spec.cpu, spec.ram_mb, spec.disk_gb),
    };
    let request = shared::requests::CreateServerRequest {
        hostname: spec.hostname,
        team_id: spec.team_id,
        provider_account_id: spec.account_id,
        location,
        server_type,
        cpu,
        ram_mb,
        disk_gb,
        image,
        purpose: spec.purpose,
        ssh_public_keys: spec.login_keys,
        notes: String::new(),
        subscription_id: None,
    };
    let id = super::create_in(txn, state, auth, request).await?;
    approve_if_allowed(txn, state, auth, id).await?;
    Ok(id)
}

/// Approves the request's current step when it waits and `auth` may approve it; another step
/// of the team's policy may still want someone else.
pub async fn approve_if_allowed(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<()> {
    let pending = crate::entities::server_requests::Entity::find_by_id(id)
        .one(txn)
        .await?
        .is_some_and(|r| r.status == shared::workflow::RequestStatus::Pending.as_str());
    if pending && auth.can(Permission::RequestsApprove) {
        match super::approve_in(txn, state, auth, id).await {
            Ok(()) | Err(ApiError::Forbidden) | Err(ApiError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
