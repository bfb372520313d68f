//! Sign-in state that every `serve` process must share: failed attempts per account and source
//! (growing delays, an hourly bound per account), the sources an account signed in from before
//! (which that bound does not lock out), and single-use tickets that open live streams and
//! terminals without putting a token in a URL.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SignInFailures {
    Table,
    Id,
    /// `user:{id}` for an account, `login:{text}` for a name that is none.
    AccountKey,
    Source,
    At,
}

#[derive(DeriveIden)]
enum SignInSources {
    Table,
    UserId,
    Source,
    LastSuccessAt,
}

#[derive(DeriveIden)]
enum StreamTickets {
    Table,
    TicketHash,
    UserId,
    FamilyId,
    ApiTokenId,
    SessionVersion,
    Path,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SignInFailures::Table)
                .col(
                    ColumnDef::new(SignInFailures::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(SignInFailures::AccountKey)
                        .string_len(300)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SignInFailures::Source)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SignInFailures::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sign_in_failures_account")
                .table(SignInFailures::Table)
                .col(SignInFailures::AccountKey)
                .col(SignInFailures::At)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sign_in_failures_at")
                .table(SignInFailures::Table)
                .col(SignInFailures::At)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SignInSources::Table)
                .col(ColumnDef::new(SignInSources::UserId).uuid().not_null())
                .col(
                    ColumnDef::new(SignInSources::Source)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SignInSources::LastSuccessAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(SignInSources::UserId)
                        .col(SignInSources::Source),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SignInSources::Table, SignInSources::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StreamTickets::Table)
                .col(
                    ColumnDef::new(StreamTickets::TicketHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(StreamTickets::UserId).uuid().not_null())
                .col(ColumnDef::new(StreamTickets::FamilyId).uuid().null())
                .col(ColumnDef::new(StreamTickets::ApiTokenId).uuid().null())
                .col(
                    ColumnDef::new(StreamTickets::SessionVersion)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StreamTickets::Path)
                        .string_len(300)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(StreamTickets::ExpiresAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StreamTickets::Table, StreamTickets::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StreamTickets::Table.into_iden(),
            SignInSources::Table.into_iden(),
            SignInFailures::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
