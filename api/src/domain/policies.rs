//! Approval policies: per team, the ordered steps a server request goes through before it is
//! provisioned, and an optional rule that approves small requests at once.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::requests::load_policy;
use crate::domain::teams::visible_team_ids;
use crate::entities::{approval_policies, teams, users};
use crate::error::{ApiError, ApiResult};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, Set};
use shared::policies::{ApprovalPolicy, Approvers};
use shared::Permission;
use uuid::Uuid;

/// The team's policy (the default one-step admin policy when none is set).
pub async fn get(db: &DatabaseConnection, auth: &AuthUser, id: Uuid) -> ApiResult<ApprovalPolicy> {
    auth.require(Permission::TeamsRead)?;
    teams::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    if let Some(ids) = visible_team_ids(db, auth).await? {
        if !ids.contains(&id) {
            return Err(ApiError::NotFound);
        }
    }
    Ok(load_policy(db, id).await?)
}

/// Replaces the team's policy; every approver it names must exist.
pub async fn put(
    db: &DatabaseConnection,
    auth: &AuthUser,
    id: Uuid,
    policy: ApprovalPolicy,
) -> ApiResult<ApprovalPolicy> {
    auth.require(Permission::TeamsManage)?;
    policy.validate()?;
    let txn = crate::db::begin_write(db).await?;
    teams::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    for (i, step) in policy.steps.iter().enumerate() {
        if let Approvers::Users { user_ids } = &step.approvers {
            let found = users::Entity::find()
                .filter(users::Column::Id.is_in(user_ids.clone()))
                .count(&txn)
                .await?;
            if found as usize != user_ids.len() {
                return Err(ApiError::field(
                    &format!("steps[{i}].approvers"),
                    "names a user that does not exist",
                ));
            }
        }
    }
    let before = load_policy(&txn, id).await?;
    approval_policies::Entity::insert(approval_policies::ActiveModel {
        team_id: Set(id),
        steps: Set(serde_json::to_value(&policy.steps).map_err(|e| ApiError::Internal(e.into()))?),
        auto_approve: Set(policy
            .auto_approve
            .as_ref()
            .map(|r| serde_json::to_value(r).unwrap_or_default())),
        updated_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(approval_policies::Column::TeamId)
            .update_columns([
                approval_policies::Column::Steps,
                approval_policies::Column::AutoApprove,
                approval_policies::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "team.approval_policy",
            target_type: "team",
            target_id: Some(id.to_string()),
            before: serde_json::to_value(&before).ok(),
            after: serde_json::to_value(&policy).ok(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(policy)
}
