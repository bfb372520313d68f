//! SSH keys: users' public keys (parsed, fingerprinted, unique per user) and the platform's own
//! ed25519 service key, generated once, private half sealed under the master key, public half
//! injected into every server Provisio provisions and used to log in for playbook runs.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::entities::ssh_keys as rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use shared::scripts::{AddSshKey, SshKey};
use uuid::Uuid;

/// The service key's row has a fixed id, so concurrent first starts insert it once.
pub const SERVICE_KEY_ID: Uuid = Uuid::from_u128(0x5e7f_1ce0_0000_4000_8000_0000_0000_0001);

pub struct ParsedKey {
    /// `<type> <base64>` without the comment.
    pub canonical: String,
    pub key_type: String,
    pub fingerprint_md5: String,
    pub fingerprint_sha256: String,
}

pub fn parse_public_key(line: &str) -> Result<ParsedKey, String> {
    let key = ssh_key::PublicKey::from_openssh(line.trim())
        .map_err(|e| format!("is not an OpenSSH public key: {e}"))?;
    let mut canonical = key.clone();
    canonical.set_comment("");
    let canonical = canonical
        .to_openssh()
        .map_err(|e| e.to_string())?
        .trim()
        .to_owned();
    let md5 = crate::providers::hetzner::md5_fingerprint(&canonical)
        .ok_or("the key data is not valid base64")?;
    Ok(ParsedKey {
        canonical,
        key_type: key.algorithm().as_str().to_owned(),
        fingerprint_md5: format!("MD5:{md5}"),
        fingerprint_sha256: key.fingerprint(ssh_key::HashAlg::Sha256).to_string(),
    })
}

fn to_dto(row: rows::Model) -> SshKey {
    SshKey {
        id: row.id,
        service: row.user_id.is_none(),
        name: row.name,
        public_key: row.public_key,
        key_type: row.key_type,
        fingerprint_md5: row.fingerprint_md5,
        fingerprint_sha256: row.fingerprint_sha256,
        created_at: row.created_at,
    }
}

/// The service key pair (public line, private OpenSSH PEM), created on first use.
pub async fn service_key(state: &AppState) -> anyhow::Result<(String, String)> {
    let row = match rows::Entity::find_by_id(SERVICE_KEY_ID)
        .one(&state.db)
        .await?
    {
        Some(row) => row,
        None => {
            let private =
                ssh_key::PrivateKey::random(&mut rand::rngs::OsRng, ssh_key::Algorithm::Ed25519)?;
            let pem = private.to_openssh(ssh_key::LineEnding::LF)?;
            let public = private.public_key().to_openssh()?;
            let parsed = parse_public_key(&public).map_err(anyhow::Error::msg)?;
            rows::Entity::insert(rows::ActiveModel {
                id: Set(SERVICE_KEY_ID),
                user_id: Set(None),
                name: Set("Provisio service key".into()),
                public_key: Set(format!("{} provisio-service", parsed.canonical)),
                key_type: Set(parsed.key_type),
                fingerprint_md5: Set(parsed.fingerprint_md5),
                fingerprint_sha256: Set(parsed.fingerprint_sha256),
                private_key: Set(Some(crate::crypto::seal(
                    &state.keys.master_key,
                    pem.as_str(),
                )?)),
                created_at: Set(chrono::Utc::now()),
            })
            .on_conflict(OnConflict::column(rows::Column::Id).do_nothing().to_owned())
            .do_nothing()
            .exec(&state.db)
            .await?;
            rows::Entity::find_by_id(SERVICE_KEY_ID)
                .one(&state.db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the service key row vanished"))?
        }
    };
    let sealed = row
        .private_key
        .ok_or_else(|| anyhow::anyhow!("the service key has no private half"))?;
    let private = state.keys.open(&sealed)?;
    Ok((row.public_key, private))
}

/// The caller's keys, then the service key.
pub async fn list<C: ConnectionTrait>(db: &C, auth: &AuthUser) -> Result<Vec<SshKey>, DbErr> {
    let mut keys: Vec<SshKey> = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .order_by_asc(rows::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_dto)
        .collect();
    if let Some(service) = rows::Entity::find_by_id(SERVICE_KEY_ID).one(db).await? {
        keys.push(to_dto(service));
    }
    Ok(keys)
}

/// Public keys of `user_id`, for a request's "keys to inject".
pub async fn public_keys_of<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<Vec<String>, DbErr> {
    Ok(rows::Entity::find()
        .filter(rows::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.public_key)
        .collect())
}

pub async fn add(state: &AppState, auth: &AuthUser, input: AddSshKey) -> ApiResult<SshKey> {
    input.validate()?;
    let parsed =
        parse_public_key(&input.public_key).map_err(|e| ApiError::field("public_key", e))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let duplicate = rows::Entity::find()
        .filter(rows::Column::UserId.eq(auth.id()))
        .filter(rows::Column::FingerprintSha256.eq(parsed.fingerprint_sha256.clone()))
        .one(&txn)
        .await?;
    if let Some(existing) = duplicate {
        return Err(ApiError::Conflict(format!(
            "this key is already saved as “{}”",
            existing.name
        )));
    }
    let comment = input
        .public_key
        .split_whitespace()
        .nth(2)
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    let row = rows::Entity::insert(rows::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(Some(auth.id())),
        name: Set(input.name.trim().to_owned()),
        public_key: Set(format!("{}{comment}", parsed.canonical)),
        key_type: Set(parsed.key_type),
        fingerprint_md5: Set(parsed.fingerprint_md5),
        fingerprint_sha256: Set(parsed.fingerprint_sha256),
        private_key: Set(None),
        created_at: Set(chrono::Utc::now()),
    })
    .exec_with_returning(&txn)
    .await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "ssh_key.add",
            target_type: "ssh_key",
            target_id: Some(row.id.to_string()),
            before: None,
            after: Some(
                serde_json::json!({"name": row.name, "fingerprint": row.fingerprint_sha256}),
            ),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(to_dto(row))
}

pub async fn remove(state: &AppState, auth: &AuthUser, id: Uuid) -> ApiResult<()> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = rows::Entity::find_by_id(id)
        .filter(rows::Column::UserId.eq(auth.id()))
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    rows::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action: "ssh_key.delete",
            target_type: "ssh_key",
            target_id: Some(row.id.to_string()),
            before: Some(
                serde_json::json!({"name": row.name, "fingerprint": row.fingerprint_sha256}),
            ),
            after: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_ssh_keygen() {
        // What `ssh-keygen -l` and `ssh-keygen -E md5 -l` print for this key.
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN+jpZeuq/jTz/m5cGLnOrjAeP+mU8jElMTSjcW9HD7c alice@example";
        let parsed = parse_public_key(line).unwrap();
        assert_eq!(parsed.key_type, "ssh-ed25519");
        assert_eq!(
            parsed.fingerprint_sha256,
            "SHA256:vnsBZQGJIeBncJI3GukaqcGg9RM3O0rJNvlgZ2KyS20"
        );
        assert_eq!(
            parsed.fingerprint_md5,
            "MD5:14:54:56:95:d4:e9:b3:b8:3a:28:c1:e1:68:ff:62:90"
        );
        assert!(!parsed.canonical.contains("alice"));
        assert!(parse_public_key("ssh-ed25519 AAAAnotakey").is_err());
    }
}
