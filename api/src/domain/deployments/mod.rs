//! App deployments: `POST /api/deploy` writes the row, its execution and its `deploy` job in one
//! transaction; every later move (stop, start, redeploy, delete) is a conditional UPDATE plus a
//! job, so two clicks give one job and one 409.
//!
//! `listing` pages and counts them, `create` writes a new one (onto a new guest through
//! `new_server`), `lifecycle` moves them.

mod create;
mod keys;
mod lifecycle;
mod listing;
mod new_server;
mod steps;

pub use create::create;
pub use keys::take_private_key;
pub use lifecycle::{act, transition, UserAction};
pub use listing::{list, platform_statistics, statistics, tally, Cursor, ListQuery};
pub use new_server::{follow_provisioning, follow_request, server_ready};
pub use steps::logs;

use crate::auth::AuthUser;
use crate::domain::executions::{self, NewExecution};
use crate::domain::jobs::JobKind;
use crate::domain::teams;
use crate::entities::{deployments as rows, projects as project_rows, servers as server_rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Select};
use shared::deployments::{AppStep, Deployment, DeploymentStatus, DeploymentType};
use shared::dto::TeamRef;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

pub fn status_of(row: &rows::Model) -> DeploymentStatus {
    DeploymentStatus::parse(&row.status).unwrap_or(DeploymentStatus::Failed)
}

fn scope(auth: &AuthUser) -> Select<rows::Entity> {
    teams::scoped(auth, rows::Entity::find(), rows::Column::TeamId)
}

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    teams::find_visible(db, scope(auth), rows::Column::Id, id).await
}

/// The service's environment at rest: name → value sealed with the master key.
pub(super) fn seal_env(
    state: &AppState,
    env: &BTreeMap<String, String>,
) -> ApiResult<Option<String>> {
    if env.is_empty() {
        return Ok(None);
    }
    let mut sealed = serde_json::Map::new();
    for (name, value) in env {
        sealed.insert(
            name.clone(),
            serde_json::Value::String(crate::crypto::seal(&state.keys.master_key, value)?),
        );
    }
    Ok(Some(serde_json::Value::Object(sealed).to_string()))
}

pub(super) fn env_names(row: &rows::Model) -> Vec<String> {
    row.env
        .as_deref()
        .and_then(|e| serde_json::from_str::<BTreeMap<String, String>>(e).ok())
        .map(|m| m.into_keys().collect())
        .unwrap_or_default()
}

/// The service's environment in clear, for the playbook.
pub fn open_env(state: &AppState, row: &rows::Model) -> Result<BTreeMap<String, String>, String> {
    let sealed: BTreeMap<String, String> = match row.env.as_deref() {
        Some(e) => serde_json::from_str(e).map_err(|e| e.to_string())?,
        None => return Ok(BTreeMap::new()),
    };
    sealed
        .into_iter()
        .map(|(name, value)| {
            state
                .keys
                .open(&value)
                .map(|v| (name, v))
                .map_err(|e| format!("the environment cannot be opened: {e}"))
        })
        .collect()
}

pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<rows::Model>,
) -> Result<Vec<Deployment>, DbErr> {
    let teams = teams::refs_of(db, found.iter().map(|d| d.team_id)).await?;
    let projects: HashMap<Uuid, project_rows::Model> = project_rows::Entity::find()
        .filter(project_rows::Column::Id.is_in(found.iter().map(|d| d.project_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let server_ids: Vec<Uuid> = found.iter().filter_map(|d| d.server_id).collect();
    let servers: HashMap<Uuid, GuestFacts> = if server_ids.is_empty() {
        HashMap::new()
    } else {
        server_rows::Entity::find()
            .filter(server_rows::Column::Id.is_in(server_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| {
                let facts = GuestFacts {
                    name: s.name,
                    ipv4: s.ipv4,
                    provider_id: s.provider_id,
                };
                (s.id, facts)
            })
            .collect()
    };
    Ok(found
        .into_iter()
        .filter_map(|row| {
            let project = projects.get(&row.project_id);
            let team = teams.get(&row.team_id)?.clone();
            let server = row.server_id.and_then(|id| servers.get(&id).cloned());
            Some(to_dto(
                row,
                team,
                project.map(|p| (p.name.clone(), p.url.clone())),
                server,
            ))
        })
        .collect())
}

/// What a deployment's answer shows of the server it runs on.
#[derive(Debug, Clone)]
pub(super) struct GuestFacts {
    pub name: String,
    pub ipv4: Option<String>,
    /// `node/qemu|lxc/vmid` for Proxmox guests, the server id for Hetzner, `ssh:…` for hosts.
    pub provider_id: String,
}

/// The Proxmox VM id in a `node/qemu|lxc/vmid` provider id.
fn vmid_of(provider_id: &str) -> Option<u32> {
    let mut parts = provider_id.split('/');
    let (_node, kind, vmid) = (parts.next()?, parts.next()?, parts.next()?);
    matches!(kind, "qemu" | "lxc")
        .then(|| vmid.parse().ok())
        .flatten()
        .filter(|_| parts.next().is_none())
}

/// The answer for one row, given its team, its project's name and URL, and its server.
pub(super) fn to_dto(
    row: rows::Model,
    team: TeamRef,
    project: Option<(String, String)>,
    server: Option<GuestFacts>,
) -> Deployment {
    let env = env_names(&row);
    let status = status_of(&row);
    let (project_name, git_url) = project.unwrap_or_default();
    Deployment {
        team,
        id: row.id,
        name: row.name,
        project_id: row.project_id,
        project_name,
        git_url,
        branch: row.branch,
        commit: row.commit_sha,
        framework: row.framework,
        deployment_type: DeploymentType::parse(&row.deployment_type).unwrap_or_default(),
        cpu: row.cpu,
        ram_mb: row.ram_mb,
        disk_gb: row.disk_gb,
        status,
        failed_step: row.failed_step,
        error: row.error,
        server_id: row.server_id,
        ip_address: server.as_ref().and_then(|s| s.ipv4.clone()),
        vmid: server.as_ref().and_then(|s| vmid_of(&s.provider_id)),
        provider_guest_id: server.as_ref().map(|s| s.provider_id.clone()),
        server_name: server.map(|s| s.name),
        request_id: row.request_id,
        port: row.port,
        app_port: row.app_port,
        url: row.url,
        env,
        resources: Vec::new(),
        execution_id: row.execution_id,
        private_key_available: row.ssh_private_key.is_some(),
        ssh_public_key: row.ssh_public_key,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        deployed_at: row.deployed_at,
    }
}

/// One deployment's answer, with the resources it is bound to.
pub async fn dto<C: ConnectionTrait>(db: &C, row: rows::Model) -> ApiResult<Deployment> {
    let id = row.id;
    let mut found = to_dtos(db, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    found.resources = crate::domain::resources::binding::bound_to(db, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    Ok(found)
}

/// Public ports of live deployments on a server.
pub(super) async fn ports_in_use<C: ConnectionTrait>(
    db: &C,
    server_id: Uuid,
) -> Result<Vec<i32>, DbErr> {
    let found: Vec<Option<i32>> = rows::Entity::find()
        .select_only()
        .column(rows::Column::Port)
        .filter(rows::Column::ServerId.eq(server_id))
        .filter(rows::Column::Status.ne(DeploymentStatus::Deleted.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().flatten().collect())
}

/// The app listens on the public port + 10000 on loopback, so two apps on one server never meet.
pub const APP_PORT_OFFSET: i32 = 10_000;

pub fn free_port(first: u16, used: &[i32], wanted: Option<u16>) -> Result<i32, String> {
    let fits = |p: i32| p + APP_PORT_OFFSET <= 65_535;
    if let Some(port) = wanted {
        let port = i32::from(port);
        return if used.contains(&port) {
            Err(format!(
                "{port} is used by another deployment on this server"
            ))
        } else if !fits(port) {
            Err(format!("at most {}", 65_535 - APP_PORT_OFFSET))
        } else {
            Ok(port)
        };
    }
    (i32::from(first)..)
        .take_while(|p| fits(*p))
        .find(|p| !used.contains(p))
        .ok_or_else(|| "no free port left on this server".to_owned())
}

/// Writes the execution and job of one pipeline step and points the deployment at it.
pub(super) async fn enqueue<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    action: AppStep,
    created_by: Option<Uuid>,
) -> Result<Uuid, DbErr> {
    let execution = executions::create_with_job(
        db,
        JobKind::Deploy,
        NewExecution {
            kind: action.execution_kind(),
            target_type: "deployment",
            target_id: row.id,
            team_id: row.team_id,
            created_by,
            script_version_id: None,
            variables: None,
        },
        serde_json::json!({"deployment_id": row.id, "action": action.as_str()}),
    )
    .await?;
    rows::Entity::update_many()
        .col_expr(rows::Column::ExecutionId, Expr::value(execution))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(execution)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vm_id_is_read_from_proxmox_guests_only() {
        assert_eq!(vmid_of("pve1/qemu/104"), Some(104));
        assert_eq!(vmid_of("pve1/lxc/230"), Some(230));
        assert_eq!(vmid_of("53219876"), None);
        assert_eq!(vmid_of("ssh:10.0.0.5"), None);
        assert_eq!(vmid_of("pve1/qemu/104/x"), None);
    }

    #[test]
    fn ports_are_handed_out_in_order_and_never_twice() {
        assert_eq!(free_port(8000, &[], None), Ok(8000));
        assert_eq!(free_port(8000, &[8000, 8001, 8003], None), Ok(8002));
        assert_eq!(free_port(8000, &[8000], Some(9000)), Ok(9000));
        assert!(free_port(8000, &[9000], Some(9000)).is_err());
        assert!(free_port(8000, &[], Some(60000)).is_err());
        assert_eq!(free_port(55535, &[], None), Ok(55535));
        assert!(free_port(55535, &[55535], None).is_err());
    }

    #[test]
    fn statistics_count_what_ended_for_the_success_rate() {
        use DeploymentStatus as S;
        let stats = tally(
            [
                (S::Running, "flask", 2),
                (S::Stopped, "react", 1),
                (S::Failed, "flask", 1),
                (S::Deploying, "vue", 1),
                (S::Deleted, "vue", 1),
            ]
            .into_iter(),
        );
        assert_eq!(stats.total, 6);
        assert_eq!(stats.active, 4);
        assert_eq!(stats.running, 2);
        assert_eq!(stats.failed, 1);
        assert_eq!(stats.success_rate, Some(75.0));
        assert_eq!(stats.by_framework[0].framework, "flask");
        assert_eq!(stats.by_framework[0].total, 3);
        assert_eq!(stats.by_framework[0].running, 2);
        assert_eq!(stats.by_status["DELETED"], 1);
        assert_eq!(tally(std::iter::empty()).success_rate, None);
    }
}
