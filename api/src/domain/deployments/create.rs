//! `POST /api/deploy`: the project, the deployment row and its first job in one transaction.

use super::{
    dto, enqueue, env_names, free_port,
    new_server::{guest_key, request_server, NewGuest},
    ports_in_use, seal_env, APP_PORT_OFFSET,
};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::{frameworks, projects, servers, teams};
use crate::entities::{deployments as rows, projects as project_rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::deployments::{AppStep, DeployRequest, Deployment, DeploymentStatus};
use shared::projects::CreateProject;
use shared::Permission;
use uuid::Uuid;

/// The team's project for the request: the one named, or the one with that URL, or a new one
/// (whose first sync the deploy job does).
async fn project_for<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    input: &DeployRequest,
    team_id: Option<Uuid>,
) -> ApiResult<project_rows::Model> {
    if let Some(id) = input.project_id {
        return projects::visible(db, auth, id)
            .await
            .map_err(|_| ApiError::field("project_id", "no such project"));
    }
    let url = input.git_url.as_deref().unwrap_or_default().trim();
    let team_id =
        team_id.ok_or_else(|| ApiError::field("team_id", "name the team the app belongs to"))?;
    if let Some(found) = project_rows::Entity::find()
        .filter(project_rows::Column::TeamId.eq(team_id))
        .filter(project_rows::Column::Url.eq(url))
        .one(db)
        .await?
    {
        return Ok(found);
    }
    let mut name = input
        .name
        .clone()
        .or_else(|| shared::deployments::name_from_url(url))
        .unwrap_or_else(|| "app".into());
    let taken = project_rows::Entity::find()
        .filter(project_rows::Column::TeamId.eq(team_id))
        .filter(project_rows::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .is_some();
    if taken {
        name = format!("{name}-{}", &Uuid::new_v4().simple().to_string()[..6]);
    }
    let create = CreateProject {
        name,
        url: url.to_owned(),
        // Empty: the remote's default branch, learnt at the first fetch.
        default_branch: input.branch.clone().unwrap_or_default(),
        team_id,
        deploy_key: None,
    };
    create.validate()?;
    Ok(project_rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(create.name),
        url: Set(create.url),
        default_branch: Set(create.default_branch),
        deploy_key: Set(None),
        status: Set("new".into()),
        error: Set(None),
        last_commit: Set(None),
        detected_framework: Set(None),
        last_synced_at: Set(None),
        created_by: Set(Some(auth.id())),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await?)
}

/// `POST /api/deploy`: the deployment, and its execution and first job — or, onto a new server,
/// the server request it waits for.
pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    input: DeployRequest,
) -> ApiResult<(Deployment, Option<Uuid>)> {
    auth.require(Permission::DeploymentsManage)?;
    input.validate()?;
    if let Some(url) = &input.git_url {
        projects::check_git_url(state, url)
            .await
            .map_err(|e| ApiError::field("git_url", e))?;
    }
    let framework =
        match &input.framework {
            Some(given) => Some(frameworks::find(given).map(|f| f.slug.clone()).ok_or_else(
                || {
                    let known: Vec<&str> =
                        frameworks::all().iter().map(|f| f.name.as_str()).collect();
                    ApiError::field("framework", format!("must be one of {}", known.join(", ")))
                },
            )?),
            None => None,
        };
    let txn = crate::db::begin_write(&state.db).await?;
    let server = match input.server_id {
        Some(id) => Some(
            servers::visible(&txn, auth, id)
                .await
                .map_err(|_| ApiError::field("server_id", "no such server"))?,
        ),
        None => None,
    };
    let mut team_id = input.team_id.or(server.as_ref().map(|s| s.team_id));
    if team_id.is_none() && input.project_id.is_none() {
        // A caller in one team need not name it.
        if let [only] = teams::team_ids_of(&txn, auth.id()).await?[..] {
            team_id = Some(only);
        }
    }
    let project = project_for(&txn, auth, &input, team_id).await?;
    let team_id = team_id.unwrap_or(project.team_id);
    if !teams::may_use_team(&txn, auth, team_id).await? {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    if project.team_id != team_id {
        return Err(ApiError::field(
            "project_id",
            "the project belongs to another team than the deployment",
        ));
    }
    let mut port = None;
    if let Some(server) = &server {
        if server.team_id != team_id {
            return Err(ApiError::field(
                "server_id",
                "the server belongs to another team than the deployment",
            ));
        }
        if servers::status_of(server) != shared::servers::ServerStatus::Running
            || server.ipv4.is_none()
        {
            return Err(ApiError::field(
                "server_id",
                "the server must be running and have an address",
            ));
        }
        let used = ports_in_use(&txn, server.id).await?;
        port = Some(
            free_port(state.config.deploy.first_port, &used, input.port)
                .map_err(|e| ApiError::field("port", e))?,
        );
    }
    let name = match &input.name {
        Some(name) => {
            if name_taken(&txn, team_id, name).await? {
                return Err(ApiError::field(
                    "name",
                    "a deployment of this team already has this name",
                ));
            }
            name.clone()
        }
        None => free_name(&txn, team_id, &project).await?,
    };
    let bindings =
        crate::domain::resources::binding::check(&txn, auth, team_id, &input.resources, &input.env)
            .await?;
    // A new server: a server request in the same transaction, approved at once when the caller
    // may approve; the deployment waits PENDING for it and follows it (see `follow_request`).
    let (request_id, key) = match &server {
        Some(_) => (None, None),
        None => {
            let account_id = match input.provider_account_id {
                Some(id) => id,
                None => crate::domain::requests::default_account(&txn, team_id).await?,
            };
            let key = guest_key(state, input.ssh_public_key.as_deref(), &name)?;
            let guest = NewGuest {
                name: &name,
                team_id,
                account_id,
                login_key: &key.public,
            };
            let request = request_server(&txn, state, auth, &input, guest).await?;
            (Some(request), Some(key))
        }
    };
    let (ssh_public_key, ssh_private_key) = match key {
        Some(key) => (Some(key.public), key.sealed_private),
        None => (None, None),
    };
    let now = chrono::Utc::now();
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(team_id),
        name: Set(name),
        project_id: Set(project.id),
        branch: Set(input
            .branch
            .clone()
            .unwrap_or_else(|| project.default_branch.clone())),
        commit_sha: Set(input.commit.clone()),
        // Empty: detected from the checkout when the job runs.
        framework: Set(framework
            .or(project.detected_framework.clone())
            .unwrap_or_default()),
        module: Set(input.module.clone()),
        deployment_type: Set(input.deployment_type.as_str().into()),
        cpu: Set(input.cpu.map(|v| v as i32)),
        ram_mb: Set(input.ram_mb.map(|v| v as i32)),
        disk_gb: Set(input.disk_gb.map(|v| v as i32)),
        status: Set(DeploymentStatus::Pending.as_str().into()),
        failed_step: Set(None),
        error: Set(None),
        server_id: Set(server.as_ref().map(|s| s.id)),
        request_id: Set(request_id),
        port: Set(port),
        app_port: Set(port.map(|p| p + APP_PORT_OFFSET)),
        url: Set(None),
        env: Set(seal_env(state, &input.env)?),
        execution_id: Set(None),
        ssh_public_key: Set(ssh_public_key),
        ssh_private_key: Set(ssh_private_key),
        created_by: Set(Some(auth.id())),
        created_at: Set(now),
        updated_at: Set(now),
        deployed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    crate::domain::resources::binding::bind(&txn, row.id, bindings).await?;
    let execution = match request_id {
        None => Some(enqueue(&txn, &row, AppStep::Deploy, Some(auth.id())).await?),
        Some(_) => None,
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "deployment.create",
            target_type: "deployment",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({
                "name": row.name, "project": project.url, "branch": row.branch,
                "commit": row.commit_sha, "framework": row.framework,
                "server_id": row.server_id, "request_id": row.request_id, "port": row.port,
                "env": env_names(&row), "resources": input.resources,
            })),
        },
    )
    .await?;
    txn.commit().await?;
    let row = rows::Entity::find_by_id(row.id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((dto(&state.db, row).await?, execution))
}

async fn name_taken<C: ConnectionTrait>(db: &C, team_id: Uuid, name: &str) -> Result<bool, DbErr> {
    Ok(rows::Entity::find()
        .filter(rows::Column::TeamId.eq(team_id))
        .filter(rows::Column::Name.eq(name))
        .filter(rows::Column::Status.ne(DeploymentStatus::Deleted.as_str()))
        .one(db)
        .await?
        .is_some())
}

/// A name for a deployment that gave none: the repository's, then with `-2`, `-3`, … until no
/// live deployment of the team has it.
async fn free_name<C: ConnectionTrait>(
    db: &C,
    team_id: Uuid,
    project: &project_rows::Model,
) -> ApiResult<String> {
    let base = shared::deployments::name_from_url(&project.url).unwrap_or_else(|| "app".into());
    for n in 1..100 {
        let candidate = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        if !name_taken(db, team_id, &candidate).await? {
            return Ok(candidate);
        }
    }
    Err(ApiError::field(
        "name",
        format!("{base} to {base}-99 are taken in this team: name the deployment"),
    ))
}
