//! Self-registration, off until an administrator opens it. A new account joins the team and role
//! the policy names (never the administrator role) and may sign in once what the policy asks is
//! done: its e-mail address confirmed through a one-time link (kept as a digest, good for a day),
//! an administrator's approval, or both in that order. Registrations are limited per client
//! address; every registration, confirmation and approval is audited.

use crate::auth::{secrets, AuthUser, RequestContext};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::notify::{self, NewNotification, Notifier, OutgoingMessage};
use crate::domain::{settings, users as accounts};
use crate::entities::{email_confirmations as links, teams, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};
use shared::dto::{CreateUser, User};
use shared::registration::{
    RegisterRequest, Registered, RegistrationInfo, RegistrationPolicy, RegistrationStep,
};
use shared::{Permission, Role};
use uuid::Uuid;

const POLICY_KEY: &str = "registration";
const LINK_PREFIX: &str = "pvc_";
const LINK_HOURS: i64 = 24;

pub async fn policy<C: ConnectionTrait>(db: &C) -> Result<RegistrationPolicy, DbErr> {
    settings::load(db, POLICY_KEY).await
}

/// What the sign-in page shows: whether it offers "Create an account", and what follows.
pub async fn info<C: ConnectionTrait>(db: &C) -> Result<RegistrationInfo, DbErr> {
    Ok(RegistrationInfo::from(&policy(db).await?))
}

pub async fn save_policy(
    state: &AppState,
    auth: &AuthUser,
    input: RegistrationPolicy,
) -> ApiResult<RegistrationPolicy> {
    auth.require(Permission::UsersManage)?;
    input.validate()?;
    if input.mode.needs_email() && state.config.smtp_url.is_none() {
        return Err(ApiError::field(
            "mode",
            "e-mail is not set up on this server (PROVISIO_SMTP_URL), so confirmation links \
             cannot be sent: choose approval by an administrator, or set up e-mail first",
        ));
    }
    if let Some(team_id) = input.team_id {
        if teams::Entity::find_by_id(team_id)
            .one(&state.db)
            .await?
            .is_none()
        {
            return Err(ApiError::field(
                "team_id",
                "names a team that does not exist",
            ));
        }
    }
    settings::save(state, auth, POLICY_KEY, "settings.registration", &input).await?;
    Ok(input)
}

/// Counts a registration or a request for a new link against the client's address.
fn count_attempt(state: &AppState, context: &RequestContext) -> ApiResult<()> {
    match state.registration_limiter.check_address(context.ip) {
        Some(retry_after_secs) => Err(ApiError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

/// The policy, when registration is open; refused (before the body is read) when it is not.
pub async fn require_open<C: ConnectionTrait>(db: &C) -> ApiResult<RegistrationPolicy> {
    let policy = policy(db).await?;
    if policy.mode == shared::registration::RegistrationMode::Off {
        return Err(ApiError::ForbiddenBecause(
            "this server does not take registrations: ask an administrator for an account",
        ));
    }
    Ok(policy)
}

/// Creates the account of someone signing up under `policy` (from [`require_open`]), and sends
/// the confirmation link or tells the administrators, as the policy asks.
pub async fn register(
    state: &AppState,
    context: &RequestContext,
    policy: RegistrationPolicy,
    input: RegisterRequest,
) -> ApiResult<Registered> {
    count_attempt(state, context)?;
    input.validate()?;
    let needs_email = policy.mode.needs_email();
    let needs_approval = policy.mode.needs_approval();
    let user = accounts::create(
        &state.db,
        context,
        None,
        CreateUser {
            username: input.username,
            email: input.email,
            full_name: input.full_name,
            password: input.password,
            roles: vec![policy.role],
            team_ids: policy.team_id.into_iter().collect(),
        },
        accounts::Admission {
            confirmed: !needs_email,
            awaiting_approval: needs_approval,
        },
    )
    .await?;
    if needs_email {
        match send_link(state, &user).await {
            Ok(()) => {}
            // The account exists: say so, and how to get the link, rather than a failure that
            // would send the person to register again under a name now taken.
            Err(ApiError::Unavailable(_)) => {
                return Ok(Registered {
                    next: RegistrationStep::ConfirmEmail,
                    message: format!(
                        "Your account is created, but the e-mail to confirm {} could not be \
                         sent right now. Ask for the link again in a few minutes.",
                        user.email
                    ),
                })
            }
            Err(other) => return Err(other),
        }
        return Ok(Registered {
            next: RegistrationStep::ConfirmEmail,
            message: format!(
                "We sent a link to {} to confirm the address. Follow it within {LINK_HOURS} \
                 hours{}.",
                user.email,
                if needs_approval {
                    "; an administrator then lets the account in"
                } else {
                    ", then sign in"
                }
            ),
        });
    }
    tell_administrators(state, &user).await?;
    Ok(Registered {
        next: RegistrationStep::AwaitApproval,
        message: waiting_message(state, "Your account waits for an administrator's approval."),
    })
}

/// A new link for an account whose address is not confirmed yet. Answers alike whether or not
/// such an account exists, so it tells nobody which addresses are registered.
pub async fn resend(state: &AppState, context: &RequestContext, email: &str) -> ApiResult<()> {
    count_attempt(state, context)?;
    let found = users::Entity::find()
        .filter(users::Column::Email.eq(email.trim().to_lowercase()))
        .filter(users::Column::ConfirmedAt.is_null())
        .filter(users::Column::Active.eq(true))
        .one(&state.db)
        .await?;
    if let Some(user) = found {
        send_link(state, &accounts::to_dto(user, vec![])).await?;
    }
    Ok(())
}

/// Mails a fresh one-time link; earlier links of the account stop working.
async fn send_link(state: &AppState, user: &User) -> ApiResult<()> {
    let Some(smtp_url) = state.config.smtp_url.as_deref() else {
        return Err(ApiError::Unavailable(
            "e-mail is not set up on this server, so no confirmation link can be sent; ask an \
             administrator"
                .into(),
        ));
    };
    let token = secrets::random_secret(LINK_PREFIX);
    let now = chrono::Utc::now();
    links::Entity::delete_many()
        .filter(links::Column::UserId.eq(user.id))
        .exec(&state.db)
        .await?;
    links::ActiveModel {
        digest: Set(secrets::digest(&token)),
        user_id: Set(user.id),
        expires_at: Set(now + chrono::Duration::hours(LINK_HOURS)),
        created_at: Set(now),
    }
    .insert(&state.db)
    .await?;
    // Sent now rather than queued: the link is a secret, and a queued message would keep it
    // readable in the database until delivered. If sending fails, "send it again" retries.
    let mailer =
        notify::email_notifier(smtp_url, &state.config.smtp_from).map_err(ApiError::Internal)?;
    let url = format!(
        "{}/confirm-email?token={token}",
        state.config.public_url.trim_end_matches('/')
    );
    mailer
        .send(&OutgoingMessage {
            delivery_id: Uuid::new_v4(),
            notification_id: Uuid::new_v4(),
            kind: "account.confirm".into(),
            title: "Confirm your e-mail address".into(),
            body: format!(
                "Hello {},\n\nsomeone (we hope you) created the Provisio account \"{}\" with this \
                 address. Open the link below within {LINK_HOURS} hours to confirm it. If it was \
                 not you, ignore this message: the account cannot be used without it.",
                display_name(user),
                user.username
            ),
            url: Some(url),
            recipient: user.email.clone(),
            created_at: now,
        })
        .await
        .map_err(|why| {
            tracing::warn!(user = %user.id, "confirmation e-mail not sent: {why}");
            ApiError::Unavailable(
                "the confirmation e-mail could not be sent right now; ask for it again in a few \
                 minutes"
                    .into(),
            )
        })
}

/// `first`, and how the person learns of the approval: by e-mail only where e-mail is set up.
fn waiting_message(state: &AppState, first: &str) -> String {
    if state.config.smtp_url.is_some() {
        format!("{first} You will get an e-mail when you can sign in.")
    } else {
        format!("{first} Try signing in again later.")
    }
}

fn display_name(user: &User) -> &str {
    if user.full_name.is_empty() {
        &user.username
    } else {
        &user.full_name
    }
}

/// Follows a link: confirms the address once, within its time. The account may then sign in,
/// or waits for an administrator when the policy asks for both.
pub async fn confirm(
    state: &AppState,
    context: &RequestContext,
    token: &str,
) -> ApiResult<Registered> {
    const INVALID: &str =
        "this link is not valid any more (it was used, replaced or is over a day old): ask for a \
         new one on the registration page";
    let txn = crate::db::begin_write(&state.db).await?;
    let link = links::Entity::find_by_id(secrets::digest(token.trim()))
        .one(&txn)
        .await?
        .filter(|l| l.expires_at > chrono::Utc::now())
        .ok_or_else(|| ApiError::Gone(INVALID.into()))?;
    links::Entity::delete_by_id(link.digest.clone())
        .exec(&txn)
        .await?;
    let now = chrono::Utc::now();
    let confirmed = users::Entity::update_many()
        .col_expr(users::Column::ConfirmedAt, Expr::value(now))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .filter(users::Column::Id.eq(link.user_id))
        .filter(users::Column::ConfirmedAt.is_null())
        .exec(&txn)
        .await?;
    if confirmed.rows_affected == 0 {
        return Err(ApiError::Gone(INVALID.into()));
    }
    let user = users::Entity::find_by_id(link.user_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    audit::record(
        &txn,
        context,
        AuditEntry {
            actor: Some(user.id),
            action: "user.confirm_email",
            target_type: "user",
            target_id: Some(user.id.to_string()),
            before: None,
            after: Some(serde_json::json!({ "email": user.email })),
        },
    )
    .await?;
    txn.commit().await?;
    if user.awaiting_approval {
        tell_administrators(state, &accounts::to_dto(user, vec![])).await?;
        return Ok(Registered {
            next: RegistrationStep::AwaitApproval,
            message: waiting_message(
                state,
                "Your address is confirmed. An administrator now has to let the account in.",
            ),
        });
    }
    Ok(Registered {
        next: RegistrationStep::Ready,
        message: "Your address is confirmed: you can sign in now.".into(),
    })
}

/// An administrator lets a waiting registration in; the person hears of it by e-mail.
pub async fn approve(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<User> {
    auth.require(Permission::UsersManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let approved = users::Entity::update_many()
        .col_expr(users::Column::AwaitingApproval, Expr::value(false))
        .col_expr(users::Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::AwaitingApproval.eq(true))
        .exec(&txn)
        .await?;
    let user = users::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if approved.rows_affected == 0 {
        return Err(ApiError::Conflict(format!(
            "{} is not waiting for approval",
            user.username
        )));
    }
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "user.approve",
            target_type: "user",
            target_id: Some(id.to_string()),
            before: Some(serde_json::json!({ "awaiting_approval": true })),
            after: Some(serde_json::json!({ "awaiting_approval": false })),
        },
    )
    .await?;
    let ready = user.confirmed_at.is_some();
    notify::notify(
        &txn,
        state.config.smtp_url.is_some(),
        &[id],
        None,
        &NewNotification {
            kind: "account.approved",
            title: "Your Provisio account is approved".into(),
            body: if ready {
                "An administrator let your account in: you can sign in now.".into()
            } else {
                "An administrator let your account in. Confirm your e-mail address with the \
                 link we sent, then sign in."
                    .into()
            },
            link: Some("/login".into()),
        },
    )
    .await?;
    let teams = accounts::teams_by_user(&txn, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    txn.commit().await?;
    Ok(accounts::to_dto(user, teams))
}

/// Tells the administrators that someone waits for approval (once the address is confirmed,
/// when the policy asks for that too).
async fn tell_administrators(state: &AppState, user: &User) -> ApiResult<()> {
    if !user.awaiting_approval {
        return Ok(());
    }
    let admins = accounts::active_with_role(&state.db, Role::Admin).await?;
    notify::notify(
        &state.db,
        state.config.smtp_url.is_some(),
        &admins,
        None,
        &NewNotification {
            kind: "account.registered",
            title: format!("{} registered and waits for approval", user.username),
            body: format!(
                "{} <{}> created an account. Approve it on the users page, or deactivate it.",
                display_name(user),
                user.email
            ),
            link: Some("/admin/users".into()),
        },
    )
    .await?;
    Ok(())
}
