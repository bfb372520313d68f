//! The original system's stack for comparison: Flask + Flask-SQLAlchemy under gunicorn
//! (`bench/reference/`), serving the same database.

use crate::backend::Backend;
use crate::process::{free_port, Process};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `sqlite://path?mode=rwc` or `postgres://…` as SQLAlchemy names it.
fn sqlalchemy_url(database_url: &str) -> String {
    if let Some(rest) = database_url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or(rest);
        format!("sqlite:///{path}")
    } else if let Some(rest) = database_url.strip_prefix("postgres://") {
        format!("postgresql://{rest}")
    } else {
        database_url.to_owned()
    }
}

/// gunicorn with two workers serving `bench/reference/app.py` on the same database.
pub(super) fn start_reference(root: &Path, backend: &Backend) -> Result<Option<(Process, String)>> {
    let gunicorn = root.join(".venv-reference/bin/gunicorn");
    if !gunicorn.exists() {
        eprintln!(
            "{} is missing: the Flask reference is skipped (bench/run.sh installs it)",
            gunicorn.display()
        );
        return Ok(None);
    }
    let port = free_port();
    let process = Process(
        Command::new(gunicorn)
            .args([
                "--workers",
                "2",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--log-level",
                "warning",
            ])
            .arg("--chdir")
            .arg(root.join("bench/reference"))
            .arg("app:app")
            .env(
                "REFERENCE_DATABASE_URL",
                sqlalchemy_url(&backend.database_url),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(backend.scratch.join("reference.log"))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            )
            .spawn()
            .context("gunicorn")?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Some((process, base)));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!(
        "the Flask reference did not start; see {}",
        backend.scratch.join("reference.log").display()
    )
}
