//! Approving, rejecting and cancelling a resource request: the team's approval policy, step by
//! step, as for server requests. The last approval starts the recipe or queues the task for the
//! technical agents.

use super::catalogue::provisioning_of;
use super::operations::{start_recipe, RunInput};
use super::views::{may_approve, visible};
use super::{audit_change, link, secrets, status_of, transition, type_of, RecipeAction};
use crate::auth::AuthUser;
use crate::domain::notify::{notify, NewNotification};
use crate::domain::requests::{eligible_users, load_policy, tally_step, StepTally};
use crate::domain::teams::team_ids_of;
use crate::domain::users::active_with_role;
use crate::entities::{resource_approvals, resource_types, resources as rows, team_memberships};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use shared::resources::{Provisioning, RejectResource, ResourceAction, ResourceStatus};
use shared::Role;
use uuid::Uuid;

pub async fn approve(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if status_of(&row) != ResourceStatus::Pending {
        return Err(ApiError::Conflict(format!(
            "this resource is {}: only a request waiting for approval can be approved",
            status_of(&row).label().to_lowercase()
        )));
    }
    if !may_approve(&txn, auth, &row, &mut Default::default()).await? {
        return Err(ApiError::Forbidden);
    }
    let step_index = row.policy_step;
    if resource_approvals::Entity::find_by_id((row.id, step_index, auth.id()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict("you already approved this step".into()));
    }
    resource_approvals::ActiveModel {
        resource_id: Set(row.id),
        step: Set(step_index),
        user_id: Set(auth.id()),
        at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    let approved_by: Vec<Uuid> = resource_approvals::Entity::find()
        .filter(resource_approvals::Column::ResourceId.eq(row.id))
        .filter(resource_approvals::Column::Step.eq(step_index))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    let policy = load_policy(&txn, row.team_id).await?;
    let StepTally { done, last, .. } = tally_step(
        &txn,
        &policy,
        row.team_id,
        step_index,
        &approved_by,
        auth.roles.contains(&Role::Admin),
    )
    .await?;
    let kind = type_of(&txn, &row).await?;
    let email = state.config.smtp_url.is_some();
    if done && !last {
        let advanced = rows::Entity::update_many()
            .col_expr(rows::Column::PolicyStep, Expr::value(step_index + 1))
            .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
            .filter(rows::Column::Id.eq(row.id))
            .filter(rows::Column::Status.eq(ResourceStatus::Pending.as_str()))
            .filter(rows::Column::PolicyStep.eq(step_index))
            .exec(&txn)
            .await?
            .rows_affected;
        if advanced == 0 {
            return Err(ApiError::Conflict(
                "the resource changed while you were acting on it; reload and try again".into(),
            ));
        }
        let next =
            eligible_users(&txn, &policy.steps[step_index as usize + 1], row.team_id).await?;
        notify(
            &txn,
            email,
            &next,
            Some(auth.id()),
            &NewNotification {
                kind: "resource.pending",
                title: format!("Resource request waits for you: {}", row.name),
                body: format!(
                    "Step {} of {} for {} {}",
                    step_index + 2,
                    policy.steps.len(),
                    kind.name,
                    row.name
                ),
                link: link(row.id),
            },
        )
        .await?;
    } else if done {
        super::new_server::approve_request(&txn, state, auth, &row).await?;
        finish_approval(&txn, state, auth, &row, &kind).await?;
    }
    audit_change(&txn, auth, "resource.approve", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

/// The last step is done: a recipe type starts its recipe with a fresh password; a type set up
/// by hand goes to the technical agents of the team.
async fn finish_approval(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    row: &rows::Model,
    kind: &resource_types::Model,
) -> ApiResult<()> {
    let provisioning = provisioning_of(kind);
    let email = state.config.smtp_url.is_some();
    if provisioning == Provisioning::Recipe {
        let needs_password = kind
            .recipe
            .as_deref()
            .and_then(super::recipes::find)
            .is_some_and(|r| r.connection.has_password());
        let sealed = match needs_password {
            true => Some(state.keys.seal(&secrets::generate_password())?),
            false => None,
        };
        transition(
            txn,
            row,
            provisioning,
            ResourceAction::Approve,
            vec![(rows::Column::Secret, Expr::value(sealed))],
        )
        .await?;
        start_recipe(
            txn,
            Some(auth.id()),
            row,
            RecipeAction::Create,
            RunInput::default(),
        )
        .await?;
    } else {
        transition(txn, row, provisioning, ResourceAction::Approve, vec![]).await?;
        let members: Vec<Uuid> = team_memberships::Entity::find()
            .filter(team_memberships::Column::TeamId.eq(row.team_id))
            .all(txn)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let agents: Vec<Uuid> = active_with_role(txn, Role::TechnicalAgent)
            .await?
            .into_iter()
            .filter(|id| members.contains(id))
            .collect();
        notify(
            txn,
            email,
            &agents,
            None,
            &NewNotification {
                kind: "resource.fulfil",
                title: format!("Set up {} {} by hand", kind.name, row.name),
                body: format!(
                    "{} is approved and waits for a technical agent: set it up, then enter its connection details. Purpose: {}",
                    row.name, row.purpose
                ),
                link: link(row.id),
            },
        )
        .await?;
    }
    notify(
        txn,
        email,
        &[row.requested_by],
        None,
        &NewNotification {
            kind: "resource.approved",
            title: format!("Resource approved: {}", row.name),
            body: match provisioning {
                Provisioning::Recipe => format!("{} {} is being set up.", kind.name, row.name),
                Provisioning::Manual => format!(
                    "{} {} waits for a technical agent to set it up.",
                    kind.name, row.name
                ),
            },
            link: link(row.id),
        },
    )
    .await?;
    Ok(())
}

pub async fn reject(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: ApiResult<RejectResource>,
) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if status_of(&row) == ResourceStatus::Pending
        && !may_approve(&txn, auth, &row, &mut Default::default()).await?
    {
        return Err(ApiError::Forbidden);
    }
    // Read once the caller is known to be allowed: a refusal never depends on the body.
    let reason = input?.reason.trim().to_owned();
    if !(3..=1000).contains(&reason.chars().count()) {
        return Err(ApiError::field(
            "reason",
            "say why in 3 to 1000 characters: the requester reads it",
        ));
    }
    let kind = type_of(&txn, &row).await?;
    transition(
        &txn,
        &row,
        provisioning_of(&kind),
        ResourceAction::Reject,
        vec![(rows::Column::RejectionReason, Expr::value(reason.clone()))],
    )
    .await?;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[row.requested_by],
        Some(auth.id()),
        &NewNotification {
            kind: "resource.rejected",
            title: format!("Resource rejected: {}", row.name),
            body: reason,
            link: link(row.id),
        },
    )
    .await?;
    super::new_server::withdraw_request(&txn, auth, &row).await?;
    audit_change(&txn, auth, "resource.reject", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

/// The requester (or someone who approves for the team) withdraws a request not yet set up.
pub async fn cancel(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let own = row.requested_by == auth.id();
    let approver = auth.roles.contains(&Role::Admin)
        || (auth.can(shared::Permission::RequestsApprove)
            && team_ids_of(&txn, auth.id()).await?.contains(&row.team_id));
    if !own && !approver {
        return Err(ApiError::Forbidden);
    }
    let kind = type_of(&txn, &row).await?;
    transition(
        &txn,
        &row,
        provisioning_of(&kind),
        ResourceAction::Cancel,
        vec![],
    )
    .await?;
    super::new_server::withdraw_request(&txn, auth, &row).await?;
    audit_change(&txn, auth, "resource.cancel", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}
