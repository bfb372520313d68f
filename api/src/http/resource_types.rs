//! The resource-type catalogue: everyone reads it; administrators add, change and retire types.

use super::responses::{Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::resources::catalogue;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, put, web, HttpResponse};
use shared::dto::ResourceType;
use shared::resources::SaveResourceType;
use shared::Permission;
use uuid::Uuid;

/// The catalog of resource types (storage, database, big data) a request can name, each with how
/// it is provided: a shipped recipe (with the settings a request makes) or by hand.
#[utoipa::path(
    tag = "catalog",
    responses(
        (status = 200, body = Vec<ResourceType>),
        Unauthenticated,
    ),
    security(("bearer" = []))
)]
#[get("/resource-types")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<ResourceType>>> {
    Ok(web::Json(
        catalogue::resource_types(&state.db, &auth).await?,
    ))
}

/// Adds a type to the catalogue (administrators).
#[utoipa::path(tag = "catalog", request_body = SaveResourceType, responses((status = 201, body = ResourceType), Unauthenticated, Forbidden, Invalid), security(("bearer" = [])))]
#[post("/resource-types")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SaveResourceType>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ResourceTypesManage)?;
    let saved = catalogue::save(&state, &auth, None, body.into_inner()?).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/resource-types/{}", saved.id)))
        .json(saved))
}

/// Changes a type, or retires it (`retired: true`): a retired type takes no new requests and
/// stays for the resources made from it. The slug stays as created.
#[utoipa::path(tag = "catalog", params(("id" = Uuid, Path)), request_body = SaveResourceType, responses((status = 200, body = ResourceType), Unauthenticated, Forbidden, NotFound, Invalid), security(("bearer" = [])))]
#[put("/resource-types/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SaveResourceType>,
) -> ApiResult<web::Json<ResourceType>> {
    auth.require(Permission::ResourceTypesManage)?;
    Ok(web::Json(
        catalogue::save(&state, &auth, Some(id.into_inner()), body.into_inner()?).await?,
    ))
}
