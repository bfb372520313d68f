use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::requests::{self, visible};
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, post, web, HttpResponse};
use shared::dto::Page;
use shared::requests::{
    CommentRequest, CreateServerRequest, RejectRequest, RequestListQuery, RequestPreflight,
    ServerRequest, ServerRequestDetail,
};
use uuid::Uuid;

/// Server requests the caller may see, filtered, sorted and paginated.
#[utoipa::path(
    tag = "requests",
    params(RequestListQuery),
    responses((status = 200, body = Page<ServerRequest>), Unauthenticated, Invalid),
    security(("bearer" = []))
)]
#[get("/requests")]
pub async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<RequestListQuery>,
) -> ApiResult<web::Json<Page<ServerRequest>>> {
    Ok(web::Json(
        requests::page(&state, &auth, query.into_inner()).await?,
    ))
}

/// Files a server request; it waits for the approvals of the team's policy (or is auto-approved).
#[utoipa::path(
    tag = "requests",
    request_body = CreateServerRequest,
    responses((status = 201, body = ServerRequestDetail), Unauthenticated, Forbidden, Invalid),
    security(("bearer" = []))
)]
#[post("/requests")]
pub async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<CreateServerRequest>,
) -> ApiResult<HttpResponse> {
    let id = requests::create(&state, &auth, body.into_inner()?).await?;
    Ok(HttpResponse::Created().json(detail_of(&state, &auth, id).await?))
}

/// One request with its timeline, approval progress and provisioning job.
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServerRequestDetail), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/requests/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ServerRequestDetail>> {
    Ok(web::Json(detail_of(&state, &auth, id.into_inner()).await?))
}

/// The request as the caller sees it, with timeline and approval progress.
async fn detail_of(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<ServerRequestDetail> {
    let row = visible(&state.db, auth, id).await?;
    requests::detail(&state.db, auth, row).await
}

/// Approves the step the request waits on; the last step approves the request and queues provisioning.
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServerRequestDetail), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/requests/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ServerRequestDetail>> {
    let id = id.into_inner();
    requests::approve(&state, &auth, id).await?;
    Ok(web::Json(detail_of(&state, &auth, id).await?))
}

/// Asks the provider whether it can build the request now (its node, template or image, and
/// the account's connection); approving runs the same check and refuses when it fails.
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RequestPreflight), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/requests/{id}/preflight")]
pub async fn preflight(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<RequestPreflight>> {
    Ok(web::Json(
        requests::preflight(&state, &auth, id.into_inner()).await?,
    ))
}

/// Rejects a pending request; the reason is required and shown to the requester.
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    request_body = RejectRequest,
    responses((status = 200, body = ServerRequestDetail), Unauthenticated, Forbidden, NotFound, Conflict, Invalid),
    security(("bearer" = []))
)]
#[post("/requests/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<RejectRequest>,
) -> ApiResult<web::Json<ServerRequestDetail>> {
    let id = id.into_inner();
    requests::reject(&state, &auth, id, body.into_inner().map(|b| b.reason)).await?;
    Ok(web::Json(detail_of(&state, &auth, id).await?))
}

/// Cancels a pending request (its requester, or an administrator).
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServerRequestDetail), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/requests/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ServerRequestDetail>> {
    let id = id.into_inner();
    requests::cancel(&state, &auth, id).await?;
    Ok(web::Json(detail_of(&state, &auth, id).await?))
}

/// Restarts provisioning of a failed request (same job row).
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServerRequestDetail), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/requests/{id}/retry")]
pub async fn retry(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ServerRequestDetail>> {
    let id = id.into_inner();
    requests::retry(&state, &auth, id).await?;
    Ok(web::Json(detail_of(&state, &auth, id).await?))
}

/// Adds a comment to the request's timeline.
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    request_body = CommentRequest,
    responses((status = 201, body = ServerRequestDetail), Unauthenticated, NotFound, Invalid),
    security(("bearer" = []))
)]
#[post("/requests/{id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<CommentRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    requests::comment(&state, &auth, id, body.into_inner()?.body).await?;
    Ok(HttpResponse::Created().json(detail_of(&state, &auth, id).await?))
}
