//! PostgreSQL only: the change notification of the `live_changes` triggers is skipped on
//! connections that set `provisio.live = batched`. A NOTIFY serializes every committing
//! transaction that sends one, WAL flush included, which capped the job queue at one commit per
//! flush; the workers' hot path (log lines, execution starts and finishes) writes through such
//! connections and sends one coalesced NOTIFY after its commits instead (`api::live::publish`).
//! Every other writer, including tools outside Provisio, still notifies from the trigger.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What the trigger function does; `notify` is the statement that notifies.
fn trigger_function(notify: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION provisio_notify_changes() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN {notify} RETURN NULL; END $$"
    )
}

async fn replace_trigger_function(manager: &SchemaManager<'_>, notify: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    manager
        .get_connection()
        .execute_unprepared(&trigger_function(notify))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_trigger_function(
            manager,
            "IF current_setting('provisio.live', true) IS DISTINCT FROM 'batched' THEN \
               PERFORM pg_notify('provisio_changes', ''); \
             END IF;",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_trigger_function(manager, "PERFORM pg_notify('provisio_changes', '');").await
    }
}
