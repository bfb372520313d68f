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
        .service(utoipa_actix_web::scope("/api").configure(|cfg| crate::http::configure(cfg)))
        .split_for_parts();
    let mut spec = spec;
    unique_operation_ids(&mut spec);
    extractor_responses(&mut spec);
    spec
}

/// The extractors answer before any handler runs (`json_config`, `query_config` and
/// `path_config` in startup.rs), so their answers are declared here for every operation they
/// guard instead of in each `#[utoipa::path]`: 400 for a body that is not JSON, 413 for one over
/// the size limit, 422 for a body or query string that does not fit its type, 404 for a
/// malformed id in the path.
fn extractor_responses(spec: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    each_operation(spec, |_, _, op| {
        let parameters = op.parameters.as_deref().unwrap_or_default();
        let in_path = parameters
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Path));
        let in_query = parameters
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Query));
        let mut answers = Vec::new();
        if op.request_body.is_some() {
            answers.extend(["400", "413", "422"]);
        }
        if in_query {
            answers.push("422");
        }
        if in_path {
            answers.push("404");
        }
        for status in answers {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(problem_response);
        }
    });
}

fn problem_response() -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description("")
        .content(
            "application/problem+json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// utoipa names operations after their handlers, and several modules have a `list` or a `get`.
/// OpenAPI wants each operationId once (client generators lose operations otherwise), so a
/// shared one becomes `<handler>_<path words>`: `list` of GET /api/deployments is
/// `list_deployments`. Unique ones keep the handler's name.
fn unique_operation_ids(spec: &mut utoipa::openapi::OpenApi) {
    let mut uses: std::collections::BTreeMap<String, usize> = Default::default();
    each_operation(spec, |_, _, op| {
        if let Some(id) = &op.operation_id {
            *uses.entry(id.clone()).or_default() += 1;
        }
    });
    let mut taken: std::collections::BTreeSet<String> = uses.keys().cloned().collect();
    each_operation(spec, |path, method, op| {
        let Some(id) = op.operation_id.clone().filter(|id| uses[id] > 1) else {
            return;
        };
        let mut words: Vec<&str> = path
            .split('/')
            .filter(|p| !p.is_empty() && *p != "api" && !p.starts_with('{'))
            .collect();
        if words.len() > 1 && words.last() == Some(&id.as_str()) {
            words.pop();
        }
        let words = words.join("_").replace('-', "_");
        let mut new = if words.is_empty() {
            format!("{id}_{method}")
        } else {
            format!("{id}_{words}")
        };
        if taken.contains(&new) {
            new = format!("{new}_{method}");
        }
        assert!(
            taken.insert(new.clone()),
            "operationId {new} is taken twice"
        );
        op.operation_id = Some(new);
    });
}

fn each_operation(
    spec: &mut utoipa::openapi::OpenApi,
    mut visit: impl FnMut(&str, &str, &mut utoipa::openapi::path::Operation),
) {
    for (path, item) in spec.paths.paths.iter_mut() {
        for (method, operation) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
            ("head", &mut item.head),
            ("options", &mut item.options),
            ("trace", &mut item.trace),
        ] {
            if let Some(operation) = operation {
                visit(path, method, operation);
            }
        }
    }
}

/// The methods the document names for the operation at `path`, when some operation matches it
/// with another method than the one asked: the answer is then 405 with `Allow`, not 404.
pub fn methods_at(path: &str) -> Option<Vec<&'static str>> {
    static ROUTES: std::sync::LazyLock<Vec<(actix_web::dev::ResourceDef, Vec<&'static str>)>> =
        std::sync::LazyLock::new(|| {
            let mut spec = spec();
            let mut routes = Vec::new();
            let paths: Vec<String> = spec.paths.paths.keys().cloned().collect();
            for template in paths {
                let mut methods = Vec::new();
                each_operation(&mut spec, |p, method, _| {
                    if p == template {
                        methods.push(match method {
                            "get" => "GET",
                            "put" => "PUT",
                            "post" => "POST",
                            "delete" => "DELETE",
                            "patch" => "PATCH",
                            _ => "OPTIONS",
                        });
                    }
                });
                routes.push((actix_web::dev::ResourceDef::new(template), methods));
            }
            routes
        });
    let matching: Vec<_> = ROUTES
        .iter()
        .filter(|(def, _)| def.is_match(path))
        .collect();
    // A path spelled out in the document (`/api/scripts/validate`) is that operation, not an
    // id of the templated one beside it (`/api/scripts/{id}`).
    let literal = matching
        .iter()
        .any(|(def, _)| !def.is_prefix() && def.pattern() == Some(path));
    let mut allowed: Vec<&'static str> = matching
        .iter()
        .filter(|(def, _)| !literal || def.pattern() == Some(path))
        .flat_map(|(_, methods)| methods.iter().copied())
        .collect();
    allowed.sort_unstable();
    allowed.dedup();
    (!allowed.is_empty()).then_some(allowed)
}

/// `GET /api/openapi.json`: the document, serialized once.
pub async fn serve_json() -> actix_web::HttpResponse {
    static JSON: std::sync::LazyLock<String> = std::sync::LazyLock::new(spec_json);
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .body(JSON.as_str())
}

pub fn spec_json() -> String {
    let mut text = spec()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_id_is_unique() {
        let mut spec = spec();
        let mut seen = std::collections::BTreeMap::new();
        each_operation(&mut spec, |path, method, op| {
            let id = op.operation_id.clone().expect("every operation has an id");
            if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
                panic!("{id} names both {other} and {method} {path}");
            }
        });
        assert_eq!(seen["list_deployments"], "get /api/deployments");
        assert_eq!(seen["list_frameworks"], "get /api/frameworks");
        assert!(seen.len() > 100, "{}", seen.len());
    }

    #[test]
    fn extractor_answers_are_declared_where_the_extractors_run() {
        let mut spec = spec();
        let mut checked = 0;
        each_operation(&mut spec, |path, method, op| {
            let declared = |status: &str| op.responses.responses.contains_key(status);
            if op.request_body.is_some() {
                assert!(declared("400") && declared("422"), "{method} {path}");
                checked += 1;
            }
            if path.contains('{') {
                assert!(declared("404"), "{method} {path}");
            }
        });
        assert!(checked > 30, "{checked}");
        let teams = &spec.paths.paths["/api/teams"].get.as_ref().unwrap();
        assert!(teams.responses.responses.contains_key("422"));
    }
}
