//! A `step` log line may say which pipeline stage it starts (`shared::stages::Stage`), so
//! progress trackers read the stage instead of the line's wording.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExecutionLogs {
    Table,
    Stage,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ExecutionLogs::Table)
                .add_column(ColumnDef::new(ExecutionLogs::Stage).string().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ExecutionLogs::Table)
                .drop_column(ExecutionLogs::Stage)
                .to_owned(),
        )
        .await
    }
}
