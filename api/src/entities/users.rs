use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub password_hash: String,
    /// Comma-separated role names, parsed through shared::roles.
    pub roles: String,
    pub active: bool,
    /// Bumped when every existing session of the user must end (password reset, deactivation).
    pub session_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    /// The TOTP secret, sealed; set once enrolment was confirmed with a code.
    pub totp_secret: Option<String>,
    /// A secret whose enrolment waits for its first code, sealed.
    pub totp_pending: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    /// The last time step (Unix time / 30) a code signed in with: no code counts twice.
    pub totp_last_step: Option<i64>,
    /// When the e-mail address was confirmed; `None` while a registration waits for its link.
    /// Accounts an administrator creates count as confirmed.
    pub confirmed_at: Option<DateTimeUtc>,
    /// A registration an administrator has not let in yet: it cannot sign in.
    pub awaiting_approval: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
