//! Notifications: an in-app row per recipient, written in the caller's transaction, plus one
//! delivery row per outside channel (webhooks, e-mail) that `deliver_due` sends and retries.

use crate::entities::{notification_deliveries as deliveries, notifications, users, webhooks};
use crate::exec::network_policy::{self, Purpose};
use crate::state::AppState;
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;
use sha2::Sha256;
use std::time::Duration;
use uuid::Uuid;

pub const MAX_ATTEMPTS: i32 = 5;

pub struct NewNotification {
    pub kind: &'static str,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
}

/// Notifies each recipient once (duplicates and `except` are skipped).
pub async fn notify<C: ConnectionTrait>(
    db: &C,
    email_enabled: bool,
    recipients: &[Uuid],
    except: Option<Uuid>,
    n: &NewNotification,
) -> Result<(), DbErr> {
    notify_and_email(db, email_enabled, recipients, except, &[], n).await
}

/// `notify`, and the same message e-mailed to people outside the app (a client's contact); their
/// deliveries hang off the first recipient's notification, so they are retried and listed alike.
pub async fn notify_and_email<C: ConnectionTrait>(
    db: &C,
    email_enabled: bool,
    recipients: &[Uuid],
    except: Option<Uuid>,
    outside: &[String],
    n: &NewNotification,
) -> Result<(), DbErr> {
    let mut outside: Vec<String> = if email_enabled {
        outside.iter().filter(|e| !e.is_empty()).cloned().collect()
    } else {
        vec![]
    };
    let mut ids: Vec<Uuid> = recipients
        .iter()
        .copied()
        .filter(|id| Some(*id) != except)
        .collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let hooks = webhooks::Entity::find()
        .filter(webhooks::Column::Active.eq(true))
        .all(db)
        .await?;
    let people = users::Entity::find()
        .filter(users::Column::Id.is_in(ids.clone()))
        .filter(users::Column::Active.eq(true))
        .all(db)
        .await?;
    let now = chrono::Utc::now();
    for user in people {
        let notification = notifications::ActiveModel {
            id: Set(Uuid::new_v4()),
            user_id: Set(user.id),
            kind: Set(n.kind.to_owned()),
            title: Set(n.title.clone()),
            body: Set(n.body.clone()),
            link: Set(n.link.clone()),
            created_at: Set(now),
            read_at: Set(None),
        }
        .insert(db)
        .await?;
        let mut targets: Vec<(&str, String)> = hooks
            .iter()
            .map(|h| ("webhook", h.id.to_string()))
            .collect();
        if email_enabled {
            targets.push(("email", user.email.clone()));
        }
        targets.extend(outside.drain(..).map(|e| ("email", e)));
        for (channel, target) in targets {
            deliveries::ActiveModel {
                id: Set(Uuid::new_v4()),
                notification_id: Set(notification.id),
                channel: Set(channel.to_owned()),
                target: Set(target),
                status: Set("pending".into()),
                attempts: Set(0),
                last_error: Set(None),
                next_attempt_at: Set(Some(now)),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// What every channel sends.
#[derive(Debug, Clone, Serialize)]
pub struct OutgoingMessage {
    pub delivery_id: Uuid,
    pub notification_id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    /// Absolute URL into the web app, when the notification points somewhere.
    pub url: Option<String>,
    pub recipient: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A way to reach people outside the app.
pub trait Notifier: Send + Sync {
    fn send<'a>(&'a self, message: &'a OutgoingMessage) -> BoxFuture<'a, Result<(), String>>;
}

pub struct WebhookNotifier {
    pub client: reqwest::Client,
    pub url: String,
    pub secret: String,
}

pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl Notifier for WebhookNotifier {
    fn send<'a>(&'a self, message: &'a OutgoingMessage) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let body = serde_json::to_vec(message).map_err(|e| e.to_string())?;
            let res = self
                .client
                .post(&self.url)
                .header("content-type", "application/json")
                .header("x-provisio-signature", signature(&self.secret, &body))
                .header("x-provisio-delivery", message.delivery_id.to_string())
                .body(body)
                .send()
                .await
                .map_err(|e| {
                    network_policy::refusal_in(&e).unwrap_or_else(|| format!("request failed: {e}"))
                })?;
            if res.status().is_success() {
                Ok(())
            } else {
                Err(format!("the endpoint answered {}", res.status()))
            }
        })
    }
}

pub struct EmailNotifier {
    pub transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    pub from: lettre::message::Mailbox,
}

impl Notifier for EmailNotifier {
    fn send<'a>(&'a self, message: &'a OutgoingMessage) -> BoxFuture<'a, Result<(), String>> {
        use lettre::AsyncTransport;
        Box::pin(async move {
            let to: lettre::message::Mailbox = message
                .recipient
                .parse()
                .map_err(|e| format!("bad recipient address: {e}"))?;
            let mut text = message.body.clone();
            if let Some(url) = &message.url {
                text.push_str(&format!("\n\n{url}\n"));
            }
            let email = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(format!("[Provisio] {}", message.title))
                .body(text)
                .map_err(|e| format!("could not build the e-mail: {e}"))?;
            self.transport
                .send(email)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP delivery failed: {e}"))
        })
    }
}

pub fn email_notifier(smtp_url: &str, from: &str) -> anyhow::Result<EmailNotifier> {
    Ok(EmailNotifier {
        transport: lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp_url)?
            .timeout(Some(Duration::from_secs(15)))
            .build(),
        from: from.parse()?,
    })
}

/// Sends every delivery that is due, once each even with several processes, and schedules
/// retries with exponential backoff. Returns how many were attempted.
pub async fn deliver_due(state: &AppState) -> anyhow::Result<usize> {
    let now = chrono::Utc::now();
    let due = deliveries::Entity::find()
        .filter(deliveries::Column::Status.is_in(["pending", "retrying"]))
        .filter(deliveries::Column::NextAttemptAt.lte(now))
        .order_by_asc(deliveries::Column::NextAttemptAt)
        .limit(50)
        .all(&state.db)
        .await?;
    let client = network_policy::guard_client(
        reqwest::Client::builder().timeout(Duration::from_secs(10)),
        &state.config.network,
        Purpose::Webhook,
    )
    .build()?;
    let email = match &state.config.smtp_url {
        Some(url) => Some(email_notifier(url, &state.config.smtp_from)?),
        None => None,
    };
    let mut attempted = 0;
    for delivery in due {
        // Claiming is one conditional UPDATE, so two processes never send the same delivery.
        let claimed = deliveries::Entity::update_many()
            .col_expr(deliveries::Column::Status, Expr::value("sending"))
            .col_expr(
                deliveries::Column::Attempts,
                Expr::value(delivery.attempts + 1),
            )
            .col_expr(deliveries::Column::UpdatedAt, Expr::value(now))
            .filter(
                Condition::all()
                    .add(deliveries::Column::Id.eq(delivery.id))
                    .add(deliveries::Column::Status.eq(delivery.status.clone())),
            )
            .exec(&state.db)
            .await?
            .rows_affected;
        if claimed == 0 {
            continue;
        }
        attempted += 1;
        let result = attempt(state, &client, email.as_ref(), &delivery).await;
        let attempts = delivery.attempts + 1;
        let mut row: deliveries::ActiveModel = delivery.clone().into();
        row.attempts = Set(attempts);
        row.updated_at = Set(chrono::Utc::now());
        match result {
            Ok(()) => {
                tracing::info!(delivery = %delivery.id, channel = %delivery.channel, attempts, "notification delivered");
                row.status = Set("delivered".into());
                row.last_error = Set(None);
                row.next_attempt_at = Set(None);
            }
            Err(error) => {
                tracing::warn!(delivery = %delivery.id, channel = %delivery.channel, attempts, %error, "notification delivery failed");
                row.last_error = Set(Some(error.chars().take(2000).collect()));
                if attempts >= MAX_ATTEMPTS {
                    row.status = Set("failed".into());
                    row.next_attempt_at = Set(None);
                } else {
                    let backoff = state.config.delivery_retry_base * 2u32.pow(attempts as u32 - 1);
                    row.status = Set("retrying".into());
                    row.next_attempt_at = Set(Some(
                        chrono::Utc::now()
                            + chrono::Duration::from_std(backoff).unwrap_or_default(),
                    ));
                }
            }
        }
        row.update(&state.db).await?;
    }
    Ok(attempted)
}

async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    email: Option<&EmailNotifier>,
    delivery: &deliveries::Model,
) -> Result<(), String> {
    let notification = notifications::Entity::find_by_id(delivery.notification_id)
        .one(&state.db)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the notification no longer exists")?;
    let message = OutgoingMessage {
        delivery_id: delivery.id,
        notification_id: notification.id,
        kind: notification.kind,
        title: notification.title,
        body: notification.body,
        url: notification
            .link
            .map(|l| format!("{}{l}", state.config.public_url.trim_end_matches('/'))),
        recipient: delivery.target.clone(),
        created_at: notification.created_at,
    };
    match delivery.channel.as_str() {
        "webhook" => {
            let id: Uuid = delivery.target.parse().map_err(|_| "bad webhook id")?;
            let hook = webhooks::Entity::find_by_id(id)
                .one(&state.db)
                .await
                .map_err(|e| e.to_string())?
                .filter(|h| h.active)
                .ok_or("the webhook was removed or disabled")?;
            // Checked on save too; the policy may have changed since, and a literal address
            // never reaches the guarded resolver.
            state
                .config
                .network
                .check_url_literal(Purpose::Webhook, &hook.url)
                .map_err(|refused| refused.0)?;
            let secret = state.keys.open(&hook.secret).map_err(|e| e.to_string())?;
            let recipient = users::Entity::find_by_id(notification.user_id)
                .one(&state.db)
                .await
                .map_err(|e| e.to_string())?
                .map(|u| u.username)
                .unwrap_or_default();
            let message = OutgoingMessage {
                recipient,
                ..message
            };
            WebhookNotifier {
                client: client.clone(),
                url: hook.url,
                secret,
            }
            .send(&message)
            .await
        }
        "email" => match email {
            Some(notifier) => notifier.send(&message).await,
            None => Err("e-mail is not configured (PROVISIO_SMTP_URL)".into()),
        },
        other => Err(format!("unknown channel {other}")),
    }
}

/// Runs `deliver_due` forever at the configured interval (inside `serve`).
pub async fn run_delivery_loop(state: AppState) {
    let mut tick = tokio::time::interval(state.config.delivery_interval);
    loop {
        tick.tick().await;
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(error = ?e, "notification delivery pass failed");
        }
    }
}
