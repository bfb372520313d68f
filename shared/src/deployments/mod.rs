//! App deployments: the state machine (used by the API to enforce and by the web app to show
//! buttons), the `POST /api/deploy` body and its rules, and the answers of the seed API.

use crate::dto::TeamRef;
use crate::validation::{FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Upper case, as the seed API spelled them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Pending,
    Provisioning,
    Deploying,
    Running,
    Stopped,
    Failed,
    Deleting,
    Deleted,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 8] = [
        DeploymentStatus::Pending,
        DeploymentStatus::Provisioning,
        DeploymentStatus::Deploying,
        DeploymentStatus::Running,
        DeploymentStatus::Stopped,
        DeploymentStatus::Failed,
        DeploymentStatus::Deleting,
        DeploymentStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Pending => "PENDING",
            DeploymentStatus::Provisioning => "PROVISIONING",
            DeploymentStatus::Deploying => "DEPLOYING",
            DeploymentStatus::Running => "RUNNING",
            DeploymentStatus::Stopped => "STOPPED",
            DeploymentStatus::Failed => "FAILED",
            DeploymentStatus::Deleting => "DELETING",
            DeploymentStatus::Deleted => "DELETED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// Work is under way: the pipeline or a deletion.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Pending
                | DeploymentStatus::Provisioning
                | DeploymentStatus::Deploying
                | DeploymentStatus::Deleting
        )
    }

    /// Counted as active by the statistics: it holds infrastructure and is not failed.
    pub fn is_active(self) -> bool {
        !matches!(
            self,
            DeploymentStatus::Failed | DeploymentStatus::Deleted | DeploymentStatus::Deleting
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentAction {
    StartProvisioning,
    StartDeploying,
    MarkRunning,
    MarkFailed,
    Stop,
    Start,
    Redeploy,
    Delete,
    MarkDeleted,
    /// DELETE of a deployment still waiting for its server: nothing to remove anywhere.
    Discard,
}

impl DeploymentAction {
    /// "stopped", "redeployed", … for messages people read.
    pub fn past_tense(self) -> &'static str {
        match self {
            DeploymentAction::StartProvisioning => "provisioned",
            DeploymentAction::StartDeploying => "deployed",
            DeploymentAction::MarkRunning => "marked running",
            DeploymentAction::MarkFailed => "marked failed",
            DeploymentAction::Stop => "stopped",
            DeploymentAction::Start => "started",
            DeploymentAction::Redeploy => "redeployed",
            DeploymentAction::Delete | DeploymentAction::MarkDeleted => "deleted",
            DeploymentAction::Discard => "discarded",
        }
    }
}

/// What one job of a deployment does on its server: the app playbook's `app_action`, the job's
/// payload and its execution's kind (a removal's execution is a `delete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppStep {
    Deploy,
    Stop,
    Start,
    Remove,
}

impl AppStep {
    /// The playbook's `app_action` and the job payload's `action`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppStep::Deploy => "deploy",
            AppStep::Stop => "stop",
            AppStep::Start => "start",
            AppStep::Remove => "remove",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            AppStep::Deploy,
            AppStep::Stop,
            AppStep::Start,
            AppStep::Remove,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// The kind of the execution that runs it, as the steps list shows it.
    pub fn execution_kind(self) -> &'static str {
        match self {
            AppStep::Remove => "delete",
            other => other.as_str(),
        }
    }
}

/// The one table of allowed transitions.
pub fn next_status(from: DeploymentStatus, action: DeploymentAction) -> Option<DeploymentStatus> {
    use DeploymentAction as A;
    use DeploymentStatus as S;
    match (from, action) {
        (S::Pending, A::StartProvisioning) => Some(S::Provisioning),
        (S::Provisioning, A::StartDeploying) => Some(S::Deploying),
        (S::Deploying, A::MarkRunning) => Some(S::Running),
        // A deletion that could not reach the host leaves a failed deployment to delete again.
        (S::Pending | S::Provisioning | S::Deploying | S::Deleting, A::MarkFailed) => {
            Some(S::Failed)
        }
        (S::Running, A::Stop) => Some(S::Stopped),
        (S::Stopped, A::Start) => Some(S::Running),
        (S::Running | S::Stopped | S::Failed, A::Redeploy) => Some(S::Deploying),
        (S::Running | S::Stopped | S::Failed, A::Delete) => Some(S::Deleting),
        // Nothing was deployed yet: gone at once (the server request it waited for is cancelled
        // with it).
        (S::Pending, A::Discard) => Some(S::Deleted),
        (S::Deleting, A::MarkDeleted) => Some(S::Deleted),
        _ => None,
    }
}

/// What a person may press on a deployment in this state (the web app's buttons). `Delete` and
/// `Discard` are the same button, DELETE of the deployment.
pub fn user_actions(status: DeploymentStatus) -> Vec<DeploymentAction> {
    [
        DeploymentAction::Stop,
        DeploymentAction::Start,
        DeploymentAction::Redeploy,
        DeploymentAction::Delete,
        DeploymentAction::Discard,
    ]
    .into_iter()
    .filter(|a| next_status(status, *a).is_some())
    .collect()
}

/// Written in lower case; read in any case (`VM`, `lxc`), as clients of the PaaS description send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeploymentType {
    #[default]
    Vm,
    Lxc,
}

impl DeploymentType {
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentType::Vm => "vm",
            DeploymentType::Lxc => "lxc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "vm" => Some(DeploymentType::Vm),
            "lxc" => Some(DeploymentType::Lxc),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for DeploymentType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DeploymentType::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not vm or lxc")))
    }
}

mod request;

pub use request::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Deployment {
    pub id: Uuid,
    pub name: String,
    pub team: TeamRef,
    pub project_id: Uuid,
    pub project_name: String,
    pub git_url: String,
    pub branch: String,
    /// The commit deployed (or being deployed).
    pub commit: Option<String>,
    pub framework: String,
    pub deployment_type: DeploymentType,
    pub cpu: Option<i32>,
    pub ram_mb: Option<i32>,
    pub disk_gb: Option<i32>,
    pub status: DeploymentStatus,
    /// The pipeline step that failed (`provisioning`, `deploying`, `health check`, …).
    pub failed_step: Option<String>,
    pub error: Option<String>,
    pub server_id: Option<Uuid>,
    pub server_name: Option<String>,
    /// The server's IPv4 address (once it has one).
    #[serde(default)]
    pub ip_address: Option<String>,
    /// The provider's id of the guest (`node/qemu/104` on Proxmox, the server id on Hetzner).
    #[serde(default)]
    pub provider_guest_id: Option<String>,
    /// The Proxmox VM id of the guest (VM or container).
    #[serde(default)]
    pub vmid: Option<u32>,
    /// The server request a new server was provisioned through.
    pub request_id: Option<Uuid>,
    /// Public port (nginx) and the app's own port behind it.
    pub port: Option<i32>,
    pub app_port: Option<i32>,
    pub url: Option<String>,
    /// Names only: values are write-only.
    pub env: Vec<String>,
    /// The managed resources it is bound to and the variable each arrives in (on the
    /// deployment's own answer; lists leave it empty).
    #[serde(default)]
    pub resources: Vec<BoundResource>,
    /// The execution of the current or last pipeline step (its log and SSE stream); while a new
    /// guest is built, its provisioning.
    pub execution_id: Option<Uuid>,
    /// The public key that logs in to the new guest (the caller's, or the generated pair's).
    #[serde(default)]
    pub ssh_public_key: Option<String>,
    /// A generated private key waits for its one download by the deployment's creator.
    #[serde(default)]
    pub private_key_available: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deployed_at: Option<DateTime<Utc>>,
}

/// A managed resource a deployment is bound to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BoundResource {
    pub id: Uuid,
    pub name: String,
    /// The environment variable its connection arrives in.
    pub env_var: String,
}

/// `POST /api/deployments/{id}/private-key`: the generated private key, given out once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PrivateKeyDownload {
    /// OpenSSH private key (PEM); Provisio keeps no copy once this answer is sent.
    pub private_key: String,
    /// A file name for it, e.g. `my-app_ed25519`.
    pub file_name: String,
    /// The user to log in as, e.g. `root`.
    pub login_user: String,
    /// The guest's address when it has one.
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeploymentPage {
    pub items: Vec<Deployment>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// Pass as `after` for the next page (found through the index however deep it is); absent on
    /// the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `POST /api/deployments/{id}/redeploy`: another commit or the branch head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Redeploy {
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
}

impl Redeploy {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        if let Some(sha) = &self.commit {
            v.check("commit", commit_sha(sha));
        }
        if let Some(branch) = &self.branch {
            v.check("branch", crate::projects::branch_name(branch));
        }
        v.finish()
    }
}

/// `GET /api/deployments/{id}/logs`: every step the deployment went through (newest first) and
/// the lines of one of them (the newest unless `?execution_id=` names another).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeploymentLogs {
    pub executions: Vec<crate::servers::Execution>,
    pub execution_id: Option<Uuid>,
    pub lines: Vec<crate::servers::LogLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FrameworkCount {
    pub framework: String,
    pub total: u64,
    pub running: u64,
}

/// `GET /api/statistics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Statistics {
    pub total: u64,
    /// Not failed and not deleted.
    pub active: u64,
    pub running: u64,
    pub failed: u64,
    /// Deployments that reached RUNNING at least once among those whose pipeline ended
    /// (running, stopped, failed), in percent; null when none ended yet.
    pub success_rate: Option<f64>,
    pub by_framework: Vec<FrameworkCount>,
    pub by_status: BTreeMap<String, u64>,
}
#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentAction as A;
    use DeploymentStatus as S;

    #[test]
    fn the_pipeline_moves_forward_only() {
        assert_eq!(
            next_status(S::Pending, A::StartProvisioning),
            Some(S::Provisioning)
        );
        assert_eq!(
            next_status(S::Provisioning, A::StartDeploying),
            Some(S::Deploying)
        );
        assert_eq!(next_status(S::Deploying, A::MarkRunning), Some(S::Running));
        assert_eq!(next_status(S::Running, A::MarkRunning), None);
        assert_eq!(next_status(S::Pending, A::MarkRunning), None);
        assert_eq!(next_status(S::Deploying, A::MarkFailed), Some(S::Failed));
        assert_eq!(next_status(S::Running, A::MarkFailed), None);
        assert_eq!(next_status(S::Deleted, A::Delete), None);
        assert_eq!(next_status(S::Deleting, A::Delete), None);
    }

    #[test]
    fn buttons_follow_the_state() {
        assert_eq!(
            user_actions(S::Running),
            vec![A::Stop, A::Redeploy, A::Delete]
        );
        assert_eq!(
            user_actions(S::Stopped),
            vec![A::Start, A::Redeploy, A::Delete]
        );
        assert_eq!(user_actions(S::Failed), vec![A::Redeploy, A::Delete]);
        assert!(user_actions(S::Deploying).is_empty());
        assert!(user_actions(S::Deleted).is_empty());
    }

    #[test]
    fn statuses_round_trip_in_upper_case() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
    }
}
