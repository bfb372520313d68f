//! A provider account remembers how its last connection test went, so the account list and the
//! administrator's first steps can say whether it works without testing again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProviderAccounts {
    Table,
    LastTestedAt,
    LastTestOk,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(ProviderAccounts::Table)
                .add_column(
                    ColumnDef::new(ProviderAccounts::LastTestedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(ProviderAccounts::Table)
                .add_column(
                    ColumnDef::new(ProviderAccounts::LastTestOk)
                        .boolean()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [ProviderAccounts::LastTestOk, ProviderAccounts::LastTestedAt] {
            m.alter_table(
                Table::alter()
                    .table(ProviderAccounts::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
