//! Listing helpers every list of the domain shares: validated page numbers and sizes, and
//! search patterns.

use crate::error::{ApiError, ApiResult};

/// Far beyond any real listing, and small enough that `page * per_page` cannot overflow.
pub const PAGE_MAX: u64 = 1_000_000;

/// Validated `(page, per_page)` from optional query values.
pub fn paging(page: Option<u64>, per_page: Option<u64>) -> ApiResult<(u64, u64)> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(shared::dto::PER_PAGE_DEFAULT);
    let mut v = shared::validation::Validator::new();
    v.check(
        "page",
        if (1..=PAGE_MAX).contains(&page) {
            Ok(())
        } else {
            Err(format!("must be between 1 and {}", PAGE_MAX))
        },
    )
    .check(
        "per_page",
        if (1..=shared::dto::PER_PAGE_MAX).contains(&per_page) {
            Ok(())
        } else {
            Err(format!(
                "must be between 1 and {}",
                shared::dto::PER_PAGE_MAX
            ))
        },
    );
    v.finish().map_err(ApiError::Validation)?;
    Ok((page, per_page))
}

/// `%` and `_` typed by a user match themselves, not any character.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
