//! Server requests: the list with its filters, the new-request form, the detail page with
//! the workflow actions and timeline, and the approvals queue.

mod detail;
mod draft;
mod form;
mod list;
mod tracker;

pub use detail::RequestDetailPage;
pub use list::{ApprovalsPage, RequestsPage};

use crate::api::{self, ApiErrorView};
use crate::components::form::{apply_problem, Errors, FormBanner, TextArea};
use crate::components::modal::Modal;
use crate::format::size;
use crate::format::status_label;
use crate::task;
use leptos::prelude::*;
use shared::requests::{RejectRequest, ServerRequest, ServerRequestDetail};
use shared::validation::FieldErrors;
use shared::workflow::RequestStatus;
use uuid::Uuid;

#[component]
pub fn StatusBadge(status: RequestStatus) -> impl IntoView {
    view! {
        <span class=format!("badge req req-{}", status.as_str()) data-status=status.as_str()>
            {status_label(status.as_str())}
        </span>
    }
}

fn req_size(r: &ServerRequest) -> String {
    size(r.cpu, r.ram_mb, r.disk_gb)
}

/// Runs a workflow action (`approve`, `cancel`, `retry`) and hands the new detail to `done`.
fn act(
    pending: RwSignal<bool>,
    id: Uuid,
    action: &'static str,
    done: impl FnOnce(Result<ServerRequestDetail, ApiErrorView>) + 'static,
) {
    let url = format!("/api/requests/{id}/{action}");
    task::run(
        pending,
        async move { api::post_empty::<ServerRequestDetail>(&url).await },
        done,
    );
}

#[component]
fn RejectDialog(
    request: ServerRequest,
    #[prop(into)] on_done: Callback<ServerRequestDetail>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let id = request.id;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = reason.get_untracked().trim().to_owned();
        if text.is_empty() {
            errors.set(FieldErrors::from([(
                "reason".to_string(),
                vec!["Say why the request is rejected".to_string()],
            )]));
            return;
        }
        let body = RejectRequest { reason: text };
        task::run(
            pending,
            async move {
                api::post::<_, ServerRequestDetail>(&format!("/api/requests/{id}/reject"), &body)
                    .await
            },
            move |result| match result {
                Ok(d) => on_done.run(d),
                Err(e) => banner.set(apply_problem(&e, errors, &["reason"])),
            },
        );
    };
    view! {
        <Modal title=format!("Reject {}", request.hostname) on_close=on_cancel>
            <form class="form" on:submit=on_submit novalidate>
                <FormBanner banner=banner />
                <TextArea id="reject-reason" label="Reason" value=reason errors=errors field="reason" />
                <div class="form-actions">
                    <button type="button" class="btn btn-ghost" on:click=move |_| on_cancel.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class="btn btn-danger" disabled=move || pending.get()>
                        "Confirm rejection"
                    </button>
                </div>
            </form>
        </Modal>
    }
}
