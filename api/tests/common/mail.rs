//! A real SMTP server for the tests that send e-mail: aiosmtpd (Debian's python3-aiosmtpd,
//! installed by `scripts/setup.sh --test`) writing each message it accepts into a Maildir.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct MailServer {
    child: Child,
    maildir: PathBuf,
    pub url: String,
}

impl MailServer {
    /// Starts aiosmtpd on a free loopback port; `None` (and a note) when it is not installed,
    /// a failure when PROVISIO_REQUIRE_FAKES says the test tools must all be there.
    pub async fn start(scratch: &std::path::Path) -> Option<MailServer> {
        let port = super::free_port();
        // aiosmtpd's Maildir handler creates the folder itself and fails if it already exists.
        let maildir = scratch.join(format!("maildir-{port}"));
        let child = match Command::new("aiosmtpd")
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(_) => {
                assert!(
                    std::env::var("PROVISIO_REQUIRE_FAKES").is_err(),
                    "PROVISIO_REQUIRE_FAKES is set but aiosmtpd is missing (scripts/setup.sh --test)"
                );
                eprintln!("skipped: aiosmtpd is not installed (see scripts/setup.sh)");
                return None;
            }
        };
        let server = MailServer {
            child,
            maildir,
            url: format!("smtp://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(server)
    }

    /// Every message received so far, as its raw text (headers and body), oldest first.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return vec![];
        };
        let mut found: Vec<(std::time::SystemTime, String)> = entries
            .flatten()
            .filter_map(|e| {
                let modified = e.metadata().ok()?.modified().ok()?;
                Some((modified, std::fs::read_to_string(e.path()).ok()?))
            })
            .collect();
        found.sort_by_key(|m| m.0);
        found.into_iter().map(|(_, text)| text).collect()
    }

    /// The messages sent to `address`.
    pub fn to(&self, address: &str) -> Vec<String> {
        let header = format!("X-RcptTo: {address}");
        self.messages()
            .into_iter()
            .filter(|m| m.lines().any(|l| l.trim() == header))
            .collect()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a message's body, undoing the transfer encoding the sender chose (lettre picks
/// quoted-printable or base64 for lines over 78 characters).
pub fn body_of(message: &str) -> String {
    let message = message.replace("\r\n", "\n");
    let (headers, body) = message.split_once("\n\n").unwrap_or((&message, ""));
    let encoding = headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-transfer-encoding:")
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default();
    match encoding.as_str() {
        "base64" => {
            use base64::Engine;
            let joined: String = body.split_whitespace().collect();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(joined)
                    .expect("a base64 body"),
            )
            .expect("a UTF-8 body")
        }
        "quoted-printable" => {
            let joined = body.replace("=\n", "");
            let bytes = joined.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let hex = joined.get(i + 1..i + 3).unwrap_or("");
                if bytes[i] == b'=' {
                    if let Ok(b) = u8::from_str_radix(hex, 16) {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                }
                out.push(bytes[i]);
                i += 1;
            }
            String::from_utf8(out).expect("a UTF-8 body")
        }
        _ => body.to_owned(),
    }
}
