//! The renewal job's side: the steps due on a day (the rules are `shared::billing`'s), each a
//! conditional UPDATE with its event, audit row and notifications.

use super::subscription_changes::event;
use super::{ids, rows, status_of};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::notify::{notify_and_email, NewNotification};
use crate::entities::{clients as client_rows, servers as server_rows};
use crate::state::AppState;
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use shared::billing::{self as rules, RenewalFacts, RenewalStep, SubscriptionStatus};

fn facts(row: &rows::Model) -> RenewalFacts {
    RenewalFacts {
        status: status_of(row),
        end_date: row.end_date,
        auto_renew: row.auto_renew,
        period_months: row.period_months.max(1) as u32,
        notice_days: row.notice_days.max(0) as u32,
        notified_for: row.notified_for,
        power_off_after_days: row.power_off_after_days.map(|d| d.max(0) as u32),
        powered_off: row.powered_off_at.is_some(),
    }
}

/// Runs the renewal steps due on `today` for every subscription. Each step is a conditional
/// UPDATE on the fact it changes, with its event, audit row and notifications in the same
/// transaction: running twice (or on two workers) does each step once. Returns the steps taken.
pub async fn renew_due(state: &AppState, today: NaiveDate) -> Result<usize, DbErr> {
    let candidates = rows::Entity::find()
        .filter(rows::Column::Status.is_in([
            SubscriptionStatus::Active.as_str(),
            SubscriptionStatus::Expiring.as_str(),
            SubscriptionStatus::Expired.as_str(),
        ]))
        .all(&state.db)
        .await?;
    let mut taken = 0;
    for row in candidates {
        for step in rules::renewal_steps(&facts(&row), today) {
            let txn = crate::db::begin_write(&state.db).await?;
            if apply_step(&txn, state, &row, &step, today).await? {
                txn.commit().await?;
                taken += 1;
            }
        }
    }
    Ok(taken)
}

async fn apply_step<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    row: &rows::Model,
    step: &RenewalStep,
    today: NaiveDate,
) -> Result<bool, DbErr> {
    let base = rows::Entity::update_many()
        .col_expr(rows::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Status.eq(row.status.clone()))
        .filter(rows::Column::EndDate.eq(row.end_date));
    let client = client_rows::Entity::find_by_id(row.client_id)
        .one(db)
        .await?;
    let company = client
        .as_ref()
        .map(|c| c.company.clone())
        .unwrap_or_default();
    let (kind, detail, update, action) = match step {
        RenewalStep::Notify { end } => (
            "notified",
            format!("ends on {end}; owner and client contact told"),
            base.col_expr(rows::Column::NotifiedFor, Expr::value(*end))
                .col_expr(
                    rows::Column::Status,
                    Expr::value(SubscriptionStatus::Expiring.as_str()),
                )
                .filter(
                    rows::Column::NotifiedFor
                        .is_null()
                        .or(rows::Column::NotifiedFor.ne(*end)),
                ),
            "subscription.notify",
        ),
        RenewalStep::Renew { from, to } => (
            "renewed",
            format!("auto-renewed from {from} to {to}"),
            base.col_expr(rows::Column::EndDate, Expr::value(*to))
                .col_expr(
                    rows::Column::Status,
                    Expr::value(SubscriptionStatus::Active.as_str()),
                ),
            "subscription.renew",
        ),
        RenewalStep::Expire => (
            "expired",
            format!("ended on {} without renewal", row.end_date),
            base.col_expr(
                rows::Column::Status,
                Expr::value(SubscriptionStatus::Expired.as_str()),
            )
            .col_expr(rows::Column::StoppedOn, Expr::value(row.end_date)),
            "subscription.expire",
        ),
        RenewalStep::PowerOff => (
            "powered_off",
            "the grace period after expiry passed; servers powered off".to_owned(),
            base.col_expr(rows::Column::PoweredOffAt, Expr::value(chrono::Utc::now()))
                .filter(rows::Column::PoweredOffAt.is_null()),
            "subscription.power_off",
        ),
    };
    if update.exec(db).await?.rows_affected == 0 {
        return Ok(false);
    }
    event(db, row.id, None, kind, &detail, None, None).await?;
    if matches!(step, RenewalStep::PowerOff) {
        for server_id in ids(&row.server_ids) {
            if let Some(server) = server_rows::Entity::find_by_id(server_id).one(db).await? {
                crate::domain::servers::enqueue_op(
                    db,
                    &server,
                    "power",
                    serde_json::json!({"op": "power", "action": "stop", "server_id": server.id}),
                    None,
                )
                .await?;
            }
        }
    }
    audit::record(
        db,
        &crate::auth::RequestContext::system(),
        AuditEntry {
            actor: None,
            action,
            target_type: "subscription",
            target_id: Some(row.id.to_string()),
            before: Some(serde_json::json!({"status": row.status, "end_date": row.end_date})),
            after: Some(serde_json::json!({"step": kind, "detail": detail, "on": today})),
        },
    )
    .await?;
    // The client's billing contact hears about the coming end (with the owner); the other
    // steps are the owner's business.
    let outside: Vec<String> = match (step, &client) {
        (RenewalStep::Notify { .. }, Some(client)) => {
            let contacts: Vec<shared::billing::Contact> =
                serde_json::from_value(client.contacts.clone()).unwrap_or_default();
            let mut emails = vec![client.billing_email.clone()];
            emails.extend(contacts.into_iter().map(|c| c.email));
            emails.retain(|e| !e.is_empty());
            emails.sort();
            emails.dedup();
            emails
        }
        _ => vec![],
    };
    let title = match step {
        RenewalStep::Notify { end } => format!("{company}: {} ends on {end}", row.plan_name),
        _ => format!("{company}: {} {}", row.plan_name, kind.replace('_', " ")),
    };
    notify_and_email(
        db,
        state.config.smtp_url.is_some(),
        &row.owner_id.into_iter().collect::<Vec<_>>(),
        None,
        &outside,
        &NewNotification {
            kind: "subscription.renewal",
            title,
            body: detail.clone(),
            link: Some(format!("/subscriptions/{}", row.id)),
        },
    )
    .await?;
    Ok(true)
}
