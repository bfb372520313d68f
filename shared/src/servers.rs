//! DTOs of the managed inventory and of the work done on it: servers, power actions, provider
//! sync reports, executions with their log lines, and provider connection checks.

use crate::dto::TeamRef;
use crate::requests::ProviderRef;
use crate::validation::{self as v, FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// The label every server Provisio creates carries, so a retry finds it instead of creating another.
pub const REQUEST_LABEL: &str = "provisio-request";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    Provisioning,
    Running,
    Stopped,
    Deleting,
    Deleted,
    Error,
    Unknown,
}

impl ServerStatus {
    pub const ALL: [ServerStatus; 7] = [
        ServerStatus::Provisioning,
        ServerStatus::Running,
        ServerStatus::Stopped,
        ServerStatus::Deleting,
        ServerStatus::Deleted,
        ServerStatus::Error,
        ServerStatus::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Provisioning => "provisioning",
            ServerStatus::Running => "running",
            ServerStatus::Stopped => "stopped",
            ServerStatus::Deleting => "deleting",
            ServerStatus::Deleted => "deleted",
            ServerStatus::Error => "error",
            ServerStatus::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Power actions that make sense from this status (the web shows only these buttons).
    pub fn power_actions(self) -> Vec<PowerAction> {
        match self {
            ServerStatus::Running => vec![PowerAction::Reboot, PowerAction::Stop],
            ServerStatus::Stopped => vec![PowerAction::Start],
            ServerStatus::Error | ServerStatus::Unknown => {
                vec![PowerAction::Start, PowerAction::Stop]
            }
            _ => vec![],
        }
    }

    /// Whether the server may be destroyed now (not while another change is under way).
    pub fn deletable(self) -> bool {
        !matches!(
            self,
            ServerStatus::Provisioning | ServerStatus::Deleting | ServerStatus::Deleted
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServerOrigin {
    /// Created by Provisio from an approved request.
    Provisioned,
    /// Found at the provider by a sync.
    Imported,
    /// An existing machine registered by address.
    Registered,
}

impl ServerOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerOrigin::Provisioned => "provisioned",
            ServerOrigin::Imported => "imported",
            ServerOrigin::Registered => "registered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ServerOrigin::Provisioned,
            ServerOrigin::Imported,
            ServerOrigin::Registered,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PowerAction {
    Start,
    Stop,
    Reboot,
}

impl PowerAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PowerAction::Start => "start",
            PowerAction::Stop => "stop",
            PowerAction::Reboot => "reboot",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [PowerAction::Start, PowerAction::Stop, PowerAction::Reboot]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Server {
    pub id: Uuid,
    pub name: String,
    pub team: TeamRef,
    pub provider: ProviderRef,
    /// The provider's own id (Hetzner server id, `node/qemu/vmid` on Proxmox, address for SSH hosts).
    pub provider_id: String,
    pub status: ServerStatus,
    pub origin: ServerOrigin,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub cpu: i32,
    pub ram_mb: i32,
    pub disk_gb: i32,
    pub image: String,
    pub location: String,
    pub labels: BTreeMap<String, String>,
    pub ssh_user: String,
    pub ssh_port: i32,
    /// SHA256 fingerprint of the pinned SSH host key (`SHA256:…`).
    pub host_key_fingerprint: Option<String>,
    pub request_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_synced_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerDetail {
    pub server: Server,
    pub power_actions: Vec<PowerAction>,
    pub deletable: bool,
    /// Newest first.
    pub executions: Vec<Execution>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ServerListQuery {
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
    pub status: Option<ServerStatus>,
    pub team_id: Option<Uuid>,
    pub provider_account_id: Option<Uuid>,
    /// Matches name, provider id or IP address.
    pub q: Option<String>,
    /// `key=value`: only servers carrying this label.
    pub label: Option<String>,
    /// `name` (default), `-name`, `created_at`, `-created_at`, `status`.
    pub sort: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PowerRequest {
    pub action: PowerAction,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SnapshotRequest {
    /// Shown at the provider (at most 200 characters).
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeleteServer {
    /// Must repeat the server's name: destroying at the provider cannot be undone.
    pub confirm_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateServerLabels {
    pub labels: BTreeMap<String, String>,
}

impl UpdateServerLabels {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("labels", labels(&self.labels));
        val.finish()
    }
}

pub fn labels(labels: &BTreeMap<String, String>) -> Result<(), String> {
    if labels.len() > 32 {
        return Err("at most 32 labels".into());
    }
    let ok = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    };
    for (k, val) in labels {
        if !ok(k, 63) || !(val.is_empty() || ok(val, 63)) {
            return Err(format!(
                "label `{k}`: keys and values are 1–63 letters, digits, `-`, `_`, `.` or `/`, starting with a letter or digit"
            ));
        }
    }
    Ok(())
}

/// Registers an existing machine reachable over SSH.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterHost {
    pub name: String,
    pub team_id: Uuid,
    /// An account of kind `ssh`.
    pub provider_account_id: Uuid,
    pub address: String,
    #[serde(default = "default_ssh_port")]
    pub port: u16,
    #[serde(default = "default_ssh_user")]
    pub user: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

fn default_ssh_port() -> u16 {
    22
}

fn default_ssh_user() -> String {
    "root".into()
}

impl RegisterHost {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", crate::requests::hostname(&self.name))
            .check("address", address(&self.address))
            .check(
                "port",
                if self.port == 0 {
                    Err("use a port from 1 to 65535".into())
                } else {
                    Ok(())
                },
            )
            .check(
                "user",
                v::username(&self.user).or_else(|_| unix_user(&self.user)),
            )
            .check("labels", labels(&self.labels));
        val.finish()
    }
}

pub fn unix_user(value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 32
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !value.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err("must be a Unix user name".into())
    }
}

/// A host name or an IP address; never anything a shell or SSH could read as an option.
pub fn address(value: &str) -> Result<(), String> {
    if value.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let ok = !value.is_empty()
        && value.len() <= 253
        && !value.starts_with('-')
        && value.split('.').all(|part| {
            !part.is_empty()
                && part.len() <= 63
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err("must be a host name or an IP address".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Queued => "queued",
            ExecutionStatus::Running => "running",
            ExecutionStatus::Succeeded => "succeeded",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ExecutionStatus::Queued,
            ExecutionStatus::Running,
            ExecutionStatus::Succeeded,
            ExecutionStatus::Failed,
            ExecutionStatus::Cancelled,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Succeeded | ExecutionStatus::Failed | ExecutionStatus::Cancelled
        )
    }
}

/// One run of work with a log: a provisioning attempt, a power action, a deletion, later playbooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Execution {
    pub id: Uuid,
    /// `provision`, `power`, `delete`, …
    pub kind: String,
    pub status: ExecutionStatus,
    pub target_type: String,
    pub target_id: Uuid,
    /// The step under way, e.g. "waiting for SSH".
    pub step: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LogLine {
    /// Increases across all logs; the SSE event id.
    pub id: i64,
    pub execution_id: Uuid,
    pub at: DateTime<Utc>,
    /// `info`, `error`, `stdout`, `stderr`, `step`.
    pub stream: String,
    pub text: String,
    /// The pipeline stage a `step` line starts, for progress trackers (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<crate::stages::Stage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ExecutionDetail {
    pub execution: Execution,
    pub lines: Vec<LogLine>,
}

/// Answer of a POST that started background work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Accepted {
    pub execution_id: Uuid,
}

/// A probe job sent through the queue to check that workers answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SendProbe {
    /// How long the worker holds the probe before answering (at most 60000).
    #[serde(default)]
    pub wait_ms: u32,
    /// Log lines the probe prints after the wait (at most 10000), to measure live log latency.
    #[serde(default)]
    pub lines: u32,
    /// Milliseconds between those lines (at most 1000).
    #[serde(default)]
    pub interval_ms: u32,
}

/// A machine as the provider reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RemoteServer {
    pub provider_id: String,
    pub name: String,
    pub status: ServerStatus,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub cpu: i32,
    pub ram_mb: i32,
    pub disk_gb: i32,
    pub image: String,
    pub location: String,
    pub labels: BTreeMap<String, String>,
    /// Templates are listed but never imported.
    pub template: bool,
    /// The inventory row that tracks it, when there is one.
    pub server_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SyncRequest {
    /// The account to sync; when absent, every account of the endpoint's kind.
    pub provider_account_id: Option<Uuid>,
    /// Team that owns newly imported servers (default: Global).
    pub team_id: Option<Uuid>,
    /// Report what would change without writing.
    #[serde(default)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SyncChange {
    pub provider_id: String,
    pub name: String,
    pub server_id: Option<Uuid>,
    /// What differs, e.g. `status: stopped → running`.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SyncReport {
    pub new: Vec<SyncChange>,
    pub changed: Vec<SyncChange>,
    /// In the inventory but no longer at the provider (marked deleted).
    pub gone: Vec<SyncChange>,
    pub unchanged: u32,
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConnectionCheck {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl ConnectionCheck {
    pub fn of<E: std::fmt::Display>(name: impl Into<String>, result: Result<String, E>) -> Self {
        let name = name.into();
        match result {
            Ok(detail) => ConnectionCheck {
                name,
                ok: true,
                detail,
            },
            Err(e) => ConnectionCheck {
                name,
                ok: false,
                detail: e.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConnectionReport {
    pub ok: bool,
    pub checks: Vec<ConnectionCheck>,
}

impl ConnectionReport {
    /// Passes when every check passes.
    pub fn of(checks: Vec<ConnectionCheck>) -> Self {
        ConnectionReport {
            ok: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_actions_follow_the_status() {
        assert_eq!(
            ServerStatus::Running.power_actions(),
            vec![PowerAction::Reboot, PowerAction::Stop]
        );
        assert_eq!(
            ServerStatus::Stopped.power_actions(),
            vec![PowerAction::Start]
        );
        assert!(ServerStatus::Deleting.power_actions().is_empty());
        assert!(!ServerStatus::Provisioning.deletable());
        assert!(ServerStatus::Error.deletable());
    }

    #[test]
    fn addresses_never_look_like_options() {
        assert!(address("10.0.0.5").is_ok());
        assert!(address("::1").is_ok());
        assert!(address("web-1.example.com").is_ok());
        assert!(address("-oProxyCommand=x").is_err());
        assert!(address("a b").is_err());
        assert!(address("").is_err());
    }

    #[test]
    fn labels_are_bounded() {
        let mut l = BTreeMap::new();
        l.insert("env".to_string(), "prod".to_string());
        assert!(labels(&l).is_ok());
        l.insert("bad key".to_string(), "x".to_string());
        assert!(labels(&l).is_err());
    }
}

/// A wait as people read it in a log line: `200 ms`, `1.5 s`, `30 s`.
pub fn short_duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod duration_tests {
    use super::short_duration;
    use std::time::Duration;

    #[test]
    fn waits_read_in_the_unit_that_fits() {
        assert_eq!(short_duration(Duration::from_millis(200)), "200 ms");
        assert_eq!(short_duration(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(short_duration(Duration::from_secs(30)), "30 s");
    }
}
