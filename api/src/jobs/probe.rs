//! Probes: jobs that only prove the queue works. A worker claims one, waits as long as asked,
//! logs which worker answered and succeeds. Operators send them to check that workers run
//! (`POST /api/probes`); the benchmarks and the scale-out test measure the queue with them.

use super::{JobContext, JobError};
use std::time::Duration;

/// The longest a probe may hold a worker.
pub const MAX_WAIT_MS: u32 = 60_000;

pub async fn run(ctx: &JobContext) -> Result<(), JobError> {
    let wait = ctx.job.payload["wait_ms"]
        .as_u64()
        .unwrap_or(0)
        .min(MAX_WAIT_MS.into());
    let worker = ctx.job.locked_by.as_deref().unwrap_or("unknown");
    if wait > 0 {
        ctx.log
            .info(&format!("probe held by worker {worker} for {wait} ms"))
            .await;
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
    ctx.log
        .info(&format!("probe answered by worker {worker}"))
        .await;
    Ok(())
}
