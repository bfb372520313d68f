//! Wake-ups for live streams. A stream re-reads the database when something may have changed
//! instead of on a fixed tick: in this process, writers of log lines and execution states call
//! [`changed`]; [`listen`] adds what other processes commit: on PostgreSQL, triggers on the
//! watched tables `pg_notify` every process (delivered at commit, so a woken reader sees the
//! rows); on SQLite, `PRAGMA data_version` changes whenever another connection commits, checked
//! every 40 ms. Streams still poll slowly as a safety net, so a lost wake-up only delays.
//!
//! The workers' hot path writes through a [`Writer`] instead: on PostgreSQL its connections skip
//! the triggers' NOTIFY (which serializes committing transactions, WAL flush included) and it
//! sends one coalesced NOTIFY after its commits.

use sea_orm::sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sea_orm::sqlx::sqlite::SqlitePool;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, SqlxPostgresConnector};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The channel the PostgreSQL triggers notify (see the `live_changes` migration).
pub const CHANNEL: &str = "provisio_changes";
const SQLITE_CHECK: Duration = Duration::from_millis(40);
/// What a batched writer's changes wait at most before other processes hear of them: short
/// beside a stream's latency, long beside a job's commits (each NOTIFY costs a commit).
const NOTIFY_GAP: Duration = Duration::from_millis(5);

static CHANGES: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Something a live stream may show changed.
pub fn changed() {
    CHANGES.send_modify(|generation| *generation = generation.wrapping_add(1));
}

pub fn subscribe() -> watch::Receiver<u64> {
    CHANGES.subscribe()
}

/// Where log lines and execution states are written from jobs. After each commit through `db`,
/// call [`Writer::publish`]: a batched writer's commits notify nobody by themselves.
#[derive(Clone)]
pub struct Writer {
    pub db: DatabaseConnection,
    /// Wakes the task that sends the coalesced NOTIFY (batched writers on PostgreSQL).
    wake: Option<Arc<Unsent>>,
}

impl Writer {
    /// Writes through `db`, whose commits notify other processes through the triggers.
    pub fn notifying(db: DatabaseConnection) -> Self {
        Writer { db, wake: None }
    }

    /// On PostgreSQL, a pool of up to `max_connections` beside `db` whose connections set
    /// `provisio.live = batched` (see the `batched_live_changes` migration), opened on demand;
    /// on SQLite simply `db` (readers follow `data_version`). Needs a Tokio runtime.
    pub fn batched(db: &DatabaseConnection, max_connections: u32) -> Self {
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Writer::notifying(db.clone());
        }
        let pool = db.get_postgres_connection_pool();
        let options = (*pool.connect_options())
            .clone()
            .options([("provisio.live", "batched")]);
        let batched = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(pool.options().get_acquire_timeout())
            .idle_timeout(Some(Duration::from_secs(300)))
            .test_before_acquire(false)
            .connect_lazy_with(options);
        let wake = Arc::new(Unsent::default());
        tokio::spawn(send_notifications(db.clone(), wake.clone()));
        Writer {
            db: SqlxPostgresConnector::from_sqlx_postgres_pool(batched),
            wake: Some(wake),
        }
    }

    /// Wakes this process's streams and, for a batched writer, every other process's.
    pub fn publish(&self) {
        changed();
        if let Some(wake) = &self.wake {
            wake.changes.store(true, Ordering::Release);
            wake.notify.notify_one();
        }
    }
}

/// Changes published and not yet announced by NOTIFY.
#[derive(Default)]
struct Unsent {
    changes: AtomicBool,
    notify: Notify,
}

/// Sends NOTIFY at most once per [`NOTIFY_GAP`]; publishes meanwhile fold into that one.
async fn send_notifications(db: DatabaseConnection, wake: Arc<Unsent>) {
    loop {
        wake.notify.notified().await;
        tokio::time::sleep(NOTIFY_GAP).await;
        if !wake.changes.swap(false, Ordering::AcqRel) {
            continue;
        }
        if let Err(e) = db
            .execute_unprepared(&format!("NOTIFY {CHANNEL}, 'jobs'"))
            .await
        {
            tracing::warn!(error = %e, "notifying other processes of changes failed");
            // Streams elsewhere still see the change at their slow poll; try again shortly.
            tokio::time::sleep(Duration::from_millis(200)).await;
            wake.changes.store(true, Ordering::Release);
            wake.notify.notify_one();
        }
    }
}

/// Wakes streams for what other connections commit (PostgreSQL NOTIFY, SQLite `data_version`)
/// for as long as the process runs, reconnecting after a lost connection (what was missed
/// meanwhile reaches streams through their slow poll).
pub async fn listen(db: DatabaseConnection) {
    loop {
        let Err(e) = match db.get_database_backend() {
            DatabaseBackend::Postgres => follow(db.get_postgres_connection_pool()).await,
            DatabaseBackend::Sqlite => watch_sqlite(db.get_sqlite_connection_pool()).await,
            _ => return,
        };
        tracing::warn!(error = %e, "listening for database changes failed; retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// SQLite has no notifications; a connection's `data_version` moves when any other connection
/// (of this process or another) commits, and reading it costs no table access.
async fn watch_sqlite(pool: &SqlitePool) -> Result<Infallible, sea_orm::sqlx::Error> {
    let mut connection = pool.acquire().await?;
    let mut seen: i64 = sea_orm::sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(&mut *connection)
        .await?;
    loop {
        tokio::time::sleep(SQLITE_CHECK).await;
        let now: i64 = sea_orm::sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *connection)
            .await?;
        if now != seen {
            seen = now;
            changed();
        }
    }
}

async fn follow(pool: &PgPool) -> Result<Infallible, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        listener.recv().await?;
        changed();
    }
}
