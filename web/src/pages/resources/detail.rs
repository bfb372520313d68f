//! One resource: where it stands, how to reach it (the password only after "Reveal", which is
//! audited), the recipe's live log while it runs, and the actions its status and the viewer's
//! permissions allow: approve or reject, set it up by hand, rotate, retry, delete (its name
//! typed again).

use super::backups::BackupsCard;
use super::resize::ResizeForm;
use super::ResourceStatusBadge;
use crate::api::{self, ApiErrorView};
use crate::components::feedback::{use_toasts, Alert, ErrorBanner, SkeletonRows};
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, TextArea, TextField,
};
use crate::components::log_panel::{push_line, LogPanel};
use crate::components::modal::Modal;
use crate::format::{datetime, person};
use crate::live::follow;
use crate::pages::tokens::clipboard_write_text;
use crate::remote::{poll, remote, use_route_id, Remote};
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::resources::{FulfilResource, Provisioning, Resource, ResourceSecret, ResourceStatus};
use shared::servers::LogLine;
use shared::validation::FieldErrors;
use shared::Permission;

fn running(status: ResourceStatus) -> bool {
    matches!(
        status,
        ResourceStatus::Provisioning | ResourceStatus::Updating | ResourceStatus::Deleting
    )
}

#[component]
pub fn ResourcePage() -> impl IntoView {
    let id = use_route_id();
    let resource = remote::<Resource>(move || format!("/api/resources/{}", api::encode(&id.get())));
    let shown = Memo::new(move |_| resource.get());
    let retry = Callback::new(move |_| resource.refetch());
    let execution = Memo::new(move |_| match shown.get() {
        Some(Ok(r)) => r.execution_id.map(|e| (e, running(r.status))),
        _ => None,
    });
    let lines = RwSignal::new(Vec::<LogLine>::new());
    Effect::new(move |prev: Option<Option<uuid::Uuid>>| {
        let current = execution.get().map(|(e, _)| e);
        if prev.is_some_and(|p| p != current) {
            lines.set(Vec::new());
        }
        current
    });
    let stream = follow(
        move || {
            execution
                .get()
                .map(|(e, _)| format!("/api/executions/{e}/events"))
        },
        move |event, data| match event {
            "log" => push_line(lines, data),
            "execution" | "end" => resource.refetch(),
            _ => {}
        },
    );
    // The recipe's end moves the resource in the same transaction as its last line; a poll
    // catches it should the stream be down.
    poll(resource, 3, |r| {
        r.loaded_untracked().is_some_and(|r| running(r.status))
    });
    view! {
        <section class="page">
            <A href="/resources" attr:class="back-link">
                "← Resources"
            </A>
            {move || match shown.get() {
                None => view! { <SkeletonRows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(r)) => view! { <Detail r=r remote=resource /> }.into_any(),
            }}
            {move || {
                execution
                    .get()
                    .map(|(_, live)| {
                        view! {
                            <LogPanel
                                lines=lines
                                link=stream.link
                                title=Signal::derive(move || {
                                    if live { "Recipe (running)".to_string() } else { "Recipe, last run".to_string() }
                                })
                                empty="The recipe has not written anything yet."
                                on_retry=Callback::new(move |_| stream.restart())
                            />
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn Detail(r: Resource, remote: Remote<Resource>) -> impl IntoView {
    let toasts = use_toasts();
    let session = use_session();
    let pending = RwSignal::new(false);
    let revealed = RwSignal::new(None::<ResourceSecret>);
    let rejecting = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let id = r.id;
    let act = move |action: &'static str, done: &'static str| {
        let url = format!("/api/resources/{id}/{action}");
        task::run(
            pending,
            async move { api::post_empty::<Resource>(&url).await },
            move |result: Result<Resource, ApiErrorView>| match result {
                Ok(r) => {
                    toasts.success(format!("{} {done}", r.name));
                    revealed.set(None);
                    remote.set(r);
                }
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let reveal = move |_| {
        let url = format!("/api/resources/{id}/reveal");
        task::run(
            pending,
            async move { api::post_empty::<ResourceSecret>(&url).await },
            move |result| match result {
                Ok(secret) => revealed.set(Some(secret)),
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    let status = r.status;
    let recipe = r.resource_type.provisioning == Provisioning::Recipe;
    let own = session
        .me
        .with_untracked(|m| m.as_ref().is_some_and(|m| m.id == r.requested_by.id));
    let fulfils = session.can(Permission::ResourcesFulfil);
    let reveals = session.can(Permission::ResourceSecretsReveal) && r.has_secret;
    let operates = own || fulfils || session.can(Permission::UsersManage);
    let may_cancel = (own || session.can(Permission::RequestsApprove))
        && matches!(
            status,
            ResourceStatus::Pending | ResourceStatus::AwaitingFulfilment
        );
    let button =
        |label: &'static str, class: &'static str, testid: &'static str| (label, class, testid);
    let mut buttons = Vec::new();
    if r.may_approve {
        buttons.push((
            button("Approve", "btn btn-primary", "resource-approve"),
            "approve",
            "approved",
        ));
    }
    if status.is_usable() && reveals {
        buttons.push((
            button("Reveal the password", "btn btn-primary", "resource-reveal"),
            "",
            "",
        ));
    }
    if status == ResourceStatus::Ready && recipe && session.can(Permission::ResourceSecretsReveal) {
        buttons.push((
            button("New password", "btn btn-ghost", "resource-rotate"),
            "rotate",
            "gets a new password",
        ));
    }
    if status == ResourceStatus::Failed && recipe && operates {
        buttons.push((
            button("Try again", "btn btn-primary", "resource-retry"),
            "retry",
            "is being set up again",
        ));
    }
    if may_cancel {
        buttons.push((
            button("Cancel the request", "btn btn-ghost", "resource-cancel"),
            "cancel",
            "cancelled",
        ));
    }
    let buttons = buttons
        .into_iter()
        .map(|((label, class, testid), action, done)| {
            view! {
                <button
                    type="button"
                    class=class
                    data-testid=testid
                    disabled=move || pending.get()
                    on:click=move |ev| {
                        if action.is_empty() {
                            reveal(ev);
                        } else {
                            act(action, done);
                        }
                    }
                >
                    {label}
                </button>
            }
        })
        .collect_view();
    let rejects = r.may_approve;
    let deletes = operates && matches!(status, ResourceStatus::Ready | ResourceStatus::Failed);
    let fact = |label: &'static str, value: String| {
        view! {
            <dt>{label}</dt>
            <dd>{value}</dd>
        }
    };
    let settings = r
        .parameters
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} = {}",
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let waiting = match status {
        ResourceStatus::Pending => Some(format!(
            "Waiting for step {} of the team's approval policy.",
            r.policy_step + 1
        )),
        ResourceStatus::AwaitingFulfilment if fulfils => Some(
            "Approved. Set it up by hand, then enter how to reach it below: the requester is told at once."
                .to_string(),
        ),
        ResourceStatus::AwaitingFulfilment => {
            Some("Approved: a technical agent of the team sets it up by hand.".to_string())
        }
        ResourceStatus::Provisioning => {
            Some("The recipe is setting it up; its log follows below.".to_string())
        }
        _ => None,
    };
    let name = r.name.clone();
    let backs_up = r.backups_supported;
    let fulfil_form = (fulfils && matches!(status, ResourceStatus::AwaitingFulfilment)
        || (fulfils && !recipe && status == ResourceStatus::Ready))
        .then(|| view! { <FulfilForm remote=remote again=status == ResourceStatus::Ready /> });
    view! {
        <header class="page-header">
            <div>
                <h1>{r.name.clone()}</h1>
                <p class="muted">
                    <ResourceStatusBadge status=status />
                    " " {r.resource_type.name.clone()} " for " {r.team.name.clone()} ", asked by "
                    {person(&r.requested_by)}
                </p>
            </div>
            <div class="actions">
                {buttons}
                {rejects.then(|| view! {
                    <button type="button" class="btn btn-danger" on:click=move |_| rejecting.set(true)>
                        "Reject"
                    </button>
                })}
                {deletes.then(|| view! {
                    <button
                        type="button"
                        class="btn btn-danger-ghost"
                        data-testid="resource-delete"
                        on:click=move |_| deleting.set(true)
                    >
                        "Delete…"
                    </button>
                })}
            </div>
        </header>
        {waiting.map(|m| view! { <p class="muted" role="status" data-testid="resource-waiting">{m}</p> })}
        {r.rejection_reason.clone().map(|m| view! { <Alert message=format!("Rejected: {m}") kind="warning" /> })}
        {r.error.clone().map(|m| view! { <Alert message=format!("The recipe failed: {m}") /> })}
        {move || revealed.get().map(|s| view! { <SecretPanel secret=s on_hide=move |_| revealed.set(None) /> })}
        <div class="grid-2">
            <div class="card">
                <h2 class="card-title">"How to reach it"</h2>
                {match r.connection.clone() {
                    Some(c) => view! {
                        <p class="mono small" data-testid="resource-connection">{c}</p>
                        <p class="muted small">
                            {if reveals { "The password is left out: “Reveal the password” shows it, and the reveal is recorded in the audit log." } else { "The password is left out." }}
                        </p>
                    }.into_any(),
                    None => view! { <p class="muted">"Nothing to connect to yet."</p> }.into_any(),
                }}
                <dl class="details">
                    {r.host.clone().map(|h| fact("Host", h))}
                    {r.port.map(|p| fact("Port", p.to_string()))}
                    {r.database.clone().map(|d| fact("Database", d))}
                    {r.username.clone().map(|u| fact("User", u))}
                </dl>
            </div>
            <div class="card">
                <h2 class="card-title">"Details"</h2>
                <dl class="details">
                    {fact("Type", format!("{} ({})", r.resource_type.name, if recipe { "set up by Provisio" } else { "set up by hand" }))}
                    {match (r.server.clone(), r.server_request.clone()) {
                        (Some(s), _) => fact("Server", s.name).into_any(),
                        (None, Some(q)) => view! {
                            <dt>"Server"</dt>
                            <dd data-testid="resource-server-request">
                                {format!("{}, a new server (request {}): ", q.hostname, q.status.as_str())}
                                <a href=format!("/requests/{}", q.id)>"its request"</a>
                            </dd>
                        }.into_any(),
                        (None, None) => fact("Server", "—".into()).into_any(),
                    }}
                    {(!settings.is_empty()).then(|| fact("Settings", settings.clone()))}
                    {fact("Purpose", r.purpose.clone())}
                    {fact("Asked", datetime(&r.created_at))}
                    {fact("Changed", datetime(&r.updated_at))}
                </dl>
            </div>
        </div>
        {(r.backups_supported && operates && status.is_usable()).then(|| {
            let resource = r.clone();
            view! { <BackupsCard resource=resource remote_resource=remote /> }
        })}
        {(recipe && operates && status == ResourceStatus::Ready).then(|| {
            let resource = r.clone();
            view! { <ResizeForm resource=resource remote_resource=remote /> }
        })}
        {fulfil_form}
        {move || rejecting.get().then(|| view! {
            <OneFieldDialog
                remote=remote
                title="Reject the request"
                action="reject"
                field="reason"
                label="Reason (the requester reads it)"
                submit="Reject"
                busy="Rejecting…"
                done="rejected"
                on_close=move |_| rejecting.set(false)
            />
        })}
        {move || deleting.get().then(|| view! {
            <OneFieldDialog
                remote=remote
                title=format!("Delete {name}")
                intro=if recipe {
                    "The recipe drops it and all its data from the server. This cannot be undone."
                } else {
                    "It is marked deleted and its stored password forgotten; a technical agent removes it from where it runs."
                }
                final_backup=backs_up
                action="delete"
                field="confirm"
                label="Type its name to confirm"
                submit="Delete it and its data"
                busy="Deleting…"
                done="is being deleted"
                on_close=move |_| deleting.set(false)
            />
        })}
    }
}

/// The revealed password and the connection with it, with copy buttons; hidden again on demand.
#[component]
fn SecretPanel(secret: ResourceSecret, #[prop(into)] on_hide: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let copy = move |text: String| copied.set(Some(clipboard_write_text(&text).is_ok()));
    let password = secret.secret.clone();
    let connection = secret.connection.clone();
    view! {
        <div class="secret-box" role="region" aria-labelledby="resource-secret-title" data-testid="resource-secret">
            <h2 id="resource-secret-title">"Password"</h2>
            <p>"This reveal is in the audit log. Keep the password in your password manager or your app's secrets."</p>
            <div class="secret-row">
                <label for="resource-password" class="sr-only">"Password"</label>
                <input id="resource-password" class="mono" readonly=true prop:value=secret.secret.clone() />
                <button type="button" class="btn btn-primary" on:click=move |_| copy(password.clone())>"Copy"</button>
            </div>
            {connection.map(|c| {
                let shown = c.clone();
                view! {
                    <div class="secret-row">
                        <label for="resource-connection-full" class="sr-only">"Connection with the password"</label>
                        <input id="resource-connection-full" class="mono" readonly=true prop:value=shown data-testid="resource-connection-full" />
                        <button type="button" class="btn btn-ghost" on:click=move |_| copy(c.clone())>"Copy"</button>
                    </div>
                }
            })}
            {secret.env_var.map(|v| view! { <p class="muted small">{format!("A deployment bound to it receives this as {v}.")}</p> })}
            <div class="secret-row">
                <button type="button" class="btn btn-ghost" on:click=move |_| on_hide.run(())>"Hide"</button>
            </div>
            {move || copied.get().map(|ok| if ok {
                view! { <p class="copy-hint ok" role="status">"Copied to the clipboard."</p> }.into_any()
            } else {
                view! { <p class="copy-hint" role="status">"Your browser blocked the clipboard: select the text and press Ctrl+C (⌘C)."</p> }.into_any()
            })}
        </div>
    }
}

/// A technical agent enters how to reach a resource set up by hand (again: a new password).
#[component]
fn FulfilForm(remote: Remote<Resource>, again: bool) -> impl IntoView {
    let toasts = use_toasts();
    let host = RwSignal::new(String::new());
    let port = RwSignal::new(String::new());
    let database = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = remote.loaded_untracked().map(|r| r.id) else {
            return;
        };
        let typed_port = port.get_untracked().trim().to_owned();
        let port = if typed_port.is_empty() {
            None
        } else {
            match typed_port.parse::<u16>() {
                Ok(p) => Some(p),
                Err(_) => {
                    errors.set(FieldErrors::from([(
                        "port".to_string(),
                        vec!["must be 1 to 65535".to_string()],
                    )]));
                    return;
                }
            }
        };
        let typed_secret = secret.get_untracked();
        let body = FulfilResource {
            host: host.get_untracked().trim().to_owned(),
            port,
            database: database.get_untracked().trim().to_owned(),
            username: username.get_untracked().trim().to_owned(),
            secret: (!typed_secret.is_empty()).then_some(typed_secret),
        };
        if let Err(problems) = body.validate() {
            errors.set(problems);
            return;
        }
        task::run(
            pending,
            async move { api::post::<_, Resource>(&format!("/api/resources/{id}/fulfil"), &body).await },
            move |result| match result {
                Ok(r) => {
                    toasts.success(format!("{} is ready", r.name));
                    secret.set(String::new());
                    remote.set(r);
                }
                Err(e) => banner.set(apply_problem(
                    &e,
                    errors,
                    &["host", "port", "database", "username", "secret"],
                )),
            },
        );
    };
    view! {
        <form class="card form" on:submit=on_submit novalidate data-testid="fulfil-form">
            <h2 class="card-title">{if again { "Enter new connection details" } else { "Set it up by hand, then enter how to reach it" }}</h2>
            <FormBanner banner=banner />
            <TextField id="fulfil-host" label="Host" value=host errors=errors field="host" required=true hint="The address the team connects to." />
            <TextField id="fulfil-port" label="Port" value=port errors=errors field="port" kind="number" />
            <TextField id="fulfil-database" label="Database, pool or export" value=database errors=errors field="database" />
            <TextField id="fulfil-username" label="User" value=username errors=errors field="username" />
            <TextField
                id="fulfil-secret"
                label="Password or key"
                value=secret
                errors=errors
                field="secret"
                kind="password"
                autocomplete="new-password"
                hint="Sealed at rest; shown only by an audited reveal. Leave empty to keep the stored one."
            />
            <FormActions pending=pending label="Mark it ready" busy="Saving…" testid="fulfil-submit" />
        </form>
    }
}

/// A dialog of one field that posts `{field: text}` to the resource's `action`: the reason of a
/// rejection, the name typed again to delete it.
#[component]
fn OneFieldDialog(
    remote: Remote<Resource>,
    #[prop(into)] title: String,
    #[prop(optional)] intro: Option<&'static str>,
    /// Offers to decline the last backup taken before deletion (sent as `final_backup`).
    #[prop(optional)]
    final_backup: bool,
    action: &'static str,
    field: &'static str,
    label: &'static str,
    submit: &'static str,
    busy: &'static str,
    /// What the toast says happened, after the resource's name.
    done: &'static str,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let text = RwSignal::new(String::new());
    let keep_backup = RwSignal::new(true);
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = remote.loaded_untracked().map(|r| r.id) else {
            return;
        };
        let mut body = serde_json::json!({ field: text.get_untracked().trim() });
        if final_backup {
            body["final_backup"] = serde_json::json!(keep_backup.get_untracked());
        }
        task::run(
            pending,
            async move {
                api::post::<_, Resource>(&format!("/api/resources/{id}/{action}"), &body).await
            },
            move |result| match result {
                Ok(r) => {
                    toasts.success(format!("{} {done}", r.name));
                    remote.set(r);
                    on_close.run(());
                }
                Err(e) => banner.set(apply_problem(&e, errors, &[field])),
            },
        );
    };
    let input_id = format!("resource-{action}-{field}");
    let input = if field == "reason" {
        view! { <TextArea id="resource-reject-reason" label=label value=text errors=errors field=field /> }.into_any()
    } else {
        view! { <TextField id="resource-delete-confirm" label=label value=text errors=errors field=field /> }.into_any()
    };
    view! {
        <Modal title=title on_close=on_close>
            <form class="form" on:submit=on_submit novalidate data-testid=input_id>
                {intro.map(|m| view! { <p class="confirm-text">{m}</p> })}
                <FormBanner banner=banner />
                {input}
                {final_backup.then(|| view! {
                    <label class="check check-field" for="resource-final-backup">
                        <input
                            type="checkbox"
                            id="resource-final-backup"
                            prop:checked=move || keep_backup.get()
                            on:change=move |ev| keep_backup.set(event_target_checked(&ev))
                        />
                        "Take a last backup first (it stays on the server)"
                    </label>
                })}
                <FormActions pending=pending label=submit busy=busy on_cancel=on_close />
            </form>
        </Modal>
    }
}
