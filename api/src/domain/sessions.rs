//! Sign-in, refresh-token rotation with reuse detection, and sign-out.

use crate::auth::{password, secrets, RequestContext};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::sign_in_guard;
use crate::domain::users::me;
use crate::entities::{refresh_tokens, stream_tickets, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, Set,
};
use shared::dto::{LoginRequest, TokenResponse};
use uuid::Uuid;

pub const REFRESH_PREFIX: &str = "pvr_";

pub struct Session {
    pub response: TokenResponse,
    /// The new refresh secret, for the httpOnly cookie.
    pub refresh_secret: String,
}

const BAD_CREDENTIALS: &str = "the username or password is wrong";

async fn issue_refresh<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    user_id: Uuid,
    family_id: Uuid,
    secret: String,
) -> Result<String, DbErr> {
    let now = chrono::Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(secrets::digest(&secret)),
        created_at: Set(now),
        expires_at: Set(now
            + chrono::Duration::from_std(state.config.refresh_token_ttl)
                .unwrap_or(chrono::Duration::days(14))),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(secret)
}

async fn session_for<C: ConnectionTrait>(
    db: &C,
    state: &AppState,
    user: &users::Model,
    family_id: Uuid,
    refresh_secret: String,
) -> ApiResult<Session> {
    let me = me(db, user).await?;
    // Re-decided at every refresh: a policy change or a finished set-up shows in the next token.
    let enrol = me.two_factor.required && !me.two_factor.enabled;
    let access_token = state
        .jwt
        .issue(user.id, user.session_version, family_id, enrol)
        .map_err(ApiError::Internal)?;
    Ok(Session {
        response: TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.jwt.ttl.as_secs(),
            user: me,
        },
        refresh_secret,
    })
}

pub async fn login(
    state: &AppState,
    context: &RequestContext,
    input: LoginRequest,
) -> ApiResult<Session> {
    let login = input.login.trim().to_lowercase();
    if login.is_empty() || input.password.is_empty() {
        let mut v = shared::validation::Validator::new();
        v.check(
            "login",
            if login.is_empty() {
                Err("is required".into())
            } else {
                Ok(())
            },
        )
        .check(
            "password",
            if input.password.is_empty() {
                Err("is required".into())
            } else {
                Ok(())
            },
        );
        v.finish()?;
    }
    let user = users::Entity::find()
        .filter(
            Condition::any()
                .add(users::Column::Username.eq(login.clone()))
                .add(users::Column::Email.eq(login.clone())),
        )
        .one(&state.db)
        .await?;
    // Failures count against the account, not the text typed: its username and its e-mail
    // share one budget. A name that is no account counts under itself.
    let account = sign_in_guard::account_key(user.as_ref(), &login);
    sign_in_guard::admit(state, &account, user.as_ref().map(|u| u.id), context.ip).await?;
    let plain = input.password;
    let verified = match &user {
        Some(u) => {
            let hash = u.password_hash.clone();
            tokio::task::spawn_blocking(move || password::verify(&plain, &hash)).await
        }
        None => {
            tokio::task::spawn_blocking(move || {
                password::verify_against_dummy(&plain);
                false
            })
            .await
        }
    }
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("password check failed: {e}")))?;
    let user = match user {
        Some(u) if verified => u,
        _ => {
            sign_in_guard::failed(state, context, &account, user.as_ref()).await?;
            return Err(ApiError::Unauthenticated(BAD_CREDENTIALS));
        }
    };
    if !user.active {
        return Err(ApiError::Unauthenticated("this account is deactivated"));
    }
    // Told only to whoever knows the password.
    if user.confirmed_at.is_none() {
        return Err(ApiError::Unauthenticated(
            "confirm your e-mail address first: follow the link in the e-mail we sent when you \
             registered, or ask for a new one",
        ));
    }
    if user.awaiting_approval {
        return Err(ApiError::Unauthenticated(
            "an administrator has not approved this account yet; you will get an e-mail when \
             you can sign in",
        ));
    }
    crate::domain::two_factor::check_sign_in(
        state,
        context,
        &account,
        &user,
        input.code.as_deref(),
    )
    .await?;
    sign_in_guard::succeeded(state, &account, user.id, context.ip).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut active: users::ActiveModel = user.clone().into();
    active.last_login_at = Set(Some(chrono::Utc::now()));
    let user = active.update(&txn).await?;
    let family_id = Uuid::new_v4();
    let refresh = issue_refresh(
        &txn,
        state,
        user.id,
        family_id,
        secrets::random_secret(REFRESH_PREFIX),
    )
    .await?;
    audit::record(
        &txn,
        context,
        AuditEntry {
            actor: Some(user.id),
            action: "session.login",
            target_type: "user",
            target_id: Some(user.id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    let session = session_for(&txn, state, &user, family_id, refresh).await?;
    txn.commit().await?;
    Ok(session)
}

async fn revoke_family<C: ConnectionTrait>(db: &C, family_id: Uuid) -> Result<(), DbErr> {
    refresh_tokens::Entity::update_many()
        .col_expr(
            refresh_tokens::Column::RevokedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

const SESSION_ENDED: &str = "the session has ended; sign in again";

/// How long a rotated refresh secret, presented again, still gets its successor back instead of
/// ending the session: two tabs (or a retried request) refreshing at the same moment.
const REFRESH_GRACE_SECS: i64 = 10;

/// Exchanges a refresh secret for a new access token and a new refresh secret.
/// Presenting a secret that was already rotated, after the grace window, revokes its whole
/// family: someone holds a copy.
pub async fn refresh(state: &AppState, secret: &str) -> ApiResult<Session> {
    let now = chrono::Utc::now();
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secrets::digest(secret)))
        .one(&state.db)
        .await?
        .ok_or(ApiError::Unauthenticated(SESSION_ENDED))?;
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Err(ApiError::Unauthenticated(SESSION_ENDED));
    }
    let successor = secrets::successor_secret(&state.keys.jwt_secret, REFRESH_PREFIX, secret);
    let txn = crate::db::begin_write(&state.db).await?;
    // One conditional UPDATE decides which of two concurrent refreshes wins.
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed == 0 {
        if let Some(session) = replay_within_grace(&txn, state, row.id, &successor, now).await? {
            txn.commit().await?;
            return Ok(session);
        }
        revoke_family(&txn, row.family_id).await?;
        txn.commit().await?;
        tracing::warn!(user_id = %row.user_id, family = %row.family_id, "refresh token reuse detected; family revoked");
        return Err(ApiError::Unauthenticated(SESSION_ENDED));
    }
    let user = users::Entity::find_by_id(row.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthenticated(SESSION_ENDED))?;
    let next = issue_refresh(&txn, state, user.id, row.family_id, successor).await?;
    let session = session_for(&txn, state, &user, row.family_id, next).await?;
    txn.commit().await?;
    Ok(session)
}

/// The session a rotated secret already led to, when it is presented again within the grace
/// window and its successor is still the family's live, unused secret; none otherwise.
async fn replay_within_grace(
    txn: &DatabaseTransaction,
    state: &AppState,
    rotated_id: Uuid,
    successor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Option<Session>> {
    let Some(rotated) = refresh_tokens::Entity::find_by_id(rotated_id)
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let fresh = rotated.revoked_at.is_none()
        && rotated
            .used_at
            .is_some_and(|at| now - at <= chrono::Duration::seconds(REFRESH_GRACE_SECS));
    if !fresh {
        return Ok(None);
    }
    let Some(next) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secrets::digest(successor)))
        .filter(refresh_tokens::Column::FamilyId.eq(rotated.family_id))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .one(txn)
        .await?
    else {
        return Ok(None);
    };
    let Some(user) = users::Entity::find_by_id(next.user_id)
        .one(txn)
        .await?
        .filter(|u| u.active)
    else {
        return Ok(None);
    };
    Ok(Some(
        session_for(txn, state, &user, next.family_id, successor.to_owned()).await?,
    ))
}

/// Revokes the family of the presented refresh secret; unknown secrets are ignored.
pub async fn logout(state: &AppState, context: &RequestContext, secret: &str) -> ApiResult<()> {
    let Some(row) = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(secrets::digest(secret)))
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    let txn = crate::db::begin_write(&state.db).await?;
    revoke_family(&txn, row.family_id).await?;
    audit::record(
        &txn,
        context,
        AuditEntry {
            actor: Some(row.user_id),
            action: "session.logout",
            target_type: "user",
            target_id: Some(row.user_id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller changes their own password. It takes the current one, so it is a way to guess
/// passwords too: wrong ones count against the same per-account limit as sign-in's, and an API
/// token (long-lived, used by scripts) may not do it at all.
pub async fn change_own_password(
    state: &AppState,
    auth: &crate::auth::AuthUser,
    input: shared::dto::ChangePassword,
) -> ApiResult<()> {
    if auth.api_token_id.is_some() {
        return Err(ApiError::ForbiddenBecause(
            "a password is changed when signed in with it, not with an API token",
        ));
    }
    input.validate()?;
    let account = sign_in_guard::account_key(Some(&auth.user), "");
    sign_in_guard::admit(state, &account, Some(auth.id()), auth.context.ip).await?;
    let hash = auth.user.password_hash.clone();
    let current = input.current_password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&current, &hash))
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("password check failed: {e}")))?;
    if !ok {
        sign_in_guard::failed(state, &auth.context, &account, Some(&auth.user)).await?;
        return Err(ApiError::field(
            "current_password",
            "is not your current password",
        ));
    }
    sign_in_guard::succeeded(state, &account, auth.id(), auth.context.ip).await?;
    crate::domain::users::set_password(
        &state.db,
        &auth.context,
        auth.id(),
        auth.id(),
        input.new_password,
        "user.change_password",
    )
    .await
}

/// How long a stream ticket may wait before it is used: enough for the browser to open the
/// connection right after asking, too little to be worth stealing from a log.
const STREAM_TICKET_SECS: u64 = 30;

/// Issues a single-use ticket for one stream path, tied to the caller's session (or API token)
/// so that ending the session also refuses the ticket. Expired tickets are swept here, where
/// new ones are written.
pub async fn issue_stream_ticket(
    state: &AppState,
    auth: &crate::auth::AuthUser,
    input: shared::dto::StreamTicketRequest,
) -> ApiResult<shared::dto::StreamTicket> {
    input.validate()?;
    let now = chrono::Utc::now();
    stream_tickets::Entity::delete_many()
        .filter(stream_tickets::Column::ExpiresAt.lt(now))
        .exec(&state.db)
        .await?;
    let ticket = secrets::random_secret(crate::auth::extractor::STREAM_TICKET_PREFIX);
    stream_tickets::ActiveModel {
        ticket_hash: Set(secrets::digest(&ticket)),
        user_id: Set(auth.id()),
        family_id: Set(auth.session_id),
        api_token_id: Set(auth.api_token_id),
        session_version: Set(auth.user.session_version),
        path: Set(input.path),
        expires_at: Set(now + chrono::Duration::seconds(STREAM_TICKET_SECS as i64)),
    }
    .insert(&state.db)
    .await?;
    Ok(shared::dto::StreamTicket {
        ticket,
        expires_in: STREAM_TICKET_SECS,
    })
}
