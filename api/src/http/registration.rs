//! Self-registration: the public steps (register, confirm the address, ask for the link again),
//! the policy, and approval by administrators.

use super::responses::{
    Conflict, Forbidden, Gone, Invalid, NotFound, TooManyRequests, Unauthenticated, Unavailable,
};
use crate::auth::{AuthUser, RequestContext};
use crate::domain::registration;
use crate::error::ApiResult;
use crate::server::web_security::require_same_origin;
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use shared::dto::User;
use shared::registration::{
    ConfirmEmail, RegisterRequest, Registered, RegistrationInfo, RegistrationPolicy,
    ResendConfirmation,
};
use shared::Permission;
use uuid::Uuid;

/// Whether people may create their own account, and what it takes (asked by the sign-in page).
#[utoipa::path(tag = "auth", responses((status = 200, body = RegistrationInfo)))]
#[get("/auth/registration")]
pub async fn registration_info(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(registration::info(&state.db).await?))
}

/// Creates one's own account, when an administrator opened registration. The answer says what
/// comes next: following the link e-mailed to the address, or an administrator's approval.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, body = Registered),
        (status = 403, body = shared::dto::Problem, content_type = "application/problem+json", description = "Registration is closed, or the page is of another site"),
        Conflict,
        Invalid,
        TooManyRequests,
    )
)]
#[post("/auth/register")]
pub async fn register_account(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
    body: super::Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    require_same_origin(&req, &state.config)?;
    let policy = registration::require_open(&state.db).await?;
    let registered = registration::register(&state, &context, policy, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(registered))
}

/// Sends a new confirmation link to an address registered but not confirmed yet. Answers 202
/// whether or not there is such an account.
#[utoipa::path(
    tag = "auth",
    request_body = ResendConfirmation,
    responses(
        (status = 202),
        (status = 403, body = shared::dto::Problem, content_type = "application/problem+json", description = "Sent by a page of another site"),
        Invalid,
        TooManyRequests,
        Unavailable,
    )
)]
#[post("/auth/register/resend")]
pub async fn resend_confirmation(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
    body: super::Json<ResendConfirmation>,
) -> ApiResult<HttpResponse> {
    require_same_origin(&req, &state.config)?;
    let input = body.into_inner()?;
    input.validate()?;
    registration::resend(&state, &context, &input.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Confirms an e-mail address with the token from the link; good once, for a day.
#[utoipa::path(
    tag = "auth",
    request_body = ConfirmEmail,
    responses(
        (status = 200, body = Registered),
        (status = 403, body = shared::dto::Problem, content_type = "application/problem+json", description = "Sent by a page of another site"),
        Gone,
        Invalid,
    )
)]
#[post("/auth/confirm-email")]
pub async fn confirm_email(
    state: web::Data<AppState>,
    context: RequestContext,
    req: HttpRequest,
    body: super::Json<ConfirmEmail>,
) -> ApiResult<HttpResponse> {
    require_same_origin(&req, &state.config)?;
    let input = body.into_inner()?;
    input.validate()?;
    let confirmed = registration::confirm(&state, &context, &input.token).await?;
    Ok(HttpResponse::Ok().json(confirmed))
}

/// Who may register and where new accounts land (administrators).
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = RegistrationPolicy), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/registration/policy")]
pub async fn get_registration_policy(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::UsersManage)?;
    Ok(HttpResponse::Ok().json(registration::policy(&state.db).await?))
}

/// Opens or closes registration, and chooses the team and role of new accounts (administrators).
#[utoipa::path(
    tag = "users",
    request_body = RegistrationPolicy,
    responses((status = 200, body = RegistrationPolicy), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[put("/registration/policy")]
pub async fn put_registration_policy(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<RegistrationPolicy>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::UsersManage)?;
    let saved = registration::save_policy(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Ok().json(saved))
}

/// Lets a registration that waits for approval in (administrators); the person is told by e-mail.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = User), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/users/{id}/approve")]
pub async fn approve_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let user = registration::approve(&state, &auth, path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(user))
}
