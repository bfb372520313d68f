//! Dialog panels: focus moves into the dialog when it opens, Escape closes it, and focus
//! returns to where it was when it closes.

use crate::api::ApiErrorView;
use crate::components::feedback::ErrorBanner;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

static NEXT_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn unique_id(prefix: &str) -> String {
    let n = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}-{n}")
}

fn focus_first(panel: &web_sys::HtmlDivElement) {
    let target = panel
        .query_selector(
            "[data-autofocus], input:not([disabled]), select, textarea, button:not(.modal-close)",
        )
        .ok()
        .flatten()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
    match target {
        Some(el) => {
            let _ = el.focus();
        }
        None => {
            let _ = panel.focus();
        }
    }
}

#[component]
pub fn Modal(
    #[prop(into)] title: String,
    #[prop(into)] on_close: Callback<()>,
    #[prop(optional)] wide: bool,
    children: Children,
) -> impl IntoView {
    let title_id = unique_id("dialog-title");
    let labelled_by = title_id.clone();
    let panel = NodeRef::<html::Div>::new();
    let previous = document()
        .active_element()
        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
    let previous = StoredValue::new_local(previous);

    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            focus_first(&panel);
        }
    });
    on_cleanup(move || {
        if let Some(Some(el)) = previous.try_get_value() {
            let _ = el.focus();
        }
    });

    // On the window, not the dialog: a submit button that disables itself drops focus to <body>.
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            on_close.run(());
        }
    });
    on_cleanup(move || escape.remove());
    let on_backdrop = move |ev: web_sys::MouseEvent| {
        // Only a press on the backdrop itself closes; a drag that ends outside the panel does not.
        if ev.target() == ev.current_target() {
            on_close.run(());
        }
    };

    view! {
        <div class="modal-backdrop" on:mousedown=on_backdrop>
            <div
                class=if wide { "modal modal-wide" } else { "modal" }
                role="dialog"
                aria-modal="true"
                aria-labelledby=labelled_by
                tabindex="-1"
                node_ref=panel
            >
                <header class="modal-header">
                    <h2 id=title_id>{title}</h2>
                    <button
                        type="button"
                        class="modal-close"
                        aria-label="Close dialog"
                        on:click=move |_| on_close.run(())
                    >
                        "×"
                    </button>
                </header>
                <div class="modal-body">{children()}</div>
            </div>
        </div>
    }
}

/// A [`Modal`] shown while `open` holds (e.g. a "New …" form); closing it clears `open`.
#[component]
pub fn DialogWhile(
    open: RwSignal<bool>,
    title: &'static str,
    #[prop(optional)] wide: bool,
    children: ChildrenFn,
) -> impl IntoView {
    move || {
        open.get().then(|| {
            let children = children.clone();
            view! {
                <Modal title=title on_close=move |_| open.set(false) wide=wide>
                    {children()}
                </Modal>
            }
        })
    }
}

/// Asks before a destructive action; shows the server's refusal (e.g. a 409) inline.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(into)] confirm_label: String,
    #[prop(into)] on_confirm: Callback<()>,
    #[prop(into)] on_cancel: Callback<()>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into)] error: Signal<Option<ApiErrorView>>,
    #[prop(default = true)] danger: bool,
) -> impl IntoView {
    let busy_label = format!("{confirm_label}…");
    view! {
        <Modal title=title on_close=on_cancel>
            <p class="confirm-text">{message}</p>
            {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
            <div class="form-actions">
                <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
                <button
                    type="button"
                    class=if danger { "btn btn-danger" } else { "btn btn-primary" }
                    disabled=move || pending.get()
                    on:click=move |_| on_confirm.run(())
                >
                    {move || if pending.get() { busy_label.clone() } else { confirm_label.clone() }}
                </button>
            </div>
        </Modal>
    }
}
