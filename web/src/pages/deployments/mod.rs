//! App deployments: the figures and the list, the deploy dialog, and the detail page with the
//! pipeline tracker, the buttons the state allows, the live log of the current step and the
//! logs of the earlier ones.

mod access;
mod bindings;
mod detail;
pub(crate) mod draft;
mod form;
pub(crate) mod guest;
mod list;
mod new;
mod steps;
mod tracker;

pub use detail::DeploymentPage;
pub use list::DeploymentsPage;
pub use new::DeployPage;

use crate::format::status_label;
use crate::pages::projects::FrameworkNames;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::deployments::{Deployment, DeploymentStatus};

/// The deployment a detail page shows, once loaded.
type Shown = Memo<Option<Deployment>>;

/// Badge colours shared with the request statuses.
fn status_tone(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Pending => "pending",
        DeploymentStatus::Provisioning
        | DeploymentStatus::Deploying
        | DeploymentStatus::Deleting => "provisioning",
        DeploymentStatus::Running => "deployed",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Stopped | DeploymentStatus::Deleted => "cancelled",
    }
}

#[component]
pub fn DeploymentBadge(status: DeploymentStatus) -> impl IntoView {
    let busy = if status.is_busy() { " status-busy" } else { "" };
    view! {
        <span
            class=format!("badge status req-{}{busy}", status_tone(status))
            data-testid="deployment-status"
            data-status=status.as_str()
        >
            {status_label(status.as_str())}
        </span>
    }
}

/// The framework's name, its slug until the presets load, or a note while none is known yet.
fn framework_text(names: FrameworkNames, slug: String) -> impl IntoView {
    move || {
        if slug.is_empty() {
            view! { <span class="muted">"detected when deployed"</span> }.into_any()
        } else {
            names
                .with(|n| n.get(&slug).cloned())
                .unwrap_or_else(|| slug.clone())
                .into_any()
        }
    }
}

/// Where the app lives: its server, or the request for a new one.
fn server_cell(d: &Deployment) -> AnyView {
    match (d.server_id, &d.server_name, d.request_id) {
        (Some(id), name, _) => {
            let name = name.clone().unwrap_or_else(|| "server".into());
            view! { <A href=format!("/servers/{id}")>{name}</A> }.into_any()
        }
        (None, _, Some(request)) => view! {
            <A href=format!("/requests/{request}")>"new server (request)"</A>
        }
        .into_any(),
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// The app's address: a link opening a new tab while it runs, plain text otherwise.
fn url_cell(status: DeploymentStatus, url: Option<String>) -> AnyView {
    match url {
        Some(url) if status == DeploymentStatus::Running => view! {
            <a href=url.clone() target="_blank" rel="noopener noreferrer" class="mono">
                {url.clone()}
            </a>
        }
        .into_any(),
        Some(url) => view! { <span class="mono muted">{url}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}
