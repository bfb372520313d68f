//! Audit rows are written in the same transaction as the change they describe.

use crate::auth::RequestContext;
use crate::entities::audit_events;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde_json::Value;
use uuid::Uuid;

pub struct AuditEntry<'a> {
    pub actor: Option<Uuid>,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub async fn record<C: ConnectionTrait>(
    db: &C,
    context: &RequestContext,
    entry: AuditEntry<'_>,
) -> Result<(), DbErr> {
    audit_events::ActiveModel {
        id: Set(Uuid::new_v4()),
        at: Set(chrono::Utc::now()),
        actor_id: Set(entry.actor),
        action: Set(entry.action.to_owned()),
        target_type: Set(entry.target_type.to_owned()),
        target_id: Set(entry.target_id),
        before: Set(entry.before),
        after: Set(entry.after),
        ip: Set(Some(context.ip.to_string())),
        request_id: Set(context.request_id.clone()),
    }
    .insert(db)
    .await?;
    Ok(())
}
