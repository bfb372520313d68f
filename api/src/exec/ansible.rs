//! Runs `ansible-playbook` safely: argv only; inventory, variables, key, known_hosts and config in
//! a private 0700 directory removed afterwards; host keys pinned (`StrictHostKeyChecking=yes`
//! against a known_hosts file we write); the process in its own group so cancel and timeout kill
//! it with every ssh child; per-host recap from a callback plugin's JSON events.

use crate::exec::log::LogSink;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

const CALLBACK_PLUGIN: &str =
    include_str!("../../../playbooks/callback_plugins/provisio_events.py");

/// One inventory host.
#[derive(Debug, Clone)]
pub struct Host {
    pub inventory_name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    /// `ssh-ed25519 AAAA…` as read (and checked against the pinned fingerprint) before the run.
    pub host_key: String,
    /// OpenSSH private key that logs in (the service key or the account's own).
    pub private_key: String,
}

pub struct PlaybookRun<'a> {
    pub ansible_playbook: &'a Path,
    /// bubblewrap, to run the playbook in `exec::sandbox`; `None` runs it as the service itself.
    pub sandbox: Option<&'a Path>,
    /// Files the playbook reads on this host (a release archive to copy), shown read-only in the
    /// sandbox.
    pub readable: &'a [&'a Path],
    /// Names the private directory (and so the process' argv), e.g. the execution id.
    pub label: String,
    pub playbook: &'a str,
    pub hosts: &'a [Host],
    pub variables: &'a BTreeMap<String, Value>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HostStats {
    pub ok: i32,
    pub changed: i32,
    pub failed: i32,
    pub unreachable: i32,
    pub skipped: i32,
    pub rescued: i32,
    pub ignored: i32,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub recap: BTreeMap<String, HostStats>,
}

/// Kills the whole process group when dropped: on cancel (the job future is dropped), on
/// timeout, and after a normal exit. SSH connection masters detach from the group, so every
/// process whose command line names the run's private directory goes too.
struct ProcessGroup {
    pgid: i32,
    marker: String,
}

fn signal_strays(marker: &str, signal: i32) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let named = std::fs::read(entry.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).contains(marker))
            .unwrap_or(false);
        if named && pid != std::process::id() as i32 {
            // SAFETY: kill only sends a signal; a vanished process yields ESRCH, ignored.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let (pgid, marker) = (self.pgid, self.marker.clone());
        // SAFETY: killpg only sends a signal; a vanished group yields ESRCH, which we ignore.
        unsafe {
            libc::killpg(pgid, libc::SIGTERM);
        }
        signal_strays(&marker, libc::SIGTERM);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            // SAFETY: as above.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
            signal_strays(&marker, libc::SIGKILL);
        });
    }
}

/// The label of an execution's playbook runs: short, because the run directory named after it
/// also holds the SSH control sockets.
pub fn run_label(execution_id: uuid::Uuid) -> String {
    execution_id.simple().to_string()[..12].to_owned()
}

fn run_dir_prefix(label: &str) -> String {
    format!("provisio-run-{label}-")
}

/// Clears what a run of `label` left behind when its process died without cleaning up (kill -9,
/// power loss): processes still naming its directory are killed, and the directory (which holds
/// private keys) is removed. Only this host's leftovers can be seen, which is where a run of a
/// local worker would have left them.
pub fn reap_interrupted(label: &str) {
    let prefix = run_dir_prefix(label);
    signal_strays(&prefix, libc::SIGKILL);
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            if let Err(e) = std::fs::remove_dir_all(entry.path()) {
                tracing::warn!(path = %entry.path().display(), error = %e, "removing an interrupted run's directory");
            }
        }
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

/// Extra vars as YAML with every string tagged `!unsafe`, so Ansible never templates a value a
/// user typed (`{{ lookup('pipe', …) }}` stays a literal string).
pub fn unsafe_vars_yaml(variables: &BTreeMap<String, Value>) -> String {
    fn convert(value: &Value) -> serde_yaml::Value {
        match value {
            Value::String(s) => {
                serde_yaml::Value::Tagged(Box::new(serde_yaml::value::TaggedValue {
                    tag: serde_yaml::value::Tag::new("unsafe"),
                    value: serde_yaml::Value::String(s.clone()),
                }))
            }
            Value::Array(items) => serde_yaml::Value::Sequence(items.iter().map(convert).collect()),
            Value::Object(map) => serde_yaml::Value::Mapping(
                map.iter()
                    .map(|(k, v)| (serde_yaml::Value::String(k.clone()), convert(v)))
                    .collect(),
            ),
            other => serde_yaml::to_value(other).unwrap_or(serde_yaml::Value::Null),
        }
    }
    let map: serde_yaml::Mapping = variables
        .iter()
        .map(|(k, v)| (serde_yaml::Value::String(k.clone()), convert(v)))
        .collect();
    serde_yaml::to_string(&map).unwrap_or_default()
}

fn known_hosts_line(host: &Host) -> String {
    if host.port == 22 {
        format!("{} {}\n", host.address, host.host_key)
    } else {
        format!("[{}]:{} {}\n", host.address, host.port, host.host_key)
    }
}

fn ansible_cfg(dir: &Path) -> String {
    let d = dir.display();
    // One SSH connection per host for the whole run; its socket path (dir + 40-char hash + ssh's
    // 17-char suffix) must fit a Unix socket's 108 bytes, else every task connects anew.
    let multiplex = if d.to_string().len() <= 48 {
        format!("-o ControlMaster=auto -o ControlPersist=60s -o ControlPath={d}/%C")
    } else {
        "-o ControlMaster=no".to_owned()
    };
    format!(
        "[defaults]\n\
         host_key_checking = True\n\
         retry_files_enabled = False\n\
         callbacks_enabled = provisio_events\n\
         callback_plugins = {d}/callbacks\n\
         interpreter_python = auto_silent\n\
         local_tmp = {d}/tmp\n\
         nocolor = True\n\
         deprecation_warnings = False\n\
         forks = 10\n\
         timeout = 15\n\
         [ssh_connection]\n\
         pipelining = True\n\
         ssh_args = {multiplex} -o UserKnownHostsFile={d}/known_hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes -o ServerAliveInterval=15\n"
    )
}

/// A private directory prepared for one ansible-playbook invocation.
struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    fn new(label: &str) -> std::io::Result<Self> {
        // tempfile creates directories 0700.
        let dir = tempfile::Builder::new()
            .prefix(&run_dir_prefix(label))
            .tempdir()?;
        std::fs::create_dir(dir.path().join("callbacks"))?;
        std::fs::create_dir(dir.path().join("tmp"))?;
        std::fs::write(
            dir.path().join("callbacks/provisio_events.py"),
            CALLBACK_PLUGIN,
        )?;
        std::fs::write(dir.path().join("ansible.cfg"), ansible_cfg(dir.path()))?;
        Ok(Workdir { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(
        &self,
        ansible_playbook: &Path,
        sandbox: Option<&Path>,
        readable: &[&Path],
    ) -> Result<Command, String> {
        let mut cmd = match sandbox {
            Some(bwrap) => {
                crate::exec::sandbox::command(bwrap, ansible_playbook, self.dir.path(), readable)?
            }
            None => Command::new(ansible_playbook),
        };
        cmd.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .env("ANSIBLE_CONFIG", self.path("ansible.cfg"))
            .env("PROVISIO_EVENTS", self.path("events.jsonl"))
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // If this process dies without running the group's clean-up (kill -9), the kernel kills
        // ansible-playbook too, instead of leaving it to run on unattended; what it forked is
        // reaped by the attempt that takes the job over (`reap_interrupted`).
        // SAFETY: prctl is async-signal-safe and touches only the child being set up.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Ok(cmd)
    }
}

async fn forward<R: AsyncRead + Unpin>(
    reader: R,
    stream: &'static str,
    tx: mpsc::Sender<(&'static str, String)>,
) {
    let mut lines = BufReader::new(reader).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if tx.send((stream, line)).await.is_err() {
            break;
        }
    }
}

/// Runs the playbook on the hosts, streaming every output line into `log` (which redacts).
pub async fn run(run: PlaybookRun<'_>, log: &LogSink) -> Result<Outcome, String> {
    let work =
        Workdir::new(&run.label).map_err(|e| format!("cannot prepare the run directory: {e}"))?;
    // One key file per distinct key.
    let mut keys: Vec<&str> = run.hosts.iter().map(|h| h.private_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let key_file = |key: &str| {
        work.path(&format!(
            "key_{}",
            keys.iter().position(|k| *k == key).unwrap_or(0)
        ))
    };
    // In the sandbox the playbook has no network: its ssh leaves through one socket per host.
    let tunnels = match run.sandbox {
        Some(_) => {
            let destinations: Vec<(String, u16)> = run
                .hosts
                .iter()
                .map(|h| (h.address.clone(), h.port))
                .collect();
            Some(
                crate::exec::tunnel::Tunnels::open(work.dir.path(), &destinations)
                    .map_err(|e| format!("cannot open the hosts' tunnels: {e}"))?,
            )
        }
        None => None,
    };
    let inventory = serde_json::json!({
        "all": {
            // The distribution's Python before any other on PATH (version managers' shims).
            "vars": {"ansible_interpreter_python_fallback": [
                "/usr/bin/python3", "/usr/libexec/platform-python", "python3",
                "python3.13", "python3.12", "python3.11", "python3.10", "python3.9", "python3.8"
            ]},
            "hosts": run.hosts.iter().enumerate().map(|(n, h)| {
                let mut vars = serde_json::json!({
                    "ansible_host": h.address,
                    "ansible_port": h.port,
                    "ansible_user": h.user,
                    "ansible_ssh_private_key_file": key_file(&h.private_key),
                });
                if let Some(tunnels) = &tunnels {
                    vars["ansible_ssh_extra_args"] = tunnels.ssh_option(n).into();
                }
                (h.inventory_name.clone(), vars)
            }).collect::<serde_json::Map<_, _>>()
        }
    });
    let known_hosts: String = run.hosts.iter().map(known_hosts_line).collect();
    let setup = || -> std::io::Result<()> {
        std::fs::write(work.path("playbook.yml"), run.playbook)?;
        std::fs::write(work.path("inventory.yml"), inventory.to_string())?;
        std::fs::write(work.path("known_hosts"), known_hosts.as_bytes())?;
        write_private(
            &work.path("vars.yml"),
            unsafe_vars_yaml(run.variables).as_bytes(),
        )?;
        for key in &keys {
            let mut pem = key.trim_end().to_owned();
            pem.push('\n');
            write_private(&key_file(key), pem.as_bytes())?;
        }
        Ok(())
    };
    setup().map_err(|e| format!("cannot write the run files: {e}"))?;

    let mut cmd = work.command(run.ansible_playbook, run.sandbox, run.readable)?;
    cmd.arg("-i")
        .arg(work.path("inventory.yml"))
        .arg("-e")
        .arg(format!("@{}", work.path("vars.yml").display()))
        .arg(work.path("playbook.yml"));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", run.ansible_playbook.display()))?;
    let _group = child.id().map(|pid| ProcessGroup {
        pgid: pid as i32,
        marker: work.dir.path().display().to_string(),
    });

    let (tx, mut rx) = mpsc::channel(256);
    let out = tokio::spawn(forward(
        child.stdout.take().expect("piped"),
        "stdout",
        tx.clone(),
    ));
    let err = tokio::spawn(forward(child.stderr.take().expect("piped"), "stderr", tx));

    let drain = async {
        while let Some((stream, line)) = rx.recv().await {
            let trimmed = line.trim_end_matches(['*', ' ']);
            if trimmed.is_empty() {
                continue;
            }
            if stream == "stdout"
                && (trimmed.starts_with("TASK [") || trimmed.starts_with("PLAY ["))
            {
                log.step(trimmed).await;
            } else {
                log.line(stream, trimmed).await;
            }
        }
        child.wait().await
    };
    let mut outcome = Outcome::default();
    match tokio::time::timeout(run.timeout, drain).await {
        Ok(status) => {
            let status = status.map_err(|e| format!("waiting for ansible-playbook: {e}"))?;
            outcome.exit_code = status.code();
        }
        Err(_) => outcome.timed_out = true,
    }
    out.abort();
    err.abort();
    outcome.recap = read_recap(&work.path("events.jsonl"));
    Ok(outcome)
}

fn read_recap(path: &Path) -> BTreeMap<String, HostStats> {
    #[derive(Deserialize)]
    struct Event {
        event: String,
        #[serde(default)]
        hosts: BTreeMap<String, HostStats>,
    }
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Event>(l).ok())
        .find(|e| e.event == "stats")
        .map(|e| e.hosts)
        .unwrap_or_default()
}

/// `ansible-playbook --syntax-check`; the error names the line ("line 5, column 3: …") when
/// Ansible reports one.
pub async fn syntax_check(ansible_playbook: &Path, playbook: &str) -> Result<(), String> {
    let work = Workdir::new("check").map_err(|e| format!("cannot prepare a directory: {e}"))?;
    std::fs::write(work.path("playbook.yml"), playbook).map_err(|e| e.to_string())?;
    std::fs::write(work.path("inventory.yml"), r#"{"all": {"hosts": {}}}"#)
        .map_err(|e| e.to_string())?;
    let mut cmd = work.command(ansible_playbook, None, &[])?;
    cmd.arg("--syntax-check")
        .arg("-i")
        .arg(work.path("inventory.yml"))
        .arg(work.path("playbook.yml"))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| "the syntax check took longer than 60 s".to_string())?
        .map_err(|e| format!("cannot start {}: {e}", ansible_playbook.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    Err(describe_syntax_error(&text))
}

/// Turns Ansible's error output into one message, prefixed with its position when known.
pub fn describe_syntax_error(output: &str) -> String {
    let message = output
        .lines()
        .map(str::trim)
        .find_map(|l| {
            l.strip_prefix("[ERROR]:")
                .or_else(|| l.strip_prefix("ERROR!"))
        })
        .map(str::trim)
        .unwrap_or("the playbook did not pass ansible-playbook --syntax-check")
        .to_owned();
    // ansible-core 2.19: "Origin: /dir/playbook.yml:5:7"; older: "line 5, column 7".
    let position = output.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Origin:")?;
        let mut parts = rest.trim().rsplitn(3, ':');
        let column: usize = parts.next()?.trim().parse().ok()?;
        let line: usize = parts.next()?.trim().parse().ok()?;
        Some((line, column))
    });
    let position = position.or_else(|| {
        let at = output.find("line ")?;
        let rest = &output[at + 5..];
        let line: usize = rest
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()?;
        let column = rest
            .find("column ")
            .and_then(|c| {
                rest[c + 7..]
                    .split(|ch: char| !ch.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(1);
        Some((line, column))
    });
    match position {
        Some((line, column)) => format!("line {line}, column {column}: {message}"),
        None => message,
    }
}

/// YAML parse with the position of the first error; a playbook must be a list of plays.
pub fn parse_playbook(content: &str) -> Result<(), String> {
    match serde_yaml::from_str::<serde_yaml::Value>(content) {
        Ok(serde_yaml::Value::Sequence(plays)) if !plays.is_empty() => {
            for (i, play) in plays.iter().enumerate() {
                if !play.is_mapping() {
                    return Err(format!("play {} is not a mapping", i + 1));
                }
            }
            Ok(())
        }
        Ok(_) => Err("line 1, column 1: a playbook is a YAML list of plays".into()),
        Err(e) => Err(match e.location() {
            Some(at) => format!(
                "line {}, column {}: {}",
                at.line(),
                at.column(),
                strip_location(&e.to_string())
            ),
            None => e.to_string(),
        }),
    }
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_strings_are_never_templates() {
        let vars: BTreeMap<String, Value> = [
            ("greeting".to_string(), json!("{{ lookup('pipe', 'id') }}")),
            ("count".to_string(), json!(3)),
            ("flag".to_string(), json!(true)),
        ]
        .into();
        let yaml = unsafe_vars_yaml(&vars);
        assert!(yaml.contains("greeting: !unsafe"), "{yaml}");
        assert!(yaml.contains("count: 3"), "{yaml}");
        assert!(yaml.contains("flag: true"), "{yaml}");
    }

    #[test]
    fn yaml_errors_carry_their_line() {
        let err = parse_playbook("- hosts: all\n  tasks:\n    - name: x\n   bad: [\n").unwrap_err();
        assert!(err.starts_with("line "), "{err}");
        assert_eq!(shared::scripts::error_line(&err), Some(4));
        assert!(parse_playbook("hosts: all").is_err());
        assert!(parse_playbook("- hosts: all\n  tasks: []\n").is_ok());
    }

    #[test]
    fn ansible_positions_are_read() {
        let out = "[ERROR]: conflicting action statements: debug, command\nOrigin: /tmp/x/playbook.yml:5:7\n";
        assert_eq!(
            describe_syntax_error(out),
            "line 5, column 7: conflicting action statements: debug, command"
        );
        let old = "ERROR! no action detected in task\n\nThe error appears to be in '/tmp/p.yml': line 3, column 7, but may\n";
        assert_eq!(
            describe_syntax_error(old),
            "line 3, column 7: no action detected in task"
        );
    }

    #[test]
    fn ssh_connections_are_shared_only_when_the_socket_path_fits() {
        assert!(
            ansible_cfg(Path::new("/tmp/provisio-run-0123456789ab-AbCdEf"))
                .contains("ControlPath=/tmp/provisio-run-0123456789ab-AbCdEf/%C")
        );
        let long = ansible_cfg(Path::new(
            "/var/lib/a-rather-long-temporary-directory/provisio-run-0123456789ab-AbCdEf",
        ));
        assert!(long.contains("ControlMaster=no") && !long.contains("ControlPath"));
    }

    #[test]
    fn known_hosts_name_non_default_ports() {
        let host = Host {
            inventory_name: "a".into(),
            address: "127.0.0.1".into(),
            port: 2222,
            user: "root".into(),
            host_key: "ssh-ed25519 AAAA".into(),
            private_key: String::new(),
        };
        assert_eq!(
            known_hosts_line(&host),
            "[127.0.0.1]:2222 ssh-ed25519 AAAA\n"
        );
    }
}
