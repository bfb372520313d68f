//! The server's own settings as administrators see them (read-only: they come from the
//! service's environment).

use super::responses::{Forbidden, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::settings;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use shared::settings::ServerSettings;
use shared::Permission;

/// Sign-in limits, sessions, the e-mail channel and the network policy in effect, each named in
/// its description by the environment variable that sets it (administrators).
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = ServerSettings), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/settings")]
pub async fn server(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<ServerSettings>> {
    auth.require(Permission::UsersManage)?;
    Ok(web::Json(settings::server_settings(&state.config)))
}
