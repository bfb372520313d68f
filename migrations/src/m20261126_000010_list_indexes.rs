//! Indexes the benchmarks asked for: the deployments page is ordered by (created_at, id), and the
//! statistics and the list's total count by status and framework, both answered from an index
//! instead of the table.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Status,
    Framework,
    CreatedAt,
    Id,
}

const INDEXES: [&str; 2] = [
    "idx_deployments_status_framework",
    "idx_deployments_created_id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(INDEXES[0])
                .table(Deployments::Table)
                .col(Deployments::Status)
                .col(Deployments::Framework)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(INDEXES[1])
                .table(Deployments::Table)
                .col(Deployments::CreatedAt)
                .col(Deployments::Id)
                .to_owned(),
        )
        .await?;
        // The second makes the old single-column one redundant.
        m.drop_index(
            Index::drop()
                .name("idx_deployments_created")
                .table(Deployments::Table)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("idx_deployments_created")
                .table(Deployments::Table)
                .col(Deployments::CreatedAt)
                .to_owned(),
        )
        .await?;
        for name in INDEXES {
            m.drop_index(
                Index::drop()
                    .name(name)
                    .table(Deployments::Table)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
