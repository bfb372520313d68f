//! What the deploy and redeploy dialogs hold, as plain data, and the requests they become.

use crate::components::form::{rows_to_pairs, Row};
use shared::deployments::{DeployRequest, DeploymentType, Redeploy};
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The trimmed text of an input, `None` when blank.
pub(super) fn given(value: &str) -> Option<String> {
    let text = value.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// What the deploy form's inputs hold: ids of the picked options as their text, blank for
/// none.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct DeployDraft {
    pub target: Target,
    pub name: String,
    pub project: String,
    pub git_url: String,
    pub team: String,
    pub branch: String,
    pub commit: String,
    pub framework: String,
    pub module: String,
    pub server: String,
    pub port: String,
    pub env: Vec<Row>,
    /// Managed resources to bind, by id.
    pub resources: Vec<String>,
    /// For a new guest: the account (blank: the team's default one), where, what and how big.
    pub account: String,
    pub location: String,
    pub image: String,
    pub server_type: String,
    pub cpu: String,
    pub ram_mb: String,
    pub disk_gb: String,
    /// The public key that logs in to a new guest; blank: Provisio generates a pair.
    pub ssh_public_key: String,
}

/// Where the app runs: a server that runs already, or a new guest built for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Target {
    #[default]
    Server,
    NewVm,
    NewContainer,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Server, Target::NewVm, Target::NewContainer];

    pub fn key(self) -> &'static str {
        match self {
            Target::Server => "server",
            Target::NewVm => "vm",
            Target::NewContainer => "lxc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Target::Server => "A running server",
            Target::NewVm => "A new virtual machine",
            Target::NewContainer => "A new LXC container",
        }
    }

    pub fn parse(key: &str) -> Target {
        Target::ALL
            .into_iter()
            .find(|t| t.key() == key)
            .unwrap_or_default()
    }
}

/// A whole number typed in `field`, or a problem recorded for it.
fn number(text: &str, field: &str, problems: &mut FieldErrors) -> Option<u32> {
    let text = given(text)?;
    match text.parse::<u32>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.insert(field.into(), vec!["a whole number".into()]);
            None
        }
    }
}

impl DeployDraft {
    /// The request to send, or every problem found, the server's own rules included.
    pub fn to_request(&self) -> Result<DeployRequest, FieldErrors> {
        let mut problems = FieldErrors::new();
        let env = rows_to_pairs(&self.env, "variable").unwrap_or_else(|e| {
            problems.insert("env".into(), vec![e]);
            BTreeMap::new()
        });
        let port = given(&self.port).and_then(|p| match p.parse::<u16>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.insert("port".into(), vec!["a number from 1024 to 65535".into()]);
                None
            }
        });
        let project_id = self.project.parse::<Uuid>().ok();
        // A project brings its own repository and team; the URL and team fields then stay
        // unsent even when they still hold text.
        let by_url = project_id.is_none();
        let new_guest = self.target != Target::Server;
        let sizes = if new_guest {
            (
                number(&self.cpu, "cpu", &mut problems),
                number(&self.ram_mb, "ram_mb", &mut problems),
                number(&self.disk_gb, "disk_gb", &mut problems),
            )
        } else {
            (None, None, None)
        };
        let guest = |text: &String| given(text).filter(|_| new_guest);
        let body = DeployRequest {
            name: given(&self.name),
            team_id: self.team.parse().ok().filter(|_| by_url),
            project_id,
            git_url: given(&self.git_url).filter(|_| by_url),
            branch: given(&self.branch),
            commit: given(&self.commit),
            framework: given(&self.framework),
            module: given(&self.module),
            server_id: self.server.parse().ok().filter(|_| !new_guest),
            port,
            env,
            resources: self
                .resources
                .iter()
                .filter_map(|r| r.parse().ok())
                .collect(),
            deployment_type: match self.target {
                Target::NewContainer => DeploymentType::Lxc,
                _ => DeploymentType::Vm,
            },
            provider_account_id: self.account.parse().ok().filter(|_| new_guest),
            location: guest(&self.location),
            image: guest(&self.image),
            server_type: guest(&self.server_type),
            ssh_public_key: guest(&self.ssh_public_key),
            cpu: sizes.0,
            ram_mb: sizes.1,
            disk_gb: sizes.2,
        };
        if let Err(found) = body.validate() {
            for (field, messages) in found {
                problems.entry(field).or_default().extend(messages);
            }
        }
        if !new_guest && body.server_id.is_none() {
            problems
                .entry("server_id".into())
                .or_default()
                .push("choose the server the app runs on".into());
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems)
        }
    }
}

/// What the redeploy form's inputs hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RedeployDraft {
    pub commit: String,
    pub branch: String,
}

impl RedeployDraft {
    pub fn to_request(&self) -> Result<Redeploy, FieldErrors> {
        let body = Redeploy {
            commit: given(&self.commit),
            branch: given(&self.branch),
        };
        body.validate().map(|()| body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> DeployDraft {
        DeployDraft {
            name: " shop ".into(),
            git_url: "https://git.example.com/team/shop.git".into(),
            server: "6f2c6a9e-3b1c-4d6e-9a57-0c7b7e3f1a11".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_deploy_from_a_git_url_sends_the_trimmed_fields_and_leaves_blanks_unset() {
        let mut draft = draft();
        draft.branch = "  main ".into();
        draft.port = "8080".into();
        draft.env = vec![Row::new(vec![
            "DATABASE_URL".into(),
            "postgres://db".into(),
        ])];
        let body = draft.to_request().unwrap();
        assert_eq!(body.name.as_deref(), Some("shop"));
        assert_eq!(
            body.git_url.as_deref(),
            Some("https://git.example.com/team/shop.git")
        );
        assert_eq!(body.branch.as_deref(), Some("main"));
        assert_eq!(body.commit, None);
        assert_eq!(body.framework, None);
        assert_eq!(body.port, Some(8080));
        assert_eq!(body.server_id.unwrap().to_string(), draft.server);
        assert_eq!(
            body.env.get("DATABASE_URL").map(String::as_str),
            Some("postgres://db")
        );
    }

    #[test]
    fn a_chosen_project_drops_the_git_url_and_team_still_typed_in() {
        let mut draft = draft();
        draft.project = "0b6d1c52-58f1-4b8e-b0e4-4c9d3c7c2a10".into();
        draft.team = "9d1f7c3a-2e4b-4f1a-8c6d-5b3a2e1f0c9d".into();
        let body = draft.to_request().unwrap();
        assert_eq!(body.project_id.unwrap().to_string(), draft.project);
        assert_eq!(body.git_url, None);
        assert_eq!(body.team_id, None);
    }

    #[test]
    fn a_bad_port_and_a_nameless_variable_are_reported_with_the_servers_rules() {
        let mut draft = draft();
        draft.port = "eighty".into();
        draft.server.clear();
        draft.env = vec![Row::new(vec![String::new(), "value".into()])];
        let problems = draft.to_request().unwrap_err();
        assert_eq!(problems["port"], ["a number from 1024 to 65535"]);
        assert_eq!(problems["env"], ["every variable needs a name"]);
        assert_eq!(problems["server_id"], ["choose the server the app runs on"]);
    }

    #[test]
    fn a_blank_name_is_left_to_the_server_which_takes_the_repositorys() {
        let mut draft = draft();
        draft.name = "  ".into();
        assert_eq!(draft.to_request().unwrap().name, None);
    }

    #[test]
    fn a_new_vm_sends_its_account_place_image_and_size_and_no_server() {
        let mut draft = draft();
        draft.target = Target::NewVm;
        draft.account = "0b6d1c52-58f1-4b8e-b0e4-4c9d3c7c2a10".into();
        draft.location = "pve1".into();
        draft.image = "debian-12".into();
        draft.cpu = "2".into();
        draft.ram_mb = " 2048 ".into();
        draft.disk_gb = "20".into();
        let body = draft.to_request().unwrap();
        assert_eq!(body.server_id, None, "the server picked before is dropped");
        assert_eq!(body.deployment_type, DeploymentType::Vm);
        assert_eq!(body.provider_account_id.unwrap().to_string(), draft.account);
        assert_eq!(body.location.as_deref(), Some("pve1"));
        assert_eq!(body.image.as_deref(), Some("debian-12"));
        assert_eq!(
            (body.cpu, body.ram_mb, body.disk_gb),
            (Some(2), Some(2048), Some(20))
        );
        assert_eq!(body.server_type, None);
    }

    #[test]
    fn a_new_container_may_leave_the_account_to_the_team_and_refuses_words_for_sizes() {
        let mut draft = draft();
        draft.target = Target::NewContainer;
        draft.server.clear();
        let body = draft.to_request().unwrap();
        assert_eq!(body.deployment_type, DeploymentType::Lxc);
        assert_eq!(body.provider_account_id, None, "the team's default account");
        draft.cpu = "two".into();
        assert_eq!(draft.to_request().unwrap_err()["cpu"], ["a whole number"]);
        // Back on a running server, the guest's fields are not sent.
        draft.target = Target::Server;
        draft.server = "6f2c6a9e-3b1c-4d6e-9a57-0c7b7e3f1a11".into();
        let body = draft.to_request().unwrap();
        assert_eq!(body.cpu, None);
        assert_eq!(Target::parse("lxc"), Target::NewContainer);
        assert_eq!(Target::parse("?"), Target::Server);
    }

    #[test]
    fn a_redeploy_sends_only_what_was_typed() {
        let draft = RedeployDraft {
            commit: " 0a1b2c3d ".into(),
            branch: String::new(),
        };
        let body = draft.to_request().unwrap();
        assert_eq!(body.commit.as_deref(), Some("0a1b2c3d"));
        assert_eq!(body.branch, None);
        let bad = RedeployDraft {
            commit: "not-a-sha".into(),
            branch: String::new(),
        };
        assert!(bad.to_request().unwrap_err().contains_key("commit"));
    }
}
