//! Saving scripts: the checks every save runs, creation, edits that become new versions, and
//! deletion.

use super::views::{detail, variables_of, version_of, visible};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::teams;
use crate::entities::{script_versions, scripts as rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use serde_json::Value;
use shared::scripts::{SaveScript, Script, VariableSpec};
use uuid::Uuid;

pub(super) async fn insert_version<C: ConnectionTrait>(
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
