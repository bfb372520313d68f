//! App deployments: `POST /api/deploy` writes the row, its execution and its `deploy` job in one
//! transaction; every later move (stop, start, redeploy, delete) is a conditional UPDATE plus a
//! job, so two clicks give one job and one 409.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::domain::jobs::JobKind;
use crate::domain::{frameworks, projects, servers, teams};
use crate::entities::{
    deployment_counts as counts, deployments as rows, executions as execution_rows,
    projects as project_rows, servers as server_rows, teams as team_rows,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::{Expr, Order, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, RelationDef, Select, Set,
};
use shared::deployments::{
    next_status, DeployRequest, Deployment, DeploymentAction, DeploymentPage, DeploymentStatus,
    DeploymentType, FrameworkCount, Redeploy, Statistics,
};
use shared::dto::TeamRef;
use shared::projects::CreateProject;
use shared::Permission;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

pub fn status_of(row: &rows::Model) -> DeploymentStatus {
    DeploymentStatus::parse(&row.status).unwrap_or(DeploymentStatus::Failed)
}

async fn scope<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> Result<Select<rows::Entity>, DbErr> {
    teams::scoped(db, auth, rows::Entity::find(), rows::Column::TeamId).await
}

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    teams::find_visible(db, scope(db, auth).await?, rows::Column::Id, id).await
}

/// The service's environment at rest: name → value sealed with the master key.
fn seal_env(state: &AppState, env: &BTreeMap<String, String>) -> ApiResult<Option<String>> {
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

fn env_names(row: &rows::Model) -> Vec<String> {
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
    let servers: HashMap<Uuid, String> = if server_ids.is_empty() {
        HashMap::new()
    } else {
        server_rows::Entity::find()
            .filter(server_rows::Column::Id.is_in(server_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect()
    };
    Ok(found
        .into_iter()
        .filter_map(|row| {
            let project = projects.get(&row.project_id);
            let team = teams.get(&row.team_id)?.clone();
            let server_name = row.server_id.and_then(|id| servers.get(&id).cloned());
            Some(to_dto(
                row,
                team,
                project.map(|p| (p.name.clone(), p.url.clone())),
                server_name,
            ))
        })
        .collect())
}

/// The answer for one row, given its team, its project's name and URL, and its server's name.
fn to_dto(
    row: rows::Model,
    team: TeamRef,
    project: Option<(String, String)>,
    server_name: Option<String>,
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
        server_name,
        request_id: row.request_id,
        port: row.port,
        app_port: row.app_port,
        url: row.url,
        env,
        execution_id: row.execution_id,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        deployed_at: row.deployed_at,
    }
}

pub async fn dto<C: ConnectionTrait>(db: &C, row: rows::Model) -> ApiResult<Deployment> {
    to_dtos(db, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub page: u64,
    pub per_page: u64,
    /// Continue after this row (a [`Cursor`] from the previous page's `next`) instead of
    /// counting `page - 1` pages of rows off.
    pub after: Option<Cursor>,
    pub status: Option<DeploymentStatus>,
    pub framework: Option<String>,
    pub q: Option<String>,
    pub include_deleted: bool,
}

/// Where a page ends: the last row's place in the order (created_at, id, both descending) and the
/// page's number, so the next page is found through the index however deep it is, and still
/// knows its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub page: u64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub id: Uuid,
}

impl Cursor {
    /// `<page>.<created_at in nanoseconds since 1970>.<id>`: opaque to clients, short, and safe
    /// in a query string as it is. Nanoseconds, as stored: a coarser time could skip rows.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}.{}",
            self.page,
            self.created_at.timestamp_nanos_opt().unwrap_or(i64::MAX),
            self.id.simple()
        )
    }

    pub fn decode(text: &str) -> Option<Cursor> {
        let mut parts = text.splitn(3, '.');
        let page = parts.next()?.parse().ok().filter(|p| *p >= 1)?;
        let created_at = chrono::DateTime::from_timestamp_nanos(parts.next()?.parse().ok()?);
        let id = Uuid::try_parse(parts.next()?).ok()?;
        Some(Cursor {
            page,
            created_at,
            id,
        })
    }
}

/// One listed row with what its answer shows of its team, project and server, and how many rows
/// the whole list has: one statement.
struct Listed {
    row: rows::Model,
    team_name: String,
    team_slug: String,
    project: Option<(String, String)>,
    server_name: Option<String>,
    total: i64,
}

impl FromQueryResult for Listed {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let project_name: Option<String> = res.try_get(pre, "project_name")?;
        let project_url: Option<String> = res.try_get(pre, "project_url")?;
        Ok(Listed {
            row: rows::Model::from_query_result(res, pre)?,
            team_name: res.try_get(pre, "team_name")?,
            team_slug: res.try_get(pre, "team_slug")?,
            project: project_name.zip(project_url),
            server_name: res.try_get(pre, "server_name")?,
            total: res.try_get(pre, "total")?,
        })
    }
}

/// A page of the caller's deployments, newest first. Rows, the names shown beside them and the
/// total come back from one statement (the total as a subquery the database runs once); only a
/// page past the end asks for the total again.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    query: ListQuery,
) -> ApiResult<DeploymentPage> {
    auth.require(Permission::DeploymentsManage)?;
    let per_page = query.per_page.clamp(1, 200);
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filter = listing_filter(
        auth,
        &query,
        (
            rows::Column::TeamId,
            rows::Column::Status,
            rows::Column::Framework,
        ),
    )
    .add_option(search.map(|q| rows::Column::Name.contains(q.to_lowercase())));
    let total = match search {
        Some(_) => Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(rows::Entity)
            .cond_where(filter.clone())
            .to_owned(),
        // Without a name search the total is a sum over the count table's few rows.
        None => Query::select()
            .expr(Expr::cust("CAST(COALESCE(SUM(n), 0) AS BIGINT)"))
            .from(counts::Entity)
            .cond_where(listing_filter(
                auth,
                &query,
                (
                    counts::Column::TeamId,
                    counts::Column::Status,
                    counts::Column::Framework,
                ),
            ))
            .to_owned(),
    };
    // The page's ids first, from the listing index alone (rows skipped by OFFSET are never
    // joined), then those rows with their names.
    let mut ids = Query::select()
        .column((rows::Entity, rows::Column::Id))
        .from(rows::Entity)
        .cond_where(filter.clone())
        .order_by((rows::Entity, rows::Column::CreatedAt), Order::Desc)
        .order_by((rows::Entity, rows::Column::Id), Order::Desc)
        .limit(per_page)
        .to_owned();
    let page = match query.after {
        Some(after) => {
            ids.and_where(
                Expr::tuple([
                    Expr::col((rows::Entity, rows::Column::CreatedAt)).into(),
                    Expr::col((rows::Entity, rows::Column::Id)).into(),
                ])
                .lt(Expr::tuple([
                    Expr::value(after.created_at),
                    Expr::value(after.id),
                ])),
            );
            after.page + 1
        }
        None => {
            let page = query.page.max(1);
            ids.offset((page - 1) * per_page);
            page
        }
    };
    let select = rows::Entity::find()
        .join(
            JoinType::InnerJoin,
            relation(
                team_rows::Entity,
                rows::Column::TeamId,
                team_rows::Column::Id,
            ),
        )
        .join(
            JoinType::LeftJoin,
            relation(
                project_rows::Entity,
                rows::Column::ProjectId,
                project_rows::Column::Id,
            ),
        )
        .join(
            JoinType::LeftJoin,
            relation(
                server_rows::Entity,
                rows::Column::ServerId,
                server_rows::Column::Id,
            ),
        )
        .column_as(team_rows::Column::Name, "team_name")
        .column_as(team_rows::Column::Slug, "team_slug")
        .column_as(project_rows::Column::Name, "project_name")
        .column_as(project_rows::Column::Url, "project_url")
        .column_as(server_rows::Column::Name, "server_name")
        .column_as(
            SimpleExpr::SubQuery(None, Box::new(total.clone().into_sub_query_statement())),
            "total",
        )
        .filter(rows::Column::Id.in_subquery(ids))
        .order_by_desc(rows::Column::CreatedAt)
        .order_by_desc(rows::Column::Id);
    let found = select.into_model::<Listed>().all(db).await?;
    let total = match found.first() {
        Some(listed) => listed.total.max(0) as u64,
        None => {
            let row = db
                .query_one(db.get_database_backend().build(&total))
                .await?
                .ok_or(DbErr::RecordNotFound("a count".into()))?;
            row.try_get_by_index::<i64>(0)?.max(0) as u64
        }
    };
    let next = (found.len() as u64 == per_page && page * per_page < total)
        .then(|| found.last())
        .flatten()
        .map(|last| Cursor {
            page,
            created_at: last.row.created_at,
            id: last.row.id,
        });
    let items = found
        .into_iter()
        .map(|listed| {
            let team = TeamRef {
                id: listed.row.team_id,
                name: listed.team_name,
                slug: listed.team_slug,
            };
            to_dto(listed.row, team, listed.project, listed.server_name)
        })
        .collect();
    Ok(DeploymentPage {
        items,
        total,
        page,
        per_page,
        next: next.map(|cursor| cursor.encode()),
    })
}

/// `deployments.from = target.to`, for a join the entities do not declare.
fn relation<E: EntityTrait>(target: E, from: rows::Column, to: E::Column) -> RelationDef {
    rows::Entity::belongs_to(target).from(from).to(to).into()
}

/// What a list shows of the caller's teams, the statuses and the framework, on the deployments
/// or on the count table (the same column names on both).
fn listing_filter<Col: ColumnTrait>(
    auth: &AuthUser,
    query: &ListQuery,
    (team, status, framework): (Col, Col, Col),
) -> Condition {
    Condition::all()
        .add_option(teams::scope_filter(auth, team))
        .add_option(match query.status {
            Some(wanted) => Some(status.eq(wanted.as_str())),
            None if query.include_deleted => None,
            None => Some(status.ne(DeploymentStatus::Deleted.as_str())),
        })
        .add_option(query.framework.as_deref().map(|f| framework.eq(f)))
}

pub async fn statistics<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<Statistics> {
    auth.require(Permission::DeploymentsManage)?;
    // Sums over the count table the triggers keep: a few rows per team, not one per deployment.
    let mut counted = counts::Entity::find()
        .select_only()
        .column(counts::Column::Status)
        .column(counts::Column::Framework)
        .column_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), "count")
        .group_by(counts::Column::Status)
        .group_by(counts::Column::Framework)
        .having(Expr::cust("SUM(n) > 0"));
    if let Some(scope) = teams::scope_filter(auth, counts::Column::TeamId) {
        counted = counted.filter(scope);
    }
    let found: Vec<(String, String, i64)> = counted.into_tuple().all(db).await?;
    Ok(tally(found.iter().map(|(status, framework, count)| {
        (
            DeploymentStatus::parse(status).unwrap_or(DeploymentStatus::Failed),
            framework.as_str(),
            (*count).max(0) as u64,
        )
    })))
}

/// The statistics of a set of deployments, given as (status, framework, how many); deleted ones
/// count only in `total` and by status.
pub fn tally<'a>(found: impl Iterator<Item = (DeploymentStatus, &'a str, u64)>) -> Statistics {
    let mut by_status: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_framework: BTreeMap<String, FrameworkCount> = BTreeMap::new();
    let (mut total, mut active, mut running, mut failed, mut ended) = (0, 0, 0, 0, 0);
    for (status, framework, count) in found {
        total += count;
        *by_status.entry(status.as_str().to_owned()).or_default() += count;
        let entry = by_framework
            .entry(framework.to_owned())
            .or_insert_with(|| FrameworkCount {
                framework: framework.to_owned(),
                total: 0,
                running: 0,
            });
        entry.total += count;
        if status.is_active() {
            active += count;
        }
        match status {
            DeploymentStatus::Running => {
                running += count;
                entry.running += count;
                ended += count;
            }
            DeploymentStatus::Stopped => ended += count,
            DeploymentStatus::Failed => {
                failed += count;
                ended += count;
            }
            _ => {}
        }
    }
    let succeeded = ended - failed;
    let mut by_framework: Vec<FrameworkCount> = by_framework.into_values().collect();
    by_framework.sort_by(|a, b| b.total.cmp(&a.total).then(a.framework.cmp(&b.framework)));
    Statistics {
        total,
        active,
        running,
        failed,
        success_rate: (ended > 0)
            .then(|| (succeeded as f64 * 1000.0 / ended as f64).round() / 10.0),
        by_framework,
        by_status,
    }
}

/// Public ports of live deployments on a server.
async fn ports_in_use<C: ConnectionTrait>(db: &C, server_id: Uuid) -> Result<Vec<i32>, DbErr> {
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
async fn enqueue<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    action: &str,
    created_by: Option<Uuid>,
) -> Result<Uuid, DbErr> {
    let execution = executions::create_with_job(
        db,
        JobKind::Deploy,
        NewExecution {
            kind: "deploy",
            target_type: "deployment",
            target_id: row.id,
            team_id: row.team_id,
            created_by,
            script_version_id: None,
            variables: None,
        },
        serde_json::json!({"deployment_id": row.id, "action": action}),
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

/// The team's project for the request: the one named, or the one with that URL, or a new one
/// (whose first sync the deploy job does).
async fn project_for<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    input: &DeployRequest,
    team_id: Option<Uuid>,
) -> ApiResult<project_rows::Model> {
    if let Some(id) = input.project_id {
        return projects::visible(db, auth, id)
            .await
            .map_err(|_| ApiError::field("project_id", "no such project"));
    }
    let url = input.git_url.as_deref().unwrap_or_default().trim();
    let team_id =
        team_id.ok_or_else(|| ApiError::field("team_id", "name the team the app belongs to"))?;
    if let Some(found) = project_rows::Entity::find()
        .filter(project_rows::Column::TeamId.eq(team_id))
        .filter(project_rows::Column::Url.eq(url))
        .one(db)
        .await?
    {
        return Ok(found);
    }
    let mut name = input.name.clone();
    let taken = project_rows::Entity::find()
        .filter(project_rows::Column::TeamId.eq(team_id))
        .filter(project_rows::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .is_some();
    if taken {
        name = format!("{name}-{}", &Uuid::new_v4().simple().to_string()[..6]);
    }
    let create = CreateProject {
        name,
        url: url.to_owned(),
        default_branch: input.branch.clone().unwrap_or_else(|| "main".into()),
        team_id,
        deploy_key: None,
    };
    create.validate()?;
    Ok(project_rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(create.name),
        url: Set(create.url),
        default_branch: Set(create.default_branch),
        deploy_key: Set(None),
        status: Set("new".into()),
        error: Set(None),
        last_commit: Set(None),
        detected_framework: Set(None),
        last_synced_at: Set(None),
        created_by: Set(Some(auth.id())),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?)
}

/// Files (and when the caller may, approves) the server request a deployment onto a new VM or
/// LXC guest waits for. VM or LXC follows the image: a Proxmox LXC template (`…vztmpl…`) makes
/// a container.
async fn request_server(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    input: &DeployRequest,
    team_id: Uuid,
    account_id: Uuid,
) -> ApiResult<Uuid> {
    let account = crate::entities::provider_accounts::Entity::find_by_id(account_id)
        .one(txn)
        .await?
        .ok_or_else(|| ApiError::field("provider_account_id", "no such provider account"))?;
    let image = input.image.clone().unwrap_or_default();
    let settings: shared::providers::ProviderSettings =
        serde_json::from_value(account.settings.clone().unwrap_or_default()).unwrap_or_default();
    let provider_image = settings
        .images
        .get(&image)
        .cloned()
        .unwrap_or(image.clone());
    let container = provider_image.contains("vztmpl");
    let kind = shared::providers::ProviderKind::parse(&account.kind);
    let proxmox = matches!(
        kind,
        Some(
            shared::providers::ProviderKind::Proxmox
                | shared::providers::ProviderKind::TerraformProxmox
        )
    );
    match input.deployment_type {
        DeploymentType::Lxc if !proxmox => {
            return Err(ApiError::field(
                "deployment_type",
                "LXC containers need a Proxmox account",
            ))
        }
        DeploymentType::Lxc if !container => {
            return Err(ApiError::field(
                "image",
                "choose an LXC template for an LXC deployment",
            ))
        }
        DeploymentType::Vm if container => {
            return Err(ApiError::field(
                "image",
                "this image is an LXC template; choose a VM image or deployment type lxc",
            ))
        }
        _ => {}
    }
    let request = shared::requests::CreateServerRequest {
        hostname: input.name.clone(),
        team_id,
        provider_account_id: account_id,
        location: input.location.clone().unwrap_or_default(),
        server_type: None,
        cpu: input.cpu,
        ram_mb: input.ram_mb,
        disk_gb: input.disk_gb,
        image,
        purpose: format!("App deployment {}", input.name),
        ssh_public_keys: vec![],
        notes: String::new(),
        subscription_id: None,
    };
    let id = crate::domain::requests::create_in(txn, state, auth, request).await?;
    let pending = crate::entities::server_requests::Entity::find_by_id(id)
        .one(txn)
        .await?
        .is_some_and(|r| r.status == shared::workflow::RequestStatus::Pending.as_str());
    if pending && auth.can(Permission::RequestsApprove) {
        match crate::domain::requests::approve_in(txn, state, auth, id).await {
            // The team's policy may want someone else's approval too.
            Ok(()) | Err(ApiError::Forbidden) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(id)
}

/// Deployments still waiting for the server of a request.
async fn waiting_for<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
) -> Result<Vec<rows::Model>, DbErr> {
    rows::Entity::find()
        .filter(rows::Column::RequestId.eq(request_id))
        .filter(rows::Column::Status.is_in([
            DeploymentStatus::Pending.as_str(),
            DeploymentStatus::Provisioning.as_str(),
        ]))
        .all(db)
        .await
}

/// Keeps deployments that wait for a server request in step with it: provisioning started, or
/// the request failed, was rejected or cancelled (the deployment fails at "provisioning").
pub async fn follow_request<C: ConnectionTrait>(
    db: &C,
    request_id: Uuid,
    to: shared::workflow::RequestStatus,
    reason: &str,
) -> Result<(), DbErr> {
    use shared::workflow::RequestStatus as R;
    let waiting = waiting_for(db, request_id).await?;
    for row in waiting {
        let moved = match to {
            R::Provisioning => {
                transition(db, &row, DeploymentAction::StartProvisioning, vec![]).await
            }
            R::Failed | R::Rejected | R::Cancelled => {
                let error = if reason.is_empty() {
                    format!("the server request was {}", to.as_str())
                } else {
                    format!("the server request was {}: {reason}", to.as_str())
                };
                transition(
                    db,
                    &row,
                    DeploymentAction::MarkFailed,
                    vec![
                        (rows::Column::FailedStep, Expr::value("provisioning")),
                        (rows::Column::Error, Expr::value(error)),
                    ],
                )
                .await
            }
            _ => continue,
        };
        if let Err(ApiError::Internal(e)) = moved {
            return Err(DbErr::Custom(e.to_string()));
        }
    }
    Ok(())
}

/// The server a deployment waited for is ready: it gets its ports and the deploy job starts.
pub async fn server_ready<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    request_id: Uuid,
    server_id: Uuid,
) -> Result<(), DbErr> {
    let waiting = waiting_for(db, request_id).await?;
    for row in waiting {
        let used = ports_in_use(db, server_id).await?;
        let Ok(port) = free_port(state.config.deploy.first_port, &used, None) else {
            continue;
        };
        rows::Entity::update_many()
            .col_expr(rows::Column::ServerId, Expr::value(server_id))
            .col_expr(rows::Column::Port, Expr::value(port))
            .col_expr(rows::Column::AppPort, Expr::value(port + APP_PORT_OFFSET))
            .filter(rows::Column::Id.eq(row.id))
            .exec(db)
            .await?;
        enqueue(db, &row, "deploy", row.created_by).await?;
    }
    Ok(())
}

/// `POST /api/deploy`: the deployment, and its execution and first job — or, onto a new server,
/// the server request it waits for.
pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    input: DeployRequest,
) -> ApiResult<(Deployment, Option<Uuid>)> {
    auth.require(Permission::DeploymentsManage)?;
    input.validate()?;
    if let Some(url) = &input.git_url {
        projects::check_git_url(state, url)
            .await
            .map_err(|e| ApiError::field("git_url", e))?;
    }
    if let Some(slug) = &input.framework {
        if !frameworks::all().iter().any(|f| &f.slug == slug) {
            let known: Vec<&str> = frameworks::all().iter().map(|f| f.slug.as_str()).collect();
            return Err(ApiError::field(
                "framework",
                format!("must be one of {}", known.join(", ")),
            ));
        }
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let server = match input.server_id {
        Some(id) => Some(
            servers::visible(&txn, auth, id)
                .await
                .map_err(|_| ApiError::field("server_id", "no such server"))?,
        ),
        None => None,
    };
    let team_id = input.team_id.or(server.as_ref().map(|s| s.team_id));
    let project = project_for(&txn, auth, &input, team_id).await?;
    let team_id = team_id.unwrap_or(project.team_id);
    if !teams::may_use_team(&txn, auth, team_id).await? {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    if project.team_id != team_id {
        return Err(ApiError::field(
            "project_id",
            "the project belongs to another team than the deployment",
        ));
    }
    let mut port = None;
    if let Some(server) = &server {
        if server.team_id != team_id {
            return Err(ApiError::field(
                "server_id",
                "the server belongs to another team than the deployment",
            ));
        }
        if servers::status_of(server) != shared::servers::ServerStatus::Running
            || server.ipv4.is_none()
        {
            return Err(ApiError::field(
                "server_id",
                "the server must be running and have an address",
            ));
        }
        let used = ports_in_use(&txn, server.id).await?;
        port = Some(
            free_port(state.config.deploy.first_port, &used, input.port)
                .map_err(|e| ApiError::field("port", e))?,
        );
    }
    let taken = rows::Entity::find()
        .filter(rows::Column::TeamId.eq(team_id))
        .filter(rows::Column::Name.eq(input.name.as_str()))
        .filter(rows::Column::Status.ne(DeploymentStatus::Deleted.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(ApiError::field(
            "name",
            "a deployment of this team already has this name",
        ));
    }
    // A new server: a server request in the same transaction, approved at once when the caller
    // may approve; the deployment waits PENDING for it and follows it (see `follow_request`).
    let request_id = match input.provider_account_id {
        Some(account_id) => {
            Some(request_server(&txn, state, auth, &input, team_id, account_id).await?)
        }
        None => None,
    };
    let now = chrono::Utc::now();
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(input.name.clone()),
        project_id: Set(project.id),
        branch: Set(input
            .branch
            .clone()
            .unwrap_or_else(|| project.default_branch.clone())),
        commit_sha: Set(input.commit.clone()),
        // Empty: detected from the checkout when the job runs.
        framework: Set(input
            .framework
            .clone()
            .or(project.detected_framework.clone())
            .unwrap_or_default()),
        module: Set(input.module.clone()),
        deployment_type: Set(input.deployment_type.as_str().into()),
        cpu: Set(input.cpu.map(|v| v as i32)),
        ram_mb: Set(input.ram_mb.map(|v| v as i32)),
        disk_gb: Set(input.disk_gb.map(|v| v as i32)),
        status: Set(DeploymentStatus::Pending.as_str().into()),
        failed_step: Set(None),
        error: Set(None),
        server_id: Set(server.as_ref().map(|s| s.id)),
        request_id: Set(request_id),
        port: Set(port),
        app_port: Set(port.map(|p| p + APP_PORT_OFFSET)),
        url: Set(None),
        env: Set(seal_env(state, &input.env)?),
        execution_id: Set(None),
        created_by: Set(Some(auth.id())),
        created_at: Set(now),
        updated_at: Set(now),
        deployed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let execution = match request_id {
        None => Some(enqueue(&txn, &row, "deploy", Some(auth.id())).await?),
        Some(_) => None,
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "deployment.create",
            target_type: "deployment",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({
                "name": row.name, "project": project.url, "branch": row.branch,
                "commit": row.commit_sha, "framework": row.framework,
                "server_id": row.server_id, "request_id": row.request_id, "port": row.port,
                "env": env_names(&row),
            })),
        },
    )
    .await?;
    txn.commit().await?;
    let row = rows::Entity::find_by_id(row.id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((dto(&state.db, row).await?, execution))
}

/// One conditional UPDATE: the row moves only from the state `action` allows.
pub async fn transition<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    action: DeploymentAction,
    extra: Vec<(rows::Column, SimpleExpr)>,
) -> ApiResult<DeploymentStatus> {
    let from = status_of(row);
    let to = next_status(from, action).ok_or_else(|| {
        ApiError::Conflict(format!(
            "the deployment is {}; {:?} is not possible now",
            from.as_str(),
            action
        ))
    })?;
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(to.as_str()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    for (column, value) in extra {
        update = update.col_expr(column, value);
    }
    let moved = update
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?
        .rows_affected;
    if moved == 1 {
        Ok(to)
    } else {
        Err(ApiError::Conflict(
            "the deployment changed meanwhile; reload it".into(),
        ))
    }
}

/// A step (stop, start) already queued or running for the deployment.
async fn busy<C: ConnectionTrait>(db: &C, row: &rows::Model) -> Result<bool, DbErr> {
    let Some(id) = row.execution_id else {
        return Ok(false);
    };
    Ok(execution_rows::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|e| {
            !shared::servers::ExecutionStatus::parse(&e.status).is_some_and(|s| s.is_finished())
        }))
}

#[derive(Debug, Clone)]
pub enum UserAction {
    Stop,
    Start,
    Redeploy(Redeploy),
    Delete,
}

/// Stop, start, redeploy or delete: checks the state, moves it where the action moves it at once
/// (redeploy → DEPLOYING, delete → DELETING) and queues the job that does the work.
pub async fn act(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    action: UserAction,
) -> ApiResult<(Deployment, Uuid)> {
    auth.require(Permission::DeploymentsManage)?;
    if let UserAction::Redeploy(r) = &action {
        r.validate()?;
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let from = status_of(&row);
    if busy(&txn, &row).await? {
        return Err(ApiError::Conflict(
            "another step of this deployment is still running".into(),
        ));
    }
    if row.server_id.is_none() && !matches!(action, UserAction::Delete) {
        return Err(ApiError::Conflict(
            "the deployment has no server yet: follow (or retry) its server request".into(),
        ));
    }
    let (name, job_action) = match &action {
        UserAction::Stop => ("deployment.stop", "stop"),
        UserAction::Start => ("deployment.start", "start"),
        UserAction::Redeploy(_) => ("deployment.redeploy", "deploy"),
        UserAction::Delete => ("deployment.delete", "remove"),
    };
    match &action {
        UserAction::Stop => {
            next_status(from, DeploymentAction::Stop).ok_or_else(|| not_now(from, "stopped"))?;
        }
        UserAction::Start => {
            next_status(from, DeploymentAction::Start).ok_or_else(|| not_now(from, "started"))?;
        }
        UserAction::Redeploy(r) => {
            let mut extra = vec![
                (rows::Column::CommitSha, Expr::value(r.commit.clone())),
                (
                    rows::Column::FailedStep,
                    Expr::value(Option::<String>::None),
                ),
                (rows::Column::Error, Expr::value(Option::<String>::None)),
            ];
            if let Some(branch) = &r.branch {
                extra.push((rows::Column::Branch, Expr::value(branch.clone())));
            }
            transition(&txn, &row, DeploymentAction::Redeploy, extra).await?;
        }
        UserAction::Delete => {
            transition(&txn, &row, DeploymentAction::Delete, vec![]).await?;
        }
    }
    let execution = enqueue(&txn, &row, job_action, Some(auth.id())).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: name,
            target_type: "deployment",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"status": from.as_str(), "commit": row.commit_sha})),
            after: match &action {
                UserAction::Redeploy(r) => {
                    Some(serde_json::json!({"commit": r.commit, "branch": r.branch}))
                }
                _ => None,
            },
        },
    )
    .await?;
    txn.commit().await?;
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((dto(&state.db, row).await?, execution))
}

fn not_now(from: DeploymentStatus, what: &str) -> ApiError {
    ApiError::Conflict(format!(
        "a {} deployment cannot be {what}",
        from.as_str().to_lowercase()
    ))
}

/// The executions of a deployment, newest first.
pub async fn executions_of<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
) -> Result<Vec<execution_rows::Model>, DbErr> {
    execution_rows::Entity::find()
        .filter(execution_rows::Column::TargetType.eq("deployment"))
        .filter(execution_rows::Column::TargetId.eq(id))
        .order_by_desc(execution_rows::Column::CreatedAt)
        .all(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

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
