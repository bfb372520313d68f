use crate::auth::extractor::RequestId;
use crate::log_sink::LogGuard;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use std::fmt::Write as _;
use std::io::IsTerminal;
use tracing::Instrument;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{fmt, EnvFilter};

/// Installs the log subscriber. Lines are formatted on the thread that logs them and written in
/// batches by one background thread ([`crate::log_sink`]). JSON when asked; on a terminal,
/// tracing-subscriber's compact format in colour; otherwise the same line, uncoloured, by
/// [`PlainLine`]. Nothing is dropped.
/// Keep the returned guard for the life of the process: dropping it writes out what is queued.
pub fn init(json: bool) -> std::io::Result<LogGuard> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,actix_server=warn"));
    let (writer, guard) = crate::log_sink::spawn("provisio-log", std::io::stderr())?;
    let builder = fmt().with_env_filter(filter).with_writer(writer);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else if std::io::stderr().is_terminal() {
        builder.compact().with_ansi(true).try_init()
    } else {
        builder.with_ansi(false).event_format(PlainLine).try_init()
    };
    Ok(guard)
}

/// tracing-subscriber's compact line without colours
/// (`2026-11-27T14:59:05.690580Z  INFO request: api::telemetry: handled status=200 request_id=…`),
/// written without its styling layer and with the date and time formatted once a second per
/// thread: the access line is written for every request, and in a profile of the list under load
/// the styling (paid even with colours off) and the calendar arithmetic were about 40 % of
/// formatting it (server CPU per answer 18.6 µs → 18.1 µs without them).
pub struct PlainLine;

impl<S, N> FormatEvent<S, N> for PlainLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        write_timestamp(&mut writer, std::time::SystemTime::now())?;
        let metadata = event.metadata();
        writer.write_str(match *metadata.level() {
            Level::ERROR => " ERROR ",
            Level::WARN => "  WARN ",
            Level::INFO => "  INFO ",
            Level::DEBUG => " DEBUG ",
            Level::TRACE => " TRACE ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                writer.write_str(span.name())?;
                writer.write_char(':')?;
            }
            writer.write_char(' ')?;
        }
        writer.write_str(metadata.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        writer.write_char(' ')?;
                        writer.write_str(fields)?;
                    }
                }
            }
        }
        writer.write_char('\n')
    }
}

/// `2026-11-27T14:59:05.690580Z` (UTC, microseconds); the part up to the seconds is remembered
/// per thread for the second it names.
fn write_timestamp(
    writer: &mut impl std::fmt::Write,
    now: std::time::SystemTime,
) -> std::fmt::Result {
    thread_local! {
        static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((u64::MAX, String::new())) };
    }
    let since_epoch = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since_epoch.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != seconds {
            let time = i64::try_from(seconds)
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .unwrap_or_default();
            text.clear();
            let _ = write!(text, "{}", time.format("%Y-%m-%dT%H:%M:%S"));
            *cached = seconds;
        }
        writer.write_str(text)
    })?;
    let mut micros = *b".000000Z";
    let mut rest = since_epoch.subsec_micros();
    for digit in micros[1..7].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    // Only ASCII digits and punctuation were written.
    writer.write_str(std::str::from_utf8(&micros).map_err(|_| std::fmt::Error)?)
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
    crate::metrics::observe_http(
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log_some(subscriber: impl Subscriber + Send + Sync) {
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(reason = "none", "outside any span");
            let span = tracing::info_span!("request", request_id = %"4f1c", method = %"GET", path = %"/api/x y");
            tracing::info!(parent: &span, status = 200u16, elapsed_us = 17u64, "handled");
            let _entered = span.enter();
            let inner = tracing::info_span!("job", kind = "backup");
            inner.in_scope(|| tracing::error!(error = ?"quoted \"text\"", "failed"));
            tracing::debug!("filtered out");
        });
    }

    /// Each line without its timestamp (everything up to the first space).
    fn lines(captured: &Captured) -> Vec<String> {
        String::from_utf8(captured.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|line| line.split_once(' ').unwrap().1.to_owned())
            .collect()
    }

    #[test]
    fn the_plain_line_reads_as_the_compact_format_without_colours() {
        let (plain, compact) = (Captured::default(), Captured::default());
        let writer = plain.clone();
        log_some(
            fmt()
                .with_max_level(Level::INFO)
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .event_format(PlainLine)
                .finish(),
        );
        let writer = compact.clone();
        log_some(
            fmt()
                .with_max_level(Level::INFO)
                .with_writer(move || writer.clone())
                .compact()
                .with_ansi(false)
                .finish(),
        );
        let plain = lines(&plain);
        assert_eq!(plain.len(), 3, "{plain:?}");
        assert_eq!(
            plain[1],
            " INFO request: api::telemetry::tests: handled status=200 elapsed_us=17 \
             request_id=4f1c method=GET path=/api/x y"
        );
        assert_eq!(plain, lines(&compact));
    }

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        let at = |unix_micros: u64| {
            let mut text = String::new();
            write_timestamp(
                &mut text,
                std::time::UNIX_EPOCH + std::time::Duration::from_micros(unix_micros),
            )
            .unwrap();
            text
        };
        assert_eq!(at(1_795_791_502_000_042), "2026-11-27T14:58:22.000042Z");
        // The remembered second is replaced when the second changes.
        assert_eq!(at(1_795_791_503_999_999), "2026-11-27T14:58:23.999999Z");
        assert_eq!(at(0), "1970-01-01T00:00:00.000000Z");
    }
}
