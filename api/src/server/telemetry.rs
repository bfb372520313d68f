use crate::auth::extractor::RequestId;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use std::io::IsTerminal;
use tracing::Instrument;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the log subscriber: tracing-subscriber's compact line (coloured on a terminal) or JSON
/// lines, formatted on the thread that logs and written by tracing-appender's background thread,
/// so a serving thread never waits on stderr. Nothing is dropped when its queue is full; loggers
/// wait instead. Keep the returned guard for the life of the process: dropping it writes out
/// what is queued.
pub fn init(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // The queue is allocated whole up front: 8,192 lines keep it at 256 KiB of idle memory.
        .buffered_lines_limit(8192)
        .thread_name("provisio-log")
        .finish(std::io::stderr());
    let builder = fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(writer);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.compact().try_init()
    };
    guard
}

fn incoming_request_id(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get("x-request-id")?.to_str().ok()?;
    (value.len() <= 64 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| value.to_owned())
}

/// Gives every request an id (kept from a well-formed X-Request-Id, else new), a tracing span
/// carrying it, one log line at the end, and the id echoed in the response.
pub async fn request_span(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = incoming_request_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    crate::server::metrics::observe_http(
        method,
        res.request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned()),
        status,
        elapsed.as_secs_f64(),
    );
    // Whole microseconds: exact enough for a line, and cheap to print (a float took the most
    // digits of the line).
    let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    tracing::info!(parent: &span, status, elapsed_us, "handled");
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
