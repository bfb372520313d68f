use super::{like_pattern, paging};
use crate::auth::AuthUser;
use crate::domain::users::{self, teams_by_user, to_dto};
use crate::entities::users as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, patch, post, web, HttpResponse};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use shared::dto::{CreateUser, Page, Problem, ResetPassword, UpdateUser, User, UserListQuery};
use shared::Permission;
use uuid::Uuid;

/// Lists accounts with filters, sorting and pagination.
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    responses(
        (status = 200, body = Page<User>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<UserListQuery>,
) -> ApiResult<web::Json<Page<User>>> {
    auth.require(Permission::UsersManage)?;
    let query = query.into_inner();
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = rows::Entity::find();
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = like_pattern(q);
        select = select.filter(
            Condition::any()
                .add(rows::Column::Username.like(pattern.clone()))
                .add(rows::Column::Email.like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(rows::Column::FullName))).like(pattern)),
        );
    }
    if let Some(role) = query.role {
        select = select.filter(rows::Column::Roles.contains(role.as_str()));
    }
    if let Some(active) = query.active {
        select = select.filter(rows::Column::Active.eq(active));
    }
    select =
        match query.sort.as_deref().unwrap_or("username") {
            "username" => select.order_by_asc(rows::Column::Username),
            "-username" => select.order_by_desc(rows::Column::Username),
            "created_at" => select.order_by_asc(rows::Column::CreatedAt),
            "-created_at" => select.order_by_desc(rows::Column::CreatedAt),
            "last_login_at" => select.order_by_asc(rows::Column::LastLoginAt),
            "-last_login_at" => select.order_by_desc(rows::Column::LastLoginAt),
            _ => return Err(ApiError::field(
                "sort",
                "must be one of username, created_at, last_login_at, optionally prefixed with -",
            )),
        }
        .order_by_asc(rows::Column::Id);
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    let ids: Vec<Uuid> = found.iter().map(|u| u.id).collect();
    let mut teams = teams_by_user(&state.db, &ids).await?;
    let items = found
        .into_iter()
        .map(|u| {
            let t = teams.remove(&u.id).unwrap_or_default();
            to_dto(u, t)
        })
        .collect();
    Ok(web::Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}

/// Creates an account with its roles and teams (the Global team when none is given).
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    responses(
        (status = 201, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::UsersManage)?;
    let user = users::create(&state.db, &auth.context, Some(auth.id()), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(user))
}

/// One account.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<User>> {
    auth.require(Permission::UsersManage)?;
    let id = id.into_inner();
    let user = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let teams = teams_by_user(&state.db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(web::Json(to_dto(user, teams)))
}

/// Changes e-mail, name or roles, or (de)activates an account. Deactivation ends its sessions at once.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = UpdateUser,
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Would leave no active administrator"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateUser>,
) -> ApiResult<web::Json<User>> {
    auth.require(Permission::UsersManage)?;
    Ok(web::Json(
        users::update(&state.db, &auth, id.into_inner(), body.into_inner()).await?,
    ))
}

/// Sets a new password for an account; its sessions end.
#[utoipa::path(
    tag = "users",
    params(("id" = Uuid, Path)),
    request_body = ResetPassword,
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ResetPassword>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::UsersManage)?;
    let body = body.into_inner();
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
