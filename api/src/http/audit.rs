use super::paging;
use crate::auth::AuthUser;
use crate::entities::{audit_events as rows, users};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use shared::dto::{Page, Problem};
use shared::requests::{AuditEvent, AuditQuery, UserRef};
use shared::Permission;
use std::collections::HashMap;

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

/// The audit trail, newest first, with filters.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = Page<AuditEvent>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEvent>>> {
    auth.require(Permission::AuditRead)?;
    let (page, per_page) = paging(query.page, query.per_page)?;
    let paginator = filtered(&query).paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    Ok(web::Json(Page {
        items: to_dtos(&state.db, found).await?,
        total,
        page,
        per_page,
    }))
}

fn csv_field(value: &str) -> String {
    // Quote everything, double inner quotes, and defuse spreadsheet formulas.
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// The filtered audit trail as CSV (at most 100,000 rows).
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/audit/export.csv")]
pub async fn export(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::AuditRead)?;
    // The export shares the list's query; paging fields it does not use are still checked.
    paging(query.page, query.per_page)?;
    let found = filtered(&query).limit(100_000).all(&state.db).await?;
    let events = to_dtos(&state.db, found).await?;
    let mut out =
        String::from("at,actor,action,target_type,target_id,ip,request_id,before,after\n");
    for e in events {
        let fields = [
            e.at.to_rfc3339(),
            e.actor.map(|a| a.username).unwrap_or_default(),
            e.action,
            e.target_type,
            e.target_id.unwrap_or_default(),
            e.ip.unwrap_or_default(),
            e.request_id.unwrap_or_default(),
            e.before.map(|v| v.to_string()).unwrap_or_default(),
            e.after.map(|v| v.to_string()).unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"provisio-audit.csv\"",
        ))
        .body(out))
}
