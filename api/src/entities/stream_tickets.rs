use sea_orm::entity::prelude::*;

/// A single-use pass for one live stream or terminal URL, so that no token travels in a URL.
/// It carries the session it was issued under, which must still be open when it is used.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stream_tickets")]
pub struct Model {
    /// SHA-256 of the ticket; the ticket itself is never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_hash: String,
    pub user_id: Uuid,
    /// The refresh-token family of the browser session that asked for it.
    pub family_id: Option<Uuid>,
    /// Or the API token that asked for it.
    pub api_token_id: Option<Uuid>,
    pub session_version: i32,
    /// The one path the ticket opens.
    pub path: String,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
