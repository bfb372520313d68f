//! Wake-ups for live streams. A stream re-reads the database when something may have changed
//! instead of on a fixed tick: in this process, writers of log lines and execution states call
//! [`changed`]; on PostgreSQL, triggers on the watched tables `pg_notify` every process (delivered
//! at commit, so a woken reader sees the rows), and [`listen`] turns those notifications into the
//! same wake-up. Streams still poll slowly as a safety net, so a lost notification only delays.

use sea_orm::sqlx::postgres::{PgListener, PgPool};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use std::convert::Infallible;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::watch;

/// The channel the PostgreSQL triggers notify (see the `live_changes` migration).
pub const CHANNEL: &str = "provisio_changes";

static CHANGES: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Something a live stream may show changed.
pub fn changed() {
    CHANGES.send_modify(|generation| *generation = generation.wrapping_add(1));
}

pub fn subscribe() -> watch::Receiver<u64> {
    CHANGES.subscribe()
}

/// Follows the PostgreSQL channel for as long as the process runs, reconnecting after a lost
/// connection (what was missed meanwhile reaches streams through their slow poll).
pub async fn listen(db: DatabaseConnection) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let Err(e) = follow(&pool).await;
        tracing::warn!(error = %e, "listening for database changes failed; retrying");
        tokio::time::sleep(Duration::from_secs(1)).await;
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
