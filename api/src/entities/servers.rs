use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "servers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub provider_account_id: Uuid,
    pub provider_id: String,
    pub name: String,
    pub status: String,
    pub origin: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub cpu: i32,
    pub ram_mb: i32,
    pub disk_gb: i32,
    pub image: String,
    pub location: String,
    pub labels: Json,
    pub ssh_user: String,
    pub ssh_port: i32,
    pub host_key_fingerprint: Option<String>,
    pub request_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_synced_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
