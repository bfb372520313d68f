//! What a caller sees of scripts: the visible rows, the paged list, the detail with its version
//! history, and single versions.

use crate::auth::AuthUser;
use crate::domain::teams;
use crate::entities::{script_versions, scripts as rows, teams as team_rows, users};
use crate::error::{ApiError, ApiResult};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use shared::dto::{Page, PageQuery};
use shared::scripts::{Script, ScriptSummary, ScriptVersion, ScriptVersionRef, VariableSpec};
use std::collections::HashMap;
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

pub(super) fn variables_of(row: &script_versions::Model) -> Vec<VariableSpec> {
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
    let (page, per_page) = crate::domain::listing::paging(query.page, query.per_page)?;
    let mut select = scope(auth);
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        select = select.filter(rows::Column::Name.like(crate::domain::listing::like_pattern(q)));
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
