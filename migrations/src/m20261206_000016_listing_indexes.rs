//! Indexes for the deployments list and statistics as people use them (several teams, filters,
//! deep pages, writes going on), found with the realistic benchmark and SQLite's query plans:
//! - `(created_at, id, team_id, status, framework)`: a page's ids are chosen by walking the order
//!   and checking the caller's teams, the status and the framework in the index itself; rows are
//!   read only for the page (a page 40 deep read 2,000 rows from the table before).
//! - `(status, framework, team_id)`: the statistics' grouping and the list's total count are
//!   answered from the index alone, with the team filter (the table was read row by row).
//!
//! Each replaces the narrower index of `list_indexes` it extends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Status,
    Framework,
    TeamId,
    CreatedAt,
    Id,
}

async fn create(
    m: &SchemaManager<'_>,
    name: &str,
    cols: impl IntoIterator<Item = Deployments>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(Deployments::Table);
    for col in cols {
        index.col(col);
    }
    m.create_index(index.to_owned()).await
}

async fn drop(m: &SchemaManager<'_>, name: &str) -> Result<(), DbErr> {
    m.drop_index(
        Index::drop()
            .name(name)
            .table(Deployments::Table)
            .to_owned(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Deployments::*;
        create(
            m,
            "idx_deployments_listing",
            [CreatedAt, Id, TeamId, Status, Framework],
        )
        .await?;
        create(
            m,
            "idx_deployments_status_framework_team",
            [Status, Framework, TeamId],
        )
        .await?;
        drop(m, "idx_deployments_created_id").await?;
        drop(m, "idx_deployments_status_framework").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Deployments::*;
        create(m, "idx_deployments_created_id", [CreatedAt, Id]).await?;
        create(m, "idx_deployments_status_framework", [Status, Framework]).await?;
        drop(m, "idx_deployments_listing").await?;
        drop(m, "idx_deployments_status_framework_team").await
    }
}
