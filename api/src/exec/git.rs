//! git from argv vectors, with only the https and ssh transports allowed, no hooks, no
//! credential helpers, no prompts, `--` before every URL, and ssh keyed by a 0600 file.

use shared::projects::Commit;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

const TIMEOUT: Duration = Duration::from_secs(300);

/// How git reaches a repository: the deploy key (if any), where accepted host keys go, and the
/// address the network policy checked for the URL's host name.
pub struct Remote<'a> {
    pub url: &'a str,
    pub key_file: Option<&'a Path>,
    pub known_hosts: &'a Path,
    pub pin: Option<&'a Pin>,
}

/// Makes git connect to `address` for `host` instead of resolving the name again (which could
/// answer differently the second time).
pub struct Pin {
    pub host: String,
    pub port: u16,
    pub addresses: Vec<std::net::IpAddr>,
}

impl Pin {
    /// Only a plain host name is pinned: it ends up inside GIT_SSH_COMMAND, which a shell reads.
    pub fn new(host: &str, port: u16, addresses: Vec<std::net::IpAddr>) -> Option<Pin> {
        let plain = !host.is_empty()
            && !host.starts_with('-')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        (plain && !addresses.is_empty()).then(|| Pin {
            host: host.to_owned(),
            port,
            addresses,
        })
    }

    /// ssh connects to one address: an IPv4 one where there is any, since hosts listen on IPv4
    /// more often than IPv6 is routed (ssh itself would have tried each in turn).
    fn ssh_address(&self) -> std::net::IpAddr {
        *self
            .addresses
            .iter()
            .find(|a| a.is_ipv4())
            .unwrap_or(&self.addresses[0])
    }

    /// curl takes every address, in order.
    fn curl_resolve(&self) -> String {
        let addresses: Vec<String> = self
            .addresses
            .iter()
            .map(|a| match a {
                std::net::IpAddr::V4(v4) => v4.to_string(),
                std::net::IpAddr::V6(v6) => format!("[{v6}]"),
            })
            .collect();
        format!("{}:{}:{}", self.host, self.port, addresses.join(","))
    }
}

pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

fn base(cwd: &Path, remote: Option<&Remote<'_>>) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(cwd)
        .args([
            "-c",
            "protocol.allow=never",
            "-c",
            "protocol.https.allow=always",
            "-c",
            "protocol.ssh.allow=always",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "credential.helper=",
            "-c",
            "core.askPass=",
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_ASKPASS", "/bin/false")
        .env("SSH_ASKPASS", "/bin/false")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(remote) = remote {
        // A redirect could lead an https fetch to an address the policy never saw.
        cmd.args(["-c", "http.followRedirects=false"]);
        // git runs GIT_SSH_COMMAND through a shell; it holds only paths Provisio chose, and a
        // pinned host name and address (letters, digits, `.`, `-`, `:`).
        let mut ssh = format!(
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile='{}' -o ConnectTimeout=15",
            remote.known_hosts.display()
        );
        if let Some(key) = remote.key_file {
            ssh.push_str(&format!(" -o IdentitiesOnly=yes -i '{}'", key.display()));
        }
        if let Some(pin) = remote.pin {
            // Host keys stay filed under the name (as ssh would file them), not the address.
            let alias = if pin.port == 22 {
                pin.host.clone()
            } else {
                format!("[{}]:{}", pin.host, pin.port)
            };
            ssh.push_str(&format!(
                " -o HostName={} -o HostKeyAlias='{alias}'",
                pin.ssh_address()
            ));
            cmd.arg("-c")
                .arg(format!("http.curloptResolve={}", pin.curl_resolve()));
        }
        cmd.env("GIT_SSH_COMMAND", ssh);
    }
    cmd
}

async fn run(mut cmd: Command) -> Result<Output, String> {
    let output = tokio::time::timeout(TIMEOUT, cmd.output())
        .await
        .map_err(|_| format!("git took longer than {} s", TIMEOUT.as_secs()))?
        .map_err(|e| format!("cannot start git: {e}"))?;
    let out = Output {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    if output.status.success() {
        Ok(out)
    } else {
        Err(out.stderr.trim().chars().take(2000).collect())
    }
}

/// Clones `branch` of the remote into `dir` (which must not exist yet); an empty `branch` means
/// the remote's default branch (its HEAD).
pub async fn clone(remote: &Remote<'_>, branch: &str, dir: &Path) -> Result<Output, String> {
    let parent = dir.parent().ok_or("the checkout has no parent folder")?;
    let mut cmd = base(parent, Some(remote));
    let name = dir.file_name().ok_or("the checkout has no folder name")?;
    cmd.arg("clone");
    if !branch.is_empty() {
        cmd.args(["--branch", branch]);
    }
    cmd.args(["--no-tags", "--"]).arg(remote.url).arg(name);
    run(cmd).await
}

/// The remote's default branch as the clone recorded it (`origin/HEAD`).
pub async fn remote_default_branch(dir: &Path) -> Result<String, String> {
    let mut cmd = base(dir, None);
    cmd.args(["symbolic-ref", "--short", "refs/remotes/origin/HEAD"]);
    let out = run(cmd).await?;
    out.stdout
        .trim()
        .strip_prefix("origin/")
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| "the remote names no default branch".to_owned())
}

/// Fetches every branch and moves the checkout to the remote's `branch`.
pub async fn pull(remote: &Remote<'_>, branch: &str, dir: &Path) -> Result<Output, String> {
    let mut fetch = base(dir, Some(remote));
    fetch.args([
        "fetch",
        "--prune",
        "--no-tags",
        "origin",
        "+refs/heads/*:refs/remotes/origin/*",
    ]);
    run(fetch).await?;
    let mut reset = base(dir, None);
    reset.args([
        "checkout",
        "-B",
        branch,
        &format!("refs/remotes/origin/{branch}"),
        "--",
    ]);
    run(reset).await
}

pub async fn branches(dir: &Path) -> Result<Vec<String>, String> {
    let mut cmd = base(dir, None);
    cmd.args([
        "for-each-ref",
        "--format=%(refname:short)",
        "refs/remotes/origin/",
    ]);
    Ok(run(cmd)
        .await?
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("origin/"))
        .filter(|b| *b != "HEAD")
        .map(str::to_owned)
        .collect())
}

/// The newest `limit` commits of the checkout's HEAD.
pub async fn log(dir: &Path, limit: usize) -> Result<Vec<Commit>, String> {
    let mut cmd = base(dir, None);
    cmd.args([
        "log",
        &format!("--max-count={limit}"),
        "--format=%H%x1f%an%x1f%aI%x1f%s",
        "HEAD",
        "--",
    ]);
    Ok(run(cmd)
        .await?
        .stdout
        .lines()
        .filter_map(|line| {
            let mut parts = line.split('\x1f');
            Some(Commit {
                sha: parts.next()?.to_owned(),
                author: parts.next()?.to_owned(),
                date: chrono::DateTime::parse_from_rfc3339(parts.next()?)
                    .ok()?
                    .with_timezone(&chrono::Utc),
                subject: parts.next()?.to_owned(),
            })
        })
        .collect())
}

/// The full id of a commit: the head of the fetched `branch`, or `commit` (a hex id, validated by
/// the caller) when it exists in the checkout.
pub async fn resolve(dir: &Path, branch: &str, commit: Option<&str>) -> Result<String, String> {
    let wanted = match commit {
        Some(sha) => format!("{sha}^{{commit}}"),
        None => format!("refs/remotes/origin/{branch}^{{commit}}"),
    };
    let mut cmd = base(dir, None);
    cmd.args([
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        &wanted,
    ]);
    match run(cmd).await {
        Ok(out) if !out.stdout.trim().is_empty() => Ok(out.stdout.trim().to_owned()),
        _ => Err(match commit {
            Some(sha) => format!("commit {sha} is not in the repository"),
            None => format!("the repository has no branch {branch}"),
        }),
    }
}

/// Writes the tree of `sha` (a full commit id) as a gzip tarball.
pub async fn archive(dir: &Path, sha: &str, out: &Path) -> Result<(), String> {
    let mut cmd = base(dir, None);
    cmd.args(["archive", "--format=tar.gz"])
        .arg(format!("--output={}", out.display()))
        .args(["--end-of-options", sha]);
    run(cmd).await.map(|_| ())
}

/// Sends `branch` of the checkout to `remote` (the project's validated URL, not whatever
/// `origin` says now).
pub async fn push(remote: &Remote<'_>, branch: &str, dir: &Path) -> Result<Output, String> {
    let mut cmd = base(dir, Some(remote));
    cmd.args(["push", "--porcelain"])
        .arg(remote.url)
        .arg(format!("refs/heads/{branch}:refs/heads/{branch}"));
    run(cmd).await
}

/// An OpenSSH private key as a 0600 file in `dir` (a private temporary folder).
pub fn write_key_file(dir: &Path, key: &str) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("key");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| e.to_string())?;
    file.write_all(format!("{}\n", key.trim_end()).as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(path)
}

/// Where the checkout of a project lives.
pub fn checkout_dir(root: &Path, project: uuid::Uuid) -> PathBuf {
    root.join(project.simple().to_string())
}
