//! SSH's way out of a sandbox without a network (`exec::sandbox`): one unix socket per
//! destination in the run's directory, each connection to it forwarded by this process to that
//! destination's address and port, and nowhere else. ssh inside reaches the socket through
//! `ProxyCommand`, with `exec::egress`'s relay in its `pipe` mode.

use std::path::{Path, PathBuf};
use tokio::net::{TcpStream, UnixListener};
use tokio::task::JoinHandle;

/// The listening sockets of one run; dropping it stops accepting (connections already open end
/// with their ssh).
pub struct Tunnels {
    dir: PathBuf,
    accepting: Vec<JoinHandle<()>>,
}

impl Drop for Tunnels {
    fn drop(&mut self) {
        for task in &self.accepting {
            task.abort();
        }
    }
}

impl Tunnels {
    /// Opens `<dir>/tunnels/<n>` for the n-th of `destinations` and writes the relay.
    pub fn open(dir: &Path, destinations: &[(String, u16)]) -> std::io::Result<Tunnels> {
        let dir = dir.join("tunnels");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("relay.py"), crate::exec::egress::RELAY)?;
        let mut accepting = Vec::new();
        for (n, (address, port)) in destinations.iter().enumerate() {
            let listener = UnixListener::bind(dir.join(n.to_string()))?;
            let (address, port) = (address.clone(), *port);
            accepting.push(tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let address = address.clone();
                    tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect((address.as_str(), port)).await
                        {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }));
        }
        Ok(Tunnels { dir, accepting })
    }

    /// The ssh option that sends the n-th destination's connection through its socket.
    pub fn ssh_option(&self, n: usize) -> String {
        format!(
            "-o 'ProxyCommand=/usr/bin/python3 {} pipe {}'",
            self.dir.join("relay.py").display(),
            self.dir.join(n.to_string()).display()
        )
    }
}
