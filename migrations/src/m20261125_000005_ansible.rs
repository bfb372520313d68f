use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SshKeys {
    Table,
    Id,
    UserId,
    Name,
    PublicKey,
    KeyType,
    FingerprintMd5,
    FingerprintSha256,
    PrivateKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Scripts {
    Table,
    Id,
    TeamId,
    Name,
    Description,
    CurrentVersion,
    Builtin,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScriptVersions {
    Table,
    Id,
    ScriptId,
    Version,
    Content,
    Variables,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Executions {
    Table,
    ScriptVersionId,
    Variables,
    ExitCode,
}

#[derive(DeriveIden)]
enum ExecutionTargets {
    Table,
    ExecutionId,
    ServerId,
    ServerName,
    Ok,
    Changed,
    Failed,
    Unreachable,
    Skipped,
    Rescued,
    Ignored,
}

#[derive(DeriveIden)]
enum ServerLocks {
    Table,
    ServerId,
    Slot,
    ExecutionId,
    LockedUntil,
}

#[derive(DeriveIden)]
enum Schedules {
    Table,
    Id,
    ServerId,
    TeamId,
    Operation,
    Cron,
    Enabled,
    Variables,
    NextRunAt,
    LastRunAt,
    LastExecutionId,
    CreatedBy,
    CreatedAt,
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

fn count(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SshKeys::Table)
                .col(ColumnDef::new(SshKeys::Id).uuid().not_null().primary_key())
                // NULL for the platform's service key.
                .col(ColumnDef::new(SshKeys::UserId).uuid().null())
                .col(ColumnDef::new(SshKeys::Name).string_len(80).not_null())
                .col(ColumnDef::new(SshKeys::PublicKey).text().not_null())
                .col(ColumnDef::new(SshKeys::KeyType).string_len(64).not_null())
                .col(
                    ColumnDef::new(SshKeys::FingerprintMd5)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SshKeys::FingerprintSha256)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(SshKeys::PrivateKey).text().null())
                .col(ts(SshKeys::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ssh_keys_user_fingerprint")
                .table(SshKeys::Table)
                .col(SshKeys::UserId)
                .col(SshKeys::FingerprintSha256)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Scripts::Table)
                .col(ColumnDef::new(Scripts::Id).uuid().not_null().primary_key())
                .col(ColumnDef::new(Scripts::TeamId).uuid().not_null())
                .col(ColumnDef::new(Scripts::Name).string_len(80).not_null())
                .col(ColumnDef::new(Scripts::Description).text().not_null())
                .col(ColumnDef::new(Scripts::CurrentVersion).integer().not_null())
                .col(
                    ColumnDef::new(Scripts::Builtin)
                        .boolean()
                        .not_null()
                        .default(false),
                )
                .col(ColumnDef::new(Scripts::CreatedBy).uuid().null())
                .col(ts(Scripts::CreatedAt))
                .col(ts(Scripts::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_scripts_team_name")
                .table(Scripts::Table)
                .col(Scripts::TeamId)
                .col(Scripts::Name)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ScriptVersions::Table)
                .col(
                    ColumnDef::new(ScriptVersions::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ScriptVersions::ScriptId).uuid().not_null())
                .col(ColumnDef::new(ScriptVersions::Version).integer().not_null())
                .col(ColumnDef::new(ScriptVersions::Content).text().not_null())
                .col(ColumnDef::new(ScriptVersions::Variables).json().not_null())
                .col(ColumnDef::new(ScriptVersions::CreatedBy).uuid().null())
                .col(ts(ScriptVersions::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_script_versions_script_version")
                .table(ScriptVersions::Table)
                .col(ScriptVersions::ScriptId)
                .col(ScriptVersions::Version)
                .unique()
                .to_owned(),
        )
        .await?;

        for col in [
            ColumnDef::new(Executions::ScriptVersionId)
                .uuid()
                .null()
                .to_owned(),
            // Secret values sealed, never plain.
            ColumnDef::new(Executions::Variables)
                .json()
                .null()
                .to_owned(),
            ColumnDef::new(Executions::ExitCode)
                .integer()
                .null()
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Executions::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(ExecutionTargets::Table)
                .col(
                    ColumnDef::new(ExecutionTargets::ExecutionId)
                        .uuid()
                        .not_null(),
                )
                .col(ColumnDef::new(ExecutionTargets::ServerId).uuid().not_null())
                .col(
                    ColumnDef::new(ExecutionTargets::ServerName)
                        .string_len(253)
                        .not_null(),
                )
                .col(count(ExecutionTargets::Ok))
                .col(count(ExecutionTargets::Changed))
                .col(count(ExecutionTargets::Failed))
                .col(count(ExecutionTargets::Unreachable))
                .col(count(ExecutionTargets::Skipped))
                .col(count(ExecutionTargets::Rescued))
                .col(count(ExecutionTargets::Ignored))
                .primary_key(
                    Index::create()
                        .col(ExecutionTargets::ExecutionId)
                        .col(ExecutionTargets::ServerId),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_execution_targets_server")
                .table(ExecutionTargets::Table)
                .col(ExecutionTargets::ServerId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ServerLocks::Table)
                .col(ColumnDef::new(ServerLocks::ServerId).uuid().not_null())
                .col(ColumnDef::new(ServerLocks::Slot).integer().not_null())
                .col(ColumnDef::new(ServerLocks::ExecutionId).uuid().not_null())
                .col(ts(ServerLocks::LockedUntil))
                .primary_key(
                    Index::create()
                        .col(ServerLocks::ServerId)
                        .col(ServerLocks::Slot),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Schedules::Table)
                .col(
                    ColumnDef::new(Schedules::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Schedules::ServerId).uuid().not_null())
                .col(ColumnDef::new(Schedules::TeamId).uuid().not_null())
                .col(
                    ColumnDef::new(Schedules::Operation)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(Schedules::Cron).string_len(120).not_null())
                .col(ColumnDef::new(Schedules::Enabled).boolean().not_null())
                .col(ColumnDef::new(Schedules::Variables).json().not_null())
                .col(ts_null(Schedules::NextRunAt))
                .col(ts_null(Schedules::LastRunAt))
                .col(ColumnDef::new(Schedules::LastExecutionId).uuid().null())
                .col(ColumnDef::new(Schedules::CreatedBy).uuid().null())
                .col(ts(Schedules::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_schedules_due")
                .table(Schedules::Table)
                .col(Schedules::Enabled)
                .col(Schedules::NextRunAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Schedules::Table.into_iden(),
            ServerLocks::Table.into_iden(),
            ExecutionTargets::Table.into_iden(),
            ScriptVersions::Table.into_iden(),
            Scripts::Table.into_iden(),
            SshKeys::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for col in [
            Executions::ScriptVersionId.into_iden(),
            Executions::Variables.into_iden(),
            Executions::ExitCode.into_iden(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Executions::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
