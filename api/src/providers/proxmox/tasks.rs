//! Proxmox's asynchronous side: UPID tasks followed to their end, free VM ids, power changes.

use super::guests::GuestId;
use super::Proxmox;
use crate::exec::log::LogSink;
use crate::providers::http::{lenient_i64, lenient_str};
use crate::providers::{ProviderError, ProviderResult};
use serde_json::Value;
use std::time::Instant;

impl Proxmox {
    /// Follows a UPID task to its end, copying its log lines into the execution log.
    pub(super) async fn wait_task(
        &self,
        node: &str,
        upid: &Value,
        log: &LogSink,
    ) -> ProviderResult<()> {
        let Some(upid) = upid.as_str() else {
            return Ok(()); // synchronous call: nothing to follow
        };
        let started = Instant::now();
        let mut seen = 0i64;
        loop {
            let status = self
                .data(&["nodes", node, "tasks", upid, "status"], &[])
                .await?;
            let lines = self
                .data(
                    &["nodes", node, "tasks", upid, "log"],
                    &[("start", seen.to_string()), ("limit", "500".into())],
                )
                .await
                .unwrap_or(Value::Null);
            for line in lines.as_array().into_iter().flatten() {
                let n = lenient_i64(line.get("n")).unwrap_or(seen + 1);
                if n > seen {
                    seen = n;
                    if let Some(t) = line.get("t").and_then(Value::as_str) {
                        if !t.is_empty() && t != "no content" {
                            log.line("stdout", t).await;
                        }
                    }
                }
            }
            if status.get("status").and_then(Value::as_str) == Some("stopped") {
                let exit = status
                    .get("exitstatus")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                return if exit == "OK" {
                    Ok(())
                } else {
                    Err(ProviderError::TaskFailed(format!("task {upid}: {exit}")))
                };
            }
            if started.elapsed() > self.task_timeout {
                return Err(ProviderError::Timeout(format!("task {upid} still running")));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    pub(super) async fn next_vmid(&self) -> ProviderResult<String> {
        let v = self.data(&["cluster", "nextid"], &[]).await?;
        lenient_str(Some(&v))
            .ok_or_else(|| ProviderError::Unavailable("cluster/nextid returned nothing".into()))
    }

    /// `status/start|stop|reboot` of a guest, followed to the end of its task.
    pub(super) async fn set_power(
        &self,
        id: &GuestId,
        verb: &str,
        log: &LogSink,
    ) -> ProviderResult<()> {
        let upid = self
            .post(
                &[
                    "nodes",
                    &id.node,
                    id.guest.as_str(),
                    &id.vmid,
                    "status",
                    verb,
                ],
                vec![],
            )
            .await?;
        self.wait_task(&id.node, &upid, log).await
    }
}
