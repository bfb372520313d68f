//! A team may name the provider account its new guests go to when a deployment names neither a
//! server nor an account (the six-field deploy body of the PaaS description).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Teams {
    Table,
    DefaultProviderAccountId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: SQLite cannot add one to an existing table, and deleting an account
        // clears the setting in the same transaction (domain::providers).
        m.alter_table(
            Table::alter()
                .table(Teams::Table)
                .add_column(
                    ColumnDef::new(Teams::DefaultProviderAccountId)
                        .uuid()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Teams::Table)
                .drop_column(Teams::DefaultProviderAccountId)
                .to_owned(),
        )
        .await
    }
}
