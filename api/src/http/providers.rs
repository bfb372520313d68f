use super::responses::{BadGateway, Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::providers::{self, save};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use shared::providers::discovery::{CatalogDiscovery, DiscoverCatalog};
use shared::providers::{CreateProviderAccount, ProviderAccount};
use shared::servers::{ConnectionReport, RemoteServer, SyncReport, SyncRequest};
use shared::Permission;
use uuid::Uuid;

/// Provider accounts and their catalogs (locations, images, sizes, prices), for the request form.
#[utoipa::path(
    tag = "providers",
    responses((status = 200, body = Vec<ProviderAccount>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/provider-accounts")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<ProviderAccount>>> {
    Ok(web::Json(providers::list(&state, &auth).await?))
}

/// Adds a provider account with its catalog. With an API token, the connection is tested and
/// the catalog compared with what the provider has: what it does not have is refused by field;
/// a failed connection is saved but the account is not offered to requesters.
#[utoipa::path(
    tag = "providers",
    request_body = CreateProviderAccount,
    responses((status = 201, body = ProviderAccount), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[post("/provider-accounts")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateProviderAccount>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ProvidersManage)?;
    let saved = save(&state, &auth, None, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(saved))
}

/// Replaces a provider account's name, endpoint and catalog.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    request_body = CreateProviderAccount,
    responses((status = 200, body = ProviderAccount), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[put("/provider-accounts/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<CreateProviderAccount>,
) -> ApiResult<web::Json<ProviderAccount>> {
    auth.require(Permission::ProvidersManage)?;
    Ok(web::Json(
        save(&state, &auth, Some(id.into_inner()), body.into_inner()?).await?,
    ))
}

/// Removes a provider account no request refers to.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/provider-accounts/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    providers::remove(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the endpoint, the stored credentials and the permissions provisioning needs.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ConnectionReport), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/provider-accounts/{id}/test")]
pub async fn test_connection(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ConnectionReport>> {
    Ok(web::Json(
        providers::test_connection(&state, &auth, id.into_inner()).await?,
    ))
}

/// Tests an account as typed in the form (credentials given, or those stored for `account_id`)
/// and reads what its provider offers: locations, images and templates, sizes and prices, and
/// for Proxmox the storages and bridges. Nothing is saved.
#[utoipa::path(
    tag = "providers",
    request_body = DiscoverCatalog,
    responses((status = 200, body = CatalogDiscovery), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[post("/provider-accounts/discover")]
pub async fn discover(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<DiscoverCatalog>,
) -> ApiResult<web::Json<CatalogDiscovery>> {
    auth.require(Permission::ProvidersManage)?;
    Ok(web::Json(
        providers::discover(&state, &auth, body.into_inner()?).await?,
    ))
}

/// The machines the provider reports for this account, each linked to its inventory row.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<RemoteServer>), Unauthenticated, Forbidden, NotFound, BadGateway),
    security(("bearer" = []))
)]
#[get("/provider-accounts/{id}/resources")]
pub async fn resources(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Vec<RemoteServer>>> {
    Ok(web::Json(
        providers::resources(&state, &auth, id.into_inner()).await?,
    ))
}

/// Imports new machines, updates changed ones and marks vanished ones deleted (or, with
/// `dry_run`, only reports it). Idempotent by provider id.
#[utoipa::path(
    tag = "providers",
    params(("id" = Uuid, Path)),
    request_body = SyncRequest,
    responses((status = 200, body = SyncReport), Unauthenticated, Forbidden, NotFound, Invalid, BadGateway),
    security(("bearer" = []))
)]
#[post("/provider-accounts/{id}/sync")]
pub async fn sync(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SyncRequest>,
) -> ApiResult<web::Json<SyncReport>> {
    auth.require(Permission::ProvidersManage)?;
    Ok(web::Json(
        providers::sync(&state, &auth, id.into_inner(), body.into_inner()?).await?,
    ))
}
