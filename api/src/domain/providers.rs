use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::servers::{remote_resources, sync_account};
use crate::domain::teams::global_team;
use crate::entities::{provider_accounts as rows, server_requests, teams};
use crate::error::{ApiError, ApiResult};
use crate::keys::Keys;
use crate::providers::{build, AccountConfig, ComputeProvider, ProviderError};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use shared::providers::discovery::{
    not_ready_reason, CatalogDiscovery, DiscoverCatalog, DiscoveredCatalog,
};
use shared::providers::{
    Catalog, CreateProviderAccount, ProviderAccount, ProviderCredentials, ProviderKind,
    ProviderSettings,
};
use shared::servers::{ConnectionCheck, ConnectionReport, RemoteServer, SyncReport, SyncRequest};
use shared::Permission;
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

pub fn kind_of(row: &rows::Model) -> ProviderKind {
    ProviderKind::parse(&row.kind).unwrap_or(ProviderKind::Ssh)
}

/// Why requesters are not offered this account, or None when they are.
pub fn not_ready(row: &rows::Model) -> Option<&'static str> {
    not_ready_reason(kind_of(row), row.credentials.is_some(), row.last_test_ok)
}

pub fn to_dto(row: rows::Model) -> ProviderAccount {
    let not_ready_reason = not_ready(&row).map(str::to_owned);
    ProviderAccount {
        id: row.id,
        catalog: catalog_of(&row),
        settings: settings_of(&row),
        has_credentials: row.credentials.is_some(),
        kind: kind_of(&row),
        ready: not_ready_reason.is_none(),
        not_ready_reason,
        name: row.name,
        endpoint: row.endpoint,
        created_at: row.created_at,
        last_tested_at: row.last_tested_at,
        last_test_ok: row.last_test_ok,
    }
}

/// Refuses an endpoint the network policy denies (a private literal address, or a name that
/// resolves to one), as a message for the `endpoint` field.
pub async fn check_endpoint(state: &AppState, endpoint: &str) -> Result<(), String> {
    state
        .config
        .network
        .check_url_on_save(crate::exec::network_policy::Purpose::Provider, endpoint)
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

/// Never the credentials: only whether some are stored.
pub fn audit_view(row: &rows::Model) -> serde_json::Value {
    serde_json::json!({"name": row.name, "kind": row.kind, "endpoint": row.endpoint,
        "settings": row.settings, "has_credentials": row.credentials.is_some()})
}

pub async fn save(
    state: &AppState,
    auth: &AuthUser,
    id: Option<Uuid>,
    body: CreateProviderAccount,
) -> ApiResult<ProviderAccount> {
    auth.require(Permission::ProvidersManage)?;
    body.validate()?;
    check_endpoint(state, &body.endpoint)
        .await
        .map_err(|e| ApiError::field("endpoint", e))?;
    let tested = check_on_save(state, id, &body).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut clash = rows::Entity::find().filter(rows::Column::Name.eq(body.name.trim()));
    if let Some(id) = id {
        clash = clash.filter(rows::Column::Id.ne(id));
    }
    if clash.one(&txn).await?.is_some() {
        return Err(ApiError::field(
            "name",
            "a provider account with this name exists",
        ));
    }
    let now = chrono::Utc::now();
    let catalog = serde_json::to_value(&body.catalog).map_err(|e| ApiError::Internal(e.into()))?;
    let settings =
        serde_json::to_value(&body.settings).map_err(|e| ApiError::Internal(e.into()))?;
    let sealed = body
        .credentials
        .as_ref()
        .map(|c| seal_credentials(&state.keys, c))
        .transpose()?;
    let (before, saved) = match id {
        None => (
            None,
            rows::ActiveModel {
                id: Set(Uuid::new_v4()),
                name: Set(body.name.trim().to_owned()),
                kind: Set(body.kind.as_str().to_owned()),
                endpoint: Set(body.endpoint.trim().to_owned()),
                catalog: Set(catalog),
                settings: Set(Some(settings)),
                credentials: Set(sealed),
                created_at: Set(now),
                updated_at: Set(now),
                last_tested_at: Set(tested.map(|_| now)),
                last_test_ok: Set(tested),
            }
            .insert(&txn)
            .await?,
        ),
        Some(id) => {
            let row = rows::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound)?;
            let before = audit_view(&row);
            let mut active: rows::ActiveModel = row.into();
            active.name = Set(body.name.trim().to_owned());
            active.kind = Set(body.kind.as_str().to_owned());
            active.endpoint = Set(body.endpoint.trim().to_owned());
            active.catalog = Set(catalog);
            active.settings = Set(Some(settings));
            if let Some(sealed) = sealed {
                active.credentials = Set(Some(sealed));
            }
            // The save's own check replaces the last test's result.
            active.last_tested_at = Set(tested.map(|_| now));
            active.last_test_ok = Set(tested);
            active.updated_at = Set(now);
            (Some(before), active.update(&txn).await?)
        }
    };
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: if id.is_some() {
                "provider_account.update"
            } else {
                "provider_account.create"
            },
            target_type: "provider_account",
            target_id: Some(saved.id.to_string()),
            before,
            after: Some(audit_view(&saved)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(saved))
}

/// The account as typed, with the stored credentials of `account_id` when none are given.
async fn draft_config(state: &AppState, draft: &DiscoverCatalog) -> ApiResult<AccountConfig> {
    let credentials = match (&draft.credentials, draft.account_id) {
        (Some(given), _) => given.clone(),
        (None, Some(id)) => {
            let row = rows::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or(ApiError::NotFound)?;
            credentials_of(&state.keys, &row).map_err(ApiError::Unavailable)?
        }
        (None, None) => ProviderCredentials::default(),
    };
    Ok(AccountConfig {
        kind: draft.kind,
        endpoint: draft.endpoint.trim().to_owned(),
        settings: draft.settings.clone(),
        credentials,
    })
}

/// The connection test, then (whatever it said about single templates) the provider's catalogue.
async fn inspect(state: &AppState, config: AccountConfig) -> CatalogDiscovery {
    let provider = match build(config, &state.config.providers) {
        Ok(provider) => provider,
        Err(e) => {
            return CatalogDiscovery {
                report: ConnectionReport::of(vec![ConnectionCheck::of(
                    "account settings",
                    Err::<String, _>(e),
                )]),
                catalog: None,
            }
        }
    };
    let mut report = provider.test_connection().await;
    let reachable = report.checks.first().is_some_and(|c| c.ok);
    if !reachable {
        return CatalogDiscovery {
            report,
            catalog: None,
        };
    }
    // Kinds without a catalogue to read (SSH hosts) add no check.
    let catalog = match provider.discover().await {
        Ok(None) => None,
        Ok(Some(found)) => {
            report.checks.push(ConnectionCheck::of(
                "may read the catalogue",
                Ok::<_, String>(summary(&found)),
            ));
            Some(found)
        }
        Err(e) => {
            report.checks.push(ConnectionCheck::of(
                "may read the catalogue",
                Err::<String, _>(e.to_string()),
            ));
            None
        }
    };
    CatalogDiscovery {
        report: ConnectionReport::of(report.checks),
        catalog,
    }
}

fn summary(found: &DiscoveredCatalog) -> String {
    format!(
        "{} locations, {} images, {} server types",
        found.locations.len(),
        found.images.len(),
        found.server_types.len()
    )
}

/// The connection test of a saved account, with what of its catalogue the provider no longer
/// has as failed checks.
async fn live_report(state: &AppState, id: Uuid) -> ApiResult<ConnectionReport> {
    let row = rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let config = open_account(state, id)
        .await
        .map_err(ApiError::Unavailable)?;
    let found = inspect(state, config).await;
    let mut checks = found.report.checks;
    if let Some(catalog) = &found.catalog {
        for (_, message) in catalog.mismatches(kind_of(&row), &catalog_of(&row), &settings_of(&row))
        {
            checks.push(ConnectionCheck::of("catalogue", Err::<String, _>(message)));
        }
    }
    Ok(ConnectionReport::of(checks))
}

/// Reads what the provider of a saved account offers now: Ok(None) when it has no catalogue to
/// read, Err with the reason when the provider cannot be asked.
pub async fn live_catalogue(
    state: &AppState,
    id: Uuid,
) -> ApiResult<Result<Option<DiscoveredCatalog>, String>> {
    let config = open_account(state, id)
        .await
        .map_err(ApiError::Unavailable)?;
    let provider = match build(config, &state.config.providers) {
        Ok(provider) => provider,
        Err(e) => return Ok(Err(e.to_string())),
    };
    Ok(provider.discover().await.map_err(|e| e.to_string()))
}

/// Tests the connection and reads the catalogue of an account being set up.
pub async fn discover(
    state: &AppState,
    auth: &AuthUser,
    draft: DiscoverCatalog,
) -> ApiResult<CatalogDiscovery> {
    auth.require(Permission::ProvidersManage)?;
    check_endpoint(state, &draft.endpoint)
        .await
        .map_err(|e| ApiError::field("endpoint", e))?;
    let config = draft_config(state, &draft).await?;
    Ok(inspect(state, config).await)
}

/// Saving checks the account against the provider: a catalogue naming what the provider does
/// not have is refused, field by field; a failed connection is saved but marks the account not
/// ready. Returns the test result to store (None: nothing to test, e.g. no token yet).
async fn check_on_save(
    state: &AppState,
    id: Option<Uuid>,
    body: &CreateProviderAccount,
) -> ApiResult<Option<bool>> {
    if body.kind == ProviderKind::Ssh {
        return Ok(None);
    }
    let config = draft_config(state, &DiscoverCatalog::of(body, id)).await?;
    let terraform = matches!(
        body.kind,
        ProviderKind::TerraformHcloud | ProviderKind::TerraformProxmox
    );
    // A Terraform module may carry its own credentials; the REST kinds need a token.
    if config.credentials.api_token.is_none() && !terraform {
        return Ok(None);
    }
    let found = inspect(state, config).await;
    if let Some(catalog) = &found.catalog {
        let mut errors = shared::validation::FieldErrors::new();
        for (field, message) in catalog.mismatches(body.kind, &body.catalog, &body.settings) {
            errors.entry(field).or_default().push(message);
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    Ok(Some(found.report.ok))
}

pub async fn sync_team(state: &AppState, team_id: Option<Uuid>) -> ApiResult<Uuid> {
    match team_id {
        Some(id) => Ok(teams::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .ok_or_else(|| ApiError::field("team_id", "no such team"))?
            .id),
        None => Ok(global_team(&state.db)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the Global team is missing")))?
            .id),
    }
}

pub async fn list(state: &AppState, auth: &AuthUser) -> ApiResult<Vec<ProviderAccount>> {
    auth.require(Permission::RequestsCreate)?;
    let found = rows::Entity::find()
        .order_by_asc(rows::Column::Name)
        .all(&state.db)
        .await?;
    // Requesters are offered only accounts that can build what they ask for, and see what they
    // may request from, not how Provisio reaches the provider.
    let managing = auth.can(Permission::ProvidersManage);
    Ok(found
        .into_iter()
        .filter(|row| managing || not_ready(row).is_none())
        .map(to_dto)
        .map(|account| {
            if managing {
                account
            } else {
                offered_view(account)
            }
        })
        .collect())
}

/// An account as those who request servers see it: its name, kind and catalogue. The endpoint
/// and the settings (storage, bridge, TLS pins, SSH user and port, Terraform module) stay with
/// those who manage providers; the image mapping stays because it says which images make
/// containers, which the deploy form needs.
fn offered_view(account: ProviderAccount) -> ProviderAccount {
    ProviderAccount {
        endpoint: String::new(),
        settings: ProviderSettings {
            images: account.settings.images.clone(),
            ..ProviderSettings::default()
        },
        ..account
    }
}

pub async fn remove(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    auth.require(Permission::ProvidersManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = rows::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let used = server_requests::Entity::find()
        .filter(server_requests::Column::ProviderAccountId.eq(row.id))
        .count(&txn)
        .await?;
    if used > 0 {
        return Err(ApiError::Conflict(format!(
            "{used} server request(s) refer to this account"
        )));
    }
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "provider_account.delete",
            target_type: "provider_account",
            target_id: Some(row.id.to_string()),
            before: Some(audit_view(&row)),
            after: None,
        },
    )
    .await?;
    // Teams that sent new guests here by default name no account any more.
    teams::Entity::update_many()
        .col_expr(
            teams::Column::DefaultProviderAccountId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .filter(teams::Column::DefaultProviderAccountId.eq(row.id))
        .exec(&txn)
        .await?;
    row.delete(&txn).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn test_connection(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<ConnectionReport> {
    auth.require(Permission::ProvidersManage)?;
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let report = live_report(state, id).await?;
    rows::Entity::update_many()
        .col_expr(rows::Column::LastTestedAt, Expr::value(chrono::Utc::now()))
        .col_expr(rows::Column::LastTestOk, Expr::value(report.ok))
        .filter(rows::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "provider_account.test",
            target_type: "provider_account",
            target_id: Some(id.to_string()),
            before: None,
            after: Some(serde_json::json!({"ok": report.ok})),
        },
    )
    .await?;
    Ok(report)
}

pub async fn resources(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
) -> ApiResult<Vec<RemoteServer>> {
    auth.require(Permission::ProvidersManage)?;
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    remote_resources(state, id).await
}

pub async fn sync(
    state: &AppState,
    auth: &AuthUser,
    id: Uuid,
    body: SyncRequest,
) -> ApiResult<SyncReport> {
    auth.require(Permission::ProvidersManage)?;
    rows::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let team = sync_team(state, body.team_id).await?;
    sync_account(state, auth, id, team, body.dry_run).await
}

pub async fn accounts(
    state: &AppState,
    kind: ProviderKind,
    only: Option<Uuid>,
) -> ApiResult<Vec<Uuid>> {
    let mut select = rows::Entity::find()
        .filter(rows::Column::Kind.eq(kind.as_str()))
        .order_by_asc(rows::Column::Name);
    if let Some(id) = only {
        select = select.filter(rows::Column::Id.eq(id));
    }
    // Accounts without credentials cannot be asked; they are skipped unless named.
    let found: Vec<Uuid> = select
        .all(&state.db)
        .await?
        .into_iter()
        .filter(|a| only.is_some() || a.credentials.is_some())
        .map(|a| a.id)
        .collect();
    if only.is_some() && found.is_empty() {
        return Err(ApiError::field(
            "provider_account_id",
            format!("not a {} account", kind.as_str()),
        ));
    }
    Ok(found)
}

pub async fn resources_of(
    state: &AppState,
    auth: &AuthUser,
    kind: ProviderKind,
    only: Option<Uuid>,
) -> ApiResult<Vec<RemoteServer>> {
    auth.require(Permission::ProvidersManage)?;
    let mut all = Vec::new();
    for id in accounts(state, kind, only).await? {
        all.extend(remote_resources(state, id).await?);
    }
    Ok(all)
}

pub async fn sync_of(
    state: &AppState,
    auth: &AuthUser,
    kind: ProviderKind,
    body: SyncRequest,
) -> ApiResult<SyncReport> {
    auth.require(Permission::ProvidersManage)?;
    let team = sync_team(state, body.team_id).await?;
    let mut merged = SyncReport {
        dry_run: body.dry_run,
        ..Default::default()
    };
    for id in accounts(state, kind, body.provider_account_id).await? {
        let r = sync_account(state, auth, id, team, body.dry_run).await?;
        merged.new.extend(r.new);
        merged.changed.extend(r.changed);
        merged.gone.extend(r.gone);
        merged.unchanged += r.unchanged;
    }
    if !body.dry_run {
        crate::domain::audit::record(
            &state.db,
            &auth.context,
            crate::domain::audit::AuditEntry {
                actor: Some(auth.id()),
                action: "provider.sync_all",
                target_type: "provider_kind",
                target_id: Some(kind.as_str().to_owned()),
                before: None,
                after: Some(serde_json::json!({
                    "new": merged.new.len(), "changed": merged.changed.len(),
                    "gone": merged.gone.len(), "unchanged": merged.unchanged
                })),
            },
        )
        .await?;
    }
    Ok(merged)
}
