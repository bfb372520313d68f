//! Request and response bodies of the REST API. serde lives here, entities stay in api/.

use crate::roles::{Permission, Role};
use crate::validation::{self as v, FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// RFC 9457 problem details; `errors` maps a field to its messages on 422.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One page of a list: `{items,total,page,per_page}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

pub const PER_PAGE_MAX: u64 = 200;
pub const PER_PAGE_DEFAULT: u64 = 50;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UserListQuery {
    /// 1-based page number.
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 1000000),
        schema(minimum = 1, maximum = 1000000)
    )]
    pub page: Option<u64>,
    /// Rows per page, at most 200.
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 200),
        schema(minimum = 1, maximum = 200)
    )]
    pub per_page: Option<u64>,
    /// Matches username, e-mail or full name.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// `true`: only registrations waiting for an administrator's approval.
    pub awaiting_approval: Option<bool>,
    /// `username`, `-username`, `created_at`, `-created_at`, `last_login_at`, `-last_login_at`.
    pub sort: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema, IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PageQuery {
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 1000000),
        schema(minimum = 1, maximum = 1000000)
    )]
    pub page: Option<u64>,
    #[cfg_attr(
        feature = "openapi",
        param(minimum = 1, maximum = 200),
        schema(minimum = 1, maximum = 200)
    )]
    pub per_page: Option<u64>,
    pub q: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    /// Username or e-mail address.
    pub login: String,
    pub password: String,
    /// For an account with two-factor sign-in: the 6-digit code of its authenticator app, or
    /// one of its recovery codes. Without it such an account gets 422 naming `code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: Me,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TeamRef {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// The signed-in user, with the permissions the shared matrix grants them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub permissions: Vec<Permission>,
    pub teams: Vec<TeamRef>,
    pub two_factor: crate::two_factor::TwoFactorState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub full_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub teams: Vec<TeamRef>,
    /// Whether the user signs in with a second factor (an administrator may reset it).
    #[serde(default)]
    pub two_factor: bool,
    /// Whether the e-mail address is confirmed (accounts administrators create are).
    #[serde(default = "yes")]
    pub confirmed: bool,
    /// A registration waiting for an administrator to let it in.
    #[serde(default)]
    pub awaiting_approval: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateUser {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 32, pattern = "^[a-z0-9][a-z0-9._-]*$")
    )]
    pub username: String,
    #[cfg_attr(feature = "openapi", schema(max_length = 254, format = Email))]
    pub email: String,
    #[serde(default)]
    pub full_name: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 128))]
    pub password: String,
    pub roles: Vec<Role>,
    /// Teams to join; the Global team when empty.
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
}

impl CreateUser {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("username", v::username(&self.username))
            .check("email", v::email(&self.email))
            .check("full_name", v::display_text(&self.full_name, 0, 120))
            .check("password", v::password(&self.password))
            .check("roles", non_empty_roles(&self.roles));
        val.finish()
    }
}

fn non_empty_roles(roles: &[Role]) -> Result<(), String> {
    if roles.is_empty() {
        Err("choose at least one role".into())
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateUser {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub roles: Option<Vec<Role>>,
    /// `false` deactivates the account: its sessions and tokens stop working at once.
    pub active: Option<bool>,
}

impl UpdateUser {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        if let Some(email) = &self.email {
            val.check("email", v::email(email));
        }
        if let Some(name) = &self.full_name {
            val.check("full_name", v::display_text(name, 0, 120));
        }
        if let Some(roles) = &self.roles {
            val.check("roles", non_empty_roles(roles));
        }
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResetPassword {
    pub password: String,
}

impl ResetPassword {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("password", v::password(&self.password));
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

impl ChangePassword {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("new_password", v::password(&self.new_password));
        val.finish()
    }
}

/// Asks for a ticket that opens one live stream (`…/events`) or terminal (`…/terminal`) once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StreamTicketRequest {
    /// The path the ticket opens, e.g. `/api/deployments/{id}/events`.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 300, pattern = "^/api/.+/(events|terminal)$")
    )]
    pub path: String,
}

impl StreamTicketRequest {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        let path = &self.path;
        val.check(
            "path",
            if path.len() <= 300
                && path.starts_with("/api/")
                && (path.ends_with("/events") || path.ends_with("/terminal"))
                && !path.contains(['?', '#'])
            {
                Ok(())
            } else {
                Err(
                    "name the path of a live stream or terminal, e.g. /api/deployments/{id}/events"
                        .into(),
                )
            },
        );
        val.finish()
    }
}

/// A single-use ticket: append `?ticket=…` to the path it was issued for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StreamTicket {
    pub ticket: String,
    /// Seconds within which it must be used.
    pub expires_in: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Team {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub is_global: bool,
    pub member_count: u64,
    pub created_at: DateTime<Utc>,
    /// Where a deployment of this team goes when it names neither a server nor a provider
    /// account.
    #[serde(default)]
    pub default_provider_account_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateTeam {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl CreateTeam {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", team_name(&self.name))
            .check("description", v::display_text(&self.description, 0, 500));
        val.finish()
    }
}

fn team_name(name: &str) -> Result<(), String> {
    v::display_text(name, 2, 64)?;
    if v::slugify(name).is_empty() {
        return Err("must contain at least one letter or digit".into());
    }
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateTeam {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The provider account new guests of this team's deployments go to when a deployment names
    /// neither a server nor an account; `null` clears it, absent leaves it as it is.
    #[serde(
        default,
        deserialize_with = "crate::validation::present",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub default_provider_account_id: Option<Option<Uuid>>,
}

impl UpdateTeam {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        if let Some(name) = &self.name {
            val.check("name", team_name(name));
        }
        if let Some(d) = &self.description {
            val.check("description", v::display_text(d, 0, 500));
        }
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TeamMember {
    pub user_id: Uuid,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the secret, to recognise it; the secret itself is shown once.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateApiToken {
    pub name: String,
    /// Lifetime in days (1–365); no expiry when absent.
    pub expires_in_days: Option<u32>,
}

impl CreateApiToken {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 1, 64));
        if let Some(days) = self.expires_in_days {
            val.check(
                "expires_in_days",
                if (1..=365).contains(&days) {
                    Ok(())
                } else {
                    Err("choose 1 to 365 days, or no expiry".into())
                },
            );
        }
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedApiToken {
    pub token: ApiToken,
    /// The secret to send as `Authorization: Bearer <secret>`. Shown only in this response.
    pub secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResourceCategory {
    Storage,
    Database,
    Bigdata,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResourceType {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub category: ResourceCategory,
    pub description: String,
    pub provisioning: crate::resources::Provisioning,
    /// The recipe that provides it, with the settings a request makes.
    pub recipe: Option<crate::resources::Recipe>,
    /// Retired types take no new requests.
    pub retired: bool,
    /// One of the fourteen shipped types: it can be retired, not deleted.
    pub built_in: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    pub version: String,
}

/// Counts shown on the dashboard, restricted to what the caller may see.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Overview {
    pub teams: u64,
    /// Users by role; present only for callers who manage users.
    pub users_by_role: Option<BTreeMap<String, u64>>,
    pub active_users: Option<u64>,
    pub resource_types: u64,
    pub api_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_user_reports_every_bad_field() {
        let errors = CreateUser {
            username: "X".into(),
            email: "nope".into(),
            full_name: String::new(),
            password: "short".into(),
            roles: vec![],
            team_ids: vec![],
        }
        .validate()
        .unwrap_err();
        for field in ["username", "email", "password", "roles"] {
            assert!(errors.contains_key(field), "missing {field}");
        }
        assert!(!errors.contains_key("full_name"));
    }

    #[test]
    fn problem_serializes_type_member() {
        let p = Problem {
            kind: "about:blank".into(),
            title: "Not Found".into(),
            status: 404,
            detail: None,
            errors: None,
            request_id: None,
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["type"], "about:blank");
        assert!(json.get("errors").is_none());
    }

    #[test]
    fn team_names_need_a_letter() {
        assert!(CreateTeam {
            name: "--".into(),
            description: String::new()
        }
        .validate()
        .is_err());
        assert!(CreateTeam {
            name: "Platform".into(),
            description: String::new()
        }
        .validate()
        .is_ok());
    }
}
