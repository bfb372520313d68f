//! The server-request workflow: creation against the provider catalog, approval policies with
//! ordered steps, transitions as single conditional UPDATEs, timeline, notifications and audit.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::listing::{like_pattern, paging};
use crate::domain::notify::{notify, NewNotification};
use crate::domain::teams::{team_ids_of, to_ref};
use crate::domain::users::active_with_role;
use crate::domain::{jobs, providers};
use crate::entities::{
    approval_policies, provider_accounts, request_approvals, request_events,
    server_requests as rows, team_memberships, teams, users,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::PaginatorTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, Select, Set,
};
use shared::billing::Money;
use shared::dto::Page;
use shared::policies::policy::{auto_approves, is_eligible, step_done};
use shared::policies::{ApprovalPolicy, ApprovalStep, Approvers};
use shared::requests::RequestListQuery;
use shared::requests::{
    ApprovalStepView, CreateServerRequest, ProviderRef, RequestEvent, ServerRequest,
    ServerRequestDetail, UserRef,
};
use shared::workflow::{allowed_actions, transition, RequestAction, RequestStatus, Viewer};
use shared::{Permission, Role};
use std::collections::HashMap;
use uuid::Uuid;

pub fn status_of(row: &rows::Model) -> RequestStatus {
    RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Failed)
}

pub async fn load_policy<C: ConnectionTrait>(
    db: &C,
    team_id: Uuid,
) -> Result<ApprovalPolicy, DbErr> {
    let Some(row) = approval_policies::Entity::find_by_id(team_id)
        .one(db)
        .await?
    else {
        return Ok(ApprovalPolicy::default_policy());
    };
    let steps: Vec<ApprovalStep> = serde_json::from_value(row.steps).unwrap_or_default();
    if steps.is_empty() {
        return Ok(ApprovalPolicy::default_policy());
    }
    Ok(ApprovalPolicy {
        steps,
        auto_approve: row
            .auto_approve
            .and_then(|v| serde_json::from_value(v).ok()),
    })
}

/// Everyone who may approve `step` of a request of `team_id`: role holders must belong to the team.
pub async fn eligible_users<C: ConnectionTrait>(
    db: &C,
    step: &ApprovalStep,
    team_id: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    match &step.approvers {
        Approvers::Users { user_ids } => Ok(users::Entity::find()
            .filter(users::Column::Id.is_in(user_ids.clone()))
            .filter(users::Column::Active.eq(true))
            .all(db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect()),
        Approvers::Role { role } => {
            let members: Vec<Uuid> = team_memberships::Entity::find()
                .filter(team_memberships::Column::TeamId.eq(team_id))
                .all(db)
                .await?
                .into_iter()
                .map(|m| m.user_id)
                .collect();
            Ok(active_with_role(db, *role)
                .await?
                .into_iter()
                .filter(|id| *role == Role::Admin || members.contains(id))
                .collect())
        }
    }
}

/// May the caller approve or reject the step `row` waits on?
async fn may_approve<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    row: &rows::Model,
    policy: &ApprovalPolicy,
    caller_teams: &mut Option<Vec<Uuid>>,
) -> Result<bool, DbErr> {
    if status_of(row) != RequestStatus::Pending {
        return Ok(false);
    }
    let Some(step) = policy.steps.get(row.policy_step as usize) else {
        return Ok(auth.roles.contains(&Role::Admin));
    };
    if !is_eligible(step, auth.id(), &auth.roles) {
        return Ok(false);
    }
    if auth.roles.contains(&Role::Admin) || matches!(step.approvers, Approvers::Users { .. }) {
        return Ok(true);
    }
    // Read once for a whole page of requests.
    let teams = match caller_teams {
        Some(teams) => teams,
        None => caller_teams.insert(team_ids_of(db, auth.id()).await?),
    };
    Ok(teams.contains(&row.team_id))
}

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
    super::teams::find_visible(db, scope(db, auth).await?, rows::Column::Id, id).await
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

pub(crate) async fn event<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    actor: Option<Uuid>,
    kind: &str,
    from: Option<RequestStatus>,
    to: Option<RequestStatus>,
    body: &str,
) -> Result<(), DbErr> {
    request_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        request_id: Set(request_id),
        at: Set(chrono::Utc::now()),
        actor_id: Set(actor),
        kind: Set(kind.to_owned()),
        from_status: Set(from.map(|s| s.as_str().to_owned())),
        to_status: Set(to.map(|s| s.as_str().to_owned())),
        body: Set(body.to_owned()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Applies `action` with one conditional UPDATE on the status it was read in: of two concurrent
/// callers exactly one changes the row; the other gets a 409.
pub(crate) async fn apply<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    action: RequestAction,
    actor: Option<Uuid>,
    columns: Vec<(rows::Column, sea_orm::sea_query::SimpleExpr)>,
    body: &str,
) -> ApiResult<RequestStatus> {
    let from = status_of(row);
    let to = transition(from, action).ok_or_else(|| {
        ApiError::Conflict(format!(
            "a {} request cannot be {}",
            from.as_str(),
            past_tense(action)
        ))
    })?;
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(to.as_str()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    for (col, value) in columns {
        update = update.col_expr(col, value);
    }
    let changed = update
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(from.as_str()))
        .filter(rows::Column::PolicyStep.eq(row.policy_step))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(ApiError::Conflict(
            "the request changed while you were acting on it; reload and try again".into(),
        ));
    }
    event(db, row.id, actor, "transition", Some(from), Some(to), body).await?;
    crate::domain::deployments::follow_request(db, row.id, to, body).await?;
    Ok(to)
}

fn past_tense(action: RequestAction) -> &'static str {
    match action {
        RequestAction::Approve => "approved",
        RequestAction::Reject => "rejected",
        RequestAction::Cancel => "cancelled",
        RequestAction::Retry => "retried",
        RequestAction::StartProvisioning => "provisioned",
        RequestAction::MarkDeployed => "marked deployed",
        RequestAction::MarkFailed => "marked failed",
    }
}

pub(crate) fn link(id: Uuid) -> Option<String> {
    Some(format!("/requests/{id}"))
}

fn audit_view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({
        "hostname": row.hostname, "status": row.status, "team_id": row.team_id,
        "provider_account_id": row.provider_account_id, "cpu": row.cpu, "ram_mb": row.ram_mb,
        "disk_gb": row.disk_gb, "policy_step": row.policy_step,
    })
}

async fn audit_change<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    action: &str,
    before: Option<&rows::Model>,
    after_id: Uuid,
) -> ApiResult<()> {
    let after = rows::Entity::find_by_id(after_id).one(db).await?;
    audit::record(
        db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action,
            target_type: "server_request",
            target_id: Some(after_id.to_string()),
            before: before.map(audit_view),
            after: after.as_ref().map(audit_view),
        },
    )
    .await?;
    Ok(())
}

pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    input: CreateServerRequest,
) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let id = create_in(&txn, state, auth, input).await?;
    txn.commit().await?;
    Ok(id)
}

/// `create` inside the caller's transaction (a deployment onto a new server requests it).
pub async fn create_in(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    input: CreateServerRequest,
) -> ApiResult<Uuid> {
    auth.require(Permission::RequestsCreate)?;
    input.validate()?;
    let mut errors = shared::validation::FieldErrors::new();
    let mut field =
        |name: &str, message: String| errors.entry(name.to_owned()).or_default().push(message);
    if !crate::domain::teams::may_use_team(txn, auth, input.team_id).await? {
        field(
            "team_id",
            "you can only request servers for a team you belong to".into(),
        );
    }
    let account = provider_accounts::Entity::find_by_id(input.provider_account_id)
        .one(txn)
        .await?;
    let mut resolved = None;
    match account.as_ref().map(providers::catalog_of) {
        None => field("provider_account_id", "no such provider account".into()),
        Some(catalog) => {
            if !catalog.locations.contains(&input.location) {
                field(
                    "location",
                    format!("must be one of {}", catalog.locations.join(", ")),
                );
            }
            if !catalog.images.contains(&input.image) {
                field(
                    "image",
                    format!("must be one of {}", catalog.images.join(", ")),
                );
            }
            match catalog.resolve(
                input.server_type.as_deref(),
                input.cpu,
                input.ram_mb,
                input.disk_gb,
            ) {
                Ok(size) => resolved = Some((size, catalog.currency.clone())),
                Err((name, message)) => field(name, message),
            }
        }
    }
    if let Some(subscription) = input.subscription_id {
        let found = crate::entities::subscriptions::Entity::find_by_id(subscription)
            .one(txn)
            .await?;
        if found.is_none_or(|s| s.team_id != input.team_id) {
            field(
                "subscription_id",
                "no such subscription of this team".into(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (size, currency) = resolved.expect("resolved when there are no errors");
    let policy = load_policy(txn, input.team_id).await?;
    let now = chrono::Utc::now();
    let id = Uuid::new_v4();
    let row = rows::ActiveModel {
        id: Set(id),
        requester_id: Set(auth.id()),
        team_id: Set(input.team_id),
        provider_account_id: Set(input.provider_account_id),
        hostname: Set(input.hostname.to_lowercase()),
        location: Set(input.location),
        server_type: Set(input.server_type),
        cpu: Set(size.cpu as i32),
        ram_mb: Set(size.ram_mb as i32),
        disk_gb: Set(size.disk_gb as i32),
        image: Set(input.image),
        purpose: Set(input.purpose.trim().to_owned()),
        ssh_public_keys: Set(serde_json::json!(input.ssh_public_keys)),
        notes: Set(input.notes.trim().to_owned()),
        status: Set(RequestStatus::Pending.as_str().into()),
        estimated_monthly_cents: Set(size.monthly_cents),
        currency: Set(size.monthly_cents.map(|_| currency)),
        rejection_reason: Set(None),
        policy_step: Set(0),
        failure_reason: Set(None),
        subscription_id: Set(input.subscription_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    event(
        txn,
        id,
        Some(auth.id()),
        "created",
        None,
        Some(RequestStatus::Pending),
        "",
    )
    .await?;
    let email = state.config.smtp_url.is_some();
    let auto = policy
        .auto_approve
        .as_ref()
        .is_some_and(|rule| auto_approves(rule, size.cpu, size.monthly_cents));
    if auto {
        apply(
            txn,
            &row,
            RequestAction::Approve,
            None,
            vec![],
            "auto-approved by the team's policy",
        )
        .await?;
        jobs::enqueue(
            txn,
            jobs::JobKind::Provision,
            &jobs::provision_key(id),
            serde_json::json!({"request_id": id}),
        )
        .await?;
        notify(txn, email, &[auth.id()], None, &NewNotification {
            kind: "request.approved",
            title: format!("Request approved: {}", row.hostname),
            body: "Your request matched the team's auto-approval rule and is queued for provisioning.".into(),
            link: link(id),
        })
        .await?;
    } else {
        let approvers = eligible_users(txn, &policy.steps[0], row.team_id).await?;
        let approvers = if approvers.is_empty() {
            active_with_role(txn, Role::Admin).await?
        } else {
            approvers
        };
        notify(
            txn,
            email,
            &approvers,
            Some(auth.id()),
            &NewNotification {
                kind: "request.pending",
                title: format!("New server request: {}", row.hostname),
                body: format!(
                    "{} requested {} ({} vCPU, {} MB RAM, {} GB disk): {}",
                    auth.user.username, row.hostname, row.cpu, row.ram_mb, row.disk_gb, row.purpose
                ),
                link: link(id),
            },
        )
        .await?;
    }
    audit_change(txn, auth, "request.create", None, id).await?;
    Ok(id)
}

pub async fn approve(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    approve_in(&txn, state, auth, id).await?;
    txn.commit().await?;
    Ok(())
}

/// `approve` inside the caller's transaction.
pub async fn approve_in(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<()> {
    let row = visible(txn, auth, id).await?;
    if status_of(&row) != RequestStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "a {} request cannot be approved",
            row.status
        )));
    }
    let policy = load_policy(txn, row.team_id).await?;
    if !may_approve(txn, auth, &row, &policy, &mut None).await? {
        return Err(ApiError::Forbidden);
    }
    let step_index = row.policy_step;
    let existing = request_approvals::Entity::find_by_id((row.id, step_index, auth.id()))
        .one(txn)
        .await?;
    if existing.is_some() {
        return Err(ApiError::Conflict("you already approved this step".into()));
    }
    request_approvals::ActiveModel {
        request_id: Set(row.id),
        step: Set(step_index),
        user_id: Set(auth.id()),
        at: Set(chrono::Utc::now()),
    }
    .insert(txn)
    .await?;
    let approved_by: Vec<Uuid> = request_approvals::Entity::find()
        .filter(request_approvals::Column::RequestId.eq(row.id))
        .filter(request_approvals::Column::Step.eq(step_index))
        .all(txn)
        .await?
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    let email = state.config.smtp_url.is_some();
    let default_step = ApprovalPolicy::default_policy().steps.remove(0);
    let step = policy
        .steps
        .get(step_index as usize)
        .unwrap_or(&default_step);
    let eligible = eligible_users(txn, step, row.team_id).await?;
    let done = step_done(
        step,
        &eligible,
        &approved_by,
        auth.roles.contains(&Role::Admin),
    );
    let last = step_index as usize + 1 >= policy.steps.len();
    if !done {
        event(
            txn,
            row.id,
            Some(auth.id()),
            "approval",
            None,
            None,
            &format!(
                "approved step {} ({} of {})",
                step_index + 1,
                approved_by.len(),
                eligible.len()
            ),
        )
        .await?;
    } else if !last {
        let advanced = rows::Entity::update_many()
            .col_expr(rows::Column::PolicyStep, Expr::value(step_index + 1))
            .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(rows::Column::Id.eq(row.id))
            .filter(rows::Column::Status.eq(RequestStatus::Pending.as_str()))
            .filter(rows::Column::PolicyStep.eq(step_index))
            .exec(txn)
            .await?
            .rows_affected;
        if advanced == 0 {
            return Err(ApiError::Conflict(
                "the request changed while you were acting on it; reload and try again".into(),
            ));
        }
        event(
            txn,
            row.id,
            Some(auth.id()),
            "approval",
            None,
            None,
            &format!(
                "step {} approved; waiting for step {}",
                step_index + 1,
                step_index + 2
            ),
        )
        .await?;
        let next = eligible_users(txn, &policy.steps[step_index as usize + 1], row.team_id).await?;
        notify(
            txn,
            email,
            &next,
            Some(auth.id()),
            &NewNotification {
                kind: "request.pending",
                title: format!("Approval needed: {}", row.hostname),
                body: format!(
                    "Step {} of {} needs your approval.",
                    step_index + 2,
                    policy.steps.len()
                ),
                link: link(row.id),
            },
        )
        .await?;
    } else {
        apply(
            txn,
            &row,
            RequestAction::Approve,
            Some(auth.id()),
            vec![],
            "",
        )
        .await?;
        jobs::enqueue(
            txn,
            jobs::JobKind::Provision,
            &jobs::provision_key(row.id),
            serde_json::json!({"request_id": row.id}),
        )
        .await?;
        notify(
            txn,
            email,
            &[row.requester_id],
            Some(auth.id()),
            &NewNotification {
                kind: "request.approved",
                title: format!("Request approved: {}", row.hostname),
                body: format!(
                    "{} approved your request; it is queued for provisioning.",
                    auth.user.username
                ),
                link: link(row.id),
            },
        )
        .await?;
    }
    audit_change(txn, auth, "request.approve", Some(&row), row.id).await?;
    Ok(())
}

pub async fn reject(state: &AppState, auth: &AuthUser, id: Uuid, reason: String) -> ApiResult<()> {
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::field(
            "reason",
            "a reason of 1 to 1000 characters is required",
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let policy = load_policy(&txn, row.team_id).await?;
    if status_of(&row) == RequestStatus::Pending
        && !may_approve(&txn, auth, &row, &policy, &mut None).await?
    {
        return Err(ApiError::Forbidden);
    }
    apply(
        &txn,
        &row,
        RequestAction::Reject,
        Some(auth.id()),
        vec![(rows::Column::RejectionReason, Expr::value(reason.clone()))],
        &reason,
    )
    .await?;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[row.requester_id],
        Some(auth.id()),
        &NewNotification {
            kind: "request.rejected",
            title: format!("Request rejected: {}", row.hostname),
            body: format!("{} rejected your request: {reason}", auth.user.username),
            link: link(row.id),
        },
    )
    .await?;
    audit_change(&txn, auth, "request.reject", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn cancel(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if row.requester_id != auth.id() && !auth.can(Permission::RequestsApprove) {
        return Err(ApiError::Forbidden);
    }
    apply(
        &txn,
        &row,
        RequestAction::Cancel,
        Some(auth.id()),
        vec![],
        "",
    )
    .await?;
    let policy = load_policy(&txn, row.team_id).await?;
    let mut concerned = match policy.steps.get(row.policy_step as usize) {
        Some(step) => eligible_users(&txn, step, row.team_id).await?,
        None => vec![],
    };
    concerned.push(row.requester_id);
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &concerned,
        Some(auth.id()),
        &NewNotification {
            kind: "request.cancelled",
            title: format!("Request cancelled: {}", row.hostname),
            body: format!("{} cancelled the request.", auth.user.username),
            link: link(row.id),
        },
    )
    .await?;
    audit_change(&txn, auth, "request.cancel", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn retry(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::ServersOperate)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    apply(
        &txn,
        &row,
        RequestAction::Retry,
        Some(auth.id()),
        vec![(
            rows::Column::FailureReason,
            Expr::value(Option::<String>::None),
        )],
        "",
    )
    .await?;
    jobs::requeue(&txn, &jobs::provision_key(row.id)).await?;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[row.requester_id],
        Some(auth.id()),
        &NewNotification {
            kind: "request.retry",
            title: format!("Provisioning retried: {}", row.hostname),
            body: format!("{} restarted provisioning.", auth.user.username),
            link: link(row.id),
        },
    )
    .await?;
    audit_change(&txn, auth, "request.retry", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn comment(state: &AppState, auth: &AuthUser, id: Uuid, body: String) -> ApiResult<()> {
    let body = body.trim().to_owned();
    if body.is_empty() || body.chars().count() > 4000 {
        return Err(ApiError::field(
            "body",
            "a comment of 1 to 4000 characters is required",
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    event(&txn, row.id, Some(auth.id()), "comment", None, None, &body).await?;
    let mut concerned: Vec<Uuid> = request_events::Entity::find()
        .filter(request_events::Column::RequestId.eq(row.id))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|e| e.actor_id)
        .collect();
    concerned.push(row.requester_id);
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &concerned,
        Some(auth.id()),
        &NewNotification {
            kind: "request.comment",
            title: format!("New comment on {}", row.hostname),
            body: format!(
                "{}: {}",
                auth.user.username,
                body.chars().take(300).collect::<String>()
            ),
            link: link(row.id),
        },
    )
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "request.comment",
            target_type: "server_request",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"comment": body})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
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
