use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub type_id: Uuid,
    pub name: String,
    pub purpose: String,
    pub status: String,
    pub server_id: Option<Uuid>,
    /// The server request filed with it; `server_id` is set once that server is ready.
    pub request_id: Option<Uuid>,
    pub parameters: Json,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub database: Option<String>,
    pub username: Option<String>,
    /// Sealed under the master key.
    pub secret: Option<String>,
    pub requested_by: Uuid,
    /// Index of the approval step it waits on.
    pub policy_step: i32,
    pub execution_id: Option<Uuid>,
    pub error: Option<String>,
    pub rejection_reason: Option<String>,
    /// Five-field cron (UTC) of scheduled backups.
    pub backup_cron: Option<String>,
    pub next_backup_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
