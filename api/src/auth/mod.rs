//! Who is calling: password hashing, access JWTs, opaque secrets (refresh and API tokens),
//! the login rate limiter and the `AuthUser` extractor through which every handler authorizes.

pub mod extractor;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod secrets;

pub use extractor::{AuthUser, RequestContext};
