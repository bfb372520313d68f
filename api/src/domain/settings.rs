//! Platform settings administrators change (the terminal allowlist, the landing page): one JSON
//! value per key in the `settings` table, every change audited with its before and after.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::settings as rows;
use crate::error::ApiResult;
use crate::state::AppState;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde::{de::DeserializeOwned, Serialize};

/// The value under `key`, or the default while none was saved (or it no longer parses).
pub async fn load<T: DeserializeOwned + Default, C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<T, DbErr> {
    Ok(rows::Entity::find_by_id(key)
        .one(db)
        .await?
        .and_then(|row| serde_json::from_value(row.value).ok())
        .unwrap_or_default())
}

/// Saves `value` under `key` and audits the change as `action`. The caller checks permissions
/// and validity first.
pub async fn save<T: Serialize + DeserializeOwned + Default>(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    action: &str,
    value: &T,
) -> ApiResult<()> {
    let before: T = load(&state.db, key).await?;
    let value = serde_json::to_value(value).map_err(anyhow::Error::from)?;
    rows::Entity::insert(rows::ActiveModel {
        key: Set(key.into()),
        value: Set(value.clone()),
        updated_by: Set(Some(auth.id())),
        updated_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(rows::Column::Key)
            .update_columns([
                rows::Column::Value,
                rows::Column::UpdatedBy,
                rows::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&state.db)
    .await?;
    audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action,
            target_type: "settings",
            target_id: Some(key.into()),
            before: serde_json::to_value(&before).ok(),
            after: Some(value),
        },
    )
    .await?;
    Ok(())
}
