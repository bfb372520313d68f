//! The signed-out landing page at `/`: what Provisio does, the framework presets it deploys and,
//! when an administrator shows them, the platform's deployment figures. Signing in leads to the
//! dashboard.

use crate::api;
use crate::components::chart::{Bar, BarChart};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::landing::Landing;

/// What a person can do with Provisio, in their words.
const OFFERS: [(&str, &str); 4] = [
    (
        "From a Git URL to a running app",
        "Give a repository, pick a framework (or let Provisio detect it), choose a running server or a new VM or LXC container, and follow every step live.",
    ),
    (
        "Servers on request",
        "Teams ask for servers on Proxmox VE or Hetzner Cloud; approvers decide; Provisio builds them and configures them with Ansible.",
    ),
    (
        "Day-2 work",
        "Power, snapshots, backups, updates and playbook runs, each with its live log and an audit trail.",
    ),
    (
        "Clients and revenue",
        "Subscriptions behind the servers, with monthly revenue and margins for the sales team.",
    ),
];

#[component]
pub fn LandingPage() -> impl IntoView {
    document().set_title("Provisio · self-service servers and app deployments");
    let landing = RwSignal::new(None::<Result<Landing, String>>);
    spawn_local(async move {
        let found = api::get_public::<Landing>("/api/landing")
            .await
            .map_err(|e| e.message());
        landing.set(Some(found));
    });
    view! {
        <div class="landing">
            <header class="landing-top">
                <div class="brand brand-lg">
                    <span class="brand-mark" aria-hidden="true">"P"</span>
                    "Provisio"
                </div>
                <a href="/login?next=%2Fdashboard" class="btn btn-primary" data-testid="landing-sign-in">
                    "Sign in"
                </a>
            </header>
            <main class="landing-main" id="content">
                <section class="landing-hero">
                    <h1>"Servers and apps for your teams, on your own infrastructure"</h1>
                    <p class="muted">
                        "Provisio is a self-hosted portal: people request servers and deploy their apps; administrators keep approvals, costs and access in hand."
                    </p>
                </section>
                <section class="landing-offers" aria-label="What Provisio does">
                    {OFFERS
                        .iter()
                        .map(|(title, text)| {
                            view! {
                                <div class="card">
                                    <h2 class="card-title">{*title}</h2>
                                    <p class="muted">{*text}</p>
                                </div>
                            }
                        })
                        .collect_view()}
                </section>
                {move || match landing.get() {
                    None => view! { <p class="muted">"Loading the framework list…"</p> }.into_any(),
                    Some(Err(message)) => {
                        view! { <p class="muted">{format!("The framework list could not be loaded: {message}")}</p> }
                            .into_any()
                    }
                    Some(Ok(l)) => view! { <LandingFacts landing=l /> }.into_any(),
                }}
            </main>
        </div>
    }
}

#[component]
fn LandingFacts(landing: Landing) -> impl IntoView {
    let frameworks = landing
        .frameworks
        .iter()
        .map(|f| {
            view! {
                <li class="chip" data-testid="landing-framework">
                    {f.name.clone()}
                    <span class="muted">{format!(" · {}", f.runtime)}</span>
                </li>
            }
        })
        .collect_view();
    let statistics = landing.statistics.map(|s| {
        let bars: Vec<Bar> = s
            .by_framework
            .iter()
            .filter(|f| f.total > 0)
            .map(|f| Bar {
                label: f.framework.clone(),
                value: f.total,
                class: "bar-deployed",
            })
            .collect();
        view! {
            <section class="card" data-testid="landing-statistics">
                <h2 class="card-title">"On this platform"</h2>
                <p>
                    {format!(
                        "{} deployments, {} running now{}.",
                        s.total,
                        s.running,
                        s.success_rate
                            .map(|r| format!(", {}% of finished pipelines succeeded", r.round() as u64))
                            .unwrap_or_default()
                    )}
                </p>
                {(!bars.is_empty()).then(|| view! { <BarChart title="Deployments by framework" bars=bars /> })}
            </section>
        }
    });
    view! {
        <section class="card">
            <h2 class="card-title">"Frameworks Provisio deploys"</h2>
            <ul class="chip-list">{frameworks}</ul>
        </section>
        {statistics}
    }
}
