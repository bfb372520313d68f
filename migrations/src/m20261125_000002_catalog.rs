use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ResourceTypes {
    Table,
    Id,
    Slug,
    Name,
    Category,
    Description,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    Action,
    TargetType,
    TargetId,
    Before,
    After,
    Ip,
    RequestId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ResourceTypes::Table)
                .col(
                    ColumnDef::new(ResourceTypes::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ResourceTypes::Slug)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(
                    ColumnDef::new(ResourceTypes::Name)
                        .string_len(120)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ResourceTypes::Category)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ResourceTypes::Description)
                        .string_len(500)
                        .not_null()
                        .default(""),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditEvents::Table)
                .col(
                    ColumnDef::new(AuditEvents::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(AuditEvents::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::ActorId).uuid().null())
                .col(
                    ColumnDef::new(AuditEvents::Action)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(AuditEvents::TargetType)
                        .string_len(32)
                        .not_null(),
                )
                .col(ColumnDef::new(AuditEvents::TargetId).string_len(64).null())
                .col(ColumnDef::new(AuditEvents::Before).json().null())
                .col(ColumnDef::new(AuditEvents::After).json().null())
                .col(ColumnDef::new(AuditEvents::Ip).string_len(64).null())
                .col(ColumnDef::new(AuditEvents::RequestId).string_len(64).null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_events_at")
                .table(AuditEvents::Table)
                .col(AuditEvents::At)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ResourceTypes::Table).to_owned())
            .await
    }
}
