//! A new server request: checked against the team, the provider catalog and the subscription,
//! then auto-approved by the team's policy or sent to the first step's approvers.

use super::link;
use super::policy::{eligible_users, load_policy};
use super::transitions::{apply, audit_change, event};
use crate::auth::AuthUser;
use crate::domain::notify::{notify, NewNotification};
use crate::domain::users::active_with_role;
use crate::domain::{jobs, providers};
use crate::entities::{provider_accounts, server_requests as rows};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::{ActiveModelTrait, DatabaseTransaction, EntityTrait, Set};
use shared::policies::policy::auto_approves;
use shared::requests::CreateServerRequest;
use shared::workflow::{RequestAction, RequestStatus};
use shared::{Permission, Role};
use uuid::Uuid;

pub async fn create(
    state: &AppState,
    auth: &AuthUser,
    input: CreateServerRequest,
) -> ApiResult<Uuid> {
    let txn = crate::db::begin_write(&state.db).await?;
    let id = create_in(&txn, state, auth, input).await?;
    txn.commit().await?;
    Ok(id)
}

/// `create` inside the caller's transaction (a deployment onto a new server requests it).
pub async fn create_in(
    txn: &DatabaseTransaction,
    state: &AppState,
    auth: &AuthUser,
    input: CreateServerRequest,
) -> ApiResult<Uuid> {
    auth.require(Permission::RequestsCreate)?;
    input.validate()?;
    let mut errors = shared::validation::FieldErrors::new();
    let mut field =
        |name: &str, message: String| errors.entry(name.to_owned()).or_default().push(message);
    if !crate::domain::teams::may_use_team(txn, auth, input.team_id).await? {
        field(
            "team_id",
            "you can only request servers for a team you belong to".into(),
        );
    }
    let account = provider_accounts::Entity::find_by_id(input.provider_account_id)
        .one(txn)
        .await?;
    let mut resolved = None;
    if let Some(reason) = account.as_ref().and_then(providers::not_ready) {
        field(
            "provider_account_id",
            format!("this account cannot take requests now: {reason}; an administrator can fix it under Providers"),
        );
    }
    match account.as_ref().map(providers::catalog_of) {
        None => field("provider_account_id", "no such provider account".into()),
        Some(catalog) => {
            if !catalog.locations.contains(&input.location) {
                field(
                    "location",
                    format!("must be one of {}", catalog.locations.join(", ")),
                );
            }
            if !catalog.images.contains(&input.image) {
                field(
                    "image",
                    format!("must be one of {}", catalog.images.join(", ")),
                );
            }
            match catalog.resolve(
                input.server_type.as_deref(),
                input.cpu,
                input.ram_mb,
                input.disk_gb,
            ) {
                Ok(size) => resolved = Some((size, catalog.currency.clone())),
                Err((name, message)) => field(name, message),
            }
        }
    }
    if let Some(subscription) = input.subscription_id {
        let found = crate::entities::subscriptions::Entity::find_by_id(subscription)
            .one(txn)
            .await?;
        if found.is_none_or(|s| s.team_id != input.team_id) {
            field(
                "subscription_id",
                "no such subscription of this team".into(),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (size, currency) = resolved.expect("resolved when there are no errors");
    let policy = load_policy(txn, input.team_id).await?;
    let now = chrono::Utc::now();
    let id = Uuid::new_v4();
    let row = rows::ActiveModel {
        id: Set(id),
        requester_id: Set(auth.id()),
        team_id: Set(input.team_id),
        provider_account_id: Set(input.provider_account_id),
        hostname: Set(input.hostname.to_lowercase()),
        location: Set(input.location),
        server_type: Set(input.server_type),
        cpu: Set(size.cpu as i32),
        ram_mb: Set(size.ram_mb as i32),
        disk_gb: Set(size.disk_gb as i32),
        image: Set(input.image),
        purpose: Set(input.purpose.trim().to_owned()),
        ssh_public_keys: Set(serde_json::json!(input.ssh_public_keys)),
        notes: Set(input.notes.trim().to_owned()),
        status: Set(RequestStatus::Pending.as_str().into()),
        estimated_monthly_cents: Set(size.monthly_cents),
        currency: Set(size.monthly_cents.map(|_| currency)),
        rejection_reason: Set(None),
        policy_step: Set(0),
        failure_reason: Set(None),
        subscription_id: Set(input.subscription_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    event(
        txn,
        id,
        Some(auth.id()),
        "created",
        None,
        Some(RequestStatus::Pending),
        "",
    )
    .await?;
    let email = state.config.smtp_url.is_some();
    let auto = policy
        .auto_approve
        .as_ref()
        .is_some_and(|rule| auto_approves(rule, size.cpu, size.monthly_cents));
    if auto {
        apply(
            txn,
            &row,
            RequestAction::Approve,
            None,
            vec![],
            "auto-approved by the team's policy",
        )
        .await?;
        jobs::enqueue(
            txn,
            jobs::JobKind::Provision,
            &jobs::provision_key(id),
            serde_json::json!({"request_id": id}),
        )
        .await?;
        notify(txn, email, &[auth.id()], None, &NewNotification {
            kind: "request.approved",
            title: format!("Request approved: {}", row.hostname),
            body: "Your request matched the team's auto-approval rule and is queued for provisioning.".into(),
            link: link(id),
        })
        .await?;
    } else {
        let approvers = eligible_users(txn, &policy.steps[0], row.team_id).await?;
        let approvers = if approvers.is_empty() {
            active_with_role(txn, Role::Admin).await?
        } else {
            approvers
        };
        notify(
            txn,
            email,
            &approvers,
            Some(auth.id()),
            &NewNotification {
                kind: "request.pending",
                title: format!("New server request: {}", row.hostname),
                body: format!(
                    "{} requested {} ({} vCPU, {} MB RAM, {} GB disk): {}",
                    auth.user.username, row.hostname, row.cpu, row.ram_mb, row.disk_gb, row.purpose
                ),
                link: link(id),
            },
        )
        .await?;
    }
    audit_change(txn, auth, "request.create", None, id).await?;
    Ok(id)
}
