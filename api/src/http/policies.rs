use super::responses::{Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::policies;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, put, web};
use shared::policies::ApprovalPolicy;
use shared::Permission;
use uuid::Uuid;

/// The team's approval policy (the default one-step admin policy when none is set).
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApprovalPolicy), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/teams/{id}/approval-policy")]
pub async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ApprovalPolicy>> {
    Ok(web::Json(
        policies::get(&state.db, &auth, id.into_inner()).await?,
    ))
}

/// Replaces the team's approval policy: ordered steps with approvers and an any/all rule,
/// and an optional auto-approval rule.
#[utoipa::path(
    tag = "requests",
    params(("id" = Uuid, Path)),
    request_body = ApprovalPolicy,
    responses((status = 200, body = ApprovalPolicy), Unauthenticated, Forbidden, NotFound, Invalid),
    security(("bearer" = []))
)]
#[put("/teams/{id}/approval-policy")]
pub async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<ApprovalPolicy>,
) -> ApiResult<web::Json<ApprovalPolicy>> {
    auth.require(Permission::TeamsManage)?;
    let saved = policies::put(&state.db, &auth, id.into_inner(), body.into_inner()?).await?;
    Ok(web::Json(saved))
}
