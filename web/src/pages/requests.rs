//! Server requests: the list with its filters, the new-request form, the detail page with
//! the workflow actions and timeline, and the approvals queue.

use crate::api::{self, ApiErrorView};
use crate::components::cancel::CancelExecution;
use crate::components::feedback::{use_toasts, Alert, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::{
    apply_problem, pick, show_problems, Errors, FormActions, FormBanner, PickField, Select,
    TextArea, TextField,
};
use crate::components::list::{
    paged_list, paged_remote, FilterSelect, NewButton, PageHeader, SearchBar,
};
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::modal::{DialogWhile, Modal};
use crate::components::table::{Col, DataTable};
use crate::components::tracker::Tracker;
use crate::format::{datetime, estimate, money, person, relative, size, size_list};
use crate::live::{follow, Link};
use crate::pages::subscriptions::amount;
use crate::remote::{poll, remote, use_route_id, Loaded, Remote};
use crate::search::use_search;
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::billing::{Subscription, SubscriptionStatus};
use shared::dto::{Page, Team};
use shared::policies::{ApprovalRule, Approvers};
use shared::providers::ProviderAccount;
use shared::requests::{
    CommentRequest, CreateServerRequest, RejectRequest, RequestEvent, ServerRequest,
    ServerRequestDetail,
};
use shared::roles::Permission;
use shared::scripts::SshKey;
use shared::servers::LogLine;
use shared::stages::Stage;
use shared::validation::FieldErrors;
use shared::workflow::{RequestAction, RequestStatus};
use uuid::Uuid;

const PER_PAGE: u64 = 20;

#[component]
pub fn StatusBadge(status: RequestStatus) -> impl IntoView {
    view! { <span class=format!("badge req req-{}", status.as_str())>{status.as_str()}</span> }
}

fn req_size(r: &ServerRequest) -> String {
    size(r.cpu, r.ram_mb, r.disk_gb)
}

/// Runs a workflow action (`approve`, `cancel`, `retry`) and hands the new detail to `done`.
fn act(
    pending: RwSignal<bool>,
    id: Uuid,
    action: &'static str,
    done: impl FnOnce(Result<ServerRequestDetail, ApiErrorView>) + 'static,
) {
    let url = format!("/api/requests/{id}/{action}");
    task::run(
        pending,
        async move { api::post_empty::<ServerRequestDetail>(&url).await },
        done,
    );
}

#[component]
pub fn RequestsPage() -> impl IntoView {
    let navigate = use_navigate();
    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let creating = RwSignal::new(false);

    let requests = paged_remote::<ServerRequest>("/api/requests", page, PER_PAGE, move || {
        vec![("status", status.get()), ("q", q.get())]
    });
    let search = use_search(q, page);

    let on_created = Callback::new(move |d: ServerRequestDetail| {
        creating.set(false);
        navigate(&format!("/requests/{}", d.request.id), Default::default());
    });
    let filtered = move || !q.get().is_empty() || !status.get().is_empty();

    view! {
        <section class="page">
            <PageHeader title="Requests" description="Servers requested by your teams and where they stand.">
                <NewButton label="New request" on_click=move |_| creating.set(true) />
            </PageHeader>
            <SearchBar search=search id="request-search" label="Search requests" placeholder="Hostname or purpose">
                <FilterSelect id="request-status-filter" label="Status" value=status page=page>
                    <option value="">"Any status"</option>
                    {RequestStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </FilterSelect>
            </SearchBar>
            {paged_list(
                requests,
                page,
                ("request", "requests"),
                move || {
                    if filtered() {
                        ("No requests match", "Try another search term or status.")
                    } else {
                        ("No requests yet", "Ask for a server with “New request”.")
                    }
                },
                |items| view! { <RequestTable items=items queue=None /> },
            )}
            <DialogWhile open=creating title="New request" wide=true>
                <NewRequestForm on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
        </section>
    }
}

/// The request table; with `queue` (the approvals page) each row gets Approve and Reject.
#[component]
fn RequestTable(
    items: Vec<ServerRequest>,
    queue: Option<Remote<Page<ServerRequest>>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let rejecting = RwSignal::new(None::<ServerRequest>);
    let after = move |verb: &'static str, result: Result<ServerRequestDetail, ApiErrorView>| {
        match result {
            Ok(d) => toasts.success(format!("{} {verb}", d.request.hostname)),
            Err(e) => toasts.error(e.message()),
        }
        if let Some(q) = queue {
            q.refetch();
        }
    };
    // The approvals queue has no status (all are pending) but the row's buttons.
    let mut columns = vec![
        Col::Text("Hostname"),
        Col::Text("Team"),
        Col::Text("Requester"),
        Col::Text("Size"),
        Col::Text("Estimated cost"),
    ];
    if queue.is_none() {
        columns.push(Col::Text("Status"));
    }
    columns.push(Col::Text("Created"));
    if queue.is_some() {
        columns.push(Col::Actions);
    }
    let rows = items
        .into_iter()
        .map(|r| {
            let id = r.id;
            let created = r.created_at;
            let buttons = queue.map(|_| {
                let for_reject = r.clone();
                view! {
                    <td class="actions">
                        <button
                            type="button"
                            class="btn btn-primary btn-sm"
                            disabled=move || pending.get()
                            on:click=move |_| act(pending, id, "approve", move |res| after("approved", res))
                        >
                            "Approve"
                        </button>
                        <button
                            type="button"
                            class="btn btn-danger-ghost btn-sm"
                            on:click=move |_| rejecting.set(Some(for_reject.clone()))
                        >
                            "Reject"
                        </button>
                    </td>
                }
            });
            let (who, sz, cost, status) = (
                person(&r.requester),
                req_size(&r),
                estimate(r.estimated_monthly.as_ref()),
                r.status,
            );
            view! {
                <tr>
                    <td>
                        <A href=format!("/requests/{id}")>{r.hostname}</A>
                    </td>
                    <td>{r.team.name}</td>
                    <td>{who}</td>
                    <td class="nowrap">{sz}</td>
                    <td class="num">{cost}</td>
                    {queue.is_none().then(|| view! { <td><StatusBadge status=status /></td> })}
                    <td title=datetime(&created)>{relative(&created)}</td>
                    {buttons}
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=columns>{rows}</DataTable>
        {move || {
            rejecting
                .get()
                .map(|r| {
                    view! {
                        <RejectDialog
                            request=r
                            on_done=move |d: ServerRequestDetail| {
                                rejecting.set(None);
                                after("rejected", Ok(d));
                            }
                            on_cancel=move |_| rejecting.set(None)
                        />
                    }
                })
        }}
    }
}

#[component]
fn RejectDialog(
    request: ServerRequest,
    #[prop(into)] on_done: Callback<ServerRequestDetail>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let id = request.id;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = reason.get_untracked().trim().to_owned();
        if text.is_empty() {
            errors.set(FieldErrors::from([(
                "reason".to_string(),
                vec!["Say why the request is rejected".to_string()],
            )]));
            return;
        }
        let body = RejectRequest { reason: text };
        task::run(
            pending,
            async move {
                api::post::<_, ServerRequestDetail>(&format!("/api/requests/{id}/reject"), &body)
                    .await
            },
            move |result| match result {
                Ok(d) => on_done.run(d),
                Err(e) => banner.set(apply_problem(&e, errors, &["reason"])),
            },
        );
    };
    view! {
        <Modal title=format!("Reject {}", request.hostname) on_close=on_cancel>
            <form class="form" on:submit=on_submit novalidate>
                <FormBanner banner=banner />
                <TextArea id="reject-reason" label="Reason" value=reason errors=errors field="reason" />
                <div class="form-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="btn btn-danger" disabled=move || pending.get()>
                        "Confirm rejection"
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn NewRequestForm(
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
    let list_opts = |f: fn(&shared::providers::Catalog) -> Vec<(String, String)>| {
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
    let custom =
        move || catalog().is_some_and(|c| c.server_types.is_empty() && c.custom_limits.is_some());
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
        let st = type_value.get_untracked();
        let is_custom = custom();
        let body = CreateServerRequest {
            hostname: hostname.get_untracked().trim().to_owned(),
            team_id: team_value.get_untracked().parse().unwrap_or_default(),
            provider_account_id: account_value.get_untracked().parse().unwrap_or_default(),
            location: location_value.get_untracked(),
            server_type: (!is_custom && !st.is_empty()).then_some(st),
            cpu: if is_custom { num(cpu) } else { None },
            ram_mb: if is_custom { num(ram) } else { None },
            disk_gb: if is_custom { num(disk) } else { None },
            image: image_value.get_untracked(),
            purpose: purpose.get_untracked().trim().to_owned(),
            ssh_public_keys: keys
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            notes: notes.get_untracked().trim().to_owned(),
            subscription_id: subscription.get_untracked().parse().ok(),
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
        } else if let Some((Err((field, msg)), _)) = resolved() {
            problems.insert(field.into(), vec![msg]);
        }
        let problems = fold_keys(problems);
        if !show_problems(problems, errors, banner) {
            return;
        }
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

fn is_live(status: RequestStatus) -> bool {
    matches!(
        status,
        RequestStatus::Pending | RequestStatus::Approved | RequestStatus::Provisioning
    )
}

#[component]
pub fn RequestDetailPage() -> impl IntoView {
    let toasts = use_toasts();
    let id = use_route_id();
    let detail =
        remote::<ServerRequestDetail>(move || format!("/api/requests/{}", api::encode(&id.get())));
    // Reloads that bring nothing new don't re-render the page.
    let shown = Memo::new(move |_| detail.get());
    let loaded = Memo::new(move |_| shown.with(|d| matches!(d, Some(Ok(_)))));
    let status = Memo::new(move |_| match shown.get() {
        Some(Ok(d)) => Some(d.request.status),
        _ => None,
    });
    let rejecting = RwSignal::new(false);
    let retry = Callback::new(move |_| detail.refetch());

    // Live status and provisioning log instead of polling: every `request` event means the
    // request or its executions changed, and the detail brings both.
    let lines = RwSignal::new(Vec::<LogLine>::new());
    Effect::new(move |prev: Option<String>| {
        let current = id.get();
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
        }
        current
    });
    let followed = Memo::new(move |_| {
        status
            .get()
            .is_some_and(|s| !matches!(s, RequestStatus::Rejected | RequestStatus::Cancelled))
    });
    let stream = follow(
        move || {
            followed
                .get()
                .then(|| format!("/api/requests/{}/events", api::encode(&id.get())))
        },
        move |event, data| match event {
            "log" => push_line(lines, data),
            "request" | "end" => detail.refetch(),
            _ => {}
        },
    );
    // Should the stream give up (the server unreachable for long), poll as before.
    poll(detail, 10, move |d| {
        stream.link.try_get_untracked() == Some(Link::Failed)
            && d.loaded_untracked()
                .is_some_and(|d| is_live(d.request.status))
    });
    // A retried request is live again after its stream ended.
    Effect::new(move |_| {
        if status.get().is_some_and(is_live) && stream.link.get_untracked() == Link::Ended {
            stream.restart();
        }
    });
    let provisioning = Memo::new(move |_| {
        status.get().is_some_and(|s| {
            matches!(
                s,
                RequestStatus::Approved
                    | RequestStatus::Provisioning
                    | RequestStatus::Deployed
                    | RequestStatus::Failed
            )
        })
    });
    let timeline = Memo::new(move |_| match shown.get() {
        Some(Ok(d)) => Some(d.timeline),
        _ => None,
    });
    view! {
        <section class="page">
            <A href="/requests" attr:class="back-link">
                "← Requests"
            </A>
            {move || match shown.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(d)) => view! { <Detail d=d remote=detail rejecting=rejecting /> }.into_any(),
            }}
            {move || {
                provisioning
                    .get()
                    .then(|| {
                        view! {
                            <Provisioning
                                shown=shown
                                lines=lines
                                link=stream.link
                                on_retry=Callback::new(move |_| stream.restart())
                            />
                        }
                    })
            }}
            {move || timeline.get().map(|events| view! { <TimelineCard events=events /> })}
            {move || loaded.get().then(|| view! { <CommentForm remote=detail /> })}
            {move || {
                rejecting
                    .get()
                    .then(|| detail.loaded_untracked())
                    .flatten()
                    .map(|d| {
                        view! {
                            <RejectDialog
                                request=d.request
                                on_done=move |d: ServerRequestDetail| {
                                    rejecting.set(false);
                                    toasts.success("Request rejected");
                                    detail.set(d);
                                }
                                on_cancel=move |_| rejecting.set(false)
                            />
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn CommentForm(remote: Remote<ServerRequestDetail>) -> impl IntoView {
    let toasts = use_toasts();
    let comment = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let on_comment = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = remote.loaded_untracked().map(|d| d.request.id) else {
            return;
        };
        let body = comment.get_untracked().trim().to_owned();
        if body.is_empty() {
            errors.set(FieldErrors::from([(
                "body".to_string(),
                vec!["Write a comment first".to_string()],
            )]));
            return;
        }
        let body = CommentRequest { body };
        task::run(
            pending,
            async move {
                api::post::<_, ServerRequestDetail>(&format!("/api/requests/{id}/comments"), &body)
                    .await
            },
            move |result| match result {
                Ok(d) => {
                    comment.set(String::new());
                    errors.set(FieldErrors::new());
                    remote.set(d);
                }
                Err(e) => {
                    if let Some(m) = apply_problem(&e, errors, &["body"]) {
                        toasts.error(m);
                    }
                }
            },
        );
    };
    view! {
        <form class="card form comment-form" on:submit=on_comment novalidate>
            <TextArea id="req-comment" label="Comment" value=comment errors=errors field="body" rows=2 />
            <FormActions pending=pending label="Add comment" busy="Adding…" />
        </form>
    }
}

fn step_text(a: &Approvers, rule: ApprovalRule) -> String {
    let all = rule == ApprovalRule::All;
    match a {
        Approvers::Role { role } => format!(
            "{} {}",
            if all { "every" } else { "any" },
            role.label().to_ascii_lowercase()
        ),
        Approvers::Users { user_ids } => format!(
            "{} {} named approver{}",
            if all { "all" } else { "one of" },
            user_ids.len(),
            if user_ids.len() == 1 { "" } else { "s" }
        ),
    }
}

#[component]
fn Detail(
    d: ServerRequestDetail,
    remote: Remote<ServerRequestDetail>,
    rejecting: RwSignal<bool>,
) -> impl IntoView {
    let toasts = use_toasts();
    let r = d.request;
    let id = r.id;
    let pending = RwSignal::new(false);
    let on_result = move |verb: &'static str| {
        move |result: Result<ServerRequestDetail, ApiErrorView>| match result {
            Ok(d) => {
                toasts.success(format!("Request {verb}"));
                remote.set(d);
            }
            Err(e) => toasts.error(e.message()),
        }
    };
    let buttons = r
        .allowed_actions
        .iter()
        .filter_map(|a| {
            let (label, path, verb, class) = match a {
                RequestAction::Approve => ("Approve", "approve", "approved", "btn btn-primary"),
                RequestAction::Reject => ("Reject", "", "", "btn btn-danger"),
                RequestAction::Cancel => ("Cancel request", "cancel", "cancelled", "btn btn-ghost"),
                RequestAction::Retry => ("Retry", "retry", "retried", "btn btn-primary"),
                _ => return None,
            };
            Some(view! {
                <button
                    type="button"
                    class=class
                    disabled=move || pending.get()
                    on:click=move |_| {
                        if path.is_empty() {
                            rejecting.set(true);
                        } else {
                            act(pending, id, path, on_result(verb));
                        }
                    }
                >
                    {label}
                </button>
            })
        })
        .collect_view();

    let fact = |label: &'static str, value: String| {
        view! {
            <dt>{label}</dt>
            <dd>{value}</dd>
        }
    };
    let steps = d
        .approval_steps
        .iter()
        .map(|s| {
            let current = !s.done && s.index == d.current_step;
            let who = if s.approved_by.is_empty() {
                String::new()
            } else {
                format!(
                    " — approved by {}",
                    s.approved_by
                        .iter()
                        .map(person)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            view! {
                <li class=if s.done {
                    "step step-done"
                } else if current {
                    "step step-current"
                } else {
                    "step"
                }>
                    <span class="step-mark" aria-hidden="true">
                        {if s.done { "✓" } else { "•" }}
                    </span>
                    {format!(
                        "Step {}: {}{who}{}",
                        s.index + 1,
                        step_text(&s.approvers, s.rule),
                        if s.done { " (done)" } else if current { " (waiting)" } else { "" },
                    )}
                </li>
            }
        })
        .collect_view();
    let job = d.job.map(|j| {
        let attempts = if j.attempts > 1 {
            format!(" (attempt {})", j.attempts)
        } else {
            String::new()
        };
        view! {
            <p class="job">
                {format!("Provisioning job: {}{attempts}", j.status)}
            </p>
        }
    });
    let keys = if r.ssh_public_keys.is_empty() {
        "none".to_string()
    } else {
        format!("{}", r.ssh_public_keys.len())
    };

    view! {
        <header class="page-header">
            <div>
                <h1>{r.hostname.clone()}</h1>
                <p class="muted">
                    <StatusBadge status=r.status />
                    " Requested by " {person(&r.requester)} " for " {r.team.name.clone()}
                </p>
            </div>
            <div class="actions">{buttons}</div>
        </header>
        {r
            .rejection_reason
            .clone()
            .map(|m| view! { <Alert message=format!("Rejected: {m}") kind="warning" /> })}
        {r.failure_reason.clone().map(|m| view! { <Alert message=format!("Failed: {m}") /> })}
        {d.subscription.map(|s| view! { <ForSubscription subscription=s margin=d.margin_with_server /> })}
        <div class="grid-2">
            <div class="card">
                <h2 class="card-title">"Details"</h2>
                <dl class="details">
                    {fact("Estimated cost", estimate(r.estimated_monthly.as_ref()))}
                    {fact("Size", req_size(&r))}
                    {fact("Server type", r.server_type.clone().unwrap_or_else(|| "custom".into()))}
                    {fact("Provider", r.provider_account.name.clone())}
                    {fact("Location", r.location.clone())}
                    {fact("Image", r.image.clone())}
                    {fact("Purpose", r.purpose.clone())}
                    {fact("SSH keys", keys)}
                    {(!r.notes.is_empty()).then(|| fact("Notes", r.notes.clone()))}
                    {fact("Created", datetime(&r.created_at))}
                    {fact("Updated", datetime(&r.updated_at))}
                </dl>
            </div>
            <div class="card">
                <h2 class="card-title">"Approval"</h2>
                {if d.approval_steps.is_empty() {
                    view! { <p class="muted">"No approval steps."</p> }.into_any()
                } else {
                    view! { <ol class="steps">{steps}</ol> }.into_any()
                }}
                {job}
            </div>
        </div>
    }
}

/// The client subscription a request is for, and the margin it keeps once this server's
/// catalog price is paid.
#[component]
fn ForSubscription(
    subscription: Subscription,
    margin: Option<shared::billing::Money>,
) -> impl IntoView {
    let s = subscription;
    let name = format!("{} — {}", s.client_company, s.plan_name);
    let name = if use_session().can(Permission::SubscriptionsManage) {
        view! { <A href=format!("/subscriptions/{}", s.id)>{name}</A> }.into_any()
    } else {
        view! { <strong>{name}</strong> }.into_any()
    };
    let margin = match margin {
        Some(m) => amount(Some(&m)),
        None => {
            view! { <span class="muted">"unknown (no price in this currency)"</span> }.into_any()
        }
    };
    view! {
        <div class="card subscription-note" data-testid="request-subscription">
            "For subscription: " {name} ", price " {s.price.display()} ", margin with this server "
            <span data-testid="request-margin">{margin}</span>
        </div>
    }
}

#[component]
fn TimelineCard(events: Vec<RequestEvent>) -> impl IntoView {
    let timeline = events
        .iter()
        .rev()
        .map(|e| {
            let actor = e
                .actor
                .as_ref()
                .map(person)
                .unwrap_or_else(|| "Provisio".into());
            let what = match (e.kind.as_str(), e.from_status, e.to_status) {
                ("created", ..) => "created the request".to_string(),
                ("transition", Some(f), Some(t)) => {
                    format!("moved it from {} to {}", f.as_str(), t.as_str())
                }
                ("transition", _, Some(t)) => format!("moved it to {}", t.as_str()),
                ("approval", ..) => "approved".to_string(),
                ("comment", ..) => "commented".to_string(),
                (k, ..) => k.replace('_', " "),
            };
            let at = e.at;
            let body = e.body.clone();
            view! {
                <li class=format!("event event-{}", e.kind)>
                    <div class="event-head">
                        <strong>{actor}</strong>
                        " "
                        {what}
                        <time class="muted small" title=datetime(&at)>
                            {relative(&at)}
                        </time>
                    </div>
                    {(!body.trim().is_empty()).then(|| view! { <p class="event-body">{body}</p> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="card">
            <h2 class="card-title">"Timeline"</h2>
            <ol class="timeline">{timeline}</ol>
        </div>
    }
}

/// The provisioning pipeline: each `step` line that starts a stage (`Stage::provisioning_step`)
/// moves the tracker on; provider-specific steps (cloning a template, terraform apply, …) carry
/// no stage and happen while the server is being created.
const PIPELINE: [&str; 5] = [
    "Queued",
    "Creating at the provider",
    "Waiting for an address",
    "Waiting for SSH",
    "Deployed",
];

/// `done`, `current`, `failed` or `pending` for each stage of the latest attempt.
fn stage_states(
    status: RequestStatus,
    lines: &[LogLine],
    execution: Option<Uuid>,
) -> [&'static str; 5] {
    let reached = lines
        .iter()
        .filter(|l| execution.is_none_or(|e| l.execution_id == e))
        .filter_map(|l| l.stage.and_then(Stage::provisioning_step))
        .max()
        .unwrap_or(0);
    let mut states = ["pending"; 5];
    for (i, state) in states.iter_mut().enumerate() {
        *state = match status {
            RequestStatus::Deployed => "done",
            _ if i < reached => "done",
            RequestStatus::Failed if i == reached => "failed",
            RequestStatus::Approved | RequestStatus::Provisioning if i == reached => "current",
            _ => "pending",
        };
    }
    states
}

#[component]
fn Provisioning(
    shown: Memo<Loaded<ServerRequestDetail>>,
    lines: RwSignal<Vec<LogLine>>,
    link: RwSignal<Link>,
    on_retry: Callback<()>,
) -> impl IntoView {
    let facts = Memo::new(move |_| match shown.get() {
        Some(Ok(d)) => Some((
            d.request.status,
            d.server_id,
            d.executions
                .iter()
                .map(|e| (e.id, e.status.is_finished()))
                .collect::<Vec<_>>(),
        )),
        _ => None,
    });
    let states = Memo::new(move |_| {
        let Some((status, _, executions)) = facts.get() else {
            return ["pending"; 5];
        };
        lines.with(|lines| {
            // The newest attempt: the detail lists executions newest first, but a line of an
            // execution it doesn't know yet is newer still.
            let from_lines = lines.last().map(|l| l.execution_id);
            match from_lines {
                Some(e) if !executions.iter().any(|x| x.0 == e) => {
                    stage_states(status, lines, Some(e))
                }
                // Approved again after a failed attempt: the retry is queued.
                _ if status == RequestStatus::Approved
                    && executions.first().is_some_and(|x| x.1) =>
                {
                    stage_states(status, &[], None)
                }
                _ => stage_states(
                    status,
                    lines,
                    executions.first().map(|x| x.0).or(from_lines),
                ),
            }
        })
    });
    let server_id = Memo::new(move |_| facts.get().and_then(|f| f.1));
    let session = crate::session::use_session();
    // The attempt under way, when the viewer may stop it.
    let running = Memo::new(move |_| {
        facts
            .get()
            .and_then(|f| f.2.first().filter(|e| !e.1).map(|e| e.0))
            .filter(|_| session.can(shared::Permission::ServersOperate))
    });
    view! {
        <div class="card" data-testid="provisioning">
            <div class="card-title-row">
                <h2 class="card-title">"Provisioning"</h2>
                {move || {
                    running
                        .get()
                        .map(|id| view! { <CancelExecution id=id testid="provisioning-cancel" /> })
                }}
                {move || {
                    server_id
                        .get()
                        .map(|id| {
                            view! {
                                <A href=format!("/servers/{id}") attr:class="btn btn-ghost btn-sm" attr:data-testid="view-server">
                                    "View server"
                                </A>
                            }
                        })
                }}
            </div>
            <Tracker
                label="Provisioning steps"
                steps=&PIPELINE
                states=Signal::derive(move || states.get().to_vec())
            />
            <LogPanel
                lines=lines
                link=link
                title="Provisioning log"
                empty="Waiting for the provisioning job to start…"
                on_retry=on_retry
            />
        </div>
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let queue =
        remote::<Page<ServerRequest>>(|| "/api/requests?status=pending&per_page=100".into());
    let retry = Callback::new(move |_| queue.refetch());
    view! {
        <section class="page">
            <PageHeader title="Approvals" description="Requests waiting for your decision." />
            {move || match queue.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(p)) => {
                    let items: Vec<ServerRequest> = p
                        .items
                        .into_iter()
                        .filter(|r| r.allowed_actions.contains(&RequestAction::Approve))
                        .collect();
                    if items.is_empty() {
                        view! { <Empty title="Nothing waits for your approval" /> }.into_any()
                    } else {
                        view! { <RequestTable items=items queue=Some(queue) /> }.into_any()
                    }
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(execution: Uuid, stage: Option<Stage>, text: &str) -> LogLine {
        LogLine {
            id: 0,
            execution_id: execution,
            at: chrono::Utc::now(),
            stream: "step".into(),
            text: text.into(),
            stage,
        }
    }

    #[test]
    fn the_tracker_follows_the_stages_of_the_latest_attempt_not_the_wording() {
        let (old, new) = (Uuid::new_v4(), Uuid::new_v4());
        let lines = [
            step(
                old,
                Some(Stage::WaitingForSsh),
                "waiting for SSH on 10.0.0.5:22",
            ),
            step(new, Some(Stage::Creating), "creating web-1 at the provider"),
            // A provider's own step, reworded or not, moves nothing.
            step(new, None, "Waiting for SSH, said the template"),
        ];
        assert_eq!(
            stage_states(RequestStatus::Provisioning, &lines, Some(new)),
            ["done", "current", "pending", "pending", "pending"]
        );
        assert_eq!(
            stage_states(RequestStatus::Failed, &lines, Some(old)),
            ["done", "done", "done", "failed", "pending"]
        );
        assert_eq!(
            stage_states(RequestStatus::Deployed, &lines, Some(new)),
            ["done"; 5]
        );
    }
}
