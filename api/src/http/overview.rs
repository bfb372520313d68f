use super::responses::Unauthenticated;
use crate::auth::AuthUser;
use crate::domain::dashboard;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::{get, web};
use shared::dto::Overview;

/// Counts for the caller's dashboard, limited to what their roles may see.
#[utoipa::path(
    tag = "dashboard",
    responses(
        (status = 200, body = Overview),
        Unauthenticated,
    ),
    security(("bearer" = []))
)]
#[get("/overview")]
pub async fn overview(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<web::Json<Overview>> {
    Ok(web::Json(dashboard::overview(&state.db, &auth).await?))
}
