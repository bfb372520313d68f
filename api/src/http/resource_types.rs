use super::responses::Unauthenticated;
use crate::auth::AuthUser;
use crate::domain::catalog;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use shared::dto::ResourceType;

/// The catalog of resource types (storage, database, big data) a request can name.
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
    Ok(web::Json(catalog::resource_types(&state.db, &auth).await?))
}
