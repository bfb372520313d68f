//! What a caller sees of resources: the rows they may see (their teams', or only their own for
//! requesters), the DTOs with the connection without its secret, and whether they may approve.

use super::catalogue::provisioning_of;
use super::{recipes, status_of};
use crate::auth::AuthUser;
use crate::domain::listing::paging;
use crate::domain::requests::{load_policy, may_approve_step, user_refs};
use crate::domain::teams::refs_of;
use crate::entities::{resource_types, resources as rows, server_requests, servers};
use crate::error::{ApiError, ApiResult};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Select,
};
use shared::dto::{Page, PageQuery};
use shared::policies::ApprovalPolicy;
use shared::requests::UserRef;
use shared::resources::{Resource, ResourceStatus, ResourceTypeRef, ServerRef, ServerRequestRef};
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

/// Resources the caller may see: every team's (administrators), their teams' (agents), or the
/// ones they asked for (requesters).
pub fn scope(auth: &AuthUser) -> Select<rows::Entity> {
    let select = rows::Entity::find();
    if auth.can(Permission::AllTeams) {
        return select;
    }
    if auth.can(Permission::RequestsReadTeam) {
        let mut visible = Condition::any().add(rows::Column::RequestedBy.eq(auth.id()));
        if let Some(teams) = crate::domain::teams::scope_filter(auth, rows::Column::TeamId) {
            visible = visible.add(teams);
        }
        return select.filter(visible);
    }
    select.filter(rows::Column::RequestedBy.eq(auth.id()))
}

/// The resource `id` if the caller may see it, 404 otherwise (another team's too).
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    auth.require(Permission::ResourcesRead)?;
    crate::domain::teams::find_visible(db, scope(auth), rows::Column::Id, id).await
}

/// What deciding "may the caller approve?" for many rows reads once: the caller's teams and each
/// team's approval policy.
#[derive(Default)]
pub(super) struct ApprovalLookups {
    caller_teams: Option<Vec<Uuid>>,
    policies: HashMap<Uuid, ApprovalPolicy>,
}

/// May the caller approve or reject the step `row` waits on?
pub(super) async fn may_approve<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    row: &rows::Model,
    lookups: &mut ApprovalLookups,
) -> Result<bool, DbErr> {
    if status_of(row) != ResourceStatus::Pending {
        return Ok(false);
    }
    let policy = match lookups.policies.get(&row.team_id) {
        Some(policy) => policy.clone(),
        None => {
            let policy = load_policy(db, row.team_id).await?;
            lookups.policies.insert(row.team_id, policy.clone());
            policy
        }
    };
    may_approve_step(
        db,
        auth,
        &policy,
        row.team_id,
        row.policy_step,
        &mut lookups.caller_teams,
    )
    .await
}

/// DTOs for rows, with one lookup each of teams, types, servers and people.
pub(super) async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    found: Vec<rows::Model>,
) -> ApiResult<Vec<Resource>> {
    let teams = refs_of(db, found.iter().map(|r| r.team_id)).await?;
    let types: HashMap<Uuid, resource_types::Model> = resource_types::Entity::find()
        .filter(resource_types::Column::Id.is_in(found.iter().map(|r| r.type_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let servers: HashMap<Uuid, servers::Model> = servers::Entity::find()
        .filter(servers::Column::Id.is_in(found.iter().filter_map(|r| r.server_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    // Only while a resource waits for its new server: afterwards the server says it.
    let requests: HashMap<Uuid, server_requests::Model> = server_requests::Entity::find()
        .filter(
            server_requests::Column::Id.is_in(
                found
                    .iter()
                    .filter(|r| r.server_id.is_none())
                    .filter_map(|r| r.request_id),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let people = user_refs(db, found.iter().map(|r| r.requested_by).collect()).await?;
    let mut lookups = ApprovalLookups::default();
    let mut dtos = Vec::with_capacity(found.len());
    for row in found {
        let (Some(team), Some(kind)) = (teams.get(&row.team_id), types.get(&row.type_id)) else {
            continue;
        };
        let recipe = kind.recipe.as_deref().and_then(recipes::find);
        let port = row.port.and_then(|p| u16::try_from(p).ok());
        let form = recipe.map(|r| r.connection);
        let connection = form.and_then(|f| super::connection_of(&row, f, None));
        let may_approve = may_approve(db, auth, &row, &mut lookups).await?;
        dtos.push(Resource {
            id: row.id,
            team: team.clone(),
            resource_type: ResourceTypeRef {
                id: kind.id,
                slug: kind.slug.clone(),
                name: kind.name.clone(),
                category: crate::domain::seed::parse_category(&kind.category),
                provisioning: provisioning_of(kind),
            },
            status: status_of(&row),
            server: row.server_id.and_then(|id| {
                servers.get(&id).map(|s| ServerRef {
                    id,
                    name: s.name.clone(),
                })
            }),
            server_request: row.request_id.and_then(|id| requests.get(&id)).map(|r| {
                ServerRequestRef {
                    id: r.id,
                    hostname: r.hostname.clone(),
                    status: crate::domain::requests::status_of(r),
                }
            }),
            parameters: row.parameters.as_object().cloned().unwrap_or_default(),
            port,
            connection,
            connection_form: form,
            has_secret: row.secret.is_some(),
            requested_by: people.get(&row.requested_by).cloned().unwrap_or(UserRef {
                id: row.requested_by,
                username: String::new(),
                full_name: String::new(),
            }),
            may_approve,
            backups_supported: recipe.is_some_and(|r| r.backups),
            backup_cron: row.backup_cron,
            next_backup_at: row.next_backup_at,
            policy_step: u32::try_from(row.policy_step).unwrap_or(0),
            name: row.name,
            purpose: row.purpose,
            host: row.host,
            database: row.database,
            username: row.username,
            execution_id: row.execution_id,
            error: row.error,
            rejection_reason: row.rejection_reason,
            created_at: row.created_at,
            updated_at: row.updated_at,
        });
    }
    Ok(dtos)
}

pub async fn get<C: ConnectionTrait>(db: &C, auth: &AuthUser, id: Uuid) -> ApiResult<Resource> {
    let row = visible(db, auth, id).await?;
    to_dtos(db, auth, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// The caller's resources, newest first; deleted ones only when asked for by status.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    query: PageQuery,
    status: Option<ResourceStatus>,
) -> ApiResult<Page<Resource>> {
    auth.require(Permission::ResourcesRead)?;
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = scope(auth);
    select = match status {
        Some(status) => select.filter(rows::Column::Status.eq(status.as_str())),
        None => select.filter(rows::Column::Status.ne(ResourceStatus::Deleted.as_str())),
    };
    let total = select.clone().count(db).await?;
    let found = select
        .order_by_desc(rows::Column::CreatedAt)
        .order_by_desc(rows::Column::Id)
        .paginate(db, per_page)
        .fetch_page(page - 1)
        .await?;
    Ok(Page {
        items: to_dtos(db, auth, found).await?,
        total,
        page,
        per_page,
    })
}

/// The servers of `team` a resource can be put on (running, with an address), for whoever may
/// ask for resources in that team: requesters choose one without seeing the inventory.
pub async fn targets<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    team: Uuid,
) -> ApiResult<Vec<ServerRef>> {
    auth.require(Permission::RequestsCreate)?;
    if !crate::domain::teams::may_use_team(db, auth, team).await? {
        return Err(ApiError::NotFound);
    }
    Ok(servers::Entity::find()
        .filter(servers::Column::TeamId.eq(team))
        .filter(servers::Column::Ipv4.is_not_null())
        .order_by_asc(servers::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .filter(|s| crate::domain::servers::status_of(s) == shared::servers::ServerStatus::Running)
        .map(|s| ServerRef {
            id: s.id,
            name: s.name,
        })
        .collect())
}
