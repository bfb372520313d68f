use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "provider_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub endpoint: String,
    pub catalog: Json,
    pub settings: Option<Json>,
    /// Sealed with the master key (`crypto::seal`); never leaves the server.
    pub credentials: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When the connection was last tested, and whether every check passed.
    pub last_tested_at: Option<DateTimeUtc>,
    pub last_test_ok: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
