use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployments {
    Table,
    Id,
    TeamId,
    Name,
    ProjectId,
    Branch,
    CommitSha,
    Framework,
    Module,
    DeploymentType,
    Cpu,
    RamMb,
    DiskGb,
    Status,
    FailedStep,
    Error,
    ServerId,
    RequestId,
    Port,
    AppPort,
    Url,
    Env,
    ExecutionId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeployedAt,
}

/// Administrator settings as JSON documents by key (e.g. `terminal`).
#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Deployments::Table)
                .col(
                    ColumnDef::new(Deployments::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Deployments::TeamId).uuid().not_null())
                .col(ColumnDef::new(Deployments::Name).string_len(40).not_null())
                .col(ColumnDef::new(Deployments::ProjectId).uuid().not_null())
                .col(
                    ColumnDef::new(Deployments::Branch)
                        .string_len(200)
                        .not_null(),
                )
                .col(ColumnDef::new(Deployments::CommitSha).string_len(40).null())
                .col(
                    ColumnDef::new(Deployments::Framework)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Deployments::Module).string_len(100).null())
                .col(
                    ColumnDef::new(Deployments::DeploymentType)
                        .string_len(8)
                        .not_null(),
                )
                .col(ColumnDef::new(Deployments::Cpu).integer().null())
                .col(ColumnDef::new(Deployments::RamMb).integer().null())
                .col(ColumnDef::new(Deployments::DiskGb).integer().null())
                .col(
                    ColumnDef::new(Deployments::Status)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Deployments::FailedStep)
                        .string_len(32)
                        .null(),
                )
                .col(ColumnDef::new(Deployments::Error).text().null())
                .col(ColumnDef::new(Deployments::ServerId).uuid().null())
                .col(ColumnDef::new(Deployments::RequestId).uuid().null())
                .col(ColumnDef::new(Deployments::Port).integer().null())
                .col(ColumnDef::new(Deployments::AppPort).integer().null())
                .col(ColumnDef::new(Deployments::Url).string_len(300).null())
                // Sealed with the master key: name → value.
                .col(ColumnDef::new(Deployments::Env).text().null())
                .col(ColumnDef::new(Deployments::ExecutionId).uuid().null())
                .col(ColumnDef::new(Deployments::CreatedBy).uuid().null())
                .col(
                    ColumnDef::new(Deployments::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Deployments::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Deployments::DeployedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "idx_deployments_team_created",
                vec![Deployments::TeamId, Deployments::CreatedAt],
            ),
            ("idx_deployments_created", vec![Deployments::CreatedAt]),
            ("idx_deployments_server", vec![Deployments::ServerId]),
            ("idx_deployments_request", vec![Deployments::RequestId]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Deployments::Table);
            for col in cols {
                index.col(col);
            }
            m.create_index(index.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(Settings::Table)
                .col(
                    ColumnDef::new(Settings::Key)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Settings::Value).json().not_null())
                .col(ColumnDef::new(Settings::UpdatedBy).uuid().null())
                .col(
                    ColumnDef::new(Settings::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Settings::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Deployments::Table).to_owned())
            .await
    }
}
