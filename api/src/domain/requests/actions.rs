//! What people do to an existing request: approve a step, reject, cancel, retry provisioning and
//! comment, each notifying whoever is concerned.

use super::policy::{eligible_users, load_policy, may_approve, tally_step, StepTally};
use super::transitions::{apply, audit_change, event};
use super::views::visible;
use super::{link, status_of};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::jobs;
use crate::domain::notify::{notify, NewNotification};
use crate::entities::{request_approvals, request_events, server_requests as rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use shared::workflow::{RequestAction, RequestStatus};
use shared::{Permission, Role};
use uuid::Uuid;

pub async fn approve(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    // Asked before the write transaction: it talks to the provider.
    let row = visible(&state.db, auth, id).await?;
    if status_of(&row) == RequestStatus::Pending
        && may_approve(
            &state.db,
            auth,
            &row,
            &load_policy(&state.db, row.team_id).await?,
            &mut None,
        )
        .await?
    {
        super::preflight::ensure_buildable(state, &row).await?;
    }
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
    let StepTally {
        done,
        last,
        eligible,
    } = tally_step(
        txn,
        &policy,
        row.team_id,
        step_index,
        &approved_by,
        auth.roles.contains(&Role::Admin),
    )
    .await?;
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

/// Rejects a request with a reason. Whether the caller may decide depends on the request's
/// policy step, so the reason comes as the body's outcome and is looked at only after that:
/// a caller who may not decide gets 403 (or 404) whatever they sent.
pub async fn reject(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    reason: ApiResult<String>,
) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let policy = load_policy(&txn, row.team_id).await?;
    if status_of(&row) == RequestStatus::Pending
        && !may_approve(&txn, auth, &row, &policy, &mut None).await?
    {
        return Err(ApiError::Forbidden);
    }
    let reason = reason?.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::field(
            "reason",
            "a reason of 1 to 1000 characters is required",
        ));
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
    cancel_in(&txn, state, auth, id).await?;
    txn.commit().await?;
    Ok(())
}

/// Cancels inside the caller's transaction (a deployment deleted while its server request
/// still waits cancels that request with it).
pub async fn cancel_in(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<()> {
    let row = visible(txn, auth, id).await?;
    if row.requester_id != auth.id() && !auth.can(Permission::RequestsApprove) {
        return Err(ApiError::Forbidden);
    }
    apply(
        txn,
        &row,
        RequestAction::Cancel,
        Some(auth.id()),
        vec![],
        "",
    )
    .await?;
    let policy = load_policy(txn, row.team_id).await?;
    let mut concerned = match policy.steps.get(row.policy_step as usize) {
        Some(step) => eligible_users(txn, step, row.team_id).await?,
        None => vec![],
    };
    concerned.push(row.requester_id);
    notify(
        txn,
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
    audit_change(txn, auth, "request.cancel", Some(&row), row.id).await?;
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
