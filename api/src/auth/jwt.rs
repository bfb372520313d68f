use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

pub const ISSUER: &str = "provisio";
pub const AUDIENCE: &str = "provisio-api";

/// Seconds a token is still accepted after its `exp`, for clocks a little apart.
const LEEWAY_SECONDS: i64 = 5;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The user's session version when the token was issued; a bump ends the session.
    pub sv: i32,
    /// The session (refresh-token family) the token was issued for: ending it (sign-out, a
    /// replayed refresh token) ends the token at once, not when it expires.
    pub sid: Uuid,
    /// The policy asks this user for a second factor not set up yet: the session may only set
    /// it up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub enrol: bool,
}

/// HS256 only: a token naming any other algorithm (including `none`) is rejected.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["iss", "aud", "sub", "iat", "exp"]);
        validation.leeway = LEEWAY_SECONDS as u64;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        session_version: i32,
        session_id: Uuid,
        enrol: bool,
    ) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            sv: session_version,
            sid: session_id,
            enrol,
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(900),
        )
    }

    fn forge(header: &str, claims: &serde_json::Value, signature: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            signature
        )
    }

    #[test]
    fn issued_token_verifies_with_its_claims() {
        let (id, session) = (Uuid::new_v4(), Uuid::new_v4());
        let claims = keys()
            .verify(&keys().issue(id, 3, session, false).unwrap())
            .unwrap();
        assert_eq!(claims.sub, id.to_string());
        assert_eq!(claims.sv, 3);
        assert_eq!(claims.sid, session);
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn expired_token_is_rejected() {
        let short = JwtKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(0));
        let mut claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: Uuid::new_v4().to_string(),
            iat: 0,
            exp: 0,
            sv: 0,
            sid: Uuid::new_v4(),
            enrol: false,
        };
        claims.iat = chrono::Utc::now().timestamp() - 3600;
        claims.exp = claims.iat + 60;
        let token = encode(&Header::new(Algorithm::HS256), &claims, &short.encoding).unwrap();
        assert!(keys().verify(&token).is_none());
    }

    #[test]
    fn token_signed_with_another_secret_is_rejected() {
        let other = JwtKeys::new(
            b"another-secret-another-secret-xx",
            Duration::from_secs(900),
        );
        let token = other
            .issue(Uuid::new_v4(), 0, Uuid::new_v4(), false)
            .unwrap();
        assert!(keys().verify(&token).is_none());
    }

    #[test]
    fn alg_none_token_is_rejected() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": Uuid::new_v4().to_string(), "iat": now, "exp": now + 600, "sv": 0, "sid": Uuid::new_v4()});
        assert!(keys()
            .verify(&forge(r#"{"alg":"none","typ":"JWT"}"#, &claims, ""))
            .is_none());
    }

    #[test]
    fn token_missing_a_required_claim_is_rejected() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 600, "sv": 0});
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys().encoding).unwrap();
        assert!(keys().verify(&token).is_none());
    }

    #[test]
    fn an_altered_copy_of_a_valid_token_is_rejected() {
        let keys = keys();
        let token = keys
            .issue(Uuid::new_v4(), 0, Uuid::new_v4(), false)
            .unwrap();
        assert!(keys.verify(&token).is_some());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let mut altered = signature.to_owned();
        let first = if altered.starts_with('A') { "B" } else { "A" };
        altered.replace_range(..1, first);
        assert!(keys.verify(&format!("{signed}.{altered}")).is_none());
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": Uuid::new_v4().to_string(), "iat": 0, "exp": i64::MAX, "sv": 0, "sid": Uuid::new_v4()});
        let forged = forge(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, signature);
        assert!(keys.verify(&forged).is_none());
    }

    #[test]
    fn a_token_naming_no_session_is_rejected() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": Uuid::new_v4().to_string(), "iat": now, "exp": now + 600, "sv": 0});
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys().encoding).unwrap();
        assert!(keys().verify(&token).is_none());
    }

    #[test]
    fn wrong_audience_is_rejected() {
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({"iss": ISSUER, "aud": "someone-else", "sub": "x", "iat": now, "exp": now + 600, "sv": 0});
        let token = encode(&Header::new(Algorithm::HS256), &claims, &keys().encoding).unwrap();
        assert!(keys().verify(&token).is_none());
    }
}
