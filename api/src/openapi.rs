//! The OpenAPI document: collected from the `#[utoipa::path]` of every routed handler.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Provisio API",
        description = "Self-hosted infrastructure self-service portal. Errors are application/problem+json (RFC 9457).",
        license(name = "AGPL-3.0-only")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, session refresh and the signed-in user"),
        (name = "users", description = "Account administration"),
        (name = "teams", description = "Teams (tenants) and memberships"),
        (name = "tokens", description = "Personal API tokens"),
        (name = "catalog", description = "Resource-type catalog"),
        (name = "dashboard", description = "Dashboard figures"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or pvs_ personal token")
                    .build(),
            ),
        );
    }
}

pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The full document, built the same way the server builds its routes.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, spec) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(base())
        .service(crate::http::health::healthz)
        .service(crate::http::health::readyz)
        .service(crate::http::health::metrics)
        .service(utoipa_actix_web::scope("/api").configure(crate::http::configure))
        .split_for_parts();
    spec
}

pub fn spec_json() -> String {
    let mut text = spec()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}
