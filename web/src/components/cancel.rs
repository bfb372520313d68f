//! The "Cancel" button of a queued or running execution: queued work stops at once, running work
//! at its worker's next heartbeat; the live stream shows the end.

use crate::api;
use crate::components::feedback::use_toasts;
use crate::task;
use leptos::prelude::*;
use shared::servers::Accepted;
use uuid::Uuid;

#[component]
pub fn CancelExecution(id: Uuid, #[prop(into)] testid: String) -> impl IntoView {
    let toasts = use_toasts();
    let pending = RwSignal::new(false);
    let cancel = move |_| {
        task::run(
            pending,
            async move { api::post_empty::<Accepted>(&format!("/api/executions/{id}/cancel")).await },
            move |result| match result {
                Ok(_) => toasts.success("Cancellation requested"),
                Err(e) => toasts.error(e.message()),
            },
        );
    };
    view! {
        <button
            type="button"
            class="btn btn-ghost btn-sm"
            data-testid=testid
            disabled=move || pending.get()
            on:click=cancel
        >
            "Cancel"
        </button>
    }
}
