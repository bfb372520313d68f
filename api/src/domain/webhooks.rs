//! Webhooks that receive every notification (signed with HMAC-SHA256), and the log of deliveries to them and to e-mail.

use crate::auth::AuthUser;
use crate::crypto;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::{notification_deliveries as delivery_rows, webhooks as rows};
use crate::error::{ApiError, ApiResult};
use crate::exec::network_policy::Purpose;
use crate::state::AppState;
use sea_orm::{ActiveModelTrait, EntityTrait, ModelTrait, QueryOrder, QuerySelect, Set};
use shared::notifications::{CreateWebhook, Delivery, Webhook};
use shared::Permission;
use uuid::Uuid;

fn to_dto(w: rows::Model) -> Webhook {
    Webhook {
        id: w.id,
        name: w.name,
        url: w.url,
        active: w.active,
        created_at: w.created_at,
    }
}

pub async fn list(state: &AppState, auth: &AuthUser) -> ApiResult<Vec<Webhook>> {
    auth.require(Permission::ProvidersManage)?;
    let found = rows::Entity::find()
        .order_by_asc(rows::Column::Name)
        .all(&state.db)
        .await?;
    Ok(found.into_iter().map(to_dto).collect())
}

pub async fn create(state: &AppState, auth: &AuthUser, body: CreateWebhook) -> ApiResult<Webhook> {
    auth.require(Permission::ProvidersManage)?;
    body.validate()?;
    state
        .config
        .network
        .check_url_on_save(Purpose::Webhook, &body.url)
        .await
        .map_err(|refused| ApiError::field("url", refused.0))?;
    let sealed = crypto::seal(&state.keys.master_key, &body.secret).map_err(ApiError::Internal)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(body.name.trim().to_owned()),
        url: Set(body.url.trim().to_owned()),
        secret: Set(sealed),
        active: Set(true),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "webhook.create",
            target_type: "webhook",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"name": row.name, "url": row.url})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(row))
}

pub async fn remove(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::ProvidersManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = rows::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "webhook.delete",
            target_type: "webhook",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"name": row.name, "url": row.url})),
            after: None,
        },
    )
    .await?;
    row.delete(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn deliveries(state: &AppState, auth: &AuthUser) -> ApiResult<Vec<Delivery>> {
    auth.require(Permission::ProvidersManage)?;
    let found = delivery_rows::Entity::find()
        .order_by_desc(delivery_rows::Column::UpdatedAt)
        .limit(200)
        .all(&state.db)
        .await?;
    Ok(found
        .into_iter()
        .map(|d| Delivery {
            id: d.id,
            notification_id: d.notification_id,
            channel: d.channel,
            target: d.target,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            updated_at: d.updated_at,
        })
        .collect())
}
