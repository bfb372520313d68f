use super::responses::{Forbidden, Invalid, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::audit;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web, HttpResponse};
use shared::audit::{AuditEvent, AuditQuery};
use shared::dto::Page;

/// The audit trail, newest first, with filters.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = Page<AuditEvent>), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<web::Json<Page<AuditEvent>>> {
    Ok(web::Json(audit::page(&state.db, &auth, &query).await?))
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
    responses((status = 200, content_type = "text/csv", body = String), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/audit/export.csv")]
pub async fn export(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let events = audit::export(&state.db, &auth, &query).await?;
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
