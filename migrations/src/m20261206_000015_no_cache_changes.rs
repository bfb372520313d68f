//! PostgreSQL only: undoes `cache_changes`. The in-memory answer and caller caches it served are
//! gone (they helped one URL asked again and again on an idle server, not a system being written
//! to), so users, team memberships, teams and projects notify nobody again, and the live streams'
//! notification carries no table name.

use crate::m20261127_000014_cache_changes as cache_changes;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        cache_changes::Migration.down(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        cache_changes::Migration.up(manager).await
    }
}
