//! Typed configuration read from the environment (see the README's table).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    pub db_max_connections: u32,
    /// Longest wait for a pooled database connection; past it a request answers 503 instead of
    /// hanging while the database is out of reach.
    pub db_acquire_timeout: Duration,
    pub key_file: PathBuf,
    /// Serve the SPA from this folder instead of the copy embedded in the binary.
    pub web_dir: Option<PathBuf>,
    pub log_json: bool,
    pub secure_cookies: bool,
    pub trusted_proxies: Vec<IpAddr>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub login_limits: LoginLimits,
    /// SMTP server for e-mail notifications, e.g. `smtp://user:pass@mail.example.com:587?tls=required`.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    /// Base URL of the web app, used in links sent by e-mail and webhooks.
    pub public_url: String,
    pub delivery_interval: Duration,
    pub delivery_retry_base: Duration,
    pub jobs: JobSettings,
    pub providers: crate::providers::Tuning,
    pub ansible: AnsibleSettings,
    /// Where project checkouts live (one folder per project).
    pub projects_dir: PathBuf,
    pub deploy: DeploySettings,
    /// Bearer token for `/metrics` from other hosts (loopback callers need none).
    pub metrics_token: Option<String>,
    /// Which destinations Git and provider connections may reach (private networks, allowlist).
    pub network: crate::exec::network_policy::NetworkPolicy,
    pub http: HttpLimits,
    /// The bubblewrap executable that playbooks and terminal programs run inside
    /// (`exec::sandbox`); `None` only when an operator turned it off (`PROVISIO_SANDBOX=off`).
    pub sandbox: Option<PathBuf>,
}

/// `PROVISIO_SANDBOX`: `off`, a path to bubblewrap, or (unset) `bwrap` on PATH.
pub fn sandbox_from_env() -> Option<PathBuf> {
    match var("PROVISIO_SANDBOX").as_deref() {
        Some("off") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => Some(PathBuf::from("bwrap")),
    }
}

/// Bounds on what one request may make the server read.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest request body, declared or streamed (chunked); more answers 413.
    pub max_body_bytes: usize,
    /// A request body must have arrived in full this long after the request started; a slower
    /// one answers 408. WebSocket upgrades are exempt (their frames are bounded instead).
    pub body_read_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 256 * 1024,
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// How apps are deployed onto servers.
#[derive(Debug, Clone)]
pub struct DeploySettings {
    /// Folder on the target servers that holds one folder per deployed app.
    pub apps_root: String,
    /// How long the app may take to answer its health check after it started.
    pub health_timeout: Duration,
    /// Longest run of the app playbook (install and build included).
    pub playbook_timeout: Duration,
    /// Public ports handed out on a server when a deployment names none.
    pub first_port: u16,
}

impl Default for DeploySettings {
    fn default() -> Self {
        DeploySettings {
            apps_root: "/srv/provisio".into(),
            health_timeout: Duration::from_secs(90),
            playbook_timeout: Duration::from_secs(1800),
            first_port: 8000,
        }
    }
}

/// How deployment scripts run.
#[derive(Debug, Clone)]
pub struct AnsibleSettings {
    /// The `ansible-playbook` executable (a path, or a name looked up on PATH).
    pub playbook_bin: PathBuf,
    /// Playbook runs allowed at once on one server.
    pub per_server: u32,
}

impl Default for AnsibleSettings {
    fn default() -> Self {
        AnsibleSettings {
            playbook_bin: PathBuf::from(
                var("PROVISIO_ANSIBLE_PLAYBOOK").unwrap_or_else(|| "ansible-playbook".into()),
            ),
            per_server: 1,
        }
    }
}

/// The durable job queue's workers.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Workers inside `serve` (0 = none; run `provisio worker` elsewhere).
    pub workers: usize,
    /// Idle wait between polls of the queue.
    pub poll: Duration,
    /// A claimed job is reclaimed by another worker when its lease lapses without heartbeats.
    pub lease: Duration,
    pub max_attempts: i32,
    /// First back-off after a transient failure; doubles per attempt.
    pub retry_base: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            workers: 2,
            poll: Duration::from_millis(1000),
            lease: Duration::from_secs(60),
            max_attempts: 5,
            retry_base: Duration::from_secs(10),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Wrong passwords from one address for one account before each further try waits
    /// (1 s, 2 s, 4 s … up to `max_delay`).
    pub free_failures: u32,
    pub max_delay: Duration,
    /// Wrong passwords per account inside `account_window` from all addresses together; past
    /// it only the addresses the account signed in from before may try.
    pub account_failures: u32,
    pub account_window: Duration,
    /// Attempts (failed or not) allowed per client IP inside `ip_window`.
    pub ip_attempts: u32,
    pub ip_window: Duration,
    /// Registrations (and requests for a new confirmation link) per client IP in an hour.
    pub registrations_per_hour: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            free_failures: 5,
            max_delay: Duration::from_secs(15 * 60),
            account_failures: 20,
            account_window: Duration::from_secs(60 * 60),
            ip_attempts: 30,
            ip_window: Duration::from_secs(60),
            registrations_per_hour: 10,
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_var<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|e| anyhow::anyhow!("{name}={v:?} is not valid: {e}")),
    }
}

/// DATABASE_URL, else a PostgreSQL URL assembled from DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD/DB_SSLMODE,
/// else the embedded SQLite file.
fn database_url() -> String {
    if let Some(url) = var("DATABASE_URL") {
        return url;
    }
    if let Some(host) = var("DB_HOST") {
        let port = var("DB_PORT").unwrap_or_else(|| "5432".into());
        let name = var("DB_NAME").unwrap_or_else(|| "provisio".into());
        let user = var("DB_USER").unwrap_or_else(|| "provisio".into());
        let password = var("DB_PASSWORD").unwrap_or_default();
        let sslmode = var("DB_SSLMODE").unwrap_or_else(|| "prefer".into());
        return format!(
            "postgres://{}:{}@{host}:{port}/{name}?sslmode={sslmode}",
            percent_encode(&user),
            percent_encode(&password)
        );
    }
    "sqlite://provisio.db?mode=rwc".into()
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn network_policy() -> anyhow::Result<crate::exec::network_policy::NetworkPolicy> {
    use crate::exec::network_policy::{Allowed, NetworkPolicy, PrivateNetworks};
    let defaults = NetworkPolicy::default();
    let allowlist = var("PROVISIO_NETWORK_ALLOWLIST")
        .map(|v| {
            v.split(',')
                .filter(|e| !e.trim().is_empty())
                .map(Allowed::parse)
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|e| anyhow::anyhow!("PROVISIO_NETWORK_ALLOWLIST: {e}"))?
        .unwrap_or_default();
    Ok(NetworkPolicy {
        git: parse_var::<PrivateNetworks>("PROVISIO_GIT_PRIVATE_NETWORKS", defaults.git)?,
        providers: parse_var::<PrivateNetworks>(
            "PROVISIO_PROVIDER_PRIVATE_NETWORKS",
            defaults.providers,
        )?,
        webhooks: parse_var::<PrivateNetworks>(
            "PROVISIO_WEBHOOK_PRIVATE_NETWORKS",
            defaults.webhooks,
        )?,
        allowlist,
    })
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let trusted_proxies = var("PROVISIO_TRUSTED_PROXIES")
            .map(|v| {
                v.split(',')
                    .map(|p| p.trim().parse::<IpAddr>())
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(|e| anyhow::anyhow!("PROVISIO_TRUSTED_PROXIES is not a list of IPs: {e}"))?
            .unwrap_or_default();
        let defaults = LoginLimits::default();
        let bind = parse_var("PROVISIO_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?;
        Ok(Self {
            bind,
            database_url: database_url(),
            db_max_connections: parse_var("PROVISIO_DB_MAX_CONNECTIONS", 10)?,
            db_acquire_timeout: Duration::from_millis(parse_var(
                "PROVISIO_DB_ACQUIRE_TIMEOUT_MS",
                5000u64,
            )?),
            key_file: PathBuf::from(
                var("PROVISIO_KEY_FILE").unwrap_or_else(|| "provisio.key".into()),
            ),
            web_dir: var("PROVISIO_WEB_DIR").map(PathBuf::from),
            log_json: var("PROVISIO_LOG_FORMAT").as_deref() == Some("json"),
            secure_cookies: parse_var("PROVISIO_SECURE_COOKIES", false)?,
            trusted_proxies,
            access_token_ttl: Duration::from_secs(parse_var(
                "PROVISIO_ACCESS_TOKEN_TTL_SECS",
                900,
            )?),
            refresh_token_ttl: Duration::from_secs(
                parse_var("PROVISIO_REFRESH_TOKEN_TTL_DAYS", 14u64)? * 86_400,
            ),
            login_limits: LoginLimits {
                free_failures: parse_var("PROVISIO_LOGIN_FREE_FAILURES", defaults.free_failures)?,
                max_delay: defaults.max_delay,
                account_failures: parse_var(
                    "PROVISIO_LOGIN_MAX_FAILURES",
                    defaults.account_failures,
                )?,
                account_window: defaults.account_window,
                ip_attempts: parse_var("PROVISIO_LOGIN_MAX_PER_IP", defaults.ip_attempts)?,
                ip_window: defaults.ip_window,
                registrations_per_hour: parse_var(
                    "PROVISIO_REGISTRATIONS_PER_HOUR",
                    defaults.registrations_per_hour,
                )?,
            },
            smtp_url: var("PROVISIO_SMTP_URL"),
            smtp_from: var("PROVISIO_SMTP_FROM")
                .unwrap_or_else(|| "Provisio <provisio@localhost>".into()),
            public_url: var("PROVISIO_PUBLIC_URL").unwrap_or_else(|| format!("http://{bind}")),
            delivery_interval: Duration::from_secs(parse_var(
                "PROVISIO_DELIVERY_INTERVAL_SECS",
                5,
            )?),
            delivery_retry_base: Duration::from_secs(parse_var(
                "PROVISIO_DELIVERY_RETRY_SECS",
                30,
            )?),
            jobs: JobSettings {
                workers: parse_var("PROVISIO_WORKERS", 2usize)?,
                poll: Duration::from_millis(parse_var("PROVISIO_JOB_POLL_MS", 1000u64)?),
                lease: Duration::from_secs(parse_var("PROVISIO_JOB_LEASE_SECS", 60u64)?),
                max_attempts: parse_var("PROVISIO_JOB_MAX_ATTEMPTS", 5i32)?,
                retry_base: Duration::from_secs(parse_var("PROVISIO_JOB_RETRY_SECS", 10u64)?),
            },
            providers: crate::providers::Tuning {
                request_timeout: Duration::from_secs(parse_var(
                    "PROVISIO_PROVIDER_TIMEOUT_SECS",
                    30u64,
                )?),
                poll_interval: Duration::from_millis(parse_var(
                    "PROVISIO_PROVIDER_POLL_MS",
                    2000u64,
                )?),
                // Retries of one provider call on a transport error, 429 or gateway answer, with
                // back-off doubling from 0.5 s (0.5 + 1 + 2 + 4 s for the default 4).
                max_retries: parse_var("PROVISIO_PROVIDER_RETRIES", 4u32)?,
                terraform_root: PathBuf::from(
                    var("PROVISIO_TERRAFORM_DIR").unwrap_or_else(|| "provisio-terraform".into()),
                ),
                ..Default::default()
            },
            ansible: AnsibleSettings {
                per_server: parse_var("PROVISIO_ANSIBLE_PER_SERVER", 1u32)?.max(1),
                ..Default::default()
            },
            projects_dir: PathBuf::from(
                var("PROVISIO_PROJECTS_DIR").unwrap_or_else(|| "provisio-projects".into()),
            ),
            deploy: DeploySettings {
                apps_root: var("PROVISIO_APPS_ROOT").unwrap_or_else(|| "/srv/provisio".into()),
                health_timeout: Duration::from_secs(parse_var(
                    "PROVISIO_DEPLOY_HEALTH_TIMEOUT_SECS",
                    90u64,
                )?),
                playbook_timeout: Duration::from_secs(parse_var(
                    "PROVISIO_DEPLOY_TIMEOUT_SECS",
                    1800u64,
                )?),
                first_port: parse_var("PROVISIO_DEPLOY_FIRST_PORT", 8000u16)?,
            },
            metrics_token: var("PROVISIO_METRICS_TOKEN").filter(|t| !t.is_empty()),
            http: HttpLimits {
                max_body_bytes: parse_var(
                    "PROVISIO_MAX_BODY_BYTES",
                    HttpLimits::default().max_body_bytes,
                )?,
                body_read_timeout: Duration::from_secs(parse_var(
                    "PROVISIO_BODY_TIMEOUT_SECS",
                    HttpLimits::default().body_read_timeout.as_secs(),
                )?),
            },
            network: network_policy()?,
            sandbox: sandbox_from_env(),
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}
