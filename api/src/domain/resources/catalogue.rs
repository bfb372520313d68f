//! The catalogue of resource types (storage, database, big data): what a team may request, and
//! whether a shipped recipe provides it or a technical agent does by hand. Administrators add,
//! change and retire types; the fourteen shipped ones are seeded and can be retired, not removed.

use super::recipes;
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::seed::{category_name, parse_category};
use crate::entities::resource_types as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use shared::dto::ResourceType;
use shared::resources::{Provisioning, SaveResourceType};
use shared::Permission;
use uuid::Uuid;

pub fn provisioning_of(row: &rows::Model) -> Provisioning {
    Provisioning::parse(&row.provisioning).unwrap_or(Provisioning::Manual)
}

pub fn to_dto(r: rows::Model) -> ResourceType {
    ResourceType {
        id: r.id,
        category: parse_category(&r.category),
        provisioning: provisioning_of(&r),
        recipe: r.recipe.as_deref().and_then(recipes::find).cloned(),
        retired: r.retired_at.is_some(),
        built_in: r.built_in,
        slug: r.slug,
        name: r.name,
        description: r.description,
    }
}

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
    Ok(found.into_iter().map(to_dto).collect())
}

fn audit_view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({
        "slug": row.slug, "name": row.name, "category": row.category,
        "provisioning": row.provisioning, "recipe": row.recipe,
        "retired": row.retired_at.is_some(),
    })
}

/// Creates (`id` None) or changes a type.
pub async fn save(
    state: &AppState,
    auth: &AuthUser,
    id: Option<Uuid>,
    input: SaveResourceType,
) -> ApiResult<ResourceType> {
    auth.require(Permission::ResourceTypesManage)?;
    input.validate()?;
    if let Some(recipe) = input.recipe.as_deref() {
        if recipes::find(recipe).is_none() {
            return Err(ApiError::field(
                "recipe",
                format!(
                    "no recipe is called `{recipe}`; the shipped ones are {}",
                    recipes::all()
                        .map(|r| r.slug.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let existing = match id {
        Some(id) => Some(
            rows::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound)?,
        ),
        None => None,
    };
    if let Some(existing) = &existing {
        if existing.slug != input.slug {
            return Err(ApiError::field(
                "slug",
                format!(
                    "a type's slug stays as created (`{}`): requests and recipes name it",
                    existing.slug
                ),
            ));
        }
    } else if rows::Entity::find()
        .filter(rows::Column::Slug.eq(&input.slug))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(ApiError::field("slug", "another type has this slug"));
    }
    let now = chrono::Utc::now();
    let retired_at = match (&existing, input.retired) {
        (Some(e), true) => Some(e.retired_at.unwrap_or(now)),
        (None, true) => Some(now),
        (_, false) => None,
    };
    let mut row = rows::ActiveModel {
        id: Set(existing.as_ref().map_or_else(Uuid::new_v4, |e| e.id)),
        slug: Set(input.slug.clone()),
        name: Set(input.name.trim().to_owned()),
        category: Set(category_name(input.category).into()),
        description: Set(input.description.trim().to_owned()),
        provisioning: Set(input.provisioning.as_str().into()),
        recipe: Set(input.recipe.clone()),
        retired_at: Set(retired_at),
        built_in: Set(existing.as_ref().is_some_and(|e| e.built_in)),
    };
    let saved = if existing.is_some() {
        row.id = sea_orm::ActiveValue::Unchanged(existing.as_ref().map(|e| e.id).unwrap());
        row.update(&txn).await?
    } else {
        row.insert(&txn).await?
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if existing.is_some() {
                "resource_type.update"
            } else {
                "resource_type.create"
            },
            target_type: "resource_type",
            target_id: Some(saved.id.to_string()),
            before: existing.as_ref().map(audit_view),
            after: Some(audit_view(&saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(saved))
}
