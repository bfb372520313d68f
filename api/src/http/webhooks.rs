use crate::auth::AuthUser;
use crate::domain::webhooks;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use shared::dto::Problem;
use shared::requests::{CreateWebhook, Delivery, Webhook};
use uuid::Uuid;
/// Webhooks that receive every notification, signed with HMAC-SHA256.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = Vec<Webhook>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
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
    responses((status = 201, body = Webhook), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    let answer = webhooks::create(&state, &auth, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(answer))
}

/// Removes a webhook; its pending deliveries fail.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
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
    responses((status = 200, body = Vec<Delivery>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/notification-deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<Delivery>>> {
    Ok(web::Json(webhooks::deliveries(&state, &auth).await?))
}
