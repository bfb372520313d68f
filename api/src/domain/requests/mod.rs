//! The server-request workflow: creation against the provider catalog, approval policies with
//! ordered steps, transitions as single conditional UPDATEs, timeline, notifications and audit.
//!
//! - `policy`: a team's approval policy and who may approve a step;
//! - `views`: what a caller may see: the list, the DTOs and the detail page;
//! - `creation`: a new request, checked against the provider catalog;
//! - `guest`: a request filed with what will run on it (a deployment, a resource);
//! - `preflight`: the live check against the provider before approval;
//! - `actions`: approving, rejecting, cancelling, retrying and commenting;
//! - `transitions`: the conditional status UPDATE, the timeline events and the audit entries.

mod actions;
mod creation;
mod guest;
mod policy;
mod preflight;
mod transitions;
mod views;

use crate::entities::server_requests as rows;
use shared::workflow::RequestStatus;
use uuid::Uuid;

pub use actions::{approve, approve_in, cancel, cancel_in, comment, reject, retry};
pub use creation::{create, create_in};
pub use guest::{approve_if_allowed, default_account, request_guest, GuestSpec};
pub use policy::{eligible_users, load_policy, may_approve_step, tally_step, StepTally};
pub use preflight::preflight;
pub(crate) use transitions::{apply, event};
pub(crate) use views::user_refs;
pub use views::{detail, page, scope, to_dtos, visible};

pub fn status_of(row: &rows::Model) -> RequestStatus {
    RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Failed)
}

pub(crate) fn link(id: Uuid) -> Option<String> {
    Some(format!("/requests/{id}"))
}
