//! One module per resource: thin handlers that parse, authorize through `AuthUser::require`,
//! call the domain, and map to DTOs. Every handler carries `#[utoipa::path]`.

pub mod audit;
pub mod auth;
pub mod billing;
pub mod deployments;
pub mod events;
pub mod executions;
pub mod frameworks;
pub mod health;
pub mod landing;
pub mod maintenance;
pub mod notifications;
pub mod overview;
pub mod policies;
pub mod projects;
pub mod provider_sync;
pub mod providers;
pub mod registration;
pub mod requests;
pub mod resource_types;
pub mod resources;
pub mod responses;
pub mod scripts;
pub mod servers;
pub mod settings;
pub mod ssh_keys;
pub mod stats;
pub mod teams;
pub mod terminal;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use crate::error::ApiError;
use actix_web::dev::HttpServiceFactory;
use utoipa_actix_web::OpenApiFactory;

/// Where the routes are registered: the server's router, or the collector of the OpenAPI
/// document. The server does not build the document beside its routes: the collecting code is
/// the largest function in the binary, and every HTTP worker would run it (and keep its pages
/// resident) only to drop the result.
pub trait Routes {
    fn service<F: HttpServiceFactory + OpenApiFactory + 'static>(
        &mut self,
        factory: F,
    ) -> &mut Self;

    /// The routes whose path under `/api` starts with the segment `_first`: a heading that keeps
    /// the list readable; it adds nothing to the routes.
    fn group(&mut self, _first: &'static str, routes: impl FnOnce(&mut Self)) -> &mut Self {
        routes(self);
        self
    }
}

impl Routes for actix_web::web::ServiceConfig {
    fn service<F: HttpServiceFactory + OpenApiFactory + 'static>(
        &mut self,
        factory: F,
    ) -> &mut Self {
        actix_web::web::ServiceConfig::service(self, factory)
    }
}

impl Routes for utoipa_actix_web::service_config::ServiceConfig<'_> {
    fn service<F: HttpServiceFactory + OpenApiFactory + 'static>(
        &mut self,
        factory: F,
    ) -> &mut Self {
        utoipa_actix_web::service_config::ServiceConfig::service(self, factory)
    }
}

/// Every route under `/api`, grouped by the first segment of its path.
pub fn configure<R: Routes>(cfg: &mut R) {
    cfg.group("auth", |g| {
        g.service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(auth::me)
            .service(auth::change_password)
            .service(auth::stream_ticket)
            .service(two_factor::start_two_factor)
            .service(two_factor::confirm_two_factor)
            .service(registration::registration_info)
            .service(registration::register_account)
            .service(registration::resend_confirmation)
            .service(registration::confirm_email);
    });
    cfg.group("users", |g| {
        g.service(users::list)
            .service(users::create)
            .service(users::get)
            .service(users::update)
            .service(users::reset_password)
            .service(two_factor::reset_two_factor)
            .service(registration::approve_user);
    });
    cfg.group("two-factor", |g| {
        g.service(two_factor::get_two_factor_policy)
            .service(two_factor::put_two_factor_policy);
    });
    cfg.group("registration", |g| {
        g.service(registration::get_registration_policy)
            .service(registration::put_registration_policy);
    });
    cfg.group("teams", |g| {
        g.service(teams::list)
            .service(teams::create)
            .service(teams::get)
            .service(teams::update)
            .service(teams::delete)
            .service(teams::members)
            .service(teams::add_member)
            .service(teams::remove_member)
            .service(policies::get)
            .service(policies::put);
    });
    cfg.group("me", |g| {
        g.service(tokens::list)
            .service(tokens::create)
            .service(tokens::revoke);
    });
    cfg.group("resource-types", |g| {
        g.service(resource_types::list)
            .service(resource_types::create)
            .service(resource_types::update);
    });
    cfg.group("resource-targets", |g| {
        g.service(resources::targets);
    });
    cfg.group("resources", |g| {
        g.service(resources::list)
            .service(resources::create)
            .service(resources::get)
            .service(resources::approve_resource)
            .service(resources::reject_resource)
            .service(resources::cancel_resource)
            .service(resources::fulfil)
            .service(resources::reveal)
            .service(resources::rotate)
            .service(resources::retry_resource)
            .service(resources::delete_resource)
            .service(resources::backups)
            .service(resources::backup)
            .service(resources::restore)
            .service(resources::backup_schedule)
            .service(resources::resize);
    });
    cfg.group("overview", |g| {
        g.service(overview::overview);
    });
    cfg.group("stats", |g| {
        g.service(stats::dashboard).service(stats::setup);
    });
    cfg.group("provider-accounts", |g| {
        g.service(providers::list)
            .service(providers::create)
            .service(providers::update)
            .service(providers::remove)
            .service(providers::test_connection)
            .service(providers::discover)
            .service(providers::resources)
            .service(providers::sync);
    });
    cfg.group("proxmox", |g| {
        g.service(provider_sync::proxmox_resources)
            .service(provider_sync::proxmox_sync);
    });
    cfg.group("hetzner", |g| {
        g.service(provider_sync::hetzner_resources)
            .service(provider_sync::hetzner_sync);
    });
    cfg.group("servers", |g| {
        g.service(servers::list)
            .service(servers::register)
            .service(servers::get)
            .service(servers::power)
            .service(servers::snapshot)
            .service(servers::enable_backups)
            .service(servers::remove)
            .service(servers::labels)
            .service(events::server_events)
            .service(maintenance::run)
            .service(maintenance::list)
            .service(maintenance::create);
    });
    cfg.group("requests", |g| {
        g.service(events::request_events)
            .service(requests::list)
            .service(requests::create)
            .service(requests::get)
            .service(requests::approve)
            .service(requests::preflight)
            .service(requests::reject)
            .service(requests::cancel)
            .service(requests::retry)
            .service(requests::comment);
    });
    cfg.group("executions", |g| {
        g.service(events::execution_events)
            .service(executions::get)
            .service(executions::cancel);
    });
    cfg.group("probes", |g| {
        g.service(executions::probe);
    });
    cfg.group("notifications", |g| {
        g.service(notifications::list)
            .service(notifications::read_all)
            .service(notifications::read);
    });
    cfg.group("webhooks", |g| {
        g.service(webhooks::list)
            .service(webhooks::create)
            .service(webhooks::remove);
    });
    cfg.group("notification-deliveries", |g| {
        g.service(webhooks::deliveries);
    });
    cfg.group("audit", |g| {
        g.service(audit::list).service(audit::export);
    });
    cfg.group("frameworks", |g| {
        g.service(frameworks::list);
    });
    cfg.group("landing", |g| {
        g.service(landing::get)
            .service(landing::get_settings)
            .service(landing::put_settings);
    });
    cfg.group("projects", |g| {
        g.service(projects::list)
            .service(projects::create)
            .service(projects::get)
            .service(projects::sync)
            .service(projects::push)
            .service(projects::remove)
            .service(terminal::open);
    });
    cfg.group("clients", |g| {
        g.service(billing::list_clients)
            .service(billing::create_client)
            .service(billing::get_client)
            .service(billing::update_client)
            .service(billing::delete_client);
    });
    cfg.group("subscriptions", |g| {
        g.service(billing::list_subscriptions)
            .service(billing::create_subscription)
            .service(billing::get_subscription)
            .service(billing::linkable)
            .service(billing::update_subscription)
            .service(billing::change_subscription);
    });
    cfg.group("revenue", |g| {
        g.service(billing::revenue);
    });
    cfg.group("revenue.csv", |g| {
        g.service(billing::revenue_csv);
    });
    cfg.group("settings", |g| {
        g.service(settings::server);
    });
    cfg.group("terminal", |g| {
        g.service(terminal::get_settings)
            .service(terminal::put_settings);
    });
    cfg.group("deploy", |g| {
        g.service(deployments::deploy);
    });
    cfg.group("deployments", |g| {
        g.service(deployments::list)
            .service(deployments::get)
            .service(deployments::remove)
            .service(deployments::stop)
            .service(deployments::start)
            .service(deployments::redeploy)
            .service(deployments::logs)
            .service(deployments::private_key)
            .service(events::deployment_events);
    });
    cfg.group("statistics", |g| {
        g.service(deployments::statistics);
    });
    cfg.group("ssh-keys", |g| {
        g.service(ssh_keys::list)
            .service(ssh_keys::add)
            .service(ssh_keys::remove);
    });
    cfg.group("scripts", |g| {
        g.service(scripts::list)
            .service(scripts::validate)
            .service(scripts::create)
            .service(scripts::get)
            .service(scripts::update)
            .service(scripts::remove)
            .service(scripts::version)
            .service(scripts::run);
    });
    cfg.group("playbook-runs", |g| {
        g.service(scripts::runs)
            .service(scripts::get_run)
            .service(scripts::rerun);
    });
    cfg.group("schedules", |g| {
        g.service(maintenance::update).service(maintenance::remove);
    });
}

/// Decodes a body read as a JSON value, naming the field a wrong value is in
/// (`deployment_type`), where serde's own message names only a line and column of the body.
pub fn decode<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> crate::error::ApiResult<T> {
    // serde reads a struct from an array of its fields too: `[1, 2]` is no body of ours.
    if !value.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = match error.path().to_string() {
            path if path == "." => "body".to_owned(),
            path => path,
        };
        ApiError::field(&field, error.into_inner().to_string())
    })
}

/// A JSON body that may be left out. Unlike `Option<web::Json<T>>`, which turns any body it
/// cannot decode into `None`, a body that is present must decode (422 on `body` otherwise),
/// reported like `Json`'s when the handler asks, after it has authorized the caller.
pub struct OptionalJson<T>(Result<Option<T>, ApiError>);

impl<T> OptionalJson<T> {
    pub fn into_inner(self) -> Result<Option<T>, ApiError> {
        self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let bytes = actix_web::web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(Ok(None)));
            }
            Ok(OptionalJson(
                serde_json::from_slice(&bytes)
                    .map_err(|e| ApiError::field("body", e.to_string()))
                    .and_then(decode)
                    .map(Some),
            ))
        })
    }
}

/// A JSON body read while the request is extracted, but decoded only when the handler asks for
/// it with `into_inner()`, after it has authorized the caller: a caller without the permission
/// gets 403 whatever they sent, and learns nothing of what the operation takes. (actix runs a
/// handler's extractors together, so with `web::Json` a broken body answered 422 first.)
pub struct Json<T>(Result<T, ApiError>);

impl<T> Json<T> {
    /// The decoded body, or the problem with it (422 naming the field, 413, 400).
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let Some(limits) = req
            .app_data::<actix_web::web::Data<crate::state::AppState>>()
            .map(|state| state.config.http)
        else {
            let missing = anyhow::anyhow!("application state missing");
            return Box::pin(std::future::ready(Ok(Json(Err(ApiError::Internal(
                missing,
            ))))));
        };
        // Read as a value first: `decode` refuses what is not an object and names the field a
        // wrong value is in.
        let body = actix_web::web::JsonBody::<serde_json::Value>::new(req, payload, None, true)
            .limit(limits.max_body_bytes);
        Box::pin(async move {
            Ok(Json(
                body.await
                    .map_err(|e| crate::server::startup::json_error(&e, limits))
                    .and_then(decode),
            ))
        })
    }
}
