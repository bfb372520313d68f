//! Self-registration: when a user confirmed their e-mail address (`confirmed_at`; accounts that
//! exist already count as confirmed when they were created), whether an administrator still has
//! to let them in, and the one-time links sent to confirm an address (kept as digests).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    ConfirmedAt,
    AwaitingApproval,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailConfirmations {
    Table,
    Digest,
    UserId,
    ExpiresAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            ColumnDef::new(Users::ConfirmedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Users::AwaitingApproval)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.exec_stmt(
            Query::update()
                .table(Users::Table)
                .value(Users::ConfirmedAt, Expr::col(Users::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(EmailConfirmations::Table)
                .col(
                    ColumnDef::new(EmailConfirmations::Digest)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(EmailConfirmations::UserId).uuid().not_null())
                .col(
                    ColumnDef::new(EmailConfirmations::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(EmailConfirmations::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(EmailConfirmations::Table, EmailConfirmations::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_confirmations_user")
                .table(EmailConfirmations::Table)
                .col(EmailConfirmations::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(EmailConfirmations::Table).to_owned())
            .await?;
        for column in [Users::ConfirmedAt, Users::AwaitingApproval] {
            m.alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
