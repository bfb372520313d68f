use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub team_id: Uuid,
    pub client_id: Uuid,
    pub plan_name: String,
    pub period_months: i32,
    pub monthly_price_cents: i64,
    pub currency: String,
    pub start_date: Date,
    pub end_date: Date,
    pub auto_renew: bool,
    pub status: String,
    pub notice_days: i32,
    pub power_off_after_days: Option<i32>,
    pub owner_id: Option<Uuid>,
    pub notified_for: Option<Date>,
    pub powered_off_at: Option<DateTimeUtc>,
    pub stopped_on: Option<Date>,
    pub server_ids: Json,
    pub deployment_ids: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
