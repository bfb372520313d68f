//! Prometheus metrics, kept in process and rendered in the text exposition format at `/metrics`:
//! HTTP latency histograms by route, job durations by kind and outcome, provider call errors, and
//! the job queue's depth (read from the database at scrape time, so every process reports the
//! shared queue).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};

/// Upper bounds in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 600.0,
];

#[derive(Debug, Clone, Default, PartialEq)]
struct Histogram {
    /// Observations at or below each bucket's bound (not cumulative; summed when rendered).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Default)]
struct Registry {
    http: BTreeMap<(String, String, u16), Histogram>,
    jobs: BTreeMap<(String, String), Histogram>,
    provider_errors: BTreeMap<(String, String), u64>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One handled request; `route` is the matched pattern (`/api/deployments/{id}`), never the raw
/// path, so ids do not explode the label set.
pub fn observe_http(method: String, route: String, status: u16, seconds: f64) {
    if let Ok(mut r) = registry().lock() {
        r.http
            .entry((method, route, status))
            .or_default()
            .observe(seconds);
    }
}

/// One finished job run: `outcome` is succeeded, failed, retried, deferred or cancelled.
pub fn observe_job(kind: &str, outcome: &str, seconds: f64) {
    if let Ok(mut r) = registry().lock() {
        r.jobs
            .entry((kind.to_owned(), outcome.to_owned()))
            .or_default()
            .observe(seconds);
    }
}

/// A provider API call that failed (after its retries).
pub fn provider_error(host: &str, kind: &str) {
    if let Ok(mut r) = registry().lock() {
        *r.provider_errors
            .entry((host.to_owned(), kind.to_owned()))
            .or_default() += 1;
    }
}

/// The exposition text; `queue` holds (kind, status, count) rows of the jobs table.
pub fn render(queue: &[(String, String, i64)]) -> String {
    let mut out = String::new();
    let r = match registry().lock() {
        Ok(r) => r,
        Err(poisoned) => poisoned.into_inner(),
    };
    out.push_str("# HELP provisio_http_request_duration_seconds Time to answer an HTTP request.\n");
    out.push_str("# TYPE provisio_http_request_duration_seconds histogram\n");
    for ((method, route, status), h) in &r.http {
        let labels = format!(
            "method=\"{}\",route=\"{}\",status=\"{status}\"",
            escape(method),
            escape(route)
        );
        h.render(&mut out, "provisio_http_request_duration_seconds", &labels);
    }
    out.push_str(
        "# HELP provisio_job_duration_seconds Time a job run took, by kind and outcome.\n",
    );
    out.push_str("# TYPE provisio_job_duration_seconds histogram\n");
    for ((kind, outcome), h) in &r.jobs {
        let labels = format!("kind=\"{}\",outcome=\"{}\"", escape(kind), escape(outcome));
        h.render(&mut out, "provisio_job_duration_seconds", &labels);
    }
    out.push_str("# HELP provisio_provider_errors_total Provider API calls that failed.\n");
    out.push_str("# TYPE provisio_provider_errors_total counter\n");
    for ((host, kind), n) in &r.provider_errors {
        let _ = writeln!(
            out,
            "provisio_provider_errors_total{{provider=\"{}\",error=\"{}\"}} {n}",
            escape(host),
            escape(kind)
        );
    }
    out.push_str("# HELP provisio_jobs Jobs in the queue by kind and status.\n");
    out.push_str("# TYPE provisio_jobs gauge\n");
    for (kind, status, n) in queue {
        let _ = writeln!(
            out,
            "provisio_jobs{{kind=\"{}\",status=\"{}\"}} {n}",
            escape(kind),
            escape(status)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets() {
        let mut h = Histogram::default();
        h.observe(0.003);
        h.observe(0.2);
        h.observe(1000.0);
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.25\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"600\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count{a=\"b\"} 3\n"), "{out}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
