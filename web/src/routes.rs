//! The pages behind the login, each a `Lazy` route: `scripts/build-web.sh` splits every route's view,
//! with the code only it uses, into a wasm chunk fetched on the first visit. The login page, the shell
//! and the dashboard stay in the main module because the first load renders them.

use crate::components::shell::Guard;
use crate::pages::*;
use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

/// `/requests`
pub struct RequestsRoute;

#[lazy_route]
impl LazyRoute for RequestsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/requests"><requests::RequestsPage /></Guard> }.into_any()
    }
}

/// `/requests/:id`
pub struct RequestDetailRoute;

#[lazy_route]
impl LazyRoute for RequestDetailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/requests"><requests::RequestDetailPage /></Guard> }.into_any()
    }
}

/// `/approvals`
pub struct ApprovalsRoute;

#[lazy_route]
impl LazyRoute for ApprovalsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/approvals"><requests::ApprovalsPage /></Guard> }.into_any()
    }
}

/// `/servers`
pub struct ServersRoute;

#[lazy_route]
impl LazyRoute for ServersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/servers"><servers::ServersPage /></Guard> }.into_any()
    }
}

/// `/servers/:id`
pub struct ServerDetailRoute;

#[lazy_route]
impl LazyRoute for ServerDetailRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/servers"><servers::ServerDetailPage /></Guard> }.into_any()
    }
}

/// `/scripts`
pub struct ScriptsRoute;

#[lazy_route]
impl LazyRoute for ScriptsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/scripts"><scripts::ScriptsPage /></Guard> }.into_any()
    }
}

/// `/scripts/new`
pub struct NewScriptRoute;

#[lazy_route]
impl LazyRoute for NewScriptRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/scripts"><scripts::NewScriptPage /></Guard> }.into_any()
    }
}

/// `/scripts/:id`
pub struct ScriptRoute;

#[lazy_route]
impl LazyRoute for ScriptRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/scripts"><scripts::ScriptPage /></Guard> }.into_any()
    }
}

/// `/projects`
pub struct ProjectsRoute;

#[lazy_route]
impl LazyRoute for ProjectsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/projects"><projects::ProjectsPage /></Guard> }.into_any()
    }
}

/// `/projects/:id`
pub struct ProjectRoute;

#[lazy_route]
impl LazyRoute for ProjectRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/projects"><projects::ProjectPage /></Guard> }.into_any()
    }
}

/// `/projects/:id/terminal`
pub struct TerminalRoute;

#[lazy_route]
impl LazyRoute for TerminalRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/projects"><terminal::TerminalPage /></Guard> }.into_any()
    }
}

/// `/deployments`
pub struct DeploymentsRoute;

#[lazy_route]
impl LazyRoute for DeploymentsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/deployments"><deployments::DeploymentsPage /></Guard> }.into_any()
    }
}

/// `/deployments/:id`
pub struct DeploymentRoute;

#[lazy_route]
impl LazyRoute for DeploymentRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/deployments"><deployments::DeploymentPage /></Guard> }.into_any()
    }
}

/// `/runs/:id`
pub struct RunRoute;

#[lazy_route]
impl LazyRoute for RunRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/servers"><runs::RunPage /></Guard> }.into_any()
    }
}

/// `/clients`
pub struct ClientsRoute;

#[lazy_route]
impl LazyRoute for ClientsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/clients"><clients::ClientsPage /></Guard> }.into_any()
    }
}

/// `/clients/:id`
pub struct ClientRoute;

#[lazy_route]
impl LazyRoute for ClientRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/clients"><clients::ClientPage /></Guard> }.into_any()
    }
}

/// `/subscriptions/:id`
pub struct SubscriptionRoute;

#[lazy_route]
impl LazyRoute for SubscriptionRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/clients"><subscriptions::SubscriptionPage /></Guard> }.into_any()
    }
}

/// `/revenue`
pub struct RevenueRoute;

#[lazy_route]
impl LazyRoute for RevenueRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/revenue"><revenue::RevenuePage /></Guard> }.into_any()
    }
}

/// `/teams`
pub struct TeamsRoute;

#[lazy_route]
impl LazyRoute for TeamsRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/teams"><teams::TeamsPage /></Guard> }.into_any()
    }
}

/// `/resource-types`
pub struct ResourceTypesRoute;

#[lazy_route]
impl LazyRoute for ResourceTypesRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/resource-types"><resource_types::ResourceTypesPage /></Guard> }
            .into_any()
    }
}

/// `/users`
pub struct UsersRoute;

#[lazy_route]
impl LazyRoute for UsersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/users"><users::UsersPage /></Guard> }.into_any()
    }
}

/// `/tokens`
pub struct TokensRoute;

#[lazy_route]
impl LazyRoute for TokensRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/tokens"><tokens::TokensPage /></Guard> }.into_any()
    }
}

/// `/providers`
pub struct ProvidersRoute;

#[lazy_route]
impl LazyRoute for ProvidersRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/providers"><providers::ProvidersPage /></Guard> }.into_any()
    }
}

/// `/audit`
pub struct AuditRoute;

#[lazy_route]
impl LazyRoute for AuditRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <Guard path="/audit"><audit::AuditPage /></Guard> }.into_any()
    }
}

/// `/profile`
pub struct ProfileRoute;

#[lazy_route]
impl LazyRoute for ProfileRoute {
    fn data() -> Self {
        Self
    }

    fn view(_route: Self) -> AnyView {
        view! { <profile::ProfilePage /> }.into_any()
    }
}
