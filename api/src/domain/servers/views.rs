//! What a caller sees of the inventory: the visible servers, their DTOs, the detail with its
//! executions, and the filtered, sorted, paged list.

use super::status_of;
use crate::auth::AuthUser;
use crate::domain::executions;
use crate::domain::listing::paging;
use crate::domain::teams::{to_ref, visible_team_ids};
use crate::entities::{provider_accounts, server_requests, servers as rows, teams};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Select,
};
use sea_orm::{PaginatorTrait, QueryOrder};
use shared::dto::Page;
use shared::providers::ProviderKind;
use shared::requests::ProviderRef;
use shared::servers::{Server, ServerDetail, ServerListQuery, ServerOrigin, ServerStatus};
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

/// Servers the caller may see: all (admins), their teams' (server readers), or those their own
/// requests produced.
pub async fn scope<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
) -> Result<Select<rows::Entity>, DbErr> {
    let select = rows::Entity::find();
    if auth.can(Permission::AllTeams) {
        return Ok(select);
    }
    if auth.can(Permission::ServersRead) {
        let teams = visible_team_ids(db, auth).await?.unwrap_or_default();
        return Ok(select.filter(rows::Column::TeamId.is_in(teams)));
    }
    let own: Vec<Uuid> = server_requests::Entity::find()
        .select_only()
        .column(server_requests::Column::Id)
        .filter(server_requests::Column::RequesterId.eq(auth.id()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(select.filter(rows::Column::RequestId.is_in(own)))
}

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    crate::domain::teams::find_visible(db, scope(db, auth).await?, rows::Column::Id, id).await
}

pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<rows::Model>,
) -> Result<Vec<Server>, DbErr> {
    let team_ids: Vec<Uuid> = found.iter().map(|s| s.team_id).collect();
    let account_ids: Vec<Uuid> = found.iter().map(|s| s.provider_account_id).collect();
    let teams: HashMap<Uuid, teams::Model> = teams::Entity::find()
        .filter(teams::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let accounts: HashMap<Uuid, provider_accounts::Model> = provider_accounts::Entity::find()
        .filter(provider_accounts::Column::Id.is_in(account_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(found
        .into_iter()
        .map(|s| Server {
            id: s.id,
            team: teams
                .get(&s.team_id)
                .map(to_ref)
                .unwrap_or(shared::dto::TeamRef {
                    id: s.team_id,
                    name: "?".into(),
                    slug: "?".into(),
                }),
            provider: accounts
                .get(&s.provider_account_id)
                .map(|a| ProviderRef {
                    id: a.id,
                    name: a.name.clone(),
                    kind: ProviderKind::parse(&a.kind).unwrap_or(ProviderKind::Ssh),
                })
                .unwrap_or(ProviderRef {
                    id: s.provider_account_id,
                    name: "?".into(),
                    kind: ProviderKind::Ssh,
                }),
            status: status_of(&s),
            origin: ServerOrigin::parse(&s.origin).unwrap_or(ServerOrigin::Imported),
            labels: serde_json::from_value(s.labels.clone()).unwrap_or_default(),
            name: s.name,
            provider_id: s.provider_id,
            ipv4: s.ipv4,
            ipv6: s.ipv6,
            cpu: s.cpu,
            ram_mb: s.ram_mb,
            disk_gb: s.disk_gb,
            image: s.image,
            location: s.location,
            ssh_user: s.ssh_user,
            ssh_port: s.ssh_port,
            host_key_fingerprint: s.host_key_fingerprint,
            request_id: s.request_id,
            created_at: s.created_at,
            updated_at: s.updated_at,
            last_synced_at: s.last_synced_at,
        })
        .collect())
}

pub async fn detail<C: ConnectionTrait>(db: &C, row: rows::Model) -> Result<ServerDetail, DbErr> {
    let status = status_of(&row);
    let mut executions = executions::of_target(db, "server", row.id).await?;
    executions.extend(
        crate::domain::scripts::runs_on_server(db, row.id)
            .await?
            .into_iter()
            .map(executions::to_dto),
    );
    executions.sort_by_key(|e| std::cmp::Reverse(e.created_at));
    let registered = row.origin == ServerOrigin::Registered.as_str();
    Ok(ServerDetail {
        server: to_dtos(db, vec![row]).await?.remove(0),
        power_actions: if registered {
            vec![]
        } else {
            status.power_actions()
        },
        deletable: status.deletable(),
        executions,
    })
}

/// Text search over name, provider id and addresses.
pub fn matches(q: &str) -> Condition {
    let pattern = crate::domain::listing::like_pattern(q);
    Condition::any()
        .add(rows::Column::Name.like(pattern.clone()))
        .add(rows::Column::ProviderId.like(pattern.clone()))
        .add(rows::Column::Ipv4.like(pattern.clone()))
        .add(rows::Column::Ipv6.like(pattern))
}

pub async fn page(
    state: &AppState,
    auth: &AuthUser,
    query: ServerListQuery,
) -> ApiResult<Page<Server>> {
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = scope(&state.db, auth).await?;
    select = match query.status {
        Some(status) => select.filter(rows::Column::Status.eq(status.as_str())),
        None => select.filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str())),
    };
    if let Some(team) = query.team_id {
        select = select.filter(rows::Column::TeamId.eq(team));
    }
    if let Some(account) = query.provider_account_id {
        select = select.filter(rows::Column::ProviderAccountId.eq(account));
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        select = select.filter(matches(q));
    }
    let label = query
        .label
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| ApiError::field("label", "must be key=value"))
        })
        .transpose()?;
    select = match query.sort.as_deref().unwrap_or("name") {
        "name" => select.order_by_asc(rows::Column::Name),
        "-name" => select.order_by_desc(rows::Column::Name),
        "created_at" => select.order_by_asc(rows::Column::CreatedAt),
        "-created_at" => select.order_by_desc(rows::Column::CreatedAt),
        "status" => select.order_by_asc(rows::Column::Status),
        _ => {
            return Err(ApiError::field(
                "sort",
                "must be one of name, created_at, status, optionally prefixed with -",
            ))
        }
    }
    .order_by_asc(rows::Column::Id);
    if let Some((key, value)) = label {
        // Labels are JSON: filtered here, after the SQL filters, over the caller's scope.
        let all = select.all(&state.db).await?;
        let matching: Vec<rows::Model> = all
            .into_iter()
            .filter(|s| s.labels.get(&key).and_then(|v| v.as_str()) == Some(value.as_str()))
            .collect();
        let total = matching.len() as u64;
        let items: Vec<rows::Model> = matching
            .into_iter()
            .skip(((page - 1) * per_page) as usize)
            .take(per_page as usize)
            .collect();
        return Ok(Page {
            items: to_dtos(&state.db, items).await?,
            total,
            page,
            per_page,
        });
    }
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    Ok(Page {
        items: to_dtos(&state.db, found).await?,
        total,
        page,
        per_page,
    })
}
