//! `POST /api/deploy`: the body a client sends (the six fields of the PaaS description are
//! enough) and the rules for its names, commits, modules, environment and SSH key.

use super::DeploymentType;
use crate::validation::{FieldErrors, Validator};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /api/deploy`. The app comes from a project of the team (`project_id`) or a Git URL (a
/// project is created for it, or the team's project with that URL reused). It lands on an
/// existing server (`server_id`), on a new VM/LXC guest at `provider_account_id`, or, naming
/// neither, on a new guest at the team's default provider account. The six fields of the
/// original PaaS form are enough: `deployment_type`, `framework`, `github_url`, `cpu_cores`,
/// `memory_mb`, `disk_gb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// Lower-case letters, digits and `-`; names the service and the new server. Default: the
    /// repository's name, made unique in the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Default: the caller's team when they belong to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    /// An https or ssh Git URL; also accepted as `github_url`.
    #[serde(default, alias = "github_url", skip_serializing_if = "Option::is_none")]
    pub git_url: Option<String>,
    /// Branch to deploy. Default: the project's default branch, which for a new project is the
    /// remote's default branch (its HEAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A commit of that branch (default: its head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// A framework from `GET /api/frameworks`, by slug (`nextjs`) or name (`Next.js`,
    /// `Express.js`, `Vue.js`, in any case). Default: detected from the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Python module or Node entry file the start command names (`app` for `app:app`,
    /// `server.js`); the framework's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `vm` or `lxc`, in any case.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = "^([vV][mM]|[lL][xX][cC])$", example = "VM")
    )]
    pub deployment_type: DeploymentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_account_id: Option<Uuid>,
    /// Default: the account catalog's first location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A catalog image. Default: the account catalog's first image of the deployment's type (a
    /// VM image, or an LXC template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A fixed size of the account's catalog (Hetzner server types). Default for such accounts:
    /// the cheapest type with at least the cores, memory and disk asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_type: Option<String>,
    /// Cores of a new guest; also accepted as `cpu_cores`.
    #[serde(default, alias = "cpu_cores", skip_serializing_if = "Option::is_none")]
    pub cpu: Option<u32>,
    /// Memory of a new guest in MiB; also accepted as `memory_mb`.
    #[serde(default, alias = "memory_mb", skip_serializing_if = "Option::is_none")]
    pub ram_mb: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_gb: Option<u32>,
    /// Public port nginx listens on (default: the first free one from 8000 on that server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Environment of the app's service (names in upper case).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Managed resources of the team (ready ones) whose connection the app receives, each in its
    /// engine's variable (`DATABASE_URL`, `REDIS_URL`, …), password included, sealed like `env`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<Uuid>,
    /// An OpenSSH public key to log in to a new guest with (`ssh-ed25519 AAAA… you@laptop`).
    /// Without one, Provisio generates a key pair for the deployment, puts its public half on
    /// the guest and offers the private half for download once
    /// (`POST /api/deployments/{id}/private-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh_public_key: Option<String>,
}

/// A deployment name from a Git URL: the repository's last path segment without `.git`, in
/// lower case, other characters as `-`, cut to the length a name may have (`My_App.git` →
/// `my-app`). None when nothing usable is left.
pub fn name_from_url(url: &str) -> Option<String> {
    let last = url
        .trim()
        .trim_end_matches('/')
        .rsplit(['/', ':'])
        .next()?
        .trim_end_matches(".git");
    let mut name = String::new();
    for c in last.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    // Room for a "-NN" suffix that makes it unique in the team.
    let name: String = name.chars().take(36).collect();
    let name = name.trim_end_matches('-');
    deployment_name(name).is_ok().then(|| name.to_owned())
}

pub fn deployment_name(name: &str) -> Result<(), String> {
    let ok = (2..=40).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err("2 to 40 lower-case letters, digits or '-', starting with a letter".into())
    }
}

pub fn commit_sha(sha: &str) -> Result<(), String> {
    if (7..=40).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("must be a commit id (7 to 40 hex digits)".into())
    }
}

/// A Python module path or a relative entry file: no options, no paths out of the checkout.
pub fn module_name(module: &str) -> Result<(), String> {
    let ok = !module.is_empty()
        && module.len() <= 100
        && !module.starts_with(['-', '.', '/'])
        && !module.contains("..")
        && module
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    if ok {
        Ok(())
    } else {
        Err("a module such as app or wsgi, or an entry file such as server.js".into())
    }
}

pub fn env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{name}: upper-case letters, digits and '_'"))
    }
}

impl DeployRequest {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut v = Validator::new();
        if let Some(name) = &self.name {
            v.check("name", deployment_name(name));
        }
        match (&self.project_id, &self.git_url) {
            (None, None) => v.check("git_url", Err("give a Git URL or a project".into())),
            (Some(_), Some(_)) => v.check(
                "git_url",
                Err("give a Git URL or a project, not both".into()),
            ),
            (None, Some(url)) => v.check("git_url", crate::projects::git_url(url.trim())),
            (Some(_), None) => &mut v,
        };
        if let Some(branch) = &self.branch {
            v.check("branch", crate::projects::branch_name(branch));
        }
        if let Some(sha) = &self.commit {
            v.check("commit", commit_sha(sha));
        }
        if let Some(module) = &self.module {
            v.check("module", module_name(module));
        }
        if self.server_id.is_some() && self.provider_account_id.is_some() {
            v.check(
                "server_id",
                Err("choose a server or a provider account, not both".into()),
            );
        }
        if let Some(port) = self.port {
            v.check(
                "port",
                if port >= 1024 {
                    Ok(())
                } else {
                    Err("1024 to 65535 (privileged ports are left to the system)".into())
                },
            );
        }
        for (name, value) in &self.env {
            v.check("env", env_name(name));
            // One line of text: no NUL, line breaks or terminal escapes.
            if value.len() > 4096 || value.chars().any(|c| c.is_control() && c != '\t') {
                v.check(
                    "env",
                    Err(format!(
                        "{name}: one line of at most 4096 bytes, without control characters"
                    )),
                );
            }
        }
        if self.env.len() > 50 {
            v.check("env", Err("at most 50 variables".into()));
        }
        if let Some(key) = &self.ssh_public_key {
            v.check("ssh_public_key", public_key_line(key));
            if self.server_id.is_some() {
                v.check(
                    "ssh_public_key",
                    Err(
                        "only for a new VM or LXC guest: add keys to an existing server yourself"
                            .into(),
                    ),
                );
            }
        }
        v.finish()
    }
}

/// One line of an OpenSSH public key, as pasted from `~/.ssh/id_ed25519.pub` (the server parses
/// it fully).
pub fn public_key_line(key: &str) -> Result<(), String> {
    let key = key.trim();
    if key.is_empty() {
        Err("paste a public key, or leave the field out to get a generated key pair".into())
    } else if key.len() > 8192 || key.chars().any(char::is_control) {
        Err("one line of at most 8192 characters, such as ssh-ed25519 AAAA… you@laptop".into())
    } else if !key.starts_with("ssh-") && !key.starts_with("ecdsa-") && !key.starts_with("sk-") {
        Err("starts with its type, such as ssh-ed25519 or ssh-rsa: paste the .pub file, not the private key".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deploy_request_names_its_source_and_target() {
        let mut input = DeployRequest {
            name: Some("shop".into()),
            git_url: Some("https://git.example.com/acme/shop.git".into()),
            server_id: Some(Uuid::nil()),
            ..Default::default()
        };
        assert_eq!(input.validate(), Ok(()));
        input.git_url = Some("ext::sh -c id".into());
        input.provider_account_id = Some(Uuid::nil());
        input.name = Some("-x".into());
        input.module = Some("--config=/etc/passwd".into());
        input.env.insert("lower".into(), "x".into());
        input.port = Some(80);
        let errors = input.validate().unwrap_err();
        for field in ["name", "git_url", "server_id", "module", "env", "port"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn the_six_fields_of_the_paas_form_are_read_as_they_are_written() {
        let input: DeployRequest = serde_json::from_value(serde_json::json!({
            "deployment_type": "VM", "framework": "Flask",
            "github_url": "https://github.com/acme/hello.git",
            "cpu_cores": 2, "memory_mb": 2048, "disk_gb": 20
        }))
        .unwrap();
        assert_eq!(input.deployment_type, DeploymentType::Vm);
        assert_eq!(input.framework.as_deref(), Some("Flask"));
        assert_eq!(
            input.git_url.as_deref(),
            Some("https://github.com/acme/hello.git")
        );
        assert_eq!(
            (input.cpu, input.ram_mb, input.disk_gb),
            (Some(2), Some(2048), Some(20))
        );
        assert_eq!(input.name, None);
        assert_eq!(input.validate(), Ok(()));
        let lxc: DeployRequest = serde_json::from_value(
            serde_json::json!({"deployment_type": "Lxc", "git_url": "https://x.example/a.git"}),
        )
        .unwrap();
        assert_eq!(lxc.deployment_type, DeploymentType::Lxc);
        // Still refused: other types, unknown fields, the same field under both names.
        for bad in [
            serde_json::json!({"deployment_type": "docker"}),
            serde_json::json!({"deployment_type": 1}),
            serde_json::json!({"gitub_url": "https://x.example/a.git"}),
            serde_json::json!({"git_url": "https://x.example/a.git", "github_url": "https://x.example/b.git"}),
        ] {
            assert!(
                serde_json::from_value::<DeployRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_deployment_is_named_after_its_repository() {
        assert_eq!(
            name_from_url("https://github.com/acme/Hello_World.git").as_deref(),
            Some("hello-world")
        );
        assert_eq!(
            name_from_url("git@github.com:acme/shop-api").as_deref(),
            Some("shop-api")
        );
        assert_eq!(
            name_from_url("ssh://git@host:2222/srv/app.git/").as_deref(),
            Some("app")
        );
        assert_eq!(
            name_from_url("https://host/acme/2048-game.git").as_deref(),
            Some("game")
        );
        assert_eq!(name_from_url("https://host/acme/x.git"), None);
        let long = name_from_url(&format!("https://host/{}.git", "a".repeat(80))).unwrap();
        assert_eq!(long.len(), 36);
    }

    #[test]
    fn modules_and_commits_cannot_be_options_or_escape() {
        for ok in ["app", "wsgi", "myapp.wsgi", "server.js", "src/index.js"] {
            assert!(module_name(ok).is_ok(), "{ok}");
        }
        for bad in ["-c", "../x", "/etc/passwd", "a b", "x;id", ".hidden"] {
            assert!(module_name(bad).is_err(), "{bad}");
        }
        assert!(commit_sha("0123abc").is_ok());
        assert!(commit_sha("HEAD").is_err());
        assert!(commit_sha("--all").is_err());
    }
}
