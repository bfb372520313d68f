//! Wake-ups for live streams. A stream re-reads the database when something may have changed
//! instead of on a fixed tick: in this process, writers of log lines and execution states call
//! [`changed`]; [`listen`] adds what other processes commit: on PostgreSQL, triggers on the
//! watched tables `pg_notify` every process (delivered at commit, so a woken reader sees the
//! rows); on SQLite, `PRAGMA data_version` changes whenever another connection commits, checked
//! every 40 ms. Streams still poll slowly as a safety net, so a lost wake-up only delays.

use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::sqlx::sqlite::SqlitePool;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::watch;

/// The channel the PostgreSQL triggers notify (see the `live_changes` migration).
pub const CHANNEL: &str = "provisio_changes";
const SQLITE_CHECK: Duration = Duration::from_millis(40);

static CHANGES: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Something a live stream may show changed.
pub fn changed() {
    CHANGES.send_modify(|generation| *generation = generation.wrapping_add(1));
}

pub fn subscribe() -> watch::Receiver<u64> {
    CHANGES.subscribe()
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
