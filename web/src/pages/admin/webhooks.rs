//! Notifications beyond the bell: the e-mail channel as the server runs it, the webhooks
//! notifications are posted to, and their last deliveries.

use super::AdminHeader;
use crate::api;
use crate::components::feedback::{use_toasts, Empty};
use crate::components::form::{apply_problem, Errors, FormActions, FormBanner, TextField};
use crate::components::list::loaded_list;
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{date, datetime, status_label};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::notifications::{CreateWebhook, Delivery, Webhook};
use shared::settings::ServerSettings;
use shared::validation::FieldErrors;

fn delivery_badge(status: String) -> impl IntoView {
    let kind = match status.as_str() {
        "delivered" => "deployed",
        "failed" => "failed",
        _ => "pending",
    };
    view! { <span class=format!("badge req req-{kind}") data-status=status.clone()>{status_label(&status)}</span> }
}

/// Webhook endpoints notifications are posted to, and the latest delivery attempts.
#[component]
fn Webhooks() -> impl IntoView {
    let toasts = use_toasts();
    let hooks = remote::<Vec<Webhook>>(|| "/api/webhooks".into());
    let deliveries = remote::<Vec<Delivery>>(|| "/api/notification-deliveries".into());

    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let secret = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = CreateWebhook {
            name: name.get_untracked().trim().to_owned(),
            url: url.get_untracked().trim().to_owned(),
            secret: secret.get_untracked(),
        };
        banner.set(None);
        if let Err(e) = body.validate() {
            errors.set(e);
            return;
        }
        errors.set(FieldErrors::new());
        task::run(
            pending,
            async move { api::post_no_content("/api/webhooks", &body).await },
            move |result| match result {
                Ok(()) => {
                    toasts.success(format!("Webhook {} added", name.get_untracked().trim()));
                    for s in [name, url, secret] {
                        s.set(String::new());
                    }
                    hooks.refetch();
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["name", "url", "secret"])),
            },
        );
    };

    let removal = use_removal::<Webhook>();
    let delete = move |w: Webhook| {
        removal.delete(format!("/api/webhooks/{}", w.id), move |_| {
            toasts.success("Webhook deleted");
            hooks.refetch();
        });
    };

    view! {
        <h2 class="subhead">"Webhooks"</h2>
        {loaded_list(
            hooks,
            2,
            || view! { <Empty title="No webhooks yet" hint="Add one below to receive notifications." /> },
            move |list| {
                view! {
                    <DataTable columns=&[
                            Col::Text("Name"), Col::Text("URL"), Col::Text("Active"),
                            Col::Text("Created"), Col::Actions
                        ]>
                        {list
                            .into_iter()
                            .map(|w| {
                                let created = date(&w.created_at);
                                let (name, url, active) = (w.name.clone(), w.url.clone(), w.active);
                                view! {
                                    <tr>
                                        <td>{name}</td>
                                        <td class="mono">{url}</td>
                                        <td>{if active { "Yes" } else { "No" }}</td>
                                        <td>{created}</td>
                                        <td class="actions">
                                            <RemoveButton removal=removal item=w.clone() />
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
            },
        )}
        <form class="card form" on:submit=on_submit novalidate>
            <h3 class="card-title">"Add webhook"</h3>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField id="hook-name" label="Name" value=name errors=errors field="name" required=true />
                <TextField id="hook-url" label="URL" value=url errors=errors field="url" kind="url" required=true />
            </div>
            <TextField
                id="hook-secret"
                label="Secret"
                value=secret
                errors=errors
                field="secret"
                kind="password"
                autocomplete="new-password"
                hint="16–200 characters; signs each delivery. It cannot be read back."
                required=true
            />
            <FormActions pending=pending label="Add webhook" busy="Adding…" />
        </form>
        <h2 class="subhead">"Recent deliveries"</h2>
        {loaded_list(
            deliveries,
            2,
            || view! { <Empty title="No deliveries yet" /> },
            |list| {
                view! {
                    <DataTable columns=&[
                            Col::Text("Time"), Col::Text("Channel"), Col::Text("Target"),
                            Col::Text("Status"), Col::Num("Attempts"), Col::Text("Last error")
                        ] compact=true>
                        {list
                            .into_iter()
                            .map(|d| {
                                view! {
                                    <tr>
                                        <td>{datetime(&d.updated_at)}</td>
                                        <td>{d.channel}</td>
                                        <td class="mono">{d.target}</td>
                                        <td>{delivery_badge(d.status)}</td>
                                        <td class="num">{d.attempts}</td>
                                        <td>{d.last_error.unwrap_or_else(|| "—".into())}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </DataTable>
                }
            },
        )}
        {removal
            .dialog(
                "Delete webhook",
                |w| {
                    (
                        format!("Delete webhook {}?", w.name),
                        format!("Notifications will no longer be posted to {}.", w.url),
                    )
                },
                delete,
            )}
    }
}

/// The page: the e-mail channel, then the webhooks.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let settings = remote::<ServerSettings>(|| "/api/settings".into());
    view! {
        <section class="page">
            <AdminHeader
                title="Webhooks and e-mail"
                intro="Everyone gets their notifications in the bell. E-mail sends them to each person's address as well; webhooks post every notification, signed, to a chat or another system."
            />
            <section class="card" data-testid="email-channel">
                <h2 class="card-title">"E-mail"</h2>
                {move || {
                    settings
                        .get()
                        .map(|r| match r {
                            Err(e) => view! { <p class="muted">{e.message()}</p> }.into_any(),
                            Ok(s) => match s.email.smtp_server {
                                Some(server) => view! {
                                    <p>
                                        "Sent through " <strong>{server}</strong> " from " <code>{s.email.from}</code>
                                        "; links point to " <code>{s.email.public_url}</code> "."
                                    </p>
                                }
                                    .into_any(),
                                None => view! {
                                    <p>
                                        "Off. Set " <code>"PROVISIO_SMTP_URL"</code> " (and "
                                        <code>"PROVISIO_SMTP_FROM"</code>
                                        ") in the service's environment to send notifications by e-mail."
                                    </p>
                                }
                                    .into_any(),
                            },
                        })
                }}
            </section>
            <Webhooks />
        </section>
    }
}
