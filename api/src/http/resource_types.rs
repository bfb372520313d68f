use crate::auth::AuthUser;
use crate::domain::seed::parse_category;
use crate::entities::resource_types as rows;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use sea_orm::{EntityTrait, QueryOrder};
use shared::dto::{Problem, ResourceType};
use shared::Permission;

/// The catalog of resource types (storage, database, big data) a request can name.
#[utoipa::path(
    tag = "catalog",
    responses(
        (status = 200, body = Vec<ResourceType>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/resource-types")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<ResourceType>>> {
    auth.require(Permission::ResourceTypesRead)?;
    let found = rows::Entity::find()
        .order_by_asc(rows::Column::Category)
        .order_by_asc(rows::Column::Slug)
        .all(&state.db)
        .await?;
    Ok(web::Json(
        found
            .into_iter()
            .map(|r| ResourceType {
                id: r.id,
                category: parse_category(&r.category),
                slug: r.slug,
                name: r.name,
                description: r.description,
            })
            .collect(),
    ))
}
