//! The live check of a pending request against its provider account, shown beside Approve and
//! enforced when someone approves: a template that vanished or an account whose connection
//! fails is named before anything is built.

use super::views::visible;
use crate::auth::AuthUser;
use crate::domain::providers;
use crate::entities::{provider_accounts, server_requests as rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::EntityTrait;
use shared::providers::discovery::Wanted;
use shared::requests::RequestPreflight;
use shared::Permission;
use uuid::Uuid;

/// Why the provider cannot build this request now, in sentences; empty when it can.
pub async fn problems(state: &AppState, row: &rows::Model) -> ApiResult<Vec<String>> {
    let Some(account) = provider_accounts::Entity::find_by_id(row.provider_account_id)
        .one(&state.db)
        .await?
    else {
        return Ok(vec!["Its provider account no longer exists.".into()]);
    };
    if let Some(reason) = providers::not_ready(&account) {
        return Ok(vec![format!(
            "Provider account `{}` cannot build servers now: {reason}.",
            account.name
        )]);
    }
    let live = match providers::live_catalogue(state, account.id).await? {
        Ok(Some(live)) => live,
        // Nothing to compare with (a Terraform module without the provider's API).
        Ok(None) => return Ok(vec![]),
        Err(e) => {
            return Ok(vec![format!(
                "Provider account `{}` could not be asked whether it can build this: {e}.",
                account.name
            )])
        }
    };
    Ok(live.request_problems(
        providers::kind_of(&account),
        &providers::settings_of(&account),
        Wanted {
            location: &row.location,
            image: &row.image,
            server_type: row.server_type.as_deref(),
        },
    ))
}

pub async fn preflight(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<RequestPreflight> {
    auth.require(Permission::RequestsApprove)?;
    let row = visible(&state.db, auth, id).await?;
    let problems = problems(state, &row).await?;
    Ok(RequestPreflight {
        ok: problems.is_empty(),
        problems,
    })
}

/// Refuses an approval the provider could not carry out.
pub async fn ensure_buildable(state: &AppState, row: &rows::Model) -> ApiResult<()> {
    let problems = problems(state, row).await?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict(format!(
            "This request cannot be approved: {}",
            problems.join(" ")
        )))
    }
}
