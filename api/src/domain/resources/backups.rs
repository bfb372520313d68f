//! Backups of managed resources: the recipe dumps the database on its server (now, on the
//! resource's cron schedule, or last thing before deletion) and loads a dump back; each dump is a
//! row naming its file. Schedules fire from the same scheduler loop as the servers' maintenance,
//! claimed by one conditional UPDATE so that several workers fire each once.

use super::catalogue::provisioning_of;
use super::operations::{may_operate, start_recipe, RunInput};
use super::views::visible;
use super::{audit_change, recipes, status_of, transition, type_of, RecipeAction};
use crate::auth::AuthUser;
use crate::domain::maintenance::next_run;
use crate::entities::{resource_backups as rows, resources};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use shared::resources::{
    BackupKind, BackupSchedule, ResourceAction, ResourceBackup, ResourceStatus, RestoreResource,
};
use uuid::Uuid;

/// Where a new dump of `row` goes on its server: one folder per resource, one file per dump.
pub fn dump_path(row: &resources::Model) -> String {
    format!(
        "/var/backups/provisio-resources/{}-{}/{}.dump",
        row.name,
        &row.id.simple().to_string()[..8],
        chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ")
    )
}

fn to_dto(row: rows::Model) -> ResourceBackup {
    ResourceBackup {
        id: row.id,
        kind: BackupKind::parse(&row.kind).unwrap_or(BackupKind::Manual),
        file: row.file,
        created_at: row.created_at,
    }
}

/// Records a dump the recipe wrote.
pub async fn record<C: ConnectionTrait>(
    db: &C,
    resource: Uuid,
    file: String,
    kind: BackupKind,
    execution: Option<Uuid>,
) -> Result<(), DbErr> {
    rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        resource_id: Set(resource),
        file: Set(file),
        kind: Set(kind.as_str().into()),
        execution_id: Set(execution),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The resource's dumps, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<Vec<ResourceBackup>> {
    let row = visible(db, auth, id).await?;
    Ok(rows::Entity::find()
        .filter(rows::Column::ResourceId.eq(row.id))
        .order_by_desc(rows::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_dto)
        .collect())
}

/// A recipe resource whose recipe writes backups, or why not.
async fn backed_up<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<resources::Model> {
    let row = visible(db, auth, id).await?;
    if !may_operate(auth, &row) {
        return Err(ApiError::Forbidden);
    }
    let kind = type_of(db, &row).await?;
    match kind.recipe.as_deref().and_then(recipes::find) {
        Some(recipe) if recipe.backups => Ok(row),
        Some(_) => Err(ApiError::Conflict(format!(
            "Provisio takes no backups of {} resources: back up the server they run on",
            kind.name
        ))),
        None => Err(ApiError::Conflict(format!(
            "{} is set up by hand: the technical agents who run it back it up",
            kind.name
        ))),
    }
}

/// A dump now.
pub async fn backup(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = backed_up(&txn, auth, id).await?;
    let execution = start_backup(&txn, Some(auth.id()), &row, BackupKind::Manual).await?;
    audit_change(&txn, auth, "resource.backup", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(execution)
}

async fn start_backup<C: ConnectionTrait>(
    db: &C,
    by: Option<Uuid>,
    row: &resources::Model,
    kind: BackupKind,
) -> ApiResult<Uuid> {
    let provisioning = provisioning_of(&type_of(db, row).await?);
    transition(db, row, provisioning, ResourceAction::Backup, vec![]).await?;
    start_recipe(
        db,
        by,
        row,
        RecipeAction::Backup,
        RunInput {
            backup: Some((dump_path(row), kind)),
            ..RunInput::default()
        },
    )
    .await
}

/// Loads one of the resource's dumps back (what was written since is lost).
pub async fn restore(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: ApiResult<RestoreResource>,
) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = backed_up(&txn, auth, id).await?;
    let input = input?;
    let dump = rows::Entity::find_by_id(input.backup_id)
        .one(&txn)
        .await?
        .filter(|b| b.resource_id == row.id)
        .ok_or_else(|| ApiError::field("backup_id", "no such backup of this resource"))?;
    let provisioning = provisioning_of(&type_of(&txn, &row).await?);
    transition(&txn, &row, provisioning, ResourceAction::Restore, vec![]).await?;
    let execution = start_recipe(
        &txn,
        Some(auth.id()),
        &row,
        RecipeAction::Restore,
        RunInput {
            backup: Some((
                dump.file,
                BackupKind::parse(&dump.kind).unwrap_or(BackupKind::Manual),
            )),
            ..RunInput::default()
        },
    )
    .await?;
    audit_change(&txn, auth, "resource.restore", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(execution)
}

/// Sets (or, with no cron, ends) the resource's backup schedule.
pub async fn schedule(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: ApiResult<BackupSchedule>,
) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = backed_up(&txn, auth, id).await?;
    let cron = input?
        .cron
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    let next = match &cron {
        Some(c) => Some(next_run(c, chrono::Utc::now()).map_err(|m| ApiError::field("cron", m))?),
        None => None,
    };
    resources::Entity::update_many()
        .col_expr(resources::Column::BackupCron, Expr::value(cron))
        .col_expr(resources::Column::NextBackupAt, Expr::value(next))
        .filter(resources::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    audit_change(&txn, auth, "resource.backup_schedule", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

/// Starts the backups that are due. A resource busy with another change waits for the next
/// tick; its schedule moves on only once its backup started.
pub async fn tick(state: &AppState) -> Result<usize, DbErr> {
    let now = chrono::Utc::now();
    let due = resources::Entity::find()
        .filter(resources::Column::BackupCron.is_not_null())
        .filter(resources::Column::NextBackupAt.lte(now))
        .filter(resources::Column::Status.eq(ResourceStatus::Ready.as_str()))
        .all(&state.db)
        .await?;
    let mut fired = 0;
    for row in due {
        let next = row
            .backup_cron
            .as_deref()
            .and_then(|c| next_run(c, now).ok());
        let txn = crate::db::begin_write(&state.db).await?;
        let claimed = resources::Entity::update_many()
            .col_expr(resources::Column::NextBackupAt, Expr::value(next))
            .filter(resources::Column::Id.eq(row.id))
            .filter(resources::Column::NextBackupAt.eq(row.next_backup_at))
            .exec(&txn)
            .await?
            .rows_affected;
        if claimed == 0 || status_of(&row) != ResourceStatus::Ready {
            continue;
        }
        match start_backup(&txn, None, &row, BackupKind::Scheduled).await {
            Ok(_) => {
                txn.commit().await?;
                fired += 1;
            }
            Err(e) => {
                tracing::warn!(resource = %row.id, error = %e, "a scheduled backup could not start");
            }
        }
    }
    Ok(fired)
}
