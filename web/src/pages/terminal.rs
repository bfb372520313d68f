//! The project terminal: a WebSocket session in the project's checkout. The user starts one of
//! the programs an administrator allowed (argv split here, never a shell line), reads its
//! output, and answers its prompts line by line.
//!
//! The output comes from a PTY: escape sequences are stripped (colours, cursor moves and
//! titles cannot be shown in a `<pre>`), `\r\n` ends a line and a lone `\r` lets the next text
//! overwrite the line, which keeps progress bars on one line.

use crate::api;
use crate::remote::use_route_id;
use crate::session;
use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use shared::terminal::{split_command_line, ClientMessage, ServerMessage, TerminalSettings};
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// Lines kept in memory; older ones are dropped first.
const MAX_LINES: usize = 5000;

/// An unfinished escape sequence longer than this is not one: it is dropped.
const MAX_CARRY: usize = 4096;

/// The padding of `.terminal-screen` in style.css, left out of the columns and rows.
const SCREEN_PADDING_PX: f64 = 12.0;

/// The character cell assumed until one is measured.
const CELL_PX: (f64, f64) = (8.0, 17.0);

/// Characters of the hidden ruler that measures the cell.
const RULER_CHARS: usize = 20;

/// Removes terminal escape sequences (CSI, OSC and other strings, two-character escapes) and
/// control characters from `input`, keeping text, `\n`, `\r`, `\t` and backspace. Returns the
/// text and the tail of `input` that starts an escape sequence not finished yet: the rest of
/// it comes with the next chunk.
fn strip_controls(input: &str) -> (String, &str) {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.char_indices();
    while let Some((start, c)) = chars.next() {
        match c {
            '\x1b' => {
                let finished = match chars.next().map(|(_, k)| k) {
                    None => false,
                    // CSI: parameters and intermediates, then a final byte.
                    Some('[') => loop {
                        match chars.next().map(|(_, k)| k) {
                            Some('\x20'..='\x3f') => {}
                            Some(_) => break true,
                            None => break false,
                        }
                    },
                    // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (`ESC \`).
                    Some(']' | 'P' | 'X' | '^' | '_') => loop {
                        match chars.next().map(|(_, k)| k) {
                            Some('\x07') => break true,
                            Some('\x1b') => break chars.next().is_some(),
                            Some(_) => {}
                            None => break false,
                        }
                    },
                    // Intermediates, then a final byte (`ESC ( B`).
                    Some('\x20'..='\x2f') => loop {
                        match chars.next().map(|(_, k)| k) {
                            Some('\x20'..='\x2f') => {}
                            Some(_) => break true,
                            None => break false,
                        }
                    },
                    // Two characters: `ESC 7`, `ESC =`, `ESC M`…
                    Some(_) => true,
                };
                if !finished {
                    return (out, &input[start..]);
                }
            }
            '\n' | '\r' | '\t' | '\x08' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    (out, "")
}

/// Turns the program's output chunks into lines.
#[derive(Debug, Default)]
struct OutputParser {
    /// The line the program is still writing.
    current: String,
    /// An escape sequence cut by the end of the last chunk.
    carry: String,
    /// A `\r` was the last character: a `\n` ends the line, anything else overwrites it.
    cr: bool,
}

impl OutputParser {
    /// Feeds a chunk of output; returns the lines it finished.
    fn feed(&mut self, data: &str) -> Vec<String> {
        let mut input = std::mem::take(&mut self.carry);
        input.push_str(data);
        let (text, rest) = strip_controls(&input);
        if rest.len() <= MAX_CARRY {
            self.carry = rest.to_owned();
        }
        let mut done = Vec::new();
        for c in text.chars() {
            // `\r\r\n` is what a PTY makes of a program's own `\r\n`.
            if self.cr && !matches!(c, '\n' | '\r') {
                self.current.clear();
            }
            match c {
                '\n' => {
                    self.cr = false;
                    done.push(std::mem::take(&mut self.current));
                }
                '\r' => self.cr = true,
                '\x08' => {
                    self.cr = false;
                    self.current.pop();
                }
                c => {
                    self.cr = false;
                    self.current.push(c);
                }
            }
        }
        done
    }

    /// Ends the unfinished line (before a line of the page's own), if there is one.
    fn flush(&mut self) -> Option<String> {
        self.cr = false;
        self.carry.clear();
        Some(std::mem::take(&mut self.current)).filter(|l| !l.is_empty())
    }
}

/// How a line of the transcript is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Output,
    /// A command line the user ran.
    Command,
    Error,
    /// Exits and the end of the session.
    Note,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Output => "term-line",
            Tone::Command => "term-line term-command",
            Tone::Error => "term-line term-error",
            Tone::Note => "term-line term-note",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    id: u64,
    tone: Tone,
    text: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Connecting,
    Ready,
    /// The session ended, for this reason.
    Closed(String),
}

/// What the server said the session allows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ready {
    project: String,
    settings: TerminalSettings,
}

/// The text of an `exit` message.
fn exit_text(code: Option<i32>, signal: Option<&str>) -> String {
    match (code, signal) {
        (_, Some(signal)) => format!("[terminated: {signal}]"),
        (Some(code), None) => format!("[exit {code}]"),
        (None, None) => "[exit]".into(),
    }
}

/// "15 min", "1 h 30 min", "45 s".
fn duration_text(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let parts = [(h, "h"), (m, "min"), (s, "s")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect::<Vec<_>>();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// `ws(s)://<this host>/api/projects/{id}/terminal?access_token=…`: a WebSocket cannot send
/// headers, so the token travels in the query like the one of the live streams.
fn socket_url(project: &str) -> Option<String> {
    let location = window().location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    let host = location.host().ok()?;
    let mut url = format!(
        "{scheme}://{host}/api/projects/{}/terminal",
        api::encode(project)
    );
    if let Some(token) = session::access_token() {
        url.push_str("?access_token=");
        url.push_str(&api::encode(&token));
    }
    Some(url)
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
struct Term {
    project: Memo<String>,
    lines: RwSignal<Vec<Line>>,
    current: RwSignal<String>,
    link: RwSignal<Link>,
    ready: RwSignal<Option<Ready>>,
    /// The command line of the running program.
    running: RwSignal<Option<String>>,
    parser: StoredValue<OutputParser>,
    next_id: StoredValue<u64>,
    socket: StoredValue<Option<Socket>, LocalStorage>,
    /// The current socket opened.
    opened: StoredValue<bool>,
    /// The access token was refreshed since the last socket that opened.
    refreshed: StoredValue<bool>,
    /// The last size sent.
    size: StoredValue<Option<(u16, u16)>>,
    screen: NodeRef<html::Pre>,
    ruler: NodeRef<html::Span>,
}

impl Term {
    fn new(project: Memo<String>) -> Self {
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
            refreshed: StoredValue::new(false),
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
    fn say(&self, tone: Tone, text: impl Into<String>) {
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

    fn send(&self, message: &ClientMessage) -> bool {
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

    fn shut(&self) {
        if let Some(Some(socket)) = self.socket.try_update_value(Option::take) {
            socket.shut();
        }
    }

    fn connect(self) {
        self.shut();
        self.ready.set(None);
        self.running.set(None);
        self.opened.set_value(false);
        self.size.set_value(None);
        let ws = socket_url(&self.project.get_untracked()).and_then(|u| WebSocket::new(&u).ok());
        let Some(ws) = ws else {
            self.end("the terminal could not be opened in this browser".into());
            return;
        };
        self.link.set(Link::Connecting);
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            self.opened.set_value(true);
            self.refreshed.set_value(false);
        });
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

    /// The socket closed without a `closed` message. A socket that never opened may have
    /// carried an expired access token: it is refreshed and tried once more.
    fn closed(self, ev: &CloseEvent) {
        if self.opened.get_value() {
            let reason = match ev.reason() {
                r if r.is_empty() => "the connection was lost".to_string(),
                r => r,
            };
            self.say(Tone::Note, format!("[disconnected: {reason}]"));
            self.end(reason);
        } else if !self.refreshed.get_value() {
            self.refreshed.set_value(true);
            self.shut();
            spawn_local(async move {
                let refreshed = session::refresh().await;
                if self.link.try_get_untracked().is_none() {
                    return;
                }
                match refreshed {
                    Err(e) if e.status == 401 => {
                        self.end("the session expired".into());
                        session::expire();
                    }
                    _ => self.connect(),
                }
            });
        } else {
            let reason =
                "the terminal could not be opened (it may be disabled, or not yours to use)";
            self.say(Tone::Error, format!("[{reason}]"));
            self.end(reason.into());
        }
    }

    /// Tells the server how many columns and rows the output area holds, when that changed.
    fn fit(&self) {
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

/// Recalled command lines: the programs run, not the lines typed into them (those may be
/// answers to password prompts).
#[derive(Debug, Default)]
struct History {
    entries: Vec<String>,
    /// The entry shown, while browsing.
    at: Option<usize>,
    /// What was typed before browsing began.
    draft: String,
}

impl History {
    fn push(&mut self, line: String) {
        if self.entries.last() != Some(&line) {
            self.entries.push(line);
        }
        self.at = None;
    }

    fn older(&mut self, typed: &str) -> Option<String> {
        let at = match self.at {
            _ if self.entries.is_empty() => return None,
            None => {
                self.draft = typed.to_owned();
                self.entries.len() - 1
            }
            Some(at) => at.saturating_sub(1),
        };
        self.at = Some(at);
        Some(self.entries[at].clone())
    }

    fn newer(&mut self) -> Option<String> {
        let at = self.at?;
        if at + 1 < self.entries.len() {
            self.at = Some(at + 1);
            Some(self.entries[at + 1].clone())
        } else {
            self.at = None;
            Some(std::mem::take(&mut self.draft))
        }
    }
}

#[component]
pub fn TerminalPage() -> impl IntoView {
    let id = use_route_id();
    let term = Term::new(id);
    let command = RwSignal::new(String::new());
    let history = StoredValue::new(History::default());
    let input = NodeRef::<html::Input>::new();
    let stick = StoredValue::new(true);

    // A new project (or the first one) starts a new session on a clean screen.
    Effect::new(move |_| {
        id.track();
        term.lines.set(Vec::new());
        term.current.set(String::new());
        term.parser.set_value(OutputParser::default());
        term.refreshed.set_value(false);
        term.connect();
    });
    let resize = window_event_listener(ev::resize, move |_| term.fit());
    on_cleanup(move || {
        resize.remove();
        term.shut();
    });

    // Follows the newest output unless the reader scrolled up.
    Effect::new(move |_| {
        term.lines.track();
        term.current.track();
        if let Some(el) = term.screen.get_untracked() {
            if stick.get_value() {
                request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
            }
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = term.screen.get_untracked() {
            stick.set_value(el.scroll_top() + el.client_height() >= el.scroll_height() - 24);
        }
    };
    let focus_input = move || {
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
        }
    };
    Effect::new(move |_| {
        if term.link.get() == Link::Ready {
            request_animation_frame(focus_input);
        }
    });

    let live = Memo::new(move |_| term.link.get() == Link::Ready);
    let busy = Memo::new(move |_| term.running.with(Option::is_some));

    let interrupt = move || {
        term.send(&ClientMessage::Interrupt);
    };
    let run = move |line: String| {
        history.update_value(|h| h.push(line.clone()));
        let argv = match split_command_line(&line) {
            Ok(argv) if argv.is_empty() => return,
            Ok(argv) => argv,
            Err(e) => {
                term.say(Tone::Error, format!("Cannot run this: {e}."));
                return;
            }
        };
        term.say(Tone::Command, format!("$ {line}"));
        let permitted = term
            .ready
            .with_untracked(|r| r.as_ref().map(|r| r.settings.permits(&argv)));
        match permitted {
            Some(Err(e)) => term.say(Tone::Error, e),
            _ => {
                if !term.send(&ClientMessage::Run { argv }) {
                    term.say(Tone::Error, "Not connected.");
                }
            }
        }
    };
    let submit = move || {
        let line = command.get_untracked();
        if busy.get_untracked() {
            term.send(&ClientMessage::Input {
                data: format!("{line}\n"),
            });
            command.set(String::new());
        } else if !line.trim().is_empty() {
            command.set(String::new());
            run(line.trim().to_owned());
        }
    };
    let on_keydown = move |ev: ev::KeyboardEvent| {
        let key = ev.key();
        let ctrl = ev.ctrl_key() && !ev.alt_key() && !ev.meta_key();
        match key.as_str() {
            "Enter" => {
                ev.prevent_default();
                submit();
            }
            "ArrowUp" | "ArrowDown" if !busy.get_untracked() => {
                ev.prevent_default();
                let typed = command.get_untracked();
                let recalled = history.try_update_value(|h| {
                    if key == "ArrowUp" {
                        h.older(&typed)
                    } else {
                        h.newer()
                    }
                });
                if let Some(Some(line)) = recalled {
                    command.set(line);
                }
            }
            k if ctrl && k.eq_ignore_ascii_case("c") => {
                // With text selected, Ctrl+C copies it as usual.
                let selected = input.get_untracked().is_some_and(|el| {
                    matches!(
                        (el.selection_start(), el.selection_end()),
                        (Ok(Some(a)), Ok(Some(b))) if a != b
                    )
                });
                if !selected {
                    ev.prevent_default();
                    if busy.get_untracked() {
                        interrupt();
                    } else {
                        command.set(String::new());
                    }
                }
            }
            // End of input for programs reading to the end (`cat`), as in a terminal.
            k if ctrl
                && k.eq_ignore_ascii_case("d")
                && busy.get_untracked()
                && command.with_untracked(String::is_empty) =>
            {
                ev.prevent_default();
                term.send(&ClientMessage::Input {
                    data: "\u{4}".into(),
                });
            }
            _ => {}
        }
    };

    let title = move || {
        term.ready.with(|r| {
            r.as_ref()
                .map_or_else(|| "Terminal".to_string(), |r| r.project.clone())
        })
    };
    let status = move || {
        let state = match term.link.get() {
            Link::Connecting => "Connecting…".to_string(),
            Link::Ready => match term.running.get() {
                Some(line) => format!("Connected · running {line}"),
                None => "Connected".to_string(),
            },
            Link::Closed(reason) => format!("Closed: {reason}"),
        };
        let allowed = term.ready.with(|r| {
            r.as_ref().map(|r| {
                let list = if r.settings.allowed_commands.is_empty() {
                    "none".to_string()
                } else {
                    r.settings.allowed_commands.join(", ")
                };
                (list, duration_text(r.settings.idle_timeout_secs))
            })
        });
        view! {
            <span class="terminal-state">{state}</span>
            {allowed
                .map(|(list, idle)| {
                    view! {
                        <span>"Allowed: " <span class="mono" data-testid="terminal-allowed">{list}</span></span>
                        <span>"Closes after " {idle} " without activity"</span>
                    }
                })}
        }
    };
    let state_name = move || match term.link.get() {
        Link::Connecting => "connecting",
        Link::Ready => "ready",
        Link::Closed(_) => "closed",
    };

    view! {
        <section class="page terminal-page">
            <header class="page-header">
                <div>
                    <h1 data-testid="terminal-project">{title}</h1>
                    <p class="muted">
                        "A terminal in the project's checkout, for the programs an administrator allowed."
                    </p>
                </div>
                <div class="actions">
                    <A href=move || format!("/projects/{}", id.get()) attr:class="btn btn-ghost" attr:data-testid="terminal-back">
                        "Back to project"
                    </A>
                </div>
            </header>
            <div class="terminal" data-testid="terminal" data-state=state_name>
                <p class="terminal-status" data-testid="terminal-status" role="status">
                    {status}
                </p>
                <pre
                    class="terminal-screen"
                    node_ref=term.screen
                    on:scroll=on_scroll
                    role="log"
                    aria-label="Terminal output"
                    tabindex="0"
                    data-testid="terminal-output"
                >
                    <For
                        each=move || term.lines.get()
                        key=|line| line.id
                        children=|line| {
                            view! { <span class=line.tone.class()>{line.text.to_string()} "\n"</span> }
                        }
                    />
                    <span class="term-line">{move || term.current.get()}</span>
                </pre>
                <span class="terminal-ruler" aria-hidden="true" node_ref=term.ruler>
                    {"0".repeat(RULER_CHARS)}
                </span>
                <form
                    class="terminal-prompt"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        submit();
                    }
                >
                    <label for="terminal-command">"Command"</label>
                    <span class="terminal-sigil" aria-hidden="true">
                        {move || if busy.get() { ">" } else { "$" }}
                    </span>
                    <input
                        id="terminal-command"
                        type="text"
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        data-testid="terminal-command"
                        node_ref=input
                        disabled=move || !live.get()
                        placeholder=move || {
                            if busy.get() {
                                "Input for the running program; Enter sends the line"
                            } else {
                                "e.g. git status"
                            }
                        }
                        bind:value=command
                        on:keydown=on_keydown
                    />
                    <button
                        type="button"
                        class="btn btn-danger-ghost btn-sm"
                        data-testid="terminal-interrupt"
                        disabled=move || !(live.get() && busy.get())
                        on:click=move |_| {
                            interrupt();
                            focus_input();
                        }
                    >
                        "Ctrl-C"
                    </button>
                    {move || {
                        matches!(term.link.get(), Link::Closed(_))
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="btn btn-primary btn-sm"
                                        data-testid="terminal-reconnect"
                                        on:click=move |_| {
                                            term.refreshed.set_value(false);
                                            term.connect();
                                        }
                                    >
                                        "Reconnect"
                                    </button>
                                }
                            })
                    }}
                </form>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_controls_are_stripped() {
        let cases = [
            ("plain text", "plain text"),
            ("\x1b[1;32mgreen\x1b[0m and \x1b[Kmore", "green and more"),
            ("\x1b[?25l\x1b[2J\x1b[Hscreen", "screen"),
            ("\x1b]0;window title\x07after", "after"),
            (
                "\x1b]8;;https://example.com\x1b\\link\x1b]8;;\x1b\\",
                "link",
            ),
            ("\x1b(B\x1b=\x1b7keep\x1b8", "keep"),
            ("bell\x07 and nul\0 gone", "bell and nul gone"),
            ("a\tb\r\nc\x08d", "a\tb\r\nc\x08d"),
            ("ünïcödé ✓", "ünïcödé ✓"),
        ];
        for (input, text) in cases {
            assert_eq!(strip_controls(input), (text.to_string(), ""), "{input:?}");
        }
    }

    #[test]
    fn an_unfinished_escape_sequence_is_kept_for_the_next_chunk() {
        assert_eq!(strip_controls("ok\x1b[1;3"), ("ok".to_string(), "\x1b[1;3"));
        assert_eq!(strip_controls("ok\x1b"), ("ok".to_string(), "\x1b"));
        assert_eq!(
            strip_controls("\x1b]0;title"),
            (String::new(), "\x1b]0;title")
        );
    }

    #[test]
    fn output_chunks_become_lines() {
        let mut p = OutputParser::default();
        assert_eq!(p.feed("one\r\ntw"), ["one"]);
        assert_eq!(p.current, "tw");
        assert_eq!(p.feed("o\r\r\n\x1b[3"), ["two"]);
        assert_eq!(p.feed("1mred\x1b[0m\n"), ["red"]);
        assert_eq!(p.feed("Name: "), Vec::<String>::new());
        assert_eq!(p.flush().as_deref(), Some("Name: "));
        assert_eq!(p.flush(), None);
    }

    #[test]
    fn a_lone_carriage_return_overwrites_the_line() {
        let mut p = OutputParser::default();
        assert!(p.feed("progress 10%\r").is_empty());
        // The old text stays until something replaces it.
        assert_eq!(p.current, "progress 10%");
        assert_eq!(p.feed("progress 100%\r\n"), ["progress 100%"]);
        assert_eq!(p.feed("abc\x08\x08x\n"), ["ax"]);
    }

    #[test]
    fn exits_read_like_a_shell() {
        assert_eq!(exit_text(Some(0), None), "[exit 0]");
        assert_eq!(exit_text(Some(2), None), "[exit 2]");
        assert_eq!(
            exit_text(None, Some("Interrupt")),
            "[terminated: Interrupt]"
        );
        assert_eq!(duration_text(900), "15 min");
        assert_eq!(duration_text(5400), "1 h 30 min");
        assert_eq!(duration_text(45), "45 s");
    }

    #[test]
    fn history_recalls_older_and_newer_lines_then_the_draft() {
        let mut h = History::default();
        assert_eq!(h.older("x"), None);
        h.push("git status".into());
        h.push("git log".into());
        h.push("git log".into());
        assert_eq!(h.older("draft").as_deref(), Some("git log"));
        assert_eq!(h.older("").as_deref(), Some("git status"));
        assert_eq!(h.older("").as_deref(), Some("git status"));
        assert_eq!(h.newer().as_deref(), Some("git log"));
        assert_eq!(h.newer().as_deref(), Some("draft"));
        assert_eq!(h.newer(), None);
    }
}
