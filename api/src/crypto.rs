//! Secrets at rest: XChaCha20-Poly1305 with the master key from the key file.
//! Sealed values look like `v1:<base64(nonce ‖ ciphertext)>`.

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng};
use chacha20poly1305::{AeadCore, XChaCha20Poly1305, XNonce};

const PREFIX: &str = "v1:";

pub fn seal(master_key: &[u8], plaintext: &str) -> anyhow::Result<String> {
    let cipher =
        XChaCha20Poly1305::new_from_slice(master_key).context("the master key must be 32 bytes")?;
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, plaintext.as_bytes())
        .map_err(|_| anyhow::anyhow!("encryption failed"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(format!("{PREFIX}{}", B64.encode(out)))
}

pub fn open(master_key: &[u8], sealed: &str) -> anyhow::Result<String> {
    let data = sealed.strip_prefix(PREFIX).context("not a sealed value")?;
    let bytes = B64.decode(data).context("sealed value is not base64")?;
    anyhow::ensure!(bytes.len() > 24, "sealed value is too short");
    let (nonce, ciphertext) = bytes.split_at(24);
    let cipher =
        XChaCha20Poly1305::new_from_slice(master_key).context("the master key must be 32 bytes")?;
    let plain = cipher
        .decrypt(&XNonce::from(<[u8; 24]>::try_from(nonce)?), ciphertext)
        .map_err(|_| anyhow::anyhow!("the sealed value was altered or the master key differs"))?;
    Ok(String::from_utf8(plain)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_hides_the_plaintext_and_detects_tampering() {
        let key = [7u8; 32];
        let sealed = seal(&key, "webhook-secret-value").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("webhook-secret-value"));
        assert_ne!(
            sealed,
            seal(&key, "webhook-secret-value").unwrap(),
            "fresh nonce each time"
        );
        assert_eq!(open(&key, &sealed).unwrap(), "webhook-secret-value");
        assert!(open(&[8u8; 32], &sealed).is_err());
        let mut bytes = B64.decode(&sealed[3..]).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(open(&key, &format!("v1:{}", B64.encode(bytes))).is_err());
    }
}
