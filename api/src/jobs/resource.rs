//! A managed resource's recipe, one `resource` job per run: checks the server (host key as
//! pinned), then runs the recipe's playbook to create the resource, set a new password or remove
//! it. The password reaches the server only as the verifier its engine stores; the resource
//! records where it is reached once the recipe succeeded.

use super::playbook::{run_on_server, server_target};
use super::{JobContext, JobError};
use crate::domain::notify::{notify, NewNotification};
use crate::domain::resources::catalogue::provisioning_of;
use crate::domain::resources::new_server::{self, ServerFor};
use crate::domain::resources::{
    backups, link, recipes, secrets, transition, type_of, RecipeAction,
};
use crate::entities::resources as rows;
use sea_orm::sea_query::Expr;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use shared::resources::{BackupKind, ConnectionForm, ResourceAction};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How often a recipe waiting for its new server looks again without being woken.
const SERVER_CHECK: std::time::Duration = std::time::Duration::from_secs(300);

struct Payload {
    id: Uuid,
    action: RecipeAction,
    /// The sealed new password of a rotation.
    secret: Option<String>,
    /// The dump a backup (or a deletion's last backup) writes, or a restore loads.
    backup: Option<(String, BackupKind)>,
    /// The settings a resize applies.
    parameters: Option<Value>,
}

fn payload(ctx: &JobContext) -> Result<Payload, JobError> {
    let p = &ctx.job.payload;
    let id = p
        .get("resource_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| JobError::permanent("the job names no resource"))?;
    let action = p
        .get("action")
        .and_then(Value::as_str)
        .and_then(RecipeAction::parse)
        .ok_or_else(|| JobError::permanent("the job names no recipe action"))?;
    let secret = p.get("secret").and_then(Value::as_str).map(str::to_owned);
    let backup = p
        .get("backup_file")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .zip(
            p.get("backup_kind")
                .and_then(Value::as_str)
                .and_then(BackupKind::parse),
        );
    let parameters = p.get("parameters").filter(|v| v.is_object()).cloned();
    Ok(Payload {
        id,
        action,
        secret,
        backup,
        parameters,
    })
}

async fn load(ctx: &JobContext, id: Uuid) -> Result<rows::Model, JobError> {
    rows::Entity::find_by_id(id)
        .one(&ctx.state.db)
        .await?
        .ok_or_else(|| JobError::permanent("the resource no longer exists"))
}

/// The password as the engine stores it.
fn verifier(form: ConnectionForm, password: &str) -> Result<String, JobError> {
    match form {
        ConnectionForm::Postgres => Ok(secrets::postgres_verifier(password)),
        ConnectionForm::Mysql => Ok(secrets::mariadb_hash(password)),
        ConnectionForm::Redis => Ok(secrets::redis_hash(password)),
        other => Err(JobError::permanent(format!(
            "no recipe sets passwords for {other:?} yet"
        ))),
    }
}

/// Where a resource the recipe created is reached: the server's address and the recipe's port;
/// a database and user named after it, a SQLite file in its folder.
fn created_columns(
    recipe: &shared::resources::Recipe,
    row: &rows::Model,
    address: &str,
) -> Vec<(rows::Column, sea_orm::sea_query::SimpleExpr)> {
    let name = row.name.clone();
    let (database, username) = match recipe.connection {
        ConnectionForm::Postgres | ConnectionForm::Mysql => (Some(name.clone()), Some(name)),
        ConnectionForm::Redis => (None, Some(name)),
        ConnectionForm::Sqlite => (
            Some(format!("/var/lib/provisio-resources/{name}/{name}.sqlite3")),
            None,
        ),
        ConnectionForm::Nfs => (Some(format!("/srv/nfs/{name}")), None),
    };
    let port = recipe
        .port(row.parameters.as_object().unwrap_or(&Default::default()))
        .map(i32::from);
    vec![
        (rows::Column::Host, Expr::value(address.to_owned())),
        (rows::Column::Port, Expr::value(port)),
        (rows::Column::Database, Expr::value(database)),
        (rows::Column::Username, Expr::value(username)),
    ]
}

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let state = &ctx.state;
    let Payload {
        id,
        action,
        secret,
        backup,
        parameters,
    } = payload(ctx)?;
    let row = load(ctx, id).await?;
    let kind = type_of(&state.db, &row).await?;
    let recipe = kind
        .recipe
        .as_deref()
        .and_then(recipes::find)
        .ok_or_else(|| JobError::permanent(format!("{} has no recipe", kind.name)))?;
    let playbook = recipes::playbook(&recipe.slug)
        .ok_or_else(|| JobError::permanent(format!("the {} recipe is missing", recipe.slug)))?;
    let server_id = match new_server::server_for(&state.db, &row).await? {
        ServerFor::Ready(id) => id,
        // Checked again when the server request moves (`new_server::server_ready` and
        // `follow_request` wake this job), and every few minutes in case a wake-up was missed.
        ServerFor::Waiting(what) => return Err(JobError::deferred(what, SERVER_CHECK)),
        ServerFor::Never(why) => return Err(JobError::permanent(why)),
    };
    ctx.log
        .info(&format!(
            "{} {} of {}: {} on the server",
            action.as_str(),
            row.name,
            kind.name,
            recipe.engine
        ))
        .await;
    let target = server_target(ctx, server_id).await?;
    let sealed = match action {
        RecipeAction::Create | RecipeAction::Resize => row.secret.clone(),
        RecipeAction::Rotate => secret.clone(),
        RecipeAction::Backup | RecipeAction::Restore | RecipeAction::Delete => None,
    };
    let mut vars: BTreeMap<String, Value> = BTreeMap::new();
    vars.insert("resource_action".into(), json!(action.playbook_action()));
    vars.insert("resource_name".into(), json!(row.name));
    vars.insert(
        "resource_marker".into(),
        json!(format!("provisio:{}", row.id)),
    );
    vars.insert(
        "settings".into(),
        parameters.clone().unwrap_or_else(|| row.parameters.clone()),
    );
    if let Some((file, _)) = &backup {
        vars.insert("backup_file".into(), json!(file));
        vars.insert("final_backup".into(), json!(action == RecipeAction::Delete));
    }
    if let Some(sealed) = &sealed {
        let password = state
            .keys
            .open(sealed)
            .map_err(|e| JobError::permanent(format!("the sealed password: {e}")))?;
        vars.insert(
            "password_hash".into(),
            json!(verifier(recipe.connection, &password)?),
        );
    }
    run_on_server(
        ctx,
        &ctx.log,
        &target,
        &format!("the {} recipe", recipe.slug),
        playbook,
        &vars,
        &[],
    )
    .await?;
    let provisioning = provisioning_of(&kind);
    let txn = crate::db::begin_write(&state.db).await?;
    let row = load(ctx, id).await?;
    let (columns, done) = match action {
        RecipeAction::Create => (
            created_columns(recipe, &row, &target.host.address),
            format!(
                "{} {} is ready; its page has the connection.",
                kind.name, row.name
            ),
        ),
        RecipeAction::Rotate => (
            vec![(rows::Column::Secret, Expr::value(secret))],
            format!(
                "{} has a new password; the old one no longer works.",
                row.name
            ),
        ),
        RecipeAction::Resize => (
            vec![(
                rows::Column::Parameters,
                Expr::value(parameters.clone().unwrap_or_else(|| row.parameters.clone())),
            )],
            format!("{} has its new settings.", row.name),
        ),
        RecipeAction::Backup => (
            vec![],
            format!(
                "{} is backed up to {} on its server.",
                row.name,
                backup.as_ref().map(|b| b.0.as_str()).unwrap_or_default()
            ),
        ),
        RecipeAction::Restore => (
            vec![],
            format!(
                "{} is restored from {}.",
                row.name,
                backup.as_ref().map(|b| b.0.as_str()).unwrap_or_default()
            ),
        ),
        RecipeAction::Delete => (
            vec![(rows::Column::Secret, Expr::value(Option::<String>::None))],
            format!("{} {} and its data are deleted.", kind.name, row.name),
        ),
    };
    if let Some((file, kind)) = backup.filter(|_| action != RecipeAction::Restore) {
        backups::record(&txn, row.id, file, kind, Some(ctx.log.execution_id)).await?;
    }
    let step = if action == RecipeAction::Delete {
        ResourceAction::Remove
    } else {
        ResourceAction::Finish
    };
    transition(&txn, &row, provisioning, step, columns)
        .await
        .map_err(|e| JobError::permanent(e.to_string()))?;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[row.requested_by],
        None,
        &NewNotification {
            kind: "resource.ready",
            title: format!("{}: {} done", row.name, action.as_str()),
            body: done.clone(),
            link: link(row.id),
        },
    )
    .await?;
    txn.commit().await?;
    ctx.log.info(&done).await;
    Ok(())
}

/// A failed creation or deletion leaves the resource FAILED with the message (retry or delete
/// again); a failed rotation leaves it ready with its old password, the message kept.
pub async fn on_failure(ctx: &JobContext, message: &str) -> Result<(), JobError> {
    let state = &ctx.state;
    let Payload { id, action, .. } = payload(ctx)?;
    let Some(row) = rows::Entity::find_by_id(id).one(&state.db).await? else {
        return Ok(());
    };
    let kind = type_of(&state.db, &row).await?;
    let error: String = message.chars().take(2000).collect();
    // A failed change leaves the resource as it was; a failed creation or deletion FAILED.
    let step = match action {
        RecipeAction::Rotate
        | RecipeAction::Backup
        | RecipeAction::Restore
        | RecipeAction::Resize => ResourceAction::Abandon,
        RecipeAction::Create | RecipeAction::Delete => ResourceAction::Fail,
    };
    let txn = crate::db::begin_write(&state.db).await?;
    if transition(
        &txn,
        &row,
        provisioning_of(&kind),
        step,
        vec![(rows::Column::Error, Expr::value(error.clone()))],
    )
    .await
    .is_ok()
    {
        notify(
            &txn,
            state.config.smtp_url.is_some(),
            &[row.requested_by],
            None,
            &NewNotification {
                kind: "resource.failed",
                title: format!("{}: {} failed", row.name, action.as_str()),
                body: error,
                link: link(row.id),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
