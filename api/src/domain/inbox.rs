//! A caller's notification inbox: the latest ones, the unread count, marking read.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::notifications as rows;
use crate::error::{ApiError, ApiResult};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use shared::notifications::{Notification, NotificationList};
use uuid::Uuid;

/// How many of the latest notifications the inbox shows.
const SHOWN: u64 = 50;

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

/// The caller's latest notifications and how many are unread.
pub async fn list(db: &DatabaseConnection, auth: &AuthUser) -> ApiResult<NotificationList> {
    let items = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .order_by_desc(rows::Column::CreatedAt)
        .limit(SHOWN)
        .all(db)
        .await?;
    let unread = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::ReadAt.is_null())
        .count(db)
        .await?;
    Ok(NotificationList {
        items: items.into_iter().map(to_dto).collect(),
        unread,
    })
}

/// Marks one of the caller's notifications read (`Some`) or all of them; how many changed.
pub async fn mark_read(
    db: &DatabaseConnection,
    auth: &AuthUser,
    id: Option<Uuid>,
) -> ApiResult<u64> {
    let txn = crate::db::begin_write(db).await?;
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
