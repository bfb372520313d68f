//! A backend under test: the release binary on one database (SQLite, or a fresh PostgreSQL
//! database), its administrator, a started server and a signed-in token.

use crate::process::{free_port, Process};
use crate::PASSWORD;
use anyhow::{anyhow, bail, Result};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub process: Process,
    pub base: String,
}

pub struct Backend {
    pub name: &'static str,
    pub database_url: String,
    pub scratch: PathBuf,
    pub binary: PathBuf,
}

impl Backend {
    pub fn command(&self, args: &[&str], bind: u16, workers: usize, log: &str) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("PROVISIO_KEY_FILE", self.scratch.join("provisio.key"))
            .env("PROVISIO_BIND", format!("127.0.0.1:{bind}"))
            .env("PROVISIO_WORKERS", workers.to_string())
            .env("PROVISIO_ADMIN_PASSWORD", PASSWORD)
            .env("PROVISIO_LOGIN_MAX_PER_IP", "100000000")
            .env("PROVISIO_LOGIN_MAX_FAILURES", "100000000")
            .env("PROVISIO_LOGIN_FREE_FAILURES", "100000000")
            .env("PROVISIO_PROJECTS_DIR", self.scratch.join("projects"))
            .env("PROVISIO_TERRAFORM_DIR", self.scratch.join("terraform"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.scratch.join(log))
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
            );
        command
    }

    /// The administrator the benchmarks sign in as (`PASSWORD`).
    pub fn create_admin(&self) -> Result<()> {
        let status = self
            .command(
                &[
                    "create-admin",
                    "--username",
                    "benchadmin",
                    "--email",
                    "bench@example.com",
                ],
                0,
                0,
                "create-admin.log",
            )
            .status()?;
        if !status.success() {
            bail!("create-admin failed on {}", self.name);
        }
        Ok(())
    }

    /// Starts `provisio serve` and returns once /readyz answers, with the time that took.
    pub async fn serve(&self, workers: usize) -> Result<(Server, Duration)> {
        let port = free_port();
        let started = Instant::now();
        let process = Process(
            self.command(&["serve"], port, workers, "serve.log")
                .spawn()?,
        );
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
                if res.status().is_success() {
                    return Ok((Server { process, base }, started.elapsed()));
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        bail!(
            "{} did not become ready; see {}",
            self.name,
            self.scratch.join("serve.log").display()
        )
    }
}

pub async fn login(client: &reqwest::Client, base: &str) -> Result<String> {
    let body: Value = client
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": "benchadmin", "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no access token in {body}"))
}

pub async fn drop_postgres(base: &str, name: &str) {
    if let Ok(admin) = Database::connect(format!("{base}/postgres")).await {
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
    }
}

pub async fn fresh_postgres(base: &str) -> Result<(String, String)> {
    let name = format!("provisio_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(format!("{base}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    admin.close().await?;
    Ok((format!("{base}/{name}"), name))
}
