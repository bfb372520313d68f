//! Notifications, the webhooks that receive them and the log of deliveries.

use crate::providers::endpoint;
use crate::validation::{self as v, FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationList {
    pub items: Vec<Notification>,
    pub unread: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Webhook {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateWebhook {
    pub name: String,
    pub url: String,
    /// HMAC-SHA256 key for the `X-Provisio-Signature` header; write-only.
    pub secret: String,
}

impl CreateWebhook {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 1, 64))
            .check(
                "url",
                if self.url.is_empty() {
                    Err("is required".into())
                } else {
                    endpoint(&self.url)
                },
            )
            .check(
                "secret",
                if self.secret.len() < 16 || self.secret.len() > 200 {
                    Err("use 16 to 200 characters".into())
                } else {
                    Ok(())
                },
            );
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Delivery {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub channel: String,
    pub target: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}
