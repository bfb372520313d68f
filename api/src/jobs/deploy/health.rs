//! The health check a deployment passes before it is RUNNING.

use super::*;

/// Asks the app over HTTP until it answers below 400 or the time is up.
pub(super) async fn health_check(ctx: &JobContext, url: &str) -> Result<(), JobError> {
    let timeout = ctx.state.config.deploy.health_timeout;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| JobError::permanent(e.to_string()))?;
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let answer = match client.get(url).send().await {
            Ok(response) if response.status().as_u16() < 400 => {
                ctx.log
                    .info(&format!("{url} answered {}", response.status()))
                    .await;
                return Ok(());
            }
            Ok(response) => format!("answered {}", response.status()),
            Err(e) => format!("no answer: {}", without_url(&e)),
        };
        if answer != last {
            ctx.log.info(&format!("{url} {answer}")).await;
            last = answer;
        }
        if started.elapsed() >= timeout {
            return Err(JobError::permanent(format!(
                "{url} {last} after {} s",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Why a request failed, without repeating the URL.
pub(super) fn without_url(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "request failed"
    }
}

pub(super) fn health_url(
    target: &Target,
    row: &rows::Model,
    framework: &Framework,
) -> (String, String) {
    let host = if target.host.address.contains(':') {
        format!("[{}]", target.host.address)
    } else {
        target.host.address.clone()
    };
    let base = format!("http://{host}:{}", row.port.unwrap_or(80));
    let path = if framework.health_path.starts_with('/') {
        framework.health_path.clone()
    } else {
        format!("/{}", framework.health_path)
    };
    (format!("{base}/"), format!("{base}{path}"))
}
