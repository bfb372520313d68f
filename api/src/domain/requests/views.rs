//! What a caller sees of requests: the visible rows, their DTOs with the actions the caller may
//! take, the detail page and the filtered, paged list.

use super::policy::{load_policy, may_approve};
use super::status_of;
use crate::auth::AuthUser;
use crate::domain::jobs;
use crate::domain::listing::{like_pattern, paging};
use crate::domain::teams::to_ref;
use crate::entities::{
    provider_accounts, request_approvals, request_events, server_requests as rows, teams, users,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::PaginatorTrait;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Select,
};
use shared::billing::Money;
use shared::dto::Page;
use shared::policies::ApprovalPolicy;
use shared::requests::RequestListQuery;
use shared::requests::{
    ApprovalStepView, ProviderRef, RequestEvent, ServerRequest, ServerRequestDetail, UserRef,
};
use shared::workflow::{allowed_actions, RequestStatus, Viewer};
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

/// Requests the caller may see: all (admins), their teams' (agents), or their own (requesters).
pub async fn scope<C: ConnectionTrait>(
    _db: &C,
    auth: &AuthUser,
) -> Result<Select<rows::Entity>, DbErr> {
    let select = rows::Entity::find();
    if auth.can(Permission::AllTeams) {
        return Ok(select);
    }
    if auth.can(Permission::RequestsReadTeam) {
        let mut visible = Condition::any().add(rows::Column::RequesterId.eq(auth.id()));
        if let Some(teams) = crate::domain::teams::scope_filter(auth, rows::Column::TeamId) {
            visible = visible.add(teams);
        }
        return Ok(select.filter(visible));
    }
    Ok(select.filter(rows::Column::RequesterId.eq(auth.id())))
}

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    crate::domain::teams::find_visible(db, scope(db, auth).await?, rows::Column::Id, id).await
}

fn user_ref(u: &users::Model) -> UserRef {
    UserRef {
        id: u.id,
        username: u.username.clone(),
        full_name: u.full_name.clone(),
    }
}

pub(crate) async fn user_refs<C: ConnectionTrait>(
    db: &C,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, UserRef>, DbErr> {
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|u| (u.id, user_ref(u)))
        .collect())
}

/// DTOs for a page of rows, with three batched lookups whatever the page size.
pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    found: Vec<rows::Model>,
) -> Result<Vec<ServerRequest>, DbErr> {
    let team_ids: Vec<Uuid> = found.iter().map(|r| r.team_id).collect();
    let teams: HashMap<Uuid, teams::Model> = teams::Entity::find()
        .filter(teams::Column::Id.is_in(team_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let people = user_refs(db, found.iter().map(|r| r.requester_id).collect()).await?;
    let providers: HashMap<Uuid, provider_accounts::Model> = provider_accounts::Entity::find()
        .filter(provider_accounts::Column::Id.is_in(found.iter().map(|r| r.provider_account_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut policies: HashMap<Uuid, ApprovalPolicy> = HashMap::new();
    let mut caller_teams = None;
    let mut out = Vec::with_capacity(found.len());
    for row in found {
        let pending = status_of(&row) == RequestStatus::Pending;
        let may = if pending {
            let policy = match policies.entry(row.team_id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(load_policy(db, row.team_id).await?)
                }
            };
            may_approve(db, auth, &row, policy, &mut caller_teams).await?
        } else {
            false
        };
        let actions = allowed_actions(
            status_of(&row),
            &Viewer {
                roles: &auth.roles,
                is_requester: row.requester_id == auth.id(),
                may_approve: may,
            },
        );
        let team = teams.get(&row.team_id);
        let provider = providers.get(&row.provider_account_id);
        out.push(ServerRequest {
            id: row.id,
            hostname: row.hostname.clone(),
            team: team.map(to_ref).unwrap_or(shared::dto::TeamRef {
                id: row.team_id,
                name: "(deleted team)".into(),
                slug: String::new(),
            }),
            requester: people.get(&row.requester_id).cloned().unwrap_or(UserRef {
                id: row.requester_id,
                username: "(deleted user)".into(),
                full_name: String::new(),
            }),
            provider_account: ProviderRef {
                id: row.provider_account_id,
                name: provider.map(|p| p.name.clone()).unwrap_or_default(),
                kind: provider
                    .and_then(|p| shared::providers::ProviderKind::parse(&p.kind))
                    .unwrap_or(shared::providers::ProviderKind::Ssh),
            },
            location: row.location.clone(),
            server_type: row.server_type.clone(),
            cpu: row.cpu as u32,
            ram_mb: row.ram_mb as u32,
            disk_gb: row.disk_gb as u32,
            image: row.image.clone(),
            purpose: row.purpose.clone(),
            ssh_public_keys: serde_json::from_value(row.ssh_public_keys.clone())
                .unwrap_or_default(),
            notes: row.notes.clone(),
            status: status_of(&row),
            estimated_monthly: row
                .estimated_monthly_cents
                .zip(row.currency.clone())
                .map(|(cents, currency)| Money { cents, currency }),
            rejection_reason: row.rejection_reason.clone(),
            failure_reason: row.failure_reason.clone(),
            created_at: row.created_at,
            updated_at: row.updated_at,
            allowed_actions: actions,
        });
    }
    Ok(out)
}

pub async fn detail<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    row: rows::Model,
) -> ApiResult<ServerRequestDetail> {
    let events = request_events::Entity::find()
        .filter(request_events::Column::RequestId.eq(row.id))
        .order_by_asc(request_events::Column::At)
        .all(db)
        .await?;
    let approvals = request_approvals::Entity::find()
        .filter(request_approvals::Column::RequestId.eq(row.id))
        .all(db)
        .await?;
    let mut ids: Vec<Uuid> = events.iter().filter_map(|e| e.actor_id).collect();
    ids.extend(approvals.iter().map(|a| a.user_id));
    let people = user_refs(db, ids).await?;
    let policy = load_policy(db, row.team_id).await?;
    let current_step = row.policy_step as u32;
    let status = status_of(&row);
    let approval_steps = policy
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| ApprovalStepView {
            index: i as u32,
            rule: step.rule,
            approvers: step.approvers.clone(),
            approved_by: approvals
                .iter()
                .filter(|a| a.step == i as i32)
                .filter_map(|a| people.get(&a.user_id).cloned())
                .collect(),
            done: (i as u32) < current_step
                || (status != RequestStatus::Pending
                    && status != RequestStatus::Rejected
                    && status != RequestStatus::Cancelled),
        })
        .collect();
    let timeline = events
        .into_iter()
        .map(|e| RequestEvent {
            id: e.id,
            at: e.at,
            actor: e.actor_id.and_then(|a| people.get(&a).cloned()),
            kind: e.kind,
            from_status: e.from_status.as_deref().and_then(RequestStatus::parse),
            to_status: e.to_status.as_deref().and_then(RequestStatus::parse),
            body: e.body,
        })
        .collect();
    let job = jobs::summary(db, &jobs::provision_key(row.id)).await?;
    let executions = crate::domain::executions::of_target(db, "server_request", row.id).await?;
    let server_id = crate::entities::servers::Entity::find()
        .filter(crate::entities::servers::Column::RequestId.eq(row.id))
        .one(db)
        .await?
        .map(|s| s.id);
    let subscription = match row.subscription_id {
        Some(id) => crate::entities::subscriptions::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(|s| crate::domain::billing::to_dtos(db, vec![s])),
        None => None,
    };
    let subscription = match subscription {
        Some(found) => found.await?.pop(),
        None => None,
    };
    // Once provisioned, the server is among the subscription's own costs already.
    let margin_with_server = subscription.as_ref().and_then(|s| {
        let estimate =
            shared::billing::Money::new(row.estimated_monthly_cents?, row.currency.as_deref()?);
        let base = s
            .margin
            .clone()
            .or_else(|| s.server_ids.is_empty().then(|| s.price.clone()))?;
        if server_id.is_some_and(|id| s.server_ids.contains(&id)) {
            Some(base)
        } else {
            base.checked_sub(&estimate).ok()
        }
    });
    let request = to_dtos(db, auth, vec![row]).await?.remove(0);
    Ok(ServerRequestDetail {
        request,
        timeline,
        approval_steps,
        current_step,
        job,
        executions,
        server_id,
        subscription,
        margin_with_server,
    })
}

pub async fn page(
    state: &AppState,
    auth: &AuthUser,
    query: RequestListQuery,
) -> ApiResult<Page<ServerRequest>> {
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = scope(&state.db, auth).await?;
    if let Some(status) = query.status {
        select = select.filter(rows::Column::Status.eq(status.as_str()));
    }
    if let Some(team) = query.team_id {
        select = select.filter(rows::Column::TeamId.eq(team));
    }
    if let Some(requester) = query.requester_id {
        select = select.filter(rows::Column::RequesterId.eq(requester));
    }
    if let Some(provider) = query.provider_account_id {
        select = select.filter(rows::Column::ProviderAccountId.eq(provider));
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = like_pattern(q);
        select = select.filter(
            Condition::any()
                .add(rows::Column::Hostname.like(pattern.clone()))
                .add(
                    sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(
                        sea_orm::sea_query::Expr::col(rows::Column::Purpose),
                    ))
                    .like(pattern),
                ),
        );
    }
    select = match query.sort.as_deref().unwrap_or("-created_at") {
        "created_at" => select.order_by_asc(rows::Column::CreatedAt),
        "-created_at" => select.order_by_desc(rows::Column::CreatedAt),
        "hostname" => select.order_by_asc(rows::Column::Hostname),
        "-hostname" => select.order_by_desc(rows::Column::Hostname),
        "status" => select.order_by_asc(rows::Column::Status),
        _ => {
            return Err(ApiError::field(
                "sort",
                "must be one of created_at, hostname, status, optionally prefixed with -",
            ))
        }
    }
    .order_by_asc(rows::Column::Id);
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    Ok(Page {
        items: to_dtos(&state.db, auth, found).await?,
        total,
        page,
        per_page,
    })
}
