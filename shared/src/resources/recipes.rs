//! Recipes: how Provisio provides a resource type itself. A recipe names its engine, the form of
//! its connection string and the parameters a request sets (checked here, on both sides).

use crate::validation::FieldErrors;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The form people paste a connection in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionForm {
    Postgres,
    Mysql,
    Redis,
    /// A database file on the server.
    Sqlite,
    /// An NFS export, used as an `/etc/fstab` line.
    Nfs,
}

impl ConnectionForm {
    /// Whether reaching it takes a password (a SQLite file or an NFS export do not).
    pub fn has_password(self) -> bool {
        matches!(
            self,
            ConnectionForm::Postgres | ConnectionForm::Mysql | ConnectionForm::Redis
        )
    }

    /// The environment variable a deployment bound to the resource receives.
    pub fn env_var(self) -> &'static str {
        match self {
            ConnectionForm::Postgres | ConnectionForm::Mysql | ConnectionForm::Sqlite => {
                "DATABASE_URL"
            }
            ConnectionForm::Redis => "REDIS_URL",
            ConnectionForm::Nfs => "NFS_MOUNT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ParameterKind {
    Integer,
    Text,
    /// Who may connect: `*`, an IP address, or a network as address/prefix.
    Network,
}

/// `*`, an IPv4 or IPv6 address, or a network (`10.0.0.0/8`, `2001:db8::/32`).
pub fn network(value: &str) -> Result<(), String> {
    if value == "*" {
        return Ok(());
    }
    let (address, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let max = match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => 32,
        Ok(std::net::IpAddr::V6(_)) => 128,
        Err(_) => {
            return Err("must be *, an IP address or a network such as 10.0.0.0/8".into());
        }
    };
    match prefix.map(str::parse::<u8>) {
        None => Ok(()),
        Some(Ok(p)) if p <= max => Ok(()),
        Some(_) => Err(format!("the prefix after / must be 0 to {max}")),
    }
}

/// One setting a request of the recipe's type makes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipeParameter {
    pub name: String,
    pub label: String,
    pub description: String,
    pub kind: ParameterKind,
    #[cfg_attr(feature = "openapi", schema(value_type = serde_json::Value))]
    pub default: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// For text: the values allowed; empty allows any short word of letters, digits, `-`, `_`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Whether it may change once the resource exists (`POST …/resize`).
    #[serde(default)]
    pub resizable: bool,
}

/// A shipped recipe, as `playbooks/resources/recipes.json` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipe {
    pub slug: String,
    /// What it installs, e.g. "PostgreSQL from the distribution's packages".
    pub engine: String,
    pub connection: ConnectionForm,
    /// The port its service listens on unless a `port` parameter says otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_port: Option<u16>,
    pub parameters: Vec<RecipeParameter>,
    /// Whether the recipe dumps and restores the resource (backups).
    #[serde(default)]
    pub backups: bool,
}

impl Recipe {
    /// `given` completed with the defaults and checked against the parameters; errors are
    /// reported per field as `parameters.<name>`.
    pub fn settle(&self, given: &Map<String, Value>) -> Result<Map<String, Value>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut settled = Map::new();
        for name in given.keys() {
            if !self.parameters.iter().any(|p| &p.name == name) {
                errors
                    .entry(format!("parameters.{name}"))
                    .or_default()
                    .push(format!(
                        "is not a setting of this type (it has {})",
                        self.parameter_names()
                    ));
            }
        }
        for p in &self.parameters {
            let value = given.get(&p.name).unwrap_or(&p.default);
            match p.check(value) {
                Ok(value) => {
                    settled.insert(p.name.clone(), value);
                }
                Err(message) => errors
                    .entry(format!("parameters.{}", p.name))
                    .or_default()
                    .push(message),
            }
        }
        if errors.is_empty() {
            Ok(settled)
        } else {
            Err(errors)
        }
    }

    fn parameter_names(&self) -> String {
        if self.parameters.is_empty() {
            return "none".into();
        }
        self.parameters
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `current` with the changes in `given` (only resizable settings may change), checked like a
    /// request's; errors per field as `parameters.<name>`.
    pub fn resize(
        &self,
        current: &Map<String, Value>,
        given: &Map<String, Value>,
    ) -> Result<Map<String, Value>, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (name, value) in given {
            let fixed = self
                .parameters
                .iter()
                .find(|p| &p.name == name)
                .is_some_and(|p| !p.resizable);
            if fixed && current.get(name) != Some(value) {
                errors
                    .entry(format!("parameters.{name}"))
                    .or_default()
                    .push("stays as the resource was created".into());
            }
        }
        let mut merged = current.clone();
        merged.extend(given.clone());
        let settled = self.settle(&merged);
        match settled {
            Ok(settled) if errors.is_empty() => Ok(settled),
            Ok(_) => Err(errors),
            Err(found) => {
                for (field, messages) in found {
                    errors.entry(field).or_default().extend(messages);
                }
                Err(errors)
            }
        }
    }

    /// The port the resource answers on with `parameters` settled.
    pub fn port(&self, parameters: &Map<String, Value>) -> Option<u16> {
        parameters
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .or(self.default_port)
    }
}

impl RecipeParameter {
    fn check(&self, value: &Value) -> Result<Value, String> {
        match self.kind {
            ParameterKind::Integer => {
                let Some(n) = value.as_i64() else {
                    return Err(format!("must be a whole number, e.g. {}", self.default));
                };
                if let Some(min) = self.min.filter(|min| n < *min) {
                    return Err(format!("must be at least {min}"));
                }
                if let Some(max) = self.max.filter(|max| n > *max) {
                    return Err(format!("must be at most {max}"));
                }
                Ok(Value::from(n))
            }
            ParameterKind::Network => {
                let Some(text) = value.as_str() else {
                    return Err("must be text, e.g. 10.0.0.0/8".into());
                };
                network(text).map(|()| Value::from(text))
            }
            ParameterKind::Text => {
                let Some(text) = value.as_str() else {
                    return Err("must be text".into());
                };
                if !self.choices.is_empty() {
                    return if self.choices.iter().any(|c| c == text) {
                        Ok(Value::from(text))
                    } else {
                        Err(format!("must be one of {}", self.choices.join(", ")))
                    };
                }
                let word = !text.is_empty()
                    && text.len() <= 63
                    && text
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
                if word {
                    Ok(Value::from(text))
                } else {
                    Err("use 1 to 63 letters, digits, '-' or '_'".into())
                }
            }
        }
    }
}

/// Where a resource is reached, as stored once it is ready.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint<'a> {
    pub host: &'a str,
    pub port: Option<u16>,
    /// The database, the file or the export.
    pub database: &'a str,
    pub username: &'a str,
}

/// Characters kept as they are in the user and password of a URL (RFC 3986 unreserved).
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn userinfo(user: &str, password: Option<&str>) -> String {
    let user = utf8_percent_encode(user, USERINFO).to_string();
    match password {
        Some(p) => format!("{user}:{}@", utf8_percent_encode(p, USERINFO)),
        None if user.is_empty() => String::new(),
        None => format!("{user}@"),
    }
}

fn host_port(host: &str, port: Option<u16>) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The connection in the form people paste: a URL with the password when `password` is given,
/// without it otherwise; for NFS the `/etc/fstab` line (`mount_point` where it is mounted).
pub fn connection_string(
    form: ConnectionForm,
    endpoint: &Endpoint<'_>,
    password: Option<&str>,
    mount_point: &str,
) -> String {
    let at = host_port(endpoint.host, endpoint.port);
    match form {
        ConnectionForm::Postgres => format!(
            "postgres://{}{at}/{}",
            userinfo(endpoint.username, password),
            endpoint.database
        ),
        ConnectionForm::Mysql => format!(
            "mysql://{}{at}/{}",
            userinfo(endpoint.username, password),
            endpoint.database
        ),
        ConnectionForm::Redis => {
            let user = if endpoint.username.is_empty() {
                "default"
            } else {
                endpoint.username
            };
            format!("redis://{}{at}/0", userinfo(user, password))
        }
        ConnectionForm::Sqlite => format!("sqlite://{}", endpoint.database),
        ConnectionForm::Nfs => format!(
            "{}:{} {mount_point} nfs defaults,_netdev 0 0",
            endpoint.host, endpoint.database
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn postgres() -> Recipe {
        serde_json::from_value(json!({
            "slug": "postgresql", "engine": "PostgreSQL", "connection": "postgres",
            "default_port": 5432,
            "parameters": [
                {"name": "port", "label": "Port", "description": "", "kind": "integer",
                 "default": 5432, "min": 1024, "max": 65535},
                {"name": "cluster", "label": "Cluster", "description": "", "kind": "text",
                 "default": "main"},
                {"name": "encoding", "label": "Encoding", "description": "", "kind": "text",
                 "default": "UTF8", "choices": ["UTF8", "LATIN1"]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn parameters_take_defaults_and_are_checked_per_field() {
        let recipe = postgres();
        let settled = recipe.settle(&Map::new()).unwrap();
        assert_eq!(settled["port"], 5432);
        assert_eq!(settled["cluster"], "main");
        let given = json!({"port": 80, "cluster": "a b", "encoding": "EBCDIC", "size": 3});
        let errors = recipe.settle(given.as_object().unwrap()).unwrap_err();
        assert_eq!(errors["parameters.port"], ["must be at least 1024"]);
        assert_eq!(
            errors["parameters.cluster"],
            ["use 1 to 63 letters, digits, '-' or '_'"]
        );
        assert_eq!(
            errors["parameters.encoding"],
            ["must be one of UTF8, LATIN1"]
        );
        assert_eq!(
            errors["parameters.size"],
            ["is not a setting of this type (it has port, cluster, encoding)"]
        );
        let text_port = json!({"port": "5433"});
        assert_eq!(
            recipe.settle(text_port.as_object().unwrap()).unwrap_err()["parameters.port"],
            ["must be a whole number, e.g. 5432"]
        );
        let current = recipe.settle(&Map::new()).unwrap();
        let mut resizable = recipe.clone();
        resizable.parameters[0].resizable = false;
        resizable.parameters[1].resizable = false;
        resizable.parameters[2].resizable = true;
        let bigger = json!({"encoding": "LATIN1"});
        assert_eq!(
            resizable
                .resize(&current, bigger.as_object().unwrap())
                .unwrap()["encoding"],
            "LATIN1"
        );
        let moved = json!({"port": 6000});
        assert_eq!(
            resizable
                .resize(&current, moved.as_object().unwrap())
                .unwrap_err()["parameters.port"],
            ["stays as the resource was created"]
        );
        let ok = json!({"port": 5433});
        assert_eq!(
            recipe.port(&recipe.settle(ok.as_object().unwrap()).unwrap()),
            Some(5433)
        );
    }

    #[test]
    fn networks_are_star_addresses_or_prefixes() {
        for ok in ["*", "10.0.0.0/8", "192.168.1.7", "2001:db8::/32"] {
            assert!(network(ok).is_ok(), "{ok}");
        }
        assert!(network("10.0.0.0/33").is_err());
        assert!(network("everyone").is_err());
        assert!(network("10.0.0.0/8 rw").is_err());
    }

    #[test]
    fn connection_strings_in_the_forms_people_paste() {
        let at = Endpoint {
            host: "10.0.0.5",
            port: Some(5432),
            database: "shop",
            username: "shop_app",
        };
        assert_eq!(
            connection_string(ConnectionForm::Postgres, &at, Some("p@ss/w:rd"), ""),
            "postgres://shop_app:p%40ss%2Fw%3Ard@10.0.0.5:5432/shop"
        );
        assert_eq!(
            connection_string(ConnectionForm::Postgres, &at, None, ""),
            "postgres://shop_app@10.0.0.5:5432/shop"
        );
        assert_eq!(
            connection_string(ConnectionForm::Mysql, &at, Some("x"), ""),
            "mysql://shop_app:x@10.0.0.5:5432/shop"
        );
        let redis = Endpoint {
            host: "2001:db8::1",
            port: Some(6379),
            database: "",
            username: "",
        };
        assert_eq!(
            connection_string(ConnectionForm::Redis, &redis, Some("s3cret"), ""),
            "redis://default:s3cret@[2001:db8::1]:6379/0"
        );
        let nfs = Endpoint {
            host: "files.internal",
            port: None,
            database: "/srv/nfs/media",
            username: "",
        };
        assert_eq!(
            connection_string(ConnectionForm::Nfs, &nfs, None, "/mnt/media"),
            "files.internal:/srv/nfs/media /mnt/media nfs defaults,_netdev 0 0"
        );
        let file = Endpoint {
            host: "app1",
            port: None,
            database: "/var/lib/provisio-resources/notes/notes.db",
            username: "",
        };
        assert_eq!(
            connection_string(ConnectionForm::Sqlite, &file, None, ""),
            "sqlite:///var/lib/provisio-resources/notes/notes.db"
        );
    }
}
