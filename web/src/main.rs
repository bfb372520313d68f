//! Provisio web app: a Leptos client-side app served by the API from the same origin.

mod api;
mod components;
mod format;
mod live;
mod pages;
mod remote;
mod search;
mod session;
mod task;

use components::feedback::provide_toasts;
use components::shell::{Fallback, Guard, NotFound, Shell};
use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;
use pages::audit::AuditPage;
use pages::clients::{ClientPage, ClientsPage};
use pages::dashboard::Dashboard;
use pages::deployments::{DeploymentPage, DeploymentsPage};
use pages::login::LoginPage;
use pages::profile::ProfilePage;
use pages::projects::{ProjectPage, ProjectsPage};
use pages::providers::ProvidersPage;
use pages::requests::{ApprovalsPage, RequestDetailPage, RequestsPage};
use pages::resource_types::ResourceTypesPage;
use pages::revenue::RevenuePage;
use pages::runs::RunPage;
use pages::scripts::{NewScriptPage, ScriptPage, ScriptsPage};
use pages::servers::{ServerDetailPage, ServersPage};
use pages::subscriptions::SubscriptionPage;
use pages::teams::TeamsPage;
use pages::terminal::TerminalPage;
use pages::tokens::TokensPage;
use pages::users::UsersPage;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    session::init();
    provide_toasts();
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=LoginPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route
                        path=path!("")
                        view=|| view! { <Guard path="/"><Dashboard /></Guard> }
                    />
                    <Route
                        path=path!("/requests")
                        view=|| view! { <Guard path="/requests"><RequestsPage /></Guard> }
                    />
                    <Route
                        path=path!("/requests/:id")
                        view=|| view! { <Guard path="/requests"><RequestDetailPage /></Guard> }
                    />
                    <Route
                        path=path!("/approvals")
                        view=|| view! { <Guard path="/approvals"><ApprovalsPage /></Guard> }
                    />
                    <Route
                        path=path!("/servers")
                        view=|| view! { <Guard path="/servers"><ServersPage /></Guard> }
                    />
                    <Route
                        path=path!("/servers/:id")
                        view=|| view! { <Guard path="/servers"><ServerDetailPage /></Guard> }
                    />
                    <Route
                        path=path!("/scripts")
                        view=|| view! { <Guard path="/scripts"><ScriptsPage /></Guard> }
                    />
                    // Before `/scripts/:id`: the first matching route wins.
                    <Route
                        path=path!("/scripts/new")
                        view=|| view! { <Guard path="/scripts"><NewScriptPage /></Guard> }
                    />
                    <Route
                        path=path!("/scripts/:id")
                        view=|| view! { <Guard path="/scripts"><ScriptPage /></Guard> }
                    />
                    <Route
                        path=path!("/projects")
                        view=|| view! { <Guard path="/projects"><ProjectsPage /></Guard> }
                    />
                    <Route
                        path=path!("/projects/:id")
                        view=|| view! { <Guard path="/projects"><ProjectPage /></Guard> }
                    />
                    <Route
                        path=path!("/projects/:id/terminal")
                        view=|| view! { <Guard path="/projects"><TerminalPage /></Guard> }
                    />
                    <Route
                        path=path!("/deployments")
                        view=|| view! { <Guard path="/deployments"><DeploymentsPage /></Guard> }
                    />
                    <Route
                        path=path!("/deployments/:id")
                        view=|| view! { <Guard path="/deployments"><DeploymentPage /></Guard> }
                    />
                    // Runs happen on servers: whoever sees servers may follow them.
                    <Route
                        path=path!("/runs/:id")
                        view=|| view! { <Guard path="/servers"><RunPage /></Guard> }
                    />
                    <Route
                        path=path!("/clients")
                        view=|| view! { <Guard path="/clients"><ClientsPage /></Guard> }
                    />
                    <Route
                        path=path!("/clients/:id")
                        view=|| view! { <Guard path="/clients"><ClientPage /></Guard> }
                    />
                    // Subscriptions belong to clients: whoever manages clients may open them.
                    <Route
                        path=path!("/subscriptions/:id")
                        view=|| view! { <Guard path="/clients"><SubscriptionPage /></Guard> }
                    />
                    <Route
                        path=path!("/revenue")
                        view=|| view! { <Guard path="/revenue"><RevenuePage /></Guard> }
                    />
                    <Route
                        path=path!("/teams")
                        view=|| view! { <Guard path="/teams"><TeamsPage /></Guard> }
                    />
                    <Route
                        path=path!("/resource-types")
                        view=|| view! { <Guard path="/resource-types"><ResourceTypesPage /></Guard> }
                    />
                    <Route
                        path=path!("/users")
                        view=|| view! { <Guard path="/users"><UsersPage /></Guard> }
                    />
                    <Route
                        path=path!("/tokens")
                        view=|| view! { <Guard path="/tokens"><TokensPage /></Guard> }
                    />
                    <Route
                        path=path!("/providers")
                        view=|| view! { <Guard path="/providers"><ProvidersPage /></Guard> }
                    />
                    <Route
                        path=path!("/audit")
                        view=|| view! { <Guard path="/audit"><AuditPage /></Guard> }
                    />
                    <Route path=path!("/profile") view=ProfilePage />
                    <Route path=path!("/*any") view=Fallback />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
