//! The server inventory: the list with its filters, registration of existing SSH hosts, and
//! the detail page with power actions, deletion, labels, executions and the live log.

use crate::api::{self, ApiErrorView};
use crate::components::cancel::CancelExecution;
use crate::components::feedback::{use_toasts, Alert, LoadStates};
use crate::components::form::{
    apply_problem, pair_rows, pick, rows_to_pairs, send_form, Column, Errors, FormActions,
    FormBanner, Row, RowsEditor, Select, TextField,
};
use crate::components::list::{
    paged_list, paged_remote, FilterSelect, NewButton, PageHeader, SearchBar,
};
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::modal::{ConfirmDialog, Modal};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative, server_size};
use crate::live::{follow, Link};
use crate::pages::maintenance::MaintenanceCard;
use crate::remote::{failure_of, remote, use_route_id};
use crate::search::use_search;
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::dto::{Page, Team};
use shared::providers::{ProviderAccount, ProviderKind};
use shared::roles::Permission;
use shared::servers::{
    Accepted, DeleteServer, Execution, ExecutionStatus, LogLine, PowerAction, PowerRequest,
    RegisterHost, Server, ServerDetail, ServerStatus, UpdateServerLabels,
};
use shared::validation::FieldErrors;
use std::collections::BTreeMap;
use uuid::Uuid;

const PER_PAGE: u64 = 20;

/// Badge colours shared with the request statuses.
fn server_tone(status: ServerStatus) -> &'static str {
    match status {
        ServerStatus::Running => "deployed",
        ServerStatus::Provisioning => "provisioning",
        ServerStatus::Deleting => "pending",
        ServerStatus::Error => "failed",
        ServerStatus::Stopped | ServerStatus::Deleted | ServerStatus::Unknown => "cancelled",
    }
}

#[component]
pub fn ServerBadge(status: ServerStatus) -> impl IntoView {
    view! {
        <span
            class=format!("badge req req-{}", server_tone(status))
            data-testid="server-status"
            data-status=status.as_str()
        >
            {status.as_str()}
        </span>
    }
}

#[component]
pub fn ExecutionBadge(status: ExecutionStatus) -> impl IntoView {
    let tone = match status {
        ExecutionStatus::Queued => "pending",
        ExecutionStatus::Running => "provisioning",
        ExecutionStatus::Succeeded => "deployed",
        ExecutionStatus::Failed => "failed",
        ExecutionStatus::Cancelled => "cancelled",
    };
    view! {
        <span class=format!("badge req req-{tone}") data-status=status.as_str()>
            {status.as_str()}
        </span>
    }
}

fn label_chips(labels: &BTreeMap<String, String>) -> impl IntoView {
    (!labels.is_empty()).then(|| {
        view! {
            <ul class="chip-list chip-list-tight">
                {labels
                    .iter()
                    .map(|(k, v)| {
                        let text = if v.is_empty() { k.clone() } else { format!("{k}={v}") };
                        let title = text.clone();
                        view! { <li class="chip chip-sm" title=title>{text}</li> }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

#[component]
pub fn ServersPage() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let q = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let page = RwSignal::new(1u64);
    let registering = RwSignal::new(false);

    let servers = paged_remote::<Server>("/api/servers", page, PER_PAGE, move || {
        vec![
            ("status", status.get()),
            ("provider_account_id", provider.get()),
            ("q", q.get()),
        ]
    });
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let search = use_search(q, page);
    let can_operate = move || session.can(Permission::ServersOperate);
    let filtered =
        move || !q.get().is_empty() || !status.get().is_empty() || !provider.get().is_empty();
    let on_registered = Callback::new(move |d: ServerDetail| {
        registering.set(false);
        navigate(&format!("/servers/{}", d.server.id), Default::default());
    });

    view! {
        <section class="page">
            <PageHeader
                title="Servers"
                description="The machines Provisio manages, where they run and their state."
            >
                {move || {
                    can_operate()
                        .then(|| {
                            view! {
                                <NewButton
                                    label="Register SSH host"
                                    testid="server-register"
                                    on_click=move |_| registering.set(true)
                                />
                            }
                        })
                }}
            </PageHeader>
            <SearchBar
                search=search
                id="server-search"
                label="Search servers"
                placeholder="Name, provider id or IP address"
                name="q"
            >
                <FilterSelect id="server-status-filter" label="Status" name="status" value=status page=page>
                    <option value="">"Any but deleted"</option>
                    {ServerStatus::ALL
                        .into_iter()
                        .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                        .collect_view()}
                </FilterSelect>
                <FilterSelect
                    id="server-provider-filter"
                    label="Provider"
                    name="provider_account_id"
                    value=provider
                    page=page
                >
                    <option value="">"Any provider"</option>
                    {move || match accounts.get() {
                        Some(Ok(list)) => {
                            let current = provider.get_untracked();
                            list.into_iter()
                                .map(|a| {
                                    let id = a.id.to_string();
                                    let selected = id == current;
                                    view! {
                                        <option value=id selected=selected>
                                            {a.name}
                                        </option>
                                    }
                                })
                                .collect_view()
                                .into_any()
                        }
                        _ => ().into_any(),
                    }}
                </FilterSelect>
            </SearchBar>
            {paged_list(
                servers,
                page,
                ("server", "servers"),
                move || {
                    if filtered() {
                        ("No servers match", "Try another search term, status or provider.")
                    } else {
                        (
                            "No servers yet",
                            "Approved requests appear here once provisioned; admins can import from a provider.",
                        )
                    }
                },
                |items| view! { <ServerTable items=items /> },
            )}
            {move || {
                registering
                    .get()
                    .then(|| {
                        view! {
                            <Modal title="Register SSH host" on_close=move |_| registering.set(false) wide=true>
                                <RegisterForm on_done=on_registered on_cancel=move |_| registering.set(false) />
                            </Modal>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn ServerTable(items: Vec<Server>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|s| {
            let id = s.id;
            let size = server_size(s.cpu, s.ram_mb, s.disk_gb);
            let chips = label_chips(&s.labels);
            view! {
                <tr data-testid="server-row" data-id=id.to_string()>
                    <td>
                        <A href=format!("/servers/{id}")>{s.name}</A>
                    </td>
                    <td>
                        <ServerBadge status=s.status />
                    </td>
                    <td>{s.provider.name}</td>
                    <td>{s.team.name}</td>
                    <td class="mono">
                        <span data-testid="server-ipv4">{s.ipv4.unwrap_or_else(|| "—".into())}</span>
                        {s.ipv6.map(|v6| view! { <span class="muted small ip6">{v6}</span> })}
                    </td>
                    <td class="nowrap">{size}</td>
                    <td>{s.origin.as_str()}</td>
                    <td>{chips}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=&[
                Col::Text("Name"), Col::Text("Status"), Col::Text("Provider"), Col::Text("Team"),
                Col::Text("Address"), Col::Text("Size"), Col::Text("Origin"), Col::Text("Labels")
            ] testid="servers-table">
            {rows}
        </DataTable>
    }
}

const LABEL_COLUMNS: &[Column] = &[
    ("labels.key", "Label key", "text"),
    ("labels.value", "Label value", "text"),
];

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
fn RegisterForm(
    #[prop(into)] on_done: Callback<ServerDetail>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let teams = remote::<Page<Team>>(|| "/api/teams?per_page=200".into());
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let name = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let account = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let port = RwSignal::new("22".to_string());
    let user = RwSignal::new("root".to_string());
    let labels = RwSignal::new(Vec::<Row>::new());
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
        let mut problems = FieldErrors::new();
        let port_number = port
            .get_untracked()
            .trim()
            .parse::<u16>()
            .unwrap_or_else(|_| {
                problems.insert("port".into(), vec!["must be 1–65535".into()]);
                0
            });
        let pairs = rows_to_pairs(&labels.get_untracked(), "label").unwrap_or_else(|m| {
            problems.insert("labels".into(), vec![m]);
            BTreeMap::new()
        });
        let body = RegisterHost {
            name: name.get_untracked().trim().to_owned(),
            team_id: team_value.get_untracked().parse().unwrap_or_default(),
            provider_account_id: account_value.get_untracked().parse().unwrap_or_default(),
            address: address.get_untracked().trim().to_owned(),
            port: port_number,
            user: user.get_untracked().trim().to_owned(),
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
        send_form(
            problems,
            pending,
            errors,
            banner,
            REGISTER_FIELDS,
            async move { api::post::<_, ServerDetail>("/api/servers/register", &body).await },
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

fn power_label(a: PowerAction) -> &'static str {
    match a {
        PowerAction::Start => "Start",
        PowerAction::Stop => "Stop",
        PowerAction::Reboot => "Reboot",
    }
}

#[component]
pub fn ServerDetailPage() -> impl IntoView {
    let session = use_session();
    let id = use_route_id();
    let detail = remote::<ServerDetail>(move || format!("/api/servers/{}", api::encode(&id.get())));
    // The last good answer stays on screen when a reload fails, so the log keeps its place.
    let shown = Memo::new(
        move |prev: Option<&Option<ServerDetail>>| match detail.get() {
            Some(Ok(d)) => Some(d),
            _ => prev.cloned().flatten(),
        },
    );
    let loaded = Memo::new(move |_| shown.with(Option::is_some));
    let failure = failure_of(detail);
    let lines = RwSignal::new(Vec::<LogLine>::new());
    let selected = RwSignal::new(None::<Uuid>);
    Effect::new(move |prev: Option<String>| {
        let current = id.get();
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
            selected.set(None);
        }
        current
    });
    let stream = follow(
        move || {
            let id = id.get();
            (!id.is_empty()).then(|| format!("/api/servers/{}/events", api::encode(&id)))
        },
        move |event, data| match event {
            "log" => {
                push_line(lines, data);
                let unknown = lines
                    .with_untracked(|l| l.last().map(|l| l.execution_id))
                    .is_some_and(|e| {
                        shown.with_untracked(|d| {
                            d.as_ref()
                                .is_some_and(|d| !d.executions.iter().any(|x| x.id == e))
                        })
                    });
                if unknown {
                    detail.refetch();
                }
            }
            // The server or its executions changed: the detail brings both, and the actions.
            "server" | "end" => detail.refetch(),
            _ => {}
        },
    );
    let retry = Callback::new(move |_| detail.refetch());
    let can_operate = move || session.can(Permission::ServersOperate);

    view! {
        <section class="page">
            <A href="/servers" attr:class="back-link">
                "← Servers"
            </A>
            <LoadStates failure=failure loaded=loaded on_retry=retry />
            {move || {
                loaded
                    .get()
                    .then(|| {
                        view! {
                            <ServerHeader shown=shown detail=detail selected=selected can_operate=can_operate() />
                            <div class="grid-2">
                                <ServerFacts shown=shown />
                                <ServerLabels shown=shown detail=detail can_operate=can_operate() />
                            </div>
                            {move || {
                                can_operate()
                                    .then(|| {
                                        view! {
                                            <ServerMaintenance
                                                shown=shown
                                                on_started=Callback::new(move |execution| {
                                                    selected.set(Some(execution));
                                                    detail.refetch();
                                                })
                                            />
                                        }
                                    })
                            }}
                            <Executions shown=shown selected=selected can_operate=can_operate() />
                            <ServerLog
                                shown=shown
                                lines=lines
                                selected=selected
                                link=stream.link
                                on_retry=Callback::new(move |_| stream.restart())
                                can_operate=can_operate()
                            />
                        }
                    })
            }}
        </section>
    }
}

type Shown = Memo<Option<ServerDetail>>;

/// The maintenance card of a server that still exists; built once per server.
#[component]
fn ServerMaintenance(shown: Shown, on_started: Callback<Uuid>) -> impl IntoView {
    let server_id = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .filter(|d| {
                    !matches!(
                        d.server.status,
                        ServerStatus::Deleting | ServerStatus::Deleted
                    )
                })
                .map(|d| d.server.id)
        })
    });
    move || {
        server_id
            .get()
            .map(|id| view! { <MaintenanceCard server_id=id on_started=on_started /> })
    }
}

/// Executions with a playbook run behind them, whose page shows the recap.
fn has_run_page(kind: &str) -> bool {
    matches!(kind, "playbook" | "backup" | "system_update")
}

#[component]
fn ServerHeader(
    shown: Shown,
    detail: crate::remote::Remote<ServerDetail>,
    selected: RwSignal<Option<Uuid>>,
    can_operate: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let confirming = RwSignal::new(None::<PowerAction>);
    let confirm_error = RwSignal::new(None::<ApiErrorView>);
    let deleting = RwSignal::new(false);
    let server = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.server.clone())));
    let actions = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref()
                .map(|d| (d.power_actions.clone(), d.deletable))
                .unwrap_or_default()
        })
    });
    let power = move |action: PowerAction| {
        let Some(id) = server.with_untracked(|s| s.as_ref().map(|s| s.id)) else {
            return;
        };
        confirm_error.set(None);
        task::run(
            pending,
            async move {
                api::post::<_, Accepted>(
                    &format!("/api/servers/{id}/power"),
                    &PowerRequest { action },
                )
                .await
            },
            move |result| match result {
                Ok(a) => {
                    confirming.set(None);
                    toasts.success(format!("{} requested", power_label(action)));
                    selected.set(Some(a.execution_id));
                    detail.refetch();
                }
                Err(e) => {
                    if confirming.get_untracked().is_some() {
                        confirm_error.set(Some(e));
                    } else {
                        toasts.error(e.message());
                    }
                }
            },
        );
    };
    // Snapshot and provider backups: one click each, followed in the execution log.
    let operate = move |path: &'static str, label: &'static str| {
        let Some(id) = server.with_untracked(|s| s.as_ref().map(|s| s.id)) else {
            return;
        };
        task::run(
            pending,
            async move {
                api::post::<_, Accepted>(
                    &format!("/api/servers/{id}/{path}"),
                    &serde_json::json!({"description": "Provisio snapshot"}),
                )
                .await
            },
            move |result| match result {
                Ok(a) => {
                    toasts.success(format!("{label} requested"));
                    selected.set(Some(a.execution_id));
                    detail.refetch();
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let buttons = move || {
        let (power_actions, deletable) = actions.get();
        if !can_operate {
            return None;
        }
        let power_buttons = power_actions
            .into_iter()
            .map(|a| {
                let class = if a == PowerAction::Start {
                    "btn btn-primary"
                } else {
                    "btn btn-ghost"
                };
                view! {
                    <button
                        type="button"
                        class=class
                        data-testid=format!("power-{}", a.as_str())
                        disabled=move || pending.get()
                        on:click=move |_| {
                            if a == PowerAction::Start {
                                power(a);
                            } else {
                                confirm_error.set(None);
                                confirming.set(Some(a));
                            }
                        }
                    >
                        {power_label(a)}
                    </button>
                }
            })
            .collect_view();
        let (registered, hetzner) = server.with(|s| {
            s.as_ref()
                .map(|s| {
                    (
                        s.origin == shared::servers::ServerOrigin::Registered,
                        matches!(
                            s.provider.kind,
                            shared::providers::ProviderKind::Hetzner
                                | shared::providers::ProviderKind::TerraformHcloud
                        ),
                    )
                })
                .unwrap_or((true, false))
        });
        let extra = (deletable && !registered).then(|| {
            view! {
                <button
                    type="button"
                    class="btn btn-ghost"
                    data-testid="server-snapshot"
                    disabled=move || pending.get()
                    on:click=move |_| operate("snapshot", "Snapshot")
                >
                    "Snapshot"
                </button>
                {hetzner
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-ghost"
                                data-testid="server-backups"
                                disabled=move || pending.get()
                                on:click=move |_| operate("backups", "Backups")
                            >
                                "Enable backups"
                            </button>
                        }
                    })}
            }
        });
        Some(view! {
            {power_buttons}
            {extra}
            {deletable
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="btn btn-danger-ghost"
                            data-testid="server-delete"
                            on:click=move |_| deleting.set(true)
                        >
                            "Delete"
                        </button>
                    }
                })}
        })
    };
    view! {
        <header class="page-header">
            {move || {
                server
                    .get()
                    .map(|s| {
                        view! {
                            <div>
                                <h1>{s.name.clone()}</h1>
                                <p class="muted">
                                    <ServerBadge status=s.status />
                                    " "
                                    <span class="badge badge-muted">{s.origin.as_str()}</span>
                                    " On " {s.provider.name.clone()} " for " {s.team.name.clone()}
                                </p>
                            </div>
                        }
                    })
            }}
            <div class="actions">{buttons}</div>
        </header>
        {move || {
            confirming
                .get()
                .zip(server.get())
                .map(|(action, s)| {
                    let (title, message) = match action {
                        PowerAction::Stop => (
                            format!("Stop {}?", s.name),
                            "The server shuts down; what runs on it is unreachable until it is started again.",
                        ),
                        _ => (
                            format!("Reboot {}?", s.name),
                            "The server restarts; what runs on it is briefly unreachable.",
                        ),
                    };
                    view! {
                        <ConfirmDialog
                            title=title
                            message=message
                            confirm_label=power_label(action)
                            on_confirm=move |_| power(action)
                            on_cancel=move |_| confirming.set(None)
                            pending=pending
                            error=confirm_error
                        />
                    }
                })
        }}
        {move || {
            deleting
                .get()
                .then(|| server.get_untracked())
                .flatten()
                .map(|s| {
                    view! {
                        <DeleteDialog
                            server=s
                            on_done=move |a: Accepted| {
                                deleting.set(false);
                                toasts.success("Deletion started");
                                selected.set(Some(a.execution_id));
                                detail.refetch();
                            }
                            on_cancel=move |_| deleting.set(false)
                        />
                    }
                })
        }}
    }
}

#[component]
fn DeleteDialog(
    server: Server,
    #[prop(into)] on_done: Callback<Accepted>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let confirm = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let id = server.id;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        let body = DeleteServer {
            confirm_name: confirm.get_untracked().trim().to_owned(),
        };
        task::run(
            pending,
            async move { api::delete_with::<_, Accepted>(&format!("/api/servers/{id}"), &body).await },
            move |result| match result {
                Ok(a) => on_done.run(a),
                Err(e) => banner.set(apply_problem(&e, errors, &["confirm_name"])),
            },
        );
    };
    view! {
        <Modal title=format!("Delete {}", server.name) on_close=on_cancel>
            <form class="form" data-testid="delete-form" on:submit=on_submit novalidate>
                <p class="confirm-text">
                    "This destroys the server at " {server.provider.name.clone()}
                    " with its disks. It cannot be undone. Type "
                    <strong class="mono">{server.name.clone()}</strong> " to confirm."
                </p>
                <FormBanner banner=banner />
                <TextField
                    id="delete-confirm"
                    label="Server name"
                    value=confirm
                    errors=errors
                    field="confirm_name"
                    autocomplete="off"
                />
                <div class="form-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="btn btn-danger" disabled=move || pending.get()>
                        {move || if pending.get() { "Deleting…" } else { "Delete server" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn ServerFacts(shown: Shown) -> impl IntoView {
    let server = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.server.clone())));
    let fact = |label: &'static str, value: String| {
        view! {
            <dt>{label}</dt>
            <dd>{value}</dd>
        }
    };
    let dash = |v: &str| {
        if v.is_empty() {
            "—".to_string()
        } else {
            v.to_owned()
        }
    };
    move || {
        server.get().map(|s| {
            let address = s.ipv4.clone().or(s.ipv6.clone());
            let ssh = match &address {
                Some(a) if a.contains(':') => format!("{}@[{a}]:{}", s.ssh_user, s.ssh_port),
                Some(a) => format!("{}@{a}:{}", s.ssh_user, s.ssh_port),
                None => format!("{} (port {})", s.ssh_user, s.ssh_port),
            };
            view! {
                <div class="card">
                    <h2 class="card-title">"Details"</h2>
                    <dl class="details details-wide">
                        {fact("Provider", format!("{} ({})", s.provider.name, s.provider.kind.as_str()))}
                        <dt>"Provider id"</dt>
                        <dd class="mono">{dash(&s.provider_id)}</dd>
                        <dt>"IPv4"</dt>
                        <dd class="mono" data-testid="server-ipv4">
                            {s.ipv4.clone().unwrap_or_else(|| "—".into())}
                        </dd>
                        <dt>"IPv6"</dt>
                        <dd class="mono">{s.ipv6.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"SSH"</dt>
                        <dd class="mono">{ssh}</dd>
                        <dt>"Host key"</dt>
                        <dd class="mono" data-testid="server-host-key">
                            {s.host_key_fingerprint.clone().unwrap_or_else(|| "not pinned yet".into())}
                        </dd>
                        {fact("Size", server_size(s.cpu, s.ram_mb, s.disk_gb))}
                        {fact("Location", dash(&s.location))}
                        {fact("Image", dash(&s.image))}
                        {fact("Origin", s.origin.as_str().to_owned())}
                        {s
                            .request_id
                            .map(|r| {
                                view! {
                                    <dt>"Request"</dt>
                                    <dd>
                                        <A href=format!("/requests/{r}")>"View request"</A>
                                    </dd>
                                }
                            })}
                        {fact("Created", datetime(&s.created_at))}
                        {fact("Updated", datetime(&s.updated_at))}
                        {fact(
                            "Last synced",
                            s.last_synced_at.as_ref().map(datetime).unwrap_or_else(|| "never".into()),
                        )}
                    </dl>
                </div>
            }
        })
    }
}

#[component]
fn ServerLabels(
    shown: Shown,
    detail: crate::remote::Remote<ServerDetail>,
    can_operate: bool,
) -> impl IntoView {
    let labels = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().map(|d| {
                let gone = matches!(
                    d.server.status,
                    ServerStatus::Deleting | ServerStatus::Deleted
                );
                (d.server.labels.clone(), can_operate && !gone)
            })
        })
    });
    // Rebuilt only when the stored labels change, so typing survives live updates.
    move || {
        labels.get().map(|(l, editable)| {
            if editable {
                view! { <LabelsForm labels=l detail=detail /> }.into_any()
            } else {
                view! {
                    <div class="card">
                        <h2 class="card-title">"Labels"</h2>
                        {if l.is_empty() {
                            view! { <p class="muted">"No labels."</p> }.into_any()
                        } else {
                            label_chips(&l).into_any()
                        }}
                    </div>
                }
                .into_any()
            }
        })
    }
}

#[component]
fn LabelsForm(
    labels: BTreeMap<String, String>,
    detail: crate::remote::Remote<ServerDetail>,
) -> impl IntoView {
    let toasts = use_toasts();
    let rows = RwSignal::new(pair_rows(&labels));
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = detail.loaded_untracked().map(|d| d.server.id) else {
            return;
        };
        banner.set(None);
        let body = match rows_to_pairs(&rows.get_untracked(), "label") {
            Ok(labels) => UpdateServerLabels { labels },
            Err(m) => {
                errors.set(FieldErrors::from([("labels".to_string(), vec![m])]));
                return;
            }
        };
        if let Err(e) = body.validate() {
            errors.set(e);
            return;
        }
        errors.set(FieldErrors::new());
        task::run(
            pending,
            async move { api::put::<_, Server>(&format!("/api/servers/{id}/labels"), &body).await },
            move |result| match result {
                Ok(server) => {
                    toasts.success("Labels saved");
                    if let Some(mut d) = detail.loaded_untracked() {
                        d.server = server;
                        detail.set(d);
                    }
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["labels"])),
            },
        );
    };
    view! {
        <form class="card form" data-testid="labels-form" on:submit=on_submit novalidate>
            <h2 class="card-title">"Labels"</h2>
            <FormBanner banner=banner />
            <RowsEditor
                legend="Key and value"
                columns=LABEL_COLUMNS
                rows=rows
                errors=errors
                field="labels"
                add_label="Add label"
                hint="Letters, digits, - _ . and /; up to 63 characters each."
            />
            <FormActions pending=pending label="Save labels" busy="Saving…" />
        </form>
    }
}

#[component]
fn Executions(shown: Shown, selected: RwSignal<Option<Uuid>>, can_operate: bool) -> impl IntoView {
    let executions = Memo::new(move |_| {
        shown.with(|d| d.as_ref().map(|d| d.executions.clone()).unwrap_or_default())
    });
    view! {
        <div class="card">
            <h2 class="card-title">"Executions"</h2>
            {move || {
                let list = executions.get();
                if list.is_empty() {
                    return view! { <p class="muted">"Nothing has run on this server yet."</p> }.into_any();
                }
                view! {
                    <DataTable columns=&[
                            Col::Text("Kind"), Col::Text("Status"), Col::Text("Step"),
                            Col::Text("Started"), Col::Text("Finished"), Col::Text("Error")
                        ] compact=true flat=true testid="executions-table">
                        {list.into_iter().map(|e| execution_row(e, selected, can_operate)).collect_view()}
                    </DataTable>
                }
                    .into_any()
            }}
        </div>
    }
}

fn execution_row(
    e: Execution,
    selected: RwSignal<Option<Uuid>>,
    can_operate: bool,
) -> impl IntoView {
    let id = e.id;
    let cancellable = can_operate && !e.status.is_finished();
    let is_selected = move || selected.get() == Some(id);
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| match t {
        Some(t) => view! { <span title=datetime(&t)>{relative(&t)}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    };
    view! {
        <tr
            data-testid="execution-row"
            data-id=id.to_string()
            class=move || if is_selected() { "row-selected" } else { "" }
        >
            <td>
                <button
                    type="button"
                    class="link-button"
                    aria-pressed=move || if is_selected() { "true" } else { "false" }
                    title="Show its log"
                    on:click=move |_| {
                        selected.update(|s| *s = if *s == Some(id) { None } else { Some(id) });
                    }
                >
                    {e.kind.clone()}
                </button>
                {has_run_page(&e.kind)
                    .then(|| {
                        view! {
                            " "
                            <A href=format!("/runs/{id}") attr:class="small" attr:data-testid="execution-run-link">
                                "Run details"
                            </A>
                        }
                    })}
            </td>
            <td>
                <ExecutionBadge status=e.status />
            </td>
            <td>{e.step.unwrap_or_else(|| "—".into())}</td>
            <td>{when(e.started_at)}</td>
            <td>{when(e.finished_at)}</td>
            <td class="cell-error">
                {e.error.unwrap_or_default()}
                {cancellable
                    .then(|| view! { <CancelExecution id=id testid="execution-cancel" /> })}
            </td>
        </tr>
    }
}

#[component]
fn ServerLog(
    shown: Shown,
    lines: RwSignal<Vec<LogLine>>,
    selected: RwSignal<Option<Uuid>>,
    link: RwSignal<Link>,
    on_retry: Callback<()>,
    can_operate: bool,
) -> impl IntoView {
    let toasts = use_toasts();
    let cancelling = RwSignal::new(false);
    let execution = Memo::new(move |_| {
        let id = selected.get()?;
        shown.with(|d| {
            d.as_ref()
                .and_then(|d| d.executions.iter().find(|e| e.id == id).cloned())
        })
    });
    let visible = Signal::derive(move || match selected.get() {
        None => lines.get(),
        Some(id) => lines.with(|all| {
            all.iter()
                .filter(|l| l.execution_id == id)
                .cloned()
                .collect()
        }),
    });
    let title = Signal::derive(move || match (selected.get(), execution.get()) {
        (None, _) => "Activity".to_string(),
        (Some(_), Some(e)) => format!("Log: {} · {}", e.kind, e.status.as_str()),
        (Some(_), None) => "Log".to_string(),
    });
    let cancel = move |_| {
        let Some(id) = selected.get_untracked() else {
            return;
        };
        task::run(
            cancelling,
            async move { api::post_bare(&format!("/api/executions/{id}/cancel")).await },
            move |result| match result {
                Ok(()) => toasts.success("Cancellation requested"),
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let actions: ChildrenFn = std::sync::Arc::new(move || {
        view! {
            {move || {
                let running = execution.with(|e| e.as_ref().is_some_and(|e| !e.status.is_finished()));
                (can_operate && running)
                    .then(|| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-danger-ghost btn-sm"
                                disabled=move || cancelling.get()
                                on:click=cancel
                            >
                                "Cancel execution"
                            </button>
                        }
                    })
            }}
            {move || {
                selected
                    .get()
                    .is_some()
                    .then(|| {
                        view! {
                            <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| selected.set(None)>
                                "All activity"
                            </button>
                        }
                    })
            }}
        }
        .into_any()
    });
    view! {
        <LogPanel
            lines=visible
            link=link
            title=title
            empty="No activity yet. Power actions and deletions log here."
            on_retry=on_retry
            actions=actions
        />
    }
}
