//! Loading, empty and error states, inline alerts and toasts.

use crate::api::ApiErrorView;
use crate::remote::Detail;
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

/// How the load of a detail page stands: the error with a retry, or skeleton rows until
/// the first answer.
#[component]
pub fn LoadStates(
    #[prop(into)] failure: Signal<Option<ApiErrorView>>,
    #[prop(into)] loaded: Signal<bool>,
    #[prop(into)] on_retry: Callback<()>,
) -> impl IntoView {
    view! {
        {move || failure.get().map(|e| view! { <ErrorBanner error=e on_retry=on_retry /> })}
        {move || (!loaded.get() && failure.with(Option::is_none)).then(|| view! { <SkeletonRows /> })}
    }
}

/// A detail page's body: [`LoadStates`], then `content` of the item, built once per item so
/// that its buttons and fields keep their state across reloads.
pub fn detail_body<T, V>(
    detail: Detail<T>,
    content: impl Fn(T) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let Detail {
        remote,
        shown,
        loaded,
        failure,
        ..
    } = detail;
    let retry = Callback::new(move |_| remote.refetch());
    view! {
        <LoadStates failure=failure loaded=loaded on_retry=retry />
        {move || loaded.get().then(|| shown.get_untracked()).flatten().map(&content)}
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

/// Nothing to list; the children (e.g. a call to action) come below the hint.
#[component]
pub fn Empty(
    #[prop(into)] title: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(default = "∅")] icon: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty" data-testid=testid>
            <div class="empty-icon" aria-hidden="true">{icon}</div>
            <p class="empty-title">{title}</p>
            {hint.map(|h| view! { <p class="muted">{h}</p> })}
            {children.map(|c| c())}
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
