//! The new-request form, and what its inputs hold as a plain draft.

use crate::api::{self};
use crate::components::feedback::Alert;
use crate::components::form::{
    apply_problem, pick, show_problems, Errors, FormActions, FormBanner, PickField, Select,
    TextArea, TextField,
};
use crate::format::{money, size, size_list};
use crate::remote::remote;
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use shared::billing::{Subscription, SubscriptionStatus};
use shared::dto::{Page, Team};
use shared::providers::{Catalog, ProviderAccount};
use shared::requests::{CreateServerRequest, ServerRequestDetail};
use shared::roles::Permission;
use shared::scripts::SshKey;
use shared::validation::FieldErrors;

#[component]
pub(super) fn NewRequestForm(
    #[prop(into)] on_done: Callback<ServerRequestDetail>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());

    let hostname = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let account = RwSignal::new(String::new());
    let location = RwSignal::new(String::new());
    let server_type = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let cpu = RwSignal::new(String::new());
    let ram = RwSignal::new(String::new());
    let disk = RwSignal::new(String::new());
    let purpose = RwSignal::new(String::new());
    let keys = RwSignal::new(String::new());
    // The caller's saved keys are proposed; the platform's service key is added by the server.
    let saved_keys = remote::<Vec<SshKey>>(|| "/api/ssh-keys".into());
    Effect::new(move |_| {
        if let Some(Ok(saved)) = saved_keys.get() {
            if keys.get_untracked().is_empty() {
                let own: Vec<String> = saved
                    .into_iter()
                    .filter(|k| !k.service)
                    .map(|k| k.public_key)
                    .collect();
                keys.set(own.join("\n"));
            }
        }
    });
    let notes = RwSignal::new(String::new());
    // Sales agents and administrators say which client subscription the server is for; the
    // approver then sees the margin it leaves.
    let subscription = RwSignal::new(String::new());
    let subscriptions = use_session()
        .can(Permission::SubscriptionsManage)
        .then(|| remote::<Vec<Subscription>>(|| "/api/subscriptions".into()));
    let subscription_opts = Signal::derive(move || {
        let mut options = vec![(String::new(), "None".to_string())];
        if let Some(Some(Ok(list))) = subscriptions.map(|r| r.get()) {
            options.extend(
                list.into_iter()
                    .filter(|s| s.status != SubscriptionStatus::Cancelled)
                    .map(|s| {
                        (
                            s.id.to_string(),
                            format!(
                                "{} — {} ({}/mo)",
                                s.client_company,
                                s.plan_name,
                                s.price.display()
                            ),
                        )
                    }),
            );
        }
        options
    });
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
    let account_list = move || match accounts.get() {
        Some(Ok(list)) => list,
        _ => Vec::new(),
    };
    let account_opts = Signal::derive(move || {
        account_list()
            .into_iter()
            .map(|a| (a.id.to_string(), a.name))
            .collect::<Vec<_>>()
    });
    let team_value = Signal::derive(move || {
        let ids: Vec<String> = team_opts.get().into_iter().map(|o| o.0).collect();
        pick(team.get(), &ids)
    });
    let account_value = Signal::derive(move || {
        let ids: Vec<String> = account_opts.get().into_iter().map(|o| o.0).collect();
        pick(account.get(), &ids)
    });
    let catalog = move || {
        let id = account_value.get();
        account_list()
            .into_iter()
            .find(|a| a.id.to_string() == id)
            .map(|a| a.catalog)
    };
    let list_opts = |f: fn(&Catalog) -> Vec<(String, String)>| {
        Signal::derive(move || catalog().as_ref().map(f).unwrap_or_default())
    };
    let location_opts = list_opts(|c| c.locations.iter().map(|l| (l.clone(), l.clone())).collect());
    let image_opts = list_opts(|c| c.images.iter().map(|l| (l.clone(), l.clone())).collect());
    let type_opts = list_opts(|c| {
        c.server_types
            .iter()
            .map(|t| {
                let price = t
                    .monthly_price_cents
                    .map(|p| format!(" — {}", money(p, &c.currency)))
                    .unwrap_or_default();
                (
                    t.name.clone(),
                    format!(
                        "{} — {}{price}",
                        t.name,
                        size_list(t.cpu, t.ram_mb, t.disk_gb)
                    ),
                )
            })
            .collect()
    });
    let value_of = move |sig: RwSignal<String>, opts: Signal<Vec<(String, String)>>| {
        Signal::derive(move || {
            let ids: Vec<String> = opts.get().into_iter().map(|o| o.0).collect();
            pick(sig.get(), &ids)
        })
    };
    let location_value = value_of(location, location_opts);
    let image_value = value_of(image, image_opts);
    let type_value = value_of(server_type, type_opts);
    let custom = move || catalog().as_ref().is_some_and(custom_only);
    let num = |s: RwSignal<String>| s.get().trim().parse::<u32>().ok();
    let resolved = move || {
        let st = type_value.get();
        let st = (!st.is_empty()).then_some(st);
        catalog().map(|c| {
            (
                c.resolve(st.as_deref(), num(cpu), num(ram), num(disk)),
                c.currency,
            )
        })
    };
    let cost_line = move || match resolved() {
        Some((Ok(r), currency)) => match r.monthly_cents {
            Some(c) => format!(
                "{} · {}",
                size(r.cpu, r.ram_mb, r.disk_gb),
                money(c, &currency)
            ),
            None => format!("{} · no price known", size(r.cpu, r.ram_mb, r.disk_gb)),
        },
        _ => "—".into(),
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let draft = RequestDraft {
            hostname: hostname.get_untracked(),
            team: team_value.get_untracked(),
            account: account_value.get_untracked(),
            location: location_value.get_untracked(),
            server_type: type_value.get_untracked(),
            image: image_value.get_untracked(),
            cpu: cpu.get_untracked(),
            ram: ram.get_untracked(),
            disk: disk.get_untracked(),
            purpose: purpose.get_untracked(),
            keys: keys.get_untracked(),
            notes: notes.get_untracked(),
            subscription: subscription.get_untracked(),
        };
        let body = match draft.to_request(catalog().as_ref()) {
            Ok(body) => body,
            Err(problems) => {
                show_problems(problems, errors, banner);
                return;
            }
        };
        show_problems(FieldErrors::new(), errors, banner);
        task::run(
            pending,
            async move { api::post::<_, ServerRequestDetail>("/api/requests", &body).await },
            move |result| match result {
                Ok(d) => on_done.run(d),
                Err(mut e) => {
                    e.fields = fold_keys(std::mem::take(&mut e.fields));
                    banner.set(apply_problem(&e, errors, FIELDS));
                }
            },
        );
    };

    view! {
        <form class="form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            {move || match (teams.get(), accounts.get()) {
                (Some(Err(e)), _) | (_, Some(Err(e))) => {
                    Some(view! { <Alert message=format!("The form data could not be loaded: {}", e.message()) /> })
                }
                _ => None,
            }}
            <div class="form-grid">
                <TextField
                    id="req-hostname"
                    label="Hostname"
                    value=hostname
                    errors=errors
                    field="hostname"
                    autocomplete="off"
                    placeholder="web-01.example.com"
                    required=true
                />
                <Select
                    id="req-team"
                    label="Team"
                    field="team_id"
                    errors=errors
                    value=team_value
                    on_pick=move |v| team.set(v)
                    options=team_opts
                />
                <Select
                    id="req-account"
                    label="Provider account"
                    field="provider_account_id"
                    errors=errors
                    value=account_value
                    on_pick=move |v| account.set(v)
                    options=account_opts
                />
                <Select
                    id="req-location"
                    label="Location"
                    field="location"
                    errors=errors
                    value=location_value
                    on_pick=move |v| location.set(v)
                    options=location_opts
                />
                {move || {
                    if custom() {
                        view! {
                            <TextField id="req-cpu" label="vCPU" kind="number" value=cpu errors=errors field="cpu" />
                            <TextField
                                id="req-ram"
                                label="RAM (MB)"
                                kind="number"
                                value=ram
                                errors=errors
                                field="ram_mb"
                            />
                            <TextField
                                id="req-disk"
                                label="Disk (GB)"
                                kind="number"
                                value=disk
                                errors=errors
                                field="disk_gb"
                            />
                        }
                            .into_any()
                    } else {
                        view! {
                            <Select
                                id="req-type"
                                label="Server type"
                                field="server_type"
                                errors=errors
                                value=type_value
                                on_pick=move |v| server_type.set(v)
                                options=type_opts
                            />
                        }
                            .into_any()
                    }
                }}
                <Select
                    id="req-image"
                    label="Image"
                    field="image"
                    errors=errors
                    value=image_value
                    on_pick=move |v| image.set(v)
                    options=image_opts
                />
            </div>
            <p class="estimate" aria-live="polite">
                "Estimated cost: " <strong>{cost_line}</strong>
            </p>
            {subscriptions
                .is_some()
                .then(|| {
                    view! {
                        <PickField
                            id="req-subscription"
                            label="Client subscription"
                            field="subscription_id"
                            errors=errors
                            value=subscription
                            options=subscription_opts
                            hint=Signal::derive(|| {
                                "Optional: the approver sees the subscription's margin with this server."
                                    .to_string()
                            })
                        />
                    }
                })}
            <TextArea id="req-purpose" label="Purpose" value=purpose errors=errors field="purpose" />
            <TextArea
                id="req-keys"
                label="SSH public keys"
                value=keys
                errors=errors
                field="ssh_public_keys"
                rows=3
            />
            <p class="field-hint">
                "One key per line, e.g. ssh-ed25519 AAAA… you@laptop. Your saved keys (Profile) are filled in; Provisio's own service key is always added."
            </p>
            <TextArea id="req-notes" label="Notes" value=notes errors=errors field="notes" rows=2 />
            <FormActions pending=pending label="Submit request" busy="Submitting…" on_cancel=on_cancel />
        </form>
    }
}

const FIELDS: &[&str] = &[
    "hostname",
    "team_id",
    "provider_account_id",
    "location",
    "server_type",
    "cpu",
    "ram_mb",
    "disk_gb",
    "image",
    "purpose",
    "ssh_public_keys",
    "notes",
    "subscription_id",
];

/// Messages about `ssh_public_keys[2]` go under the keys field, naming the line.
fn fold_keys(errors: FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for (key, msgs) in errors {
        match key
            .strip_prefix("ssh_public_keys[")
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(i) => out
                .entry("ssh_public_keys".into())
                .or_default()
                .extend(msgs.into_iter().map(|m| format!("line {}: {m}", i + 1))),
            None => out.entry(key).or_default().extend(msgs),
        }
    }
    out
}

/// A catalog without server types, only limits: the size is typed in.
fn custom_only(catalog: &Catalog) -> bool {
    catalog.server_types.is_empty() && catalog.custom_limits.is_some()
}

/// What the new-request form holds; the team, account, location, type and image as the
/// option the select shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct RequestDraft {
    pub hostname: String,
    pub team: String,
    pub account: String,
    pub location: String,
    pub server_type: String,
    pub image: String,
    pub cpu: String,
    pub ram: String,
    pub disk: String,
    pub purpose: String,
    /// One public key per line.
    pub keys: String,
    pub notes: String,
    pub subscription: String,
}

impl RequestDraft {
    /// The request to send, or the problems found (key messages under the keys field).
    /// `catalog` is the chosen account's: it says whether a type or a size is sent, and the
    /// size must fit it.
    pub fn to_request(
        &self,
        catalog: Option<&Catalog>,
    ) -> Result<CreateServerRequest, FieldErrors> {
        let num = |s: &str| s.trim().parse::<u32>().ok();
        let is_custom = catalog.is_some_and(custom_only);
        let st = (!self.server_type.is_empty()).then(|| self.server_type.clone());
        let body = CreateServerRequest {
            hostname: self.hostname.trim().to_owned(),
            team_id: self.team.parse().unwrap_or_default(),
            provider_account_id: self.account.parse().unwrap_or_default(),
            location: self.location.clone(),
            server_type: st.clone().filter(|_| !is_custom),
            cpu: if is_custom { num(&self.cpu) } else { None },
            ram_mb: if is_custom { num(&self.ram) } else { None },
            disk_gb: if is_custom { num(&self.disk) } else { None },
            image: self.image.clone(),
            purpose: self.purpose.trim().to_owned(),
            ssh_public_keys: self
                .keys
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            notes: self.notes.trim().to_owned(),
            subscription_id: self.subscription.parse().ok(),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if body.team_id.is_nil() {
            problems.insert("team_id".into(), vec!["Choose a team".into()]);
        }
        if body.provider_account_id.is_nil() {
            problems.insert(
                "provider_account_id".into(),
                vec!["Choose a provider account".into()],
            );
        } else if let Some(Err((field, msg))) = catalog.map(|c| {
            c.resolve(
                st.as_deref(),
                num(&self.cpu),
                num(&self.ram),
                num(&self.disk),
            )
        }) {
            problems.insert(field.into(), vec![msg]);
        }
        let problems = fold_keys(problems);
        problems.is_empty().then_some(body).ok_or(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::providers::{ServerTypeOffer, SizeLimits};
    use uuid::Uuid;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0ZXN0a2V5dGVzdGtleXRlc3RrZXk ada@laptop";

    fn catalog(types: bool) -> Catalog {
        Catalog {
            currency: "EUR".into(),
            locations: vec!["fsn1".into()],
            images: vec!["debian-12".into()],
            server_types: types
                .then(|| ServerTypeOffer {
                    name: "cx22".into(),
                    cpu: 2,
                    ram_mb: 4096,
                    disk_gb: 40,
                    monthly_price_cents: Some(459),
                })
                .into_iter()
                .collect(),
            custom_limits: Some(SizeLimits {
                max_cpu: 4,
                max_ram_mb: 8192,
                max_disk_gb: 100,
            }),
            unit_prices: None,
        }
    }

    fn draft() -> RequestDraft {
        RequestDraft {
            hostname: " web-01.example.com ".into(),
            team: Uuid::new_v4().to_string(),
            account: Uuid::new_v4().to_string(),
            location: "fsn1".into(),
            server_type: "cx22".into(),
            image: "debian-12".into(),
            cpu: "2".into(),
            purpose: " the shop's front end ".into(),
            keys: format!("\n  {KEY}  \n\n"),
            ..Default::default()
        }
    }

    #[test]
    fn a_catalog_with_server_types_sends_the_type_and_no_size() {
        let draft = draft();
        let body = draft.to_request(Some(&catalog(true))).unwrap();
        assert_eq!(body.hostname, "web-01.example.com");
        assert_eq!(body.team_id.to_string(), draft.team);
        assert_eq!(body.server_type.as_deref(), Some("cx22"));
        assert_eq!((body.cpu, body.ram_mb, body.disk_gb), (None, None, None));
        assert_eq!(body.purpose, "the shop's front end");
        assert_eq!(body.ssh_public_keys, [KEY]);
        assert_eq!(body.subscription_id, None);
    }

    #[test]
    fn a_catalog_of_limits_only_sends_the_typed_size_and_checks_it() {
        let mut draft = draft();
        draft.server_type.clear();
        draft.ram = "2048".into();
        draft.disk = " 20 ".into();
        let body = draft.to_request(Some(&catalog(false))).unwrap();
        assert_eq!(body.server_type, None);
        assert_eq!(
            (body.cpu, body.ram_mb, body.disk_gb),
            (Some(2), Some(2048), Some(20))
        );
        draft.cpu = "8".into();
        let problems = draft.to_request(Some(&catalog(false))).unwrap_err();
        assert_eq!(problems["cpu"], ["must be between 1 and 4"]);
    }

    #[test]
    fn missing_choices_and_bad_key_lines_are_refused_under_their_fields() {
        let mut draft = draft();
        draft.team.clear();
        draft.account.clear();
        draft.keys = format!("{KEY}\nssh-dss AAAA");
        let problems = draft.to_request(None).unwrap_err();
        assert_eq!(problems["team_id"], ["Choose a team"]);
        assert_eq!(
            problems["provider_account_id"],
            ["Choose a provider account"]
        );
        assert_eq!(
            problems["ssh_public_keys"],
            ["line 2: must start with a key type such as ssh-ed25519 or ssh-rsa"]
        );
    }
}
