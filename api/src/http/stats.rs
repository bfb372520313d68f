use super::audit::to_dtos as audit_dtos;
use crate::auth::AuthUser;
use crate::domain::requests::scope;
use crate::entities::{audit_events, server_requests as rows, teams};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::dto::Problem;
use shared::requests::{status_counts, CountBy, DashboardStats};
use shared::workflow::RequestStatus;
use shared::Permission;
use std::collections::{BTreeMap, HashMap};

/// Figures for the caller's dashboard; each section only for the roles that may see it.
#[utoipa::path(
    tag = "dashboard",
    responses((status = 200, body = DashboardStats), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/stats/dashboard")]
pub async fn dashboard(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<DashboardStats>> {
    let db = &state.db;
    let visible = scope(db, &auth)
        .await?
        .select_only()
        .column(rows::Column::Status)
        .column(rows::Column::TeamId)
        .column(rows::Column::RequesterId)
        .into_tuple::<(String, uuid::Uuid, uuid::Uuid)>()
        .all(db)
        .await?;
    let mut by_status: BTreeMap<RequestStatus, u64> = BTreeMap::new();
    let mut mine: BTreeMap<RequestStatus, u64> = BTreeMap::new();
    let mut by_team: HashMap<uuid::Uuid, u64> = HashMap::new();
    for (status, team, requester) in &visible {
        let status = RequestStatus::parse(status).unwrap_or(RequestStatus::Failed);
        *by_status.entry(status).or_default() += 1;
        *by_team.entry(*team).or_default() += 1;
        if *requester == auth.id() {
            *mine.entry(status).or_default() += 1;
        }
    }
    let is_admin = auth.can(Permission::RequestsApprove);
    let pending_approvals = if is_admin || auth.can(Permission::RequestsReadTeam) {
        let pending = scope(db, &auth)
            .await?
            .filter(rows::Column::Status.eq("pending"))
            .all(db)
            .await?;
        let detailed = crate::domain::requests::to_dtos(db, &auth, pending).await?;
        Some(
            detailed
                .iter()
                .filter(|r| {
                    r.allowed_actions
                        .contains(&shared::workflow::RequestAction::Approve)
                })
                .count() as u64,
        )
    } else {
        None
    };
    let recent_activity = if auth.can(Permission::AuditRead) {
        let found = audit_events::Entity::find()
            .order_by_desc(audit_events::Column::At)
            .limit(10)
            .all(db)
            .await?;
        Some(audit_dtos(db, found).await?)
    } else {
        None
    };
    let servers_by_status = auth.can(Permission::ServersRead).then(|| {
        [
            RequestStatus::Approved,
            RequestStatus::Provisioning,
            RequestStatus::Deployed,
            RequestStatus::Failed,
        ]
        .iter()
        .map(|s| CountBy {
            key: s.as_str().into(),
            label: s.as_str().into(),
            count: by_status.get(s).copied().unwrap_or(0),
        })
        .collect()
    });
    let running_jobs = if auth.can(Permission::ServersRead) {
        Some(crate::domain::jobs::open_count(db, &auth).await?)
    } else {
        None
    };
    let requests_by_team = if auth.can(Permission::RequestsReadTeam) {
        let names: HashMap<_, _> = teams::Entity::find()
            .filter(teams::Column::Id.is_in(by_team.keys().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let mut list: Vec<CountBy> = by_team
            .iter()
            .map(|(id, count)| CountBy {
                key: id.to_string(),
                label: names.get(id).cloned().unwrap_or_default(),
                count: *count,
            })
            .collect();
        list.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
        Some(list)
    } else {
        None
    };
    Ok(web::Json(DashboardStats {
        pending_approvals,
        funnel: (is_admin || auth.can(Permission::RequestsReadTeam))
            .then(|| status_counts(&by_status)),
        recent_activity,
        servers_by_status,
        running_jobs,
        requests_by_team,
        my_requests: status_counts(&mine),
    }))
}
