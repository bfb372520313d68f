use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    /// One row per logical job: enqueueing twice is a no-op.
    pub dedupe_key: String,
    pub payload: Json,
    pub status: String,
    pub attempts: i32,
    pub run_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// Worker holding the lease while `running`.
    pub locked_by: Option<String>,
    /// Checkpoints of idempotent steps (e.g. the VM id chosen before cloning).
    pub progress: Option<Json>,
    pub cancel_requested: bool,
    /// The execution (log) of the current attempt.
    pub execution_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
