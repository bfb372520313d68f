//! The only way out of a terminal program's sandbox (`exec::sandbox` without a network): an
//! HTTP CONNECT proxy this process serves on a unix socket in the session's directory. Inside
//! the sandbox a small relay on the system's Python listens on the namespace's own loopback
//! (`http_proxy`/`https_proxy` point there, for git over https, curl, pip, npm) and ssh reaches
//! the socket through `ProxyCommand` (git over ssh). Each CONNECT is judged like a Git URL by the
//! network policy (after DNS, right before connecting) and the database's port is refused on
//! the database's addresses and on loopback whatever the allowlist says, so a program cannot
//! reach the database or another service of this host's that the policy keeps private.

use crate::exec::network_policy::{NetworkPolicy, Purpose};
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixListener, UnixStream};
use tokio::task::JoinHandle;

/// The port the relay listens on inside the sandbox's network namespace (its own loopback).
pub const RELAY_PORT: u16 = 3128;

/// A request head larger than this is not a CONNECT a client would send.
const MAX_HEAD: usize = 8192;

/// The sandbox side of `exec::egress` and `exec::tunnel`, on the system's Python.
/// `listen PORT SOCKET -- PROGRAM ARGS…`: serves the namespace's loopback port by relaying each
/// connection to the socket, runs the program and exits with its status. `connect SOCKET HOST
/// PORT`: ssh's ProxyCommand, a CONNECT through the socket, then stdin/stdout to the tunnel.
/// `pipe SOCKET`: stdin/stdout to the socket as it is (a tunnel already bound to one host).
pub(crate) const RELAY: &str = r#"import os, signal, socket, subprocess, sys, threading
def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
def serve(listener, path):
    while True:
        inbound, _ = listener.accept()
        outbound = socket.socket(socket.AF_UNIX)
        try:
            outbound.connect(path)
        except OSError:
            inbound.close()
            continue
        threading.Thread(target=pipe, args=(inbound, outbound), daemon=True).start()
        threading.Thread(target=pipe, args=(outbound, inbound), daemon=True).start()
if sys.argv[1] == "listen":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(sys.argv[2])))
    listener.listen(64)
    threading.Thread(target=serve, args=(listener, sys.argv[3]), daemon=True).start()
    # Ctrl-C reaches the program (same process group); the relay only waits for it. A handler,
    # unlike SIG_IGN, is not inherited by the program.
    signal.signal(signal.SIGINT, lambda *_: None)
    try:
        code = subprocess.call(sys.argv[5:])
    except OSError as e:
        print(f"{sys.argv[5]}: {e.strerror}", file=sys.stderr)
        code = 127
    sys.exit(code if code >= 0 else 128 - code)
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[2])
if sys.argv[1] == "connect":
    target = f"{sys.argv[3]}:{sys.argv[4]}"
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        data = s.recv(4096)
        if not data:
            sys.exit("the way out of the sandbox closed")
        head += data
    head, _, rest = head.partition(b"\r\n\r\n")
    if head.split(b" ", 2)[1] != b"200":
        sys.exit(rest.decode(errors="replace").strip() or head.decode(errors="replace"))
    if rest:
        os.write(1, rest)
def up():
    while True:
        data = os.read(0, 65536)
        if not data:
            s.shutdown(socket.SHUT_WR)
            return
        s.sendall(data)
threading.Thread(target=up, daemon=True).start()
while True:
    data = s.recv(65536)
    if not data:
        break
    os.write(1, data)
"#;

/// What the proxy refuses on top of the network policy: the database's port.
#[derive(Debug, Clone, Default)]
pub struct Denied {
    port: Option<u16>,
    addresses: Vec<IpAddr>,
}

impl Denied {
    /// The database behind `database_url` (nothing for SQLite, a file the sandbox cannot see).
    pub async fn database(database_url: &str) -> Denied {
        let Ok(url) = reqwest::Url::parse(database_url) else {
            return Denied::default();
        };
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Denied::default();
        }
        let port = url.port().unwrap_or(5432);
        let host = url.host_str().unwrap_or("localhost").to_owned();
        let addresses = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map(|found| found.map(|a| a.ip()).collect())
            .unwrap_or_default();
        Denied {
            port: Some(port),
            addresses,
        }
    }

    fn refuses(&self, destination: SocketAddr) -> bool {
        self.port == Some(destination.port())
            && (destination.ip().is_loopback()
                || destination.ip().is_unspecified()
                || self.addresses.contains(&destination.ip()))
    }
}

/// One session's proxy; dropping it stops accepting (tunnels already open end with their
/// program).
pub struct Egress {
    dir: PathBuf,
    accepting: JoinHandle<()>,
}

impl Drop for Egress {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl Egress {
    /// Opens `<dir>/egress/proxy.sock` and writes the relay beside it.
    pub fn open(dir: &Path, policy: NetworkPolicy, denied: Denied) -> std::io::Result<Egress> {
        let dir = dir.join("egress");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("relay.py"), RELAY)?;
        let listener = UnixListener::bind(dir.join("proxy.sock"))?;
        let rules = Arc::new((policy, denied));
        let accepting = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                tokio::spawn(tunnel(inbound, rules.clone()));
            }
        });
        Ok(Egress { dir, accepting })
    }

    /// The argv prefix that runs a program behind the relay (the program's own argv follows).
    pub fn launcher(&self) -> Vec<OsString> {
        vec![
            "/usr/bin/python3".into(),
            self.dir.join("relay.py").into(),
            "listen".into(),
            RELAY_PORT.to_string().into(),
            self.dir.join("proxy.sock").into(),
            "--".into(),
        ]
    }

    /// The proxy variables programs read (curl reads only the lowercase `http_proxy`).
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        let proxy = format!("http://127.0.0.1:{RELAY_PORT}");
        ["http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"]
            .into_iter()
            .map(|name| (name, proxy.clone()))
            .collect()
    }

    /// The ssh option that sends a connection through the proxy.
    pub fn ssh_option(&self) -> String {
        format!(
            "-o 'ProxyCommand=/usr/bin/python3 {} connect {} %h %p'",
            self.dir.join("relay.py").display(),
            self.dir.join("proxy.sock").display()
        )
    }
}

/// Serves one connection: reads the CONNECT, judges the destination, then copies both ways.
async fn tunnel(mut inbound: UnixStream, rules: Arc<(NetworkPolicy, Denied)>) {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let end = loop {
        match inbound.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if head.len() > MAX_HEAD {
            return refuse(&mut inbound, "431 Request Header Fields Too Large", "").await;
        }
    };
    let line = String::from_utf8_lossy(&head[..end]);
    let line = line.lines().next().unwrap_or_default();
    let mut words = line.split(' ');
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        return refuse(
            &mut inbound,
            "405 Method Not Allowed",
            "only tunnels (https, ssh) leave the sandbox; plain http is not proxied",
        )
        .await;
    };
    let Some((host, port)) = target
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
    else {
        return refuse(&mut inbound, "400 Bad Request", "CONNECT needs host:port").await;
    };
    let (policy, denied) = &*rules;
    let outbound = match connect(policy, denied, host, port).await {
        Ok(stream) => stream,
        Err(reason) => return refuse(&mut inbound, "403 Forbidden", &reason).await,
    };
    let mut outbound = outbound;
    if inbound
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
        || outbound.write_all(&head[end..]).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}

async fn connect(
    policy: &NetworkPolicy,
    denied: &Denied,
    host: &str,
    port: u16,
) -> Result<TcpStream, String> {
    let cleared = policy
        .resolve(Purpose::Git, host, port)
        .await
        .map_err(|refused| refused.0)?;
    let addresses: Vec<SocketAddr> = if cleared.pinned.is_empty() {
        tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("{host} does not resolve: {e}"))?
            .collect()
    } else {
        cleared
            .pinned
            .iter()
            .map(|ip| SocketAddr::new(*ip, port))
            .collect()
    };
    if let Some(refused) = addresses.iter().find(|a| denied.refuses(**a)) {
        return Err(format!(
            "{host} ({}) is the database's port, which programs in the terminal do not reach",
            refused
        ));
    }
    let mut last = format!("{host} has no addresses");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = format!("{address}: {e}"),
        }
    }
    Err(last)
}

async fn refuse(inbound: &mut UnixStream, status: &str, reason: &str) {
    let body = format!("{reason}\n");
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = inbound.write_all(answer.as_bytes()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_port_is_refused_on_its_addresses_and_on_loopback_only() {
        let denied = Denied {
            port: Some(5432),
            addresses: vec!["10.0.0.5".parse().unwrap()],
        };
        assert!(denied.refuses("10.0.0.5:5432".parse().unwrap()));
        assert!(denied.refuses("127.0.0.1:5432".parse().unwrap()));
        assert!(denied.refuses("[::1]:5432".parse().unwrap()));
        assert!(!denied.refuses("10.0.0.5:22".parse().unwrap()));
        assert!(!denied.refuses("203.0.113.7:5432".parse().unwrap()));
        assert!(!Denied::default().refuses("127.0.0.1:5432".parse().unwrap()));
    }
}
