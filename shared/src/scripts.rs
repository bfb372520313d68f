//! Deployment scripts (Ansible playbooks with a typed variable schema), their runs on servers,
//! SSH keys, and the maintenance operations technical agents schedule (backup, system update).
//! The schema checks here are the single source of truth for the API and the web forms.

use crate::dto::TeamRef;
use crate::servers::Execution;
use crate::validation::{self as v, FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Largest playbook accepted (bytes); larger ones are refused before any parsing.
pub const PLAYBOOK_MAX_BYTES: usize = 128 * 1024;
/// What secret values look like in every answer and log line.
pub const SECRET_MASK: &str = "********";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    String,
    Int,
    Bool,
    Choice,
    /// A string kept sealed at rest, never shown again and redacted from every log line.
    Secret,
}

impl VariableKind {
    pub const ALL: [VariableKind; 5] = [
        VariableKind::String,
        VariableKind::Int,
        VariableKind::Bool,
        VariableKind::Choice,
        VariableKind::Secret,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VariableKind::String => "string",
            VariableKind::Int => "int",
            VariableKind::Bool => "bool",
            VariableKind::Choice => "choice",
            VariableKind::Secret => "secret",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One variable a script takes, passed to Ansible as an extra var of the same name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VariableSpec {
    pub name: String,
    pub kind: VariableKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub default: Option<Value>,
    /// The allowed values of a `choice`.
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// Names Ansible reserves or that would shadow connection settings.
fn reserved(name: &str) -> bool {
    name.starts_with("ansible_")
        || name.starts_with("provisio_")
        || matches!(
            name,
            "hostvars"
                | "groups"
                | "group_names"
                | "inventory_hostname"
                | "inventory_hostname_short"
                | "inventory_dir"
                | "inventory_file"
                | "omit"
                | "play_hosts"
                | "playbook_dir"
                | "role_path"
                | "environment"
                | "vars"
                | "hosts"
        )
}

pub fn variable_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if !first_ok
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(
            "must be 1 to 64 lowercase letters, digits and underscores, not starting with a digit"
                .into(),
        );
    }
    if reserved(name) {
        return Err("is reserved by Ansible or Provisio".into());
    }
    Ok(())
}

/// Checks one value against its spec, returning the value Ansible gets.
pub fn check_value(spec: &VariableSpec, value: &Value) -> Result<Value, String> {
    match spec.kind {
        VariableKind::String | VariableKind::Secret => match value {
            Value::String(s) if s.len() <= 4096 && !s.contains('\0') => Ok(value.clone()),
            Value::String(_) => Err("must be at most 4096 characters without NUL".into()),
            _ => Err("must be a string".into()),
        },
        VariableKind::Int => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            Value::String(s) => s
                .trim()
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "must be a whole number".into()),
            _ => Err("must be a whole number".into()),
        },
        VariableKind::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => Err("must be true or false".into()),
        },
        VariableKind::Choice => match value {
            Value::String(s) if spec.options.contains(s) => Ok(value.clone()),
            _ => Err(format!("must be one of: {}", spec.options.join(", "))),
        },
    }
}

/// Checks a schema as saved with a script version: unique valid names, choices with options,
/// defaults of the right type, no default for secrets.
pub fn validate_schema(variables: &[VariableSpec]) -> Result<(), FieldErrors> {
    let mut val = Validator::new();
    if variables.len() > 100 {
        val.check("variables", Err("at most 100 variables".into()));
    }
    for (i, spec) in variables.iter().enumerate() {
        let field = format!("variables[{i}]");
        val.check(&format!("{field}.name"), variable_name(&spec.name));
        if variables[..i].iter().any(|o| o.name == spec.name) {
            val.check(
                &format!("{field}.name"),
                Err(format!("`{}` is declared twice", spec.name)),
            );
        }
        val.check(
            &format!("{field}.description"),
            v::display_text(&spec.description, 0, 500),
        );
        if spec.kind == VariableKind::Choice {
            let options_ok = !spec.options.is_empty()
                && spec.options.len() <= 50
                && spec.options.iter().all(|o| !o.is_empty() && o.len() <= 200);
            if !options_ok {
                val.check(
                    &format!("{field}.options"),
                    Err("a choice needs 1 to 50 non-empty options".into()),
                );
            }
        } else if !spec.options.is_empty() {
            val.check(
                &format!("{field}.options"),
                Err("only a choice has options".into()),
            );
        }
        match (&spec.default, spec.kind) {
            (Some(_), VariableKind::Secret) => {
                val.check(
                    &format!("{field}.default"),
                    Err("a secret cannot have a default".into()),
                );
            }
            (Some(Value::Null), _) | (None, _) => {}
            (Some(d), _) => {
                val.check(
                    &format!("{field}.default"),
                    check_value(spec, d).map(|_| ()),
                );
            }
        }
    }
    val.finish()
}

/// Checks the values of a run against the schema: unknown names refused, required ones present,
/// defaults filled in, strings coerced to the declared type. Errors are keyed `variables.<name>`.
pub fn resolve_values(
    schema: &[VariableSpec],
    values: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, FieldErrors> {
    let mut val = Validator::new();
    let mut resolved = BTreeMap::new();
    for name in values.keys() {
        if !schema.iter().any(|s| &s.name == name) {
            val.check(
                &format!("variables.{name}"),
                Err("is not a variable of this script".into()),
            );
        }
    }
    for spec in schema {
        let field = format!("variables.{}", spec.name);
        let given = values.get(&spec.name).filter(|v| {
            !v.is_null() && !matches!(v, Value::String(s) if s.is_empty() && spec.kind != VariableKind::String)
        });
        match given.or(spec.default.as_ref().filter(|d| !d.is_null())) {
            Some(value) => match check_value(spec, value) {
                Ok(v) => {
                    resolved.insert(spec.name.clone(), v);
                }
                Err(e) => {
                    val.check(&field, Err(e));
                }
            },
            None if spec.required => {
                val.check(&field, Err("is required".into()));
            }
            None => {}
        }
    }
    val.finish().map(|()| resolved)
}

/// The values as anyone may see them: secrets masked.
pub fn masked_values(
    schema: &[VariableSpec],
    values: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    values
        .iter()
        .map(|(k, v)| {
            let secret = schema
                .iter()
                .any(|s| &s.name == k && s.kind == VariableKind::Secret);
            let shown = if secret {
                Value::String(SECRET_MASK.into())
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScriptSummary {
    pub id: Uuid,
    pub team: TeamRef,
    pub name: String,
    pub description: String,
    /// The current (latest) version number, starting at 1.
    pub version: i32,
    pub variables: usize,
    /// Seeded from the shipped samples in playbooks/.
    pub builtin: bool,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScriptVersion {
    pub version: i32,
    pub content: String,
    pub variables: Vec<VariableSpec>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Script {
    pub id: Uuid,
    pub team: TeamRef,
    pub name: String,
    pub description: String,
    pub builtin: bool,
    /// The current version's playbook and schema.
    pub current: ScriptVersion,
    /// Every version, newest first, without content.
    pub versions: Vec<ScriptVersionRef>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScriptVersionRef {
    pub version: i32,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Create or edit a script: every save that changes the playbook or schema is a new version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaveScript {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Playbook YAML.
    pub content: String,
    #[serde(default)]
    pub variables: Vec<VariableSpec>,
    /// Owning team on creation (default: the caller's first team); ignored on edit.
    #[serde(default)]
    pub team_id: Option<Uuid>,
}

impl SaveScript {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 2, 80))
            .check("description", v::display_text(&self.description, 0, 1000));
        if self.content.trim().is_empty() {
            val.check("content", Err("the playbook is empty".into()));
        } else if self.content.len() > PLAYBOOK_MAX_BYTES {
            val.check(
                "content",
                Err(format!(
                    "the playbook is larger than {} KiB",
                    PLAYBOOK_MAX_BYTES / 1024
                )),
            );
        }
        let mut errors = val.finish().err().unwrap_or_default();
        if let Err(schema) = validate_schema(&self.variables) {
            errors.extend(schema);
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// Line number of a `content` error ("line 5: ..."), for the editor to highlight.
pub fn error_line(message: &str) -> Option<usize> {
    message
        .strip_prefix("line ")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RunScript {
    pub server_ids: Vec<Uuid>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub variables: BTreeMap<String, Value>,
    /// Defaults to the current version.
    #[serde(default)]
    pub version: Option<i32>,
    /// Seconds before the run is stopped (default 1800, at most 86400).
    #[serde(default)]
    pub timeout_secs: Option<u32>,
}

impl RunScript {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        if self.server_ids.is_empty() || self.server_ids.len() > 200 {
            val.check("server_ids", Err("choose 1 to 200 servers".into()));
        }
        if let Some(t) = self.timeout_secs {
            if !(5..=86_400).contains(&t) {
                val.check(
                    "timeout_secs",
                    Err("must be between 5 and 86400 seconds".into()),
                );
            }
        }
        val.finish()
    }
}

/// The per-host recap Ansible prints at the end of a play.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HostRecap {
    pub server_id: Uuid,
    pub server_name: String,
    pub ok: i32,
    pub changed: i32,
    pub failed: i32,
    pub unreachable: i32,
    pub skipped: i32,
    pub rescued: i32,
    pub ignored: i32,
}

impl HostRecap {
    pub fn succeeded(&self) -> bool {
        self.failed == 0 && self.unreachable == 0
    }
}

/// A playbook run: the execution plus what was run with what, and the recap per host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlaybookRun {
    pub execution: Execution,
    pub script_id: Uuid,
    pub script_name: String,
    pub version: i32,
    /// Secret values masked.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub variables: BTreeMap<String, Value>,
    pub exit_code: Option<i32>,
    pub recap: Vec<HostRecap>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SshKey {
    pub id: Uuid,
    pub name: String,
    pub public_key: String,
    pub key_type: String,
    /// `MD5:aa:bb:…`, as `ssh-keygen -E md5 -l` prints it.
    pub fingerprint_md5: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint_sha256: String,
    /// The platform's own key, injected into every provisioned server.
    pub service: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AddSshKey {
    pub name: String,
    pub public_key: String,
}

impl AddSshKey {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 1, 80)).check(
            "public_key",
            crate::requests::ssh_public_key(self.public_key.trim()),
        );
        val.finish()
    }
}

/// Maintenance a technical agent runs or schedules on a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Maintenance {
    /// A provider snapshot where the provider has them, else the backup playbook.
    Backup,
    /// The system-update playbook.
    SystemUpdate,
}

impl Maintenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Maintenance::Backup => "backup",
            Maintenance::SystemUpdate => "system_update",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Maintenance::Backup, Maintenance::SystemUpdate]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Maintenance::Backup => "Backup",
            Maintenance::SystemUpdate => "System update",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RunMaintenance {
    pub operation: Maintenance,
    /// Variables for the playbook (ignored for provider snapshots).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub variables: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Schedule {
    pub id: Uuid,
    pub server_id: Uuid,
    pub operation: Maintenance,
    /// Five-field cron expression, evaluated in UTC.
    pub cron: String,
    pub enabled: bool,
    /// The playbook's variables; secrets are stored sealed and shown as `********`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub variables: BTreeMap<String, Value>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_execution_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SaveSchedule {
    pub operation: Maintenance,
    pub cron: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A secret sent as `********` (as answers show it) keeps the value stored.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub variables: BTreeMap<String, Value>,
}

fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, kind: VariableKind) -> VariableSpec {
        VariableSpec {
            name: name.into(),
            kind,
            required: false,
            default: None,
            options: vec![],
            description: String::new(),
        }
    }

    #[test]
    fn schema_rejects_bad_names_duplicates_and_defaults() {
        let mut choice = spec("size", VariableKind::Choice);
        choice.default = Some(json!("xl"));
        choice.options = vec!["s".into(), "m".into()];
        let mut secret = spec("token", VariableKind::Secret);
        secret.default = Some(json!("x"));
        let mut int = spec("port", VariableKind::Int);
        int.default = Some(json!("eighty"));
        let errors = validate_schema(&[
            spec("Bad-Name", VariableKind::String),
            spec("ansible_host", VariableKind::String),
            spec("dup", VariableKind::String),
            spec("dup", VariableKind::Bool),
            choice,
            secret,
            int,
            spec("empty_choice", VariableKind::Choice),
        ])
        .unwrap_err();
        for field in [
            "variables[0].name",
            "variables[1].name",
            "variables[3].name",
            "variables[4].default",
            "variables[5].default",
            "variables[6].default",
            "variables[7].options",
        ] {
            assert!(errors.contains_key(field), "{field} missing in {errors:?}");
        }
        assert!(!errors.contains_key("variables[2].name"));
    }

    #[test]
    fn values_are_checked_coerced_and_defaulted() {
        let mut port = spec("port", VariableKind::Int);
        port.default = Some(json!(80));
        let mut mode = spec("mode", VariableKind::Choice);
        mode.options = vec!["fast".into(), "safe".into()];
        mode.required = true;
        let mut token = spec("token", VariableKind::Secret);
        token.required = true;
        let schema = vec![port, mode, token, spec("flag", VariableKind::Bool)];

        let given: BTreeMap<String, Value> = [
            ("mode".to_string(), json!("safe")),
            ("token".to_string(), json!("s3cr3t")),
            ("flag".to_string(), json!("true")),
        ]
        .into();
        let resolved = resolve_values(&schema, &given).unwrap();
        assert_eq!(resolved["port"], json!(80));
        assert_eq!(resolved["flag"], json!(true));
        assert_eq!(
            masked_values(&schema, &resolved)["token"],
            json!(SECRET_MASK)
        );

        let bad: BTreeMap<String, Value> = [
            ("mode".to_string(), json!("reckless")),
            ("port".to_string(), json!("eighty")),
            ("extra".to_string(), json!(1)),
        ]
        .into();
        let errors = resolve_values(&schema, &bad).unwrap_err();
        assert_eq!(
            errors.keys().cloned().collect::<Vec<_>>(),
            vec![
                "variables.extra",
                "variables.mode",
                "variables.port",
                "variables.token"
            ]
        );
        assert_eq!(errors["variables.token"], vec!["is required".to_string()]);
    }

    #[test]
    fn error_lines_are_found() {
        assert_eq!(error_line("line 12, column 3: bad"), Some(12));
        assert_eq!(error_line("line 4: x"), Some(4));
        assert_eq!(error_line("no line"), None);
    }
}
