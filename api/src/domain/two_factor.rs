//! Two-factor sign-in with TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of clock
//! drift either way). Enrolment stores a pending secret and takes effect with the first code
//! from the app, which also gives ten recovery codes (kept as SHA-256 digests, each good once).
//! At sign-in a code is accepted once: the step it matched is recorded with a conditional UPDATE,
//! so the same code (or an older one) does not sign in again. Wrong codes count against the
//! account like wrong passwords (`sign_in_guard`). An administrator may reset a user's second
//! factor. The policy names roles that must use it: their browser sessions may only set it up
//! until they have (the access token's `enrol` claim). API tokens are not asked for a code.

use crate::auth::{secrets, AuthUser, RequestContext};
use crate::domain::audit::{self, AuditEntry};
use crate::domain::{settings, sign_in_guard};
use crate::entities::{recovery_codes, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use shared::roles::parse_role_list;
use shared::two_factor::{
    normalize_code, RecoveryCodes, TotpEnrolment, TwoFactorPolicy, TwoFactorState,
};
use shared::Permission;
use totp_rs::{Algorithm, Secret, TOTP};
use uuid::Uuid;

const ISSUER: &str = "Provisio";
const STEP_SECONDS: u64 = 30;
const RECOVERY_CODE_COUNT: usize = 10;
const POLICY_KEY: &str = "two_factor";

fn totp(secret: Vec<u8>, account: &str) -> ApiResult<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECONDS,
        secret,
        Some(ISSUER.to_owned()),
        account.to_owned(),
    )
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("building the TOTP: {e}")))
}

fn opened(state: &AppState, sealed: &str, account: &str) -> ApiResult<TOTP> {
    let base32 = state.keys.open(sealed)?;
    let bytes = Secret::Encoded(base32)
        .to_bytes()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a stored TOTP secret: {e:?}")))?;
    totp(bytes, account)
}

/// The time step `code` belongs to, within one step of now; `None` when it matches none.
fn matching_step(totp: &TOTP, code: &str, now: u64) -> Option<i64> {
    let code = normalize_code(code);
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    [now.saturating_sub(STEP_SECONDS), now, now + STEP_SECONDS]
        .into_iter()
        .find(|t| {
            let expected = totp.generate(*t);
            constant_time_eq(expected.as_bytes(), code.as_bytes())
        })
        .map(|t| (t / STEP_SECONDS) as i64)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unix_now() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

/// Only in a browser session: an API token cannot enrol its owner.
pub fn require_session(auth: &AuthUser) -> ApiResult<()> {
    if auth.api_token_id.is_some() {
        return Err(ApiError::ForbiddenBecause(
            "two-factor sign-in is set up in a signed-in session, not with an API token",
        ));
    }
    Ok(())
}

pub async fn policy<C: ConnectionTrait>(db: &C) -> Result<TwoFactorPolicy, DbErr> {
    settings::load(db, POLICY_KEY).await
}

pub async fn save_policy(
    state: &AppState,
    auth: &AuthUser,
    input: TwoFactorPolicy,
) -> ApiResult<TwoFactorPolicy> {
    auth.require(Permission::UsersManage)?;
    let mut roles = input.required_roles;
    roles.sort();
    roles.dedup();
    let value = TwoFactorPolicy {
        required_roles: roles,
    };
    settings::save(state, auth, POLICY_KEY, "settings.two_factor", &value).await?;
    Ok(value)
}

pub async fn state_of<C: ConnectionTrait>(
    db: &C,
    user: &users::Model,
) -> Result<TwoFactorState, DbErr> {
    let roles = parse_role_list(&user.roles).unwrap_or_default();
    let left = match user.totp_secret {
        Some(_) => {
            recovery_codes::Entity::find()
                .filter(recovery_codes::Column::UserId.eq(user.id))
                .filter(recovery_codes::Column::UsedAt.is_null())
                .count(db)
                .await? as u32
        }
        None => 0,
    };
    Ok(TwoFactorState {
        enabled: user.totp_secret.is_some(),
        required: policy(db).await?.requires(&roles),
        recovery_codes_left: left,
    })
}

/// Starts (or starts again) enrolment: a fresh secret, pending until a code confirms it. An
/// enabled second factor stays in force meanwhile.
pub async fn start(state: &AppState, auth: &AuthUser) -> ApiResult<TotpEnrolment> {
    require_session(auth)?;
    let mut bytes = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let totp = totp(bytes, &auth.user.username)?;
    let secret = totp.get_secret_base32();
    let uri = totp.get_url();
    let qr_svg = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    let txn = crate::db::begin_write(&state.db).await?;
    users::Entity::update_many()
        .col_expr(
            users::Column::TotpPending,
            Expr::value(state.keys.seal(&secret)?),
        )
        .filter(users::Column::Id.eq(auth.id()))
        .exec(&txn)
        .await?;
    record(
        &txn,
        &auth.context,
        auth.id(),
        auth.id(),
        "two_factor.start",
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(TotpEnrolment {
        secret,
        otpauth_uri: uri,
        qr_svg,
    })
}

/// A new recovery code: 12 characters from an alphabet without look-alikes, shown in groups of 4.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let plain: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}-{}", &plain[..4], &plain[4..8], &plain[8..])
}

/// Confirms the pending secret with a code from the app: it becomes the account's second
/// factor, and ten recovery codes replace any earlier ones.
pub async fn confirm(state: &AppState, auth: &AuthUser, code: &str) -> ApiResult<RecoveryCodes> {
    require_session(auth)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let user = users::Entity::find_by_id(auth.id())
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let Some(pending) = user.totp_pending.clone() else {
        return Err(ApiError::Conflict(
            "no set-up is waiting: start it first, then enter the app's code".into(),
        ));
    };
    let totp = opened(state, &pending, &user.username)?;
    let Some(step) = matching_step(&totp, code, unix_now()) else {
        return Err(ApiError::field(
            "code",
            "this is not the app's current code: check the phone's clock and try the newest code",
        ));
    };
    users::Entity::update_many()
        .col_expr(users::Column::TotpSecret, Expr::value(pending))
        .col_expr(
            users::Column::TotpPending,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            users::Column::TotpEnabledAt,
            Expr::value(chrono::Utc::now()),
        )
        .col_expr(users::Column::TotpLastStep, Expr::value(step))
        .filter(users::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    let codes: Vec<String> = (0..RECOVERY_CODE_COUNT).map(|_| recovery_code()).collect();
    let now = chrono::Utc::now();
    recovery_codes::Entity::insert_many(codes.iter().map(|c| recovery_codes::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user.id),
        digest: Set(secrets::digest(&normalize_code(c))),
        used_at: Set(None),
        created_at: Set(now),
    }))
    .exec(&txn)
    .await?;
    record(
        &txn,
        &auth.context,
        auth.id(),
        user.id,
        "two_factor.enrol",
        Some(serde_json::json!({"recovery_codes": RECOVERY_CODE_COUNT})),
    )
    .await?;
    txn.commit().await?;
    Ok(RecoveryCodes { codes })
}

/// An administrator removes a user's second factor (a lost phone): they sign in with their
/// password alone until they set it up again, which the policy may ask of them at once.
pub async fn reset(state: &AppState, auth: &AuthUser, user_id: Uuid) -> ApiResult<()> {
    auth.require(Permission::UsersManage)?;
    let txn = crate::db::begin_write(&state.db).await?;
    let user = users::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if user.totp_secret.is_none() && user.totp_pending.is_none() {
        return Err(ApiError::Conflict(format!(
            "{} has no second factor to reset",
            user.username
        )));
    }
    users::Entity::update_many()
        .col_expr(
            users::Column::TotpSecret,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            users::Column::TotpPending,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            users::Column::TotpEnabledAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            users::Column::TotpLastStep,
            Expr::value(Option::<i64>::None),
        )
        .filter(users::Column::Id.eq(user.id))
        .exec(&txn)
        .await?;
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    record(
        &txn,
        &auth.context,
        auth.id(),
        user.id,
        "two_factor.reset",
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An audit row about `user`'s second factor: never a secret or a code.
async fn record<C: ConnectionTrait>(
    db: &C,
    context: &RequestContext,
    actor: Uuid,
    user: Uuid,
    action: &'static str,
    after: Option<serde_json::Value>,
) -> Result<(), DbErr> {
    audit::record(
        db,
        context,
        AuditEntry {
            actor: Some(actor),
            action,
            target_type: "user",
            target_id: Some(user.to_string()),
            before: None,
            after,
        },
    )
    .await
}

const WRONG_CODE: &str =
    "the code is not right or was used already; enter the newest code of your authenticator app";

/// The second step of signing in, after the password was right: nothing for an account without
/// a second factor; else the app's code (once) or an unused recovery code.
pub async fn check_sign_in(
    state: &AppState,
    context: &RequestContext,
    account: &str,
    user: &users::Model,
    code: Option<&str>,
) -> ApiResult<()> {
    let Some(sealed) = &user.totp_secret else {
        return Ok(());
    };
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(ApiError::field(
            "code",
            "this account signs in with a second factor: enter the 6-digit code of your authenticator app, or one of your recovery codes",
        ));
    };
    let totp = opened(state, sealed, &user.username)?;
    if let Some(step) = matching_step(&totp, code, unix_now()) {
        // Once per step: of two sign-ins with one code, one moves the step on.
        let moved = users::Entity::update_many()
            .col_expr(users::Column::TotpLastStep, Expr::value(step))
            .filter(users::Column::Id.eq(user.id))
            .filter(
                Condition::any()
                    .add(users::Column::TotpLastStep.is_null())
                    .add(users::Column::TotpLastStep.lt(step)),
            )
            .exec(&state.db)
            .await?
            .rows_affected;
        if moved == 1 {
            return Ok(());
        }
    } else {
        let used = recovery_codes::Entity::update_many()
            .col_expr(
                recovery_codes::Column::UsedAt,
                Expr::value(chrono::Utc::now()),
            )
            .filter(recovery_codes::Column::UserId.eq(user.id))
            .filter(recovery_codes::Column::Digest.eq(secrets::digest(&normalize_code(code))))
            .filter(recovery_codes::Column::UsedAt.is_null())
            .exec(&state.db)
            .await?
            .rows_affected;
        if used == 1 {
            record(
                &state.db,
                context,
                user.id,
                user.id,
                "two_factor.recovery_code_used",
                None,
            )
            .await?;
            return Ok(());
        }
    }
    sign_in_guard::failed(state, context, account, Some(user)).await?;
    Err(ApiError::Unauthenticated(WRONG_CODE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_the_ones_beside_it_only() {
        let totp = totp(b"12345678901234567890".to_vec(), "ada").unwrap();
        // RFC 6238's SHA-1 vector at T = 59 s is 94287082 (8 digits): its last 6 digits.
        assert_eq!(totp.generate(59), "287082");
        assert_eq!(matching_step(&totp, "287082", 59), Some(1));
        assert_eq!(matching_step(&totp, "287 082", 89), Some(1));
        assert_eq!(matching_step(&totp, "287082", 150), None);
        assert_eq!(matching_step(&totp, "28708", 59), None);
    }

    #[test]
    fn recovery_codes_are_three_groups_of_four() {
        let code = recovery_code();
        assert_eq!(code.len(), 14);
        assert_eq!(code.matches('-').count(), 2);
        assert_ne!(code, recovery_code());
    }
}
