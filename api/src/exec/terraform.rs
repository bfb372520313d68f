//! Runs the Terraform CLI on a per-server working copy of a static module from
//! `terraform-templates/`, streaming its `-json` UI events into the execution log.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

const CLI_CONFIG_FILE: &str = "terraformrc";
const VARS_FILE: &str = "terraform.tfvars.json";
const BACKEND_OVERRIDE_FILE: &str = "backend_override.tf.json";
const LOCK_FILE: &str = ".terraform.lock.hcl";
const PLAN_FILE: &str = "tfplan";
const REDACTED: &str = "[redacted]";

/// Where a workspace keeps its Terraform state.
#[derive(Clone, PartialEq, Eq)]
pub enum Backend {
    /// `terraform.tfstate` inside the workspace directory.
    Local,
    /// The `pg` backend: `conn_str` reaches the database, `schema` is this server's own schema.
    Postgres { conn_str: String, schema: String },
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Local => f.write_str("Local"),
            Backend::Postgres { schema, .. } => f
                .debug_struct("Postgres")
                .field("conn_str", &REDACTED)
                .field("schema", schema)
                .finish(),
        }
    }
}

/// A per-server working copy of a module, ready for `init`.
pub struct Workspace {
    dir: PathBuf,
    cli_config: PathBuf,
    pg_conn_str: Option<String>,
    secrets: Vec<String>,
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("dir", &self.dir)
            .field("postgres_backend", &self.pg_conn_str.is_some())
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Workspace {
    /// The directory Terraform runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds strings (API tokens, passwords) to replace with "[redacted]" in every log line and error.
    pub fn with_secrets<S: Into<String>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.secrets.extend(secrets.into_iter().map(Into::into));
        self
    }
}

/// Which output of the process a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

impl LogStream {
    /// The `stream` value stored with an execution log line.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        }
    }
}

/// Severity of a Terraform UI event (`@level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn parse(level: &str) -> Self {
        match level {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "warn" => Level::Warn,
            "error" => Level::Error,
            _ => Level::Info,
        }
    }
}

/// One event of Terraform's `-json` UI stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfEvent {
    pub level: Level,
    /// The event `type`, e.g. `apply_complete` or `diagnostic`.
    pub kind: String,
    /// `@message`, followed by the diagnostic's detail for diagnostics.
    pub message: String,
}

/// One line for the execution log, secrets already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: LogStream,
    pub text: String,
    /// Set when the line was a JSON UI event; `text` is then its message.
    pub event: Option<TfEvent>,
}

/// What `terraform plan` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanOutcome {
    NoChanges,
    Changes,
}

/// Why preparing or running Terraform failed.
#[derive(Debug, thiserror::Error)]
pub enum TerraformError {
    #[error("the workspace path {0:?} must be relative and stay inside the work root")]
    InvalidWorkspace(PathBuf),
    #[error("terraform variables must be a JSON object")]
    InvalidVars,
    #[error("the module directory {0:?} holds no Terraform configuration")]
    EmptyModule(PathBuf),
    #[error("could not {action}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error("could not start {binary:?}")]
    Spawn {
        binary: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Terraform exited unsuccessfully; `summary`/`detail` come from its first error diagnostic.
    #[error("terraform {command} failed ({}): {summary}", describe_exit(.code))]
    Failed {
        command: &'static str,
        code: Option<i32>,
        summary: String,
        detail: String,
    },
    #[error("terraform output -json printed unreadable JSON")]
    Output(#[source] serde_json::Error),
}

fn describe_exit(code: &Option<i32>) -> String {
    match code {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_owned(),
    }
}

fn io_error(action: impl Into<String>) -> impl FnOnce(io::Error) -> TerraformError {
    let action = action.into();
    move |source| TerraformError::Io { action, source }
}

/// Runs the Terraform CLI in per-server workspaces below `work_root`.
#[derive(Debug, Clone)]
pub struct TerraformRunner {
    /// The `terraform` executable; a bare name is looked up on `PATH`.
    pub binary: PathBuf,
    /// Holds every workspace and the CLI configuration file Terraform is pointed at.
    pub work_root: PathBuf,
}

impl TerraformRunner {
    /// A runner using `terraform` from `PATH`.
    pub fn new(work_root: impl Into<PathBuf>) -> Self {
        TerraformRunner {
            binary: PathBuf::from("terraform"),
            work_root: work_root.into(),
        }
    }

    /// Copies the module's configuration into `work_root/workspace` and writes its variables and backend.
    pub async fn prepare(
        &self,
        module_dir: &Path,
        workspace: &Path,
        vars: &Value,
        backend: Backend,
    ) -> Result<Workspace, TerraformError> {
        let is_inside = workspace.components().next().is_some()
            && workspace
                .components()
                .all(|part| matches!(part, Component::Normal(_)));
        if !is_inside {
            return Err(TerraformError::InvalidWorkspace(workspace.to_path_buf()));
        }
        if !vars.is_object() {
            return Err(TerraformError::InvalidVars);
        }
        let root = std::path::absolute(&self.work_root)
            .map_err(io_error(format!("resolve {}", self.work_root.display())))?;
        let files = WorkspaceFiles {
            module_dir: module_dir.to_path_buf(),
            dir: root.join(workspace),
            cli_config: root.join(CLI_CONFIG_FILE),
            root,
            vars: serde_json::to_vec_pretty(vars).expect("a JSON value always serializes"),
            backend_override: match &backend {
                Backend::Local => None,
                Backend::Postgres { schema, .. } => Some(
                    serde_json::to_vec_pretty(&serde_json::json!({
                        "terraform": { "backend": { "pg": { "schema_name": schema } } }
                    }))
                    .expect("a JSON value always serializes"),
                ),
            },
        };
        let (dir, cli_config) = tokio::task::spawn_blocking(move || files.write())
            .await
            .map_err(|e| TerraformError::Io {
                action: "prepare the workspace".to_owned(),
                source: io::Error::other(e),
            })??;
        let (pg_conn_str, secrets) = match backend {
            Backend::Local => (None, Vec::new()),
            Backend::Postgres { conn_str, .. } => {
                let secrets = connection_secrets(&conn_str);
                (Some(conn_str), secrets)
            }
        };
        Ok(Workspace {
            dir,
            cli_config,
            pg_conn_str,
            secrets,
        })
    }

    /// `terraform init`: configures the backend and installs providers.
    pub async fn init(
        &self,
        ws: &Workspace,
        mut sink: impl FnMut(LogLine) + Send,
    ) -> Result<(), TerraformError> {
        let run = self
            .run(ws, "init", &["-input=false", "-json"], &mut sink, false)
            .await?;
        run.success("init")
    }

    /// `terraform plan` into the workspace's plan file; tells whether anything would change.
    pub async fn plan(
        &self,
        ws: &Workspace,
        mut sink: impl FnMut(LogLine) + Send,
    ) -> Result<PlanOutcome, TerraformError> {
        let args = ["-input=false", "-out=tfplan", "-detailed-exitcode", "-json"];
        let run = self.run(ws, "plan", &args, &mut sink, false).await?;
        match run.code {
            Some(0) => Ok(PlanOutcome::NoChanges),
            Some(2) => Ok(PlanOutcome::Changes),
            _ => Err(run.failure("plan")),
        }
    }

    /// Applies the plan written by [`TerraformRunner::plan`], then deletes it.
    pub async fn apply(
        &self,
        ws: &Workspace,
        mut sink: impl FnMut(LogLine) + Send,
    ) -> Result<(), TerraformError> {
        let args = ["-input=false", "-auto-approve", "-json", PLAN_FILE];
        let run = self.run(ws, "apply", &args, &mut sink, false).await;
        // A plan file holds every variable in clear, and once applied (or failed) it is stale anyway.
        match tokio::fs::remove_file(ws.dir.join(PLAN_FILE)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(error = %e, dir = %ws.dir.display(), "could not delete the plan file");
            }
            _ => {}
        }
        run?.success("apply")
    }

    /// `terraform destroy` of everything in the workspace's state.
    pub async fn destroy(
        &self,
        ws: &Workspace,
        mut sink: impl FnMut(LogLine) + Send,
    ) -> Result<(), TerraformError> {
        let args = ["-input=false", "-auto-approve", "-json"];
        let run = self.run(ws, "destroy", &args, &mut sink, false).await?;
        run.success("destroy")
    }

    /// The root module's output values by name; only stderr reaches the sink.
    pub async fn output(
        &self,
        ws: &Workspace,
        mut sink: impl FnMut(LogLine) + Send,
    ) -> Result<BTreeMap<String, Value>, TerraformError> {
        #[derive(Deserialize)]
        struct Output {
            value: Value,
        }
        let run = self.run(ws, "output", &["-json"], &mut sink, true).await?;
        if run.code != Some(0) {
            return Err(run.failure("output"));
        }
        let outputs: BTreeMap<String, Output> =
            serde_json::from_str(&run.stdout).map_err(TerraformError::Output)?;
        Ok(outputs
            .into_iter()
            .map(|(name, output)| (name, output.value))
            .collect())
    }

    #[tracing::instrument(name = "terraform", skip_all, fields(command = command, dir = %ws.dir.display()))]
    async fn run(
        &self,
        ws: &Workspace,
        command: &'static str,
        args: &[&str],
        sink: &mut (dyn FnMut(LogLine) + Send),
        capture_stdout: bool,
    ) -> Result<Finished, TerraformError> {
        let mut cmd = Command::new(&self.binary);
        cmd.arg(command)
            .args(args)
            .current_dir(&ws.dir)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("TF_CLI_CONFIG_FILE", &ws.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The environment rather than -backend-config, so the password never shows in `ps`.
        if let Some(conn_str) = &ws.pg_conn_str {
            cmd.env("PG_CONN_STR", conn_str);
        }
        // No kill_on_drop: killing Terraform mid-apply loses track of what it created, so a
        // dropped run is left to finish and release its state lock.
        let mut child = cmd.spawn().map_err(|source| TerraformError::Spawn {
            binary: self.binary.clone(),
            source,
        })?;

        let (tx, mut rx) = mpsc::channel(64);
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        tokio::spawn(forward_lines(stdout, LogStream::Stdout, tx.clone()));
        tokio::spawn(forward_lines(stderr, LogStream::Stderr, tx));

        let redactor = Redactor::new(&ws.secrets);
        let mut finished = Finished::default();
        while let Some((stream, line)) = rx.recv().await {
            let line = line.map_err(|source| TerraformError::Io {
                action: format!("read terraform {command} output"),
                source,
            })?;
            match stream {
                LogStream::Stdout if capture_stdout => {
                    finished.stdout.push_str(&line);
                    finished.stdout.push('\n');
                }
                LogStream::Stdout => finished.on_stdout(&line, &redactor, sink),
                LogStream::Stderr => finished.on_stderr(&line, &redactor, sink),
            }
        }
        let status = child
            .wait()
            .await
            .map_err(io_error(format!("wait for terraform {command}")))?;
        finished.code = status.code();
        tracing::debug!(code = ?finished.code, "terraform exited");
        Ok(finished)
    }
}

/// Sends each line of a pipe, lossily decoded, until it closes.
async fn forward_lines(
    pipe: impl AsyncRead + Unpin,
    stream: LogStream,
    tx: mpsc::Sender<(LogStream, io::Result<String>)>,
) {
    let mut segments = BufReader::new(pipe).split(b'\n');
    loop {
        let line = match segments.next_segment().await {
            Ok(Some(bytes)) => Ok(String::from_utf8_lossy(&bytes)
                .trim_end_matches('\r')
                .to_owned()),
            Ok(None) => return,
            Err(e) => Err(e),
        };
        let failed = line.is_err();
        if tx.send((stream, line)).await.is_err() || failed {
            return;
        }
    }
}

/// What one Terraform process left behind.
#[derive(Default)]
struct Finished {
    code: Option<i32>,
    stdout: String,
    first_error: Option<(String, String)>,
    last_stderr: Option<String>,
}

impl Finished {
    fn on_stdout(
        &mut self,
        line: &str,
        redactor: &Redactor,
        sink: &mut (dyn FnMut(LogLine) + Send),
    ) {
        if line.trim().is_empty() {
            return;
        }
        let Some(parsed) = parse_event(line) else {
            sink(LogLine {
                stream: LogStream::Stdout,
                text: redactor.apply(line),
                event: None,
            });
            return;
        };
        if self.first_error.is_none() {
            if let Some((summary, detail)) = parsed.error {
                self.first_error = Some((redactor.apply(&summary), redactor.apply(&detail)));
            }
        }
        let mut event = parsed.event;
        event.message = redactor.apply(&event.message);
        sink(LogLine {
            stream: LogStream::Stdout,
            text: event.message.clone(),
            event: Some(event),
        });
    }

    fn on_stderr(
        &mut self,
        line: &str,
        redactor: &Redactor,
        sink: &mut (dyn FnMut(LogLine) + Send),
    ) {
        if line.trim().is_empty() {
            return;
        }
        let text = redactor.apply(line);
        self.last_stderr = Some(text.clone());
        sink(LogLine {
            stream: LogStream::Stderr,
            text,
            event: None,
        });
    }

    fn success(self, command: &'static str) -> Result<(), TerraformError> {
        match self.code {
            Some(0) => Ok(()),
            _ => Err(self.failure(command)),
        }
    }

    fn failure(self, command: &'static str) -> TerraformError {
        let (summary, detail) = self.first_error.unwrap_or_else(|| {
            let summary = self
                .last_stderr
                .unwrap_or_else(|| "terraform reported no error diagnostic".to_owned());
            (summary, String::new())
        });
        TerraformError::Failed {
            command,
            code: self.code,
            summary,
            detail,
        }
    }
}

struct ParsedEvent {
    event: TfEvent,
    /// Summary and detail when the event is an error diagnostic.
    error: Option<(String, String)>,
}

/// Parses one line of the `-json` UI stream; `None` for anything that is not such an event.
fn parse_event(line: &str) -> Option<ParsedEvent> {
    #[derive(Deserialize)]
    struct RawEvent {
        #[serde(rename = "@level")]
        level: Option<String>,
        #[serde(rename = "@message")]
        message: String,
        #[serde(rename = "type")]
        kind: Option<String>,
        diagnostic: Option<RawDiagnostic>,
    }
    #[derive(Deserialize)]
    struct RawDiagnostic {
        severity: Option<String>,
        #[serde(default)]
        summary: String,
        #[serde(default)]
        detail: String,
    }

    let raw: RawEvent = serde_json::from_str(line).ok()?;
    let mut message = raw.message;
    let mut error = None;
    if let Some(diagnostic) = raw.diagnostic {
        if !diagnostic.detail.is_empty() {
            message = format!("{message}\n{}", diagnostic.detail);
        }
        if diagnostic.severity.as_deref() == Some("error") {
            error = Some((diagnostic.summary, diagnostic.detail));
        }
    }
    Some(ParsedEvent {
        event: TfEvent {
            level: Level::parse(raw.level.as_deref().unwrap_or("info")),
            kind: raw.kind.unwrap_or_else(|| "log".to_owned()),
            message,
        },
        error,
    })
}

/// Replaces secrets with "[redacted]", longest first so a secret containing another goes whole.
struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    fn new(secrets: &[String]) -> Self {
        let mut secrets: Vec<String> = secrets.iter().filter(|s| !s.is_empty()).cloned().collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Redactor { secrets }
    }

    fn apply(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }
}

/// The connection string and, for a URL, its password on its own.
fn connection_secrets(conn_str: &str) -> Vec<String> {
    let mut secrets = vec![conn_str.to_owned()];
    if let Some(password) = reqwest::Url::parse(conn_str)
        .ok()
        .and_then(|url| url.password().map(str::to_owned))
    {
        secrets.push(password);
    }
    secrets
}

/// Everything `prepare` writes, gathered so the blocking file work runs off the async threads.
struct WorkspaceFiles {
    module_dir: PathBuf,
    root: PathBuf,
    dir: PathBuf,
    cli_config: PathBuf,
    vars: Vec<u8>,
    backend_override: Option<Vec<u8>>,
}

impl WorkspaceFiles {
    fn write(self) -> Result<(PathBuf, PathBuf), TerraformError> {
        create_private_dir(&self.root)?;
        create_private_dir(&self.dir)?;
        // Terraform fails on a CLI configuration file that does not exist, so it gets one of ours.
        write_private(&self.cli_config, b"disable_checkpoint = true\n")?;

        let module_files = configuration_files(&self.module_dir)?;
        if !module_files.iter().any(|name| is_configuration(name)) {
            // Without configuration, plan would propose destroying everything in the state.
            return Err(TerraformError::EmptyModule(self.module_dir));
        }
        // Files dropped from the module must not linger in the working copy; the lock file stays,
        // since init wrote it to pin the providers it chose.
        let existing = configuration_files(&self.dir)?;
        for stale in existing.iter().filter(|name| is_configuration(name)) {
            let path = self.dir.join(stale);
            fs::remove_file(&path).map_err(io_error(format!("remove {}", path.display())))?;
        }
        for name in &module_files {
            let (from, to) = (self.module_dir.join(name), self.dir.join(name));
            fs::copy(&from, &to).map_err(io_error(format!(
                "copy {} to {}",
                from.display(),
                to.display()
            )))?;
        }
        write_private(&self.dir.join(VARS_FILE), &self.vars)?;
        if let Some(backend_override) = &self.backend_override {
            write_private(&self.dir.join(BACKEND_OVERRIDE_FILE), backend_override)?;
        }
        Ok((self.dir, self.cli_config))
    }
}

fn is_configuration(name: &str) -> bool {
    name.ends_with(".tf") || name.ends_with(".tf.json")
}

/// Names of the regular files in `dir` that belong to a module: configuration and the lock file.
fn configuration_files(dir: &Path) -> Result<Vec<String>, TerraformError> {
    let read_error = || io_error(format!("read the directory {}", dir.display()));
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error())? {
        let entry = entry.map_err(read_error())?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !(is_configuration(&name) || name == LOCK_FILE) {
            continue;
        }
        let metadata = fs::metadata(entry.path()).map_err(read_error())?;
        if metadata.is_file() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn create_private_dir(dir: &Path) -> Result<(), TerraformError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_error(format!("create {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(io_error(format!("restrict {}", dir.display())))
}

/// Writes a 0600 file through a rename, so readers and concurrent writers never see half of it.
fn write_private(path: &Path, contents: &[u8]) -> Result<(), TerraformError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .and_then(|mut file| file.write_all(contents))
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(io_error(format!("write {}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;
    use std::time::Instant;

    fn builtin_module() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../terraform-templates/testing/builtin-server")
    }

    /// The real Terraform binary, or `None` (with a note) where it is not installed.
    fn terraform() -> Option<PathBuf> {
        let mut candidates = std::iter::once(PathBuf::from("/usr/local/bin/terraform")).chain(
            std::env::var_os("PATH")
                .map(|path| {
                    std::env::split_paths(&path)
                        .map(|dir| dir.join("terraform"))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
        );
        let found = candidates.find(|path| path.is_file());
        if found.is_none() {
            eprintln!("skipped: no terraform binary in /usr/local/bin or on PATH");
        }
        found
    }

    fn runner(binary: PathBuf, root: &Path) -> TerraformRunner {
        TerraformRunner {
            binary,
            work_root: root.to_path_buf(),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn a_server_is_created_reported_and_destroyed() {
        let Some(binary) = terraform() else { return };
        let root = tempfile::tempdir().unwrap();
        let runner = runner(binary, root.path());
        let vars = serde_json::json!({ "name": "web-1" });
        let ws = runner
            .prepare(
                &builtin_module(),
                Path::new("server-1"),
                &vars,
                Backend::Local,
            )
            .await
            .unwrap();
        let mut lines = Vec::new();

        let started = Instant::now();
        runner.init(&ws, |line| lines.push(line)).await.unwrap();
        let init = started.elapsed();
        let started = Instant::now();
        let planned = runner.plan(&ws, |line| lines.push(line)).await.unwrap();
        let plan = started.elapsed();
        let started = Instant::now();
        runner.apply(&ws, |line| lines.push(line)).await.unwrap();
        let apply = started.elapsed();
        let outputs = runner.output(&ws, |line| lines.push(line)).await.unwrap();
        let started = Instant::now();
        runner.destroy(&ws, |line| lines.push(line)).await.unwrap();
        let destroy = started.elapsed();
        eprintln!("init {init:?}, plan {plan:?}, apply {apply:?}, destroy {destroy:?}");

        assert_eq!(planned, PlanOutcome::Changes);
        assert!(outputs["server_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()));
        assert_eq!(outputs["ipv4"], "127.0.0.1");
        assert!(ws.dir().join("terraform.tfstate").is_file());
        assert!(!ws.dir().join(PLAN_FILE).exists(), "apply deletes the plan");
        let texts: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
        for expected in ["server web-1 is up", "deleting server web-1"] {
            assert!(
                texts.iter().any(|text| text.ends_with(expected)),
                "no line ending in {expected:?} among {texts:#?}"
            );
        }
        assert!(lines.iter().any(|line| line
            .event
            .as_ref()
            .is_some_and(|event| event.kind == "apply_complete")));
    }

    #[tokio::test]
    async fn a_failing_apply_reports_the_provisioner_diagnostic() {
        let Some(binary) = terraform() else { return };
        let root = tempfile::tempdir().unwrap();
        let runner = runner(binary, root.path());
        let vars = serde_json::json!({ "name": "web-2", "fail": true });
        let ws = runner
            .prepare(
                &builtin_module(),
                Path::new("server-2"),
                &vars,
                Backend::Local,
            )
            .await
            .unwrap();
        let mut lines = Vec::new();
        runner.init(&ws, |line| lines.push(line)).await.unwrap();
        runner.plan(&ws, |line| lines.push(line)).await.unwrap();

        let error = runner
            .apply(&ws, |line| lines.push(line))
            .await
            .unwrap_err();

        let TerraformError::Failed {
            command,
            code,
            summary,
            detail,
        } = &error
        else {
            panic!("expected a failed apply, got {error:?}");
        };
        assert_eq!((*command, *code), ("apply", Some(1)));
        assert_eq!(summary, "local-exec provisioner error");
        assert!(detail.contains("exit status 7"), "{detail}");
        assert!(detail.contains("cannot create server web-2: failure requested"));
        assert!(lines.iter().any(|line| line
            .event
            .as_ref()
            .is_some_and(|event| event.level == Level::Error && event.kind == "diagnostic")));
        runner.destroy(&ws, |_| {}).await.unwrap();
    }

    #[tokio::test]
    async fn secrets_are_redacted_from_streamed_lines() {
        let Some(binary) = terraform() else { return };
        let root = tempfile::tempdir().unwrap();
        let runner = runner(binary, root.path());
        let secret = "hunter2-very-secret";
        let vars = serde_json::json!({ "name": "web-3", "echo_text": format!("token={secret}") });
        let ws = runner
            .prepare(
                &builtin_module(),
                Path::new("server-3"),
                &vars,
                Backend::Local,
            )
            .await
            .unwrap()
            .with_secrets([secret]);
        let mut lines = Vec::new();

        runner.init(&ws, |line| lines.push(line)).await.unwrap();
        runner.plan(&ws, |line| lines.push(line)).await.unwrap();
        runner.apply(&ws, |line| lines.push(line)).await.unwrap();

        assert!(lines
            .iter()
            .any(|line| line.text.ends_with("token=[redacted]")));
        for line in &lines {
            assert!(!line.text.contains(secret), "leaked in {:?}", line.text);
            let message = line.event.as_ref().map_or("", |event| &event.message);
            assert!(!message.contains(secret), "leaked in {message:?}");
        }
        runner.destroy(&ws, |_| {}).await.unwrap();
    }

    #[tokio::test]
    async fn postgres_backend_keeps_the_state_in_the_database() {
        let Some(base) = std::env::var("PROVISIO_TEST_PG_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            eprintln!("skipped: PROVISIO_TEST_PG_URL is not set");
            return;
        };
        let Some(binary) = terraform() else { return };
        let database = format!("provisio_test_tf_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(format!("{base}/postgres"))
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap();
        let backend = Backend::Postgres {
            conn_str: format!("{base}/{database}?sslmode=disable"),
            schema: "provisio_tf_server_4".to_owned(),
        };
        let root = tempfile::tempdir().unwrap();
        let runner = runner(binary, root.path());
        let vars = serde_json::json!({ "name": "web-4" });
        let ws = runner
            .prepare(&builtin_module(), Path::new("a"), &vars, backend.clone())
            .await
            .unwrap();
        runner.init(&ws, |_| {}).await.unwrap();
        runner.plan(&ws, |_| {}).await.unwrap();
        runner.apply(&ws, |_| {}).await.unwrap();
        let created = runner.output(&ws, |_| {}).await.unwrap();

        // A fresh working copy elsewhere finds the same state, so none of it lived in the first.
        let elsewhere = runner
            .prepare(&builtin_module(), Path::new("b"), &vars, backend)
            .await
            .unwrap();
        runner.init(&elsewhere, |_| {}).await.unwrap();
        let found = runner.output(&elsewhere, |_| {}).await.unwrap();
        runner.destroy(&elsewhere, |_| {}).await.unwrap();
        admin
            .execute_unprepared(&format!("DROP DATABASE {database} WITH (FORCE)"))
            .await
            .unwrap();

        assert_eq!(found["server_id"], created["server_id"]);
        assert!(!ws.dir().join("terraform.tfstate").exists());
    }

    #[tokio::test]
    async fn prepare_writes_a_private_working_copy() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());
        let vars = serde_json::json!({ "name": "web-5" });
        let backend = Backend::Postgres {
            conn_str: "postgres://tf:pw-secret@db/provisio".to_owned(),
            schema: "provisio_tf_5".to_owned(),
        };

        let ws = runner
            .prepare(&builtin_module(), Path::new("servers/5"), &vars, backend)
            .await
            .unwrap();

        let dir = ws.dir();
        assert_eq!(dir, root.path().join("servers/5"));
        assert_eq!(mode(dir), 0o700);
        assert_eq!(mode(&dir.join(VARS_FILE)), 0o600);
        let written: Value =
            serde_json::from_slice(&fs::read(dir.join(VARS_FILE)).unwrap()).unwrap();
        assert_eq!(written, vars);
        let backend_override: Value =
            serde_json::from_slice(&fs::read(dir.join(BACKEND_OVERRIDE_FILE)).unwrap()).unwrap();
        assert_eq!(
            backend_override["terraform"]["backend"]["pg"]["schema_name"],
            "provisio_tf_5"
        );
        for name in ["main.tf", "outputs.tf", "variables.tf", "versions.tf"] {
            assert!(dir.join(name).is_file(), "{name} was not copied");
        }
        let redactor = Redactor::new(&ws.secrets);
        assert_eq!(
            redactor.apply("auth pw-secret failed"),
            "auth [redacted] failed"
        );
    }

    #[tokio::test]
    async fn preparing_again_for_local_state_drops_the_backend_override() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());
        let vars = serde_json::json!({ "name": "web-6" });
        let postgres = Backend::Postgres {
            conn_str: "postgres://db/provisio".to_owned(),
            schema: "provisio_tf_6".to_owned(),
        };
        let workspace = Path::new("server-6");
        runner
            .prepare(&builtin_module(), workspace, &vars, postgres)
            .await
            .unwrap();

        let ws = runner
            .prepare(&builtin_module(), workspace, &vars, Backend::Local)
            .await
            .unwrap();

        assert!(!ws.dir().join(BACKEND_OVERRIDE_FILE).exists());
        assert!(ws.dir().join("main.tf").is_file());
    }

    #[tokio::test]
    async fn prepare_rejects_workspaces_outside_the_work_root() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());
        let vars = serde_json::json!({});
        for workspace in ["", "/tmp/elsewhere", "../escape", "a/../../b", "./here"] {
            let result = runner
                .prepare(
                    &builtin_module(),
                    Path::new(workspace),
                    &vars,
                    Backend::Local,
                )
                .await;
            assert!(
                matches!(result, Err(TerraformError::InvalidWorkspace(_))),
                "{workspace:?} was accepted"
            );
        }
    }

    #[tokio::test]
    async fn prepare_refuses_a_module_without_configuration() {
        let root = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());

        let result = runner
            .prepare(
                empty.path(),
                Path::new("server-7"),
                &serde_json::json!({}),
                Backend::Local,
            )
            .await;

        assert!(matches!(result, Err(TerraformError::EmptyModule(_))));
    }

    #[tokio::test]
    async fn prepare_refuses_variables_that_are_not_an_object() {
        let root = tempfile::tempdir().unwrap();
        let runner = TerraformRunner::new(root.path());

        let result = runner
            .prepare(
                &builtin_module(),
                Path::new("server-8"),
                &serde_json::json!(["web"]),
                Backend::Local,
            )
            .await;

        assert!(matches!(result, Err(TerraformError::InvalidVars)));
    }

    #[test]
    fn ui_lines_parse_into_events() {
        let cases = [
            (
                r#"{"@level":"info","@message":"Plan: 1 to add","type":"change_summary"}"#,
                Some((Level::Info, "change_summary", "Plan: 1 to add", None)),
            ),
            (
                r#"{"@level":"error","@message":"Error: boom","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","detail":"it broke"}}"#,
                Some((
                    Level::Error,
                    "diagnostic",
                    "Error: boom\nit broke",
                    Some(("boom", "it broke")),
                )),
            ),
            (
                r#"{"@level":"warn","@message":"Warning: old","type":"diagnostic","diagnostic":{"severity":"warning","summary":"old","detail":""}}"#,
                Some((Level::Warn, "diagnostic", "Warning: old", None)),
            ),
            (
                r#"{"@message":"no level, no type"}"#,
                Some((Level::Info, "log", "no level, no type", None)),
            ),
            ("plain text from a provider", None),
            (r#"{"json":"but not an event"}"#, None),
        ];
        for (line, expected) in cases {
            let parsed = parse_event(line).map(|parsed| {
                (
                    parsed.event.level,
                    parsed.event.kind,
                    parsed.event.message,
                    parsed.error,
                )
            });
            let expected = expected.map(|(level, kind, message, error)| {
                (
                    level,
                    kind.to_owned(),
                    message.to_owned(),
                    error.map(|(s, d): (&str, &str)| (s.to_owned(), d.to_owned())),
                )
            });
            assert_eq!(parsed, expected, "{line}");
        }
    }

    #[test]
    fn longer_secrets_are_redacted_before_the_secrets_they_contain() {
        let redactor = Redactor::new(&["abc".to_owned(), "abcdef".to_owned(), String::new()]);

        assert_eq!(
            redactor.apply("x abcdef y abc z"),
            "x [redacted] y [redacted] z"
        );
        assert_eq!(redactor.apply("nothing here"), "nothing here");
    }

    #[test]
    fn backend_debug_hides_the_connection_string() {
        let backend = Backend::Postgres {
            conn_str: "postgres://tf:pw@db/provisio".to_owned(),
            schema: "s".to_owned(),
        };

        assert!(!format!("{backend:?}").contains("pw"));
    }
}
