//! The server inventory: the list with its filters, registration of existing SSH hosts, and
//! the detail page with power actions, deletion, labels, executions and the live log.

mod detail;
mod executions;
mod form;
mod header;
mod labels;
mod list;

pub use detail::ServerDetailPage;
pub use executions::ExecutionBadge;
pub use list::{ServerBadge, ServersPage};
