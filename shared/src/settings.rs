//! What the server runs with, as administrators see it on the Administration → Security and
//! notifications page. These come from the service's environment, not from the database: the
//! page shows what is in effect and names the variable that changes it.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerSettings {
    pub sign_in: SignInSettings,
    pub email: EmailSettings,
    pub network: NetworkSettings,
    pub sandbox: SandboxSettings,
}

/// Where user code (playbooks, terminal programs) runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SandboxSettings {
    /// The bubblewrap program user code runs under (`PROVISIO_SANDBOX`); none when the sandbox
    /// is turned off and user code runs with the service's own rights.
    pub program: Option<String>,
    /// Whether that program is installed on this host (user code fails to start until it is).
    pub installed: bool,
}

/// Sessions and the sign-in limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignInSettings {
    /// How long an access token is valid (`PROVISIO_ACCESS_TOKEN_TTL_SECS`).
    pub access_token_secs: u64,
    /// How long a session lasts without signing in again (`PROVISIO_REFRESH_TOKEN_TTL_DAYS`).
    pub session_days: u64,
    /// Whether cookies are sent only over HTTPS (`PROVISIO_SECURE_COOKIES`).
    pub secure_cookies: bool,
    /// Wrong passwords from one address before each further try from it waits longer
    /// (`PROVISIO_LOGIN_FREE_FAILURES`), up to `max_delay_secs`.
    pub free_failures: u32,
    pub max_delay_secs: u64,
    /// Wrong passwords per account inside `account_window_secs` from all addresses together;
    /// past it only addresses the account signed in from before may try
    /// (`PROVISIO_LOGIN_MAX_FAILURES`).
    pub account_failures: u32,
    pub account_window_secs: u64,
    /// Sign-in attempts allowed per client address inside `address_window_secs`
    /// (`PROVISIO_LOGIN_MAX_PER_IP`).
    pub address_attempts: u32,
    pub address_window_secs: u64,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`PROVISIO_TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<String>,
}

/// The e-mail channel of notifications (webhooks are managed in the app).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EmailSettings {
    /// The SMTP server's host and port, without credentials (`PROVISIO_SMTP_URL`); none when
    /// e-mail is off.
    pub smtp_server: Option<String>,
    /// The sender address (`PROVISIO_SMTP_FROM`).
    pub from: String,
    /// The address links in messages point to (`PROVISIO_PUBLIC_URL`).
    pub public_url: String,
}

/// Where Provisio may connect on a user's behalf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NetworkSettings {
    /// Whether Git URLs may point at private networks (`PROVISIO_GIT_PRIVATE_NETWORKS`).
    pub git_private_networks: bool,
    /// Whether provider endpoints may (`PROVISIO_PROVIDER_PRIVATE_NETWORKS`).
    pub provider_private_networks: bool,
    /// Whether webhook URLs may (`PROVISIO_WEBHOOK_PRIVATE_NETWORKS`).
    pub webhook_private_networks: bool,
    /// Networks and host names always allowed (`PROVISIO_NETWORK_ALLOWLIST`).
    pub allowlist: Vec<String>,
}
