//! What the resource endpoints read and answer.

use super::{ConnectionForm, Provisioning, ResourceStatus};
use crate::dto::{ResourceCategory, TeamRef};
use crate::requests::UserRef;
use crate::validation::{self as v, FieldErrors, Validator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A resource type as administrators create or change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaveResourceType {
    /// Lower-case words joined by `-`, e.g. `db-postgresql`; fixed once created.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 40, pattern = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
    )]
    pub slug: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 80))]
    pub name: String,
    pub category: ResourceCategory,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub description: String,
    pub provisioning: Provisioning,
    /// The shipped recipe that provides it (see `recipes` of `GET /api/resource-types`); only
    /// with `provisioning: recipe`.
    #[serde(default)]
    pub recipe: Option<String>,
    /// A retired type stays for the resources made from it; no new request may name it.
    #[serde(default)]
    pub retired: bool,
}

pub fn type_slug(value: &str) -> Result<(), String> {
    let ok = (2..=40).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && !value.ends_with('-')
        && !value.contains("--")
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err("use 2 to 40 lower-case letters, digits and single hyphens, starting with a letter, e.g. db-mysql".into())
    }
}

impl SaveResourceType {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("slug", type_slug(&self.slug))
            .check("name", v::display_text(&self.name, 2, 80))
            .check("description", v::display_text(&self.description, 0, 1000));
        val.check(
            "recipe",
            match (self.provisioning, &self.recipe) {
                (Provisioning::Recipe, None) => {
                    Err("name the recipe that provides this type".into())
                }
                (Provisioning::Manual, Some(_)) => Err(
                    "a type fulfilled by hand has no recipe: choose provisioning \"recipe\" or leave the recipe out"
                        .into(),
                ),
                _ => Ok(()),
            },
        );
        val.finish()
    }
}

/// A request for a resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateResource {
    pub team_id: Uuid,
    /// The type's slug, e.g. `db-postgresql`.
    pub resource_type: String,
    /// Also the database and user name where the engine has them.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 32, pattern = "^[a-z][a-z0-9_]{0,31}$")
    )]
    pub name: String,
    /// The team's server it goes on; a type fulfilled by hand may leave it to the technical agent.
    #[serde(default)]
    pub server_id: Option<Uuid>,
    /// Instead of `server_id`: a new server, requested with it (the same approval decides
    /// both); the recipe runs once that server is ready.
    #[serde(default)]
    pub new_server: Option<NewServer>,
    /// Settings from the type's recipe (`parameters` of the type); missing ones take defaults.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub parameters: Map<String, Value>,
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 1000))]
    pub purpose: String,
}

/// The server a resource asks for. Left-out fields take the account catalog's defaults: its first
/// location and VM image, and at fixed-size accounts the cheapest type with the size asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewServer {
    /// Default: the team's default account for new guests.
    #[serde(default)]
    pub provider_account_id: Option<Uuid>,
    /// Default: the resource's name with `-` for `_`.
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub server_type: Option<String>,
    #[serde(default)]
    pub cpu: Option<u32>,
    #[serde(default)]
    pub ram_mb: Option<u32>,
    #[serde(default)]
    pub disk_gb: Option<u32>,
    /// An OpenSSH public key that logs in to it besides Provisio's own.
    #[serde(default)]
    pub ssh_public_key: Option<String>,
}

impl NewServer {
    /// The host name it gets: the one given, or the resource's name (`shop_db` → `shop-db`).
    pub fn hostname_for(&self, resource: &str) -> String {
        self.hostname
            .clone()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| resource.replace('_', "-"))
    }
}

pub fn resource_name(value: &str) -> Result<(), String> {
    let ok = (1..=32).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err("use 1 to 32 lower-case letters, digits or '_', starting with a letter (it becomes the database and user name), e.g. shop_db".into())
    }
}

impl CreateResource {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", resource_name(&self.name))
            .check("purpose", v::display_text(&self.purpose, 3, 1000));
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResourceTypeRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub category: ResourceCategory,
    pub provisioning: Provisioning,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerRef {
    pub id: Uuid,
    pub name: String,
}

/// A server request a resource waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServerRequestRef {
    pub id: Uuid,
    pub hostname: String,
    pub status: crate::workflow::RequestStatus,
}

/// A resource as its team sees it: never its secret (`POST …/reveal` gives that).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Resource {
    pub id: Uuid,
    pub team: TeamRef,
    pub resource_type: ResourceTypeRef,
    pub name: String,
    pub status: ResourceStatus,
    pub purpose: String,
    pub server: Option<ServerRef>,
    /// The request for the new server it goes on, while it has none yet.
    pub server_request: Option<ServerRequestRef>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub parameters: Map<String, Value>,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The database, file or export.
    pub database: Option<String>,
    pub username: Option<String>,
    /// How it is reached, without the password.
    pub connection: Option<String>,
    /// The form of `connection` (null for a type fulfilled by hand without a known form).
    pub connection_form: Option<ConnectionForm>,
    /// Whether a password or key is stored, to reveal.
    pub has_secret: bool,
    pub requested_by: UserRef,
    /// The log of the recipe's last run.
    pub execution_id: Option<Uuid>,
    pub error: Option<String>,
    pub rejection_reason: Option<String>,
    /// Index of the approval step it waits on.
    pub policy_step: u32,
    /// Whether the caller may approve or reject the step it waits on.
    pub may_approve: bool,
    /// Whether its recipe writes and restores backups.
    pub backups_supported: bool,
    /// Five-field cron (UTC) of scheduled backups, when there are any.
    pub backup_cron: Option<String>,
    pub next_backup_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RejectResource {
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 1000))]
    pub reason: String,
}

/// The connection details of a resource set up by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FulfilResource {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 253))]
    pub host: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 65535))]
    pub port: Option<u16>,
    /// The database, pool, export or bucket.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub database: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub username: String,
    /// Sealed at rest; shown only by `reveal`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 4096))]
    pub secret: Option<String>,
}

impl FulfilResource {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check(
            "host",
            if self.host.trim().is_empty() || self.host.len() > 253 {
                Err("is required: the address people connect to, at most 253 characters".into())
            } else if self.host.chars().any(char::is_whitespace) {
                Err("must be a host name or address without spaces".into())
            } else {
                Ok(())
            },
        )
        .check(
            "port",
            if self.port == Some(0) {
                Err("must be 1 to 65535".into())
            } else {
                Ok(())
            },
        )
        .check("database", v::display_text(&self.database, 0, 200))
        .check("username", v::display_text(&self.username, 0, 100))
        .check(
            "secret",
            match &self.secret {
                Some(s) if s.is_empty() || s.len() > 4096 => {
                    Err("use 1 to 4096 characters, or leave it out".into())
                }
                _ => Ok(()),
            },
        );
        val.finish()
    }
}

/// What `reveal` answers: the secret and the connection with it, ready to paste.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResourceSecret {
    pub secret: String,
    pub connection: Option<String>,
    /// The variable a bound deployment receives it in, e.g. `DATABASE_URL`.
    pub env_var: Option<String>,
}

/// Deleting drops data: the resource's name typed again confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeleteResource {
    pub confirm: String,
    /// Take a last backup before dropping (where the recipe writes backups); on unless declined.
    #[serde(default = "yes")]
    pub final_backup: bool,
}

fn yes() -> bool {
    true
}

/// New values of the settings that may change in place (`resizable` in the type's recipe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResizeResource {
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub parameters: Map<String, Value>,
}

/// A dump the recipe wrote on the resource's server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResourceBackup {
    pub id: Uuid,
    /// Its path on the server.
    pub file: String,
    pub kind: BackupKind,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// Asked for by a person.
    Manual,
    /// Taken on the resource's schedule.
    Scheduled,
    /// Taken before the resource was deleted.
    Final,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Manual => "manual",
            BackupKind::Scheduled => "scheduled",
            BackupKind::Final => "final",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [BackupKind::Manual, BackupKind::Scheduled, BackupKind::Final]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RestoreResource {
    /// One of the resource's backups (`GET /api/resources/{id}/backups`).
    pub backup_id: Uuid,
}

/// When backups are taken: a five-field cron in UTC (`0 3 * * *`: every day at 03:00), or null
/// for none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BackupSchedule {
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub cron: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_says_how_it_is_provided() {
        let mut t = SaveResourceType {
            slug: "db-mysql".into(),
            name: "MySQL".into(),
            category: ResourceCategory::Database,
            description: String::new(),
            provisioning: Provisioning::Recipe,
            recipe: None,
            retired: false,
        };
        assert_eq!(
            t.validate().unwrap_err()["recipe"],
            ["name the recipe that provides this type"]
        );
        t.provisioning = Provisioning::Manual;
        assert!(t.validate().is_ok());
        t.slug = "DB mysql".into();
        assert!(t.validate().unwrap_err().contains_key("slug"));
    }

    #[test]
    fn resource_names_become_database_names() {
        assert!(resource_name("shop_db").is_ok());
        for bad in ["", "Shop", "1shop", "shop-db", "a".repeat(33).as_str()] {
            assert!(resource_name(bad).is_err(), "{bad}");
        }
    }
}
