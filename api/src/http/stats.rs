use super::responses::Unauthenticated;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use shared::dashboard::DashboardStats;

/// Figures for the caller's dashboard; each section only for the roles that may see it.
#[utoipa::path(
    tag = "dashboard",
    responses((status = 200, body = DashboardStats), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/stats/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<DashboardStats>> {
    Ok(web::Json(
        crate::domain::dashboard::stats(&state.db, &auth).await?,
    ))
}
