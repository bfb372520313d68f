//! A new resource request: checked against the team, the catalogue, the server and the recipe's
//! settings, then sent to the first approval step of the team's policy.

use super::{audit_change, link, views};
use crate::auth::AuthUser;
use crate::domain::notify::{notify, NewNotification};
use crate::domain::requests::{eligible_users, load_policy};
use crate::domain::users::active_with_role;
use crate::entities::{resource_types, resources as rows, servers};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use shared::resources::{CreateResource, Provisioning, Resource, ResourceStatus};
use shared::validation::FieldErrors;
use shared::{Permission, Role};
use uuid::Uuid;

/// Statuses a resource still holds its name in (on its server, or in its team without one).
const HOLDING: [ResourceStatus; 6] = [
    ResourceStatus::Pending,
    ResourceStatus::Provisioning,
    ResourceStatus::AwaitingFulfilment,
    ResourceStatus::Ready,
    ResourceStatus::Updating,
    ResourceStatus::Failed,
];

pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    input: CreateResource,
) -> ApiResult<Resource> {
    auth.require(Permission::RequestsCreate)?;
    input.validate()?;
    let mut errors = FieldErrors::new();
    let mut field =
        |name: &str, message: String| errors.entry(name.to_owned()).or_default().push(message);
    let txn = crate::db::begin_write(&state.db).await?;
    if !crate::domain::teams::may_use_team(&txn, auth, input.team_id).await? {
        field(
            "team_id",
            "you can only request resources for a team you belong to".into(),
        );
    }
    let kind = resource_types::Entity::find()
        .filter(resource_types::Column::Slug.eq(&input.resource_type))
        .one(&txn)
        .await?;
    let mut parameters = serde_json::Map::new();
    match &kind {
        None => field(
            "resource_type",
            "no such type in the catalogue (see GET /api/resource-types)".into(),
        ),
        Some(kind) if kind.retired_at.is_some() => field(
            "resource_type",
            format!("{} is retired and takes no new requests", kind.name),
        ),
        Some(kind) => match kind.recipe.as_deref().and_then(super::recipes::find) {
            Some(recipe) if super::catalogue::provisioning_of(kind) == Provisioning::Recipe => {
                match recipe.settle(&input.parameters) {
                    Ok(settled) => parameters = settled,
                    Err(found) => {
                        for (name, messages) in found {
                            for m in messages {
                                field(&name, m);
                            }
                        }
                    }
                }
                if input.server_id.is_none() {
                    field(
                        "server_id",
                        format!("choose the team's server {} goes on", kind.name),
                    );
                }
            }
            _ if !input.parameters.is_empty() => field(
                "parameters",
                format!(
                    "{} is set up by hand and takes no settings: say what you need in the purpose",
                    kind.name
                ),
            ),
            _ => {}
        },
    }
    if let Some(server_id) = input.server_id {
        let server = servers::Entity::find_by_id(server_id).one(&txn).await?;
        if server.is_none_or(|s| s.team_id != input.team_id) {
            field("server_id", "no such server in this team".into());
        }
    }
    let mut same_name = rows::Entity::find()
        .filter(rows::Column::Name.eq(&input.name))
        .filter(rows::Column::Status.is_in(HOLDING.map(|s| s.as_str())));
    same_name = match input.server_id {
        Some(server) => same_name.filter(rows::Column::ServerId.eq(server)),
        None => same_name
            .filter(rows::Column::TeamId.eq(input.team_id))
            .filter(rows::Column::ServerId.is_null()),
    };
    if same_name.one(&txn).await?.is_some() {
        field(
            "name",
            "another resource has this name there; choose another".into(),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let kind = kind.expect("a type when there are no errors");
    let now = chrono::Utc::now();
    let id = Uuid::new_v4();
    let row = rows::ActiveModel {
        id: Set(id),
        team_id: Set(input.team_id),
        type_id: Set(kind.id),
        name: Set(input.name.clone()),
        purpose: Set(input.purpose.trim().to_owned()),
        status: Set(ResourceStatus::Pending.as_str().into()),
        server_id: Set(input.server_id),
        parameters: Set(serde_json::Value::Object(parameters)),
        host: Set(None),
        port: Set(None),
        database: Set(None),
        username: Set(None),
        secret: Set(None),
        requested_by: Set(auth.id()),
        policy_step: Set(0),
        execution_id: Set(None),
        error: Set(None),
        rejection_reason: Set(None),
        backup_cron: Set(None),
        next_backup_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let policy = load_policy(&txn, row.team_id).await?;
    let approvers = eligible_users(&txn, &policy.steps[0], row.team_id).await?;
    let approvers = if approvers.is_empty() {
        active_with_role(&txn, Role::Admin).await?
    } else {
        approvers
    };
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &approvers,
        Some(auth.id()),
        &NewNotification {
            kind: "resource.pending",
            title: format!("New resource request: {} ({})", row.name, kind.name),
            body: format!(
                "{} asked for {} {}: {}",
                auth.user.username, kind.name, row.name, row.purpose
            ),
            link: link(id),
        },
    )
    .await?;
    audit_change(&txn, auth, "resource.create", None, id).await?;
    let dto = views::to_dtos(&txn, auth, vec![row]).await?.pop();
    txn.commit().await?;
    dto.ok_or(ApiError::NotFound)
}
