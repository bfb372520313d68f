//! Personal API tokens: a caller's own, minted only from a signed-in session (tokens do not mint
//! tokens), shown once, kept as a hash, revoked at once.

use crate::auth::{secrets, AuthUser};
use crate::domain::audit::{self, AuditEntry};
use crate::entities::api_tokens as rows;
use crate::error::{ApiError, ApiResult};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use shared::dto::{ApiToken, CreateApiToken, CreatedApiToken};
use shared::Permission;
use uuid::Uuid;

fn to_dto(row: rows::Model) -> ApiToken {
    ApiToken {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        expires_at: row.expires_at,
    }
}

/// The caller's tokens that are not revoked, newest first.
pub async fn list(db: &DatabaseConnection, auth: &AuthUser) -> ApiResult<Vec<ApiToken>> {
    auth.require(Permission::ApiTokensOwn)?;
    let found = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::RevokedAt.is_null())
        .order_by_desc(rows::Column::CreatedAt)
        .all(db)
        .await?;
    Ok(found.into_iter().map(to_dto).collect())
}

/// Mints a token; the secret is in the answer only, the database keeps its hash.
pub async fn create(
    db: &DatabaseConnection,
    auth: &AuthUser,
    body: CreateApiToken,
) -> ApiResult<CreatedApiToken> {
    auth.require(Permission::ApiTokensOwn)?;
    if auth.api_token_id.is_some() {
        return Err(ApiError::Forbidden);
    }
    body.validate()?;
    let secret = secrets::random_secret(secrets::API_TOKEN_PREFIX);
    let now = chrono::Utc::now();
    let txn = crate::db::begin_write(db).await?;
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(auth.id()),
        name: Set(body.name.trim().to_owned()),
        prefix: Set(secret.chars().take(10).collect()),
        token_hash: Set(secrets::digest(&secret)),
        created_at: Set(now),
        last_used_at: Set(None),
        expires_at: Set(body
            .expires_in_days
            .map(|d| now + chrono::Duration::days(i64::from(d)))),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "api_token.create",
            target_type: "api_token",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"name": row.name, "prefix": row.prefix})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedApiToken {
        token: to_dto(row),
        secret,
    })
}

/// Revokes one of the caller's tokens; it stops working at once.
pub async fn revoke(db: &DatabaseConnection, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::ApiTokensOwn)?;
    let txn = crate::db::begin_write(db).await?;
    let row = rows::Entity::find_by_id(id)
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::RevokedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let token_id = row.id;
    let mut active: rows::ActiveModel = row.into();
    active.revoked_at = Set(Some(chrono::Utc::now()));
    active.update(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "api_token.revoke",
            target_type: "api_token",
            target_id: Some(token_id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
