use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::providers::{check_endpoint, provider_for, seal_credentials, to_dto};
use crate::domain::servers::{remote_resources, sync_account};
use crate::domain::teams::global_team;
use crate::entities::{provider_accounts as rows, server_requests, teams};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use shared::dto::Problem;
use shared::requests::{CreateProviderAccount, ProviderAccount};
use shared::servers::{ConnectionReport, RemoteServer, SyncReport, SyncRequest};
use shared::Permission;
use uuid::Uuid;

/// Never the credentials: only whether some are stored.
fn audit_view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({"name": row.name, "kind": row.kind, "endpoint": row.endpoint,
        "settings": row.settings, "has_credentials": row.credentials.is_some()})
}

/// Provider accounts and their catalogs (locations, images, sizes, prices), for the request form.
#[utoipa::path(
    tag = "providers",
    responses((status = 200, body = Vec<ProviderAccount>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/provider-accounts")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<ProviderAccount>>> {
    auth.require(Permission::RequestsCreate)?;
    let found = rows::Entity::find()
        .order_by_asc(rows::Column::Name)
        .all(&state.db)
        .await?;
    Ok(web::Json(found.into_iter().map(to_dto).collect()))
}

async fn save(
    state: &AppState,
    auth: &AuthUser,
    id: Option<Uuid>,
    body: CreateProviderAccount,
) -> ApiResult<ProviderAccount> {
    auth.require(Permission::ProvidersManage)?;
    body.validate()?;
    check_endpoint(state, &body.endpoint)
        .await
        .map_err(|e| ApiError::field("endpoint", e))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut clash = rows::Entity::find().filter(rows::Column::Name.eq(body.name.trim()));
    if let Some(id) = id {
        clash = clash.filter(rows::Column::Id.ne(id));
    }
    if clash.one(&txn).await?.is_some() {
        return Err(ApiError::field(
            "name",
            "a provider account with this name exists",
        ));
    }
    let now = chrono::Utc::now();
    let catalog = serde_json::to_value(&body.catalog).map_err(|e| ApiError::Internal(e.into()))?;
    let settings =
        serde_json::to_value(&body.settings).map_err(|e| ApiError::Internal(e.into()))?;
    let sealed = body
        .credentials
        .as_ref()
        .map(|c| seal_credentials(&state.keys, c))
        .transpose()?;
    let (before, saved) = match id {
        None => (
            None,
            rows::ActiveModel {
                id: Set(Uuid::new_v4()),
                name: Set(body.name.trim().to_owned()),
                kind: Set(body.kind.as_str().to_owned()),
                endpoint: Set(body.endpoint.trim().to_owned()),
                catalog: Set(catalog),
                settings: Set(Some(settings)),
                credentials: Set(sealed),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?,
        ),
        Some(id) => {
            let row = rows::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound)?;
            let before = audit_view(&row);
            let mut active: rows::ActiveModel = row.into();
            active.name = Set(body.name.trim().to_owned());
            active.kind = Set(body.kind.as_str().to_owned());
            active.endpoint = Set(body.endpoint.trim().to_owned());
            active.catalog = Set(catalog);
            active.settings = Set(Some(settings));
            if let Some(sealed) = sealed {
                active.credentials = Set(Some(sealed));
            }
            active.updated_at = Set(now);
            (Some(before), active.update(&txn).await?)
        }
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if id.is_some() {
                "provider_account.update"
            } else {
                "provider_account.create"
            },
            target_type: "provider_account",
            target_id: Some(saved.id.to_string()),
            before,
            after: Some(audit_view(&saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(saved))
}

/// Adds a provider account with its catalog.
#[utoipa::path(
    tag = "providers",
    request_body = CreateProviderAccount,
    responses((status = 201, body = ProviderAccount), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/provider-accounts")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateProviderAccount>,
) -> ApiResult<HttpResponse> {
    let saved = save(&state, &auth, None, body.into_inner()).await?;
    Ok(HttpResponse::Created().json(saved))
}

/// Replaces a provider account's name, endpoint and catalog.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    request_body = CreateProviderAccount,
    responses((status = 200, body = ProviderAccount), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[put("/provider-accounts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<CreateProviderAccount>,
) -> ApiResult<web::Json<ProviderAccount>> {
    Ok(web::Json(
        save(&state, &auth, Some(id.into_inner()), body.into_inner()).await?,
    ))
}

/// Removes a provider account no request refers to.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[delete("/provider-accounts/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ProvidersManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = rows::Entity::find_by_id(id.into_inner())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let used = server_requests::Entity::find()
        .filter(server_requests::Column::ProviderAccountId.eq(row.id))
        .count(&txn)
        .await?;
    if used > 0 {
        return Err(ApiError::Conflict(format!(
            "{used} server request(s) refer to this account"
        )));
    }
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "provider_account.delete",
            target_type: "provider_account",
            target_id: Some(row.id.to_string()),
            before: Some(audit_view(&row)),
            after: None,
        },
    )
    .await?;
    row.delete(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the endpoint, the stored credentials and the permissions provisioning needs.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ConnectionReport), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/provider-accounts/{id}/test")]
pub async fn test_connection(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ConnectionReport>> {
    auth.require(Permission::ProvidersManage)?;
    let id = id.into_inner();
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let provider = provider_for(&state, id).await?;
    let report = provider.test_connection().await;
    audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "provider_account.test",
            target_type: "provider_account",
            target_id: Some(id.to_string()),
            before: None,
            after: Some(serde_json::json!({"ok": report.ok})),
        },
    )
    .await?;
    Ok(web::Json(report))
}

/// The machines the provider reports for this account, each linked to its inventory row.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<RemoteServer>), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/provider-accounts/{id}/resources")]
pub async fn resources(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<RemoteServer>>> {
    auth.require(Permission::ProvidersManage)?;
    let id = id.into_inner();
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(web::Json(remote_resources(&state, id).await?))
}

/// Imports new machines, updates changed ones and marks vanished ones deleted (or, with
/// `dry_run`, only reports it). Idempotent by provider id.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    request_body = SyncRequest,
    responses((status = 200, body = SyncReport), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 502, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/provider-accounts/{id}/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<SyncRequest>,
) -> ApiResult<web::Json<SyncReport>> {
    auth.require(Permission::ProvidersManage)?;
    let id = id.into_inner();
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let team = sync_team(&state, body.team_id).await?;
    Ok(web::Json(
        sync_account(&state, &auth, id, team, body.dry_run).await?,
    ))
}

pub async fn sync_team(state: &AppState, team_id: Option<Uuid>) -> ApiResult<Uuid> {
    match team_id {
        Some(id) => Ok(teams::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .ok_or_else(|| ApiError::field("team_id", "no such team"))?
            .id),
        None => Ok(global_team(&state.db)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the Global team is missing")))?
            .id),
    }
}
