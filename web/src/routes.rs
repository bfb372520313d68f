//! The pages behind the login, loaded on demand. Each group below is one split point: the
//! `wasm_split` attribute moves the group's function, with the code only it reaches, out of the main
//! module, and `scripts/build-wasm.sh` writes it as a wasm chunk that is fetched the first time one of
//! the group's pages opens. Code several groups share goes to shared chunks fetched with them. The
//! login page, the shell and the dashboard stay in the main module because the first load renders
//! them. Pages are grouped by the role that works with them, so one fetch brings a role's screens and
//! the number of shared chunks stays small.

use crate::components::shell::Guard;
use crate::pages::*;
use leptos::prelude::*;
use leptos::wasm_split::wasm_split;
use leptos_router::LazyRoute;

/// A route whose view comes from a split group: `$group($page)` loads the group's chunk on first use.
macro_rules! split_route {
    ($route:ident, $group:ident, $preload:ident, $page:expr) => {
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_route: Self) -> AnyView {
                $group($page).await
            }

            async fn preload() {
                $preload().await
            }
        }
    };
}

/// Pages of the requests a user follows, the approvals queue and managed resources.
#[derive(Clone, Copy)]
pub enum RequestPages {
    Requests,
    RequestDetail,
    Approvals,
    Resources,
    Resource,
}

#[wasm_split(request_pages, wasm_split_path = ::leptos::wasm_split, preload(preload_request_pages))]
fn request_pages(page: RequestPages) -> AnyView {
    match page {
        RequestPages::Requests => {
            view! { <Guard path="/requests"><requests::RequestsPage /></Guard> }.into_any()
        }
        RequestPages::RequestDetail => {
            view! { <Guard path="/requests"><requests::RequestDetailPage /></Guard> }.into_any()
        }
        RequestPages::Approvals => {
            view! { <Guard path="/approvals"><requests::ApprovalsPage /></Guard> }.into_any()
        }
        RequestPages::Resources => {
            view! { <Guard path="/resources"><resources::ResourcesPage /></Guard> }.into_any()
        }
        RequestPages::Resource => {
            view! { <Guard path="/resources"><resources::ResourcePage /></Guard> }.into_any()
        }
    }
}

split_route!(
    RequestsRoute,
    request_pages,
    preload_request_pages,
    RequestPages::Requests
);
split_route!(
    RequestDetailRoute,
    request_pages,
    preload_request_pages,
    RequestPages::RequestDetail
);
split_route!(
    ApprovalsRoute,
    request_pages,
    preload_request_pages,
    RequestPages::Approvals
);
split_route!(
    ResourcesRoute,
    request_pages,
    preload_request_pages,
    RequestPages::Resources
);
split_route!(
    ResourceRoute,
    request_pages,
    preload_request_pages,
    RequestPages::Resource
);

/// Pages of servers, their script runs and the script library.
#[derive(Clone, Copy)]
pub enum OperationsPages {
    Servers,
    ServerDetail,
    Run,
    Scripts,
    NewScript,
    Script,
}

#[wasm_split(operations_pages, wasm_split_path = ::leptos::wasm_split, preload(preload_operations_pages))]
fn operations_pages(page: OperationsPages) -> AnyView {
    match page {
        OperationsPages::Servers => {
            view! { <Guard path="/servers"><servers::ServersPage /></Guard> }.into_any()
        }
        OperationsPages::ServerDetail => {
            view! { <Guard path="/servers"><servers::ServerDetailPage /></Guard> }.into_any()
        }
        OperationsPages::Run => {
            view! { <Guard path="/servers"><runs::RunPage /></Guard> }.into_any()
        }
        OperationsPages::Scripts => {
            view! { <Guard path="/scripts"><scripts::ScriptsPage /></Guard> }.into_any()
        }
        OperationsPages::NewScript => {
            view! { <Guard path="/scripts"><scripts::NewScriptPage /></Guard> }.into_any()
        }
        OperationsPages::Script => {
            view! { <Guard path="/scripts"><scripts::ScriptPage /></Guard> }.into_any()
        }
    }
}

split_route!(
    ServersRoute,
    operations_pages,
    preload_operations_pages,
    OperationsPages::Servers
);
split_route!(
    ServerDetailRoute,
    operations_pages,
    preload_operations_pages,
    OperationsPages::ServerDetail
);
split_route!(
    RunRoute,
    operations_pages,
    preload_operations_pages,
    OperationsPages::Run
);
split_route!(
    ScriptsRoute,
    operations_pages,
    preload_operations_pages,
    OperationsPages::Scripts
);
split_route!(
    NewScriptRoute,
    operations_pages,
    preload_operations_pages,
    OperationsPages::NewScript
);
split_route!(
    ScriptRoute,
    operations_pages,
    preload_operations_pages,
    OperationsPages::Script
);

/// Pages of projects, their terminal and deployments.
#[derive(Clone, Copy)]
pub enum ProjectPages {
    Projects,
    Project,
    Terminal,
    Deployments,
    Deployment,
    Deploy,
}

#[wasm_split(project_pages, wasm_split_path = ::leptos::wasm_split, preload(preload_project_pages))]
fn project_pages(page: ProjectPages) -> AnyView {
    match page {
        ProjectPages::Projects => {
            view! { <Guard path="/projects"><projects::ProjectsPage /></Guard> }.into_any()
        }
        ProjectPages::Project => {
            view! { <Guard path="/projects"><projects::ProjectPage /></Guard> }.into_any()
        }
        ProjectPages::Terminal => {
            view! { <Guard path="/projects"><terminal::TerminalPage /></Guard> }.into_any()
        }
        ProjectPages::Deployments => {
            view! { <Guard path="/deployments"><deployments::DeploymentsPage /></Guard> }.into_any()
        }
        ProjectPages::Deployment => {
            view! { <Guard path="/deployments"><deployments::DeploymentPage /></Guard> }.into_any()
        }
        ProjectPages::Deploy => {
            view! { <Guard path="/deployments"><deployments::DeployPage /></Guard> }.into_any()
        }
    }
}

split_route!(
    ProjectsRoute,
    project_pages,
    preload_project_pages,
    ProjectPages::Projects
);
split_route!(
    ProjectRoute,
    project_pages,
    preload_project_pages,
    ProjectPages::Project
);
split_route!(
    TerminalRoute,
    project_pages,
    preload_project_pages,
    ProjectPages::Terminal
);
split_route!(
    DeploymentsRoute,
    project_pages,
    preload_project_pages,
    ProjectPages::Deployments
);
split_route!(
    DeploymentRoute,
    project_pages,
    preload_project_pages,
    ProjectPages::Deployment
);
split_route!(
    DeployRoute,
    project_pages,
    preload_project_pages,
    ProjectPages::Deploy
);

/// Pages of clients, subscriptions and revenue.
#[derive(Clone, Copy)]
pub enum SalesPages {
    Clients,
    Client,
    Subscription,
    Revenue,
}

#[wasm_split(sales_pages, wasm_split_path = ::leptos::wasm_split, preload(preload_sales_pages))]
fn sales_pages(page: SalesPages) -> AnyView {
    match page {
        SalesPages::Clients => {
            view! { <Guard path="/clients"><clients::ClientsPage /></Guard> }.into_any()
        }
        SalesPages::Client => {
            view! { <Guard path="/clients"><clients::ClientPage /></Guard> }.into_any()
        }
        SalesPages::Subscription => {
            view! { <Guard path="/clients"><subscriptions::SubscriptionPage /></Guard> }.into_any()
        }
        SalesPages::Revenue => {
            view! { <Guard path="/revenue"><revenue::RevenuePage /></Guard> }.into_any()
        }
    }
}

split_route!(
    ClientsRoute,
    sales_pages,
    preload_sales_pages,
    SalesPages::Clients
);
split_route!(
    ClientRoute,
    sales_pages,
    preload_sales_pages,
    SalesPages::Client
);
split_route!(
    SubscriptionRoute,
    sales_pages,
    preload_sales_pages,
    SalesPages::Subscription
);
split_route!(
    RevenueRoute,
    sales_pages,
    preload_sales_pages,
    SalesPages::Revenue
);

/// Pages of administration.
#[derive(Clone, Copy)]
pub enum AdminPages {
    Overview,
    Policies,
    Notifications,
    TerminalPrograms,
    Security,
    Teams,
    ResourceTypes,
    Users,
    Tokens,
    Providers,
    Audit,
}

#[wasm_split(admin_pages, wasm_split_path = ::leptos::wasm_split, preload(preload_admin_pages))]
fn admin_pages(page: AdminPages) -> AnyView {
    match page {
        AdminPages::Overview => {
            view! { <Guard path="/admin"><admin::AdminPage /></Guard> }.into_any()
        }
        AdminPages::Policies => {
            view! { <Guard path="/admin"><admin::PoliciesPage /></Guard> }.into_any()
        }
        AdminPages::Notifications => {
            view! { <Guard path="/admin"><admin::NotificationsPage /></Guard> }.into_any()
        }
        AdminPages::TerminalPrograms => {
            view! { <Guard path="/admin"><admin::TerminalProgramsPage /></Guard> }.into_any()
        }
        AdminPages::Security => {
            view! { <Guard path="/admin"><admin::SecurityPage /></Guard> }.into_any()
        }
        AdminPages::Teams => view! { <Guard path="/teams"><teams::TeamsPage /></Guard> }.into_any(),
        AdminPages::ResourceTypes => {
            view! { <Guard path="/resource-types"><resource_types::ResourceTypesPage /></Guard> }
                .into_any()
        }
        AdminPages::Users => view! { <Guard path="/users"><users::UsersPage /></Guard> }.into_any(),
        AdminPages::Tokens => {
            view! { <Guard path="/tokens"><tokens::TokensPage /></Guard> }.into_any()
        }
        AdminPages::Providers => {
            view! { <Guard path="/providers"><providers::ProvidersPage /></Guard> }.into_any()
        }
        AdminPages::Audit => view! { <Guard path="/audit"><audit::AuditPage /></Guard> }.into_any(),
    }
}

split_route!(
    AdminRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Overview
);
split_route!(
    PoliciesRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Policies
);
split_route!(
    NotificationsRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Notifications
);
split_route!(
    TerminalProgramsRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::TerminalPrograms
);
split_route!(
    SecurityRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Security
);
split_route!(
    TeamsRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Teams
);
split_route!(
    ResourceTypesRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::ResourceTypes
);
split_route!(
    UsersRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Users
);
split_route!(
    TokensRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Tokens
);
split_route!(
    ProvidersRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Providers
);
split_route!(
    AuditRoute,
    admin_pages,
    preload_admin_pages,
    AdminPages::Audit
);

/// Pages of the user's own profile.
#[derive(Clone, Copy)]
pub enum ProfilePages {
    Profile,
}

#[wasm_split(profile_page, wasm_split_path = ::leptos::wasm_split, preload(preload_profile_page))]
fn profile_page(page: ProfilePages) -> AnyView {
    match page {
        ProfilePages::Profile => view! { <profile::ProfilePage /> }.into_any(),
    }
}

split_route!(
    ProfileRoute,
    profile_page,
    preload_profile_page,
    ProfilePages::Profile
);

/// Starts fetching the chunk behind a navigation entry before it is clicked (on hover or keyboard
/// focus), so the page usually opens without waiting for it. A chunk is fetched once per session.
pub fn preload_page(path: &'static str) {
    leptos::task::spawn_local(async move {
        match path {
            "/requests" | "/approvals" => preload_request_pages().await,
            "/servers" | "/scripts" => preload_operations_pages().await,
            "/projects" | "/deployments" => preload_project_pages().await,
            "/clients" | "/revenue" => preload_sales_pages().await,
            "/teams" | "/resource-types" | "/providers" | "/users" | "/audit" | "/tokens"
            | "/admin" => preload_admin_pages().await,
            "/profile" => preload_profile_page().await,
            _ => {}
        }
    });
}
