//! Provisio web app: a Leptos client-side app served by the API from the same origin.

mod api;
mod components;
mod format;
mod live;
mod pages;
mod remote;
mod routes;
mod search;
mod session;
mod task;

use components::feedback::provide_toasts;
use components::shell::{Fallback, Guard, NotFound, Shell};
use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy};
use pages::dashboard::Dashboard;
use pages::login::LoginPage;
use pages::register::{ConfirmEmailPage, RegisterPage};
use routes::*;

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
                <Route path=path!("/register") view=RegisterPage />
                <Route path=path!("/confirm-email") view=ConfirmEmailPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route
                        path=path!("")
                        view=|| view! { <Guard path="/"><Dashboard /></Guard> }
                    />
                    <Route path=path!("/requests") view={Lazy::<RequestsRoute>::new()} />
                    <Route path=path!("/requests/:id") view={Lazy::<RequestDetailRoute>::new()} />
                    <Route path=path!("/approvals") view={Lazy::<ApprovalsRoute>::new()} />
                    <Route path=path!("/servers") view={Lazy::<ServersRoute>::new()} />
                    <Route path=path!("/servers/:id") view={Lazy::<ServerDetailRoute>::new()} />
                    <Route path=path!("/scripts") view={Lazy::<ScriptsRoute>::new()} />
                    // Before `/scripts/:id`: the first matching route wins.
                    <Route path=path!("/scripts/new") view={Lazy::<NewScriptRoute>::new()} />
                    <Route path=path!("/scripts/:id") view={Lazy::<ScriptRoute>::new()} />
                    <Route path=path!("/projects") view={Lazy::<ProjectsRoute>::new()} />
                    <Route path=path!("/projects/:id") view={Lazy::<ProjectRoute>::new()} />
                    <Route path=path!("/projects/:id/terminal") view={Lazy::<TerminalRoute>::new()} />
                    <Route path=path!("/deployments") view={Lazy::<DeploymentsRoute>::new()} />
                    <Route path=path!("/deployments/:id") view={Lazy::<DeploymentRoute>::new()} />
                    // The original PaaS's addresses of the deploy form and the dashboard.
                    <Route path=path!("/deploy") view={Lazy::<DeployRoute>::new()} />
                    <Route
                        path=path!("/dashboard")
                        view=|| view! { <Guard path="/"><Dashboard /></Guard> }
                    />
                    // Runs happen on servers: whoever sees servers may follow them.
                    <Route path=path!("/runs/:id") view={Lazy::<RunRoute>::new()} />
                    <Route path=path!("/clients") view={Lazy::<ClientsRoute>::new()} />
                    <Route path=path!("/clients/:id") view={Lazy::<ClientRoute>::new()} />
                    // Subscriptions belong to clients: whoever manages clients may open them.
                    <Route path=path!("/subscriptions/:id") view={Lazy::<SubscriptionRoute>::new()} />
                    <Route path=path!("/revenue") view={Lazy::<RevenueRoute>::new()} />
                    <Route path=path!("/teams") view={Lazy::<TeamsRoute>::new()} />
                    <Route path=path!("/resource-types") view={Lazy::<ResourceTypesRoute>::new()} />
                    <Route path=path!("/resources") view={Lazy::<ResourcesRoute>::new()} />
                    <Route path=path!("/resources/:id") view={Lazy::<ResourceRoute>::new()} />
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} />
                    <Route path=path!("/admin/policies") view={Lazy::<PoliciesRoute>::new()} />
                    <Route path=path!("/admin/webhooks") view={Lazy::<NotificationsRoute>::new()} />
                    <Route path=path!("/admin/terminal") view={Lazy::<TerminalProgramsRoute>::new()} />
                    <Route path=path!("/admin/security") view={Lazy::<SecurityRoute>::new()} />
                    <Route path=path!("/users") view={Lazy::<UsersRoute>::new()} />
                    <Route path=path!("/tokens") view={Lazy::<TokensRoute>::new()} />
                    <Route path=path!("/providers") view={Lazy::<ProvidersRoute>::new()} />
                    <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} />
                    <Route path=path!("/profile") view={Lazy::<ProfileRoute>::new()} />
                    <Route path=path!("/*any") view=Fallback />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
