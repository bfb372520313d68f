use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::teams;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use shared::dto::{CreateTeam, Page, PageQuery, Team, TeamMember, UpdateTeam};
use shared::Permission;
use uuid::Uuid;

/// Teams the caller may see (all of them for administrators), with member counts.
#[utoipa::path(
    tag = "teams",
    params(PageQuery),
    responses(
        (status = 200, body = Page<Team>),
        Unauthenticated,
        Forbidden,
    ),
    security(("bearer" = []))
)]
#[get("/teams")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<Team>>> {
    Ok(web::Json(
        teams::page(&state, &auth, query.into_inner()).await?,
    ))
}

/// Creates a team.
#[utoipa::path(
    tag = "teams",
    request_body = CreateTeam,
    responses(
        (status = 201, body = Team),
        Unauthenticated,
        Forbidden,
        Invalid,
    ),
    security(("bearer" = []))
)]
#[post("/teams")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateTeam>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::TeamsManage)?;
    let answer = teams::create(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(answer))
}

/// One team the caller may see.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Team),
        Unauthenticated,
        Forbidden,
        NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/teams/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Team>> {
    Ok(web::Json(teams::get(&state, &auth, id.into_inner()).await?))
}

/// Renames a team or changes its description. The Global team keeps its name.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    request_body = UpdateTeam,
    responses(
        (status = 200, body = Team),
        Unauthenticated,
        Forbidden,
        NotFound,
        Invalid,
    ),
    security(("bearer" = []))
)]
#[patch("/teams/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<UpdateTeam>,
) -> ApiResult<web::Json<Team>> {
    auth.require(Permission::TeamsManage)?;
    Ok(web::Json(
        teams::update(&state, &auth, id.into_inner(), body.into_inner()?).await?,
    ))
}

/// Deletes a team and its memberships. The Global team cannot be deleted.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204),
        Unauthenticated,
        Forbidden,
        NotFound,
        Conflict,
    ),
    security(("bearer" = []))
)]
#[delete("/teams/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    teams::delete(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of a team the caller may see.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<TeamMember>),
        Unauthenticated,
        Forbidden,
        NotFound,
    ),
    security(("bearer" = []))
)]
#[get("/teams/{id}/members")]
pub async fn members(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<TeamMember>>> {
    Ok(web::Json(
        teams::members(&state, &auth, id.into_inner()).await?,
    ))
}

/// Adds a user to a team (idempotent).
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204),
        Unauthenticated,
        Forbidden,
        NotFound,
    ),
    security(("bearer" = []))
)]
#[put("/teams/{id}/members/{user_id}")]
pub async fn add_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    teams::change_membership(&state, &auth, team_id, user_id, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes a user from a team (idempotent).
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204),
        Unauthenticated,
        Forbidden,
        NotFound,
    ),
    security(("bearer" = []))
)]
#[delete("/teams/{id}/members/{user_id}")]
pub async fn remove_member(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (team_id, user_id) = path.into_inner();
    teams::change_membership(&state, &auth, team_id, user_id, false).await?;
    Ok(HttpResponse::NoContent().finish())
}
