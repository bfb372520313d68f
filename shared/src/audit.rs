//! The audit trail as clients read it, and its filters.

use crate::requests::UserRef;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Option<UserRef>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The action in words ("Provider account created").
    #[serde(default)]
    pub summary: String,
    /// The target's name as recorded (a username, hostname or name), when it has one.
    #[serde(default)]
    pub target_name: Option<String>,
    /// The page that shows the target, when there is one.
    #[serde(default)]
    pub target_link: Option<String>,
    /// The recorded fields whose values differ between before and after.
    #[serde(default)]
    pub changes: Vec<FieldChange>,
}

/// One recorded field, before and after, as text (absent: `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// "provider_account" → "Provider account".
fn noun(target: &str) -> String {
    let words = target.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The action in words: `provider_account.create` → "Provider account created".
pub fn describe(action: &str) -> String {
    let (target, verb) = action.split_once('.').unwrap_or((action, ""));
    // A session is the person themselves.
    match (target, verb) {
        ("session", "login") => return "Signed in".into(),
        ("session", "logout") => return "Signed out".into(),
        _ => {}
    }
    let done = match verb {
        "" => return noun(target),
        "create" => "created".to_owned(),
        "update" => "updated".to_owned(),
        "delete" => "deleted".to_owned(),
        "test" => "connection tested".to_owned(),
        "comment" => "commented on".to_owned(),
        "revoke" => "revoked".to_owned(),
        "add" => "added".to_owned(),
        "run" => "run".to_owned(),
        "send" => "sent".to_owned(),
        "push" => "pushed".to_owned(),
        "sync" => "synced".to_owned(),
        "sync_all" => "synced (all accounts)".to_owned(),
        "register" => "registered".to_owned(),
        "cancel" => "cancelled".to_owned(),
        "labels" => "labels changed".to_owned(),
        "approval_policy" => "approval policy changed".to_owned(),
        other => other.replace('_', " "),
    };
    format!("{} {done}", noun(target))
}

/// The page that shows a target of this type.
pub fn link(target_type: &str, target_id: Option<&str>) -> Option<String> {
    let with_id = |base: &str| target_id.map(|id| format!("{base}/{id}"));
    match target_type {
        "request" | "server_request" => with_id("/requests"),
        "server" => with_id("/servers"),
        "deployment" => with_id("/deployments"),
        "project" => with_id("/projects"),
        "script" => with_id("/scripts"),
        "execution" => with_id("/runs"),
        "subscription" => with_id("/subscriptions"),
        "client" => with_id("/clients"),
        "user" => Some("/users".into()),
        "team" => Some("/teams".into()),
        "provider_account" | "provider" | "webhook" => Some("/providers".into()),
        _ => None,
    }
}

fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The name a target had, read from what was recorded about it.
pub fn recorded_name(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Option<String> {
    ["name", "hostname", "username", "company"]
        .iter()
        .find_map(|key| {
            after
                .and_then(|a| a.get(key))
                .or_else(|| before.and_then(|b| b.get(key)))
        })
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// The recorded fields that differ, in key order; a non-object state counts as one field.
pub fn changes(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let object = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::Object(map)) => Some(map.clone()),
        Some(serde_json::Value::Null) | None => Some(empty.clone()),
        Some(_) => None,
    };
    match (object(before), object(after)) {
        (Some(b), Some(a)) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter()
                .filter(|k| b.get(*k) != a.get(*k))
                .map(|k| FieldChange {
                    field: k.replace('_', " "),
                    before: b.get(k).map(text),
                    after: a.get(k).map(text),
                })
                .collect()
        }
        _ => vec![FieldChange {
            field: "value".into(),
            before: before.map(text),
            after: after.map(text),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_read_as_sentences() {
        assert_eq!(
            describe("provider_account.create"),
            "Provider account created"
        );
        assert_eq!(describe("session.login"), "Signed in");
        assert_eq!(
            describe("team.approval_policy"),
            "Team approval policy changed"
        );
        assert_eq!(
            describe("deployment.private_key_downloaded"),
            "Deployment private key downloaded"
        );
    }

    #[test]
    fn only_changed_fields_are_listed() {
        let before = json!({"name": "web", "cpu": 2, "labels": {"a": 1}});
        let after = json!({"name": "web", "cpu": 4, "region": "fsn1"});
        let found = changes(Some(&before), Some(&after));
        let fields: Vec<&str> = found.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["cpu", "labels", "region"]);
        assert_eq!(found[0].before.as_deref(), Some("2"));
        assert_eq!(found[0].after.as_deref(), Some("4"));
        assert_eq!(found[2].before, None);
        assert_eq!(found[2].after.as_deref(), Some("fsn1"));
        assert_eq!(recorded_name(Some(&before), None).as_deref(), Some("web"));
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 1000000),
        schema(minimum = 1, maximum = 1000000)
    )]
    pub page: Option<u64>,
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 200),
        schema(minimum = 1, maximum = 200)
    )]
    pub per_page: Option<u64>,
    pub actor_id: Option<Uuid>,
    /// Exact action, or a prefix ending in `.` (e.g. `request.`).
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}
