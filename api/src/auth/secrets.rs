//! Opaque bearer secrets: random, shown once, stored only as a SHA-256 hex digest.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Personal API tokens start with this, so the extractor can tell them from JWTs.
pub const API_TOKEN_PREFIX: &str = "pvs_";

pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The secret that follows `previous` when a refresh token is rotated: derived from it with the
/// server's key rather than drawn at random, so that the same previous secret presented again
/// within the grace window (a second tab refreshing at the same moment) gets the same new secret
/// back without it ever being stored.
pub fn successor_secret(key: &[u8], prefix: &str, previous: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"provisio refresh successor\0");
    mac.update(previous.as_bytes());
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_and_digests_stable() {
        let a = random_secret(API_TOKEN_PREFIX);
        let b = random_secret(API_TOKEN_PREFIX);
        assert_ne!(a, b);
        assert!(a.starts_with("pvs_") && a.len() > 40);
        assert_eq!(digest(&a), digest(&a));
        assert_eq!(digest(&a).len(), 64);
        assert!(!digest(&a).contains(&a[4..]));
    }

    #[test]
    fn a_successor_is_stable_for_its_key_and_previous_secret_only() {
        let previous = random_secret("pvr_");
        let next = successor_secret(b"key one", "pvr_", &previous);
        assert_eq!(next, successor_secret(b"key one", "pvr_", &previous));
        assert!(next.starts_with("pvr_") && next.len() > 40);
        assert_ne!(next, successor_secret(b"key two", "pvr_", &previous));
        assert_ne!(
            next,
            successor_secret(b"key one", "pvr_", &random_secret("pvr_"))
        );
    }
}
