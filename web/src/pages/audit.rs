//! The audit log: who did what, when and from where, with the recorded before/after state.

use crate::api;
use crate::components::feedback::{use_toasts, Empty, ErrorBanner, SkeletonRows};
use crate::components::pager::Pager;
use crate::format::{datetime, person};
use crate::remote::remote;
use crate::task;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use shared::audit::FieldChange;
use shared::dto::Page;
use shared::requests::UserRef;

/// `shared::audit::AuditEvent` as the web app reads it: the before/after states stay raw
/// JSON text, so the bundle needs no `serde_json::Value` (and no float parsing).
#[derive(Clone, Deserialize)]
pub struct AuditRow {
    pub at: DateTime<Utc>,
    pub actor: Option<UserRef>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub before: Option<Box<RawValue>>,
    pub after: Option<Box<RawValue>>,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub target_name: Option<String>,
    #[serde(default)]
    pub target_link: Option<String>,
    #[serde(default)]
    pub changes: Vec<FieldChange>,
}

const PER_PAGE: u64 = 50;

/// The first block of a UUID, enough to tell rows apart on screen.
fn short_id(id: &str) -> String {
    id.split('-').next().unwrap_or(id).to_owned()
}

fn json(v: &Option<Box<RawValue>>) -> String {
    v.as_ref()
        .map(|v| v.get().to_owned())
        .unwrap_or_else(|| "—".into())
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let toasts = use_toasts();
    let action = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());
    // The filters apply on submit; the page changes at once.
    let applied = RwSignal::new(Vec::<(&'static str, String)>::new());
    let page = RwSignal::new(1u64);
    let exporting = RwSignal::new(false);

    let filters = move || {
        let day = |s: String, time: &str| {
            if s.is_empty() {
                s
            } else {
                format!("{s}T{time}Z")
            }
        };
        vec![
            ("action", action.get_untracked().trim().to_owned()),
            ("target_type", target.get_untracked().trim().to_owned()),
            ("from", day(from.get_untracked(), "00:00:00")),
            ("to", day(to.get_untracked(), "23:59:59")),
        ]
    };
    let events = remote::<Page<AuditRow>>(move || {
        let mut q = applied.get();
        q.push(("page", page.get().to_string()));
        q.push(("per_page", PER_PAGE.to_string()));
        api::with_query("/api/audit", &q)
    });
    let retry = Callback::new(move |_| events.refetch());
    let export = move |_| {
        let url = api::with_query("/api/audit/export.csv", &applied.get_untracked());
        task::run(
            exporting,
            async move { api::get_text(&url).await },
            move |result| match result {
                Ok(csv) => {
                    if let Err(e) = crate::components::download::offer_file(
                        "audit.csv",
                        "text/csv;charset=utf-8",
                        &csv,
                    ) {
                        toasts.error(e);
                    }
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };

    let input =
        |id: &'static str, label: &'static str, kind: &'static str, sig: RwSignal<String>| {
            view! {
                <div class="field field-inline">
                    <label for=id>{label}</label>
                    <input id=id type=kind bind:value=sig />
                </div>
            }
        };

    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Audit log"</h1>
                    <p class="muted">"Every change made through Provisio, newest first."</p>
                </div>
                <button type="button" class="btn btn-ghost" on:click=export disabled=move || exporting.get()>
                    "Export CSV"
                </button>
            </header>
            <form
                class="toolbar"
                role="search"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    applied.set(filters());
                    page.set(1);
                }
            >
                {input("audit-action", "Action", "search", action)}
                {input("audit-target", "Target type", "search", target)}
                {input("audit-from", "From", "date", from)}
                {input("audit-to", "To", "date", to)}
                <button type="submit" class="btn btn-primary btn-sm">
                    "Filter"
                </button>
            </form>
            {move || match events.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(p)) if p.items.is_empty() => {
                    view! { <Empty title="No audit events match" hint="Try other filters." /> }.into_any()
                }
                Some(Ok(p)) => {
                    let (total, per_page) = (p.total, p.per_page);
                    let rows = p
                        .items
                        .into_iter()
                        .map(|e| {
                            let has_state = e.before.is_some() || e.after.is_some();
                            let (before, after) = (json(&e.before), json(&e.after));
                            // The target by the name it had, linked to its page; the id stays
                            // readable for searching.
                            let kind = e.target_type.replace('_', " ");
                            let label = e
                                .target_name
                                .clone()
                                .or_else(|| e.target_id.as_ref().map(|id| short_id(id)))
                                .unwrap_or_default();
                            let title = e.target_id.clone().unwrap_or_default();
                            let target = match e.target_link.clone() {
                                Some(href) if !label.is_empty() => view! { <a href=href title=title>{label}</a> }.into_any(),
                                _ => view! { <span title=title>{label}</span> }.into_any(),
                            };
                            let changes = (!e.changes.is_empty()).then(|| {
                                view! {
                                    <ul class="audit-changes" data-testid="audit-changes">
                                        {e.changes
                                            .into_iter()
                                            .map(|c| {
                                                view! {
                                                    <li>
                                                        <span class="audit-field">{c.field}</span>": "
                                                        <span class="audit-before">{c.before.unwrap_or_else(|| "—".into())}</span>
                                                        " → "
                                                        <span class="audit-after">{c.after.unwrap_or_else(|| "—".into())}</span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                            });
                            view! {
                                <tr data-testid="audit-row">
                                    <td class="nowrap">{datetime(&e.at)}</td>
                                    <td>{e.actor.as_ref().map(person).unwrap_or_else(|| "—".into())}</td>
                                    <td>
                                        <span data-testid="audit-summary">{e.summary}</span>
                                        <span class="mono small muted audit-code">{e.action}</span>
                                    </td>
                                    <td class="cell-desc">
                                        <span class="muted small">{kind}" "</span>
                                        {target}
                                    </td>
                                    <td class="cell-desc">
                                        {changes}
                                        {has_state
                                            .then(|| {
                                                view! {
                                                    <details class="audit-state">
                                                        <summary>"Recorded state"</summary>
                                                        <p class="small muted">"Before"</p>
                                                        <pre>{before}</pre>
                                                        <p class="small muted">"After"</p>
                                                        <pre>{after}</pre>
                                                    </details>
                                                }
                                            })}
                                    </td>
                                    <td class="mono small">{e.ip.unwrap_or_default()}</td>
                                    <td class="mono small">{e.request_id.unwrap_or_default()}</td>
                                </tr>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="table-wrap">
                            <table class="table table-compact">
                                <thead>
                                    <tr>
                                        <th scope="col">"Time"</th>
                                        <th scope="col">"Who"</th>
                                        <th scope="col">"What"</th>
                                        <th scope="col">"On"</th>
                                        <th scope="col">"Changes"</th>
                                        <th scope="col">"IP"</th>
                                        <th scope="col">"Request id"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                        <Pager page=page total=total per_page=per_page noun=("event", "events") />
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
