//! The error answers handlers declare in `#[utoipa::path(responses(...))]`, each once: every one
//! is problem+json with the `Problem` schema (`crate::error`). A handler lists the ones it can
//! give, e.g. `responses((status = 200, body = Team), Unauthenticated, NotFound)`.

use std::collections::BTreeMap;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::IntoResponses;

fn problem(status: &str) -> BTreeMap<String, RefOr<Response>> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Problem")))
        .build();
    BTreeMap::from([(
        status.to_owned(),
        ResponseBuilder::new()
            .description("")
            .content("application/problem+json", content)
            .build()
            .into(),
    )])
}

macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident => $status:literal;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problem($status)
            }
        }
    )*};
}

problem_responses! {
    /// 401: no valid credentials.
    Unauthenticated => "401";
    /// 403: the caller's roles do not allow it.
    Forbidden => "403";
    /// 404: no such row, or one of another team.
    NotFound => "404";
    /// 409: the row is not in a state that allows it.
    Conflict => "409";
    /// 410: what was asked for was given out once and is not kept.
    Gone => "410";
    /// 422: the input is invalid, with a message per field.
    Invalid => "422";
    /// 429: too many attempts; the Retry-After header says when to try again.
    TooManyRequests => "429";
    /// 502: a provider or host did not answer as expected.
    BadGateway => "502";
    /// 503: the database or a needed program is out of reach.
    Unavailable => "503";
}
