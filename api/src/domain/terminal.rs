//! Project terminals: the administrators' allowlist, and the session behind the WebSocket — one
//! program at a time, from argv only, in a PTY in the project's checkout, with resize, Ctrl-C,
//! an idle timeout, and an audit row for every start, refusal and exit.

use crate::auth::AuthUser;
use crate::domain::audit::{self, AuditEntry};
use crate::domain::projects;
use crate::entities::projects as project_rows;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_ws::Message;
use portable_pty::{ChildKiller, CommandBuilder, MasterPty, PtySize};
use sea_orm::{ConnectionTrait, DbErr};
use shared::terminal::{ClientMessage, ServerMessage, TerminalSettings};
use shared::Permission;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

const KEY: &str = "terminal";

pub async fn settings<C: ConnectionTrait>(db: &C) -> Result<TerminalSettings, DbErr> {
    crate::domain::settings::load(db, KEY).await
}

pub async fn save_settings(
    state: &AppState,
    auth: &AuthUser,
    input: TerminalSettings,
) -> ApiResult<TerminalSettings> {
    // Administrators only: the allowlist decides what people can run on this machine.
    auth.require(Permission::UsersManage)?;
    input.validate()?;
    crate::domain::settings::save(state, auth, KEY, "terminal.settings", &input).await?;
    Ok(input)
}

/// The project a caller may open a terminal in (its checkout must exist).
pub async fn project_for(
    state: &AppState,
    auth: &AuthUser,
    id: uuid::Uuid,
) -> ApiResult<project_rows::Model> {
    auth.require(Permission::DeploymentsManage)?;
    let row = projects::visible(&state.db, auth, id).await?;
    if !projects::checkout(state, row.id).join(".git").is_dir() {
        return Err(ApiError::Conflict(
            "the project has no checkout yet; sync it first".into(),
        ));
    }
    Ok(row)
}

/// A program running in the session's PTY.
struct Running {
    argv: Vec<String>,
    started: Instant,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    killer: Box<dyn ChildKiller + Send + Sync>,
    /// Taken by the session loop when the program starts.
    output: Option<mpsc::Receiver<Vec<u8>>>,
    reader_done: bool,
    exit: Option<oneshot::Receiver<portable_pty::ExitStatus>>,
    exited: Option<(portable_pty::ExitStatus, Instant)>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.exited.is_none() {
            let _ = self.killer.kill();
        }
    }
}

/// Bytes from the PTY as text, keeping a character split across two reads whole.
#[derive(Default)]
struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => {
                let text = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending.clear();
                return text;
            }
        };
        let rest = self.pending.split_off(valid);
        String::from_utf8(std::mem::replace(&mut self.pending, rest)).unwrap_or_default()
    }
}

/// The environment of terminal programs: nothing of the server's but PATH; HOME is the
/// session's private directory; git limited to https and ssh, without hooks, keyed by the
/// project's deploy key (or the service key), and through the sandbox's proxy when there is one.
fn environment(cmd: &mut CommandBuilder, place: &Place<'_>) {
    let (home, key_file, known_hosts) = (place.private, place.key_file, place.known_hosts);
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    cmd.env("HOME", home);
    cmd.env("TERM", "xterm-256color");
    cmd.env("LANG", "C.UTF-8");
    cmd.env("GIT_TERMINAL_PROMPT", "0");
    let config = [
        ("protocol.allow", "never"),
        ("protocol.https.allow", "always"),
        ("protocol.ssh.allow", "always"),
        ("core.hooksPath", "/dev/null"),
    ];
    cmd.env("GIT_CONFIG_COUNT", config.len().to_string());
    for (i, (key, value)) in config.iter().enumerate() {
        cmd.env(format!("GIT_CONFIG_KEY_{i}"), key);
        cmd.env(format!("GIT_CONFIG_VALUE_{i}"), value);
    }
    // Our own paths only (a temporary directory and the configured projects directory): nothing
    // a user typed reaches this shell string.
    let proxy = place.egress.map(|e| e.ssh_option()).unwrap_or_default();
    cmd.env(
        "GIT_SSH_COMMAND",
        format!(
            "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile='{}' -o IdentitiesOnly=yes -i '{}' {proxy}",
            known_hosts.display(),
            key_file.display()
        ),
    );
    for (name, value) in place.egress.map(|e| e.environment()).unwrap_or_default() {
        cmd.env(name, value);
    }
}

/// Where a terminal program runs: the project's checkout, and the session's private directory
/// (its HOME, holding the key git uses).
struct Place<'a> {
    checkout: &'a Path,
    private: &'a Path,
    key_file: &'a Path,
    known_hosts: &'a Path,
    /// bubblewrap; `None` runs programs as the service itself (`PROVISIO_SANDBOX=off`).
    sandbox: Option<&'a Path>,
    /// The sandbox's only way out (with the sandbox only).
    egress: Option<&'a crate::exec::egress::Egress>,
}

/// The argv that starts `argv` in the sandbox, which holds the checkout and the session's
/// private directory (read-write) and the known hosts (read-only), and nothing else of this host's
/// that is not the system's: not the key file, the database or other projects' checkouts; its
/// network is the egress proxy's relay.
fn sandboxed(argv: &[String], place: &Place<'_>) -> Result<Vec<std::ffi::OsString>, String> {
    let Some(bwrap) = place.sandbox else {
        return Ok(argv.iter().map(Into::into).collect());
    };
    let args: Vec<std::ffi::OsString> = argv[1..].iter().map(Into::into).collect();
    crate::exec::sandbox::argv(
        bwrap,
        Path::new(&argv[0]),
        &args,
        &crate::exec::sandbox::Places {
            writable: &[place.checkout, place.private],
            readable: &[place.known_hosts],
            network: false,
            launcher: &place.egress.map(|e| e.launcher()).unwrap_or_default(),
        },
    )
}

fn start(argv: &[String], place: &Place<'_>, size: PtySize) -> Result<Running, String> {
    let pair = portable_pty::native_pty_system()
        .openpty(size)
        .map_err(|e| format!("no PTY: {e}"))?;
    let mut cmd = CommandBuilder::from_argv(sandboxed(argv, place)?);
    cmd.cwd(place.checkout);
    environment(&mut cmd, place);
    let mut child = pair
        .slave
        .spawn_command(cmd)
        .map_err(|e| format!("{} did not start: {e}", argv[0]))?;
    // Only the child holds the terminal's other end now, so reads end when it exits.
    drop(pair.slave);
    let killer = child.clone_killer();
    let mut reader = pair.master.try_clone_reader().map_err(|e| e.to_string())?;
    let writer = pair.master.take_writer().map_err(|e| e.to_string())?;
    let (out_tx, output) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if out_tx.blocking_send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let (exit_tx, exit) = oneshot::channel();
    std::thread::spawn(move || {
        if let Ok(status) = child.wait() {
            let _ = exit_tx.send(status);
        }
    });
    Ok(Running {
        argv: argv.to_vec(),
        started: Instant::now(),
        master: pair.master,
        writer,
        killer,
        output: Some(output),
        reader_done: false,
        exit: Some(exit),
        exited: None,
    })
}

async fn send(ws: &mut actix_ws::Session, message: &ServerMessage) -> bool {
    match serde_json::to_string(message) {
        Ok(text) => ws.text(text).await.is_ok(),
        Err(_) => false,
    }
}

async fn record(
    state: &AppState,
    auth: &AuthUser,
    project: &project_rows::Model,
    action: &'static str,
    after: serde_json::Value,
) {
    let written = audit::record(
        &state.db,
        &auth.context,
        AuditEntry {
            actor: Some(auth.id()),
            action,
            target_type: "project",
            target_id: Some(project.id.to_string()),
            before: None,
            after: Some(after),
        },
    )
    .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, action, "terminal audit row not written");
    }
}

/// The private key git uses in the session, in a 0600 file that lives as long as the session:
/// the project's deploy key, else the platform's service key.
async fn key_file(
    state: &AppState,
    project: &project_rows::Model,
    dir: &Path,
) -> Result<PathBuf, String> {
    let key = match &project.deploy_key {
        Some(sealed) => state
            .keys
            .open(sealed)
            .map_err(|e| format!("the deploy key cannot be opened: {e}"))?,
        None => crate::domain::ssh_keys::service_key(state)
            .await
            .map(|(_, private)| private)
            .unwrap_or_default(),
    };
    crate::exec::git::write_key_file(dir, &key)
}

/// Serves one terminal session until the browser leaves, the session idles out, or the server
/// stops; a program still running then is killed.
pub async fn serve(
    state: AppState,
    auth: AuthUser,
    project: project_rows::Model,
    mut ws: actix_ws::Session,
    mut incoming: actix_ws::MessageStream,
) {
    let settings = settings(&state.db).await.unwrap_or_default();
    let dir = projects::checkout(&state, project.id);
    let private = match tempfile::Builder::new().prefix("provisio-term-").tempdir() {
        Ok(d) => d,
        Err(e) => {
            let _ = send(
                &mut ws,
                &ServerMessage::Closed {
                    reason: e.to_string(),
                },
            )
            .await;
            return;
        }
    };
    let key_path = match key_file(&state, &project, private.path()).await {
        Ok(p) => p,
        Err(e) => {
            let _ = send(&mut ws, &ServerMessage::Closed { reason: e }).await;
            return;
        }
    };
    // Absolute, because ssh runs from the checkout; the same file git's jobs use.
    let known_hosts = std::fs::canonicalize(&state.config.projects_dir)
        .unwrap_or_else(|_| state.config.projects_dir.clone())
        .join("known_hosts");
    // git fetches and pushes from the terminal: through the proxy, under the network policy.
    let egress = match state.config.sandbox {
        Some(_) => {
            let denied = crate::exec::egress::Denied::database(&state.config.database_url).await;
            match crate::exec::egress::Egress::open(
                private.path(),
                state.config.network.clone(),
                denied,
            ) {
                Ok(egress) => Some(egress),
                Err(e) => {
                    let reason = format!("the terminal's network could not be set up: {e}");
                    let _ = send(&mut ws, &ServerMessage::Closed { reason }).await;
                    return;
                }
            }
        }
        None => None,
    };
    let place = Place {
        checkout: &dir,
        private: private.path(),
        key_file: &key_path,
        known_hosts: &known_hosts,
        sandbox: state.config.sandbox.as_deref(),
        egress: egress.as_ref(),
    };
    record(
        &state,
        &auth,
        &project,
        "terminal.open",
        serde_json::json!({"project": project.name}),
    )
    .await;
    let ready = ServerMessage::Ready {
        project: project.name.clone(),
        allowed_commands: settings.allowed_commands.clone(),
        idle_timeout_secs: settings.idle_timeout_secs,
    };
    if !send(&mut ws, &ready).await {
        return;
    }
    let idle = Duration::from_secs(u64::from(settings.idle_timeout_secs));
    let mut last_activity = Instant::now();
    let mut size = PtySize {
        rows: 24,
        cols: 80,
        pixel_width: 0,
        pixel_height: 0,
    };
    let mut running: Option<Running> = None;
    let mut output_rx: Option<mpsc::Receiver<Vec<u8>>> = None;
    let mut exit_rx: Option<oneshot::Receiver<portable_pty::ExitStatus>> = None;
    let mut text = Utf8Stream::default();
    let closing = loop {
        tokio::select! {
            message = incoming.recv() => {
                last_activity = Instant::now();
                match message {
                    Some(Ok(Message::Text(body))) => {
                        let reply = match serde_json::from_str::<ClientMessage>(&body) {
                            Ok(m) => handle(&state, &auth, &project, &settings, m, &mut running, &mut size, &place).await,
                            Err(e) => Some(ServerMessage::Error { message: format!("unreadable message: {e}") }),
                        };
                        if let Some(reply) = reply {
                            if !send(&mut ws, &reply).await {
                                break None;
                            }
                        }
                    }
                    Some(Ok(Message::Ping(bytes))) => {
                        if ws.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                    Some(Ok(_)) => {}
                }
            }
            chunk = next_output(&mut output_rx) => {
                last_activity = Instant::now();
                match chunk {
                    Some(bytes) => {
                        let data = text.push(&bytes);
                        if !data.is_empty() && !send(&mut ws, &ServerMessage::Output { data }).await {
                            break None;
                        }
                    }
                    None => {
                        output_rx = None;
                        if let Some(r) = running.as_mut() {
                            r.reader_done = true;
                        }
                    }
                }
            }
            status = next_exit(&mut exit_rx) => {
                exit_rx = None;
                if let (Some(r), Some(status)) = (running.as_mut(), status) {
                    r.exited = Some((status, Instant::now()));
                }
            }
            _ = tokio::time::sleep_until((last_activity + idle).into()) => {
                break Some(format!("idle for {} s", idle.as_secs()));
            }
            // Wakes the loop to finish a program whose output never ends (a daemon kept the PTY).
            _ = tokio::time::sleep(Duration::from_millis(500)), if running.as_ref().is_some_and(|r| r.exited.is_some()) => {}
        }
        if let Some(r) = running.as_mut() {
            if let (Some(out), Some(exit)) = (r.output.take(), r.exit.take()) {
                output_rx = Some(out);
                exit_rx = Some(exit);
            }
        }
        let finished = running.as_ref().and_then(|r| {
            r.exited
                .as_ref()
                .filter(|(_, at)| r.reader_done || at.elapsed() > Duration::from_secs(2))
                .map(|(status, _)| status.clone())
        });
        if let Some(status) = finished {
            let run = running.take().expect("a finished program");
            let code = status.signal().is_none().then(|| status.exit_code() as i32);
            let signal = status.signal().map(str::to_owned);
            record(
                &state,
                &auth,
                &project,
                "terminal.exit",
                serde_json::json!({"argv": run.argv, "code": code, "signal": signal,
                                   "seconds": run.started.elapsed().as_secs()}),
            )
            .await;
            if !send(&mut ws, &ServerMessage::Exit { code, signal }).await {
                break None;
            }
        }
    };
    drop(running);
    if let Some(reason) = closing {
        let _ = send(&mut ws, &ServerMessage::Closed { reason }).await;
    }
    let _ = ws.close(None).await;
}

async fn next_output(output: &mut Option<mpsc::Receiver<Vec<u8>>>) -> Option<Vec<u8>> {
    match output.as_mut() {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_exit(
    exit: &mut Option<oneshot::Receiver<portable_pty::ExitStatus>>,
) -> Option<portable_pty::ExitStatus> {
    match exit.as_mut() {
        Some(rx) => rx.await.ok(),
        None => std::future::pending().await,
    }
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    state: &AppState,
    auth: &AuthUser,
    project: &project_rows::Model,
    settings: &TerminalSettings,
    message: ClientMessage,
    running: &mut Option<Running>,
    size: &mut PtySize,
    place: &Place<'_>,
) -> Option<ServerMessage> {
    match message {
        ClientMessage::Run { argv } => {
            if running.is_some() {
                return Some(ServerMessage::Error {
                    message: "a program is still running (Ctrl-C stops it)".into(),
                });
            }
            if let Err(message) = settings.permits(&argv) {
                record(
                    state,
                    auth,
                    project,
                    "terminal.refused",
                    serde_json::json!({"argv": argv}),
                )
                .await;
                return Some(ServerMessage::Error { message });
            }
            match start(&argv, place, *size) {
                Ok(run) => {
                    record(
                        state,
                        auth,
                        project,
                        "terminal.run",
                        serde_json::json!({"argv": argv}),
                    )
                    .await;
                    *running = Some(run);
                    Some(ServerMessage::Started { argv })
                }
                Err(message) => Some(ServerMessage::Error { message }),
            }
        }
        ClientMessage::Input { data } => {
            let Some(run) = running.as_mut() else {
                return Some(ServerMessage::Error {
                    message: "no program is running".into(),
                });
            };
            if run
                .writer
                .write_all(data.as_bytes())
                .and_then(|_| run.writer.flush())
                .is_err()
            {
                return Some(ServerMessage::Error {
                    message: "the program no longer reads input".into(),
                });
            }
            None
        }
        ClientMessage::Interrupt => {
            if let Some(run) = running.as_mut() {
                let _ = run.writer.write_all(&[0x03]);
                let _ = run.writer.flush();
            }
            None
        }
        ClientMessage::Resize { cols, rows } => {
            *size = PtySize {
                rows: rows.clamp(2, 500),
                cols: cols.clamp(10, 1000),
                pixel_width: 0,
                pixel_height: 0,
            };
            if let Some(run) = running.as_ref() {
                let _ = run.master.resize(*size);
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_split_across_reads_stay_whole() {
        let mut stream = Utf8Stream::default();
        let bytes = "héllo ✓".as_bytes();
        let (a, b) = bytes.split_at(2);
        assert_eq!(stream.push(a), "h");
        assert_eq!(stream.push(b), "éllo ✓");
        assert_eq!(stream.push(&[0xff, b'x']), "\u{fffd}x");
    }
}
