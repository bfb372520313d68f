//! The one error type of the HTTP layer, rendered as RFC 9457 problem+json.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use shared::dto::Problem;
use shared::validation::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthenticated(&'static str),
    #[error("forbidden")]
    Forbidden,
    /// Refused for a reason other than the caller's roles, named in the answer.
    #[error("forbidden: {0}")]
    ForbiddenBecause(&'static str),
    /// A browser request from another site to an endpoint that uses the session cookie.
    #[error("cross-origin request refused")]
    CrossOrigin,
    #[error("request body over {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// The request body did not arrive in full in time.
    #[error("request body timed out")]
    RequestTimeout,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// Given out once and not kept (a generated private key after its download).
    #[error("gone: {0}")]
    Gone(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A provider answered with an error; the detail names its message.
    #[error("bad gateway: {0}")]
    BadGateway(String),
    /// Anything unexpected; the cause is logged, never sent.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::new();
        errors.insert(field.to_owned(), vec![message.into()]);
        ApiError::Validation(errors)
    }
}

const STALE_SNAPSHOT: &str = "another change to the same data happened at the same time; try again";

impl ApiError {
    /// SQLite's answer to a write from a transaction that read before another writer committed:
    /// running the whole transaction again is safe and usually succeeds.
    pub fn is_stale_snapshot(&self) -> bool {
        matches!(self, ApiError::Conflict(m) if m == STALE_SNAPSHOT)
    }
}

/// Runs a transaction-making operation again (a few times, briefly apart) when SQLite refused it
/// for a stale snapshot; any other outcome is returned as is.
pub async fn retry_stale<T, F, Fut>(mut operation: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ApiResult<T>>,
{
    let mut attempt = 0u64;
    loop {
        match operation().await {
            Err(e) if e.is_stale_snapshot() && attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// Seconds a client is asked to wait (`Retry-After`) when the database is out of reach.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// The database could not be reached: no connection could be had within the acquire timeout, or
/// the one in hand broke (refused, reset, closed). Worth trying again later, unlike a failed query.
pub fn is_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(cause)) | DbErr::Query(RuntimeErr::SqlxError(cause)) => {
            matches!(
                cause,
                Sqlx::Io(_)
                    | Sqlx::Tls(_)
                    | Sqlx::PoolTimedOut
                    | Sqlx::PoolClosed
                    | Sqlx::WorkerCrashed
            )
        }
        _ => false,
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        match &e {
            _ if is_unreachable(&e) => {
                tracing::warn!(error = %e, "database unreachable");
                ApiError::Unavailable("the database is not reachable; try again shortly".into())
            }
            // SQLite refuses a write from a transaction whose snapshot another writer made stale.
            _ if e.to_string().contains("database is locked") => {
                ApiError::Conflict(STALE_SNAPSHOT.into())
            }
            _ => ApiError::Internal(anyhow::Error::new(e).context("database query failed")),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

pub fn problem(status: StatusCode, detail: Option<String>, errors: Option<FieldErrors>) -> Problem {
    Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors,
        request_id: None,
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(problem)
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::ForbiddenBecause(_) | ApiError::CrossOrigin => {
                StatusCode::FORBIDDEN
            }
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (detail, errors) = match self {
            ApiError::Unauthenticated(why) => (Some((*why).to_owned()), None),
            ApiError::Forbidden => (Some("your roles do not allow this action".to_owned()), None),
            ApiError::ForbiddenBecause(why) => (Some((*why).to_owned()), None),
            ApiError::CrossOrigin => (
                Some("requests from another site may not use the session cookie".to_owned()),
                None,
            ),
            ApiError::PayloadTooLarge { limit } => (
                Some(format!(
                    "the body is larger than the limit of {limit} bytes"
                )),
                None,
            ),
            ApiError::RequestTimeout => (
                Some("the request body did not arrive in time".to_owned()),
                None,
            ),
            ApiError::NotFound => (Some("no such resource".to_owned()), None),
            ApiError::Conflict(d)
            | ApiError::Gone(d)
            | ApiError::BadRequest(d)
            | ApiError::Unavailable(d)
            | ApiError::BadGateway(d) => (Some(d.clone()), None),
            ApiError::Validation(errors) => (
                Some("some fields are invalid".to_owned()),
                Some(errors.clone()),
            ),
            ApiError::TooManyRequests { retry_after_secs } => (
                Some(format!(
                    "too many attempts; try again in {retry_after_secs} seconds"
                )),
                None,
            ),
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (None, None)
            }
        };
        let mut response = problem_response(status, &problem(status, detail, errors));
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
        }
        if let ApiError::Unavailable(_) = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        if let ApiError::Unauthenticated(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
