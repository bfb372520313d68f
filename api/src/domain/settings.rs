//! Platform settings administrators change (the terminal allowlist, the landing page): one JSON
//! value per key in the `settings` table, every change audited with its before and after.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::settings as rows;
use crate::error::ApiResult;
use crate::state::AppState;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde::{de::DeserializeOwned, Serialize};

/// The value under `key`, or the default while none was saved (or it no longer parses).
pub async fn load<T: DeserializeOwned + Default, C: ConnectionTrait>(
    db: &C,
    key: &str,
) -> Result<T, DbErr> {
    Ok(rows::Entity::find_by_id(key)
        .one(db)
        .await?
        .and_then(|row| serde_json::from_value(row.value).ok())
        .unwrap_or_default())
}

/// Saves `value` under `key` and audits the change as `action`. The caller checks permissions
/// and validity first.
pub async fn save<T: Serialize + DeserializeOwned + Default>(
    state: &AppState,
    auth: &AuthUser,
    key: &str,
    action: &str,
    value: &T,
) -> ApiResult<()> {
    let before: T = load(&state.db, key).await?;
    let value = serde_json::to_value(value).map_err(anyhow::Error::from)?;
    rows::Entity::insert(rows::ActiveModel {
        key: Set(key.into()),
        value: Set(value.clone()),
        updated_by: Set(Some(auth.id())),
        updated_at: Set(chrono::Utc::now()),
    })
    .on_conflict(
        OnConflict::column(rows::Column::Key)
            .update_columns([
                rows::Column::Value,
                rows::Column::UpdatedBy,
                rows::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec(&state.db)
    .await?;
    audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action,
            target_type: "settings",
            target_id: Some(key.into()),
            before: serde_json::to_value(&before).ok(),
            after: Some(value),
        },
    )
    .await?;
    Ok(())
}

/// What the server runs with from its environment, for the Administration pages. The SMTP URL is
/// reduced to host and port: it may carry credentials.
pub fn server_settings(config: &crate::config::Config) -> shared::settings::ServerSettings {
    use crate::exec::network_policy::PrivateNetworks;
    use shared::settings::{
        EmailSettings, NetworkSettings, SandboxSettings, ServerSettings, SignInSettings,
    };
    let limits = &config.login_limits;
    let smtp_server = config.smtp_url.as_deref().map(|raw| {
        reqwest::Url::parse(raw)
            .ok()
            .and_then(|url| {
                let host = url.host_str()?.to_owned();
                Some(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| "(set, but not a URL this page can show)".into())
    });
    ServerSettings {
        sign_in: SignInSettings {
            access_token_secs: config.access_token_ttl.as_secs(),
            session_days: config.refresh_token_ttl.as_secs() / 86_400,
            secure_cookies: config.secure_cookies,
            free_failures: limits.free_failures,
            max_delay_secs: limits.max_delay.as_secs(),
            account_failures: limits.account_failures,
            account_window_secs: limits.account_window.as_secs(),
            address_attempts: limits.ip_attempts,
            address_window_secs: limits.ip_window.as_secs(),
            trusted_proxies: config
                .trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        email: EmailSettings {
            smtp_server,
            from: config.smtp_from.clone(),
            public_url: config.public_url.clone(),
        },
        network: NetworkSettings {
            git_private_networks: config.network.git == PrivateNetworks::Allow,
            provider_private_networks: config.network.providers == PrivateNetworks::Allow,
            webhook_private_networks: config.network.webhooks == PrivateNetworks::Allow,
            allowlist: config
                .network
                .allowlist
                .iter()
                .map(ToString::to_string)
                .collect(),
        },
        sandbox: SandboxSettings {
            program: config.sandbox.as_ref().map(|p| p.display().to_string()),
            installed: config
                .sandbox
                .as_deref()
                .is_some_and(|p| crate::exec::sandbox::resolve(p).is_some()),
        },
    }
}
