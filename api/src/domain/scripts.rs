//! Deployment scripts: versioned playbooks with a typed variable schema, validated on save
//! (YAML, then `ansible-playbook --syntax-check`), and their runs on servers: one execution,
//! one target row per server (which later holds its recap), one `playbook` job.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::executions::{self, NewExecution};
use crate::domain::teams;
use crate::domain::{jobs, servers};
use crate::entities::{
    execution_targets, executions as execution_rows, script_versions, scripts as rows,
    servers as server_rows, teams as team_rows, users,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Select, Set,
};
use serde_json::Value;
use shared::dto::{Page, PageQuery};
use shared::scripts::{
    self as rules, HostRecap, PlaybookRun, RunScript, SaveScript, Script, ScriptSummary,
    ScriptVersion, ScriptVersionRef, VariableKind, VariableSpec,
};
use shared::servers::ServerStatus;
use shared::Permission;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// Sealed secret values are stored as `{"$sealed": "v1:…"}`.
pub const SEALED: &str = "$sealed";

/// Execution kinds that are playbook runs.
pub const RUN_KINDS: [&str; 3] = ["playbook", "backup", "system_update"];

#[derive(serde::Deserialize)]
struct Sample {
    file: String,
    name: String,
    description: String,
    variables: Vec<VariableSpec>,
}

#[derive(rust_embed::RustEmbed)]
#[folder = "../playbooks/"]
#[include = "*.yml"]
#[include = "samples.json"]
struct Samples;

fn sample_file(name: &str) -> Option<String> {
    Samples::get(name).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// Inserts the shipped samples into the Global team when a script of that name is missing.
pub async fn seed_samples<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let Some(global) = teams::global_team(db).await? else {
        return Ok(());
    };
    let manifest: Vec<Sample> = sample_file("samples.json")
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    for sample in manifest {
        let Some(content) = sample_file(&sample.file) else {
            continue;
        };
        let exists = rows::Entity::find()
            .filter(rows::Column::TeamId.eq(global.id))
            .filter(rows::Column::Name.eq(sample.name.clone()))
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let now = chrono::Utc::now();
        let id = Uuid::new_v4();
        let inserted = rows::Entity::insert(rows::ActiveModel {
            id: Set(id),
            team_id: Set(global.id),
            name: Set(sample.name),
            description: Set(sample.description),
            current_version: Set(1),
            builtin: Set(true),
            created_by: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([rows::Column::TeamId, rows::Column::Name])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec(db)
        .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
            insert_version(db, id, 1, &content, &sample.variables, None).await?;
        }
    }
    Ok(())
}

/// A shipped sample by name (the maintenance operations run these).
pub async fn builtin<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<rows::Model>, DbErr> {
    rows::Entity::find()
        .filter(rows::Column::Builtin.eq(true))
        .filter(rows::Column::Name.eq(name))
        .one(db)
        .await
}

async fn insert_version<C: ConnectionTrait>(
    db: &C,
    script_id: Uuid,
    version: i32,
    content: &str,
    variables: &[VariableSpec],
    created_by: Option<Uuid>,
) -> Result<(), DbErr> {
    script_versions::ActiveModel {
        id: Set(Uuid::new_v4()),
        script_id: Set(script_id),
        version: Set(version),
        content: Set(content.to_owned()),
        variables: Set(serde_json::to_value(variables).unwrap_or(Value::Array(vec![]))),
        created_by: Set(created_by),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
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

fn variables_of(row: &script_versions::Model) -> Vec<VariableSpec> {
    serde_json::from_value(row.variables.clone()).unwrap_or_default()
}

/// The variables the current version of `script` declares.
pub async fn current_variables<C: ConnectionTrait>(
    db: &C,
    script: &rows::Model,
) -> ApiResult<Vec<VariableSpec>> {
    Ok(variables_of(
        &version_of(db, script.id, script.current_version).await?,
    ))
}

async fn team_refs<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, shared::dto::TeamRef>, DbErr> {
    Ok(team_rows::Entity::find()
        .filter(team_rows::Column::Id.is_in(ids))
        .all(db)
        .await?
        .iter()
        .map(|t| (t.id, teams::to_ref(t)))
        .collect())
}

async fn usernames<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    Ok(users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect())
}

pub async fn version_of<C: ConnectionTrait>(
    db: &C,
    script_id: Uuid,
    version: i32,
) -> ApiResult<script_versions::Model> {
    script_versions::Entity::find()
        .filter(script_versions::Column::ScriptId.eq(script_id))
        .filter(script_versions::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn version_dto<C: ConnectionTrait>(
    db: &C,
    row: script_versions::Model,
) -> Result<ScriptVersion, DbErr> {
    let names = usernames(db, row.created_by).await?;
    Ok(ScriptVersion {
        version: row.version,
        variables: variables_of(&row),
        created_by: row.created_by.and_then(|id| names.get(&id).cloned()),
        content: row.content,
        created_at: row.created_at,
    })
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    query: &PageQuery,
) -> ApiResult<Page<ScriptSummary>> {
    let (page, per_page) = super::listing::paging(query.page, query.per_page)?;
    let mut select = scope(db, auth).await?;
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        select = select.filter(rows::Column::Name.like(super::listing::like_pattern(q)));
    }
    let total = select.clone().count(db).await?;
    let found = select
        .order_by_asc(rows::Column::Name)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    let teams = team_refs(db, found.iter().map(|s| s.team_id)).await?;
    let versions: HashMap<(Uuid, i32), usize> = script_versions::Entity::find()
        .filter(script_versions::Column::ScriptId.is_in(found.iter().map(|s| s.id)))
        .all(db)
        .await?
        .iter()
        .map(|v| ((v.script_id, v.version), variables_of(v).len()))
        .collect();
    let items = found
        .into_iter()
        .filter_map(|row| {
            Some(ScriptSummary {
                team: teams.get(&row.team_id)?.clone(),
                variables: versions
                    .get(&(row.id, row.current_version))
                    .copied()
                    .unwrap_or(0),
                id: row.id,
                name: row.name,
                description: row.description,
                version: row.current_version,
                builtin: row.builtin,
                updated_at: row.updated_at,
            })
        })
        .collect();
    Ok(Page {
        items,
        total,
        page,
        per_page,
    })
}

pub async fn detail<C: ConnectionTrait>(db: &C, row: rows::Model) -> ApiResult<Script> {
    let versions = script_versions::Entity::find()
        .filter(script_versions::Column::ScriptId.eq(row.id))
        .order_by_desc(script_versions::Column::Version)
        .all(db)
        .await?;
    let names = usernames(db, versions.iter().filter_map(|v| v.created_by)).await?;
    let current = versions
        .iter()
        .find(|v| v.version == row.current_version)
        .cloned()
        .ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "script {} lost its current version",
                row.id
            ))
        })?;
    let team = team_refs(db, [row.team_id])
        .await?
        .remove(&row.team_id)
        .ok_or(ApiError::NotFound)?;
    Ok(Script {
        id: row.id,
        team,
        name: row.name,
        description: row.description,
        builtin: row.builtin,
        current: version_dto(db, current).await?,
        versions: versions
            .iter()
            .map(|v| ScriptVersionRef {
                version: v.version,
                created_by: v.created_by.and_then(|id| names.get(&id).cloned()),
                created_at: v.created_at,
            })
            .collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Everything a save checks: fields and schema, the YAML, then Ansible's own syntax check.
pub async fn check(state: &AppState, input: &SaveScript) -> ApiResult<()> {
    input.validate()?;
    crate::exec::ansible::parse_playbook(&input.content)
        .map_err(|e| ApiError::field("content", e))?;
    match crate::exec::ansible::syntax_check(&state.config.ansible.playbook_bin, &input.content)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.starts_with("cannot start") => Err(ApiError::Unavailable(format!(
            "ansible-playbook is not available on the server: {e}"
        ))),
        Err(e) => Err(ApiError::field("content", e)),
    }
}

/// Whether another script of `team` already has `name`.
async fn name_in_use<C: ConnectionTrait>(
    db: &C,
    team: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, DbErr> {
    let mut select = rows::Entity::find()
        .filter(rows::Column::TeamId.eq(team))
        .filter(rows::Column::Name.eq(name));
    if let Some(id) = except {
        select = select.filter(rows::Column::Id.ne(id));
    }
    Ok(select.one(db).await?.is_some())
}

fn name_taken() -> ApiError {
    ApiError::field("name", "a script of this team already has this name")
}

pub async fn create(state: &AppState, auth: &AuthUser, input: SaveScript) -> ApiResult<Script> {
    check(state, &input).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let team_id = match input.team_id {
        Some(team) => {
            if !teams::may_use_team(&txn, auth, team).await? {
                return Err(ApiError::field(
                    "team_id",
                    "you are not a member of this team",
                ));
            }
            team
        }
        None => match teams::team_ids_of(&txn, auth.id()).await?.first() {
            Some(team) => *team,
            None => {
                teams::global_team(&txn)
                    .await?
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("no Global team")))?
                    .id
            }
        },
    };
    if name_in_use(&txn, team_id, input.name.trim(), None).await? {
        return Err(name_taken());
    }
    let now = chrono::Utc::now();
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(input.name.trim().to_owned()),
        description: Set(input.description.trim().to_owned()),
        current_version: Set(1),
        builtin: Set(false),
        created_by: Set(Some(auth.id())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    insert_version(
        &txn,
        row.id,
        1,
        &input.content,
        &input.variables,
        Some(auth.id()),
    )
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "script.create",
            target_type: "script",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"name": row.name, "version": 1})),
        },
    )
    .await?;
    let dto = detail(&txn, row).await?;
    txn.commit().await?;
    Ok(dto)
}

/// Saves an edit: name and description in place; a changed playbook or schema becomes the next
/// version (one conditional UPDATE on the version number, so concurrent edits cannot both win).
pub async fn update(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: SaveScript,
) -> ApiResult<Script> {
    check(state, &input).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let current = version_of(&txn, row.id, row.current_version).await?;
    let changed = current.content != input.content || variables_of(&current) != input.variables;
    let name = input.name.trim().to_owned();
    if name != row.name && name_in_use(&txn, row.team_id, &name, Some(row.id)).await? {
        return Err(name_taken());
    }
    let next = if changed {
        row.current_version + 1
    } else {
        row.current_version
    };
    let moved = rows::Entity::update_many()
        .col_expr(rows::Column::Name, Expr::value(name.clone()))
        .col_expr(
            rows::Column::Description,
            Expr::value(input.description.trim().to_owned()),
        )
        .col_expr(rows::Column::CurrentVersion, Expr::value(next))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::CurrentVersion.eq(row.current_version))
        .exec(&txn)
        .await?
        .rows_affected;
    if moved == 0 {
        return Err(ApiError::Conflict(
            "the script was changed meanwhile; reload it and save again".into(),
        ));
    }
    if changed {
        insert_version(
            &txn,
            row.id,
            next,
            &input.content,
            &input.variables,
            Some(auth.id()),
        )
        .await?;
    }
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "script.update",
            target_type: "script",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"name": row.name, "version": row.current_version})),
            after: Some(serde_json::json!({"name": name, "version": next})),
        },
    )
    .await?;
    let updated = visible(&txn, auth, id).await?;
    let dto = detail(&txn, updated).await?;
    txn.commit().await?;
    Ok(dto)
}

pub async fn remove(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if row.builtin {
        return Err(ApiError::Conflict(
            "shipped samples cannot be deleted; edit them instead".into(),
        ));
    }
    // Versions stay: past runs keep showing what they ran.
    rows::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "script.delete",
            target_type: "script",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"name": row.name, "version": row.current_version})),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub fn seal_secrets(
    state: &AppState,
    schema: &[VariableSpec],
    values: BTreeMap<String, Value>,
) -> ApiResult<Value> {
    let mut stored = serde_json::Map::new();
    for (name, value) in values {
        let secret = schema
            .iter()
            .any(|s| s.name == name && s.kind == VariableKind::Secret);
        let value = if secret {
            let plain = value.as_str().unwrap_or_default();
            serde_json::json!({ SEALED: crate::crypto::seal(&state.keys.master_key, plain)? })
        } else {
            value
        };
        stored.insert(name, value);
    }
    Ok(Value::Object(stored))
}

/// The stored variables with secrets opened (for the run) — never for an answer.
pub fn open_variables(state: &AppState, stored: &Value) -> Result<BTreeMap<String, Value>, String> {
    let mut values = BTreeMap::new();
    for (name, value) in stored.as_object().into_iter().flatten() {
        let value = match value.get(SEALED).and_then(Value::as_str) {
            Some(sealed) => Value::String(
                state
                    .keys
                    .open(sealed)
                    .map_err(|e| format!("a secret variable cannot be opened: {e}"))?,
            ),
            None => value.clone(),
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// The plain values of the secret variables in `stored`, for log redaction.
pub fn secret_values(state: &AppState, stored: &Value) -> Vec<String> {
    stored
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, v)| v.get(SEALED)?.as_str())
        .filter_map(|sealed| state.keys.open(sealed).ok())
        .collect()
}

/// Stored variables as every answer shows them: sealed secrets masked.
pub fn masked(stored: &Value) -> BTreeMap<String, Value> {
    stored
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let shown = if v.get(SEALED).is_some() {
                Value::String(rules::SECRET_MASK.into())
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

/// What a run is: checked by `plan_run`, then written by `enqueue_run`.
pub struct RunPlan {
    /// The servers' team, which the run belongs to.
    pub team_id: Uuid,
    pub kind: &'static str,
    pub script: rows::Model,
    pub version: script_versions::Model,
    pub servers: Vec<server_rows::Model>,
    /// Stored form (secrets sealed).
    pub variables: Value,
    pub timeout_secs: u32,
    pub created_by: Option<Uuid>,
}

pub const DEFAULT_TIMEOUT_SECS: u32 = 1800;

/// Checks servers and variables of a run; `servers_in_scope` are the servers the caller may use.
pub async fn plan_run<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    kind: &'static str,
    script: rows::Model,
    input: &RunScript,
    servers_in_scope: Select<server_rows::Entity>,
    created_by: Option<Uuid>,
) -> ApiResult<RunPlan> {
    input.validate()?;
    let version = match input.version {
        Some(v) => version_of(db, script.id, v)
            .await
            .map_err(|_| ApiError::field("version", format!("version {v} does not exist")))?,
        None => version_of(db, script.id, script.current_version).await?,
    };
    let schema = variables_of(&version);
    let values = rules::resolve_values(&schema, &input.variables).map_err(ApiError::Validation)?;
    let found = servers_in_scope
        .filter(server_rows::Column::Id.is_in(input.server_ids.iter().copied()))
        .all(db)
        .await?;
    let mut problems = Vec::new();
    for id in &input.server_ids {
        match found.iter().find(|s| &s.id == id) {
            None => problems.push(format!("server {id} does not exist")),
            Some(s) if s.ipv4.is_none() => problems.push(format!("{} has no address", s.name)),
            Some(s) if servers::status_of(s) != ServerStatus::Running => {
                problems.push(format!("{} is {}, not running", s.name, s.status))
            }
            Some(_) => {}
        }
    }
    // A run belongs to its servers' team: whoever may see it may see every server it touched.
    let mut teams: Vec<Uuid> = found.iter().map(|s| s.team_id).collect();
    teams.sort_unstable();
    teams.dedup();
    if teams.len() > 1 {
        problems.push("the servers of one run must belong to one team".into());
    }
    if !problems.is_empty() {
        return Err(ApiError::field("server_ids", problems.join("; ")));
    }
    let mut servers = found;
    servers.sort_by_key(|s| input.server_ids.iter().position(|id| id == &s.id));
    servers.dedup_by_key(|s| s.id);
    Ok(RunPlan {
        team_id: teams[0],
        kind,
        variables: seal_secrets(state, &schema, values)?,
        script,
        version,
        servers,
        timeout_secs: input.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS),
        created_by,
    })
}

/// Writes the execution, its targets and its job in the caller's transaction.
pub async fn enqueue_run<C: ConnectionTrait>(db: &C, plan: &RunPlan) -> Result<Uuid, DbErr> {
    let execution_id = executions::create(
        db,
        NewExecution {
            kind: plan.kind,
            target_type: "script",
            target_id: plan.script.id,
            team_id: plan.team_id,
            created_by: plan.created_by,
            script_version_id: Some(plan.version.id),
            variables: Some(plan.variables.clone()),
        },
    )
    .await?;
    execution_targets::Entity::insert_many(plan.servers.iter().map(|s| {
        execution_targets::ActiveModel {
            execution_id: Set(execution_id),
            server_id: Set(s.id),
            server_name: Set(s.name.clone()),
            ok: Set(0),
            changed: Set(0),
            failed: Set(0),
            unreachable: Set(0),
            skipped: Set(0),
            rescued: Set(0),
            ignored: Set(0),
        }
    }))
    .exec(db)
    .await?;
    jobs::enqueue_with_execution(
        db,
        jobs::JobKind::Playbook,
        &format!("playbook:{execution_id}"),
        serde_json::json!({"execution_id": execution_id, "timeout_secs": plan.timeout_secs}),
        Some(execution_id),
    )
    .await?;
    Ok(execution_id)
}

fn run_audit(plan: &RunPlan) -> Value {
    serde_json::json!({
        "kind": plan.kind,
        "script": plan.script.name,
        "version": plan.version.version,
        "servers": plan.servers.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "variables": masked(&plan.variables),
    })
}

/// Writes a planned run with its audit row; returns the execution id.
pub async fn start_planned(state: &AppState, auth: &AuthUser, plan: RunPlan) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let execution_id = enqueue_run(&txn, &plan).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "script.run",
            target_type: "execution",
            target_id: Some(execution_id.to_string()),
            before: None,
            after: Some(run_audit(&plan)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(execution_id)
}

pub async fn start_run(
    state: &AppState,
    auth: &AuthUser,
    script_id: Uuid,
    input: RunScript,
) -> ApiResult<Uuid> {
    let script = visible(&state.db, auth, script_id).await?;
    let scope = servers::scope(&state.db, auth).await?;
    let plan = plan_run(
        &state.db,
        state,
        "playbook",
        script,
        &input,
        scope,
        Some(auth.id()),
    )
    .await?;
    start_planned(state, auth, plan).await
}

/// Executions of playbook runs the caller may see.
async fn runs_scope<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
) -> Result<Select<execution_rows::Entity>, DbErr> {
    let select =
        execution_rows::Entity::find().filter(execution_rows::Column::Kind.is_in(RUN_KINDS));
    teams::scoped(db, auth, select, execution_rows::Column::TeamId).await
}

pub async fn visible_run<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<execution_rows::Model> {
    runs_scope(db, auth)
        .await?
        .filter(execution_rows::Column::Id.eq(id))
        .filter(execution_rows::Column::ScriptVersionId.is_not_null())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn rerun(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    let previous = visible_run(&state.db, auth, id).await?;
    let version =
        script_versions::Entity::find_by_id(previous.script_version_id.unwrap_or_default())
            .one(&state.db)
            .await?
            .ok_or_else(|| {
                ApiError::Conflict("the script version of this run no longer exists".into())
            })?;
    let script = visible(&state.db, auth, version.script_id)
        .await
        .map_err(|_| ApiError::Conflict("the script of this run no longer exists".into()))?;
    let server_ids: Vec<Uuid> = execution_targets::Entity::find()
        .filter(execution_targets::Column::ExecutionId.eq(previous.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|t| t.server_id)
        .collect();
    let stored = previous.variables.clone().unwrap_or(Value::Null);
    let values = open_variables(state, &stored).map_err(ApiError::Unavailable)?;
    let input = RunScript {
        server_ids,
        variables: values,
        version: Some(version.version),
        timeout_secs: None,
    };
    let kind = RUN_KINDS
        .into_iter()
        .find(|k| *k == previous.kind)
        .unwrap_or("playbook");
    let scope = servers::scope(&state.db, auth).await?;
    let plan = plan_run(
        &state.db,
        state,
        kind,
        script,
        &input,
        scope,
        Some(auth.id()),
    )
    .await?;
    start_planned(state, auth, plan).await
}

pub async fn run_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<execution_rows::Model>,
) -> Result<Vec<PlaybookRun>, DbErr> {
    let version_ids: Vec<Uuid> = found.iter().filter_map(|e| e.script_version_id).collect();
    let versions: HashMap<Uuid, script_versions::Model> = script_versions::Entity::find()
        .filter(script_versions::Column::Id.is_in(version_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let script_names: HashMap<Uuid, String> = rows::Entity::find()
        .filter(rows::Column::Id.is_in(versions.values().map(|v| v.script_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let mut targets: HashMap<Uuid, Vec<HostRecap>> = HashMap::new();
    for t in execution_targets::Entity::find()
        .filter(execution_targets::Column::ExecutionId.is_in(found.iter().map(|e| e.id)))
        .all(db)
        .await?
    {
        targets.entry(t.execution_id).or_default().push(HostRecap {
            server_id: t.server_id,
            server_name: t.server_name,
            ok: t.ok,
            changed: t.changed,
            failed: t.failed,
            unreachable: t.unreachable,
            skipped: t.skipped,
            rescued: t.rescued,
            ignored: t.ignored,
        });
    }
    Ok(found
        .into_iter()
        .map(|e| {
            let version = e.script_version_id.and_then(|id| versions.get(&id));
            let mut recap = targets.remove(&e.id).unwrap_or_default();
            recap.sort_by(|a, b| a.server_name.cmp(&b.server_name));
            PlaybookRun {
                script_id: version.map(|v| v.script_id).unwrap_or_default(),
                script_name: version
                    .and_then(|v| script_names.get(&v.script_id).cloned())
                    .unwrap_or_else(|| "(deleted script)".into()),
                version: version.map(|v| v.version).unwrap_or(0),
                variables: masked(e.variables.as_ref().unwrap_or(&Value::Null)),
                exit_code: e.exit_code,
                recap,
                execution: executions::to_dto(e),
            }
        })
        .collect())
}

#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct RunFilter {
    pub script_id: Option<Uuid>,
    pub server_id: Option<Uuid>,
    pub page: Option<u64>,
    pub per_page: Option<u64>,
}

pub async fn list_runs<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    filter: &RunFilter,
) -> ApiResult<Page<PlaybookRun>> {
    let (page, per_page) = super::listing::paging(filter.page, filter.per_page)?;
    let mut select = runs_scope(db, auth).await?;
    if let Some(script) = filter.script_id {
        let versions: Vec<Uuid> = script_versions::Entity::find()
            .select_only()
            .column(script_versions::Column::Id)
            .filter(script_versions::Column::ScriptId.eq(script))
            .into_tuple()
            .all(db)
            .await?;
        select = select.filter(execution_rows::Column::ScriptVersionId.is_in(versions));
    }
    if let Some(server) = filter.server_id {
        let runs: Vec<Uuid> = execution_targets::Entity::find()
            .select_only()
            .column(execution_targets::Column::ExecutionId)
            .filter(execution_targets::Column::ServerId.eq(server))
            .into_tuple()
            .all(db)
            .await?;
        select = select.filter(execution_rows::Column::Id.is_in(runs));
    }
    let total = select.clone().count(db).await?;
    let found = select
        .order_by_desc(execution_rows::Column::CreatedAt)
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(db)
        .await?;
    Ok(Page {
        items: run_dtos(db, found).await?,
        total,
        page,
        per_page,
    })
}

/// Executions that touched a server through a playbook run (its maintenance history).
pub async fn runs_on_server<C: ConnectionTrait>(
    db: &C,
    server_id: Uuid,
) -> Result<Vec<execution_rows::Model>, DbErr> {
    let ids: Vec<Uuid> = execution_targets::Entity::find()
        .select_only()
        .column(execution_targets::Column::ExecutionId)
        .filter(execution_targets::Column::ServerId.eq(server_id))
        .into_tuple()
        .all(db)
        .await?;
    execution_rows::Entity::find()
        .filter(execution_rows::Column::Id.is_in(ids))
        .order_by_desc(execution_rows::Column::CreatedAt)
        .limit(50)
        .all(db)
        .await
}

pub fn require_scripts(auth: &AuthUser) -> ApiResult<()> {
    auth.require(Permission::ScriptsManage)
}
