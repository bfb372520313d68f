//! sea-orm entities. They stay inside api/; the wire types live in shared::dto.

pub mod api_tokens;
pub mod audit_events;
pub mod refresh_tokens;
pub mod resource_types;
pub mod team_memberships;
pub mod teams;
pub mod users;
