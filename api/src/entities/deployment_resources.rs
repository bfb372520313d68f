use sea_orm::entity::prelude::*;

/// A deployment bound to a resource: the resource's connection reaches the app in `env_var`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deployment_resources")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub deployment_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub resource_id: Uuid,
    pub env_var: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
