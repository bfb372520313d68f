//! The stages of the two pipelines people watch: a server request being provisioned and an app
//! being deployed. Jobs write the stage they enter on their `step` log lines (and the deploy job
//! names it as the step a failure stopped in); the web app draws its progress trackers from these
//! values, never from the wording of a log line.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Provisioning: the provider is creating the machine (cloning, terraform apply, …).
    Creating,
    /// Provisioning: waiting for the machine to run and report an address.
    WaitingForAddress,
    /// Provisioning: waiting for SSH to answer on that address.
    WaitingForSsh,
    /// Provisioning: the server is ready.
    Provisioned,
    /// Deployment: making sure the target server exists and answers.
    Provisioning,
    /// Deployment: fetching the repository.
    Fetching,
    /// Deployment: running the app's playbook.
    Deploying,
    /// Deployment: checking the app answers over HTTP.
    HealthCheck,
    /// Deployment: the app runs.
    Running,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Creating,
        Stage::WaitingForAddress,
        Stage::WaitingForSsh,
        Stage::Provisioned,
        Stage::Provisioning,
        Stage::Fetching,
        Stage::Deploying,
        Stage::HealthCheck,
        Stage::Running,
    ];

    /// The stored and wire name (the same as serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Creating => "creating",
            Stage::WaitingForAddress => "waiting_for_address",
            Stage::WaitingForSsh => "waiting_for_ssh",
            Stage::Provisioned => "provisioned",
            Stage::Provisioning => "provisioning",
            Stage::Fetching => "fetching",
            Stage::Deploying => "deploying",
            Stage::HealthCheck => "health_check",
            Stage::Running => "running",
        }
    }

    /// A stored name, or a deployment's `failed_step` (the deploy job's step names, which are
    /// the stage names except the health check's, spelt with a space there).
    pub fn parse(stored: &str) -> Option<Stage> {
        match stored {
            "health check" => Some(Stage::HealthCheck),
            _ => Stage::ALL.into_iter().find(|s| s.as_str() == stored),
        }
    }

    /// The step of the provisioning tracker (Queued, Creating at the provider, Waiting for an
    /// address, Waiting for SSH, Deployed) this stage belongs to; none for deployment stages.
    pub fn provisioning_step(self) -> Option<usize> {
        match self {
            Stage::Creating => Some(1),
            Stage::WaitingForAddress => Some(2),
            Stage::WaitingForSsh => Some(3),
            Stage::Provisioned => Some(4),
            _ => None,
        }
    }

    /// The step of the deployment tracker (Pending, Provisioning, Deploying, Health check,
    /// Running) this stage belongs to; fetching the repository is part of deploying.
    pub fn deployment_step(self) -> Option<usize> {
        match self {
            Stage::Provisioning => Some(1),
            Stage::Fetching | Stage::Deploying => Some(2),
            Stage::HealthCheck => Some(3),
            Stage::Running => Some(4),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_reads_back_from_its_name_and_belongs_to_one_tracker() {
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
            assert!(
                stage.provisioning_step().is_some() != stage.deployment_step().is_some(),
                "{stage:?}"
            );
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(serde_json::from_str::<Stage>(&json).unwrap(), stage);
        }
        assert_eq!(Stage::parse("health check"), Some(Stage::HealthCheck));
        assert_eq!(
            serde_json::to_string(&Stage::HealthCheck).unwrap(),
            "\"health_check\""
        );
        assert_eq!(Stage::parse("waiting for ssh"), None);
    }
}
