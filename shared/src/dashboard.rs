//! The dashboard's figures.

use crate::audit::AuditEvent;
use crate::workflow::RequestStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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

/// `GET /api/setup`: the administrator's first steps on a fresh install, each ticked from what
/// the database holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SetupProgress {
    /// A provider account whose last connection test passed.
    pub provider_tested: bool,
    /// A team besides Global with at least one member.
    pub team_with_members: bool,
    /// A team with an approval policy of its own.
    pub approval_policy: bool,
    /// The administrator asking has an SSH public key saved.
    pub ssh_key: bool,
}

impl SetupProgress {
    pub fn done(&self) -> bool {
        self.provider_tested && self.team_with_members && self.approval_policy && self.ssh_key
    }
}
