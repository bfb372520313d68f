//! The public landing page at `/`: `GET /api/landing` needs no sign-in; administrators decide
//! whether it shows the platform's statistics.

use super::responses::{Forbidden, Invalid, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::landing;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, put, web};
use shared::landing::{Landing, LandingSettings};
use shared::Permission;

/// What Provisio offers (the framework presets) and, when an administrator turned it on, the
/// totals of all deployments. No sign-in needed.
#[utoipa::path(tag = "deployments", responses((status = 200, body = Landing)))]
#[get("/landing")]
pub async fn get(state: web::Data<AppState>) -> ApiResult<web::Json<Landing>> {
    Ok(web::Json(landing::landing(&state.db).await?))
}

/// Whether the landing page shows the platform's statistics (administrators).
#[utoipa::path(
    tag = "deployments",
    responses((status = 200, body = LandingSettings), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/landing/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<LandingSettings>> {
    Ok(web::Json(landing::current(&auth, &state).await?))
}

/// Sets what the landing page shows (administrators; audited).
#[utoipa::path(
    tag = "deployments",
    request_body = LandingSettings,
    responses((status = 200, body = LandingSettings), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[put("/landing/settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<LandingSettings>,
) -> ApiResult<web::Json<LandingSettings>> {
    auth.require(Permission::UsersManage)?;
    Ok(web::Json(
        landing::save(&state, &auth, body.into_inner()?).await?,
    ))
}
