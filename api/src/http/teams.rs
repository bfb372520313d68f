use super::{like_pattern, paging};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::teams::{member_counts, to_dto, visible_team_ids};
use crate::domain::users::roles_of;
use crate::entities::{team_memberships, teams as rows, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};
use shared::dto::{CreateTeam, Page, PageQuery, Problem, Team, TeamMember, UpdateTeam};
use shared::validation::slugify;
use shared::Permission;
use uuid::Uuid;

/// Loads a team the caller may see; another team's row is a 404, never a 403.
async fn visible_team<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    auth.require(Permission::TeamsRead)?;
    let team = rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    match visible_team_ids(db, auth).await? {
        Some(ids) if !ids.contains(&team.id) => Err(ApiError::NotFound),
        _ => Ok(team),
    }
}

fn audit_view(team: &rows::Model) -> serde_json::Value {
    serde_json::json!({"name": team.name, "slug": team.slug, "description": team.description})
}

async fn ensure_name_free<C: ConnectionTrait>(
    db: &C,
    name: &str,
    except: Option<Uuid>,
) -> ApiResult<()> {
    let mut q = rows::Entity::find().filter(rows::Column::Slug.eq(slugify(name)));
    if let Some(id) = except {
        q = q.filter(rows::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(ApiError::field(
            "name",
            "a team with this name already exists",
        ));
    }
    Ok(())
}

/// Teams the caller may see (all of them for administrators), with member counts.
#[utoipa::path(
    tag = "teams",
    params(PageQuery),
    responses(
        (status = 200, body = Page<Team>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/teams")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<PageQuery>,
) -> ApiResult<web::Json<Page<Team>>> {
    auth.require(Permission::TeamsRead)?;
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = rows::Entity::find()
        .order_by_desc(rows::Column::IsGlobal)
        .order_by_asc(rows::Column::Name);
    if let Some(ids) = visible_team_ids(&state.db, &auth).await? {
        select = select.filter(rows::Column::Id.is_in(ids));
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        select = select
            .filter(Expr::expr(Func::lower(Expr::col(rows::Column::Name))).like(like_pattern(q)));
    }
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    let ids: Vec<Uuid> = found.iter().map(|t| t.id).collect();
    let counts = member_counts(&state.db, &ids).await?;
    let items = found
        .into_iter()
        .map(|t| {
            let n = counts.get(&t.id).copied().unwrap_or(0);
            to_dto(t, n)
        })
        .collect();
    Ok(web::Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}

/// Creates a team.
#[utoipa::path(
    tag = "teams",
    request_body = CreateTeam,
    responses(
        (status = 201, body = Team),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/teams")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateTeam>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::TeamsManage)?;
    let body = body.into_inner();
    body.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    ensure_name_free(&txn, &body.name, None).await?;
    let team = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(body.name.trim().to_owned()),
        slug: Set(slugify(&body.name)),
        description: Set(body.description.trim().to_owned()),
        is_global: Set(false),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "team.create",
            target_type: "team",
            target_id: Some(team.id.to_string()),
            before: None,
            after: Some(audit_view(&team)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(to_dto(team, 0)))
}

/// One team the caller may see.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Team),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/teams/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Team>> {
    let team = visible_team(&state.db, &auth, id.into_inner()).await?;
    let n = member_counts(&state.db, &[team.id])
        .await?
        .get(&team.id)
        .copied()
        .unwrap_or(0);
    Ok(web::Json(to_dto(team, n)))
}

/// Renames a team or changes its description. The Global team keeps its name.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    request_body = UpdateTeam,
    responses(
        (status = 200, body = Team),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/teams/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateTeam>,
) -> ApiResult<web::Json<Team>> {
    auth.require(Permission::TeamsManage)?;
    let body = body.into_inner();
    body.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    let before = rows::Entity::find_by_id(id.into_inner())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut active: rows::ActiveModel = before.clone().into();
    if let Some(name) = &body.name {
        if before.is_global && name.trim() != before.name {
            return Err(ApiError::field("name", "the Global team cannot be renamed"));
        }
        ensure_name_free(&txn, name, Some(before.id)).await?;
        active.name = Set(name.trim().to_owned());
        active.slug = Set(slugify(name));
    }
    if let Some(d) = &body.description {
        active.description = Set(d.trim().to_owned());
    }
    let after = active.update(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "team.update",
            target_type: "team",
            target_id: Some(after.id.to_string()),
            before: Some(audit_view(&before)),
            after: Some(audit_view(&after)),
        },
    )
    .await?;
    let n = member_counts(&txn, &[after.id])
        .await?
        .get(&after.id)
        .copied()
        .unwrap_or(0);
    txn.commit().await?;
    Ok(web::Json(to_dto(after, n)))
}

/// Deletes a team and its memberships. The Global team cannot be deleted.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/teams/{id}")]
pub async fn delete(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::TeamsManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let team = rows::Entity::find_by_id(id.into_inner())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if team.is_global {
        return Err(ApiError::Conflict(
            "the Global team cannot be deleted".into(),
        ));
    }
    team_memberships::Entity::delete_many()
        .filter(team_memberships::Column::TeamId.eq(team.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "team.delete",
            target_type: "team",
            target_id: Some(team.id.to_string()),
            before: Some(audit_view(&team)),
            after: None,
        },
    )
    .await?;
    team.delete(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Members of a team the caller may see.
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<TeamMember>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/teams/{id}/members")]
pub async fn members(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<TeamMember>>> {
    let team = visible_team(&state.db, &auth, id.into_inner()).await?;
    let memberships = team_memberships::Entity::find()
        .filter(team_memberships::Column::TeamId.eq(team.id))
        .all(&state.db)
        .await?;
    let joined: std::collections::HashMap<Uuid, chrono::DateTime<chrono::Utc>> = memberships
        .iter()
        .map(|m| (m.user_id, m.created_at))
        .collect();
    let member_rows = users::Entity::find()
        .filter(users::Column::Id.is_in(joined.keys().copied()))
        .all(&state.db)
        .await?;
    let mut out: Vec<TeamMember> = member_rows
        .into_iter()
        .map(|u| TeamMember {
            user_id: u.id,
            roles: roles_of(&u),
            joined_at: joined[&u.id],
            username: u.username,
            full_name: u.full_name,
            email: u.email,
        })
        .collect();
    out.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(web::Json(out))
}

async fn change_membership(
    state: &AppState,
    auth: &AuthUser,
    team_id: Uuid,
    user_id: Uuid,
    join: bool,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::TeamsManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    rows::Entity::find_by_id(team_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let existing = team_memberships::Entity::find_by_id((team_id, user_id))
        .one(&txn)
        .await?;
    let changed = match (join, existing) {
        (true, None) => {
            team_memberships::ActiveModel {
                team_id: Set(team_id),
                user_id: Set(user_id),
                created_at: Set(chrono::Utc::now()),
            }
            .insert(&txn)
            .await?;
            true
        }
        (false, Some(m)) => {
            m.delete(&txn).await?;
            true
        }
        _ => false,
    };
    // Recorded even when nothing changed: the call itself is part of the trail.
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if join {
                "team.add_member"
            } else {
                "team.remove_member"
            },
            target_type: "team",
            target_id: Some(team_id.to_string()),
            before: None,
            after: Some(serde_json::json!({"user_id": user_id, "changed": changed})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a user to a team (idempotent).
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
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
    change_membership(&state, &auth, team_id, user_id, true).await
}

/// Removes a user from a team (idempotent).
#[utoipa::path(
    tag = "teams",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
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
    change_membership(&state, &auth, team_id, user_id, false).await
}
