//! Loading, empty and error states, inline alerts and toasts.

use crate::api::ApiErrorView;
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn Loading(#[prop(optional, into)] label: Option<String>) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Loading…".into());
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}

/// Placeholder rows shown while a table loads for the first time.
#[component]
pub fn SkeletonRows(#[prop(default = 4)] rows: usize) -> impl IntoView {
    view! {
        <div class="skeleton-list" aria-hidden="true">
            {(0..rows).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
        <p class="sr-only" role="status">"Loading…"</p>
    }
}

#[component]
pub fn ErrorBanner(
    error: ApiErrorView,
    #[prop(optional, into)] on_retry: Option<Callback<()>>,
) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert">
            <div class="alert-body">
                <strong>{error.title.clone()}</strong>
                {(error.detail.is_some()).then(|| view! { <p>{error.message()}</p> })}
            </div>
            {on_retry
                .map(|retry| {
                    view! {
                        <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| retry.run(())>
                            "Retry"
                        </button>
                    }
                })}
        </div>
    }
}

#[component]
pub fn Alert(
    #[prop(into)] message: String,
    #[prop(default = "error")] kind: &'static str,
) -> impl IntoView {
    let role = if kind == "error" { "alert" } else { "status" };
    view! {
        <div class=format!("alert alert-{kind}") role=role>
            <div class="alert-body">{message}</div>
        </div>
    }
}

#[component]
pub fn Empty(
    #[prop(into)] title: String,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    view! {
        <div class="empty">
            <div class="empty-icon" aria-hidden="true">"∅"</div>
            <p class="empty-title">{title}</p>
            {hint.map(|h| view! { <p class="muted">{h}</p> })}
        </div>
    }
}

#[derive(Clone, PartialEq)]
struct Toast {
    id: u32,
    kind: &'static str,
    text: String,
}

/// Short confirmations after an action succeeds; announced politely to screen readers.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u32>,
}

impl Toasts {
    pub fn success(&self, text: impl Into<String>) {
        self.push("success", text.into());
    }

    pub fn error(&self, text: impl Into<String>) {
        self.push("error", text.into());
    }

    fn push(&self, kind: &'static str, text: String) {
        let Some(id) = self.next.try_update_value(|n| {
            *n += 1;
            *n
        }) else {
            return;
        };
        self.items.update(|v| v.push(Toast { id, kind, text }));
        let items = self.items;
        set_timeout(
            move || items.update(|v| v.retain(|t| t.id != id)),
            Duration::from_secs(5),
        );
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        items: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For
                each=move || toasts.items.get()
                key=|t| t.id
                children=move |t| {
                    let id = t.id;
                    view! {
                        <div class=format!("toast toast-{}", t.kind)>
                            <span>{t.text}</span>
                            <button
                                type="button"
                                class="toast-close"
                                aria-label="Dismiss"
                                on:click=move |_| toasts.items.update(|v| v.retain(|x| x.id != id))
                            >
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
