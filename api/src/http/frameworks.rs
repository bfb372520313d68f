//! Framework presets for app deployments.

use super::responses::Unauthenticated;
use crate::auth::AuthUser;
use crate::domain::frameworks;
use crate::error::ApiResult;
use actix_web::{get, web};
use shared::frameworks::Framework;
use shared::Permission;

/// The framework presets (runtime, default port, install/build/start commands, health path,
/// detection rules), by name.
#[utoipa::path(
    tag = "deployments",
    responses((status = 200, body = Vec<Framework>), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/frameworks")]
pub async fn list(auth: AuthUser) -> ApiResult<web::Json<Vec<Framework>>> {
    auth.require(Permission::DashboardView)?;
    Ok(web::Json(frameworks::all().to_vec()))
}
