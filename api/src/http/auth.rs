use super::responses::{Forbidden, Invalid, TooManyRequests, Unauthenticated};
use crate::auth::{AuthUser, RequestContext};
use crate::domain::{sessions, users};
use crate::error::{ApiError, ApiResult};
use crate::server::web_security::{over_tls, require_same_origin};
use crate::state::AppState;
use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use shared::dto::{
    ChangePassword, LoginRequest, Me, Problem, StreamTicket, StreamTicketRequest, TokenResponse,
};

pub const REFRESH_COOKIE: &str = "provisio_refresh";

/// The refresh cookie, sent back only to /api/auth (login, refresh, logout) and never readable
/// by scripts. It keeps its plain name: the `__Host-` prefix would require `Path=/`, which would
/// send the token with every request instead.
fn refresh_cookie(
    state: &AppState,
    req: &HttpRequest,
    value: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    let secure = state.config.secure_cookies || over_tls(req, &state.config.trusted_proxies);
    Cookie::build(REFRESH_COOKIE, value)
        .path("/api/auth")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(time::Duration::seconds(max_age_secs))
        .finish()
}

fn session_response(
    state: &AppState,
    req: &HttpRequest,
    session: sessions::Session,
) -> HttpResponse {
    let max_age = state.config.refresh_token_ttl.as_secs() as i64;
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .cookie(refresh_cookie(state, req, session.refresh_secret, max_age))
        .json(session.response)
}

/// Signs in with a username (or e-mail) and password. Sets the rotating refresh cookie.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse, description = "Signed in; the refresh token is set as an httpOnly cookie"),
        Unauthenticated,
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Sent by a page of another site"),
        Invalid,
        (status = 429, body = Problem, content_type = "application/problem+json", description = "Too many attempts; see Retry-After"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
    body: super::Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    require_same_origin(&req, &state.config)?;
    let session = sessions::login(&state, &context, body.into_inner()?).await?;
    Ok(session_response(&state, &req, session))
}

/// Exchanges the refresh cookie for a new access token and rotates the cookie.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = TokenResponse),
        Unauthenticated,
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Sent by a page of another site"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    require_same_origin(&req, &state.config)?;
    let secret = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(ApiError::Unauthenticated(
            "no refresh cookie; sign in again",
        ))?;
    let session = sessions::refresh(&state, &secret).await?;
    Ok(session_response(&state, &req, session))
}

/// Ends the session of the refresh cookie (its whole rotation family) and clears the cookie.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "Sent by a page of another site"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    require_same_origin(&req, &state.config)?;
    if let Some(cookie) = req.cookie(REFRESH_COOKIE) {
        sessions::logout(&state, &context, cookie.value()).await?;
    }
    Ok(HttpResponse::NoContent()
        .cookie(refresh_cookie(&state, &req, String::new(), 0))
        .finish())
}

/// The signed-in user with their roles, permissions and teams.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = Me), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<Me>> {
    Ok(web::Json(users::me(&state.db, &auth.user).await?))
}

/// Changes the caller's own password; every other session ends. Only in a signed-in session
/// (an API token gets 403), and wrong current passwords count against the same limit as
/// wrong passwords at sign-in (429 once it is reached).
#[utoipa::path(
    tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 204),
        Unauthenticated,
        Forbidden,
        Invalid,
        TooManyRequests,
    ),
    security(("bearer" = []))
)]
#[put("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<ChangePassword>,
) -> ApiResult<HttpResponse> {
    sessions::change_own_password(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A single-use ticket that opens one live stream or terminal within 30 seconds, for browsers,
/// whose EventSource and WebSocket cannot send an `Authorization` header: open
/// `{path}?ticket={ticket}`. The ticket ends with the session that asked for it.
#[utoipa::path(
    tag = "auth",
    request_body = StreamTicketRequest,
    responses((status = 201, body = StreamTicket), Unauthenticated, Invalid),
    security(("bearer" = []))
)]
#[post("/auth/stream-tickets")]
pub async fn stream_ticket(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<StreamTicketRequest>,
) -> ApiResult<HttpResponse> {
    let ticket = sessions::issue_stream_ticket(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(ticket))
}
