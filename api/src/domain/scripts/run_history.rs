//! Past playbook runs: the ones a caller may see, their DTOs with the per-host recap, the filtered
//! list and a server's maintenance history.

use super::variables::masked;
use super::RUN_KINDS;
use crate::auth::AuthUser;
use crate::domain::executions;
use crate::domain::teams;
use crate::entities::{
    execution_targets, executions as execution_rows, script_versions, scripts as rows,
};
use crate::error::{ApiError, ApiResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use serde_json::Value;
use shared::dto::Page;
use shared::scripts::{HostRecap, PlaybookRun};
use std::collections::HashMap;
use uuid::Uuid;

/// Executions of playbook runs the caller may see.
fn runs_scope(auth: &AuthUser) -> Select<execution_rows::Entity> {
    let select =
        execution_rows::Entity::find().filter(execution_rows::Column::Kind.is_in(RUN_KINDS));
    teams::scoped(auth, select, execution_rows::Column::TeamId)
}

pub async fn visible_run<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<execution_rows::Model> {
    runs_scope(auth)
        .filter(execution_rows::Column::Id.eq(id))
        .filter(execution_rows::Column::ScriptVersionId.is_not_null())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
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
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

pub async fn list_runs<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    filter: &RunFilter,
) -> ApiResult<Page<PlaybookRun>> {
    let (page, per_page) = crate::domain::listing::paging(filter.page, filter.per_page)?;
    let mut select = runs_scope(auth);
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
