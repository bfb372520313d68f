//! DTOs of the server-request workflow: provider accounts and their catalog, requests, timeline,
//! approval policies, notifications, webhooks, audit and dashboard figures.

use crate::dto::TeamRef;
use crate::roles::Role;
use crate::validation::{self as v, FieldErrors, Validator};
use crate::workflow::{RequestAction, RequestStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    Hetzner,
    Proxmox,
    TerraformProxmox,
    TerraformHcloud,
    Ssh,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Hetzner => "hetzner",
            ProviderKind::Proxmox => "proxmox",
            ProviderKind::TerraformProxmox => "terraform_proxmox",
            ProviderKind::TerraformHcloud => "terraform_hcloud",
            ProviderKind::Ssh => "ssh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ProviderKind::Hetzner,
            ProviderKind::Proxmox,
            ProviderKind::TerraformProxmox,
            ProviderKind::TerraformHcloud,
            ProviderKind::Ssh,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// An amount of money in minor units (cents) of an ISO 4217 currency. Never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Money {
    pub cents: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerTypeOffer {
    pub name: String,
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub monthly_price_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SizeLimits {
    pub max_cpu: u32,
    pub max_ram_mb: u32,
    pub max_disk_gb: u32,
}

/// Prices for custom sizes (Proxmox), per month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UnitPrices {
    pub cpu_cents: i64,
    pub ram_gb_cents: i64,
    pub disk_gb_cents: i64,
}

/// What a provider account offers; issue-4 adapters refresh it from the provider's API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Catalog {
    pub currency: String,
    pub locations: Vec<String>,
    pub images: Vec<String>,
    /// Fixed sizes (Hetzner server types); empty when only custom sizes are offered.
    #[serde(default)]
    pub server_types: Vec<ServerTypeOffer>,
    /// Limits for custom sizes; None when only fixed server types are offered.
    #[serde(default)]
    pub custom_limits: Option<SizeLimits>,
    #[serde(default)]
    pub unit_prices: Option<UnitPrices>,
}

impl Catalog {
    pub fn validate(&self) -> Result<(), String> {
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err("currency must be an ISO 4217 code like EUR".into());
        }
        if self.locations.is_empty() || self.images.is_empty() {
            return Err("needs at least one location and one image".into());
        }
        if self.server_types.is_empty() && self.custom_limits.is_none() {
            return Err("needs server types or custom size limits".into());
        }
        if self
            .server_types
            .iter()
            .any(|t| t.monthly_price_cents.is_some_and(|p| p < 0))
        {
            return Err("prices cannot be negative".into());
        }
        Ok(())
    }

    /// The resolved size and monthly estimate of a request, or a field error.
    pub fn resolve(
        &self,
        server_type: Option<&str>,
        cpu: Option<u32>,
        ram_mb: Option<u32>,
        disk_gb: Option<u32>,
    ) -> Result<ResolvedSize, (&'static str, String)> {
        if let Some(name) = server_type {
            let offer = self.server_types.iter().find(|t| t.name == name).ok_or((
                "server_type",
                format!("`{name}` is not offered by this provider account"),
            ))?;
            return Ok(ResolvedSize {
                cpu: offer.cpu,
                ram_mb: offer.ram_mb,
                disk_gb: offer.disk_gb,
                monthly_cents: offer.monthly_price_cents,
            });
        }
        let limits = self.custom_limits.as_ref().ok_or((
            "server_type",
            "choose one of this provider account's server types".to_string(),
        ))?;
        let cpu = cpu.ok_or(("cpu", "is required without a server type".to_string()))?;
        let ram_mb = ram_mb.ok_or(("ram_mb", "is required without a server type".to_string()))?;
        let disk_gb =
            disk_gb.ok_or(("disk_gb", "is required without a server type".to_string()))?;
        if !(1..=limits.max_cpu).contains(&cpu) {
            return Err(("cpu", format!("must be between 1 and {}", limits.max_cpu)));
        }
        if !(256..=limits.max_ram_mb).contains(&ram_mb) {
            return Err((
                "ram_mb",
                format!("must be between 256 and {}", limits.max_ram_mb),
            ));
        }
        if !(1..=limits.max_disk_gb).contains(&disk_gb) {
            return Err((
                "disk_gb",
                format!("must be between 1 and {}", limits.max_disk_gb),
            ));
        }
        let monthly_cents = self.unit_prices.as_ref().map(|p| {
            p.cpu_cents * i64::from(cpu)
                + (p.ram_gb_cents * i64::from(ram_mb) + 1023) / 1024
                + p.disk_gb_cents * i64::from(disk_gb)
        });
        Ok(ResolvedSize {
            cpu,
            ram_mb,
            disk_gb,
            monthly_cents,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSize {
    pub cpu: u32,
    pub ram_mb: u32,
    pub disk_gb: u32,
    pub monthly_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderAccount {
    pub id: Uuid,
    pub name: String,
    pub kind: ProviderKind,
    pub endpoint: String,
    pub catalog: Catalog,
    pub settings: ProviderSettings,
    /// Credentials are write-only: the API only says whether some are stored.
    pub has_credentials: bool,
    pub created_at: DateTime<Utc>,
}

/// How Provisio talks to a provider account and builds servers there (nothing secret).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderSettings {
    /// Catalog image name → provider image: a Hetzner image name, a Proxmox template VM id
    /// (`9000`, cloned) or an LXC template volume (`local:vztmpl/…`); absent = used as is.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Proxmox: storage for new disks and containers (default `local-lvm`).
    pub storage: Option<String>,
    /// Proxmox: network bridge (default `vmbr0`).
    pub bridge: Option<String>,
    /// Proxmox: SHA-256 fingerprint of the API's TLS certificate, for self-signed clusters.
    pub tls_fingerprint: Option<String>,
    /// Proxmox: PEM CA certificate that signed the API's TLS certificate.
    pub ca_pem: Option<String>,
    /// User the servers accept SSH logins for (default `root`).
    pub ssh_user: Option<String>,
    /// SSH port of new servers (default 22).
    pub ssh_port: Option<u16>,
    /// Wait until a new server answers on SSH and pin its host key (default true).
    pub wait_for_ssh: Option<bool>,
    /// Give up on a new server after this many seconds (default 600).
    pub ready_timeout_secs: Option<u32>,
    /// Terraform accounts: a module directory of your own instead of the built-in one; it takes
    /// `name` (and the usual variables) and outputs `server_id` and `ipv4`.
    pub terraform_module: Option<String>,
}

impl ProviderSettings {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(fp) = &self.tls_fingerprint {
            let hex: String = fp.chars().filter(|c| *c != ':').collect();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(
                    "tls_fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed)"
                        .into(),
                );
            }
        }
        if let Some(pem) = &self.ca_pem {
            if !pem.contains("-----BEGIN CERTIFICATE-----") {
                return Err("ca_pem must be a PEM certificate".into());
            }
        }
        for name in [&self.storage, &self.bridge].into_iter().flatten() {
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(
                    "storage and bridge are names of letters, digits, `-`, `_` or `.`".into(),
                );
            }
        }
        if self
            .ready_timeout_secs
            .is_some_and(|t| !(10..=7200).contains(&t))
        {
            return Err("ready_timeout_secs must be 10–7200".into());
        }
        if let Some(module) = &self.terraform_module {
            // Terraform is run on it with -chdir: an absolute folder, named without tricks.
            let ok = module.starts_with('/')
                && module.len() <= 500
                && !module.chars().any(|c| c.is_control())
                && module
                    .split('/')
                    .all(|part| part != ".." && !part.starts_with('-'));
            if !ok {
                return Err(
                    "terraform_module must be an absolute directory path without `..`".into(),
                );
            }
        }
        if let Some(user) = &self.ssh_user {
            // It becomes ansible_user in inventories, which Ansible templates.
            crate::servers::unix_user(user).map_err(|e| format!("ssh_user {e}"))?;
        }
        for (name, image) in &self.images {
            if name.is_empty()
                || image.is_empty()
                || image.len() > 200
                || image.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(format!(
                    "image mapping `{name}` must name a provider image without spaces"
                ));
            }
        }
        Ok(())
    }
}

/// Secrets of a provider account. Sent on create or to replace them; never returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProviderCredentials {
    /// Hetzner: the project API token. Proxmox: `user@realm!tokenid=secret`.
    pub api_token: Option<String>,
    /// SSH hosts: the private key (OpenSSH format) Provisio logs in with.
    pub private_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateProviderAccount {
    pub name: String,
    pub kind: ProviderKind,
    #[serde(default)]
    pub endpoint: String,
    pub catalog: Catalog,
    #[serde(default)]
    pub settings: ProviderSettings,
    /// Absent on update: the stored credentials stay.
    #[serde(default)]
    pub credentials: Option<ProviderCredentials>,
}

impl CreateProviderAccount {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 2, 64))
            .check("endpoint", endpoint(&self.endpoint))
            .check(
                "catalog",
                // Registered SSH hosts are not ordered from a catalog.
                if self.kind == ProviderKind::Ssh {
                    Ok(())
                } else {
                    self.catalog.validate()
                },
            )
            .check("settings", self.settings.validate())
            .check("credentials", self.credentials_shape());
        val.finish()
    }

    fn credentials_shape(&self) -> Result<(), String> {
        let Some(c) = &self.credentials else {
            return Ok(());
        };
        let token = c.api_token.as_deref().unwrap_or("");
        if token.len() > 500
            || token
                .chars()
                .any(|ch| ch.is_whitespace() || ch.is_control())
        {
            return Err("api_token must be a single line without spaces".into());
        }
        match self.kind {
            ProviderKind::Proxmox | ProviderKind::TerraformProxmox if !token.is_empty() => {
                let ok = token.split_once('!').is_some_and(|(user, rest)| {
                    user.contains('@')
                        && rest
                            .split_once('=')
                            .is_some_and(|(id, secret)| !id.is_empty() && !secret.is_empty())
                });
                if !ok {
                    return Err("a Proxmox API token looks like user@realm!tokenid=secret".into());
                }
            }
            _ => {}
        }
        if let Some(key) = &c.private_key {
            if key.len() > 16_000 || !key.contains("PRIVATE KEY-----") {
                return Err("private_key must be a PEM/OpenSSH private key".into());
            }
        }
        Ok(())
    }
}

fn endpoint(value: &str) -> Result<(), String> {
    if value.is_empty() || value.starts_with("https://") || value.starts_with("http://") {
        if value.len() > 500 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be a URL without spaces".into());
        }
        Ok(())
    } else {
        Err("must start with https:// or http://".into())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RequestListQuery {
    pub page: Option<u64>,
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
    if value.is_empty() || value.len() > 253 {
        return Err("must be 1 to 253 characters".into());
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
    pub margin_with_server: Option<crate::billing::Money>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRule {
    /// One eligible approver suffices.
    Any,
    /// Every eligible approver must approve.
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Approvers {
    Role { role: Role },
    Users { user_ids: Vec<Uuid> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalStep {
    pub approvers: Approvers,
    pub rule: ApprovalRule,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AutoApproveRule {
    pub max_cpu: Option<u32>,
    /// The estimate must be known and at most this many cents per month.
    pub max_monthly_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApprovalPolicy {
    pub steps: Vec<ApprovalStep>,
    pub auto_approve: Option<AutoApproveRule>,
}

impl ApprovalPolicy {
    /// Used when a team has none: one step, any administrator.
    pub fn default_policy() -> Self {
        Self {
            steps: vec![ApprovalStep {
                approvers: Approvers::Role { role: Role::Admin },
                rule: ApprovalRule::Any,
            }],
            auto_approve: None,
        }
    }

    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check(
            "steps",
            if self.steps.is_empty() || self.steps.len() > 10 {
                Err("must have 1 to 10 steps".into())
            } else {
                Ok(())
            },
        );
        for (i, step) in self.steps.iter().enumerate() {
            if let Approvers::Users { user_ids } = &step.approvers {
                val.check(
                    &format!("steps[{i}].approvers"),
                    if user_ids.is_empty() {
                        Err("name at least one user".into())
                    } else {
                        Ok(())
                    },
                );
            }
        }
        if let Some(rule) = &self.auto_approve {
            val.check(
                "auto_approve",
                if rule.max_cpu.is_none() && rule.max_monthly_cents.is_none() {
                    Err("set a cpu or a monthly cost limit".into())
                } else if rule.max_monthly_cents.is_some_and(|c| c < 0) {
                    Err("the monthly limit cannot be negative".into())
                } else {
                    Ok(())
                },
            );
        }
        val.finish()
    }
}

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
                    Err("must be 16 to 200 characters".into())
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
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    pub actor_id: Option<Uuid>,
    /// Exact action, or a prefix ending in `.` (e.g. `request.`).
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CountBy {
    pub key: String,
    pub label: String,
    pub count: u64,
}

/// Dashboard figures; each section is present only for callers whose roles may see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DashboardStats {
    /// Requests the caller may approve now.
    pub pending_approvals: Option<u64>,
    /// All visible requests by status, in the order of the workflow.
    pub funnel: Option<Vec<CountBy>>,
    pub recent_activity: Option<Vec<AuditEvent>>,
    /// Requests in provisioning, deployed and failed (servers by status until the inventory lands).
    pub servers_by_status: Option<Vec<CountBy>>,
    pub running_jobs: Option<u64>,
    pub requests_by_team: Option<Vec<CountBy>>,
    /// The caller's own requests by status.
    pub my_requests: Vec<CountBy>,
}

pub fn status_counts(counts: &BTreeMap<RequestStatus, u64>) -> Vec<CountBy> {
    RequestStatus::ALL
        .iter()
        .map(|s| CountBy {
            key: s.as_str().to_owned(),
            label: s.as_str().to_owned(),
            count: counts.get(s).copied().unwrap_or(0),
        })
        .collect()
}

/// Pure policy evaluation.
pub mod policy {
    use super::*;

    /// May a holder of `roles` named `user_id` act on `step`? Admins always may (override).
    pub fn is_eligible(step: &ApprovalStep, user_id: Uuid, roles: &[Role]) -> bool {
        roles.contains(&Role::Admin)
            || match &step.approvers {
                Approvers::Role { role } => roles.contains(role),
                Approvers::Users { user_ids } => user_ids.contains(&user_id),
            }
    }

    /// Is the step complete? `eligible` lists every person who may approve it (for `All`);
    /// an administrator's approval completes any step.
    pub fn step_done(
        step: &ApprovalStep,
        eligible: &[Uuid],
        approved_by: &[Uuid],
        admin_approved: bool,
    ) -> bool {
        if admin_approved {
            return true;
        }
        match step.rule {
            ApprovalRule::Any => approved_by.iter().any(|u| eligible.contains(u)),
            ApprovalRule::All => {
                !eligible.is_empty() && eligible.iter().all(|u| approved_by.contains(u))
            }
        }
    }

    pub fn auto_approves(rule: &AutoApproveRule, cpu: u32, monthly_cents: Option<i64>) -> bool {
        let cpu_ok = rule.max_cpu.is_none_or(|max| cpu <= max);
        let cost_ok = match rule.max_monthly_cents {
            None => true,
            Some(max) => monthly_cents.is_some_and(|c| c <= max),
        };
        cpu_ok && cost_ok
    }
}

#[cfg(test)]
mod tests {
    use super::policy::*;
    use super::*;

    fn step(approvers: Approvers, rule: ApprovalRule) -> ApprovalStep {
        ApprovalStep { approvers, rule }
    }

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

    #[test]
    fn policy_evaluation_table() {
        let alice = Uuid::from_u128(1);
        let bob = Uuid::from_u128(2);
        let carol = Uuid::from_u128(3);
        let named = step(
            Approvers::Users {
                user_ids: vec![alice, bob],
            },
            ApprovalRule::All,
        );
        let any_tech = step(
            Approvers::Role {
                role: Role::TechnicalAgent,
            },
            ApprovalRule::Any,
        );
        type Case<'a> = (&'a ApprovalStep, &'a [Uuid], &'a [Uuid], bool, bool);
        let cases: [Case; 7] = [
            (&named, &[alice, bob], &[alice], false, false),
            (&named, &[alice, bob], &[alice, bob], false, true),
            (&named, &[alice, bob], &[carol], true, true),
            (&any_tech, &[carol], &[carol], false, true),
            (&any_tech, &[carol], &[], false, false),
            (&any_tech, &[carol], &[alice], false, false),
            (
                &step(Approvers::Users { user_ids: vec![] }, ApprovalRule::All),
                &[],
                &[],
                false,
                false,
            ),
        ];
        for (i, (s, eligible, approved, admin, expected)) in cases.iter().enumerate() {
            assert_eq!(
                step_done(s, eligible, approved, *admin),
                *expected,
                "case {i}"
            );
        }
        assert!(is_eligible(&named, alice, &[Role::Requester]));
        assert!(!is_eligible(&named, carol, &[Role::TechnicalAgent]));
        assert!(is_eligible(&named, carol, &[Role::Admin]));
        assert!(is_eligible(&any_tech, carol, &[Role::TechnicalAgent]));
    }

    #[test]
    fn auto_approval_table() {
        let rule = AutoApproveRule {
            max_cpu: Some(2),
            max_monthly_cents: Some(1000),
        };
        assert!(auto_approves(&rule, 2, Some(1000)));
        assert!(!auto_approves(&rule, 3, Some(500)));
        assert!(!auto_approves(&rule, 1, Some(1001)));
        assert!(
            !auto_approves(&rule, 1, None),
            "unknown cost never auto-approves a cost rule"
        );
        let cpu_only = AutoApproveRule {
            max_cpu: Some(4),
            max_monthly_cents: None,
        };
        assert!(auto_approves(&cpu_only, 4, None));
    }

    fn catalog() -> Catalog {
        Catalog {
            currency: "EUR".into(),
            locations: vec!["fsn1".into()],
            images: vec!["debian-12".into()],
            server_types: vec![ServerTypeOffer {
                name: "cx22".into(),
                cpu: 2,
                ram_mb: 4096,
                disk_gb: 40,
                monthly_price_cents: Some(459),
            }],
            custom_limits: Some(SizeLimits {
                max_cpu: 8,
                max_ram_mb: 32768,
                max_disk_gb: 500,
            }),
            unit_prices: Some(UnitPrices {
                cpu_cents: 300,
                ram_gb_cents: 150,
                disk_gb_cents: 5,
            }),
        }
    }

    #[test]
    fn catalog_resolves_types_and_custom_sizes_within_limits() {
        let c = catalog();
        assert_eq!(
            c.resolve(Some("cx22"), None, None, None)
                .unwrap()
                .monthly_cents,
            Some(459)
        );
        assert_eq!(
            c.resolve(Some("nope"), None, None, None).unwrap_err().0,
            "server_type"
        );
        let custom = c.resolve(None, Some(2), Some(1536), Some(20)).unwrap();
        // 2×300 + ceil(1536×150/1024)=225 + 20×5
        assert_eq!(custom.monthly_cents, Some(600 + 225 + 100));
        assert_eq!(
            c.resolve(None, Some(9), Some(1024), Some(10))
                .unwrap_err()
                .0,
            "cpu"
        );
        assert_eq!(
            c.resolve(None, Some(1), Some(100), Some(10)).unwrap_err().0,
            "ram_mb"
        );
        assert_eq!(
            c.resolve(None, Some(1), Some(1024), None).unwrap_err().0,
            "disk_gb"
        );
    }
}
