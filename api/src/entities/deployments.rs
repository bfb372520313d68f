use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "deployments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub name: String,
    pub project_id: Uuid,
    pub branch: String,
    pub commit_sha: Option<String>,
    pub framework: String,
    pub module: Option<String>,
    pub deployment_type: String,
    pub cpu: Option<i32>,
    pub ram_mb: Option<i32>,
    pub disk_gb: Option<i32>,
    pub status: String,
    pub failed_step: Option<String>,
    pub error: Option<String>,
    pub server_id: Option<Uuid>,
    pub request_id: Option<Uuid>,
    pub port: Option<i32>,
    pub app_port: Option<i32>,
    pub url: Option<String>,
    pub env: Option<String>,
    pub execution_id: Option<Uuid>,
    pub ssh_public_key: Option<String>,
    /// Sealed under the master key; cleared by its one download.
    pub ssh_private_key: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deployed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
