//! The generated key pair of a deployment onto a new guest: its private half is handed out once,
//! to the person who made the deployment, and forgotten in the same conditional UPDATE.

use super::visible;
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::{deployments as rows, servers as server_rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use shared::deployments::PrivateKeyDownload;
use shared::Permission;
use uuid::Uuid;

const ALREADY_TAKEN: &str = "the private key was downloaded once already and Provisio keeps no \
     copy; log in with the downloaded file, or put another public key on the server";

pub async fn take_private_key(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<PrivateKeyDownload> {
    auth.require(Permission::DeploymentsManage)?;
    let row = visible(&state.db, auth, id).await?;
    // The key is the deployer's alone: to anyone else it does not exist.
    if row.created_by != Some(auth.id()) {
        return Err(ApiError::NotFound);
    }
    let Some(sealed) = row.ssh_private_key.clone() else {
        return Err(match row.ssh_public_key {
            Some(_) => ApiError::Gone(ALREADY_TAKEN.into()),
            None => ApiError::NotFound,
        });
    };
    // Of two concurrent downloads exactly one clears the column and gets the key.
    let cleared = rows::Entity::update_many()
        .col_expr(rows::Column::SshPrivateKey, Expr::value(None::<String>))
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::SshPrivateKey.eq(sealed.as_str()))
        .exec(&state.db)
        .await?
        .rows_affected;
    if cleared != 1 {
        return Err(ApiError::Gone(ALREADY_TAKEN.into()));
    }
    let private_key = state.keys.open(&sealed)?;
    let server = match row.server_id {
        Some(server_id) => {
            server_rows::Entity::find_by_id(server_id)
                .one(&state.db)
                .await?
        }
        None => None,
    };
    audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "deployment.private_key_downloaded",
            target_type: "deployment",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({ "public_key": row.ssh_public_key })),
        },
    )
    .await?;
    Ok(PrivateKeyDownload {
        private_key,
        file_name: format!("{}_ed25519", row.name),
        login_user: server
            .as_ref()
            .map(|s| s.ssh_user.clone())
            .unwrap_or_else(|| "root".into()),
        ip_address: server.and_then(|s| s.ipv4),
    })
}
