//! Wiring: database connection and migrations, application state, and the HTTP server.

use super::{openapi, spa, telemetry};
use crate::auth::jwt::JwtKeys;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::{Config, HttpLimits};
use crate::error::ApiError;
use crate::keys::Keys;
use crate::server::spa::WebAssets;
use crate::server::web_security::{self, DefaultPolicy};
use crate::state::AppState;
use crate::{domain, http};
use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse};
use anyhow::Context;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use utoipa_swagger_ui::SwaggerUi;

/// The most of the database file SQLite maps; only the pages read take memory.
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

pub async fn connect(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .connect_timeout(config.db_acquire_timeout)
        .acquire_timeout(config.db_acquire_timeout)
        .idle_timeout(Duration::from_secs(300))
        .max_lifetime(Duration::from_secs(1800))
        // A ping before every query doubled the round trips; a dead connection fails its query
        // instead (503, and the pool replaces it), and lifetimes retire connections anyway.
        .test_before_acquire(false)
        .sqlx_logging(false);
    // Per connection (a PRAGMA on one pooled connection does not reach the others): WAL so
    // readers proceed while a writer commits, and writers wait for each other instead of failing.
    // In WAL mode `synchronous = NORMAL` loses no committed transaction on a process crash and
    // never corrupts the file (SQLite's documented pairing); only the last commits before a power
    // cut may roll back. The database file is read through a memory map: every commit (a job's
    // log line, 100 a second while a job runs) empties each connection's page cache, and without
    // the map every read after it copied pages in with a pread call (14 % of the server's CPU
    // under the realistic benchmark). The map is shared by all connections and the kernel's page
    // cache, so it also spares each connection its own copies of the pages.
    options.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
            .busy_timeout(Duration::from_secs(10))
    });
    let db = Database::connect(options)
        .await
        .context("could not connect to the database (check DATABASE_URL)")?;
    Ok(db)
}

/// Connects, applies pending migrations and the idempotent baseline seed.
pub async fn prepare_database(config: &Config) -> anyhow::Result<DatabaseConnection> {
    let db = connect(config).await?;
    Migrator::up(&db, None)
        .await
        .context("could not apply the database migrations")?;
    domain::seed::seed_baseline(&db)
        .await
        .context("could not seed the baseline data")?;
    Ok(db)
}

pub fn build_state(mut config: Config, db: DatabaseConnection, keys: Keys) -> AppState {
    // Terraform keeps its state beside ours when that is PostgreSQL.
    if config.providers.database_url.is_none() && !config.is_sqlite() {
        config.providers.database_url = Some(config.database_url.clone());
    }
    config.providers.network = config.network.clone();
    AppState {
        // Each worker claims, logs and finishes through it.
        live_writer: crate::live::Writer::batched(
            &db,
            config.db_max_connections.max(config.jobs.workers as u32),
        ),
        jwt: Arc::new(JwtKeys::new(&keys.jwt_secret, config.access_token_ttl)),
        login_limiter: Arc::new(LoginLimiter::new(config.login_limits)),
        registration_limiter: Arc::new(LoginLimiter::new(crate::config::LoginLimits {
            ip_attempts: config.login_limits.registrations_per_hour,
            ip_window: Duration::from_secs(3600),
            ..config.login_limits
        })),
        keys: Arc::new(keys),
        config: Arc::new(config),
        db,
    }
}

fn json_config(limits: HttpLimits) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limits.max_body_bytes)
        .error_handler(move |err, _req| json_error(&err, limits).into())
}

/// What a JSON body that cannot be read or decoded answers.
pub fn json_error(err: &actix_web::error::JsonPayloadError, limits: HttpLimits) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Deserialize(e) => ApiError::field("body", e.to_string()),
        E::ContentType => ApiError::BadRequest("the body must be application/json".into()),
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ApiError::PayloadTooLarge {
            limit: limits.max_body_bytes,
        },
        E::Payload(e) => web_security::payload_error(e, limits),
        other => ApiError::BadRequest(format!("the body could not be read: {other}")),
    }
}

/// No handler reads forms or raw bodies today; these keep any that does inside the same limits.
fn form_config(limits: HttpLimits) -> web::FormConfig {
    web::FormConfig::default()
        .limit(limits.max_body_bytes)
        .error_handler(move |err, _req| {
            use actix_web::error::UrlencodedError as E;
            let api_error = match &err {
                E::Overflow { .. } => ApiError::PayloadTooLarge {
                    limit: limits.max_body_bytes,
                },
                E::Payload(e) => web_security::payload_error(e, limits),
                other => ApiError::BadRequest(format!("the form could not be read: {other}")),
            };
            api_error.into()
        })
}

fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _req| ApiError::field("query", err.to_string()).into())
}

fn path_config() -> web::PathConfig {
    // A malformed id cannot name an existing row; a path the document spells out for other
    // methods (PUT /api/scripts/validate, caught by PUT /api/scripts/{id}) is a wrong method.
    web::PathConfig::default().error_handler(|_err, req| {
        match super::openapi::methods_at(req.path()) {
            Some(allowed) if !allowed.contains(&req.method().as_str()) => {
                actix_web::error::InternalError::from_response(
                    "method not allowed",
                    super::spa::method_not_allowed(req, &allowed),
                )
                .into()
            }
            _ => ApiError::NotFound.into(),
        }
    })
}

/// Start-up (migrations, the first queries, each HTTP worker's router) frees what it used, and
/// glibc keeps such freed memory in the arena of the thread that used it. Handing it back to the
/// system once the workers are up keeps idle RSS to what the server holds.
async fn release_startup_memory() {
    tokio::time::sleep(Duration::from_millis(500)).await;
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

pub struct Application {
    port: u16,
    server: Server,
    pub state: AppState,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), prepares the database and builds the server.
    pub async fn build(config: Config, keys: Keys) -> anyhow::Result<Self> {
        let db = prepare_database(&config).await?;
        let listener = TcpListener::bind(config.bind)
            .with_context(|| format!("could not listen on {}", config.bind))?;
        Self::with_listener(config, keys, db, listener)
    }

    pub fn with_listener(
        config: Config,
        keys: Keys,
        db: DatabaseConnection,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let assets = web::Data::new(WebAssets {
            dir: config.web_dir.clone(),
        });
        let default_policy = DefaultPolicy::from_index(assets.index_html().as_deref());
        let limits = config.http;
        let state = build_state(config, db, keys);
        tokio::spawn(crate::live::listen(state.db.clone()));
        let data = web::Data::new(state.clone());
        // actix-web's HttpServer, but over a connection that answers unreadable heads in
        // problem+json (`server::unreadable`).
        let server = super::unreadable::run(listener, move || {
            App::new()
                .wrap(from_fn(web_security::limit_body))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(from_fn(web_security::headers))
                .wrap(from_fn(telemetry::request_span))
                // Registered before the /api scope, which would otherwise claim these paths.
                .service(
                    SwaggerUi::new("/api/docs/{_:.*}")
                        .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
                )
                .route(
                    "/api/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect()
                            .insert_header(("Location", "/api/docs/"))
                            .finish()
                    }),
                )
                .route("/api/openapi.json", web::get().to(openapi::serve_json))
                .app_data(data.clone())
                .app_data(assets.clone())
                .app_data(default_policy.clone())
                .app_data(json_config(limits))
                .app_data(form_config(limits))
                .app_data(web::PayloadConfig::new(limits.max_body_bytes))
                .app_data(query_config())
                .app_data(path_config())
                .service(http::health::healthz)
                .service(http::health::readyz)
                .service(http::health::metrics)
                .service(web::scope("/api").configure(http::configure))
                .default_service(web::to(spa::serve))
        })?;
        tokio::spawn(release_startup_memory());
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
