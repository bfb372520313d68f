use super::responses::{Forbidden, Unauthenticated};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use shared::dashboard::{DashboardStats, SetupProgress};

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

/// The administrator's first steps on a fresh install (a tested provider account, a team with
/// people, an approval policy, their SSH key), each ticked from the data.
#[utoipa::path(
    tag = "dashboard",
    responses((status = 200, body = SetupProgress), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/stats/setup")]
pub async fn setup(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<SetupProgress>> {
    Ok(web::Json(
        crate::domain::dashboard::setup(&state.db, &auth).await?,
    ))
}
