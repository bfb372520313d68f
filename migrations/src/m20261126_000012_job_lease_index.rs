//! The claim looks for a lapsed lease first: the oldest `locked_until` among running jobs. With
//! only (status, run_at) to go by, that read and sorted every running row, and every superseded
//! version of one not yet vacuumed: about 340 buffer reads per claim after 15,000 jobs. This index
//! makes it a range scan that stops at its first row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Status,
    LockedUntil,
}

const INDEX: &str = "idx_jobs_status_locked_until";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(Jobs::Table)
                .col(Jobs::Status)
                .col(Jobs::LockedUntil)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(Jobs::Table).to_owned())
            .await
    }
}
