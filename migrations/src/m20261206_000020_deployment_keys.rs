//! A deployment onto a new guest carries the public key that logs in to it, and — when Provisio
//! generated the pair — the private half sealed under the master key until its one download.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Deployments {
    Table,
    SshPublicKey,
    SshPrivateKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        m.alter_table(
            Table::alter()
                .table(Deployments::Table)
                .add_column(ColumnDef::new(Deployments::SshPublicKey).text().null())
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Deployments::Table)
                .add_column(ColumnDef::new(Deployments::SshPrivateKey).text().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [Deployments::SshPrivateKey, Deployments::SshPublicKey] {
            m.alter_table(
                Table::alter()
                    .table(Deployments::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
