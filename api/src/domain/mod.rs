//! Business rules that need I/O: sessions, users, teams, seeding and the audit trail.

pub mod audit;
pub mod seed;
pub mod sessions;
pub mod teams;
pub mod users;
