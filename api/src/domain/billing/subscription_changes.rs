//! Changes to a subscription by its managers: saving it and moving its status, each recorded as a
//! subscription event and an audit row.

use super::clients::visible_client;
use super::rows;
use super::subscriptions::{detail, visible};
use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::{
    deployments as deployment_rows, servers as server_rows, subscription_events as event_rows,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::billing::{SaveSubscription, SubscriptionDetail, SubscriptionStatus};
use shared::Permission;
use uuid::Uuid;

pub(super) async fn event<C: ConnectionTrait>(
    db: &C,
    subscription: Uuid,
    actor: Option<Uuid>,
    kind: &str,
    detail: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), DbErr> {
    event_rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        subscription_id: Set(subscription),
        at: Set(chrono::Utc::now()),
        actor_id: Set(actor),
        kind: Set(kind.to_owned()),
        detail: Set(detail.to_owned()),
        before: Set(before),
        after: Set(after),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({
        "plan_name": row.plan_name, "period_months": row.period_months,
        "monthly_price_cents": row.monthly_price_cents, "currency": row.currency,
        "start_date": row.start_date, "end_date": row.end_date, "auto_renew": row.auto_renew,
        "status": row.status, "notice_days": row.notice_days,
        "power_off_after_days": row.power_off_after_days, "server_ids": row.server_ids,
        "deployment_ids": row.deployment_ids,
    })
}

/// Servers and deployments named by a subscription must be of its client's team.
async fn check_links<C: ConnectionTrait>(
    db: &C,
    team: Uuid,
    input: &SaveSubscription,
) -> ApiResult<()> {
    let servers = server_rows::Entity::find()
        .filter(server_rows::Column::Id.is_in(input.server_ids.clone()))
        .filter(server_rows::Column::TeamId.eq(team))
        .all(db)
        .await?;
    if servers.len() != input.server_ids.len() {
        return Err(ApiError::field(
            "server_ids",
            "every server must belong to the client's team",
        ));
    }
    let deployments = deployment_rows::Entity::find()
        .filter(deployment_rows::Column::Id.is_in(input.deployment_ids.clone()))
        .filter(deployment_rows::Column::TeamId.eq(team))
        .all(db)
        .await?;
    if deployments.len() != input.deployment_ids.len() {
        return Err(ApiError::field(
            "deployment_ids",
            "every deployment must belong to the client's team",
        ));
    }
    Ok(())
}

/// Creates (`id` None) or updates a subscription; each change is an event with before/after.
pub async fn save(
    state: &AppState,
    auth: &AuthUser,
    id: Option<Uuid>,
    input: SaveSubscription,
) -> ApiResult<SubscriptionDetail> {
    auth.require(Permission::SubscriptionsManage)?;
    input.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    // The row first: a subscription of another team is not found, whatever the body says.
    let existing = match id {
        Some(id) => Some(visible(&txn, auth, id).await?),
        None => None,
    };
    let client = visible_client(&txn, auth, input.client_id)
        .await
        .map_err(|_| ApiError::field("client_id", "no such client"))?;
    check_links(&txn, client.team_id, &input).await?;
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let row = match existing {
        None => {
            let row = rows::ActiveModel {
                id: Set(Uuid::new_v4()),
                team_id: Set(client.team_id),
                client_id: Set(client.id),
                plan_name: Set(input.plan_name.trim().to_owned()),
                period_months: Set(input.period_months as i32),
                monthly_price_cents: Set(input.monthly_price_cents),
                currency: Set(input.currency.clone()),
                start_date: Set(input.start_date),
                end_date: Set(input.end_date),
                auto_renew: Set(input.auto_renew),
                status: Set(initial_status(&input, today).as_str().into()),
                notice_days: Set(input.notice_days as i32),
                power_off_after_days: Set(input.power_off_after_days.map(|d| d as i32)),
                owner_id: Set(Some(auth.id())),
                notified_for: Set(None),
                powered_off_at: Set(None),
                stopped_on: Set(None),
                server_ids: Set(serde_json::json!(input.server_ids)),
                deployment_ids: Set(serde_json::json!(input.deployment_ids)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            event(
                &txn,
                row.id,
                Some(auth.id()),
                "created",
                "",
                None,
                Some(view(&row)),
            )
            .await?;
            row
        }
        Some(existing) => {
            if existing.client_id != client.id {
                return Err(ApiError::field(
                    "client_id",
                    "a subscription stays with its client",
                ));
            }
            let before = view(&existing);
            let mut active: rows::ActiveModel = existing.into();
            active.plan_name = Set(input.plan_name.trim().to_owned());
            active.period_months = Set(input.period_months as i32);
            active.monthly_price_cents = Set(input.monthly_price_cents);
            active.currency = Set(input.currency.clone());
            active.start_date = Set(input.start_date);
            active.end_date = Set(input.end_date);
            active.auto_renew = Set(input.auto_renew);
            active.notice_days = Set(input.notice_days as i32);
            active.power_off_after_days = Set(input.power_off_after_days.map(|d| d as i32));
            active.server_ids = Set(serde_json::json!(input.server_ids));
            active.deployment_ids = Set(serde_json::json!(input.deployment_ids));
            active.updated_at = Set(now);
            let row = active.update(&txn).await?;
            event(
                &txn,
                row.id,
                Some(auth.id()),
                "updated",
                "",
                Some(before),
                Some(view(&row)),
            )
            .await?;
            row
        }
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if id.is_some() {
                "subscription.update"
            } else {
                "subscription.create"
            },
            target_type: "subscription",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(view(&row)),
        },
    )
    .await?;
    txn.commit().await?;
    detail(&state.db, auth, row.id).await
}

fn initial_status(input: &SaveSubscription, today: NaiveDate) -> SubscriptionStatus {
    if !input.auto_renew && input.end_date <= today {
        SubscriptionStatus::Expired
    } else {
        SubscriptionStatus::Active
    }
}

/// Cancel, suspend or resume: one conditional UPDATE from the states that allow it.
pub async fn change(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    action: &str,
    reason: &str,
) -> ApiResult<SubscriptionDetail> {
    use SubscriptionStatus as S;
    auth.require(Permission::SubscriptionsManage)?;
    let (from, to, kind): (&[S], S, &str) = match action {
        "cancel" => (
            &[S::Active, S::Expiring, S::Suspended, S::Expired],
            S::Cancelled,
            "cancelled",
        ),
        "suspend" => (&[S::Active, S::Expiring], S::Suspended, "suspended"),
        "resume" => (&[S::Suspended], S::Active, "resumed"),
        _ => return Err(ApiError::NotFound),
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible(&txn, auth, id).await?;
    let today = chrono::Utc::now().date_naive();
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Status, Expr::value(to.as_str()))
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    update = match to {
        S::Cancelled | S::Suspended => update.col_expr(
            rows::Column::StoppedOn,
            Expr::value(row.stopped_on.unwrap_or(today)),
        ),
        _ => update.col_expr(
            rows::Column::StoppedOn,
            Expr::value(Option::<NaiveDate>::None),
        ),
    };
    let moved = update
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(row.status.clone()))
        .filter(rows::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(&txn)
        .await?
        .rows_affected;
    if moved == 0 {
        return Err(ApiError::Conflict(format!(
            "a {} subscription cannot be {kind}",
            row.status
        )));
    }
    event(
        &txn,
        row.id,
        Some(auth.id()),
        kind,
        reason.trim(),
        Some(serde_json::json!({"status": row.status})),
        Some(serde_json::json!({"status": to.as_str()})),
    )
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: match to {
                S::Cancelled => "subscription.cancel",
                S::Suspended => "subscription.suspend",
                _ => "subscription.resume",
            },
            target_type: "subscription",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"status": row.status})),
            after: Some(serde_json::json!({"status": to.as_str(), "reason": reason.trim()})),
        },
    )
    .await?;
    txn.commit().await?;
    detail(&state.db, auth, id).await
}
