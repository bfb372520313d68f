//! The new-request form, and what its inputs hold as a plain draft.

use super::draft::{custom_only, fold_keys, RequestDraft};
use crate::api;
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
use shared::requests::ServerRequestDetail;
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
    // Only accounts that can build what is asked for (administrators also receive the others).
    let account_list = move || match accounts.get() {
        Some(Ok(list)) => list.into_iter().filter(|a| a.ready).collect(),
        _ => Vec::new(),
    };
    let manages_providers = use_session().can(Permission::ProvidersManage);
    let no_account = move || matches!(accounts.get(), Some(Ok(_))) && account_list().is_empty();
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
            {move || no_account().then(|| view! {
                <div class="alert alert-info" data-testid="no-provider" role="status">
                    <p>
                        "No provider account can take requests yet: one needs a token whose connection test passed. "
                        {if manages_providers {
                            view! { <a href="/providers">"Add or fix one under Providers."</a> }.into_any()
                        } else {
                            view! { <span>"Ask an administrator to set one up."</span> }.into_any()
                        }}
                    </p>
                </div>
            })}
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
