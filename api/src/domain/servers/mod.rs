//! The managed inventory: rows for provisioned, imported and registered servers, who may see
//! them, power and delete as jobs, and the idempotent sync with what a provider reports.
//!
//! - `views`: who may see which servers, their DTOs, the detail and the filtered list;
//! - `inventory`: the rows the provisioning and server jobs write;
//! - `operations`: power, snapshot, backups and delete, queued as jobs with their executions;
//! - `sync`: the provider's machines, and the inventory brought in line with them;
//! - `editing`: what callers change directly: labels, and SSH hosts registered by hand.

mod editing;
mod inventory;
mod operations;
mod sync;
mod views;

use crate::entities::servers as rows;
use shared::servers::ServerStatus;

pub use editing::{register, set_labels};
pub use inventory::{
    forget_request, of_request, pin_host_key, record_remote, set_status, upsert_for_request,
};
pub use operations::{enqueue_delete, enqueue_op, enqueue_snapshot, start_operation, Operation};
pub use sync::{remote_resources, sync_account};
pub use views::{detail, matches, page, scope, to_dtos, visible};

pub fn status_of(row: &rows::Model) -> ServerStatus {
    ServerStatus::parse(&row.status).unwrap_or(ServerStatus::Unknown)
}
