//! The terminal session: the WebSocket, what the server says on it and the transcript it builds.

use super::output::OutputParser;
use crate::api;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::terminal::{ClientMessage, ServerMessage, TerminalSettings};
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Lines kept in memory; older ones are dropped first.
const MAX_LINES: usize = 5000;

/// The padding of `.terminal-screen` in style.css, left out of the columns and rows.
const SCREEN_PADDING_PX: f64 = 12.0;

/// The character cell assumed until one is measured.
const CELL_PX: (f64, f64) = (8.0, 17.0);

/// Characters of the hidden ruler that measures the cell.
pub(super) const RULER_CHARS: usize = 20;

/// How a line of the transcript is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tone {
    Output,
    /// A command line the user ran.
    Command,
    Error,
    /// Exits and the end of the session.
    Note,
}

impl Tone {
    pub(super) fn class(self) -> &'static str {
        match self {
            Tone::Output => "term-line",
            Tone::Command => "term-line term-command",
            Tone::Error => "term-line term-error",
            Tone::Note => "term-line term-note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line {
    pub(super) id: u64,
    pub(super) tone: Tone,
    pub(super) text: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Link {
    Connecting,
    Ready,
    /// The session ended, for this reason.
    Closed(String),
}

/// What the server said the session allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ready {
    pub(super) project: String,
    pub(super) settings: TerminalSettings,
}

/// The text of an `exit` message.
fn exit_text(code: Option<i32>, signal: Option<&str>) -> String {
    match (code, signal) {
        (_, Some(signal)) => format!("[terminated: {signal}]"),
        (Some(code), None) => format!("[exit {code}]"),
        (None, None) => "[exit]".into(),
    }
}

/// `ws(s)://<this host>` + `path_and_query`.
fn socket_url(path_and_query: &str) -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!(
        "{scheme}://{}{path_and_query}",
        location.host().ok()?
    ))
}

/// An open WebSocket and its handlers, which live as long as it does.
struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Socket {
    /// Closes the socket. The handlers are dropped on the next tick: this may run inside one.
    fn shut(self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
        set_timeout(move || drop(self), Duration::ZERO);
    }
}

/// The state of the page; every part is an arena handle, so it is `Copy` into handlers.
#[derive(Clone, Copy)]
pub(super) struct Term {
    project: Memo<String>,
    pub(super) lines: RwSignal<Vec<Line>>,
    pub(super) current: RwSignal<String>,
    pub(super) link: RwSignal<Link>,
    pub(super) ready: RwSignal<Option<Ready>>,
    /// The command line of the running program.
    pub(super) running: RwSignal<Option<String>>,
    pub(super) parser: StoredValue<OutputParser>,
    next_id: StoredValue<u64>,
    socket: StoredValue<Option<Socket>, LocalStorage>,
    /// The current socket opened.
    opened: StoredValue<bool>,
    /// Counts `connect` calls, so a ticket that arrives after a newer one is dropped.
    attempt: StoredValue<u64>,
    /// The last size sent.
    size: StoredValue<Option<(u16, u16)>>,
    pub(super) screen: NodeRef<html::Pre>,
    pub(super) ruler: NodeRef<html::Span>,
}

impl Term {
    pub(super) fn new(project: Memo<String>) -> Self {
        Term {
            project,
            lines: RwSignal::new(Vec::new()),
            current: RwSignal::new(String::new()),
            link: RwSignal::new(Link::Connecting),
            ready: RwSignal::new(None),
            running: RwSignal::new(None),
            parser: StoredValue::new(OutputParser::default()),
            next_id: StoredValue::new(0),
            socket: StoredValue::new_local(None),
            opened: StoredValue::new(false),
            attempt: StoredValue::new(0),
            size: StoredValue::new(None),
            screen: NodeRef::new(),
            ruler: NodeRef::new(),
        }
    }

    fn append(&self, lines: impl IntoIterator<Item = (Tone, String)>) {
        let mut next = self.next_id.get_value();
        let new: Vec<Line> = lines
            .into_iter()
            .map(|(tone, text)| {
                next += 1;
                Line {
                    id: next,
                    tone,
                    text: text.into(),
                }
            })
            .collect();
        if new.is_empty() {
            return;
        }
        self.next_id.set_value(next);
        self.lines.update(|all| {
            all.extend(new);
            if all.len() > MAX_LINES {
                let extra = all.len() - MAX_LINES;
                all.drain(..extra);
            }
        });
    }

    /// A line of the page's own, after what the program left unfinished.
    pub(super) fn say(&self, tone: Tone, text: impl Into<String>) {
        let partial = self.parser.try_update_value(OutputParser::flush).flatten();
        if self.current.with_untracked(|c| !c.is_empty()) {
            self.current.set(String::new());
        }
        self.append(
            partial
                .map(|p| (Tone::Output, p))
                .into_iter()
                .chain([(tone, text.into())]),
        );
    }

    fn output(&self, data: &str) {
        let Some((done, current)) = self
            .parser
            .try_update_value(|p| (p.feed(data), p.current.clone()))
        else {
            return;
        };
        self.append(done.into_iter().map(|l| (Tone::Output, l)));
        if self.current.with_untracked(|c| *c != current) {
            self.current.set(current);
        }
    }

    pub(super) fn send(&self, message: &ClientMessage) -> bool {
        let Ok(text) = serde_json::to_string(message) else {
            return false;
        };
        self.socket
            .try_with_value(|s| {
                s.as_ref().is_some_and(|s| {
                    s.ws.ready_state() == WebSocket::OPEN && s.ws.send_with_str(&text).is_ok()
                })
            })
            .unwrap_or(false)
    }

    pub(super) fn shut(&self) {
        if let Some(Some(socket)) = self.socket.try_update_value(Option::take) {
            socket.shut();
        }
    }

    /// Opens a new session: a ticket first (the socket cannot carry the access token), then
    /// the socket with it.
    pub(super) fn connect(self) {
        self.shut();
        self.ready.set(None);
        self.running.set(None);
        self.opened.set_value(false);
        self.size.set_value(None);
        self.link.set(Link::Connecting);
        let attempt = self.attempt.get_value() + 1;
        self.attempt.set_value(attempt);
        let path = format!(
            "/api/projects/{}/terminal",
            api::encode(&self.project.get_untracked())
        );
        spawn_local(async move {
            let ticketed = api::with_ticket(&path).await;
            if self.attempt.try_get_value() != Some(attempt) {
                return;
            }
            match ticketed {
                Ok(url) => self.open(&url),
                Err(e) if e.status == 401 => self.end("the session expired".into()),
                Err(e) => {
                    let reason = e.message();
                    self.say(Tone::Error, format!("[{reason}]"));
                    self.end(reason);
                }
            }
        });
    }

    fn open(self, path_and_query: &str) {
        let ws = socket_url(path_and_query).and_then(|u| WebSocket::new(&u).ok());
        let Some(ws) = ws else {
            self.end("the terminal could not be opened in this browser".into());
            return;
        };
        let on_open =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| self.opened.set_value(true));
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(text) = ev.data().as_string() {
                if let Ok(message) = serde_json::from_str::<ServerMessage>(&text) {
                    self.receive(message);
                }
            }
        });
        let on_close =
            Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| self.closed(&ev));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.socket.set_value(Some(Socket {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        }));
    }

    /// The session is over: the input is disabled until a reconnect.
    fn end(&self, reason: String) {
        self.shut();
        self.running.set(None);
        self.link.set(Link::Closed(reason));
    }

    fn receive(&self, message: ServerMessage) {
        match message {
            ServerMessage::Ready {
                project,
                allowed_commands,
                idle_timeout_secs,
            } => {
                self.ready.set(Some(Ready {
                    project,
                    settings: TerminalSettings {
                        allowed_commands,
                        idle_timeout_secs,
                    },
                }));
                self.link.set(Link::Ready);
                self.fit();
            }
            ServerMessage::Started { argv } => self.running.set(Some(argv.join(" "))),
            ServerMessage::Output { data } => self.output(&data),
            ServerMessage::Exit { code, signal } => {
                self.say(Tone::Note, exit_text(code, signal.as_deref()));
                self.running.set(None);
            }
            ServerMessage::Error { message } => self.say(Tone::Error, message),
            ServerMessage::Closed { reason } => {
                self.say(Tone::Note, format!("[session closed: {reason}]"));
                self.end(reason);
            }
        }
    }

    /// The socket closed without a `closed` message. One that never opened was refused by the
    /// server after its ticket was issued (the terminal is off, or not this user's to use).
    fn closed(self, ev: &CloseEvent) {
        if self.opened.get_value() {
            let reason = match ev.reason() {
                r if r.is_empty() => "the connection was lost".to_string(),
                r => r,
            };
            self.say(Tone::Note, format!("[disconnected: {reason}]"));
            self.end(reason);
        } else {
            let reason =
                "the terminal could not be opened (it may be disabled, or not yours to use)";
            self.say(Tone::Error, format!("[{reason}]"));
            self.end(reason.into());
        }
    }

    /// Tells the server how many columns and rows the output area holds, when that changed.
    pub(super) fn fit(&self) {
        let Some(screen) = self.screen.get_untracked() else {
            return;
        };
        let (cell_w, cell_h) = self
            .ruler
            .get_untracked()
            .map(|r| (r.offset_width() as f64, r.offset_height() as f64))
            .filter(|(w, h)| *w > 0.0 && *h > 0.0)
            .map_or(CELL_PX, |(w, h)| (w / RULER_CHARS as f64, h));
        let fits = |px: i32, cell: f64, max: f64| {
            ((px as f64 - 2.0 * SCREEN_PADDING_PX) / cell)
                .floor()
                .clamp(2.0, max) as u16
        };
        let size = (
            fits(screen.client_width(), cell_w, 500.0),
            fits(screen.client_height(), cell_h, 200.0),
        );
        if self.size.get_value() != Some(size)
            && self.send(&ClientMessage::Resize {
                cols: size.0,
                rows: size.1,
            })
        {
            self.size.set_value(Some(size));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_read_like_a_shell() {
        assert_eq!(exit_text(Some(0), None), "[exit 0]");
        assert_eq!(exit_text(Some(2), None), "[exit 2]");
        assert_eq!(
            exit_text(None, Some("Interrupt")),
            "[terminated: Interrupt]"
        );
    }
}
