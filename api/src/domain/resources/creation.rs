//! A new resource request: checked against the team, the catalogue, the server and the recipe's
//! settings, then sent to the first approval step of the team's policy.

use super::{audit_change, link, views};
use crate::auth::AuthUser;
use crate::domain::notify::{notify, NewNotification};
use crate::domain::requests::{self, eligible_users, load_policy};
use crate::domain::users::active_with_role;
use crate::entities::{resource_types, resources as rows, servers};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use shared::resources::{CreateResource, NewServer, Provisioning, Resource, ResourceStatus};
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
                if input.server_id.is_none() && input.new_server.is_none() {
                    field(
                        "server_id",
                        format!(
                            "choose the team's server {} goes on, or ask for a new one",
                            kind.name
                        ),
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
    if input.server_id.is_some() && input.new_server.is_some() {
        field(
            "new_server",
            "choose an existing server or ask for a new one, not both".into(),
        );
    }
    if input.new_server.is_some()
        && kind
            .as_ref()
            .is_some_and(|k| super::catalogue::provisioning_of(k) == Provisioning::Manual)
    {
        field(
            "new_server",
            "a type set up by hand leaves the server to the technical agent: say what you need in the purpose".into(),
        );
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
    // A new server holds no names yet.
    if input.new_server.is_none() && same_name.one(&txn).await?.is_some() {
        field(
            "name",
            "another resource has this name there; choose another".into(),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let kind = kind.expect("a type when there are no errors");
    let request_id = match &input.new_server {
        Some(wanted) => Some(request_server(&txn, state, auth, &input, wanted).await?),
        None => None,
    };
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
        request_id: Set(request_id),
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

/// Files the request for the new server a resource goes on, in the resource's transaction; its
/// refusals name the fields under `new_server` (`new_server.location`, …).
async fn request_server(
    txn: &sea_orm::DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    input: &CreateResource,
    wanted: &NewServer,
) -> ApiResult<Uuid> {
    let under = |e: ApiError| match e {
        ApiError::Validation(found) => ApiError::Validation(
            found
                .into_iter()
                .map(|(name, messages)| {
                    let name = match name.as_str() {
                        "ssh_public_keys[0]" => "ssh_public_key".to_owned(),
                        _ => name,
                    };
                    (format!("new_server.{name}"), messages)
                })
                .collect(),
        ),
        other => other,
    };
    let account_id = match wanted.provider_account_id {
        Some(id) => id,
        None => requests::default_account(txn, input.team_id)
            .await
            .map_err(under)?,
    };
    let spec = requests::GuestSpec {
        hostname: wanted.hostname_for(&input.name),
        team_id: input.team_id,
        account_id,
        login_keys: wanted.ssh_public_key.iter().cloned().collect(),
        purpose: format!(
            "Server for the resource {}: {}",
            input.name,
            input.purpose.trim().chars().take(900).collect::<String>()
        ),
        container: false,
        location: wanted.location.clone(),
        image: wanted.image.clone(),
        server_type: wanted.server_type.clone(),
        cpu: wanted.cpu,
        ram_mb: wanted.ram_mb,
        disk_gb: wanted.disk_gb,
    };
    requests::request_guest(txn, state, auth, spec)
        .await
        .map_err(under)
}
