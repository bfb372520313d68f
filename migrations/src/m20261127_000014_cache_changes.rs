//! PostgreSQL only: the change notification names the table that changed, and the tables that
//! cached answers depend on beyond those live streams watch (who callers are, their teams, the
//! projects a deployment shows) notify too. A process keeps answers in memory and drops them when
//! any process commits a change to what they were read from (`api::cache`); a change to users or
//! team memberships also drops the signed-in callers it keeps.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Added to the tables of the `live_changes` migration.
const WATCHED: [&str; 4] = ["users", "team_memberships", "teams", "projects"];

fn trigger_function(payload: &str) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION provisio_notify_changes() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN \
           IF current_setting('provisio.live', true) IS DISTINCT FROM 'batched' THEN \
             PERFORM pg_notify('provisio_changes', {payload}); \
           END IF; \
           RETURN NULL; END $$"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        // Still folded by PostgreSQL within a transaction: one notification per table changed.
        db.execute_unprepared(&trigger_function("TG_TABLE_NAME"))
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
        db.execute_unprepared(&trigger_function("''")).await?;
        Ok(())
    }
}
