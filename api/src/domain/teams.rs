use crate::auth::AuthUser;
use crate::entities::{team_memberships, teams};
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
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
pub async fn scoped<C, E, Col>(
    _db: &C,
    auth: &AuthUser,
    select: sea_orm::Select<E>,
    team_column: Col,
) -> Result<sea_orm::Select<E>, DbErr>
where
    C: ConnectionTrait,
    E: sea_orm::EntityTrait,
    Col: ColumnTrait,
{
    Ok(match scope_filter(auth, team_column) {
        None => select,
        Some(filter) => select.filter(filter),
    })
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
