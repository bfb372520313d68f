use sea_orm::entity::prelude::*;

/// One wrong password, kept for an hour: the growing delays per source and the hourly bound per
/// account are counted from these rows, so every `serve` process sees the same numbers.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_failures")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `user:{id}` for an account (whichever of its names was typed), `login:{text}` otherwise.
    pub account_key: String,
    /// The client address, as text.
    pub source: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
