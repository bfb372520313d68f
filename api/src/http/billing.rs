//! Clients, subscriptions and revenue (sales agents and administrators; sales agents see their
//! teams' rows only).

use super::responses::{Conflict, Forbidden, Invalid, NotFound, Unauthenticated};
use crate::auth::AuthUser;
use crate::domain::billing;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use shared::billing::{
    Client, Linkable, Revenue, SaveClient, SaveSubscription, Subscription, SubscriptionChange,
    SubscriptionDetail,
};
use shared::Permission;
use utoipa::IntoParams;
use uuid::Uuid;

/// The caller's teams' clients, by company.
#[utoipa::path(tag = "billing", responses((status = 200, body = Vec<Client>), Unauthenticated, Forbidden), security(("bearer" = [])))]
#[get("/clients")]
pub async fn list_clients(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Vec<Client>>> {
    Ok(web::Json(billing::list_clients(&state.db, &auth).await?))
}

#[utoipa::path(tag = "billing", request_body = SaveClient, responses((status = 201, body = Client), Unauthenticated, Forbidden, Invalid), security(("bearer" = [])))]
#[post("/clients")]
pub async fn create_client(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SaveClient>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ClientsManage)?;
    let client = billing::save_client(&state, &auth, None, body.into_inner()?).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/clients/{}", client.id)))
        .json(client))
}

#[utoipa::path(tag = "billing", params(("id" = Uuid, Path)), responses((status = 200, body = Client), Unauthenticated, Forbidden, NotFound), security(("bearer" = [])))]
#[get("/clients/{id}")]
pub async fn get_client(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Client>> {
    Ok(web::Json(
        billing::client(&state.db, &auth, id.into_inner()).await?,
    ))
}

#[utoipa::path(tag = "billing", params(("id" = Uuid, Path)), request_body = SaveClient, responses((status = 200, body = Client), Unauthenticated, Forbidden, NotFound, Invalid), security(("bearer" = [])))]
#[put("/clients/{id}")]
pub async fn update_client(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SaveClient>,
) -> ApiResult<web::Json<Client>> {
    auth.require(Permission::ClientsManage)?;
    Ok(web::Json(
        billing::save_client(&state, &auth, Some(id.into_inner()), body.into_inner()?).await?,
    ))
}

/// Deletes a client that has no subscriptions (409 otherwise: cancel them instead).
#[utoipa::path(tag = "billing", params(("id" = Uuid, Path)), responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[delete("/clients/{id}")]
pub async fn delete_client(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    billing::delete_client(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    pub client_id: Option<Uuid>,
}

/// Subscriptions of the caller's teams, soonest end first.
#[utoipa::path(tag = "billing", params(SubscriptionQuery), responses((status = 200, body = Vec<Subscription>), Unauthenticated, Forbidden), security(("bearer" = [])))]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<SubscriptionQuery>,
) -> ApiResult<web::Json<Vec<Subscription>>> {
    Ok(web::Json(
        billing::list(&state.db, &auth, query.client_id).await?,
    ))
}

/// A client's subscription: plan, monthly price in cents and an ISO currency, period, dates,
/// auto-renew, the servers and deployments it pays for.
#[utoipa::path(tag = "billing", request_body = SaveSubscription, responses((status = 201, body = SubscriptionDetail), Unauthenticated, Forbidden, Invalid), security(("bearer" = [])))]
#[post("/subscriptions")]
pub async fn create_subscription(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: super::Json<SaveSubscription>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::SubscriptionsManage)?;
    let detail = billing::save(&state, &auth, None, body.into_inner()?).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/subscriptions/{}", detail.subscription.id),
        ))
        .json(detail))
}

/// A subscription with its history of changes and renewal steps.
#[utoipa::path(tag = "billing", params(("id" = Uuid, Path)), responses((status = 200, body = SubscriptionDetail), Unauthenticated, Forbidden, NotFound), security(("bearer" = [])))]
#[get("/subscriptions/{id}")]
pub async fn get_subscription(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<SubscriptionDetail>> {
    Ok(web::Json(
        billing::detail(&state.db, &auth, id.into_inner()).await?,
    ))
}

/// The subscription team's servers and deployments by name, each marked when the subscription
/// names it: what its page offers to link.
#[utoipa::path(tag = "billing", params(("id" = Uuid, Path)), responses((status = 200, body = Linkable), Unauthenticated, Forbidden, NotFound), security(("bearer" = [])))]
#[get("/subscriptions/{id}/linkable")]
pub async fn linkable(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<Linkable>> {
    Ok(web::Json(
        billing::linkable(&state.db, &auth, id.into_inner()).await?,
    ))
}

#[utoipa::path(tag = "billing", params(("id" = Uuid, Path)), request_body = SaveSubscription, responses((status = 200, body = SubscriptionDetail), Unauthenticated, Forbidden, NotFound, Invalid), security(("bearer" = [])))]
#[put("/subscriptions/{id}")]
pub async fn update_subscription(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    body: super::Json<SaveSubscription>,
) -> ApiResult<web::Json<SubscriptionDetail>> {
    auth.require(Permission::SubscriptionsManage)?;
    Ok(web::Json(
        billing::save(&state, &auth, Some(id.into_inner()), body.into_inner()?).await?,
    ))
}

/// `cancel`, `suspend` or `resume` a subscription (409 from a state that does not allow it).
#[utoipa::path(tag = "billing", params(("id" = Uuid, Path), ("action" = String, Path, description = "cancel | suspend | resume")), request_body = SubscriptionChange, responses((status = 200, body = SubscriptionDetail), Unauthenticated, Forbidden, NotFound, Conflict), security(("bearer" = [])))]
#[post("/subscriptions/{id}/{action}")]
pub async fn change_subscription(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, String)>,
    body: super::OptionalJson<SubscriptionChange>,
) -> ApiResult<web::Json<SubscriptionDetail>> {
    auth.require(Permission::SubscriptionsManage)?;
    let (id, action) = path.into_inner();
    let reason = body.into_inner()?.map(|b| b.reason).unwrap_or_default();
    Ok(web::Json(
        billing::change(&state, &auth, id, &action, &reason).await?,
    ))
}

/// MRR and ARR now, revenue of the last 12 months (prorated by day) with churn, by client, by
/// plan, and each billed subscription's margin over its servers' catalog cost. Amounts are integer
/// cents per currency; currencies are never added together.
#[utoipa::path(tag = "billing", responses((status = 200, body = Revenue), Unauthenticated, Forbidden), security(("bearer" = [])))]
#[get("/revenue")]
pub async fn revenue(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<web::Json<Revenue>> {
    let today = chrono::Utc::now().date_naive();
    Ok(web::Json(billing::revenue(&state.db, &auth, today).await?))
}

/// The revenue figures as CSV (months, MRR, margins).
#[utoipa::path(tag = "billing", responses((status = 200, description = "text/csv", content_type = "text/csv", body = String), Unauthenticated, Forbidden), security(("bearer" = [])))]
#[get("/revenue.csv")]
pub async fn revenue_csv(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    let today = chrono::Utc::now().date_naive();
    let figures = billing::revenue(&state.db, &auth, today).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"revenue-{today}.csv\""),
        ))
        .body(billing::revenue_csv(&figures)))
}
