//! The catalog of resource types (storage, database, big data) a request can name.

use crate::auth::AuthUser;
use crate::domain::seed::parse_category;
use crate::entities::resource_types as rows;
use crate::error::ApiResult;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
use shared::dto::ResourceType;
use shared::Permission;

pub async fn resource_types<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
) -> ApiResult<Vec<ResourceType>> {
    auth.require(Permission::ResourceTypesRead)?;
    let found = rows::Entity::find()
        .order_by_asc(rows::Column::Category)
        .order_by_asc(rows::Column::Slug)
        .all(db)
        .await?;
    Ok(found
        .into_iter()
        .map(|r| ResourceType {
            id: r.id,
            category: parse_category(&r.category),
            slug: r.slug,
            name: r.name,
            description: r.description,
        })
        .collect())
}
