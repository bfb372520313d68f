//! The key file: JWT signing secret and master key (for encrypting credentials at rest),
//! generated on first start with mode 0600 and never logged. During a master key rotation it also
//! holds the previous master keys, so values not yet re-sealed still open
//! (`domain::key_rotation`).

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
    /// Seals every new value.
    pub master_key: Vec<u8>,
    /// Keys of a rotation not finished yet: tried, newest first, when the current key cannot open a value.
    pub previous_master_keys: Vec<Vec<u8>>,
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    previous_master_keys: Vec<String>,
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
            previous_master_keys: Vec::new(),
        }
    }

    pub fn seal(&self, plaintext: &str) -> anyhow::Result<String> {
        crate::crypto::seal(&self.master_key, plaintext)
    }

    /// Opens a value sealed with the current key or, mid-rotation, with a previous one.
    pub fn open(&self, sealed: &str) -> anyhow::Result<String> {
        match crate::crypto::open(&self.master_key, sealed) {
            Ok(plain) => Ok(plain),
            Err(current) => self
                .previous_master_keys
                .iter()
                .find_map(|key| crate::crypto::open(key, sealed).ok())
                .ok_or(current),
        }
    }

    /// Reads an existing key file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
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
            previous_master_keys: file
                .previous_master_keys
                .iter()
                .map(|k| {
                    B64.decode(k)
                        .context("previous_master_keys holds a value that is not base64")
                })
                .collect::<anyhow::Result<_>>()?,
        };
        anyhow::ensure!(
            keys.jwt_secret.len() >= 32
                && keys.master_key.len() == 32
                && keys.previous_master_keys.iter().all(|k| k.len() == 32),
            "the key file {} holds keys of the wrong length",
            path.display()
        );
        Ok(keys)
    }

    fn file_body(&self) -> anyhow::Result<String> {
        Ok(serde_json::to_string_pretty(&KeyFile {
            jwt_secret: B64.encode(&self.jwt_secret),
            master_key: B64.encode(&self.master_key),
            previous_master_keys: self
                .previous_master_keys
                .iter()
                .map(|k| B64.encode(k))
                .collect(),
        })?)
    }

    /// Replaces the key file atomically: a 0600 temporary file beside it, synced, renamed over it,
    /// then the directory synced, so a crash leaves either the old file or the new one whole.
    pub fn replace_file(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .context("the key file path has no file name")?
            .to_string_lossy();
        let temporary = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = write_private(&temporary, &self.file_body()?)
            .and_then(|()| std::fs::rename(&temporary, path).map_err(anyhow::Error::from));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temporary);
            return Err(e.context(format!("could not replace the key file {}", path.display())));
        }
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    }

    /// Reads the key file, creating it (0600) when it does not exist yet.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if path.exists() {
            return Self::load(path);
        }
        let keys = Self::generate();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        write_private(path, &keys.file_body()?)
            .with_context(|| format!("could not create the key file {}", path.display()))?;
        tracing::info!(path = %path.display(), "generated a new key file");
        Ok(keys)
    }
}

/// Creates `path` (it must not exist) with mode 0600 and `body`, synced to disk.
fn write_private(path: &Path, body: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(body.as_bytes())?;
    file.sync_all()?;
    Ok(())
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

    #[test]
    fn previous_keys_open_old_values_and_the_file_is_replaced_whole_and_private() {
        let dir = std::env::temp_dir().join(format!("provisio-keys-{}", uuid::Uuid::new_v4()));
        let path = dir.join("provisio.key");
        let old = Keys::load_or_create(&path).unwrap();
        let sealed_before = old.seal("a deploy key").unwrap();
        let mut rotated = old.clone();
        rotated.master_key = Keys::generate().master_key;
        assert!(rotated.open(&sealed_before).is_err());
        rotated.previous_master_keys = vec![old.master_key.clone()];
        rotated.replace_file(&path).unwrap();
        let reloaded = Keys::load(&path).unwrap();
        assert_eq!(reloaded.master_key, rotated.master_key);
        assert_eq!(reloaded.previous_master_keys, vec![old.master_key.clone()]);
        assert_eq!(reloaded.open(&sealed_before).unwrap(), "a deploy key");
        let sealed_after = reloaded.seal("a webhook secret").unwrap();
        assert!(crate::crypto::open(&old.master_key, &sealed_after).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let files: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
