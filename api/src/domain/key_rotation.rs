//! Master key rotation (`provisio rotate-master-key`).
//!
//! Two phases, each safe to interrupt and to re-run:
//! 1. `rotate`: the key file gets a new current key and keeps the old one as previous (written
//!    atomically), then every sealed value that the current key cannot open is re-sealed with it,
//!    all in one transaction. Until that commits, every value still opens with the previous key.
//!    Re-running after an interruption reuses the pending new key instead of making another.
//! 2. `finish`: drops the previous keys from the key file, but only once no value needs them.
//!
//! Sealed values live in: provider account credentials, webhook secrets, project deploy keys,
//! deployment environments (name → sealed value), generated deployment keys waiting for their
//! download, the service key's private half and the secret
//! variables of script runs and maintenance schedules (`{"$sealed": …}` inside
//! `executions.variables` and `schedules.variables`).

use crate::db::begin_write;
use crate::entities::{
    deployments, executions, projects, provider_accounts, resources, schedules, ssh_keys, users,
    webhooks,
};
use crate::keys::Keys;
use anyhow::Context;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use uuid::Uuid;

/// How many values of one kind were already sealed with the current key and how many were
/// (or, when only checking, would be) re-sealed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub kind: &'static str,
    pub current: u64,
    pub resealed: u64,
}

#[derive(Debug)]
pub struct RotationReport {
    /// False when an unfinished rotation was resumed with its pending key.
    pub generated_key: bool,
    pub tallies: Vec<Tally>,
}

/// Phase one: a new current key (unless a rotation is pending) and every value re-sealed with it.
pub async fn rotate(db: &DatabaseConnection, key_file: &Path) -> anyhow::Result<RotationReport> {
    let mut keys = Keys::load(key_file)?;
    let generated_key = keys.previous_master_keys.is_empty();
    if generated_key {
        let old = std::mem::replace(&mut keys.master_key, Keys::generate().master_key);
        keys.previous_master_keys.insert(0, old);
        keys.replace_file(key_file)?;
    }
    let tallies = reseal_all(db, &keys).await?;
    Ok(RotationReport {
        generated_key,
        tallies,
    })
}

/// Phase two: forgets the previous keys once every value opens with the current one.
/// Answers how many keys were dropped.
pub async fn finish(db: &DatabaseConnection, key_file: &Path) -> anyhow::Result<usize> {
    let mut keys = Keys::load(key_file)?;
    if keys.previous_master_keys.is_empty() {
        return Ok(0);
    }
    let pending: u64 = visit_all(db, &keys, false)
        .await?
        .iter()
        .map(|t| t.resealed)
        .sum();
    anyhow::ensure!(
        pending == 0,
        "{pending} sealed values still need a previous key (written by a process that had not \
         been restarted?); run rotate-master-key again, then --finish"
    );
    let dropped = keys.previous_master_keys.len();
    keys.previous_master_keys.clear();
    keys.replace_file(key_file)?;
    Ok(dropped)
}

/// Re-seals, in one transaction, every value the current key cannot open.
pub async fn reseal_all(db: &DatabaseConnection, keys: &Keys) -> anyhow::Result<Vec<Tally>> {
    let txn = begin_write(db).await?;
    let tallies = visit_all(&txn, keys, true).await?;
    txn.commit().await?;
    Ok(tallies)
}

/// Decides what becomes of one sealed value: `None` when the current key opens it, the value
/// sealed anew with the current key when only a previous key does.
fn reseal(
    keys: &Keys,
    sealed: &str,
    tally: &mut Tally,
    what: &str,
) -> anyhow::Result<Option<String>> {
    if crate::crypto::open(&keys.master_key, sealed).is_ok() {
        tally.current += 1;
        return Ok(None);
    }
    let plain = keys
        .previous_master_keys
        .iter()
        .find_map(|key| crate::crypto::open(key, sealed).ok())
        .with_context(|| format!("{what} opens with none of the keys in the key file"))?;
    tally.resealed += 1;
    Ok(Some(keys.seal(&plain)?))
}

async fn visit_all<C: ConnectionTrait>(
    db: &C,
    keys: &Keys,
    write: bool,
) -> anyhow::Result<Vec<Tally>> {
    Ok(vec![
        sealed_column::<_, provider_accounts::Entity>(
            db,
            keys,
            write,
            "provider credentials",
            (
                provider_accounts::Column::Id,
                provider_accounts::Column::Credentials,
            ),
            |id| format!("the credentials of provider account {id}"),
        )
        .await?,
        sealed_column::<_, webhooks::Entity>(
            db,
            keys,
            write,
            "webhook secrets",
            (webhooks::Column::Id, webhooks::Column::Secret),
            |id| format!("the secret of webhook {id}"),
        )
        .await?,
        sealed_column::<_, projects::Entity>(
            db,
            keys,
            write,
            "project deploy keys",
            (projects::Column::Id, projects::Column::DeployKey),
            |id| format!("the deploy key of project {id}"),
        )
        .await?,
        sealed_column::<_, ssh_keys::Entity>(
            db,
            keys,
            write,
            "SSH private keys",
            (ssh_keys::Column::Id, ssh_keys::Column::PrivateKey),
            |id| format!("the private half of SSH key {id}"),
        )
        .await?,
        sealed_column::<_, deployments::Entity>(
            db,
            keys,
            write,
            "generated deployment keys",
            (deployments::Column::Id, deployments::Column::SshPrivateKey),
            |id| format!("the generated private key of deployment {id}"),
        )
        .await?,
        sealed_column::<_, resources::Entity>(
            db,
            keys,
            write,
            "resource passwords and keys",
            (resources::Column::Id, resources::Column::Secret),
            |id| format!("the secret of resource {id}"),
        )
        .await?,
        sealed_column::<_, users::Entity>(
            db,
            keys,
            write,
            "two-factor secrets",
            (users::Column::Id, users::Column::TotpSecret),
            |id| format!("the two-factor secret of user {id}"),
        )
        .await?,
        sealed_column::<_, users::Entity>(
            db,
            keys,
            write,
            "two-factor secrets awaiting their first code",
            (users::Column::Id, users::Column::TotpPending),
            |id| format!("the pending two-factor secret of user {id}"),
        )
        .await?,
        deployment_environments(db, keys, write).await?,
        schedule_variables(db, keys, write).await?,
        secret_variables(db, keys, write).await?,
    ])
}

/// Re-seals one column of sealed text in every row of `E` (rows where it is NULL are skipped):
/// provider credentials, webhook secrets, deploy keys and SSH private keys are each one such
/// column; `what` names a row's value in errors.
async fn sealed_column<C, E>(
    db: &C,
    keys: &Keys,
    write: bool,
    kind: &'static str,
    (id_column, column): (E::Column, E::Column),
    what: fn(Uuid) -> String,
) -> anyhow::Result<Tally>
where
    C: ConnectionTrait,
    E: EntityTrait,
{
    let mut tally = Tally {
        kind,
        ..Tally::default()
    };
    let rows: Vec<(Uuid, Option<String>)> = E::find()
        .select_only()
        .columns([id_column, column])
        .into_tuple()
        .all(db)
        .await?;
    for (id, sealed) in rows {
        let Some(sealed) = sealed else { continue };
        if let Some(new) = reseal(keys, &sealed, &mut tally, &what(id))? {
            if write {
                E::update_many()
                    .col_expr(column, Expr::value(new))
                    .filter(id_column.eq(id))
                    .exec(db)
                    .await?;
            }
        }
    }
    Ok(tally)
}

async fn deployment_environments<C: ConnectionTrait>(
    db: &C,
    keys: &Keys,
    write: bool,
) -> anyhow::Result<Tally> {
    use deployments::{Column, Entity};
    let mut tally = Tally {
        kind: "deployment environment values",
        ..Tally::default()
    };
    let rows: Vec<(Uuid, Option<String>)> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Env])
        .into_tuple()
        .all(db)
        .await?;
    for (id, env) in rows {
        let Some(env) = env else { continue };
        let mut values: BTreeMap<String, String> = serde_json::from_str(&env)
            .with_context(|| format!("the environment of deployment {id} is not a JSON object"))?;
        let mut changed = false;
        for (name, sealed) in values.iter_mut() {
            let what = format!("{name} in the environment of deployment {id}");
            if let Some(new) = reseal(keys, sealed, &mut tally, &what)? {
                *sealed = new;
                changed = true;
            }
        }
        if changed && write {
            Entity::update_many()
                .col_expr(Column::Env, Expr::value(serde_json::to_string(&values)?))
                .filter(Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(tally)
}

async fn secret_variables<C: ConnectionTrait>(
    db: &C,
    keys: &Keys,
    write: bool,
) -> anyhow::Result<Tally> {
    use executions::{Column, Entity};
    let mut tally = Tally {
        kind: "secret script variables",
        ..Tally::default()
    };
    let rows: Vec<(Uuid, Option<Value>)> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Variables])
        .into_tuple()
        .all(db)
        .await?;
    for (id, variables) in rows {
        let Some(Value::Object(mut variables)) = variables else {
            continue;
        };
        let changed =
            reseal_variables(keys, &mut variables, &mut tally, &format!("execution {id}"))?;
        if changed && write {
            Entity::update_many()
                .col_expr(Column::Variables, Expr::value(Value::Object(variables)))
                .filter(Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(tally)
}

/// Re-seals the sealed entries (`{"$sealed": …}`) of one variables object; answers whether any
/// changed. `owner` names the row in errors.
fn reseal_variables(
    keys: &Keys,
    variables: &mut serde_json::Map<String, Value>,
    tally: &mut Tally,
    owner: &str,
) -> anyhow::Result<bool> {
    let mut changed = false;
    for (name, value) in variables.iter_mut() {
        let Some(sealed) = value
            .get(crate::domain::scripts::SEALED)
            .and_then(Value::as_str)
        else {
            continue;
        };
        let what = format!("the secret variable {name} of {owner}");
        if let Some(new) = reseal(keys, sealed, tally, &what)? {
            *value = serde_json::json!({ crate::domain::scripts::SEALED: new });
            changed = true;
        }
    }
    Ok(changed)
}

async fn schedule_variables<C: ConnectionTrait>(
    db: &C,
    keys: &Keys,
    write: bool,
) -> anyhow::Result<Tally> {
    use schedules::{Column, Entity};
    let mut tally = Tally {
        kind: "secret schedule variables",
        ..Tally::default()
    };
    let rows: Vec<(Uuid, Value)> = Entity::find()
        .select_only()
        .columns([Column::Id, Column::Variables])
        .into_tuple()
        .all(db)
        .await?;
    for (id, variables) in rows {
        let Value::Object(mut variables) = variables else {
            continue;
        };
        let changed =
            reseal_variables(keys, &mut variables, &mut tally, &format!("schedule {id}"))?;
        if changed && write {
            Entity::update_many()
                .col_expr(Column::Variables, Expr::value(Value::Object(variables)))
                .filter(Column::Id.eq(id))
                .exec(db)
                .await?;
        }
    }
    Ok(tally)
}
