//! Project terminals: the allowlist (administrators) and the WebSocket session.

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::terminal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, put, web, HttpRequest, HttpResponse};
use shared::terminal::TerminalSettings;
use shared::Permission;
use uuid::Uuid;

/// The programs terminals may start and the idle timeout.
#[utoipa::path(
    tag = "projects",
    responses((status = 200, body = TerminalSettings), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/terminal/settings")]
pub async fn get_settings(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<TerminalSettings>> {
    auth.require(Permission::DeploymentsManage)?;
    Ok(web::Json(terminal::settings(&state.db).await?))
}

/// Sets the allowlist (administrators).
#[utoipa::path(
    tag = "projects",
    request_body = TerminalSettings,
    responses((status = 200, body = TerminalSettings), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[put("/terminal/settings")]
pub async fn put_settings(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<TerminalSettings>,
) -> ApiResult<web::Json<TerminalSettings>> {
    auth.require(Permission::UsersManage)?;
    Ok(web::Json(
        terminal::save_settings(&state, &auth, body.into_inner()?).await?,
    ))
}

/// Terminal messages are keystrokes and small JSON commands; a larger frame ends the session.
const TERMINAL_MAX_FRAME_BYTES: usize = 64 * 1024;

/// A terminal in the project's checkout over a WebSocket (a browser opens it with `?ticket=` from
/// `POST /api/auth/stream-tickets`). Messages
/// are JSON: the browser sends `run {argv}`, `input {data}`, `resize {cols, rows}`, `interrupt`;
/// the server sends `ready`, `started`, `output {data}`, `exit {code, signal}`, `error`, `closed`.
/// Only programs on the allowlist start; every start, refusal and exit is audited.
#[utoipa::path(
    tag = "projects",
    params(("id" = Uuid, Path)),
    responses((status = 101, description = "WebSocket upgrade"), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[get("/projects/{id}/terminal")]
pub async fn open(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    req: HttpRequest,
    body: web::Payload,
) -> ApiResult<HttpResponse> {
    let project = terminal::project_for(&state, &auth, id.into_inner()).await?;
    let (response, session, incoming) = actix_ws::handle(&req, body)
        .map_err(|e| ApiError::BadRequest(format!("a WebSocket upgrade is required: {e}")))?;
    let incoming = incoming.max_frame_size(TERMINAL_MAX_FRAME_BYTES);
    let state = state.get_ref().clone();
    actix_web::rt::spawn(terminal::serve(state, auth, project, session, incoming));
    Ok(response)
}
