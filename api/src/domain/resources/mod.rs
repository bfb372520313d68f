//! Managed resources: a team requests a resource of a catalogue type; the team's approval policy
//! decides (the same steps as server requests); a shipped recipe then provides it on the team's
//! server as a job with a live log, or a technical agent does by hand and enters its connection
//! details. Its secret is sealed at rest and shown only by an audited reveal.

pub mod binding;
pub mod catalogue;
pub mod recipes;
pub mod secrets;

mod approval;
pub mod backups;
mod creation;
pub mod new_server;
mod operations;
mod views;

pub use approval::{approve, cancel, reject};
pub use creation::create;
pub use operations::{delete, fulfil, resize, retry, reveal, rotate};
pub use views::{get, list, targets, visible};

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::{resource_types, resources as rows};
use crate::error::{ApiError, ApiResult};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::resources::{next_status, Provisioning, ResourceAction, ResourceStatus};
use uuid::Uuid;

pub fn status_of(row: &rows::Model) -> ResourceStatus {
    ResourceStatus::parse(&row.status).unwrap_or(ResourceStatus::Failed)
}

/// How `row` is reached in its recipe's connection form, with `password` when given; `None`
/// before it has a host. One place for the list, the reveal and a bound deployment's variable.
pub fn connection_of(
    row: &rows::Model,
    form: shared::resources::ConnectionForm,
    password: Option<&str>,
) -> Option<String> {
    let host = row.host.as_deref()?;
    Some(shared::resources::connection_string(
        form,
        &shared::resources::Endpoint {
            host,
            port: row.port.and_then(|p| u16::try_from(p).ok()),
            database: row.database.as_deref().unwrap_or(""),
            username: row.username.as_deref().unwrap_or(""),
        },
        password,
        &format!("/mnt/{}", row.name),
    ))
}

pub fn link(id: Uuid) -> Option<String> {
    Some(format!("/resources/{id}"))
}

/// What the recipe of a resource's job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipeAction {
    Create,
    Rotate,
    Backup,
    Restore,
    /// The creation again with changed settings (the recipes are safe to run twice).
    Resize,
    Delete,
}

impl RecipeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipeAction::Create => "create",
            RecipeAction::Rotate => "rotate",
            RecipeAction::Backup => "backup",
            RecipeAction::Restore => "restore",
            RecipeAction::Resize => "resize",
            RecipeAction::Delete => "delete",
        }
    }

    pub const ALL: [RecipeAction; 6] = [
        RecipeAction::Create,
        RecipeAction::Rotate,
        RecipeAction::Backup,
        RecipeAction::Restore,
        RecipeAction::Resize,
        RecipeAction::Delete,
    ];

    /// What the recipe's playbook is asked to do (`resource_action`).
    pub fn playbook_action(self) -> &'static str {
        match self {
            RecipeAction::Resize => RecipeAction::Create.as_str(),
            other => other.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

pub async fn type_of<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
) -> Result<resource_types::Model, DbErr> {
    resource_types::Entity::find_by_id(row.type_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("resource type {}", row.type_id)))
}

/// Applies `action` with one conditional UPDATE on the status (and approval step) it was read
/// in: of two concurrent callers exactly one changes the row, the other gets a 409.
pub async fn transition<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    provisioning: Provisioning,
    action: ResourceAction,
    columns: Vec<(rows::Column, SimpleExpr)>,
) -> ApiResult<ResourceStatus> {
    let from = status_of(row);
    let to = next_status(from, action, provisioning).ok_or_else(|| {
        ApiError::Conflict(format!(
            "this resource is {}: it cannot be {} now",
            from.label().to_lowercase(),
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
            "the resource changed while you were acting on it; reload and try again".into(),
        ));
    }
    if binding::is_coming(from) && !binding::is_coming(to) {
        binding::wake_bound(db, row.id).await?;
    }
    Ok(to)
}

fn past_tense(action: ResourceAction) -> &'static str {
    match action {
        ResourceAction::Approve => "approved",
        ResourceAction::Reject => "rejected",
        ResourceAction::Cancel => "cancelled",
        ResourceAction::Fulfil => "fulfilled",
        ResourceAction::Finish => "finished",
        ResourceAction::Fail => "marked failed",
        ResourceAction::Retry => "retried",
        ResourceAction::Rotate => "given a new password",
        ResourceAction::Backup => "backed up",
        ResourceAction::Restore => "restored",
        ResourceAction::Resize => "resized",
        ResourceAction::Abandon => "left as it was",
        ResourceAction::Delete => "deleted",
        ResourceAction::Remove => "removed",
    }
}

/// What the audit trail keeps of a resource: never its secret.
fn audit_view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({
        "name": row.name, "status": row.status, "team_id": row.team_id, "type_id": row.type_id,
        "server_id": row.server_id, "parameters": row.parameters, "host": row.host,
        "port": row.port, "database": row.database, "username": row.username,
        "has_secret": row.secret.is_some(), "policy_step": row.policy_step,
    })
}

pub(crate) async fn audit_change<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    action: &str,
    before: Option<&rows::Model>,
    id: Uuid,
) -> ApiResult<()> {
    let after = rows::Entity::find_by_id(id).one(db).await?;
    audit::record(
        db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action,
            target_type: "resource",
            target_id: Some(id.to_string()),
            before: before.map(audit_view),
            after: after.as_ref().map(audit_view),
        },
    )
    .await?;
    Ok(())
}
