//! PostgreSQL only: every committed change to what live streams show notifies the
//! `provisio_changes` channel, so a stream served by one process wakes when a worker in another
//! process writes a log line or moves a status. SQLite deployments run in one process and wake
//! their streams in memory.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables whose rows a live stream shows.
const WATCHED: [&str; 6] = [
    "execution_logs",
    "executions",
    "server_requests",
    "servers",
    "deployments",
    "request_events",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // Statement-level and payload-free: PostgreSQL folds identical notifications of one
        // transaction into one, so a batch of log lines costs one wake-up.
        db.execute_unprepared(
            "CREATE OR REPLACE FUNCTION provisio_notify_changes() RETURNS trigger \
             LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('provisio_changes', ''); RETURN NULL; END $$",
        )
        .await?;
        for table in WATCHED {
            db.execute_unprepared(&format!(
                "CREATE TRIGGER {table}_notify_changes AFTER INSERT OR UPDATE OR DELETE ON {table} \
                 FOR EACH STATEMENT EXECUTE FUNCTION provisio_notify_changes()"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in WATCHED {
            db.execute_unprepared(&format!(
                "DROP TRIGGER IF EXISTS {table}_notify_changes ON {table}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION IF EXISTS provisio_notify_changes()")
            .await?;
        Ok(())
    }
}
