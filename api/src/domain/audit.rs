//! Audit rows are written in the same transaction as the change they describe.

use crate::auth::{AuthUser, RequestContext};
use crate::domain::listing::paging;
use crate::entities::{audit_events, audit_events as rows, users};
use crate::error::ApiResult;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use serde_json::Value;
use shared::audit::{AuditEvent, AuditQuery};
use shared::dto::Page;
use shared::requests::UserRef;
use shared::Permission;
use std::collections::HashMap;
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

fn filtered(query: &AuditQuery) -> Select<rows::Entity> {
    let mut select = rows::Entity::find()
        .order_by_desc(rows::Column::At)
        .order_by_desc(rows::Column::Id);
    if let Some(actor) = query.actor_id {
        select = select.filter(rows::Column::ActorId.eq(actor));
    }
    if let Some(action) = query.action.as_deref().filter(|a| !a.is_empty()) {
        select = if action.ends_with('.') {
            select.filter(rows::Column::Action.starts_with(action))
        } else {
            select.filter(rows::Column::Action.eq(action))
        };
    }
    if let Some(t) = query.target_type.as_deref().filter(|a| !a.is_empty()) {
        select = select.filter(rows::Column::TargetType.eq(t));
    }
    if let Some(t) = query.target_id.as_deref().filter(|a| !a.is_empty()) {
        select = select.filter(rows::Column::TargetId.eq(t));
    }
    if let Some(from) = query.from {
        select = select.filter(rows::Column::At.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(rows::Column::At.lt(to));
    }
    select
}

pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<rows::Model>,
) -> Result<Vec<AuditEvent>, DbErr> {
    let people: HashMap<_, _> = users::Entity::find()
        .filter(users::Column::Id.is_in(found.iter().filter_map(|e| e.actor_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| {
            (
                u.id,
                UserRef {
                    id: u.id,
                    username: u.username,
                    full_name: u.full_name,
                },
            )
        })
        .collect();
    Ok(found
        .into_iter()
        .map(|e| AuditEvent {
            id: e.id,
            at: e.at,
            actor: e.actor_id.and_then(|a| people.get(&a).cloned()),
            summary: shared::audit::describe(&e.action),
            target_name: shared::audit::recorded_name(e.before.as_ref(), e.after.as_ref()),
            target_link: shared::audit::link(&e.target_type, e.target_id.as_deref()),
            changes: shared::audit::changes(e.before.as_ref(), e.after.as_ref()),
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            before: e.before,
            after: e.after,
            ip: e.ip,
            request_id: e.request_id,
        })
        .collect())
}

/// The audit trail, newest first, filtered.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    query: &AuditQuery,
) -> ApiResult<Page<AuditEvent>> {
    auth.require(Permission::AuditRead)?;
    let (page, per_page) = paging(query.page, query.per_page)?;
    let paginator = filtered(query).paginate(db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    Ok(Page {
        items: to_dtos(db, found).await?,
        total,
        page,
        per_page,
    })
}

/// The most an export holds.
const EXPORT_MAX: u64 = 100_000;

/// The filtered audit trail for an export (at most [`EXPORT_MAX`] events).
pub async fn export<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    query: &AuditQuery,
) -> ApiResult<Vec<AuditEvent>> {
    auth.require(Permission::AuditRead)?;
    // The export shares the list's query; paging fields it does not use are still checked.
    paging(query.page, query.per_page)?;
    let found = filtered(query).limit(EXPORT_MAX).all(db).await?;
    Ok(to_dtos(db, found).await?)
}

/// The latest `n` events, for the dashboard.
pub async fn recent<C: ConnectionTrait>(db: &C, n: u64) -> Result<Vec<AuditEvent>, DbErr> {
    let found = rows::Entity::find()
        .order_by_desc(rows::Column::At)
        .limit(n)
        .all(db)
        .await?;
    to_dtos(db, found).await
}
