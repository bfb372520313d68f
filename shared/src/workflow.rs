//! The server-request state machine: pure functions used by the API to enforce transitions
//! and by the web app to show only the buttons the viewer may press.

use crate::roles::{roles_grant, Permission, Role};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Provisioning,
    Deployed,
    Failed,
    Rejected,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 7] = [
        RequestStatus::Pending,
        RequestStatus::Approved,
        RequestStatus::Provisioning,
        RequestStatus::Deployed,
        RequestStatus::Failed,
        RequestStatus::Rejected,
        RequestStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Provisioning => "provisioning",
            RequestStatus::Deployed => "deployed",
            RequestStatus::Failed => "failed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RequestStatus::Deployed | RequestStatus::Rejected | RequestStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    Approve,
    Reject,
    Cancel,
    StartProvisioning,
    MarkDeployed,
    MarkFailed,
    Retry,
}

impl RequestAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::Approve => "approve",
            RequestAction::Reject => "reject",
            RequestAction::Cancel => "cancel",
            RequestAction::StartProvisioning => "start_provisioning",
            RequestAction::MarkDeployed => "mark_deployed",
            RequestAction::MarkFailed => "mark_failed",
            RequestAction::Retry => "retry",
        }
    }
}

/// The status `action` leads to from `from`, or None when the machine forbids it.
pub fn transition(from: RequestStatus, action: RequestAction) -> Option<RequestStatus> {
    use RequestAction as A;
    use RequestStatus as S;
    match (from, action) {
        (S::Pending, A::Approve) => Some(S::Approved),
        (S::Pending, A::Reject) => Some(S::Rejected),
        (S::Pending, A::Cancel) => Some(S::Cancelled),
        (S::Approved, A::StartProvisioning) => Some(S::Provisioning),
        (S::Provisioning, A::MarkDeployed) => Some(S::Deployed),
        (S::Provisioning, A::MarkFailed) => Some(S::Failed),
        (S::Failed, A::Retry) => Some(S::Provisioning),
        _ => None,
    }
}

/// Who is looking at a request.
pub struct Viewer<'a> {
    pub roles: &'a [Role],
    pub is_requester: bool,
    /// Decided by the approval policy: the viewer is an approver of the current step.
    pub may_approve: bool,
}

/// Actions a person may take by hand (the worker drives the provisioning ones).
pub fn allowed_actions(status: RequestStatus, viewer: &Viewer<'_>) -> Vec<RequestAction> {
    let mut actions = Vec::new();
    let approver = viewer.may_approve;
    for action in [
        RequestAction::Approve,
        RequestAction::Reject,
        RequestAction::Cancel,
        RequestAction::Retry,
    ] {
        if transition(status, action).is_none() {
            continue;
        }
        let may = match action {
            RequestAction::Approve | RequestAction::Reject => approver,
            RequestAction::Cancel => {
                viewer.is_requester || roles_grant(viewer.roles, Permission::RequestsApprove)
            }
            RequestAction::Retry => roles_grant(viewer.roles, Permission::ServersOperate),
            _ => false,
        };
        if may {
            actions.push(action);
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestAction as A;
    use RequestStatus as S;

    #[test]
    fn transition_table() {
        let cases = [
            (S::Pending, A::Approve, Some(S::Approved)),
            (S::Pending, A::Reject, Some(S::Rejected)),
            (S::Pending, A::Cancel, Some(S::Cancelled)),
            (S::Approved, A::StartProvisioning, Some(S::Provisioning)),
            (S::Provisioning, A::MarkDeployed, Some(S::Deployed)),
            (S::Provisioning, A::MarkFailed, Some(S::Failed)),
            (S::Failed, A::Retry, Some(S::Provisioning)),
            (S::Approved, A::Approve, None),
            (S::Approved, A::Cancel, None),
            (S::Rejected, A::Approve, None),
            (S::Deployed, A::Retry, None),
            (S::Cancelled, A::Approve, None),
        ];
        for (from, action, expected) in cases {
            assert_eq!(
                transition(from, action),
                expected,
                "{from:?} --{action:?}-->"
            );
        }
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for status in RequestStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for action in [
                A::Approve,
                A::Reject,
                A::Cancel,
                A::StartProvisioning,
                A::MarkDeployed,
                A::MarkFailed,
                A::Retry,
            ] {
                assert_eq!(transition(status, action), None);
            }
        }
    }

    #[test]
    fn requesters_may_only_cancel_their_own_pending_request() {
        let roles = [Role::Requester];
        let own = Viewer {
            roles: &roles,
            is_requester: true,
            may_approve: false,
        };
        let other = Viewer {
            roles: &roles,
            is_requester: false,
            may_approve: false,
        };
        assert_eq!(allowed_actions(S::Pending, &own), vec![A::Cancel]);
        assert!(allowed_actions(S::Pending, &other).is_empty());
        assert!(allowed_actions(S::Approved, &own).is_empty());
    }

    #[test]
    fn admins_approve_reject_cancel_pending_and_retry_failed() {
        let roles = [Role::Admin];
        let admin = Viewer {
            roles: &roles,
            is_requester: false,
            may_approve: true,
        };
        assert_eq!(
            allowed_actions(S::Pending, &admin),
            vec![A::Approve, A::Reject, A::Cancel]
        );
        assert_eq!(allowed_actions(S::Failed, &admin), vec![A::Retry]);
        let tech = [Role::TechnicalAgent];
        assert_eq!(
            allowed_actions(
                S::Failed,
                &Viewer {
                    roles: &tech,
                    is_requester: false,
                    may_approve: false
                }
            ),
            vec![A::Retry]
        );
        let named_approver = Viewer {
            roles: &tech,
            is_requester: false,
            may_approve: true,
        };
        assert_eq!(
            allowed_actions(S::Pending, &named_approver),
            vec![A::Approve, A::Reject]
        );
    }

    #[test]
    fn status_names_round_trip() {
        for s in RequestStatus::ALL {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RequestStatus::parse("bogus"), None);
    }
}
