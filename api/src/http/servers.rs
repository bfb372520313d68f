//! The managed inventory: list, detail, labels, power, delete, SSH host registration.

use super::paging;
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::servers::{self, scope, visible, Operation};
use crate::entities::{provider_accounts, servers as rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use shared::dto::{Page, Problem};
use shared::requests::ProviderKind;
use shared::servers::{
    Accepted, DeleteServer, PowerRequest, RegisterHost, Server, ServerDetail, ServerListQuery,
    ServerOrigin, ServerStatus, SnapshotRequest, UpdateServerLabels,
};
use shared::Permission;
use std::time::Duration;
use uuid::Uuid;

/// Servers the caller may see, filtered, sorted and paginated (deleted ones only when asked for).
#[utoipa::path(
    tag = "servers",
    params(ServerListQuery),
    responses((status = 200, body = Page<Server>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/servers")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<ServerListQuery>,
) -> ApiResult<web::Json<Page<Server>>> {
    let query = query.into_inner();
    let (page, per_page) = paging(query.page, query.per_page)?;
    let mut select = scope(&state.db, &auth).await?;
    select = match query.status {
        Some(status) => select.filter(rows::Column::Status.eq(status.as_str())),
        None => select.filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str())),
    };
    if let Some(team) = query.team_id {
        select = select.filter(rows::Column::TeamId.eq(team));
    }
    if let Some(account) = query.provider_account_id {
        select = select.filter(rows::Column::ProviderAccountId.eq(account));
    }
    if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
        select = select.filter(servers::matches(q));
    }
    let label = query
        .label
        .as_deref()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| ApiError::field("label", "must be key=value"))
        })
        .transpose()?;
    select = match query.sort.as_deref().unwrap_or("name") {
        "name" => select.order_by_asc(rows::Column::Name),
        "-name" => select.order_by_desc(rows::Column::Name),
        "created_at" => select.order_by_asc(rows::Column::CreatedAt),
        "-created_at" => select.order_by_desc(rows::Column::CreatedAt),
        "status" => select.order_by_asc(rows::Column::Status),
        _ => {
            return Err(ApiError::field(
                "sort",
                "must be one of name, created_at, status, optionally prefixed with -",
            ))
        }
    }
    .order_by_asc(rows::Column::Id);
    if let Some((key, value)) = label {
        // Labels are JSON: filtered here, after the SQL filters, over the caller's scope.
        let all = select.all(&state.db).await?;
        let matching: Vec<rows::Model> = all
            .into_iter()
            .filter(|s| s.labels.get(&key).and_then(|v| v.as_str()) == Some(value.as_str()))
            .collect();
        let total = matching.len() as u64;
        let items: Vec<rows::Model> = matching
            .into_iter()
            .skip(((page - 1) * per_page) as usize)
            .take(per_page as usize)
            .collect();
        return Ok(web::Json(Page {
            items: servers::to_dtos(&state.db, items).await?,
            total,
            page,
            per_page,
        }));
    }
    let paginator = select.paginate(&state.db, per_page);
    let total = paginator.num_items().await?;
    let found = paginator.fetch_page(page - 1).await?;
    Ok(web::Json(Page {
        items: servers::to_dtos(&state.db, found).await?,
        total,
        page,
        per_page,
    }))
}

/// One server with the actions it allows now and its recent executions.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServerDetail), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/servers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ServerDetail>> {
    let row = visible(&state.db, &auth, id.into_inner()).await?;
    Ok(web::Json(servers::detail(&state.db, row).await?))
}

/// Starts, stops or reboots the server at its provider (a job; follow the execution).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = PowerRequest,
    responses((status = 202, body = Accepted), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/servers/{id}/power")]
pub async fn power(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<PowerRequest>,
) -> ApiResult<HttpResponse> {
    let execution_id = servers::start_operation(
        &state,
        &auth,
        id.into_inner(),
        Operation::Power(body.action),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Takes a provider snapshot of the server (a job; follow the execution).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = SnapshotRequest,
    responses((status = 202, body = Accepted), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/servers/{id}/snapshot")]
pub async fn snapshot(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<SnapshotRequest>,
) -> ApiResult<HttpResponse> {
    let op = Operation::Snapshot {
        description: body.into_inner().description,
    };
    let execution_id = servers::start_operation(&state, &auth, id.into_inner(), op).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Turns on the provider's scheduled backups of the server (Hetzner; a job).
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    responses((status = 202, body = Accepted), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/servers/{id}/backups")]
pub async fn enable_backups(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let execution_id =
        servers::start_operation(&state, &auth, id.into_inner(), Operation::EnableBackups).await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Destroys the server at its provider (registered hosts are only unregistered). The body must
/// repeat the server's name.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = DeleteServer,
    responses((status = 202, body = Accepted), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[delete("/servers/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DeleteServer>,
) -> ApiResult<HttpResponse> {
    let execution_id = servers::start_operation(
        &state,
        &auth,
        id.into_inner(),
        Operation::Delete {
            confirm_name: body.into_inner().confirm_name,
        },
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted { execution_id }))
}

/// Replaces the server's labels in the inventory.
#[utoipa::path(
    tag = "servers",
    params(("id" = Uuid, Path)),
    request_body = UpdateServerLabels,
    responses((status = 200, body = Server), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[put("/servers/{id}/labels")]
pub async fn labels(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<UpdateServerLabels>,
) -> ApiResult<web::Json<Server>> {
    auth.require(Permission::ServersOperate)?;
    body.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, &auth, id.into_inner()).await?;
    let before = row.labels.clone();
    let after = serde_json::to_value(&body.labels).map_err(|e| ApiError::Internal(e.into()))?;
    rows::Entity::update_many()
        .col_expr(rows::Column::Labels, Expr::value(after.clone()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(row.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "server.labels",
            target_type: "server",
            target_id: Some(row.id.to_string()),
            before: Some(before),
            after: Some(after),
        },
    )
    .await?;
    let row = rows::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    txn.commit().await?;
    Ok(web::Json(
        servers::to_dtos(&state.db, vec![row]).await?.remove(0),
    ))
}

/// Registers an existing machine: checks it answers on SSH, logs in with the account's key and
/// pins its host key.
#[utoipa::path(
    tag = "servers",
    request_body = RegisterHost,
    responses((status = 201, body = ServerDetail), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/servers/register")]
pub async fn register(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<RegisterHost>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ServersOperate)?;
    let body = body.into_inner();
    body.validate()?;
    let teams = crate::domain::teams::visible_team_ids(&state.db, &auth).await?;
    if teams.is_some_and(|t| !t.contains(&body.team_id)) {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    let account = provider_accounts::Entity::find_by_id(body.provider_account_id)
        .one(&state.db)
        .await?
        .filter(|a| a.kind == ProviderKind::Ssh.as_str())
        .ok_or_else(|| ApiError::field("provider_account_id", "must be an SSH host account"))?;
    let credentials = crate::domain::providers::credentials_of(&state.keys, &account)
        .map_err(ApiError::Unavailable)?;
    let login = credentials.private_key.map(|k| (body.user.clone(), k));
    let key = crate::exec::ssh::probe(
        body.address.clone(),
        body.port,
        Duration::from_secs(10),
        login,
    )
    .await
    .map_err(|e| ApiError::BadGateway(format!("the host could not be verified: {e}")))?;
    let provider_id = format!("{}:{}", body.address, body.port);
    let txn = crate::db::begin_write(&state.db).await?;
    let clash = rows::Entity::find()
        .filter(rows::Column::ProviderAccountId.eq(account.id))
        .filter(rows::Column::ProviderId.eq(provider_id.clone()))
        .filter(rows::Column::Status.ne(ServerStatus::Deleted.as_str()))
        .one(&txn)
        .await?;
    if clash.is_some() {
        return Err(ApiError::Conflict(format!(
            "{provider_id} is already registered"
        )));
    }
    let is_v6 = body.address.parse::<std::net::Ipv6Addr>().is_ok();
    let now = chrono::Utc::now();
    let row = rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        team_id: Set(body.team_id),
        provider_account_id: Set(account.id),
        provider_id: Set(provider_id),
        name: Set(body.name.clone()),
        status: Set(ServerStatus::Running.as_str().into()),
        origin: Set(ServerOrigin::Registered.as_str().into()),
        ipv4: Set((!is_v6).then(|| body.address.clone())),
        ipv6: Set(is_v6.then(|| body.address.clone())),
        cpu: Set(0),
        ram_mb: Set(0),
        disk_gb: Set(0),
        image: Set(String::new()),
        location: Set(String::new()),
        labels: Set(serde_json::to_value(&body.labels).unwrap_or_default()),
        ssh_user: Set(body.user.clone()),
        ssh_port: Set(body.port as i32),
        host_key_fingerprint: Set(Some(key.fingerprint.clone())),
        request_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        last_synced_at: Set(Some(now)),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "server.register",
            target_type: "server",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(serde_json::json!({"name": row.name, "address": body.address, "port": body.port, "host_key": key.fingerprint})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(servers::detail(&state.db, row).await?))
}
