use crate::auth::AuthUser;
use crate::domain::teams::visible_team_ids;
use crate::domain::users::roles_of;
use crate::entities::{api_tokens, resource_types, teams, users};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use shared::dto::{Overview, Problem};
use shared::{Permission, Role};
use std::collections::BTreeMap;

/// Counts for the caller's dashboard, limited to what their roles may see.
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = 200, body = Overview),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/overview")]
pub async fn overview(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Overview>> {
    auth.require(Permission::DashboardView)?;
    let db = &state.db;
    let teams = match visible_team_ids(db, &auth).await? {
        None => teams::Entity::find().count(db).await?,
        Some(ids) => ids.len() as u64,
    };
    let (users_by_role, active_users) = if auth.can(Permission::UsersManage) {
        let all = users::Entity::find()
            .filter(users::Column::Active.eq(true))
            .all(db)
            .await?;
        let mut by_role: BTreeMap<String, u64> = Role::ALL
            .iter()
            .map(|r| (r.as_str().to_owned(), 0))
            .collect();
        for u in &all {
            for r in roles_of(u) {
                *by_role.entry(r.as_str().to_owned()).or_default() += 1;
            }
        }
        (Some(by_role), Some(all.len() as u64))
    } else {
        (None, None)
    };
    Ok(web::Json(Overview {
        teams,
        users_by_role,
        active_users,
        resource_types: resource_types::Entity::find().count(db).await?,
        api_tokens: api_tokens::Entity::find()
            .filter(api_tokens::Column::UserId.eq(auth.id()))
            .filter(api_tokens::Column::RevokedAt.is_null())
            .count(db)
            .await?,
    }))
}
