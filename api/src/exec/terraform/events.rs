//! What a Terraform process tells its sink: log lines and the events of its `-json` UI stream.

use serde::Deserialize;

/// Which output of the process a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

impl LogStream {
    /// The `stream` value stored with an execution log line.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
        }
    }
}

/// Severity of a Terraform UI event (`@level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn parse(level: &str) -> Self {
        match level {
            "trace" => Level::Trace,
            "debug" => Level::Debug,
            "warn" => Level::Warn,
            "error" => Level::Error,
            _ => Level::Info,
        }
    }
}

/// One event of Terraform's `-json` UI stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TfEvent {
    pub level: Level,
    /// The event `type`, e.g. `apply_complete` or `diagnostic`.
    pub kind: String,
    /// `@message`, followed by the diagnostic's detail for diagnostics.
    pub message: String,
}

/// One line for the execution log, secrets already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: LogStream,
    pub text: String,
    /// Set when the line was a JSON UI event; `text` is then its message.
    pub event: Option<TfEvent>,
}
pub(super) struct ParsedEvent {
    pub(super) event: TfEvent,
    /// Summary and detail when the event is an error diagnostic.
    pub(super) error: Option<(String, String)>,
}

/// Parses one line of the `-json` UI stream; `None` for anything that is not such an event.
pub(super) fn parse_event(line: &str) -> Option<ParsedEvent> {
    #[derive(Deserialize)]
    struct RawEvent {
        #[serde(rename = "@level")]
        level: Option<String>,
        #[serde(rename = "@message")]
        message: String,
        #[serde(rename = "type")]
        kind: Option<String>,
        diagnostic: Option<RawDiagnostic>,
    }
    #[derive(Deserialize)]
    struct RawDiagnostic {
        severity: Option<String>,
        #[serde(default)]
        summary: String,
        #[serde(default)]
        detail: String,
    }

    let raw: RawEvent = serde_json::from_str(line).ok()?;
    let mut message = raw.message;
    let mut error = None;
    if let Some(diagnostic) = raw.diagnostic {
        if !diagnostic.detail.is_empty() {
            message = format!("{message}\n{}", diagnostic.detail);
        }
        if diagnostic.severity.as_deref() == Some("error") {
            error = Some((diagnostic.summary, diagnostic.detail));
        }
    }
    Some(ParsedEvent {
        event: TfEvent {
            level: Level::parse(raw.level.as_deref().unwrap_or("info")),
            kind: raw.kind.unwrap_or_else(|| "log".to_owned()),
            message,
        },
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_lines_parse_into_events() {
        let cases = [
            (
                r#"{"@level":"info","@message":"Plan: 1 to add","type":"change_summary"}"#,
                Some((Level::Info, "change_summary", "Plan: 1 to add", None)),
            ),
            (
                r#"{"@level":"error","@message":"Error: boom","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","detail":"it broke"}}"#,
                Some((
                    Level::Error,
                    "diagnostic",
                    "Error: boom\nit broke",
                    Some(("boom", "it broke")),
                )),
            ),
            (
                r#"{"@level":"warn","@message":"Warning: old","type":"diagnostic","diagnostic":{"severity":"warning","summary":"old","detail":""}}"#,
                Some((Level::Warn, "diagnostic", "Warning: old", None)),
            ),
            (
                r#"{"@message":"no level, no type"}"#,
                Some((Level::Info, "log", "no level, no type", None)),
            ),
            ("plain text from a provider", None),
            (r#"{"json":"but not an event"}"#, None),
        ];
        for (line, expected) in cases {
            let parsed = parse_event(line).map(|parsed| {
                (
                    parsed.event.level,
                    parsed.event.kind,
                    parsed.event.message,
                    parsed.error,
                )
            });
            let expected = expected.map(|(level, kind, message, error)| {
                (
                    level,
                    kind.to_owned(),
                    message.to_owned(),
                    error.map(|(s, d): (&str, &str)| (s.to_owned(), d.to_owned())),
                )
            });
            assert_eq!(parsed, expected, "{line}");
        }
    }
}
