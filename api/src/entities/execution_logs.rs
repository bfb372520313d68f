use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "execution_logs")]
pub struct Model {
    /// Increases across all executions; serves as the SSE event id.
    #[sea_orm(primary_key)]
    pub id: i64,
    pub execution_id: Uuid,
    pub at: DateTimeUtc,
    pub stream: String,
    pub text: String,
    /// The pipeline stage a `step` line starts (`shared::stages::Stage`).
    pub stage: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
