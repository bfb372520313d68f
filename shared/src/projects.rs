//! Git projects of a team: the repository URL rules (https or ssh only, nothing git could take
//! for an option or a local path), and the DTOs of projects, branches and commits.

use crate::dto::TeamRef;
use crate::validation::{self as v, FieldErrors, Validator};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

fn host_ok(host: &str) -> bool {
    // Brackets hold an IPv6 address and nothing else: git strips them, so `[-oProxyCommand=x]`
    // would reach ssh as an option.
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
}

fn path_ok(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 512
        && path
            .split('/')
            .all(|seg| seg != ".." && !seg.starts_with('-'))
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_' | '~'))
}

fn user_ok(user: &str) -> bool {
    !user.is_empty()
        && !user.starts_with('-')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// A repository URL Provisio will hand to git: `https://host/path`, `ssh://[user@]host[:port]/path`
/// or `user@host:path`. No other transport (`file://`, `ext::`, `git://`, `http://`), no local
/// paths, no credentials in the URL, nothing starting with `-`.
pub fn git_url(url: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("must be an https:// or ssh:// Git URL ({why})"));
    if url.is_empty() || url.len() > 1024 {
        return refuse("1 to 1024 characters");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) || url.starts_with('-') {
        return refuse("no spaces, control characters or leading '-'");
    }
    if let Some(rest) = url.strip_prefix("https://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return refuse("no credentials in the URL: use an ssh URL with a deploy key");
        }
        let host = match authority.rsplit_once(':') {
            Some((h, port)) if port.parse::<u16>().is_ok() => h,
            _ => authority,
        };
        return if host_ok(host) && path_ok(path) {
            Ok(())
        } else {
            refuse("a host name and a repository path")
        };
    }
    if let Some(rest) = url.strip_prefix("ssh://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, host_port) = match authority.split_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let host = match host_port.rsplit_once(':') {
            Some((h, port)) if port.parse::<u16>().is_ok() => h,
            _ => host_port,
        };
        let user_fine = user.is_none_or(user_ok);
        return if user_fine && host_ok(host) && path_ok(path) {
            Ok(())
        } else {
            refuse("ssh://[user@]host[:port]/path")
        };
    }
    if url.contains("://") || url.contains("::") {
        return refuse("only the https and ssh transports are allowed");
    }
    // scp-like: user@host:path
    match url.split_once('@').and_then(|(u, rest)| {
        let (h, p) = rest.split_once(':')?;
        Some((u, h, p))
    }) {
        Some((user, host, path))
            if user_ok(user) && host_ok(host) && path_ok(path.trim_start_matches('/')) =>
        {
            Ok(())
        }
        _ => {
            refuse("e.g. https://git.example.com/team/app.git or git@git.example.com:team/app.git")
        }
    }
}

/// A branch name git accepts (`git check-ref-format --branch`) and that cannot be read as an
/// option: no component empty, starting with `.` or ending in `.lock`, no `..`, no trailing `.`,
/// not `HEAD`.
pub fn branch_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && name != "HEAD"
        && !name.starts_with('-')
        && !name.ends_with('.')
        && !name.contains("..")
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err("must be a branch name such as main or release/1.2".into())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Commit {
    pub sha: String,
    pub author: String,
    pub date: DateTime<Utc>,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Project {
    pub id: Uuid,
    pub team: TeamRef,
    pub name: String,
    pub url: String,
    pub default_branch: String,
    /// A deploy key is stored (its private half never leaves the server).
    pub has_deploy_key: bool,
    /// `new`, `syncing`, `ready`, `error`.
    pub status: String,
    pub error: Option<String>,
    pub last_commit: Option<Commit>,
    /// Framework preset detected in the checkout, offered as the default for deployments.
    pub detected_framework: Option<String>,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateProject {
    pub name: String,
    pub url: String,
    /// Empty or absent: the remote's default branch (its HEAD), learnt at the first sync.
    #[serde(default)]
    pub default_branch: String,
    pub team_id: Uuid,
    /// OpenSSH private key with read access to a private repository.
    #[serde(default)]
    pub deploy_key: Option<String>,
}

impl CreateProject {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut val = Validator::new();
        val.check("name", v::display_text(&self.name, 2, 80))
            .check("url", git_url(self.url.trim()));
        if !self.default_branch.is_empty() {
            val.check("default_branch", branch_name(&self.default_branch));
        }
        if let Some(key) = &self.deploy_key {
            let looks_like_key = key.contains("-----BEGIN OPENSSH PRIVATE KEY-----")
                || key.contains("-----BEGIN RSA PRIVATE KEY-----")
                || key.contains("-----BEGIN EC PRIVATE KEY-----");
            if !looks_like_key || key.len() > 16 * 1024 {
                val.check(
                    "deploy_key",
                    Err(
                        "must be an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)"
                            .into(),
                    ),
                );
            }
        }
        val.finish()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ProjectDetail {
    pub project: Project,
    pub branches: Vec<String>,
    /// Newest first, at most 20, of the default branch.
    pub commits: Vec<Commit>,
}

/// `POST /api/projects/{id}/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PushBranch {
    /// Default: the project's default branch.
    #[serde(default)]
    pub branch: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_and_ssh_urls_are_accepted() {
        for ok in [
            "https://github.com/acme/shop.git",
            "https://git.example.com:8443/team/app",
            "ssh://git@git.example.com/team/app.git",
            "ssh://root@127.0.0.1:2222/srv/git/app.git",
            "git@github.com:acme/shop.git",
            "ssh://git@[2001:db8::7]:2222/srv/app.git",
        ] {
            assert_eq!(git_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "file:///etc/passwd",
            "/srv/git/app.git",
            "../app.git",
            "ext::sh -c touch% /tmp/pwned",
            "--upload-pack=touch /tmp/pwned",
            "-oProxyCommand=x",
            "git://example.com/app.git",
            "http://example.com/app.git",
            "https://user:secret@example.com/app.git",
            "ssh://-oProxyCommand=x/app",
            "ssh://git@example.com/../../etc",
            "https://example.com/app.git --upload-pack=x",
            "git@example.com:-x",
            "fd::17",
            "ssh://[$(touch${IFS}/tmp/pwned)]/app.git",
            "https://[evil]/app.git",
            "",
        ] {
            assert!(git_url(bad).is_err(), "{bad} was accepted");
        }
    }

    // Found by the property tests (shared/tests/properties.rs).
    #[test]
    fn brackets_hold_an_ipv6_address_and_nothing_else() {
        for bad in [
            "ssh://[-oProxyCommand=x]/app",
            "ssh://git@[-oProxyCommand=x]:22/app",
            "https://[]/app",
            "https://[git.example.com]/app",
            "https://[$(id)]/app",
        ] {
            assert!(git_url(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(git_url("https://[::1]:8443/team/app.git"), Ok(()));
        assert_eq!(git_url("ssh://git@[2001:db8::7]/team/app.git"), Ok(()));
    }

    #[test]
    fn branch_names_git_refuses_are_refused() {
        // Each of these passed before, and `git check-ref-format --branch` refuses all of them.
        for bad in [
            ".hidden",
            "feature/.x",
            "release.",
            "x.lock/y",
            "a/b.lock",
            "HEAD",
        ] {
            assert!(branch_name(bad).is_err(), "{bad}");
        }
        for ok in ["a/-b", "v1.2.3", "feature/x_y", "Main"] {
            assert_eq!(branch_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn branch_names_cannot_be_options() {
        assert!(branch_name("release/1.2").is_ok());
        for bad in ["-f", "a..b", "x.lock", "/x", "a b", "a@{1}", ""] {
            assert!(branch_name(bad).is_err(), "{bad}");
        }
    }
}
