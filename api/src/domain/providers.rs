use crate::entities::provider_accounts as rows;
use crate::error::{ApiError, ApiResult};
use crate::keys::Keys;
use crate::providers::{build, AccountConfig, ComputeProvider, ProviderError};
use crate::state::AppState;
use sea_orm::EntityTrait;
use shared::requests::{
    Catalog, ProviderAccount, ProviderCredentials, ProviderKind, ProviderSettings,
};
use uuid::Uuid;

pub fn catalog_of(row: &rows::Model) -> Catalog {
    serde_json::from_value(row.catalog.clone()).unwrap_or(Catalog {
        currency: "EUR".into(),
        locations: vec![],
        images: vec![],
        server_types: vec![],
        custom_limits: None,
        unit_prices: None,
    })
}

pub fn to_dto(row: rows::Model) -> ProviderAccount {
    ProviderAccount {
        id: row.id,
        catalog: catalog_of(&row),
        settings: settings_of(&row),
        has_credentials: row.credentials.is_some(),
        kind: ProviderKind::parse(&row.kind).unwrap_or(ProviderKind::Ssh),
        name: row.name,
        endpoint: row.endpoint,
        created_at: row.created_at,
    }
}

/// The catalog of the demo Hetzner account: public list prices of a few shared-vCPU types.
pub fn demo_hetzner_catalog() -> Catalog {
    use shared::requests::ServerTypeOffer;
    let offer = |name: &str, cpu, ram_mb, disk_gb, cents| ServerTypeOffer {
        name: name.into(),
        cpu,
        ram_mb,
        disk_gb,
        monthly_price_cents: Some(cents),
    };
    Catalog {
        currency: "EUR".into(),
        locations: vec!["fsn1".into(), "nbg1".into(), "hel1".into()],
        images: vec!["debian-12".into(), "ubuntu-24.04".into()],
        server_types: vec![
            offer("cx22", 2, 4096, 40, 459),
            offer("cx32", 4, 8192, 80, 799),
            offer("cx42", 8, 16384, 160, 1899),
        ],
        custom_limits: None,
        unit_prices: None,
    }
}

/// The catalog of the demo Proxmox account: custom sizes within limits, internal unit prices.
pub fn demo_proxmox_catalog() -> Catalog {
    use shared::requests::{SizeLimits, UnitPrices};
    Catalog {
        currency: "EUR".into(),
        locations: vec!["pve1".into()],
        images: vec![
            "debian-12-cloudinit".into(),
            "ubuntu-24.04-cloudinit".into(),
        ],
        server_types: vec![],
        custom_limits: Some(SizeLimits {
            max_cpu: 16,
            max_ram_mb: 65536,
            max_disk_gb: 1000,
        }),
        unit_prices: Some(UnitPrices {
            cpu_cents: 300,
            ram_gb_cents: 150,
            disk_gb_cents: 5,
        }),
    }
}

/// Refuses an endpoint the network policy denies (a private literal address, or a name that
/// resolves to one), as a message for the `endpoint` field.
pub async fn check_endpoint(state: &AppState, endpoint: &str) -> Result<(), String> {
    state
        .config
        .network
        .check_url_on_save(crate::domain::network_policy::Purpose::Provider, endpoint)
        .await
        .map_err(|refused| refused.0)
}

pub fn settings_of(row: &rows::Model) -> ProviderSettings {
    row.settings
        .clone()
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default()
}

/// Decrypts the account's credentials with the master key.
pub fn credentials_of(keys: &Keys, row: &rows::Model) -> Result<ProviderCredentials, String> {
    match &row.credentials {
        None => Ok(ProviderCredentials::default()),
        Some(sealed) => {
            let plain = keys
                .open(sealed)
                .map_err(|e| format!("the account's credentials cannot be opened: {e}"))?;
            serde_json::from_str(&plain).map_err(|e| format!("stored credentials: {e}"))
        }
    }
}

pub fn seal_credentials(keys: &Keys, credentials: &ProviderCredentials) -> anyhow::Result<String> {
    crate::crypto::seal(&keys.master_key, &serde_json::to_string(credentials)?)
}

/// Everything an adapter needs, credentials opened.
pub async fn open_account(state: &AppState, id: Uuid) -> Result<AccountConfig, String> {
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await
        .map_err(|e| format!("database: {e}"))?
        .ok_or_else(|| "the provider account no longer exists".to_owned())?;
    Ok(AccountConfig {
        kind: ProviderKind::parse(&row.kind).ok_or("unknown provider kind")?,
        endpoint: row.endpoint.clone(),
        settings: settings_of(&row),
        credentials: credentials_of(&state.keys, &row)?,
    })
}

pub async fn provider_for(state: &AppState, id: Uuid) -> ApiResult<Box<dyn ComputeProvider>> {
    let account = open_account(state, id)
        .await
        .map_err(ApiError::Unavailable)?;
    build(account, &state.config.providers).map_err(provider_problem)
}

pub fn provider_problem(e: ProviderError) -> ApiError {
    match e {
        ProviderError::Config(m) => {
            ApiError::Conflict(format!("misconfigured provider account: {m}"))
        }
        other => ApiError::BadGateway(other.to_string()),
    }
}

/// The secrets a job's log lines must never show: the credentials of every account it may use,
/// its secret variables and the service key.
pub async fn secrets_for_job(state: &AppState, job: &crate::entities::jobs::Model) -> Vec<String> {
    let Ok(accounts) = rows::Entity::find().all(&state.db).await else {
        return vec![];
    };
    let mut secrets = Vec::new();
    // Secret variables of the job's playbook run, and the service key's private half.
    if let Some(execution) = job.execution_id {
        if let Ok(Some(row)) = crate::entities::executions::Entity::find_by_id(execution)
            .one(&state.db)
            .await
        {
            if let Some(stored) = &row.variables {
                secrets.extend(crate::domain::scripts::secret_values(state, stored));
            }
        }
    }
    if let Ok((_, private)) = crate::domain::ssh_keys::service_key(state).await {
        secrets.extend(private.lines().filter(|l| l.len() > 20).map(str::to_owned));
    }
    for row in &accounts {
        if let Ok(c) = credentials_of(&state.keys, row) {
            if let Some(token) = c.api_token {
                // A Proxmox token's secret half may appear alone.
                if let Some((_, secret)) = token.split_once('=') {
                    secrets.push(secret.to_owned());
                }
                secrets.push(token);
            }
            if let Some(key) = c.private_key {
                secrets.extend(key.lines().filter(|l| l.len() > 20).map(str::to_owned));
            }
        }
    }
    secrets
}
