//! What runs beside the measurements: a client writing through the API, and a job logging a line
//! every 10 ms in the worker process.

use super::setup::{post, Users};
use super::WRITES_PER_SECOND;
use anyhow::Result;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// About ten writes a second through the API (server requests filed by the requester) until
/// stopped; counts what succeeded and what did not.
pub(super) fn start_writer(
    base: String,
    users: &Users,
    stop: Arc<std::sync::atomic::AtomicBool>,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    let (token, team, account) = (
        users.requester.clone(),
        users.team_b.clone(),
        users.account.clone(),
    );
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut tick = tokio::time::interval(Duration::from_millis(1000 / WRITES_PER_SECOND));
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            n += 1;
            let body = json!({
                "hostname": format!("written-{}-{n}", std::process::id()), "team_id": team,
                "provider_account_id": account, "location": "fsn1", "image": "debian-12",
                "server_type": "cx22", "purpose": "written during the benchmark", "notes": ""
            });
            let answer = client
                .post(format!("{base}/api/requests"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await;
            match answer {
                Ok(res) if res.status().is_success() => {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                failure => {
                    // The first refusal says why: a writer that silently fails measures reads only.
                    if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                        let why = match failure {
                            Ok(res) => {
                                format!("{} {}", res.status(), res.text().await.unwrap_or_default())
                            }
                            Err(e) => e.to_string(),
                        };
                        eprintln!("the benchmark's writer was refused: {why}");
                    }
                }
            }
        }
    })
}

/// A probe job printing a line every 10 ms for `seconds`, run by the worker process.
pub(super) async fn start_logging_job(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    seconds: u64,
) -> Result<()> {
    post(
        client,
        format!("{base}/api/probes"),
        admin,
        json!({"lines": (seconds * 100).min(10_000), "interval_ms": 10}),
    )
    .await?;
    Ok(())
}
