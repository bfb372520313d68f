//! Who may try a password now. Every check of a password (signing in, changing one's own)
//! passes here first and reports how it went, so guesses cannot be turned against the owner:
//!
//! - Failures count per account, whichever of its names was typed, and per source address.
//!   From one source the first few are free, then each further try waits longer (1 s, 2 s,
//!   4 s … up to `max_delay`): a guesser slows down, nobody is locked out.
//! - All sources together get `account_failures` an hour. Past that bound the account is
//!   closed to new sources, but its owner's usual sources (where it signed in before) stay
//!   open, and the owner and the administrators are told of the burst once.
//! - Any address also has an attempt budget per minute across accounts (in memory, per process).
//!
//! The counts live in the database, so every `serve` process sees the same numbers.

use crate::auth::RequestContext;
use crate::config::LoginLimits;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::notify::{notify, NewNotification};
use crate::domain::users::active_with_role;
use crate::entities::{sign_in_failures, sign_in_sources, users};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use shared::Role;
use std::net::IpAddr;
use uuid::Uuid;

/// How long a source stays "usual" for an account after a successful sign-in from it.
const USUAL_SOURCE_DAYS: i64 = 90;

/// What the failures of an account are counted under.
pub fn account_key(user: Option<&users::Model>, typed: &str) -> String {
    match user {
        Some(u) => format!("user:{}", u.id),
        None => format!("login:{}", typed.trim().to_lowercase()),
    }
}

/// How long a source waits after `failures` failures in a row, the last at `last`.
fn source_wait(
    limits: &LoginLimits,
    failures: u32,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<u64> {
    let over = failures.checked_sub(limits.free_failures)?;
    let delay = std::time::Duration::from_secs(1u64 << over.min(20)).min(limits.max_delay);
    let until = last + chrono::Duration::from_std(delay).ok()?;
    (until > now).then(|| {
        ((until - now).num_milliseconds() as u64)
            .div_ceil(1000)
            .max(1)
    })
}

/// Refuses (429 with Retry-After) a password check that must wait; counts the attempt against
/// the address's budget.
pub async fn admit(
    state: &AppState,
    key: &str,
    user: Option<Uuid>,
    source: IpAddr,
) -> ApiResult<()> {
    if let Some(retry_after_secs) = state.login_limiter.check_address(source) {
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let limits = &state.config.login_limits;
    let now = Utc::now();
    let window =
        chrono::Duration::from_std(limits.account_window).unwrap_or(chrono::Duration::hours(1));
    let failures: Vec<(String, DateTime<Utc>)> = sign_in_failures::Entity::find()
        .select_only()
        .column(sign_in_failures::Column::Source)
        .column(sign_in_failures::Column::At)
        .filter(sign_in_failures::Column::AccountKey.eq(key))
        .filter(sign_in_failures::Column::At.gt(now - window))
        .order_by_asc(sign_in_failures::Column::At)
        .into_tuple()
        .all(&state.db)
        .await?;
    let source_text = source.to_string();
    let mine: Vec<DateTime<Utc>> = failures
        .iter()
        .filter(|(s, _)| *s == source_text)
        .map(|(_, at)| *at)
        .collect();
    if let Some(last) = mine.last() {
        if let Some(retry_after_secs) = source_wait(limits, mine.len() as u32, *last, now) {
            return Err(ApiError::TooManyRequests { retry_after_secs });
        }
    }
    let bound = limits.account_failures as usize;
    if failures.len() >= bound && !is_usual_source(state, user, &source_text, now).await? {
        // Open again when enough of the window's failures have aged out of it.
        let frees_at = failures[failures.len() - bound].1 + window;
        let retry_after_secs = ((frees_at - now).num_seconds().max(1)) as u64;
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    Ok(())
}

async fn is_usual_source(
    state: &AppState,
    user: Option<Uuid>,
    source: &str,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let Some(user) = user else {
        return Ok(false);
    };
    Ok(
        sign_in_sources::Entity::find_by_id((user, source.to_owned()))
            .filter(
                sign_in_sources::Column::LastSuccessAt
                    .gt(now - chrono::Duration::days(USUAL_SOURCE_DAYS)),
            )
            .one(&state.db)
            .await?
            .is_some(),
    )
}

/// Records a wrong password. The failure that reaches the account's hourly bound tells the
/// owner and the administrators, once per burst.
pub async fn failed(
    state: &AppState,
    context: &RequestContext,
    key: &str,
    user: Option<&users::Model>,
) -> ApiResult<()> {
    let limits = &state.config.login_limits;
    let now = Utc::now();
    let window =
        chrono::Duration::from_std(limits.account_window).unwrap_or(chrono::Duration::hours(1));
    sign_in_failures::Entity::delete_many()
        .filter(sign_in_failures::Column::At.lt(now - window))
        .exec(&state.db)
        .await?;
    sign_in_failures::Entity::insert(sign_in_failures::ActiveModel {
        account_key: Set(key.to_owned()),
        source: Set(context.ip.to_string()),
        at: Set(now),
        ..Default::default()
    })
    .exec(&state.db)
    .await?;
    let Some(user) = user else {
        return Ok(());
    };
    let in_window = sign_in_failures::Entity::find()
        .filter(sign_in_failures::Column::AccountKey.eq(key))
        .filter(sign_in_failures::Column::At.gt(now - window))
        .count(&state.db)
        .await?;
    if in_window != u64::from(limits.account_failures) {
        return Ok(());
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let mut recipients = active_with_role(&txn, Role::Admin).await?;
    recipients.push(user.id);
    let minutes = limits.account_window.as_secs() / 60;
    notify(
        &txn,
        state.config.smtp_url.is_some(),
        &recipients,
        None,
        &NewNotification {
            kind: "security.sign_in_burst",
            title: format!("Many wrong passwords for {}", user.username),
            body: format!(
                "{} wrong passwords were tried for {} within {minutes} minutes, the last from {}. \
                 Until fewer remain in that time, the account can be signed in to only from \
                 addresses it used before. If this was not {}, change the password.",
                limits.account_failures, user.username, context.ip, user.username
            ),
            link: Some("/account".into()),
        },
    )
    .await?;
    audit::record(
        &txn,
        context,
        AuditEntry {
            actor: None,
            action: "session.guessing_burst",
            target_type: "user",
            target_id: Some(user.id.to_string()),
            before: None,
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Records a right password: the address becomes (or stays) one of the owner's usual sources,
/// and the owner's own earlier typos from it are forgiven.
pub async fn succeeded(state: &AppState, key: &str, user: Uuid, source: IpAddr) -> ApiResult<()> {
    let source = source.to_string();
    sign_in_sources::Entity::insert(sign_in_sources::ActiveModel {
        user_id: Set(user),
        source: Set(source.clone()),
        last_success_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            sign_in_sources::Column::UserId,
            sign_in_sources::Column::Source,
        ])
        .update_column(sign_in_sources::Column::LastSuccessAt)
        .to_owned(),
    )
    .exec(&state.db)
    .await?;
    sign_in_failures::Entity::delete_many()
        .filter(sign_in_failures::Column::AccountKey.eq(key))
        .filter(sign_in_failures::Column::Source.eq(source))
        .exec(&state.db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits() -> LoginLimits {
        LoginLimits {
            free_failures: 3,
            max_delay: Duration::from_secs(900),
            ..LoginLimits::default()
        }
    }

    #[test]
    fn a_source_waits_longer_after_each_failure_past_the_free_ones() {
        let now = Utc::now();
        let l = limits();
        assert_eq!(source_wait(&l, 2, now, now), None);
        assert_eq!(source_wait(&l, 3, now, now), Some(1));
        assert_eq!(source_wait(&l, 4, now, now), Some(2));
        assert_eq!(source_wait(&l, 6, now, now), Some(8));
        assert_eq!(source_wait(&l, 40, now, now), Some(900), "capped");
        let earlier = now - chrono::Duration::seconds(10);
        assert_eq!(
            source_wait(&l, 5, earlier, now),
            None,
            "the wait has passed"
        );
    }
}
