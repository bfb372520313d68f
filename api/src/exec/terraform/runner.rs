//! Runs the Terraform commands in a prepared workspace and streams their output to a sink.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;

use serde::Deserialize;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;

use super::error::{io_error, TerraformError};
use super::events::{parse_event, LogLine, LogStream};
use super::redaction::Redactor;
use super::workspace::Workspace;

const PLAN_FILE: &str = "tfplan";

/// What `terraform plan` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanOutcome {
    NoChanges,
    Changes,
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

#[cfg(test)]
mod tests {
    use super::super::builtin_module;
    use super::super::{Backend, Level};
    use super::*;
    use sea_orm::ConnectionTrait;
    use std::path::Path;
    use std::time::Instant;

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
}
