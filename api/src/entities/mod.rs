//! sea-orm entities. They stay inside api/; the wire types live in shared::dto.

pub mod api_tokens;
pub mod approval_policies;
pub mod audit_events;
pub mod execution_logs;
pub mod execution_targets;
pub mod executions;
pub mod jobs;
pub mod notification_deliveries;
pub mod notifications;
pub mod projects;
pub mod provider_accounts;
pub mod refresh_tokens;
pub mod request_approvals;
pub mod request_events;
pub mod resource_types;
pub mod schedules;
pub mod script_versions;
pub mod scripts;
pub mod server_locks;
pub mod server_requests;
pub mod servers;
pub mod ssh_keys;
pub mod team_memberships;
pub mod teams;
pub mod users;
pub mod webhooks;
