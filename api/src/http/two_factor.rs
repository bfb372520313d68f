//! Two-factor sign-in: enrolment in one's own session, the policy and resets by administrators.

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::two_factor;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpResponse};
use shared::two_factor::{RecoveryCodes, TotpCode, TotpEnrolment, TwoFactorPolicy};
use shared::Permission;
use uuid::Uuid;

/// Starts setting up two-factor sign-in (again): a new secret and its QR code for an
/// authenticator app. Nothing changes until `POST /api/auth/two-factor/confirm` gets a code.
/// Only in a signed-in session (an API token gets 403).
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = TotpEnrolment), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[post("/auth/two-factor")]
pub async fn start_two_factor(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<HttpResponse> {
    let enrolment = two_factor::start(&state, &auth).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(enrolment))
}

/// Confirms the set-up with the app's current code: from now on signing in asks for a code.
/// Answers ten recovery codes, each good for one sign-in, shown this once.
#[utoipa::path(
    tag = "auth",
    request_body = TotpCode,
    responses((status = 200, body = RecoveryCodes), Unauthenticated, Forbidden, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/auth/two-factor/confirm")]
pub async fn confirm_two_factor(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<TotpCode>,
) -> ApiResult<HttpResponse> {
    // Refused before the body is read, like every refused write.
    two_factor::require_session(&auth)?;
    let input = body.into_inner()?;
    let codes = two_factor::confirm(&state, &auth, &input.code).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(codes))
}

/// Removes a user's second factor and recovery codes (administrators), e.g. after a lost phone.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/users/{id}/two-factor/reset")]
pub async fn reset_two_factor(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    two_factor::reset(&state, &auth, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The roles that must sign in with a second factor (administrators).
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = TwoFactorPolicy), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/two-factor/policy")]
pub async fn get_two_factor_policy(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<TwoFactorPolicy>> {
    auth.require(Permission::UsersManage)?;
    Ok(web::Json(two_factor::policy(&state.db).await?))
}

/// Sets the roles that must sign in with a second factor (administrators). Their members'
/// browser sessions may only set it up until they have; API tokens are not affected.
#[utoipa::path(
    tag = "users",
    request_body = TwoFactorPolicy,
    responses((status = 200, body = TwoFactorPolicy), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[put("/two-factor/policy")]
pub async fn put_two_factor_policy(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<TwoFactorPolicy>,
) -> ApiResult<web::Json<TwoFactorPolicy>> {
    auth.require(Permission::UsersManage)?;
    let input = body.into_inner()?;
    Ok(web::Json(
        two_factor::save_policy(&state, &auth, input).await?,
    ))
}
