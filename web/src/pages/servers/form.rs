//! Registering an existing SSH host.

use super::labels::LABEL_COLUMNS;
use crate::api;
use crate::components::feedback::Alert;
use crate::components::form::{
    pick, rows_to_pairs, send_draft, Errors, FormActions, FormBanner, Row, RowsEditor, Select,
    TextField,
};
use crate::remote::remote;
use leptos::prelude::*;
use shared::dto::{Page, Team};
use shared::providers::{ProviderAccount, ProviderKind};
use shared::servers::{RegisterHost, ServerDetail};
use shared::validation::FieldErrors;
use std::collections::BTreeMap;

/// The registration form's fields as typed; `team` and `account` are the ids picked.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct RegisterDraft {
    pub name: String,
    pub team: String,
    pub account: String,
    pub address: String,
    pub port: String,
    pub user: String,
    pub labels: Vec<Row>,
}

impl Default for RegisterDraft {
    /// SSH's usual port and user.
    fn default() -> Self {
        Self {
            name: String::new(),
            team: String::new(),
            account: String::new(),
            address: String::new(),
            port: "22".into(),
            user: "root".into(),
            labels: Vec::new(),
        }
    }
}

impl RegisterDraft {
    pub fn to_request(&self) -> Result<RegisterHost, FieldErrors> {
        let mut problems = FieldErrors::new();
        let port_number = self.port.trim().parse::<u16>().unwrap_or_else(|_| {
            problems.insert("port".into(), vec!["use a port from 1 to 65535".into()]);
            0
        });
        let pairs = rows_to_pairs(&self.labels, "label").unwrap_or_else(|m| {
            problems.insert("labels".into(), vec![m]);
            BTreeMap::new()
        });
        let body = RegisterHost {
            name: self.name.trim().to_owned(),
            team_id: self.team.parse().unwrap_or_default(),
            provider_account_id: self.account.parse().unwrap_or_default(),
            address: self.address.trim().to_owned(),
            port: port_number,
            user: self.user.trim().to_owned(),
            labels: pairs,
        };
        for (k, v) in body.validate().err().unwrap_or_default() {
            problems.entry(k).or_insert(v);
        }
        if body.team_id.is_nil() {
            problems.insert("team_id".into(), vec!["Choose a team".into()]);
        }
        if body.provider_account_id.is_nil() {
            problems.insert(
                "provider_account_id".into(),
                vec!["Choose an SSH host account".into()],
            );
        }
        if problems.is_empty() {
            Ok(body)
        } else {
            Err(problems)
        }
    }
}

const REGISTER_FIELDS: &[&str] = &[
    "name",
    "team_id",
    "provider_account_id",
    "address",
    "port",
    "user",
    "labels",
];

#[component]
pub(super) fn RegisterForm(
    #[prop(into)] on_done: Callback<ServerDetail>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let draft = RegisterDraft::default();
    let name = RwSignal::new(draft.name);
    let team = RwSignal::new(draft.team);
    let account = RwSignal::new(draft.account);
    let address = RwSignal::new(draft.address);
    let port = RwSignal::new(draft.port);
    let user = RwSignal::new(draft.user);
    let labels = RwSignal::new(draft.labels);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let team_opts = Signal::derive(move || match teams.get() {
        Some(Ok(p)) => p
            .items
            .into_iter()
            .map(|t| (t.id.to_string(), t.name))
            .collect(),
        _ => Vec::new(),
    });
    let account_opts = Signal::derive(move || match accounts.get() {
        Some(Ok(list)) => list
            .into_iter()
            .filter(|a| a.kind == ProviderKind::Ssh)
            .map(|a| (a.id.to_string(), a.name))
            .collect(),
        _ => Vec::new(),
    });
    let value_of = move |sig: RwSignal<String>, opts: Signal<Vec<(String, String)>>| {
        Signal::derive(move || {
            let ids: Vec<String> = opts.get().into_iter().map(|o| o.0).collect();
            pick(sig.get(), &ids)
        })
    };
    let team_value = value_of(team, team_opts);
    let account_value = value_of(account, account_opts);
    let no_ssh_account =
        move || matches!(accounts.get(), Some(Ok(_))) && account_opts.with(Vec::is_empty);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let draft = RegisterDraft {
            name: name.get_untracked(),
            team: team_value.get_untracked(),
            account: account_value.get_untracked(),
            address: address.get_untracked(),
            port: port.get_untracked(),
            user: user.get_untracked(),
            labels: labels.get_untracked(),
        };
        send_draft(
            draft.to_request(),
            (pending, errors, banner),
            REGISTER_FIELDS,
            |body| async move { api::post::<_, ServerDetail>("/api/servers/register", &body).await },
            move |d| on_done.run(d),
        );
    };

    view! {
        <form class="form" data-testid="register-form" on:submit=on_submit novalidate>
            <p class="muted">
                "Provisio connects to the host with the account's private key and pins its SSH host key."
            </p>
            <FormBanner banner=banner />
            {move || {
                no_ssh_account()
                    .then(|| {
                        view! {
                            <Alert
                                kind="info"
                                message="There is no SSH host provider account yet: an administrator adds one on the Providers page."
                            />
                        }
                    })
            }}
            {move || match (teams.get(), accounts.get()) {
                (Some(Err(e)), _) | (_, Some(Err(e))) => {
                    Some(view! { <Alert message=format!("The form data could not be loaded: {}", e.message()) /> })
                }
                _ => None,
            }}
            <div class="form-grid">
                <TextField
                    id="register-name"
                    label="Name"
                    value=name
                    errors=errors
                    field="name"
                    autocomplete="off"
                    placeholder="db-01.example.com"
                    required=true
                />
                <TextField
                    id="register-address"
                    label="Address"
                    value=address
                    errors=errors
                    field="address"
                    autocomplete="off"
                    placeholder="203.0.113.10 or host.example.com"
                    required=true
                />
                <Select
                    id="register-team"
                    label="Team"
                    field="team_id"
                    errors=errors
                    value=team_value
                    on_pick=move |v| team.set(v)
                    options=team_opts
                />
                <Select
                    id="register-account"
                    label="SSH host account"
                    field="provider_account_id"
                    errors=errors
                    value=account_value
                    on_pick=move |v| account.set(v)
                    options=account_opts
                />
                <TextField id="register-user" label="SSH user" value=user errors=errors field="user" autocomplete="off" />
                <TextField id="register-port" label="SSH port" value=port errors=errors field="port" kind="number" />
            </div>
            <RowsEditor
                legend="Labels"
                columns=LABEL_COLUMNS
                rows=labels
                errors=errors
                field="labels"
                add_label="Add label"
            />
            <FormActions pending=pending label="Register host" busy="Connecting…" on_cancel=on_cancel />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::RegisterDraft;
    use crate::components::form::Row;
    use uuid::Uuid;

    fn filled() -> RegisterDraft {
        RegisterDraft {
            name: " db-01.example.com ".into(),
            team: Uuid::from_u128(1).to_string(),
            account: Uuid::from_u128(2).to_string(),
            address: " 203.0.113.10 ".into(),
            port: " 2222 ".into(),
            user: " deploy ".into(),
            labels: vec![
                Row::new(vec!["env".into(), "prod".into()]),
                Row::new(vec![" ".into(), String::new()]),
            ],
        }
    }

    #[test]
    fn a_new_host_is_reached_as_root_on_port_22() {
        let draft = RegisterDraft::default();
        assert_eq!(draft.port, "22");
        assert_eq!(draft.user, "root");
        assert!(draft.labels.is_empty());
    }

    #[test]
    fn registration_trims_the_text_and_drops_blank_label_rows() {
        let body = filled().to_request().unwrap();
        assert_eq!(body.name, "db-01.example.com");
        assert_eq!(body.team_id, Uuid::from_u128(1));
        assert_eq!(body.provider_account_id, Uuid::from_u128(2));
        assert_eq!(body.address, "203.0.113.10");
        assert_eq!(body.port, 2222);
        assert_eq!(body.user, "deploy");
        assert_eq!(body.labels.len(), 1);
        assert_eq!(body.labels["env"], "prod");
    }

    #[test]
    fn no_team_or_account_chosen_asks_for_them() {
        let draft = RegisterDraft {
            team: String::new(),
            account: String::new(),
            ..filled()
        };
        let errors = draft.to_request().unwrap_err();
        assert_eq!(errors["team_id"], vec!["Choose a team".to_string()]);
        assert_eq!(
            errors["provider_account_id"],
            vec!["Choose an SSH host account".to_string()]
        );
    }

    #[test]
    fn an_unreadable_port_and_a_repeated_label_are_reported_once_each() {
        let draft = RegisterDraft {
            port: "ssh".into(),
            labels: vec![
                Row::new(vec!["env".into(), "a".into()]),
                Row::new(vec!["env".into(), "b".into()]),
            ],
            ..filled()
        };
        let errors = draft.to_request().unwrap_err();
        assert_eq!(
            errors["port"],
            vec!["use a port from 1 to 65535".to_string()]
        );
        assert_eq!(
            errors["labels"],
            vec!["label `env` appears twice".to_string()]
        );
    }
}
