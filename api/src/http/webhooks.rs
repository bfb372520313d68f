use super::responses::{Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::webhooks;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use shared::notifications::{CreateWebhook, Delivery, Webhook};
use shared::Permission;
use uuid::Uuid;
/// Webhooks that receive every notification, signed with HMAC-SHA256.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = Vec<Webhook>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<Webhook>>> {
    Ok(web::Json(webhooks::list(&state, &auth).await?))
}

/// Adds a webhook. The secret is stored encrypted and never returned.
#[utoipa::path(
    tag = "notifications",
    request_body = CreateWebhook,
    responses((status = 201, body = Webhook), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ProvidersManage)?;
    let answer = webhooks::create(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(answer))
}

/// Removes a webhook; its pending deliveries fail.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    webhooks::remove(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The latest 200 delivery attempts of notifications to webhooks and e-mail, with their results.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = Vec<Delivery>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/notification-deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<Delivery>>> {
    Ok(web::Json(webhooks::deliveries(&state, &auth).await?))
}
