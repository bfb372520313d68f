use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::listing::{like_pattern, paging};
use crate::domain::users::roles_of;
use crate::entities::{team_memberships, teams};
use crate::entities::{teams as rows, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{ActiveModelTrait, ModelTrait, PaginatorTrait, QueryOrder, Set};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use shared::dto::{CreateTeam, Page, PageQuery, Team, TeamMember, UpdateTeam};
use shared::validation::slugify;
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

pub const GLOBAL_TEAM_NAME: &str = "Global";
pub const GLOBAL_TEAM_SLUG: &str = "global";

/// The teams whose rows the caller may see: `None` means every team.
pub async fn visible_team_ids<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
) -> Result<Option<Vec<Uuid>>, DbErr> {
    if auth.can(Permission::AllTeams) {
        return Ok(None);
    }
    Ok(Some(team_ids_of(db, auth.id()).await?))
}

/// `select` narrowed to the rows of the caller's teams (all rows for those who see every team).
/// The caller's teams are a subquery of the same statement, not a query of their own.
pub fn scoped<E, Col>(
    auth: &AuthUser,
    select: sea_orm::Select<E>,
    team_column: Col,
) -> sea_orm::Select<E>
where
    E: sea_orm::EntityTrait,
    Col: ColumnTrait,
{
    match scope_filter(auth, team_column) {
        None => select,
        Some(filter) => select.filter(filter),
    }
}

/// Row `id` of `visible` (a select already narrowed to what the caller may see), or 404: another
/// team's row answers as if it did not exist.
pub async fn find_visible<C, E>(
    db: &C,
    visible: sea_orm::Select<E>,
    id_column: E::Column,
    id: Uuid,
) -> crate::error::ApiResult<E::Model>
where
    C: ConnectionTrait,
    E: sea_orm::EntityTrait,
{
    visible
        .filter(id_column.eq(id))
        .one(db)
        .await?
        .ok_or(crate::error::ApiError::NotFound)
}

/// The condition "`team_column` is one of the caller's teams", `None` for those who see every team.
pub fn scope_filter<Col: ColumnTrait>(auth: &AuthUser, team_column: Col) -> Option<SimpleExpr> {
    if auth.can(Permission::AllTeams) {
        return None;
    }
    Some(
        team_column.in_subquery(
            Query::select()
                .column(team_memberships::Column::TeamId)
                .from(team_memberships::Entity)
                .and_where(team_memberships::Column::UserId.eq(auth.id()))
                .to_owned(),
        ),
    )
}

/// Whether the caller may put a row into `team`: an existing team they belong to, or any existing
/// team for those who see every team.
pub async fn may_use_team<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    team: Uuid,
) -> Result<bool, DbErr> {
    Ok(match visible_team_ids(db, auth).await? {
        None => teams::Entity::find_by_id(team).one(db).await?.is_some(),
        Some(ids) => ids.contains(&team),
    })
}

pub async fn team_ids_of<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    team_memberships::Entity::find()
        .select_only()
        .column(team_memberships::Column::TeamId)
        .filter(team_memberships::Column::UserId.eq(user_id))
        .into_tuple::<Uuid>()
        .all(db)
        .await
}

pub async fn global_team<C: ConnectionTrait>(db: &C) -> Result<Option<teams::Model>, DbErr> {
    teams::Entity::find()
        .filter(teams::Column::IsGlobal.eq(true))
        .one(db)
        .await
}

/// Member counts of the given teams, in one query.
pub async fn member_counts<C: ConnectionTrait>(
    db: &C,
    team_ids: &[Uuid],
) -> Result<HashMap<Uuid, u64>, DbErr> {
    let rows: Vec<(Uuid, i64)> = team_memberships::Entity::find()
        .select_only()
        .column(team_memberships::Column::TeamId)
        .column_as(team_memberships::Column::UserId.count(), "count")
        .filter(team_memberships::Column::TeamId.is_in(team_ids.iter().copied()))
        .group_by(team_memberships::Column::TeamId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, n)| (id, n as u64)).collect())
}

pub fn to_dto(team: teams::Model, member_count: u64) -> shared::dto::Team {
    shared::dto::Team {
        id: team.id,
        name: team.name,
        slug: team.slug,
        description: team.description,
        is_global: team.is_global,
        member_count,
        default_provider_account_id: team.default_provider_account_id,
        created_at: team.created_at,
    }
}

/// The references of the teams `ids` name (one query), for rows that show their team.
pub async fn refs_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<std::collections::HashMap<Uuid, shared::dto::TeamRef>, DbErr> {
    Ok(teams::Entity::find()
        .filter(teams::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|t| (t.id, to_ref(t)))
        .collect())
}

pub fn to_ref(team: &teams::Model) -> shared::dto::TeamRef {
    shared::dto::TeamRef {
        id: team.id,
        name: team.name.clone(),
        slug: team.slug.clone(),
    }
}

/// Loads a team the caller may see; another team's row is a 404, never a 403.
pub async fn visible_team<C: ConnectionTrait>(
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

pub fn audit_view(team: &rows::Model) -> serde_json::Value {
    serde_json::json!({"name": team.name, "slug": team.slug, "description": team.description})
}

pub async fn ensure_name_free<C: ConnectionTrait>(
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

pub async fn change_membership(
    state: &AppState,
    auth: &AuthUser,
    team_id: Uuid,
    user_id: Uuid,
    join: bool,
) -> ApiResult<()> {
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
    Ok(())
}

pub async fn page(state: &AppState, auth: &AuthUser, query: PageQuery) -> ApiResult<Page<Team>> {
    auth.require(Permission::TeamsRead)?;
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = rows::Entity::find()
        .order_by_desc(rows::Column::IsGlobal)
        .order_by_asc(rows::Column::Name);
    if let Some(ids) = visible_team_ids(&state.db, auth).await? {
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
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn create(state: &AppState, auth: &AuthUser, body: CreateTeam) -> ApiResult<Team> {
    auth.require(Permission::TeamsManage)?;
    body.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    ensure_name_free(&txn, &body.name, None).await?;
    let team = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        name: Set(body.name.trim().to_owned()),
        slug: Set(slugify(&body.name)),
        description: Set(body.description.trim().to_owned()),
        is_global: Set(false),
        default_provider_account_id: Set(None),
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
    Ok(to_dto(team, 0))
}

pub async fn get(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Team> {
    let team = visible_team(&state.db, auth, id).await?;
    let n = member_counts(&state.db, &[team.id])
        .await?
        .get(&team.id)
        .copied()
        .unwrap_or(0);
    Ok(to_dto(team, n))
}

pub async fn update(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: UpdateTeam,
) -> ApiResult<Team> {
    auth.require(Permission::TeamsManage)?;
    body.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    let before = rows::Entity::find_by_id(id)
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
    if let Some(account) = body.default_provider_account_id {
        if let Some(account) = account {
            crate::entities::provider_accounts::Entity::find_by_id(account)
                .one(&txn)
                .await?
                .ok_or_else(|| {
                    ApiError::field("default_provider_account_id", "no such provider account")
                })?;
        }
        active.default_provider_account_id = Set(account);
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
    Ok(to_dto(after, n))
}

pub async fn delete(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::TeamsManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let team = rows::Entity::find_by_id(id)
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
    Ok(())
}

pub async fn members(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Vec<TeamMember>> {
    let team = visible_team(&state.db, auth, id).await?;
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
    Ok(out)
}
