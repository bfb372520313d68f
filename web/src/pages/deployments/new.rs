//! `/deploy`: the deploy form as a page of its own, the address the original PaaS used. The
//! project and server pages link here with `?project=` or `?server=` chosen already.

use super::form::DeployForm;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::deployments::Deployment;
use uuid::Uuid;

#[component]
pub fn DeployPage() -> impl IntoView {
    let query = use_query_map();
    let preset =
        |key: &str| query.with_untracked(|q| q.get(key).and_then(|v| v.parse::<Uuid>().ok()));
    let project = preset("project");
    let server = preset("server");
    let navigate = use_navigate();
    let done = {
        let navigate = navigate.clone();
        Callback::new(move |d: Deployment| {
            navigate(&format!("/deployments/{}", d.id), Default::default())
        })
    };
    let cancel = Callback::new(move |_| {
        let back = match (project, server) {
            (Some(p), _) => format!("/projects/{p}"),
            (None, Some(s)) => format!("/servers/{s}"),
            _ => "/deployments".into(),
        };
        navigate(&back, Default::default());
    });
    view! {
        <section class="page">
            <A href="/deployments" attr:class="back-link">
                "← Deployments"
            </A>
            <header class="page-header">
                <div>
                    <h1>"Deploy an app"</h1>
                    <p class="muted">
                        "From a Git repository onto a running server, or onto a new virtual machine or container built for it."
                    </p>
                </div>
            </header>
            <div class="card">
                <DeployForm on_done=done on_cancel=cancel project=project server=server />
            </div>
        </section>
    }
}
