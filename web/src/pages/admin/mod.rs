//! Administration: one place for the settings of the whole installation. The overview links
//! every area with what is there now; approval policies, notifications, terminal programs and
//! the security settings in effect have their pages here, users, providers and the audit log
//! keep theirs.

mod overview;
mod policies;
mod security;
mod terminal;
mod webhooks;

pub use overview::AdminPage;
pub use policies::PoliciesPage;
pub use security::SecurityPage;
pub use terminal::TerminalProgramsPage;
pub use webhooks::NotificationsPage;

use leptos::prelude::*;
use leptos_router::components::A;

/// The header of an administration page: a way back to the overview, the title and a sentence.
#[component]
fn AdminHeader(title: &'static str, intro: &'static str) -> impl IntoView {
    view! {
        <header class="page-header">
            <div>
                <A href="/admin" attr:class="back-link">
                    "← Administration"
                </A>
                <h1>{title}</h1>
                <p class="muted">{intro}</p>
            </div>
        </header>
    }
}
