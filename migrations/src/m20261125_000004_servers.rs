use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProviderAccounts {
    Table,
    Settings,
    Credentials,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    LockedBy,
    Progress,
    CancelRequested,
    ExecutionId,
}

#[derive(DeriveIden)]
enum Servers {
    Table,
    Id,
    TeamId,
    ProviderAccountId,
    ProviderId,
    Name,
    Status,
    Origin,
    Ipv4,
    Ipv6,
    Cpu,
    RamMb,
    DiskGb,
    Image,
    Location,
    Labels,
    SshUser,
    SshPort,
    HostKeyFingerprint,
    RequestId,
    CreatedAt,
    UpdatedAt,
    LastSyncedAt,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    Id,
    Kind,
    Status,
    TargetType,
    TargetId,
    TeamId,
    Step,
    Error,
    CreatedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ExecutionLogs {
    Table,
    Id,
    ExecutionId,
    At,
    Stream,
    Text,
}

fn ts(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn ts_null(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for col in [
            ColumnDef::new(ProviderAccounts::Settings)
                .json()
                .null()
                .to_owned(),
            ColumnDef::new(ProviderAccounts::Credentials)
                .text()
                .null()
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProviderAccounts::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            ColumnDef::new(Jobs::LockedBy)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Jobs::Progress).json().null().to_owned(),
            ColumnDef::new(Jobs::CancelRequested)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(Jobs::ExecutionId).uuid().null().to_owned(),
        ] {
            m.alter_table(Table::alter().table(Jobs::Table).add_column(col).to_owned())
                .await?;
        }

        m.create_table(
            Table::create()
                .table(Servers::Table)
                .col(ColumnDef::new(Servers::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Servers::TeamId).uuid().not_null())
                .col(ColumnDef::new(Servers::ProviderAccountId).uuid().not_null())
                .col(
                    ColumnDef::new(Servers::ProviderId)
                        .string_len(255)
                        .not_null(),
                )
                .col(ColumnDef::new(Servers::Name).string_len(253).not_null())
                .col(ColumnDef::new(Servers::Status).string_len(16).not_null())
                .col(ColumnDef::new(Servers::Origin).string_len(16).not_null())
                .col(ColumnDef::new(Servers::Ipv4).string_len(64).null())
                .col(ColumnDef::new(Servers::Ipv6).string_len(64).null())
                .col(ColumnDef::new(Servers::Cpu).integer().not_null())
                .col(ColumnDef::new(Servers::RamMb).integer().not_null())
                .col(ColumnDef::new(Servers::DiskGb).integer().not_null())
                .col(ColumnDef::new(Servers::Image).string_len(255).not_null())
                .col(ColumnDef::new(Servers::Location).string_len(128).not_null())
                .col(ColumnDef::new(Servers::Labels).json().not_null())
                .col(ColumnDef::new(Servers::SshUser).string_len(32).not_null())
                .col(ColumnDef::new(Servers::SshPort).integer().not_null())
                .col(
                    ColumnDef::new(Servers::HostKeyFingerprint)
                        .string_len(128)
                        .null(),
                )
                .col(
                    ColumnDef::new(Servers::RequestId)
                        .uuid()
                        .null()
                        .unique_key(),
                )
                .col(ts(Servers::CreatedAt))
                .col(ts(Servers::UpdatedAt))
                .col(ts_null(Servers::LastSyncedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_servers_provider_id")
                .table(Servers::Table)
                .col(Servers::ProviderAccountId)
                .col(Servers::ProviderId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_servers_team")
                .table(Servers::Table)
                .col(Servers::TeamId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Executions::Table)
                .col(
                    ColumnDef::new(Executions::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Executions::Kind).string_len(32).not_null())
                .col(ColumnDef::new(Executions::Status).string_len(16).not_null())
                .col(
                    ColumnDef::new(Executions::TargetType)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Executions::TargetId).uuid().not_null())
                .col(ColumnDef::new(Executions::TeamId).uuid().not_null())
                .col(ColumnDef::new(Executions::Step).string_len(200).null())
                .col(ColumnDef::new(Executions::Error).string_len(4000).null())
                .col(ColumnDef::new(Executions::CreatedBy).uuid().null())
                .col(ts(Executions::CreatedAt))
                .col(ts_null(Executions::StartedAt))
                .col(ts_null(Executions::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_executions_target")
                .table(Executions::Table)
                .col(Executions::TargetType)
                .col(Executions::TargetId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ExecutionLogs::Table)
                .col(
                    ColumnDef::new(ExecutionLogs::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(ExecutionLogs::ExecutionId).uuid().not_null())
                .col(ts(ExecutionLogs::At))
                .col(
                    ColumnDef::new(ExecutionLogs::Stream)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(ExecutionLogs::Text).text().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_execution_logs_execution")
                .table(ExecutionLogs::Table)
                .col(ExecutionLogs::ExecutionId)
                .col(ExecutionLogs::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ExecutionLogs::Table.into_iden(),
            Executions::Table.into_iden(),
            Servers::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for col in [
            Jobs::LockedBy.into_iden(),
            Jobs::Progress.into_iden(),
            Jobs::CancelRequested.into_iden(),
            Jobs::ExecutionId.into_iden(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Jobs::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        for col in [
            ProviderAccounts::Settings.into_iden(),
            ProviderAccounts::Credentials.into_iden(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ProviderAccounts::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
