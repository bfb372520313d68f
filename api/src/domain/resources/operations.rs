//! What is done with a resource once approved: fulfilled by hand, its secret revealed (audited)
//! or rotated, a failed recipe retried, and deletion (its name typed again, since data goes).

use super::catalogue::provisioning_of;
use super::views::visible;
use super::{audit_change, link, recipes, status_of, transition, type_of, RecipeAction};
use crate::auth::AuthUser;
use crate::domain::executions::{self, NewExecution};
use crate::domain::jobs::JobKind;
use crate::domain::notify::{notify, NewNotification};
use crate::entities::resources as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use shared::resources::{
    DeleteResource, FulfilResource, Provisioning, ResourceAction, ResourceSecret,
};
use shared::{Permission, Role};
use uuid::Uuid;

/// What a recipe run takes besides the resource: the new password of a rotation (sealed), and
/// the dump a backup writes or a restore loads.
#[derive(Debug, Default)]
pub(super) struct RunInput {
    pub secret: Option<String>,
    pub backup: Option<(String, shared::resources::BackupKind)>,
    /// The settings a resize applies (the row keeps the old ones until it succeeded).
    pub parameters: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Enqueues the recipe's job for `action` with its execution, which the resource's page
/// follows.
pub(super) async fn start_recipe<C: ConnectionTrait>(
    db: &C,
    created_by: Option<Uuid>,
    row: &rows::Model,
    action: RecipeAction,
    input: RunInput,
) -> ApiResult<Uuid> {
    let execution = executions::create_with_job(
        db,
        JobKind::Resource,
        NewExecution {
            kind: "resource",
            target_type: "resource",
            target_id: row.id,
            team_id: row.team_id,
            created_by,
            script_version_id: None,
            variables: None,
        },
        serde_json::json!({
            "resource_id": row.id, "action": action.as_str(), "secret": input.secret,
            "backup_file": input.backup.as_ref().map(|b| b.0.clone()),
            "backup_kind": input.backup.as_ref().map(|b| b.1.as_str()),
            "parameters": input.parameters,
        }),
    )
    .await?;
    rows::Entity::update_many()
        .col_expr(rows::Column::ExecutionId, Expr::value(execution))
        .col_expr(rows::Column::Error, Expr::value(Option::<String>::None))
        .filter(rows::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(execution)
}

/// A technical agent enters the connection details of a resource set up by hand (again, to
/// change them: a new password set by hand).
pub async fn fulfil(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: FulfilResource,
) -> ApiResult<()> {
    auth.require(Permission::ResourcesFulfil)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    input.validate()?;
    let kind = type_of(&txn, &row).await?;
    let provisioning = provisioning_of(&kind);
    if provisioning == Provisioning::Recipe {
        return Err(ApiError::Conflict(format!(
            "{} is set up by its recipe, not by hand",
            kind.name
        )));
    }
    let secret = match &input.secret {
        Some(plain) => Some(state.keys.seal(plain)?),
        None => row.secret.clone(),
    };
    transition(
        &txn,
        &row,
        provisioning,
        ResourceAction::Fulfil,
        vec![
            (
                rows::Column::Host,
                Expr::value(input.host.trim().to_owned()),
            ),
            (rows::Column::Port, Expr::value(input.port.map(i32::from))),
            (
                rows::Column::Database,
                Expr::value(Some(input.database.trim().to_owned()).filter(|d| !d.is_empty())),
            ),
            (
                rows::Column::Username,
                Expr::value(Some(input.username.trim().to_owned()).filter(|u| !u.is_empty())),
            ),
            (rows::Column::Secret, Expr::value(secret)),
        ],
    )
    .await?;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[row.requested_by],
        Some(auth.id()),
        &NewNotification {
            kind: "resource.ready",
            title: format!("Resource ready: {}", row.name),
            body: format!(
                "{} {} is set up; its page has the connection.",
                kind.name, row.name
            ),
            link: link(row.id),
        },
    )
    .await?;
    audit_change(&txn, auth, "resource.fulfil", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}

/// The secret and the connection with it. Every reveal is an audit entry (which never holds the
/// secret itself).
pub async fn reveal(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<ResourceSecret> {
    auth.require(Permission::ResourceSecretsReveal)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if !status_of(&row).is_usable() {
        return Err(ApiError::Conflict(format!(
            "this resource is {}: there is nothing to connect to yet",
            status_of(&row).label().to_lowercase()
        )));
    }
    let Some(sealed) = &row.secret else {
        return Err(ApiError::Conflict(
            "no password or key is stored for this resource".into(),
        ));
    };
    let secret = state.keys.open(sealed)?;
    let kind = type_of(&txn, &row).await?;
    let recipe = kind.recipe.as_deref().and_then(recipes::find);
    let connection = recipe.and_then(|r| super::connection_of(&row, r.connection, Some(&secret)));
    audit_change(&txn, auth, "resource.reveal", None, row.id).await?;
    txn.commit().await?;
    Ok(ResourceSecret {
        secret,
        connection,
        env_var: recipe.map(|r| r.connection.env_var().to_owned()),
    })
}

/// A new password, set by the recipe; the old one works until the recipe has run.
pub async fn rotate(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    auth.require(Permission::ResourceSecretsReveal)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let kind = type_of(&txn, &row).await?;
    let provisioning = provisioning_of(&kind);
    if provisioning == Provisioning::Manual {
        return Err(ApiError::Conflict(format!(
            "{} is set up by hand: a technical agent sets the new password and enters it",
            kind.name
        )));
    }
    if !kind
        .recipe
        .as_deref()
        .and_then(recipes::find)
        .is_some_and(|r| r.connection.has_password())
    {
        return Err(ApiError::Conflict(format!(
            "{} resources have no password to change",
            kind.name
        )));
    }
    transition(&txn, &row, provisioning, ResourceAction::Rotate, vec![]).await?;
    let sealed = state.keys.seal(&super::secrets::generate_password())?;
    let execution = start_recipe(
        &txn,
        Some(auth.id()),
        &row,
        RecipeAction::Rotate,
        RunInput {
            secret: Some(sealed),
            ..RunInput::default()
        },
    )
    .await?;
    audit_change(&txn, auth, "resource.rotate", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(execution)
}

/// Changes the settings that may change in place (a connection limit), through the recipe.
pub async fn resize(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: ApiResult<shared::resources::ResizeResource>,
) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if !may_operate(auth, &row) {
        return Err(ApiError::Forbidden);
    }
    let input = input?;
    let kind = type_of(&txn, &row).await?;
    let Some(recipe) = kind.recipe.as_deref().and_then(recipes::find) else {
        return Err(ApiError::Conflict(format!(
            "{} is set up by hand: a technical agent changes it",
            kind.name
        )));
    };
    let current = row.parameters.as_object().cloned().unwrap_or_default();
    let settled = recipe
        .resize(&current, &input.parameters)
        .map_err(ApiError::Validation)?;
    transition(
        &txn,
        &row,
        provisioning_of(&kind),
        ResourceAction::Resize,
        vec![],
    )
    .await?;
    let execution = start_recipe(
        &txn,
        Some(auth.id()),
        &row,
        RecipeAction::Resize,
        RunInput {
            parameters: Some(settled),
            ..RunInput::default()
        },
    )
    .await?;
    audit_change(&txn, auth, "resource.resize", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(execution)
}

/// Who may act on a resource beyond reading it: its requester, the technical agents of its team
/// and administrators.
pub(super) fn may_operate(auth: &AuthUser, row: &rows::Model) -> bool {
    row.requested_by == auth.id()
        || auth.can(Permission::ResourcesFulfil)
        || auth.roles.contains(&Role::Admin)
}

/// A failed recipe runs again (it is safe to run twice).
pub async fn retry(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if !may_operate(auth, &row) {
        return Err(ApiError::Forbidden);
    }
    let kind = type_of(&txn, &row).await?;
    transition(
        &txn,
        &row,
        provisioning_of(&kind),
        ResourceAction::Retry,
        vec![],
    )
    .await?;
    let execution = start_recipe(
        &txn,
        Some(auth.id()),
        &row,
        RecipeAction::Create,
        RunInput::default(),
    )
    .await?;
    audit_change(&txn, auth, "resource.retry", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(execution)
}

/// Deletes the resource and its data: the recipe drops it from its server; one set up by hand
/// is marked deleted and its technical agents are told to remove it.
pub async fn delete(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    input: ApiResult<DeleteResource>,
) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    if !may_operate(auth, &row) {
        return Err(ApiError::Forbidden);
    }
    let input = input?;
    if input.confirm != row.name {
        return Err(ApiError::field(
            "confirm",
            format!(
                "type the resource's name, {}, to confirm: its data is dropped",
                row.name
            ),
        ));
    }
    let bound = super::binding::live_bindings(&txn, row.id).await?;
    if !bound.is_empty() {
        return Err(ApiError::Conflict(format!(
            "{} is bound to the deployment{} {}: delete {} first",
            row.name,
            if bound.len() == 1 { "" } else { "s" },
            bound.join(", "),
            if bound.len() == 1 { "it" } else { "them" }
        )));
    }
    let kind = type_of(&txn, &row).await?;
    let provisioning = provisioning_of(&kind);
    transition(&txn, &row, provisioning, ResourceAction::Delete, vec![]).await?;
    if provisioning == Provisioning::Recipe && row.server_id.is_none() {
        // Its new server never came: there is nothing on a server to remove.
        let deleting = visible(&txn, auth, row.id).await?;
        transition(
            &txn,
            &deleting,
            provisioning,
            ResourceAction::Remove,
            vec![(rows::Column::Secret, Expr::value(Option::<String>::None))],
        )
        .await?;
        super::new_server::withdraw_request(&txn, auth, &row).await?;
    } else if provisioning == Provisioning::Recipe {
        let backs_up = kind
            .recipe
            .as_deref()
            .and_then(recipes::find)
            .is_some_and(|r| r.backups);
        let backup = (backs_up && input.final_backup).then(|| {
            (
                super::backups::dump_path(&row),
                shared::resources::BackupKind::Final,
            )
        });
        start_recipe(
            &txn,
            Some(auth.id()),
            &row,
            RecipeAction::Delete,
            RunInput {
                backup,
                ..RunInput::default()
            },
        )
        .await?;
    } else {
        rows::Entity::update_many()
            .col_expr(rows::Column::Secret, Expr::value(Option::<String>::None))
            .filter(rows::Column::Id.eq(row.id))
            .exec(&txn)
            .await?;
    }
    audit_change(&txn, auth, "resource.delete", Some(&row), row.id).await?;
    txn.commit().await?;
    Ok(())
}
