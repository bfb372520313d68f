//! Server requests: the form, the list query, the request with its timeline and approval
//! steps as people see it, and the references it shows (users, providers, jobs).

use crate::billing::Money;
use crate::dto::TeamRef;
use crate::policies::{ApprovalRule, Approvers};
use crate::providers::ProviderKind;
use crate::validation::{self as v, FieldErrors, Validator};
use crate::workflow::{RequestAction, RequestStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RequestListQuery {
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
    pub status: Option<RequestStatus>,
    pub team_id: Option<Uuid>,
    pub requester_id: Option<Uuid>,
    pub provider_account_id: Option<Uuid>,
    /// Matches hostname or purpose.
    pub q: Option<String>,
    /// `created_at`, `-created_at` (default), `hostname`, `-hostname`, `status`.
    pub sort: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateServerRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 253,
            pattern = "^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
        )
    )]
    pub hostname: String,
    pub team_id: Uuid,
    pub provider_account_id: Uuid,
    pub location: String,
    pub server_type: Option<String>,
    pub cpu: Option<u32>,
    pub ram_mb: Option<u32>,
    pub disk_gb: Option<u32>,
    pub image: String,
    pub purpose: String,
    #[serde(default)]
    pub ssh_public_keys: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// The client subscription the server is for (its margin shows on the approval).
    #[serde(default)]
    pub subscription_id: Option<Uuid>,
}

impl CreateServerRequest {
    /// Checks that need no catalog; the catalog-dependent ones run in the API.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("hostname", hostname(&self.hostname))
            .check("purpose", v::display_text(&self.purpose, 3, 1000))
            .check("notes", v::display_text(&self.notes, 0, 4000));
        for (i, key) in self.ssh_public_keys.iter().enumerate() {
            val.check(&format!("ssh_public_keys[{i}]"), ssh_public_key(key));
        }
        val.finish()
    }
}

/// RFC 1123 host name: labels of 1–63 letters, digits and inner hyphens, 253 characters at most.
pub fn hostname(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("is required: a name for the server, such as web-1".into());
    }
    if value.len() > 253 {
        return Err("is too long: at most 253 characters".into());
    }
    for label in value.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err("must be an RFC 1123 host name: letters, digits and inner hyphens, dot-separated labels of at most 63 characters".into());
        }
    }
    Ok(())
}

/// An OpenSSH public key line: a known type, base64 data, optional comment.
pub fn ssh_public_key(value: &str) -> Result<(), String> {
    let mut parts = value.split_whitespace();
    let kind = parts.next().unwrap_or("");
    let data = parts.next().unwrap_or("");
    const KINDS: [&str; 6] = [
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
    ];
    if !KINDS.contains(&kind) {
        return Err("must start with a key type such as ssh-ed25519 or ssh-rsa".into());
    }
    if data.len() < 32
        || !data
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
    {
        return Err("the key data is not valid base64".into());
    }
    if value.chars().any(char::is_control) || value.len() > 8192 {
        return Err("must be a single line without control characters".into());
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserRef {
    pub id: Uuid,
    pub username: String,
    pub full_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderRef {
    pub id: Uuid,
    pub name: String,
    pub kind: ProviderKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct JobSummary {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerRequest {
    pub id: Uuid,
    pub hostname: String,
    pub team: TeamRef,
    pub requester: UserRef,
    pub provider_account: ProviderRef,
    pub location: String,
    pub server_type: Option<String>,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub image: String,
    pub purpose: String,
    pub ssh_public_keys: Vec<String>,
    pub notes: String,
    pub status: RequestStatus,
    pub estimated_monthly: Option<Money>,
    pub rejection_reason: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the caller may do now, from the shared state machine and the approval policy.
    pub allowed_actions: Vec<RequestAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RequestEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: Option<UserRef>,
    /// `created`, `transition`, `approval`, `comment`.
    pub kind: String,
    pub from_status: Option<RequestStatus>,
    pub to_status: Option<RequestStatus>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalStepView {
    pub index: u32,
    pub rule: ApprovalRule,
    pub approvers: Approvers,
    pub approved_by: Vec<UserRef>,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerRequestDetail {
    pub request: ServerRequest,
    pub timeline: Vec<RequestEvent>,
    pub approval_steps: Vec<ApprovalStepView>,
    pub current_step: u32,
    pub job: Option<JobSummary>,
    /// The provisioning attempts, newest first.
    pub executions: Vec<crate::servers::Execution>,
    /// The inventory row of the server this request produced.
    pub server_id: Option<Uuid>,
    /// The client subscription the server is for, and what its margin becomes with this server's
    /// catalog price (same currency only) — what an approver weighs.
    #[serde(default)]
    pub subscription: Option<crate::billing::Subscription>,
    #[serde(default)]
    pub margin_with_server: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RejectRequest {
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CommentRequest {
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_rfc_1123() {
        for ok in ["web-1", "a", "db01.example.com", &"a".repeat(63)] {
            assert!(hostname(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-web",
            "web-",
            "we_b",
            "web..x",
            "a;rm -rf",
            &"a".repeat(64),
            "ünïcode",
        ] {
            assert!(hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_keys_are_checked() {
        assert!(ssh_public_key(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq0wjT2QVv3ZpZpZpZpZpZpZpZpZpZpZpZp me@host"
        )
        .is_ok());
        assert!(ssh_public_key("ssh-dss AAAAB3NzaC1kc3MAAACBAP").is_err());
        assert!(ssh_public_key("ssh-ed25519 $(reboot)").is_err());
    }
}

/// Whether the provider can build a pending request now, checked live before it is approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestPreflight {
    pub ok: bool,
    /// What stands in the way, in sentences (a vanished template, a node gone, the account's
    /// connection failing).
    pub problems: Vec<String>,
}
