use super::responses::{Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::tokens;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, web, HttpResponse};
use shared::dto::{ApiToken, CreateApiToken, CreatedApiToken, Problem};
use uuid::Uuid;

/// The caller's personal API tokens that are not revoked.
#[utoipa::path(
    tag = "tokens",
    responses(
        (status = 200, body = Vec<ApiToken>),
        Unauthenticated,
    ),
    security(("bearer" = []))
)]
#[get("/me/tokens")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<ApiToken>>> {
    Ok(web::Json(tokens::list(&state.db, &auth).await?))
}

/// Creates a personal API token. The secret is in this response only; the server keeps its hash.
#[utoipa::path(
    tag = "tokens",
    request_body = CreateApiToken,
    responses(
        (status = 201, body = CreatedApiToken),
        Unauthenticated,
        (status = 403, description = "Called with an API token: tokens do not mint tokens", body = Problem, content_type = "application/problem+json"),
        Invalid,
    ),
    security(("bearer" = []))
)]
#[post("/me/tokens")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateApiToken>,
) -> ApiResult<HttpResponse> {
    let created = tokens::create(&state.db, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(
    tag = "tokens",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204),
        Unauthenticated,
        NotFound,
    ),
    security(("bearer" = []))
)]
#[delete("/me/tokens/{id}")]
pub async fn revoke(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    tokens::revoke(&state.db, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
