//! Personal API tokens: the secret is shown once, right after creation.

use crate::api;
use crate::components::feedback::{use_toasts, Empty};
use crate::components::form::{apply_problem, Errors, FormActions, FormBanner, TextField};
use crate::components::list::loaded_list;
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{datetime, relative, until};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use shared::dto::{ApiToken, CreateApiToken, CreatedApiToken};
use shared::validation::FieldErrors;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `navigator.clipboard` is missing on insecure origins; `catch` turns that into an Err.
    #[wasm_bindgen(catch, js_namespace = ["navigator", "clipboard"], js_name = writeText)]
    pub(crate) fn clipboard_write_text(text: &str) -> Result<JsValue, JsValue>;
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let toasts = use_toasts();
    let tokens = remote::<Vec<ApiToken>>(|| "/api/me/tokens".into());
    let created = RwSignal::new(None::<CreatedApiToken>);
    let removal = use_removal::<ApiToken>();
    let revoke = move |t: ApiToken| {
        removal.delete(format!("/api/me/tokens/{}", t.id), move |t| {
            if let Some(t) = t {
                toasts.success(format!("Token {} revoked", t.name));
                if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.token.id == t.id)) {
                    created.set(None);
                }
            }
            tokens.refetch();
        });
    };

    let on_created = Callback::new(move |token: CreatedApiToken| {
        created.set(Some(token));
        tokens.refetch();
    });

    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"API tokens"</h1>
                    <p class="muted">
                        "Personal tokens let scripts call the Provisio API as you. Send them as "
                        <code>"Authorization: Bearer <token>"</code> "."
                    </p>
                </div>
            </header>
            {move || created.get().map(|c| view! { <SecretBox created=c on_dismiss=move |_| created.set(None) /> })}
            <div class="card">
                <h2 class="card-title">"Create a token"</h2>
                <NewTokenForm on_done=on_created />
            </div>
            <h2 class="section-title">"Your tokens"</h2>
            {loaded_list(
                tokens,
                3,
                || view! { <Empty title="No API tokens yet" hint="Create one above to script against the API." /> },
                move |list| {
                    view! {
                        <DataTable columns=&[
                                Col::Text("Name"), Col::Text("Token"), Col::Text("Created"),
                                Col::Text("Last used"), Col::Text("Expires"), Col::Actions
                            ]>
                            {list
                                .into_iter()
                                .map(|t| {
                                    let for_revoke = t.clone();
                                    let expired = t.expires_at.is_some_and(|e| e <= chrono::Utc::now());
                                    view! {
                                        <tr class:row-inactive=expired>
                                            <td>
                                                <strong>{t.name.clone()}</strong>
                                            </td>
                                            <td class="mono">{format!("{}…", t.prefix)}</td>
                                            <td title=datetime(&t.created_at)>{relative(&t.created_at)}</td>
                                            <td title=t.last_used_at.as_ref().map(datetime)>
                                                {t.last_used_at.as_ref().map(relative).unwrap_or_else(|| "Never".into())}
                                            </td>
                                            <td title=t.expires_at.as_ref().map(datetime)>
                                                {match &t.expires_at {
                                                    None => view! { <span class="muted">"Never"</span> }.into_any(),
                                                    Some(e) if expired => {
                                                        view! { <span class="status status-off">{format!("Expired {}", relative(e))}</span> }
                                                            .into_any()
                                                    }
                                                    Some(e) => view! { <span>{until(e)}</span> }.into_any(),
                                                }}
                                            </td>
                                            <td class="actions">
                                                <RemoveButton removal=removal item=for_revoke label="Revoke" />
                                            </td>
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
                    "Revoke token",
                    |t| {
                        (
                            format!("Revoke token {}?", t.name),
                            "Anything using this token stops working immediately. This cannot be undone.".into(),
                        )
                    },
                    revoke,
                )}
        </section>
    }
}

#[component]
fn NewTokenForm(#[prop(into)] on_done: Callback<CreatedApiToken>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);

    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        banner.set(None);
        let raw_days = days.get_untracked().trim().to_owned();
        let expires_in_days = if raw_days.is_empty() {
            None
        } else {
            match raw_days.parse::<u32>() {
                Ok(d) => Some(d),
                Err(_) => {
                    errors.set(FieldErrors::from([(
                        "expires_in_days".to_string(),
                        vec!["must be a whole number of days between 1 and 365".to_string()],
                    )]));
                    return;
                }
            }
        };
        let body = CreateApiToken {
            name: name.get_untracked().trim().to_owned(),
            expires_in_days,
        };
        match body.validate() {
            Ok(()) => {
                errors.set(FieldErrors::new());
                task::run(
                    pending,
                    async move { api::post::<_, CreatedApiToken>("/api/me/tokens", &body).await },
                    move |result| match result {
                        Ok(created) => {
                            name.set(String::new());
                            days.set(String::new());
                            on_done.run(created);
                        }
                        Err(e) => {
                            banner.set(apply_problem(&e, errors, &["name", "expires_in_days"]))
                        }
                    },
                );
            }
            Err(problems) => errors.set(problems),
        }
    };

    view! {
        <form class="form form-row" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <TextField
                id="token-name"
                label="Token name"
                value=name
                errors=errors
                field="name"
                autocomplete="off"
                placeholder="e.g. CI pipeline"
                required=true
            />
            <TextField
                id="token-days"
                label="Expires in (days)"
                kind="number"
                value=days
                errors=errors
                field="expires_in_days"
                hint="1–365. Leave empty for a token that does not expire."
            />
            <FormActions pending=pending label="Create token" busy="Creating…" />
        </form>
    }
}

#[component]
fn SecretBox(created: CreatedApiToken, #[prop(into)] on_dismiss: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let secret = created.secret.clone();
    let copy = move |_| {
        copied.set(Some(clipboard_write_text(&secret).is_ok()));
    };
    let field = NodeRef::<leptos::html::Input>::new();
    // Focus (and so select) the secret at once: Ctrl+C is then all it takes.
    Effect::new(move |_| {
        if let Some(input) = field.get() {
            let _ = input.focus();
        }
    });
    view! {
        <div class="secret-box" role="region" aria-labelledby="secret-title">
            <h2 id="secret-title">{format!("Token “{}” created", created.token.name)}</h2>
            <p>
                <strong>"Copy it now: "</strong>
                "this is the only time the secret is shown. Store it in your password manager or CI secrets."
            </p>
            <div class="secret-row">
                <label for="token-secret" class="sr-only">
                    "Token secret"
                </label>
                <input
                    id="token-secret"
                    class="mono"
                    readonly=true
                    node_ref=field
                    prop:value=created.secret.clone()
                    on:focus=move |ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                        {
                            input.select();
                        }
                    }
                />
                <button type="button" class="btn btn-primary" on:click=copy>
                    "Copy"
                </button>
                <button type="button" class="btn btn-ghost" on:click=move |_| on_dismiss.run(())>
                    "Done"
                </button>
            </div>
            {move || {
                copied
                    .get()
                    .map(|ok| {
                        if ok {
                            view! { <p class="copy-hint ok" role="status">"Copied to the clipboard."</p> }.into_any()
                        } else {
                            view! {
                                <p class="copy-hint" role="status">
                                    "Your browser blocked the clipboard: select the secret and press Ctrl+C (⌘C)."
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </div>
    }
}
