//! SSH reachability: a handshake that reads (and so lets us pin) the host key, optionally
//! proving that our key logs in. Blocking libssh2 calls run on the blocking pool.

use base64::Engine;
use sha2::{Digest, Sha256};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub key_type: String,
    /// `<type> <base64>`, the known_hosts form of the key.
    pub public_key: String,
}

/// The wire-format key blob as `<type> <base64>`; the type is the blob's first string.
pub fn known_hosts_form(key: &[u8]) -> String {
    let name = key
        .get(..4)
        .map(|len| u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize)
        .and_then(|len| key.get(4..4 + len))
        .and_then(|name| std::str::from_utf8(name).ok())
        .unwrap_or("ssh-unknown");
    format!(
        "{name} {}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

pub fn fingerprint_of(key: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(key))
    )
}

/// Connects, completes the SSH handshake and returns the host key. With `login`, also
/// authenticates as `(user, private key PEM)` so a wrong key fails here, not in a playbook.
pub fn probe_blocking(
    address: &str,
    port: u16,
    timeout: Duration,
    login: Option<(&str, &str)>,
) -> Result<HostKey, String> {
    let target = (address, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {address}: {e}"))?
        .next()
        .ok_or_else(|| format!("{address} has no address"))?;
    let tcp = TcpStream::connect_timeout(&target, timeout).map_err(|e| format!("{target}: {e}"))?;
    tcp.set_read_timeout(Some(timeout)).ok();
    let mut session = ssh2::Session::new().map_err(|e| e.to_string())?;
    session.set_timeout(timeout.as_millis().min(u32::MAX as u128) as u32);
    session.set_tcp_stream(tcp);
    session
        .handshake()
        .map_err(|e| format!("SSH handshake with {target}: {e}"))?;
    let (key, kind) = session
        .host_key()
        .ok_or_else(|| format!("{target} sent no host key"))?;
    let host_key = HostKey {
        fingerprint: fingerprint_of(key),
        key_type: format!("{kind:?}"),
        public_key: known_hosts_form(key),
    };
    if let Some((user, private_key)) = login {
        session
            .userauth_pubkey_memory(user, None, private_key, None)
            .map_err(|e| format!("login as {user} with the stored key: {e}"))?;
    }
    Ok(host_key)
}

pub async fn probe(
    address: String,
    port: u16,
    timeout: Duration,
    login: Option<(String, String)>,
) -> Result<HostKey, String> {
    tokio::task::spawn_blocking(move || {
        probe_blocking(
            &address,
            port,
            timeout,
            login.as_ref().map(|(u, k)| (u.as_str(), k.as_str())),
        )
    })
    .await
    .map_err(|e| format!("probe task: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_ssh_keygen_format() {
        let fp = fingerprint_of(b"abc");
        assert_eq!(fp, "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = probe("127.0.0.1".into(), port, Duration::from_secs(2), None)
            .await
            .unwrap_err();
        assert!(err.contains("127.0.0.1"), "{err}");
    }
}
