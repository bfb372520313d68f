//! A team's approval policy: its ordered steps and who is eligible to approve each one.

use super::status_of;
use crate::auth::AuthUser;
use crate::domain::teams::team_ids_of;
use crate::domain::users::active_with_role;
use crate::entities::{approval_policies, server_requests as rows, team_memberships, users};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::policies::policy::is_eligible;
use shared::policies::{ApprovalPolicy, ApprovalStep, Approvers};
use shared::workflow::RequestStatus;
use shared::Role;
use uuid::Uuid;

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
pub(super) async fn may_approve<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    row: &rows::Model,
    policy: &ApprovalPolicy,
    caller_teams: &mut Option<Vec<Uuid>>,
) -> Result<bool, DbErr> {
    if status_of(row) != RequestStatus::Pending {
        return Ok(false);
    }
    may_approve_step(db, auth, policy, row.team_id, row.policy_step, caller_teams).await
}

/// May the caller approve or reject step `step` of `policy` for a row of `team_id` waiting on it
/// (a server request or a resource)? `caller_teams` is read once for a whole page of rows.
pub async fn may_approve_step<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    policy: &ApprovalPolicy,
    team_id: Uuid,
    step: i32,
    caller_teams: &mut Option<Vec<Uuid>>,
) -> Result<bool, DbErr> {
    let Some(step) = policy.steps.get(step as usize) else {
        return Ok(auth.roles.contains(&Role::Admin));
    };
    if !is_eligible(step, auth.id(), &auth.roles) {
        return Ok(false);
    }
    if auth.roles.contains(&Role::Admin) || matches!(step.approvers, Approvers::Users { .. }) {
        return Ok(true);
    }
    let teams = match caller_teams {
        Some(teams) => teams,
        None => caller_teams.insert(team_ids_of(db, auth.id()).await?),
    };
    Ok(teams.contains(&team_id))
}

/// Where an approval leaves the step it was given on: done (by the step's rule), the policy's
/// last, and who may approve it. One rule for server requests and resources.
pub struct StepTally {
    pub done: bool,
    pub last: bool,
    pub eligible: Vec<Uuid>,
}

pub async fn tally_step<C: ConnectionTrait>(
    db: &C,
    policy: &ApprovalPolicy,
    team_id: Uuid,
    step_index: i32,
    approved_by: &[Uuid],
    by_admin: bool,
) -> Result<StepTally, DbErr> {
    let default_step = ApprovalPolicy::default_policy().steps.remove(0);
    let step = policy
        .steps
        .get(step_index as usize)
        .unwrap_or(&default_step);
    let eligible = eligible_users(db, step, team_id).await?;
    Ok(StepTally {
        done: shared::policies::policy::step_done(step, &eligible, approved_by, by_admin),
        last: step_index as usize + 1 >= policy.steps.len(),
        eligible,
    })
}
