use crate::auth::jwt::JwtKeys;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Config;
use crate::keys::Keys;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// Shared by every request; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// Log lines and execution states written by jobs (see [`crate::live::Writer`]).
    pub live_writer: crate::live::Writer,
    pub config: Arc<Config>,
    pub keys: Arc<Keys>,
    pub jwt: Arc<JwtKeys>,
    pub login_limiter: Arc<LoginLimiter>,
    /// Registrations per client address (`LoginLimits::registrations_per_hour`).
    pub registration_limiter: Arc<LoginLimiter>,
}
