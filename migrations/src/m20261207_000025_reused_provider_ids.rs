//! Proxmox hands a freed VM id out again: a provider id is unique among the servers that are not
//! deleted, so a new guest under a deleted one's id gets a row of its own.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_servers_provider_id")
            .await?;
        // A partial index: both SQLite and PostgreSQL have them. A new name: another SQLite
        // connection of the pool may still hold the schema with the old one.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_servers_live_provider_id ON servers \
             (provider_account_id, provider_id) WHERE status <> 'deleted'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_servers_live_provider_id")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS idx_servers_provider_id ON servers \
             (provider_account_id, provider_id)",
        )
        .await?;
        Ok(())
    }
}
