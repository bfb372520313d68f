use crate::auth::{secrets, AuthUser};
use crate::domain::audit::{self, AuditEntry};
use crate::entities::api_tokens as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use shared::dto::{ApiToken, CreateApiToken, CreatedApiToken, Problem};
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

/// The caller's personal API tokens that are not revoked.
#[utoipa::path(
    tag = "tokens",
    responses(
        (status = 200, body = Vec<ApiToken>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/me/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<ApiToken>>> {
    auth.require(Permission::ApiTokensOwn)?;
    let found = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::RevokedAt.is_null())
        .order_by_desc(rows::Column::CreatedAt)
        .all(&state.db)
        .await?;
    Ok(web::Json(found.into_iter().map(to_dto).collect()))
}

/// Creates a personal API token. The secret is in this response only; the server keeps its hash.
#[utoipa::path(
    tag = "tokens",
    request_body = CreateApiToken,
    responses(
        (status = 201, body = CreatedApiToken),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token: tokens do not mint tokens", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/me/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateApiToken>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ApiTokensOwn)?;
    if auth.api_token_id.is_some() {
        return Err(ApiError::Forbidden);
    }
    let body = body.into_inner();
    body.validate()?;
    let secret = secrets::random_secret(secrets::API_TOKEN_PREFIX);
    let now = chrono::Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
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
    Ok(HttpResponse::Created().json(CreatedApiToken {
        token: to_dto(row),
        secret,
    }))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(
    tag = "tokens",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/me/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ApiTokensOwn)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = rows::Entity::find_by_id(id.into_inner())
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
    Ok(HttpResponse::NoContent().finish())
}
