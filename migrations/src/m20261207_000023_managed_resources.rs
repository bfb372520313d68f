//! Managed resources: resource types say how they are provided (a shipped recipe or by hand) and
//! can be retired; `resources` are the team's requests for one and what they became, with the
//! approvals given on the way (the same policies as server requests).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ResourceTypes {
    Table,
    Slug,
    Provisioning,
    Recipe,
    RetiredAt,
    BuiltIn,
}

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    TeamId,
    TypeId,
    Name,
    Purpose,
    Status,
    ServerId,
    Parameters,
    Host,
    Port,
    Database,
    Username,
    /// Sealed with the master key.
    Secret,
    RequestedBy,
    PolicyStep,
    ExecutionId,
    Error,
    RejectionReason,
    /// Five-field cron (UTC) of scheduled backups; null: none.
    BackupCron,
    NextBackupAt,
    CreatedAt,
    UpdatedAt,
}

/// A dump a recipe wrote on the resource's server.
#[derive(DeriveIden)]
enum ResourceBackups {
    Table,
    Id,
    ResourceId,
    /// The dump's path on the server.
    File,
    /// `manual`, `scheduled` or `final` (taken before deletion).
    Kind,
    ExecutionId,
    CreatedAt,
}

/// A deployment bound to a resource gets its connection in an environment variable.
#[derive(DeriveIden)]
enum DeploymentResources {
    Table,
    DeploymentId,
    ResourceId,
    EnvVar,
}

#[derive(DeriveIden)]
enum ResourceApprovals {
    Table,
    ResourceId,
    Step,
    UserId,
    At,
}

/// The shipped types a verified recipe provides.
const RECIPES: [(&str, &str); 5] = [
    ("db-postgresql", "postgresql"),
    ("db-mariadb", "mariadb"),
    ("db-redis", "redis"),
    ("db-sqlite", "sqlite"),
    ("storage-nfs", "nfs"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        for column in [
            ColumnDef::new(ResourceTypes::Provisioning)
                .string_len(8)
                .not_null()
                .default("manual")
                .to_owned(),
            ColumnDef::new(ResourceTypes::Recipe)
                .string_len(40)
                .null()
                .to_owned(),
            ColumnDef::new(ResourceTypes::RetiredAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(ResourceTypes::BuiltIn)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ResourceTypes::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        // Every type there is now was seeded by Provisio: administrators could not add any.
        m.exec_stmt(
            Query::update()
                .table(ResourceTypes::Table)
                .value(ResourceTypes::BuiltIn, true)
                .to_owned(),
        )
        .await?;
        for (slug, recipe) in RECIPES {
            m.exec_stmt(
                Query::update()
                    .table(ResourceTypes::Table)
                    .value(ResourceTypes::Provisioning, "recipe")
                    .value(ResourceTypes::Recipe, recipe)
                    .and_where(Expr::col(ResourceTypes::Slug).eq(slug))
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(Resources::Table)
                .col(
                    ColumnDef::new(Resources::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Resources::TeamId).uuid().not_null())
                .col(ColumnDef::new(Resources::TypeId).uuid().not_null())
                .col(ColumnDef::new(Resources::Name).string_len(32).not_null())
                .col(ColumnDef::new(Resources::Purpose).text().not_null())
                .col(ColumnDef::new(Resources::Status).string_len(24).not_null())
                .col(ColumnDef::new(Resources::ServerId).uuid().null())
                .col(ColumnDef::new(Resources::Parameters).json().not_null())
                .col(ColumnDef::new(Resources::Host).string_len(253).null())
                .col(ColumnDef::new(Resources::Port).integer().null())
                .col(ColumnDef::new(Resources::Database).string_len(200).null())
                .col(ColumnDef::new(Resources::Username).string_len(100).null())
                .col(ColumnDef::new(Resources::Secret).text().null())
                .col(ColumnDef::new(Resources::RequestedBy).uuid().not_null())
                .col(
                    ColumnDef::new(Resources::PolicyStep)
                        .integer()
                        .not_null()
                        .default(0),
                )
                .col(ColumnDef::new(Resources::ExecutionId).uuid().null())
                .col(ColumnDef::new(Resources::Error).text().null())
                .col(ColumnDef::new(Resources::RejectionReason).text().null())
                .col(ColumnDef::new(Resources::BackupCron).string_len(100).null())
                .col(
                    ColumnDef::new(Resources::NextBackupAt)
                        .timestamp_with_time_zone()
                        .null(),
                )
                .col(
                    ColumnDef::new(Resources::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Resources::UpdatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "idx_resources_team_created",
                vec![Resources::TeamId, Resources::CreatedAt],
            ),
            (
                "idx_resources_server_name",
                vec![Resources::ServerId, Resources::Name],
            ),
            ("idx_resources_status", vec![Resources::Status]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Resources::Table);
            for col in cols {
                index.col(col);
            }
            m.create_index(index.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(ResourceApprovals::Table)
                .col(
                    ColumnDef::new(ResourceApprovals::ResourceId)
                        .uuid()
                        .not_null(),
                )
                .col(ColumnDef::new(ResourceApprovals::Step).integer().not_null())
                .col(ColumnDef::new(ResourceApprovals::UserId).uuid().not_null())
                .col(
                    ColumnDef::new(ResourceApprovals::At)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(ResourceApprovals::ResourceId)
                        .col(ResourceApprovals::Step)
                        .col(ResourceApprovals::UserId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(DeploymentResources::Table)
                .col(
                    ColumnDef::new(DeploymentResources::DeploymentId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DeploymentResources::ResourceId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(DeploymentResources::EnvVar)
                        .string_len(64)
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(DeploymentResources::DeploymentId)
                        .col(DeploymentResources::ResourceId),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceBackups::Table)
                .col(
                    ColumnDef::new(ResourceBackups::Id)
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(ResourceBackups::ResourceId)
                        .uuid()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ResourceBackups::File)
                        .string_len(300)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ResourceBackups::Kind)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(ResourceBackups::ExecutionId).uuid().null())
                .col(
                    ColumnDef::new(ResourceBackups::CreatedAt)
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_resource_backups_resource")
                .table(ResourceBackups::Table)
                .col(ResourceBackups::ResourceId)
                .col(ResourceBackups::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_deployment_resources_resource")
                .table(DeploymentResources::Table)
                .col(DeploymentResources::ResourceId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DeploymentResources::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ResourceBackups::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ResourceApprovals::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Resources::Table).to_owned())
            .await?;
        for column in [
            ResourceTypes::BuiltIn,
            ResourceTypes::RetiredAt,
            ResourceTypes::Recipe,
            ResourceTypes::Provisioning,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ResourceTypes::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
