//! Clients, subscriptions, renewals and revenue. The arithmetic and the renewal rules are pure
//! (`shared::billing`); this module loads rows, scopes them to the caller's teams, records every
//! change as a subscription event and an audit row, and runs the renewal steps as conditional
//! UPDATEs so a step happens once however often the job runs.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::notify::{notify_and_email, NewNotification};
use crate::domain::teams;
use crate::entities::{
    clients as client_rows, deployments as deployment_rows, server_requests,
    servers as server_rows, subscription_events as event_rows, subscriptions as rows,
};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use shared::billing::{
    self as rules, add_to, churn, months_back, revenue_by_month, totals_list, Billed, Client,
    MarginRow, Money, MonthRevenue, RenewalFacts, RenewalStep, Revenue, RevenueShare, SaveClient,
    SaveSubscription, Subscription, SubscriptionDetail, SubscriptionEvent, SubscriptionStatus,
    Totals,
};
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

pub fn status_of(row: &rows::Model) -> SubscriptionStatus {
    SubscriptionStatus::parse(&row.status).unwrap_or(SubscriptionStatus::Suspended)
}

fn ids(value: &serde_json::Value) -> Vec<Uuid> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

pub fn price_of(row: &rows::Model) -> Money {
    Money::new(row.monthly_price_cents, &row.currency)
}

// ---- clients ----

pub async fn visible_client<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<client_rows::Model> {
    teams::scoped(
        db,
        auth,
        client_rows::Entity::find(),
        client_rows::Column::TeamId,
    )
    .await?
    .filter(client_rows::Column::Id.eq(id))
    .one(db)
    .await?
    .ok_or(ApiError::NotFound)
}

async fn client_dtos<C: ConnectionTrait>(
    db: &C,
    found: Vec<client_rows::Model>,
) -> Result<Vec<Client>, DbErr> {
    let teams = teams::refs_of(db, found.iter().map(|c| c.team_id)).await?;
    let subscriptions = rows::Entity::find()
        .filter(rows::Column::ClientId.is_in(found.iter().map(|c| c.id)))
        .all(db)
        .await?;
    let mut dtos = Vec::with_capacity(found.len());
    for row in found {
        let Some(team) = teams.get(&row.team_id) else {
            continue;
        };
        let own: Vec<&rows::Model> = subscriptions
            .iter()
            .filter(|s| s.client_id == row.id)
            .collect();
        let mut mrr = Totals::new();
        for s in own.iter().filter(|s| status_of(s).is_billed()) {
            add_to(&mut mrr, &price_of(s)).map_err(DbErr::Custom)?;
        }
        dtos.push(Client {
            team: team.clone(),
            id: row.id,
            company: row.company,
            contacts: serde_json::from_value(row.contacts).unwrap_or_default(),
            billing_email: row.billing_email,
            notes: row.notes,
            subscriptions: own.len() as u64,
            mrr: totals_list(&mrr),
            created_at: row.created_at,
        });
    }
    Ok(dtos)
}

pub async fn list_clients<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> ApiResult<Vec<Client>> {
    auth.require(Permission::ClientsManage)?;
    let found = teams::scoped(
        db,
        auth,
        client_rows::Entity::find(),
        client_rows::Column::TeamId,
    )
    .await?
    .order_by_asc(client_rows::Column::Company)
    .all(db)
    .await?;
    Ok(client_dtos(db, found).await?)
}

pub async fn client<C: ConnectionTrait>(db: &C, auth: &AuthUser, id: Uuid) -> ApiResult<Client> {
    auth.require(Permission::ClientsManage)?;
    let row = visible_client(db, auth, id).await?;
    client_dtos(db, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

async fn company_taken<C: ConnectionTrait>(
    db: &C,
    team: Uuid,
    company: &str,
    except: Option<Uuid>,
) -> Result<bool, DbErr> {
    let mut query = client_rows::Entity::find()
        .filter(client_rows::Column::TeamId.eq(team))
        .filter(client_rows::Column::Company.eq(company));
    if let Some(id) = except {
        query = query.filter(client_rows::Column::Id.ne(id));
    }
    Ok(query.one(db).await?.is_some())
}

fn client_view(row: &client_rows::Model) -> serde_json::Value {
    serde_json::json!({"company": row.company, "billing_email": row.billing_email,
                       "contacts": row.contacts, "team_id": row.team_id})
}

/// Creates (`id` None) or updates a client.
pub async fn save_client(
    state: &AppState,
    auth: &AuthUser,
    id: Option<Uuid>,
    input: SaveClient,
) -> ApiResult<Client> {
    auth.require(Permission::ClientsManage)?;
    input.validate()?;
    let txn = crate::db::begin_write(&state.db).await?;
    // The row first: a client of another team is not found, whatever the body says.
    let existing = match id {
        Some(id) => Some(visible_client(&txn, auth, id).await?),
        None => None,
    };
    if !teams::may_use_team(&txn, auth, input.team_id).await? {
        return Err(ApiError::field(
            "team_id",
            "you are not a member of this team",
        ));
    }
    let company = input.company.trim().to_owned();
    if company_taken(
        &txn,
        input.team_id,
        &company,
        existing.as_ref().map(|e| e.id),
    )
    .await?
    {
        return Err(ApiError::field(
            "company",
            "this team already has a client of that name",
        ));
    }
    let now = chrono::Utc::now();
    let contacts = serde_json::to_value(&input.contacts).map_err(anyhow::Error::from)?;
    let (before, row) = match existing {
        None => (
            None,
            client_rows::ActiveModel {
                id: Set(Uuid::new_v4()),
                team_id: Set(input.team_id),
                company: Set(company),
                contacts: Set(contacts),
                billing_email: Set(input.billing_email.trim().to_owned()),
                notes: Set(input.notes.trim().to_owned()),
                created_by: Set(Some(auth.id())),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?,
        ),
        Some(existing) => {
            let before = client_view(&existing);
            let mut active: client_rows::ActiveModel = existing.into();
            active.team_id = Set(input.team_id);
            active.company = Set(company);
            active.contacts = Set(contacts);
            active.billing_email = Set(input.billing_email.trim().to_owned());
            active.notes = Set(input.notes.trim().to_owned());
            active.updated_at = Set(now);
            (Some(before), active.update(&txn).await?)
        }
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if before.is_some() {
                "client.update"
            } else {
                "client.create"
            },
            target_type: "client",
            target_id: Some(row.id.to_string()),
            before,
            after: Some(client_view(&row)),
        },
    )
    .await?;
    txn.commit().await?;
    client_dtos(&state.db, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Deletes a client without subscriptions (its history would go with it otherwise).
pub async fn delete_client(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::ClientsManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = visible_client(&txn, auth, id).await?;
    let has = rows::Entity::find()
        .filter(rows::Column::ClientId.eq(row.id))
        .one(&txn)
        .await?
        .is_some();
    if has {
        return Err(ApiError::Conflict(
            "the client has subscriptions; cancel them instead of deleting the client".into(),
        ));
    }
    client_rows::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "client.delete",
            target_type: "client",
            target_id: Some(row.id.to_string()),
            before: Some(client_view(&row)),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---- subscriptions ----

pub async fn visible<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<rows::Model> {
    teams::scoped(db, auth, rows::Entity::find(), rows::Column::TeamId)
        .await?
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
    let mut query = teams::scoped(db, auth, rows::Entity::find(), rows::Column::TeamId).await?;
    if let Some(client) = client {
        query = query.filter(rows::Column::ClientId.eq(client));
    }
    let found = query.order_by_asc(rows::Column::EndDate).all(db).await?;
    Ok(to_dtos(db, found).await?)
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

async fn event<C: ConnectionTrait>(
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

// ---- renewals ----

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

// ---- revenue ----

fn billed(row: &rows::Model, clients: &HashMap<Uuid, String>) -> Billed {
    Billed {
        client: clients.get(&row.client_id).cloned().unwrap_or_default(),
        plan: row.plan_name.clone(),
        price: price_of(row),
        start: row.start_date,
        stop: row.stopped_on,
    }
}

pub async fn revenue<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    today: NaiveDate,
) -> ApiResult<Revenue> {
    auth.require(Permission::RevenueRead)?;
    let found = teams::scoped(db, auth, rows::Entity::find(), rows::Column::TeamId)
        .await?
        .order_by_asc(rows::Column::CreatedAt)
        .all(db)
        .await?;
    let clients: HashMap<Uuid, String> = client_rows::Entity::find()
        .filter(client_rows::Column::Id.is_in(found.iter().map(|s| s.client_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.company))
        .collect();
    let all: Vec<Billed> = found.iter().map(|r| billed(r, &clients)).collect();
    let now_billed: Vec<&rows::Model> = found
        .iter()
        .filter(|r| status_of(r).is_billed() && r.start_date <= today)
        .collect();
    let mut mrr = Totals::new();
    let mut by_client: std::collections::BTreeMap<String, Totals> = Default::default();
    let mut by_plan: std::collections::BTreeMap<String, Totals> = Default::default();
    // Totals beyond i64 cents cannot come from validated prices; should the rows hold them, the
    // figures are refused (logged, 500) rather than wrapped.
    let too_large = |e: String| ApiError::Internal(anyhow::anyhow!("revenue figures: {e}"));
    for r in &now_billed {
        let price = price_of(r);
        add_to(&mut mrr, &price).map_err(too_large)?;
        add_to(
            by_client
                .entry(clients.get(&r.client_id).cloned().unwrap_or_default())
                .or_default(),
            &price,
        )
        .map_err(too_large)?;
        add_to(by_plan.entry(r.plan_name.clone()).or_default(), &price).map_err(too_large)?;
    }
    let arr = mrr
        .iter()
        .map(|(c, v)| Ok((c.clone(), v.checked_mul(12).ok_or("ARR is too large")?)))
        .collect::<Result<Totals, String>>()
        .map_err(too_large)?;
    let months = months_back(today, 12);
    let by_month = revenue_by_month(&all, &months)
        .map_err(too_large)?
        .into_iter()
        .map(|(first, totals)| MonthRevenue {
            month: first.format("%Y-%m").to_string(),
            totals: totals_list(&totals),
            churn: churn(&all, first),
        })
        .collect();
    let share = |map: std::collections::BTreeMap<String, Totals>| -> Vec<RevenueShare> {
        map.into_iter()
            .map(|(name, totals)| RevenueShare {
                name,
                mrr: totals_list(&totals),
            })
            .collect()
    };
    let dtos = to_dtos(db, now_billed.into_iter().cloned().collect()).await?;
    Ok(Revenue {
        today,
        mrr: totals_list(&mrr),
        arr: totals_list(&arr),
        by_month,
        by_client: share(by_client),
        by_plan: share(by_plan),
        margins: dtos
            .into_iter()
            .map(|s| MarginRow {
                subscription_id: s.id,
                client: s.client_company,
                plan: s.plan_name,
                price: s.price,
                cost: s.cost,
                margin: s.margin,
            })
            .collect(),
    })
}

/// One CSV line, quoting fields that need it (and neutralising spreadsheet formulas).
fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            let f = if f.starts_with(['=', '+', '-', '@']) {
                format!("'{f}")
            } else {
                f.clone()
            };
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}

/// The revenue figures as CSV: one row per month and currency, then one per subscription margin.
pub fn revenue_csv(revenue: &Revenue) -> String {
    let cents = |m: &Money| format!("{}.{:02}", m.cents / 100, (m.cents % 100).abs());
    let mut out = csv_line(&["section", "key", "currency", "amount", "extra"].map(String::from));
    for m in &revenue.mrr {
        out.push_str(&csv_line(&[
            "mrr".into(),
            revenue.today.to_string(),
            m.currency.clone(),
            cents(m),
            String::new(),
        ]));
    }
    for month in &revenue.by_month {
        for m in &month.totals {
            out.push_str(&csv_line(&[
                "month".into(),
                month.month.clone(),
                m.currency.clone(),
                cents(m),
                month
                    .churn
                    .map(|c| format!("churn {c}%"))
                    .unwrap_or_default(),
            ]));
        }
    }
    for row in &revenue.margins {
        out.push_str(&csv_line(&[
            "margin".into(),
            format!("{} / {}", row.client, row.plan),
            row.price.currency.clone(),
            cents(&row.price),
            row.margin.as_ref().map(cents).unwrap_or_default(),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(
            csv_line(&[
                "a,b".into(),
                "say \"hi\"".into(),
                "=cmd()".into(),
                "plain".into()
            ]),
            "\"a,b\",\"say \"\"hi\"\"\",'=cmd(),plain\r\n"
        );
    }
}
