use super::responses::{Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::users::{self};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpResponse};
use shared::dto::{CreateUser, Page, Problem, ResetPassword, UpdateUser, User, UserListQuery};
use shared::Permission;
use uuid::Uuid;

/// Lists accounts with filters, sorting and pagination.
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    responses(
        (status = 200, body = Page<User>),
        Unauthenticated,
        Forbidden,
        Invalid,
    ),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<UserListQuery>,
) -> ApiResult<web::Json<Page<User>>> {
    Ok(web::Json(
        users::page(&state, &auth, query.into_inner()).await?,
    ))
}

/// Creates an account with its roles and teams (the Global team when none is given).
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, body = User),
        Unauthenticated,
        Forbidden,
        Invalid,
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::UsersManage)?;
    let user = users::create(
        &state.db,
        &auth.context,
        Some(auth.id()),
        body.into_inner()?,
        users::Admission::READY,
    )
    .await?;
    Ok(HttpResponse::Created().json(user))
}

/// One account.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = User),
        Unauthenticated,
        Forbidden,
        NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<User>> {
    Ok(web::Json(users::get(&state, &auth, id.into_inner()).await?))
}

/// Changes e-mail, name or roles, or (de)activates an account. Deactivation ends its sessions at once.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = UpdateUser,
    responses(
        (status = 200, body = User),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Would leave no active administrator"),
        Invalid,
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<UpdateUser>,
) -> ApiResult<web::Json<User>> {
    auth.require(Permission::UsersManage)?;
    Ok(web::Json(
        users::update(&state.db, &auth, id.into_inner(), body.into_inner()?).await?,
    ))
}

/// Sets a new password for an account; its sessions end.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = ResetPassword,
    responses(
        (status = 204),
        Unauthenticated,
        Forbidden,
        NotFound,
        Invalid,
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<ResetPassword>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::UsersManage)?;
    let body = body.into_inner()?;
    body.validate()?;
    users::set_password(
        &state.db,
        &auth.context,
        auth.id(),
        id.into_inner(),
        body.password,
        "user.reset_password",
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
