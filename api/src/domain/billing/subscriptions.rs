//! What a caller sees of subscriptions: the visible rows, their DTOs with the provider cost and
//! margin of the servers they name, the list and the detail with its events.

use super::{ids, price_of, rows, status_of};
use crate::auth::AuthUser;
use crate::domain::teams;
use crate::entities::{
    clients as client_rows, deployments as deployment_rows, server_requests,
    servers as server_rows, subscription_events as event_rows,
};
use crate::error::{ApiError, ApiResult};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use shared::billing::{
    LinkTarget, Linkable, Money, Subscription, SubscriptionDetail, SubscriptionEvent,
};
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    teams::scoped(auth, rows::Entity::find(), rows::Column::TeamId)
        .filter(rows::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Monthly provider cost of the servers a subscription names, from the catalog prices their
/// requests were estimated at; None when any is unknown or in another currency.
async fn costs<C: ConnectionTrait>(
    db: &C,
    found: &[rows::Model],
) -> Result<HashMap<Uuid, Option<Money>>, DbErr> {
    let server_ids: Vec<Uuid> = found.iter().flat_map(|s| ids(&s.server_ids)).collect();
    let servers: HashMap<Uuid, Option<Uuid>> = server_rows::Entity::find()
        .filter(server_rows::Column::Id.is_in(server_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.request_id))
        .collect();
    let requests: HashMap<Uuid, (Option<i64>, Option<String>)> = server_requests::Entity::find()
        .filter(server_requests::Column::Id.is_in(servers.values().flatten().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, (r.estimated_monthly_cents, r.currency)))
        .collect();
    Ok(found
        .iter()
        .map(|s| {
            let linked = ids(&s.server_ids);
            let mut total = Some(Money::new(0, &s.currency));
            for server in &linked {
                let cost = servers
                    .get(server)
                    .copied()
                    .flatten()
                    .and_then(|r| requests.get(&r))
                    .and_then(|(cents, currency)| {
                        Some(Money::new((*cents)?, currency.as_deref()?))
                    });
                total = match (total, cost) {
                    (Some(t), Some(c)) => t.checked_add(&c).ok(),
                    _ => None,
                };
            }
            (s.id, total.filter(|_| !linked.is_empty()))
        })
        .collect())
}

pub async fn to_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<rows::Model>,
) -> Result<Vec<Subscription>, DbErr> {
    let teams = teams::refs_of(db, found.iter().map(|s| s.team_id)).await?;
    let clients: HashMap<Uuid, String> = client_rows::Entity::find()
        .filter(client_rows::Column::Id.is_in(found.iter().map(|s| s.client_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.company))
        .collect();
    let costs = costs(db, &found).await?;
    Ok(found
        .into_iter()
        .filter_map(|row| {
            let price = price_of(&row);
            let cost = costs.get(&row.id).cloned().flatten();
            Some(Subscription {
                team: teams.get(&row.team_id)?.clone(),
                id: row.id,
                client_id: row.client_id,
                client_company: clients.get(&row.client_id).cloned().unwrap_or_default(),
                plan_name: row.plan_name.clone(),
                period_months: row.period_months.max(1) as u32,
                margin: cost.as_ref().and_then(|c| price.checked_sub(c).ok()),
                cost,
                price,
                start_date: row.start_date,
                end_date: row.end_date,
                auto_renew: row.auto_renew,
                status: status_of(&row),
                notice_days: row.notice_days.max(0) as u32,
                power_off_after_days: row.power_off_after_days.map(|d| d.max(0) as u32),
                owner_id: row.owner_id,
                server_ids: ids(&row.server_ids),
                deployment_ids: ids(&row.deployment_ids),
                created_at: row.created_at,
            })
        })
        .collect())
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    client: Option<Uuid>,
) -> ApiResult<Vec<Subscription>> {
    auth.require(Permission::SubscriptionsManage)?;
    let mut query = teams::scoped(auth, rows::Entity::find(), rows::Column::TeamId);
    if let Some(client) = client {
        query = query.filter(rows::Column::ClientId.eq(client));
    }
    let found = query.order_by_asc(rows::Column::EndDate).all(db).await?;
    Ok(to_dtos(db, found).await?)
}

/// The team's servers (not deleted) and deployments, each marked when the subscription names it.
pub async fn linkable<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<Linkable> {
    auth.require(Permission::SubscriptionsManage)?;
    let row = visible(db, auth, id).await?;
    let (servers, deployments) = (ids(&row.server_ids), ids(&row.deployment_ids));
    let server_rows_found = server_rows::Entity::find()
        .filter(server_rows::Column::TeamId.eq(row.team_id))
        .filter(server_rows::Column::Status.ne("deleted"))
        .order_by_asc(server_rows::Column::Name)
        .all(db)
        .await?;
    let deployment_rows_found = deployment_rows::Entity::find()
        .filter(deployment_rows::Column::TeamId.eq(row.team_id))
        .order_by_asc(deployment_rows::Column::Name)
        .all(db)
        .await?;
    let target = |linked: &[Uuid], id: Uuid, name: String, status: String| LinkTarget {
        linked: linked.contains(&id),
        id,
        name,
        status,
    };
    Ok(Linkable {
        servers: server_rows_found
            .into_iter()
            .map(|s| target(&servers, s.id, s.name, s.status))
            .collect(),
        deployments: deployment_rows_found
            .into_iter()
            .map(|d| target(&deployments, d.id, d.name, d.status))
            .collect(),
    })
}

pub async fn detail<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<SubscriptionDetail> {
    auth.require(Permission::SubscriptionsManage)?;
    let row = visible(db, auth, id).await?;
    let events = event_rows::Entity::find()
        .filter(event_rows::Column::SubscriptionId.eq(row.id))
        .order_by_desc(event_rows::Column::At)
        .all(db)
        .await?;
    let users =
        crate::domain::requests::user_refs(db, events.iter().filter_map(|e| e.actor_id).collect())
            .await?;
    Ok(SubscriptionDetail {
        subscription: to_dtos(db, vec![row])
            .await?
            .pop()
            .ok_or(ApiError::NotFound)?,
        events: events
            .into_iter()
            .map(|e| SubscriptionEvent {
                actor: e.actor_id.and_then(|id| users.get(&id).cloned()),
                at: e.at,
                kind: e.kind,
                detail: e.detail,
                before: e.before,
                after: e.after,
            })
            .collect(),
    })
}
