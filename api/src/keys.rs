//! The key file: JWT signing secret and master key (for encrypting credentials at rest),
//! generated on first start with mode 0600 and never logged.

use anyhow::Context;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::Path;

#[derive(Clone)]
pub struct Keys {
    pub jwt_secret: Vec<u8>,
    pub master_key: Vec<u8>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    jwt_secret: String,
    master_key: String,
}

impl Keys {
    pub fn generate() -> Self {
        let mut jwt_secret = vec![0u8; 64];
        let mut master_key = vec![0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut jwt_secret);
        rand::rngs::OsRng.fill_bytes(&mut master_key);
        Self {
            jwt_secret,
            master_key,
        }
    }

    /// Reads the key file, creating it (0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the key file {}", path.display()))?;
            let file: KeyFile = serde_json::from_str(&text)
                .with_context(|| format!("the key file {} is not valid JSON", path.display()))?;
            let keys = Self {
                jwt_secret: B64
                    .decode(file.jwt_secret)
                    .context("jwt_secret is not base64")?,
                master_key: B64
                    .decode(file.master_key)
                    .context("master_key is not base64")?,
            };
            anyhow::ensure!(
                keys.jwt_secret.len() >= 32 && keys.master_key.len() == 32,
                "the key file {} holds keys of the wrong length",
                path.display()
            );
            return Ok(keys);
        }
        let keys = Self::generate();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        let body = serde_json::to_string_pretty(&KeyFile {
            jwt_secret: B64.encode(&keys.jwt_secret),
            master_key: B64.encode(&keys.master_key),
        })?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .with_context(|| format!("could not create the key file {}", path.display()))?;
        file.write_all(body.as_bytes())?;
        file.sync_all()?;
        tracing::info!(path = %path.display(), "generated a new key file");
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_reloaded_identically() {
        let dir = std::env::temp_dir().join(format!("provisio-keys-{}", uuid::Uuid::new_v4()));
        let path = dir.join("provisio.key");
        let first = Keys::load_or_create(&path).unwrap();
        let second = Keys::load_or_create(&path).unwrap();
        assert_eq!(first.jwt_secret, second.jwt_secret);
        assert_eq!(first.master_key, second.master_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert!(!format!("{first:?}").contains(&B64.encode(&first.jwt_secret)));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
