//! A resource may be requested together with the server it goes on: it names that server
//! request and takes the server once the request has built it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Resources {
    Table,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: SQLite cannot add one to an existing table; requests are never deleted.
        m.alter_table(
            Table::alter()
                .table(Resources::Table)
                .add_column(ColumnDef::new(Resources::RequestId).uuid().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_resources_request")
                .table(Resources::Table)
                .col(Resources::RequestId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("idx_resources_request")
                .table(Resources::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Resources::Table)
                .drop_column(Resources::RequestId)
                .to_owned(),
        )
        .await
    }
}
