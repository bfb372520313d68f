//! What the dashboard counts for a caller, limited to what their roles may see.

use crate::auth::AuthUser;
use crate::domain::requests::scope;
use crate::domain::teams::visible_team_ids;
use crate::domain::users::roles_of;
use crate::entities::{
    api_tokens, approval_policies, provider_accounts, resource_types, server_requests as rows,
    ssh_keys, team_memberships, teams, users,
};
use crate::error::ApiResult;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use shared::dashboard::{status_counts, CountBy, DashboardStats, SetupProgress};
use shared::dto::Overview;
use shared::workflow::RequestStatus;
use shared::{Permission, Role};
use std::collections::{BTreeMap, HashMap};

pub async fn overview<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<Overview> {
    auth.require(Permission::DashboardView)?;
    let teams = match visible_team_ids(db, auth).await? {
        None => teams::Entity::find().count(db).await?,
        Some(ids) => ids.len() as u64,
    };
    let (users_by_role, active_users) = if auth.can(Permission::UsersManage) {
        let all = users::Entity::find()
            .filter(users::Column::Active.eq(true))
            .all(db)
            .await?;
        let mut by_role: BTreeMap<String, u64> = Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), 0))
            .collect();
        for u in &all {
            for r in roles_of(u) {
                *by_role.entry(r.as_str().to_owned()).or_default() += 1;
            }
        }
        (Some(by_role), Some(all.len() as u64))
    } else {
        (None, None)
    };
    Ok(Overview {
        teams,
        users_by_role,
        active_users,
        resource_types: resource_types::Entity::find().count(db).await?,
        api_tokens: api_tokens::Entity::find()
            .filter(api_tokens::Column::UserId.eq(auth.id()))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .count(db)
            .await?,
    })
}

/// Figures for the caller's dashboard; each section only for the roles that may see it.
pub async fn stats<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<DashboardStats> {
    let visible = scope(db, auth)
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
        let pending = scope(db, auth)
            .await?
            .filter(rows::Column::Status.eq("pending"))
            .all(db)
            .await?;
        let detailed = crate::domain::requests::to_dtos(db, auth, pending).await?;
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
        Some(crate::domain::audit::recent(db, 10).await?)
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
        Some(crate::domain::jobs::open_count(db, auth).await?)
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
    Ok(DashboardStats {
        pending_approvals,
        funnel: (is_admin || auth.can(Permission::RequestsReadTeam))
            .then(|| status_counts(&by_status)),
        recent_activity,
        servers_by_status,
        running_jobs,
        requests_by_team,
        my_requests: status_counts(&mine),
    })
}

/// The first steps of a fresh install, for the administrator's checklist.
pub async fn setup<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<SetupProgress> {
    auth.require(Permission::UsersManage)?;
    let provider_tested = provider_accounts::Entity::find()
        .filter(provider_accounts::Column::LastTestOk.eq(true))
        .count(db)
        .await?
        > 0;
    let teams_of_people: Vec<uuid::Uuid> = teams::Entity::find()
        .select_only()
        .column(teams::Column::Id)
        .filter(teams::Column::IsGlobal.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    let team_with_members = !teams_of_people.is_empty()
        && team_memberships::Entity::find()
            .filter(team_memberships::Column::TeamId.is_in(teams_of_people))
            .count(db)
            .await?
            > 0;
    let approval_policy = approval_policies::Entity::find().count(db).await? > 0;
    let ssh_key = ssh_keys::Entity::find()
        .filter(ssh_keys::Column::UserId.eq(auth.id()))
        .count(db)
        .await?
        > 0;
    Ok(SetupProgress {
        provider_tested,
        team_with_members,
        approval_policy,
        ssh_key,
    })
}
