//! Business rules that need I/O: sessions, users, teams, requests and their approval,
//! notifications, jobs, seeding and the audit trail.

pub mod audit;
pub mod billing;

pub mod dashboard;
pub mod deployments;
pub mod executions;
pub mod frameworks;
pub mod inbox;
pub mod jobs;
pub mod key_rotation;
pub mod landing;
pub mod listing;
pub mod maintenance;
pub mod notify;
pub mod policies;
pub mod probes;
pub mod projects;
pub mod providers;
pub mod registration;
pub mod requests;
pub mod resources;
pub mod scripts;
pub mod seed;
pub mod servers;
pub mod sessions;
pub mod settings;
pub mod sign_in_guard;
pub mod ssh_keys;
pub mod teams;
pub mod terminal;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod webhooks;
