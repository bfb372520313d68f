//! Git projects of the teams: the list, adding a repository (cloned by a job), and the detail
//! page with its branches, latest commits, the sync with its live log, and removal.

mod detail;
mod form;
mod list;

pub use detail::ProjectPage;
pub use list::ProjectsPage;

use crate::format::status_label;
use crate::format::{datetime, relative};
use crate::remote::remote;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use shared::frameworks::Framework;
use std::collections::BTreeMap;

/// Whether git still has to bring the checkout up to date (`new` is the moment before the
/// clone job starts).
fn busy(status: &str) -> bool {
    matches!(status, "new" | "syncing")
}

/// Badge colours shared with the request statuses.
fn status_tone(status: &str) -> &'static str {
    match status {
        "ready" => "deployed",
        "syncing" => "provisioning",
        "error" => "failed",
        _ => "pending",
    }
}

#[component]
fn ProjectBadge(status: String) -> impl IntoView {
    let class = format!("badge req req-{}", status_tone(&status));
    let data = status.clone();
    view! {
        <span
            class=class
            data-testid="project-status"
            data-status=data
        >
            {status_label(&status)}
        </span>
    }
}

/// `a1b2c3d`: the abbreviation git itself shows.
pub(crate) fn short_sha(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// "3 minutes ago", with the exact time on hover; "never" without a time.
pub(crate) fn moment(at: Option<DateTime<Utc>>) -> AnyView {
    match at {
        Some(t) => view! { <span title=datetime(&t)>{relative(&t)}</span> }.into_any(),
        None => view! { <span class="muted">"never"</span> }.into_any(),
    }
}

/// Framework names by slug, for what a checkout was detected as.
pub(crate) type FrameworkNames = Memo<BTreeMap<String, String>>;

pub(crate) fn framework_names() -> FrameworkNames {
    let frameworks = remote::<Vec<Framework>>(|| "/api/frameworks".into());
    Memo::new(move |_| match frameworks.get() {
        Some(Ok(list)) => list.into_iter().map(|f| (f.slug, f.name)).collect(),
        _ => BTreeMap::new(),
    })
}

/// The framework's name (its slug until the presets load), or "none detected".
fn framework_label(names: FrameworkNames, slug: Option<String>) -> impl IntoView {
    move || match &slug {
        Some(s) => names
            .with(|n| n.get(s).cloned())
            .unwrap_or_else(|| s.clone())
            .into_any(),
        None => view! { <span class="muted">"none detected"</span> }.into_any(),
    }
}

/// A project created without a branch learns the remote's default one at its first sync.
pub(super) fn branch_shown(branch: String) -> String {
    if branch.is_empty() {
        "the repository's default (read at the first sync)".into()
    } else {
        branch
    }
}
