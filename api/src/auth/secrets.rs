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
}
