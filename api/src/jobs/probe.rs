//! Probes: jobs that only prove the queue works. A worker claims one, waits as long as asked,
//! logs which worker answered and succeeds. Operators send them to check that workers run
//! (`POST /api/probes`); the benchmarks and the scale-out test measure the queue with them.

use super::{JobContext, JobError};
use crate::domain::probes::{MAX_INTERVAL_MS, MAX_LINES, MAX_WAIT_MS};
use std::time::Duration;

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let number = |key: &str, max: u32| ctx.job.payload[key].as_u64().unwrap_or(0).min(max.into());
    let wait = number("wait_ms", MAX_WAIT_MS);
    let (lines, interval) = (
        number("lines", MAX_LINES),
        number("interval_ms", MAX_INTERVAL_MS),
    );
    let worker = ctx.job.locked_by.as_deref().unwrap_or("unknown");
    if wait > 0 {
        ctx.log
            .info(&format!("probe held by worker {worker} for {wait} ms"))
            .await;
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    for line in 1..=lines {
        ctx.log.info(&format!("probe line {line} of {lines}")).await;
        tokio::time::sleep(Duration::from_millis(interval)).await;
    }
    ctx.log
        .closing(&format!("probe answered by worker {worker}"));
    Ok(())
}
