//! Deployments bound to resources: checked when the deployment is created (the team's, ready or
//! still being set up, one variable each), handed to the app as environment variables with the
//! password when the deploy job runs (never stored in clear), shown on the deployment, and a
//! resource still bound to a live deployment is not deleted. A deployment bound to a resource
//! asked for with it waits until the resource is ready (its job is woken when the resource is
//! ready or will never be).

use super::{recipes, status_of, type_of, views};
use crate::auth::AuthUser;
use crate::entities::{deployment_resources as rows, deployments, resources};
use crate::error::{ApiError, ApiResult};
use crate::keys::Keys;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::deployments::BoundResource;
use shared::resources::ResourceStatus;
use shared::validation::FieldErrors;
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// The variable each of `ids` arrives in, checked per field (`resources[i]`): a usable resource
/// of `team` the caller sees, of a type whose connection has a form, no two in one variable and
/// none in a variable `env` sets already.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    team: Uuid,
    ids: &[Uuid],
    env: &BTreeMap<String, String>,
) -> ApiResult<Vec<(Uuid, String)>> {
    let mut errors = FieldErrors::new();
    let mut chosen: Vec<(Uuid, String)> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let field = format!("resources[{i}]");
        let mut refuse = |m: String| errors.entry(field.clone()).or_default().push(m);
        let Ok(row) = views::visible(db, auth, *id).await else {
            refuse("no such resource".into());
            continue;
        };
        if row.team_id != team {
            refuse(format!("{} belongs to another team", row.name));
            continue;
        }
        if !status_of(&row).is_usable() && !is_coming(status_of(&row)) {
            refuse(format!(
                "{} is {}: only a ready resource, or one being asked for or set up, can be bound",
                row.name,
                status_of(&row).label().to_lowercase()
            ));
            continue;
        }
        let kind = type_of(db, &row).await?;
        let Some(recipe) = kind.recipe.as_deref().and_then(recipes::find) else {
            refuse(format!(
                "{} is set up by hand: put its connection in an environment variable instead",
                row.name
            ));
            continue;
        };
        let var = recipe.connection.env_var().to_owned();
        if env.contains_key(&var) || chosen.iter().any(|(_, v)| *v == var) {
            refuse(format!(
                "{} would set {var}, which another value of this deployment sets already",
                row.name
            ));
            continue;
        }
        chosen.push((row.id, var));
    }
    if errors.is_empty() {
        Ok(chosen)
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A resource that is not ready yet but will be unless someone says no or its recipe fails.
pub(super) fn is_coming(status: ResourceStatus) -> bool {
    matches!(
        status,
        ResourceStatus::Pending | ResourceStatus::Provisioning
    )
}

/// Whether a deployment's bound resources let its job start.
pub enum Readiness {
    Ready,
    /// One is still being asked for or set up: what it waits on, for the log.
    Waiting(String),
    /// One will not be usable: why, for the deployment's error.
    Never(String),
}

/// Checked before a deploy job does anything else.
pub async fn readiness<C: ConnectionTrait>(db: &C, deployment: Uuid) -> Result<Readiness, DbErr> {
    let links = rows::Entity::find()
        .filter(rows::Column::DeploymentId.eq(deployment))
        .all(db)
        .await?;
    let bound = resources::Entity::find()
        .filter(resources::Column::Id.is_in(links.iter().map(|l| l.resource_id)))
        .all(db)
        .await?;
    if let Some(r) = bound.iter().find(|r| {
        let status = status_of(r);
        !status.is_usable() && !is_coming(status)
    }) {
        let why = r
            .rejection_reason
            .clone()
            .or(r.error.clone())
            .map(|why| format!(": {why}"))
            .unwrap_or_default();
        return Ok(Readiness::Never(format!(
            "the bound resource {} is {}{why}",
            r.name,
            status_of(r).label().to_lowercase()
        )));
    }
    Ok(match bound.iter().find(|r| is_coming(status_of(r))) {
        Some(r) if status_of(r) == ResourceStatus::Pending => Readiness::Waiting(format!(
            "waiting for the resource {} to be approved (its page says by whom)",
            r.name
        )),
        Some(r) => Readiness::Waiting(format!("waiting for the resource {} to be set up", r.name)),
        None => Readiness::Ready,
    })
}

/// The resource is ready, or never will be: the deploy jobs waiting for it run now rather than
/// at their next check.
pub async fn wake_bound<C: ConnectionTrait>(db: &C, resource: Uuid) -> Result<(), DbErr> {
    let links = rows::Entity::find()
        .filter(rows::Column::ResourceId.eq(resource))
        .all(db)
        .await?;
    let executions: Vec<Uuid> = deployments::Entity::find()
        .filter(deployments::Column::Id.is_in(links.iter().map(|l| l.deployment_id)))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|d| d.execution_id)
        .collect();
    crate::domain::jobs::wake(db, executions).await
}

pub async fn bind<C: ConnectionTrait>(
    db: &C,
    deployment: Uuid,
    chosen: Vec<(Uuid, String)>,
) -> Result<(), DbErr> {
    for (resource, env_var) in chosen {
        rows::ActiveModel {
            deployment_id: Set(deployment),
            resource_id: Set(resource),
            env_var: Set(env_var),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The bound resources of each of `deployments`, by deployment.
pub async fn bound_to<C: ConnectionTrait>(
    db: &C,
    deployments: &[Uuid],
) -> Result<HashMap<Uuid, Vec<BoundResource>>, DbErr> {
    let links = rows::Entity::find()
        .filter(rows::Column::DeploymentId.is_in(deployments.iter().copied()))
        .all(db)
        .await?;
    let names: HashMap<Uuid, String> = resources::Entity::find()
        .filter(resources::Column::Id.is_in(links.iter().map(|l| l.resource_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let mut found: HashMap<Uuid, Vec<BoundResource>> = HashMap::new();
    for link in links {
        found
            .entry(link.deployment_id)
            .or_default()
            .push(BoundResource {
                id: link.resource_id,
                name: names.get(&link.resource_id).cloned().unwrap_or_default(),
                env_var: link.env_var,
            });
    }
    Ok(found)
}

/// The variables a deployment's bound resources give its app: each connection with the password,
/// opened from its seal for this run only.
pub async fn environment<C: ConnectionTrait>(
    db: &C,
    keys: &Keys,
    deployment: Uuid,
) -> Result<BTreeMap<String, String>, String> {
    let links = rows::Entity::find()
        .filter(rows::Column::DeploymentId.eq(deployment))
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    let mut env = BTreeMap::new();
    for link in links {
        let row = resources::Entity::find_by_id(link.resource_id)
            .one(db)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("a bound resource no longer exists")?;
        if !status_of(&row).is_usable() {
            return Err(format!(
                "the bound resource {} is {}",
                row.name,
                status_of(&row).label().to_lowercase()
            ));
        }
        let kind = type_of(db, &row).await.map_err(|e| e.to_string())?;
        let recipe = kind
            .recipe
            .as_deref()
            .and_then(recipes::find)
            .ok_or_else(|| format!("{} has no connection form", row.name))?;
        let password = match &row.secret {
            Some(sealed) => Some(keys.open(sealed).map_err(|e| e.to_string())?),
            None => None,
        };
        let connection = super::connection_of(&row, recipe.connection, password.as_deref())
            .ok_or_else(|| format!("the bound resource {} has no address", row.name))?;
        env.insert(link.env_var, connection);
    }
    Ok(env)
}

/// The live deployments `resource` is bound to, by name: deleting it would break them.
pub async fn live_bindings<C: ConnectionTrait>(
    db: &C,
    resource: Uuid,
) -> Result<Vec<String>, DbErr> {
    let links = rows::Entity::find()
        .filter(rows::Column::ResourceId.eq(resource))
        .all(db)
        .await?;
    Ok(deployments::Entity::find()
        .filter(deployments::Column::Id.is_in(links.iter().map(|l| l.deployment_id)))
        .filter(
            deployments::Column::Status.ne(shared::deployments::DeploymentStatus::Deleted.as_str()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|d| d.name)
        .collect())
}
