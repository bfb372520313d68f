//! The steps a deployment went through and their log: its own executions (deploy, redeploy,
//! stop, start, delete) and, when it built its own server, that server request's provisioning.

use super::visible;
use crate::auth::AuthUser;
use crate::domain::executions;
use crate::entities::{deployments as rows, executions as execution_rows};
use crate::error::{ApiError, ApiResult};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use shared::deployments::DeploymentLogs;
use shared::Permission;
use uuid::Uuid;

/// At most this many lines in one answer.
const MAX_LINES: u64 = 20_000;

/// The execution kind of a server request's provisioning.
const PROVISION: &str = "provision";

/// The executions of a deployment, newest first, its server's provisioning among them.
async fn executions_of<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
) -> Result<Vec<execution_rows::Model>, DbErr> {
    let own = Condition::all()
        .add(execution_rows::Column::TargetType.eq("deployment"))
        .add(execution_rows::Column::TargetId.eq(row.id));
    let provisioning = row.request_id.map(|request| {
        Condition::all()
            .add(execution_rows::Column::TargetType.eq("server_request"))
            .add(execution_rows::Column::TargetId.eq(request))
            .add(execution_rows::Column::Kind.eq(PROVISION))
    });
    execution_rows::Entity::find()
        .filter(Condition::any().add(own).add_option(provisioning))
        .order_by_desc(execution_rows::Column::CreatedAt)
        .all(db)
        .await
}

/// `GET /api/deployments/{id}/logs`: the steps, and the lines of the one named — or, naming
/// none, of the newest step, after the lines of the server's provisioning when the deployment
/// built its own server (Terraform's plan and apply among them for a Terraform account).
pub async fn logs<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
    execution_id: Option<Uuid>,
) -> ApiResult<DeploymentLogs> {
    auth.require(Permission::DeploymentsManage)?;
    let row = visible(db, auth, id).await?;
    let found = executions_of(db, &row).await?;
    let (chosen, shown) = match execution_id {
        Some(id) if found.iter().any(|e| e.id == id) => (Some(id), vec![id]),
        Some(_) => return Err(ApiError::NotFound),
        None => {
            let newest = found.first().map(|e| e.id);
            let provisioning = found.iter().find(|e| e.kind == PROVISION).map(|e| e.id);
            let mut shown: Vec<Uuid> = provisioning.into_iter().collect();
            shown.extend(newest.filter(|n| Some(*n) != provisioning));
            (newest, shown)
        }
    };
    let lines = executions::lines_after(db, &shown, 0, MAX_LINES).await?;
    Ok(DeploymentLogs {
        executions: found.into_iter().map(executions::to_dto).collect(),
        execution_id: chosen,
        lines,
    })
}
