//! Sign-in, refresh-token rotation with reuse detection, and sign-out.

use crate::auth::{password, secrets, RequestContext};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::users::me;
use crate::entities::{refresh_tokens, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
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
) -> Result<String, DbErr> {
    let secret = secrets::random_secret(REFRESH_PREFIX);
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
    refresh_secret: String,
) -> ApiResult<Session> {
    let access_token = state
        .jwt
        .issue(user.id, user.session_version)
        .map_err(ApiError::Internal)?;
    Ok(Session {
        response: TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: state.jwt.ttl.as_secs(),
            user: me(db, user).await?,
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
    if let Some(retry_after_secs) = state.login_limiter.check(&login, context.ip) {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let user = users::Entity::find()
        .filter(
            Condition::any()
                .add(users::Column::Username.eq(login.clone()))
                .add(users::Column::Email.eq(login.clone())),
        )
        .one(&state.db)
        .await?;
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
            state.login_limiter.record_failure(&login);
            return Err(ApiError::Unauthenticated(BAD_CREDENTIALS));
        }
    };
    if !user.active {
        return Err(ApiError::Unauthenticated("this account is deactivated"));
    }
    state.login_limiter.record_success(&login);
    let txn = crate::db::begin_write(&state.db).await?;
    let mut active: users::ActiveModel = user.clone().into();
    active.last_login_at = Set(Some(chrono::Utc::now()));
    let user = active.update(&txn).await?;
    let refresh = issue_refresh(&txn, state, user.id, Uuid::new_v4()).await?;
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
    let session = session_for(&txn, state, &user, refresh).await?;
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

/// Exchanges a refresh secret for a new access token and a new refresh secret.
/// Presenting a secret that was already rotated revokes its whole family: someone holds a copy.
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
    let next = issue_refresh(&txn, state, user.id, row.family_id).await?;
    let session = session_for(&txn, state, &user, next).await?;
    txn.commit().await?;
    Ok(session)
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
