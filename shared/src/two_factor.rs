//! Two-factor sign-in with time-based one-time passwords (RFC 6238): what enrolment shows, the
//! recovery codes given once, and the policy naming the roles that must use it.

use crate::Role;
use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A started enrolment: the secret as an authenticator app takes it (typed, or scanned from the
/// QR code of `otpauth_uri`). It takes effect once a code from the app is confirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TotpEnrolment {
    /// Base32, as apps ask for it when typed.
    pub secret: String,
    /// `otpauth://totp/Provisio:<user>?secret=…&issuer=Provisio` (SHA-1, 6 digits, 30 s).
    pub otpauth_uri: String,
    /// The QR code of `otpauth_uri` as an SVG document.
    pub qr_svg: String,
}

/// A code from the authenticator app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TotpCode {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub code: String,
}

/// Codes that each sign in once instead of the app's code; shown once, stored only as digests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// The roles whose members must sign in with a second factor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoFactorPolicy {
    #[serde(default)]
    pub required_roles: Vec<Role>,
}

impl TwoFactorPolicy {
    /// Whether someone with `roles` must use a second factor.
    pub fn requires(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.required_roles.contains(r))
    }
}

/// Where the signed-in user stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TwoFactorState {
    pub enabled: bool,
    /// The policy asks it of one of the user's roles: until it is set up, a browser session
    /// may only set it up (other calls answer 403).
    pub required: bool,
    pub recovery_codes_left: u32,
}

/// A code as typed: spaces and dashes dropped, letters in lower case.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_compared_without_spaces_dashes_or_case() {
        assert_eq!(normalize_code(" 123 456 "), "123456");
        assert_eq!(normalize_code("ABCD-efgh-1234"), "abcdefgh1234");
    }

    #[test]
    fn the_policy_names_roles() {
        let policy = TwoFactorPolicy {
            required_roles: vec![Role::Admin],
        };
        assert!(policy.requires(&[Role::Requester, Role::Admin]));
        assert!(!policy.requires(&[Role::Requester]));
    }
}
