//! Two-factor sign-in: a user's TOTP secret (sealed; a pending one while enrolment waits for its
//! first code), the last time step a code was accepted for (so no code signs in twice), and
//! recovery codes kept as digests.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    TotpSecret,
    TotpPending,
    TotpEnabledAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    Digest,
    UsedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            ColumnDef::new(Users::TotpSecret).text().null().to_owned(),
            ColumnDef::new(Users::TotpPending).text().null().to_owned(),
            ColumnDef::new(Users::TotpEnabledAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Users::TotpLastStep)
                .big_integer()
                .null()
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
        m.create_table(
            Table::create()
                .table(RecoveryCodes::Table)
                .col(
                    ColumnDef::new(RecoveryCodes::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(RecoveryCodes::UserId).uuid().not_null())
                .col(
                    ColumnDef::new(RecoveryCodes::Digest)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(RecoveryCodes::UsedAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(RecoveryCodes::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_recovery_codes_user")
                .table(RecoveryCodes::Table)
                .col(RecoveryCodes::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        for column in [
            Users::TotpSecret,
            Users::TotpPending,
            Users::TotpEnabledAt,
            Users::TotpLastStep,
        ] {
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
