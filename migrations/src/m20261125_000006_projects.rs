use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Projects {
    Table,
    Id,
    TeamId,
    Name,
    Url,
    DefaultBranch,
    DeployKey,
    Status,
    Error,
    LastCommit,
    DetectedFramework,
    LastSyncedAt,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Projects::Table)
                .col(ColumnDef::new(Projects::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Projects::TeamId).uuid().not_null())
                .col(ColumnDef::new(Projects::Name).string_len(80).not_null())
                .col(ColumnDef::new(Projects::Url).string_len(1024).not_null())
                .col(
                    ColumnDef::new(Projects::DefaultBranch)
                        .string_len(200)
                        .not_null(),
                )
                // Sealed with the master key.
                .col(ColumnDef::new(Projects::DeployKey).text().null())
                .col(ColumnDef::new(Projects::Status).string_len(16).not_null())
                .col(ColumnDef::new(Projects::Error).text().null())
                .col(ColumnDef::new(Projects::LastCommit).json().null())
                .col(
                    ColumnDef::new(Projects::DetectedFramework)
                        .string_len(32)
                        .null(),
                )
                .col(
                    ColumnDef::new(Projects::LastSyncedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(ColumnDef::new(Projects::CreatedBy).uuid().null())
                .col(
                    ColumnDef::new(Projects::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_projects_team_name")
                .table(Projects::Table)
                .col(Projects::TeamId)
                .col(Projects::Name)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Projects::Table).to_owned())
            .await
    }
}
