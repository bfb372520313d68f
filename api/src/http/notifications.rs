use super::responses::{NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::inbox;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use shared::notifications::NotificationList;
use uuid::Uuid;

/// The caller's latest 50 notifications and their unread count.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = NotificationList), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<NotificationList>> {
    Ok(web::Json(inbox::list(&state.db, &auth).await?))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[post("/notifications/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    inbox::mark_read(&state.db, &auth, Some(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks all of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    responses((status = 204), Unauthenticated),
    security(("bearer" = []))
)]
#[post("/notifications/read-all")]
pub async fn read_all(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    inbox::mark_read(&state.db, &auth, None).await?;
    Ok(HttpResponse::NoContent().finish())
}
