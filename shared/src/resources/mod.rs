//! Managed resources: what the resource-type catalogue becomes once a team asks for one. The
//! state machine here is pure: the API enforces it with conditional UPDATEs and the web app
//! shows only the buttons it allows.

mod dto;
mod recipes;

pub use dto::*;
pub use recipes::*;

use serde::{Deserialize, Serialize};

/// How a resource type is provided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Provisioning {
    /// Provisio runs a shipped recipe (an Ansible playbook) on the target server.
    Recipe,
    /// A technical agent sets it up by hand and enters the connection details.
    Manual,
}

impl Provisioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Provisioning::Recipe => "recipe",
            Provisioning::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Provisioning::Recipe, Provisioning::Manual]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    /// Waits on the team's approval policy.
    Pending,
    Rejected,
    Cancelled,
    /// The recipe runs.
    Provisioning,
    /// A manual type, approved: waits in the technical agents' queue.
    AwaitingFulfilment,
    Ready,
    /// A day-2 operation (rotation) runs; the resource stays usable.
    Updating,
    Failed,
    /// The recipe removes it.
    Deleting,
    Deleted,
}

impl ResourceStatus {
    pub const ALL: [ResourceStatus; 10] = [
        ResourceStatus::Pending,
        ResourceStatus::Rejected,
        ResourceStatus::Cancelled,
        ResourceStatus::Provisioning,
        ResourceStatus::AwaitingFulfilment,
        ResourceStatus::Ready,
        ResourceStatus::Updating,
        ResourceStatus::Failed,
        ResourceStatus::Deleting,
        ResourceStatus::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceStatus::Pending => "pending",
            ResourceStatus::Rejected => "rejected",
            ResourceStatus::Cancelled => "cancelled",
            ResourceStatus::Provisioning => "provisioning",
            ResourceStatus::AwaitingFulfilment => "awaiting_fulfilment",
            ResourceStatus::Ready => "ready",
            ResourceStatus::Updating => "updating",
            ResourceStatus::Failed => "failed",
            ResourceStatus::Deleting => "deleting",
            ResourceStatus::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ResourceStatus::Pending => "Waiting for approval",
            ResourceStatus::Rejected => "Rejected",
            ResourceStatus::Cancelled => "Cancelled",
            ResourceStatus::Provisioning => "Being set up",
            ResourceStatus::AwaitingFulfilment => "Waiting for a technical agent",
            ResourceStatus::Ready => "Ready",
            ResourceStatus::Updating => "Changing",
            ResourceStatus::Failed => "Failed",
            ResourceStatus::Deleting => "Being deleted",
            ResourceStatus::Deleted => "Deleted",
        }
    }

    /// Connection details exist (and a secret may be revealed) in these states.
    pub fn is_usable(self) -> bool {
        matches!(self, ResourceStatus::Ready | ResourceStatus::Updating)
    }
}

/// What moves a resource from one status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAction {
    /// The last approval step is done.
    Approve,
    Reject,
    Cancel,
    /// A technical agent entered the connection details of a manual resource.
    Fulfil,
    /// The recipe finished creating or changing it.
    Finish,
    /// The recipe failed while creating or deleting it.
    Fail,
    /// A failed creation is tried again.
    Retry,
    /// A new password is set.
    Rotate,
    /// A dump is written on the server.
    Backup,
    /// A dump is loaded back.
    Restore,
    /// Settings that may change in place are changed.
    Resize,
    /// A change (rotation) failed: the resource keeps its old settings.
    Abandon,
    Delete,
    /// The recipe removed it (or there was nothing on a server to remove).
    Remove,
}

/// The status `action` moves a resource of `status` to, or `None` when it may not happen.
pub fn next_status(
    status: ResourceStatus,
    action: ResourceAction,
    provisioning: Provisioning,
) -> Option<ResourceStatus> {
    use ResourceAction as A;
    use ResourceStatus as S;
    let recipe = provisioning == Provisioning::Recipe;
    Some(match (status, action) {
        (S::Pending, A::Approve) if recipe => S::Provisioning,
        (S::Pending, A::Approve) => S::AwaitingFulfilment,
        (S::Pending, A::Reject) => S::Rejected,
        (S::Pending, A::Cancel) => S::Cancelled,
        (S::AwaitingFulfilment, A::Fulfil) => S::Ready,
        (S::AwaitingFulfilment, A::Cancel) => S::Cancelled,
        // A manual resource's details may be entered again (a new password set by hand).
        (S::Ready, A::Fulfil) if !recipe => S::Ready,
        (S::Provisioning | S::Updating, A::Finish) => S::Ready,
        (S::Deleting, A::Remove) => S::Deleted,
        (S::Provisioning | S::Deleting, A::Fail) => S::Failed,
        (S::Updating, A::Abandon) => S::Ready,
        (S::Failed, A::Retry) if recipe => S::Provisioning,
        (S::Ready, A::Rotate | A::Backup | A::Restore | A::Resize) if recipe => S::Updating,
        (S::Ready | S::Failed, A::Delete) if recipe => S::Deleting,
        (S::Ready | S::Failed, A::Delete) => S::Deleted,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResourceAction as A;
    use ResourceStatus as S;

    #[test]
    fn a_recipe_resource_is_built_changed_and_removed_by_its_recipe() {
        let r = Provisioning::Recipe;
        assert_eq!(
            next_status(S::Pending, A::Approve, r),
            Some(S::Provisioning)
        );
        assert_eq!(next_status(S::Provisioning, A::Finish, r), Some(S::Ready));
        assert_eq!(next_status(S::Provisioning, A::Fail, r), Some(S::Failed));
        assert_eq!(next_status(S::Failed, A::Retry, r), Some(S::Provisioning));
        assert_eq!(next_status(S::Ready, A::Rotate, r), Some(S::Updating));
        assert_eq!(next_status(S::Updating, A::Finish, r), Some(S::Ready));
        assert_eq!(next_status(S::Updating, A::Abandon, r), Some(S::Ready));
        assert_eq!(next_status(S::Ready, A::Delete, r), Some(S::Deleting));
        assert_eq!(next_status(S::Deleting, A::Remove, r), Some(S::Deleted));
        assert_eq!(next_status(S::Ready, A::Fulfil, r), None);
        assert_eq!(next_status(S::Updating, A::Delete, r), None);
        assert_eq!(next_status(S::Ready, A::Backup, r), Some(S::Updating));
        assert_eq!(next_status(S::Ready, A::Restore, r), Some(S::Updating));
        assert_eq!(next_status(S::Updating, A::Backup, r), None);
    }

    #[test]
    fn a_manual_resource_is_fulfilled_by_hand_and_deleted_at_once() {
        let m = Provisioning::Manual;
        assert_eq!(
            next_status(S::Pending, A::Approve, m),
            Some(S::AwaitingFulfilment)
        );
        assert_eq!(
            next_status(S::AwaitingFulfilment, A::Fulfil, m),
            Some(S::Ready)
        );
        assert_eq!(next_status(S::Ready, A::Fulfil, m), Some(S::Ready));
        assert_eq!(next_status(S::Ready, A::Rotate, m), None);
        assert_eq!(next_status(S::Ready, A::Backup, m), None);
        assert_eq!(next_status(S::Ready, A::Delete, m), Some(S::Deleted));
        assert_eq!(next_status(S::Failed, A::Retry, m), None);
    }

    #[test]
    fn finished_resources_stay_finished() {
        for status in [S::Rejected, S::Cancelled, S::Deleted] {
            for action in [
                A::Approve,
                A::Reject,
                A::Cancel,
                A::Fulfil,
                A::Finish,
                A::Fail,
                A::Retry,
                A::Rotate,
                A::Backup,
                A::Restore,
                A::Resize,
                A::Abandon,
                A::Delete,
                A::Remove,
            ] {
                for p in [Provisioning::Recipe, Provisioning::Manual] {
                    assert_eq!(
                        next_status(status, action, p),
                        None,
                        "{status:?} {action:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn statuses_read_back() {
        for s in ResourceStatus::ALL {
            assert_eq!(ResourceStatus::parse(s.as_str()), Some(s));
        }
    }
}
