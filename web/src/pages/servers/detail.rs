//! A server's page: its header and actions, facts, labels, maintenance, executions and log.

use super::executions::{Executions, ServerLog};
use super::header::ServerHeader;
use super::labels::ServerLabels;
use crate::api;
use crate::components::feedback::LoadStates;
use crate::components::log_panel::push_line;
use crate::format::{datetime, server_size};
use crate::live::follow;
use crate::pages::maintenance::MaintenanceCard;
use crate::remote::{failure_of, remote, use_route_id};
use crate::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::roles::Permission;
use shared::servers::{LogLine, ServerDetail, ServerStatus};
use uuid::Uuid;

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

pub(super) type Shown = Memo<Option<ServerDetail>>;

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
