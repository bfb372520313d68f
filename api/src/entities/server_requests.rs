use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "server_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub requester_id: Uuid,
    pub team_id: Uuid,
    pub provider_account_id: Uuid,
    pub hostname: String,
    pub location: String,
    pub server_type: Option<String>,
    pub cpu: i32,
    pub ram_mb: i32,
    pub disk_gb: i32,
    pub image: String,
    pub purpose: String,
    pub ssh_public_keys: Json,
    pub notes: String,
    pub status: String,
    pub estimated_monthly_cents: Option<i64>,
    pub currency: Option<String>,
    pub rejection_reason: Option<String>,
    /// Index of the approval step the request waits on.
    pub policy_step: i32,
    pub failure_reason: Option<String>,
    /// The client subscription the server is for.
    pub subscription_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
