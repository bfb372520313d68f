use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::notifications as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use shared::dto::Problem;
use shared::requests::{Notification, NotificationList};
use uuid::Uuid;

fn to_dto(n: rows::Model) -> Notification {
    Notification {
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        link: n.link,
        created_at: n.created_at,
        read_at: n.read_at,
    }
}

/// The caller's latest 50 notifications and their unread count.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = NotificationList), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[get("/notifications")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<NotificationList>> {
    let items = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .order_by_desc(rows::Column::CreatedAt)
        .limit(50)
        .all(&state.db)
        .await?;
    let unread = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::ReadAt.is_null())
        .count(&state.db)
        .await?;
    Ok(web::Json(NotificationList {
        items: items.into_iter().map(to_dto).collect(),
        unread,
    }))
}

async fn mark(state: &AppState, auth: &AuthUser, id: Option<Uuid>) -> ApiResult<u64> {
    let txn = crate::db::begin_write(&state.db).await?;
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::ReadAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::ReadAt.is_null());
    if let Some(id) = id {
        if rows::Entity::find_by_id(id)
            .filter(rows::Column::UserId.eq(auth.id()))
            .one(&txn)
            .await?
            .is_none()
        {
            return Err(ApiError::NotFound);
        }
        update = update.filter(rows::Column::Id.eq(id));
    }
    let changed = update.exec(&txn).await?.rows_affected;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if id.is_some() {
                "notification.read"
            } else {
                "notification.read_all"
            },
            target_type: "notification",
            target_id: id.map(|i| i.to_string()),
            before: None,
            after: Some(serde_json::json!({"marked": changed})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(changed)
}

/// Marks one of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/notifications/{id}/read")]
pub async fn read(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    mark(&state, &auth, Some(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Marks all of the caller's notifications read.
#[utoipa::path(
    tag = "notifications",
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/notifications/read-all")]
pub async fn read_all(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    mark(&state, &auth, None).await?;
    Ok(HttpResponse::NoContent().finish())
}
