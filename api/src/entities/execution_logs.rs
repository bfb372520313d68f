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
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
