//! Git projects of a team: validated URLs, sealed deploy keys, a checkout per project kept in the
//! configured folder and refreshed by `project_sync` jobs, and the framework detected in it.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::domain::jobs::JobKind;
use crate::domain::teams;
use crate::entities::projects as rows;
use crate::error::{ApiError, ApiResult};
use crate::exec::git;
use crate::exec::log::LogSink;
use crate::exec::network_policy::{self, Purpose};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Select, Set,
};
use shared::frameworks::RepoFacts;
use shared::projects::{Commit, CreateProject, Project, ProjectDetail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

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

async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<rows::Model>,
) -> Result<Vec<Project>, DbErr> {
    let teams = teams::refs_of(db, found.iter().map(|p| p.team_id)).await?;
    Ok(found
        .into_iter()
        .filter_map(|row| {
            Some(Project {
                team: teams.get(&row.team_id)?.clone(),
                id: row.id,
                name: row.name,
                url: row.url,
                default_branch: row.default_branch,
                has_deploy_key: row.deploy_key.is_some(),
                status: row.status,
                error: row.error,
                last_commit: row.last_commit.and_then(|c| serde_json::from_value(c).ok()),
                detected_framework: row.detected_framework,
                last_synced_at: row.last_synced_at,
                created_at: row.created_at,
            })
        })
        .collect())
}

pub async fn list<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<Vec<Project>> {
    let found = scope(auth).order_by_asc(rows::Column::Name).all(db).await?;
    Ok(to_dtos(db, found).await?)
}

pub fn checkout(state: &AppState, id: Uuid) -> PathBuf {
    git::checkout_dir(&state.config.projects_dir, id)
}

pub async fn detail(state: &AppState, row: rows::Model) -> ApiResult<ProjectDetail> {
    let dir = checkout(state, row.id);
    let (branches, commits) = if dir.join(".git").is_dir() {
        (
            git::branches(&dir).await.unwrap_or_default(),
            git::log(&dir, 20).await.unwrap_or_default(),
        )
    } else {
        (vec![], vec![])
    };
    Ok(ProjectDetail {
        project: to_dtos(&state.db, vec![row]).await?.remove(0),
        branches,
        commits,
    })
}

/// Writes the execution and job that clone or pull the project.
async fn enqueue_sync<C: ConnectionTrait>(
    db: &C,
    row: &rows::Model,
    created_by: Option<Uuid>,
) -> Result<Uuid, DbErr> {
    executions::create_with_job(
        db,
        JobKind::ProjectSync,
        NewExecution {
            kind: "project_sync",
            target_type: "project",
            target_id: row.id,
            team_id: row.team_id,
            created_by,
            script_version_id: None,
            variables: None,
        },
        serde_json::json!({"project_id": row.id}),
    )
    .await
}

/// Refuses a Git URL whose host the network policy denies (a literal private address, or a
/// name resolving to one), as a message for the field that holds it.
pub async fn check_git_url(state: &AppState, url: &str) -> Result<(), String> {
    let Some((host, port)) = network_policy::git_destination(url.trim()) else {
        return Err("names no host".into());
    };
    state
        .config
        .network
        .check_on_save(Purpose::Git, &host, port)
        .await
        .map_err(|refused| refused.0)
}

/// Checks the URL's host against the network policy right before git connects, and returns the
/// checked address git must use, so a second resolution cannot send it elsewhere.
async fn clear_git_host(state: &AppState, url: &str) -> Result<Option<git::Pin>, String> {
    let (host, port) = network_policy::git_destination(url)
        .ok_or_else(|| "the project's URL names no host".to_owned())?;
    let cleared = state
        .config
        .network
        .resolve(Purpose::Git, &host, port)
        .await
        .map_err(|refused| format!("not connecting: {}", refused.0))?;
    if host
        .trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .is_ok()
    {
        // A literal address cannot resolve elsewhere.
        return Ok(None);
    }
    Ok(git::Pin::new(&host, port, cleared.pinned))
}

pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    input: CreateProject,
) -> ApiResult<(ProjectDetail, Uuid)> {
    input.validate()?;
    check_git_url(state, &input.url)
        .await
        .map_err(|e| ApiError::field("url", e))?;
    let txn = crate::db::begin_write(&state.db).await?;
    if !teams::may_use_team(&txn, auth, input.team_id).await? {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    let taken = rows::Entity::find()
        .filter(rows::Column::TeamId.eq(input.team_id))
        .filter(rows::Column::Name.eq(input.name.trim()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(ApiError::field(
            "name",
            "a project of this team already has this name",
        ));
    }
    let deploy_key = input
        .deploy_key
        .as_deref()
        .map(|k| crate::crypto::seal(&state.keys.master_key, k))
        .transpose()?;
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(input.team_id),
        name: Set(input.name.trim().to_owned()),
        url: Set(input.url.trim().to_owned()),
        default_branch: Set(input.default_branch.clone()),
        deploy_key: Set(deploy_key),
        status: Set("syncing".into()),
        error: Set(None),
        last_commit: Set(None),
        detected_framework: Set(None),
        last_synced_at: Set(None),
        created_by: Set(Some(auth.id())),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(&txn)
    .await?;
    let execution = enqueue_sync(&txn, &row, Some(auth.id())).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "project.create",
            target_type: "project",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"name": row.name, "url": row.url, "default_branch": row.default_branch, "deploy_key": row.deploy_key.is_some()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok((detail(state, row).await?, execution))
}

pub async fn sync(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value("syncing"))
        .filter(rows::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    let execution = enqueue_sync(&txn, &row, Some(auth.id())).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "project.sync",
            target_type: "project",
            target_id: Some(row.id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution)
}

pub async fn remove(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    rows::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "project.delete",
            target_type: "project",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"name": row.name, "url": row.url})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    let dir = checkout(state, row.id);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("removing {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// What the checkout's top level declares, for framework detection.
/// One git at a time per checkout (a deploy and a sync of the same project would fight over
/// its lock files).
fn checkout_lock(id: Uuid) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static LOCKS: std::sync::OnceLock<
        std::sync::Mutex<HashMap<Uuid, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    > = std::sync::OnceLock::new();
    LOCKS
        .get_or_init(Default::default)
        .lock()
        .expect("checkout locks")
        .entry(id)
        .or_default()
        .clone()
}

/// Clones the project on first use, else fetches every branch and moves the checkout to the
/// default branch; git's output goes to `log`. Returns the checkout folder.
pub async fn fetch(state: &AppState, row: &rows::Model, log: &LogSink) -> Result<PathBuf, String> {
    let lock = checkout_lock(row.id);
    let _held = lock.lock().await;
    let configured = &state.config.projects_dir;
    std::fs::create_dir_all(configured)
        .map_err(|e| format!("cannot create {}: {e}", configured.display()))?;
    // Absolute, because git and ssh run from other folders.
    let root = &std::fs::canonicalize(configured).map_err(|e| e.to_string())?;
    let dir = git::checkout_dir(root, row.id);
    // The deploy key lives on disk (0600) only while git runs.
    let key_dir = tempfile::Builder::new()
        .prefix("provisio-git-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let key_file = match &row.deploy_key {
        Some(sealed) => {
            let key = state
                .keys
                .open(sealed)
                .map_err(|e| format!("the deploy key cannot be opened: {e}"))?;
            Some(git::write_key_file(key_dir.path(), &key)?)
        }
        None => None,
    };
    let pin = clear_git_host(state, &row.url).await?;
    let remote = git::Remote {
        url: &row.url,
        key_file: key_file.as_deref(),
        known_hosts: &root.join("known_hosts"),
        pin: pin.as_ref(),
    };
    // No default branch yet: the remote's, which only a fresh clone learns.
    let learn_branch = row.default_branch.is_empty();
    let fresh = learn_branch || !dir.join(".git").is_dir();
    let branch_shown = if learn_branch {
        "its default branch"
    } else {
        &row.default_branch
    };
    log.step(&if fresh {
        format!("cloning {} ({branch_shown})", row.url)
    } else {
        format!("pulling {} ({branch_shown})", row.url)
    })
    .await;
    if fresh && dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    }
    let result = if fresh {
        git::clone(&remote, &row.default_branch, &dir).await
    } else {
        git::pull(&remote, &row.default_branch, &dir).await
    };
    let output = result?;
    for line in output.stderr.lines().chain(output.stdout.lines()) {
        if !line.trim().is_empty() {
            log.line("stdout", line).await;
        }
    }
    if learn_branch {
        let branch = git::remote_default_branch(&dir).await?;
        log.info(&format!("default branch: {branch}")).await;
        // Only while it is still unknown: a branch someone set meanwhile stays.
        rows::Entity::update_many()
            .col_expr(rows::Column::DefaultBranch, Expr::value(branch))
            .filter(rows::Column::Id.eq(row.id))
            .filter(rows::Column::DefaultBranch.eq(""))
            .exec(&state.db)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

/// Pushes `branch` of the checkout to the project's URL with its deploy key, or the platform's
/// service key where the Git host lets that key write. Returns git's report.
pub async fn push_checkout(
    state: &AppState,
    row: &rows::Model,
    branch: &str,
) -> Result<String, String> {
    let lock = checkout_lock(row.id);
    let _held = lock.lock().await;
    let root = std::fs::canonicalize(&state.config.projects_dir).map_err(|e| e.to_string())?;
    let dir = git::checkout_dir(&root, row.id);
    if !dir.join(".git").is_dir() {
        return Err("the project has no checkout yet; sync it first".into());
    }
    let key = match &row.deploy_key {
        Some(sealed) => state
            .keys
            .open(sealed)
            .map_err(|e| format!("the deploy key cannot be opened: {e}"))?,
        None => crate::domain::ssh_keys::service_key(state)
            .await
            .map(|(_, private)| private)
            .map_err(|e| format!("the service key: {e}"))?,
    };
    let key_dir = tempfile::Builder::new()
        .prefix("provisio-git-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let key_file = git::write_key_file(key_dir.path(), &key)?;
    let pin = clear_git_host(state, &row.url).await?;
    let remote = git::Remote {
        url: &row.url,
        key_file: Some(&key_file),
        known_hosts: &root.join("known_hosts"),
        pin: pin.as_ref(),
    };
    let output = git::push(&remote, branch, &dir).await?;
    Ok(format!("{}{}", output.stdout, output.stderr))
}

/// Queues a push of `branch` (default: the project's default branch) from the checkout.
pub async fn push(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    branch: Option<String>,
) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let branch = branch.unwrap_or_else(|| row.default_branch.clone());
    shared::projects::branch_name(&branch).map_err(|e| ApiError::field("branch", e))?;
    let execution = executions::create_with_job(
        &txn,
        JobKind::ProjectPush,
        NewExecution {
            kind: "project_push",
            target_type: "project",
            target_id: row.id,
            team_id: row.team_id,
            created_by: Some(auth.id()),
            script_version_id: None,
            variables: None,
        },
        serde_json::json!({"project_id": row.id, "branch": branch}),
    )
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "project.push",
            target_type: "project",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"branch": branch})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution)
}

pub fn facts_of(dir: &Path) -> RepoFacts {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // Manifests are small; a huge one is not read.
    let read = |name: &str| {
        let path = dir.join(name);
        let small = std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() < 1024 * 1024);
        small.then(|| std::fs::read_to_string(path).ok()).flatten()
    };
    RepoFacts::new(
        &names,
        read("package.json").as_deref(),
        read("requirements.txt").as_deref(),
        read("composer.json").as_deref(),
    )
}

/// Records a finished sync: the newest commit and the detected framework.
pub async fn record_sync<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    commit: Option<&Commit>,
    framework: Option<&str>,
) -> Result<(), DbErr> {
    rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value("ready"))
        .col_expr(rows::Column::Error, Expr::value(Option::<String>::None))
        .col_expr(
            rows::Column::LastCommit,
            Expr::value(commit.map(|c| serde_json::json!(c))),
        )
        .col_expr(
            rows::Column::DetectedFramework,
            Expr::value(framework.map(str::to_owned)),
        )
        .col_expr(rows::Column::LastSyncedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn record_failure<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    error: &str,
) -> Result<(), DbErr> {
    rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value("error"))
        .col_expr(
            rows::Column::Error,
            Expr::value(error.chars().take(2000).collect::<String>()),
        )
        .filter(rows::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
