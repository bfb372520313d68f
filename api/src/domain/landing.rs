//! The public landing page's data and the administrators' setting for it.

use crate::auth::AuthUser;
use crate::domain::{deployments, frameworks, settings};
use crate::error::ApiResult;
use crate::state::AppState;
use sea_orm::ConnectionTrait;
use shared::landing::{Landing, LandingSettings};
use shared::Permission;

const KEY: &str = "landing";

/// What anyone may see without signing in.
pub async fn landing<C: ConnectionTrait>(db: &C) -> ApiResult<Landing> {
    let shown: LandingSettings = settings::load(db, KEY).await?;
    let statistics = match shown.show_statistics {
        true => Some(deployments::platform_statistics(db).await?),
        false => None,
    };
    Ok(Landing {
        frameworks: frameworks::all().to_vec(),
        statistics,
    })
}

pub async fn current(auth: &AuthUser, state: &AppState) -> ApiResult<LandingSettings> {
    auth.require(Permission::UsersManage)?;
    Ok(settings::load(&state.db, KEY).await?)
}

pub async fn save(
    state: &AppState,
    auth: &AuthUser,
    input: LandingSettings,
) -> ApiResult<LandingSettings> {
    // Administrators only: it decides what strangers see of the platform.
    auth.require(Permission::UsersManage)?;
    settings::save(state, auth, KEY, "landing.settings", &input).await?;
    Ok(input)
}
