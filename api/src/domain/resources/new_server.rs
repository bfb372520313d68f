//! A resource requested with a new server: one approval decides both (the approver also approves
//! the server request where they may), the recipe's job waits until the server is ready, a
//! refused or failed server request ends the resource with its reason, and a resource withdrawn
//! before its server exists withdraws the server request with it (when that still waits).

use super::{status_of, transition, type_of};
use crate::auth::AuthUser;
use crate::entities::{resources as rows, server_requests, servers};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};
use shared::resources::{ResourceAction, ResourceStatus};
use shared::workflow::RequestStatus;
use uuid::Uuid;

/// Where the server of a resource's recipe stands.
pub enum ServerFor {
    Ready(Uuid),
    /// The request still waits (approval, provisioning): what it waits on, for the log.
    Waiting(String),
    /// The request will not make a server.
    Never(String),
}

/// The server the recipe of `row` runs on: its own, or the one its server request built (taken
/// over by the resource with one conditional UPDATE).
pub async fn server_for<C: ConnectionTrait>(db: &C, row: &rows::Model) -> Result<ServerFor, DbErr> {
    if let Some(id) = row.server_id {
        return Ok(ServerFor::Ready(id));
    }
    let Some(request_id) = row.request_id else {
        return Ok(ServerFor::Never("the resource names no server".into()));
    };
    let Some(request) = server_requests::Entity::find_by_id(request_id)
        .one(db)
        .await?
    else {
        return Ok(ServerFor::Never(
            "its server request no longer exists".into(),
        ));
    };
    let status = crate::domain::requests::status_of(&request);
    match status {
        RequestStatus::Deployed => {
            let Some(server) = servers::Entity::find()
                .filter(servers::Column::RequestId.eq(request_id))
                .one(db)
                .await?
            else {
                return Ok(ServerFor::Never(format!(
                    "the server {} of its request is no longer in the inventory",
                    request.hostname
                )));
            };
            take_server(db, request_id, server.id).await?;
            Ok(ServerFor::Ready(server.id))
        }
        RequestStatus::Rejected | RequestStatus::Cancelled | RequestStatus::Failed => {
            let why = request
                .rejection_reason
                .or(request.failure_reason)
                .filter(|r| !r.is_empty())
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            Ok(ServerFor::Never(format!(
                "the request for its server {} was {}{why}",
                request.hostname,
                status.as_str()
            )))
        }
        RequestStatus::Pending => Ok(ServerFor::Waiting(format!(
            "waiting for the request for the server {} to be approved",
            request.hostname
        ))),
        _ => Ok(ServerFor::Waiting(format!(
            "waiting for the server {} to be built ({})",
            request.hostname,
            status.as_str()
        ))),
    }
}

async fn take_server<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    server_id: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    let waiting: Vec<rows::Model> = rows::Entity::find()
        .filter(rows::Column::RequestId.eq(request_id))
        .filter(rows::Column::ServerId.is_null())
        .all(db)
        .await?;
    rows::Entity::update_many()
        .col_expr(rows::Column::ServerId, Expr::value(server_id))
        .filter(rows::Column::RequestId.eq(request_id))
        .filter(rows::Column::ServerId.is_null())
        .exec(db)
        .await?;
    Ok(waiting.into_iter().filter_map(|r| r.execution_id).collect())
}

/// The server of `request_id` is ready: the resources asked with it take it and their recipes
/// run.
pub async fn server_ready<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    server_id: Uuid,
) -> Result<(), DbErr> {
    let executions = take_server(db, request_id, server_id).await?;
    crate::domain::jobs::wake(db, executions).await
}

/// Keeps resources that wait for a server request in step with it: refused, withdrawn or failed,
/// a resource still waiting for approval is rejected with the reason, and a recipe waiting for
/// the server runs now to fail with it.
pub async fn follow_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    to: RequestStatus,
    reason: &str,
) -> Result<(), DbErr> {
    if !matches!(
        to,
        RequestStatus::Rejected | RequestStatus::Cancelled | RequestStatus::Failed
    ) {
        return Ok(());
    }
    let waiting = rows::Entity::find()
        .filter(rows::Column::RequestId.eq(request_id))
        .filter(rows::Column::ServerId.is_null())
        .all(db)
        .await?;
    let mut executions = Vec::new();
    for row in waiting {
        match status_of(&row) {
            ResourceStatus::Pending => {
                let why = match reason.is_empty() {
                    true => format!("the request for its server was {}", to.as_str()),
                    false => format!("the request for its server was {}: {reason}", to.as_str()),
                };
                let kind = type_of(db, &row).await?;
                let moved = transition(
                    db,
                    &row,
                    super::catalogue::provisioning_of(&kind),
                    ResourceAction::Reject,
                    vec![(rows::Column::RejectionReason, Expr::value(why))],
                )
                .await;
                if let Err(ApiError::Internal(e)) = moved {
                    return Err(DbErr::Custom(e.to_string()));
                }
            }
            ResourceStatus::Provisioning => executions.extend(row.execution_id),
            _ => {}
        }
    }
    crate::domain::jobs::wake(db, executions).await
}

/// The resource's last approval: its server request is approved too, where the approver may.
pub(super) async fn approve_request(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    row: &rows::Model,
) -> ApiResult<()> {
    match (row.server_id, row.request_id) {
        (None, Some(request)) => {
            crate::domain::requests::approve_if_allowed(txn, state, auth, request).await
        }
        _ => Ok(()),
    }
}

/// The resource was rejected or cancelled: a server request filed with it that still waits is
/// withdrawn with it (its approvers are told).
pub(super) async fn withdraw_request(
    txn: &DatabaseTransaction,
    auth: &AuthUser,
    row: &rows::Model,
) -> ApiResult<()> {
    let (None, Some(request)) = (row.server_id, row.request_id) else {
        return Ok(());
    };
    let found = server_requests::Entity::find_by_id(request)
        .one(txn)
        .await?;
    if let Some(waiting) = found.filter(|r| r.status == RequestStatus::Pending.as_str()) {
        // Whoever may withdraw the resource withdraws the server asked only for it.
        crate::domain::requests::apply(
            txn,
            &waiting,
            shared::workflow::RequestAction::Cancel,
            Some(auth.id()),
            vec![],
            &format!("withdrawn with the resource {}", row.name),
        )
        .await?;
    }
    Ok(())
}
