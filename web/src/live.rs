//! Live streams (Server-Sent Events) from the API: execution logs and status changes.
//!
//! `EventSource` cannot send headers: each connection asks for a single-use ticket first
//! (`?ticket=`, see `api::with_ticket`), so no token travels in a URL. After an error the
//! source is rebuilt by hand, with a new ticket and `&last_event_id=` so the server resumes
//! after the last log line seen instead of replaying the log.

use leptos::leptos_dom::helpers::TimeoutHandle;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

/// The state of a stream, shown next to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Nothing to follow (yet).
    Idle,
    Connecting,
    Live,
    /// The connection dropped; a new one is scheduled.
    Reconnecting,
    /// The watched thing reached a final state; the server closed the stream.
    Ended,
    /// The stream cannot be followed (the object is gone or the session ended).
    Failed,
}

impl Link {
    pub fn as_str(self) -> &'static str {
        match self {
            Link::Idle => "idle",
            Link::Connecting => "connecting",
            Link::Live => "live",
            Link::Reconnecting => "reconnecting",
            Link::Ended => "ended",
            Link::Failed => "failed",
        }
    }
}

/// Every event name the API sends; `error` is both the transport error and the server's
/// `event: error` frame (a `MessageEvent` with a `{"detail": …}` body).
const EVENTS: [&str; 7] = [
    "open",
    "log",
    "execution",
    "request",
    "server",
    "end",
    "error",
];

type Listener = Closure<dyn FnMut(web_sys::Event)>;

/// Receives the event name and its data.
type OnEvent = Box<dyn Fn(&str, &str)>;

struct Conn {
    source: EventSource,
    listeners: Vec<(&'static str, Listener)>,
}

struct Inner {
    path: RefCell<Option<String>>,
    conn: RefCell<Option<Conn>>,
    last_id: Cell<i64>,
    failures: Cell<u32>,
    opened: Cell<bool>,
    /// Counts connections begun and closed, so a ticket that arrives late opens nothing.
    attempt: Cell<u64>,
    timer: RefCell<Option<TimeoutHandle>>,
    link: RwSignal<Link>,
    /// Called with the event name and its data for every event but `open` and `error`.
    on_event: OnEvent,
}

/// A followed stream; closes itself when its owner (the component) is cleaned up.
#[derive(Clone, Copy)]
pub struct Stream {
    inner: StoredValue<Option<Rc<Inner>>, LocalStorage>,
    pub link: RwSignal<Link>,
}

impl Stream {
    /// Reconnects (e.g. after `end`, when the watched thing became active again), resuming
    /// after the last log line seen.
    pub fn restart(&self) {
        if let Some(Some(inner)) = self.inner.try_get_value() {
            inner.failures.set(0);
            connect(&inner);
        }
    }
}

/// Follows the stream at `path()` (an API path such as `/api/requests/{id}/events`); `None`
/// closes it. A new path starts from the beginning of its log.
pub fn follow(
    path: impl Fn() -> Option<String> + 'static,
    on_event: impl Fn(&str, &str) + 'static,
) -> Stream {
    let link = RwSignal::new(Link::Idle);
    let inner = Rc::new(Inner {
        path: RefCell::new(None),
        conn: RefCell::new(None),
        last_id: Cell::new(0),
        failures: Cell::new(0),
        opened: Cell::new(false),
        attempt: Cell::new(0),
        timer: RefCell::new(None),
        link,
        on_event: Box::new(on_event),
    });
    let stored = StoredValue::new_local(Some(inner));
    Effect::new(move |_| {
        let next = path();
        let Some(Some(inner)) = stored.try_get_value() else {
            return;
        };
        if *inner.path.borrow() == next {
            return;
        }
        *inner.path.borrow_mut() = next.clone();
        inner.last_id.set(0);
        inner.failures.set(0);
        if next.is_some() {
            connect(&inner);
        } else {
            close(&inner);
            set_link(&inner, Link::Idle);
        }
    });
    on_cleanup(move || {
        if let Some(Some(inner)) = stored.try_get_value() {
            *inner.path.borrow_mut() = None;
            close(&inner);
        }
        stored.try_set_value(None);
    });
    Stream {
        inner: stored,
        link,
    }
}

fn set_link(inner: &Inner, next: Link) {
    if inner
        .link
        .try_get_untracked()
        .is_some_and(|cur| cur != next)
    {
        inner.link.set(next);
    }
}

fn clear_timer(inner: &Inner) {
    if let Some(t) = inner.timer.borrow_mut().take() {
        t.clear();
    }
}

/// Closes the current source. Its listeners are dropped on the next tick: this may run inside
/// one of them.
fn close(inner: &Inner) {
    clear_timer(inner);
    inner.attempt.set(inner.attempt.get() + 1);
    if let Some(conn) = inner.conn.borrow_mut().take() {
        conn.source.close();
        for (name, listener) in &conn.listeners {
            let _ = conn
                .source
                .remove_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
        }
        set_timeout(move || drop(conn), Duration::ZERO);
    }
}

/// Asks for a ticket, then opens the source with it. A 401 there means the session is over
/// (the ticket request already tried a refresh); other failures are retried.
fn connect(inner: &Rc<Inner>) {
    close(inner);
    let Some(path) = inner.path.borrow().clone() else {
        return;
    };
    if inner.failures.get() == 0 {
        set_link(inner, Link::Connecting);
    }
    inner.opened.set(false);
    let attempt = inner.attempt.get();
    let weak = Rc::downgrade(inner);
    spawn_local(async move {
        let ticketed = crate::api::with_ticket(&path).await;
        let Some(inner) = weak.upgrade() else {
            return;
        };
        if inner.attempt.get() != attempt {
            return;
        }
        match ticketed {
            Ok(url) => open(&inner, url),
            // The session is over, or the stream is not the caller's to follow.
            Err(e) if matches!(e.status, 401 | 403 | 404) => set_link(&inner, Link::Failed),
            Err(_) => retry(&inner),
        }
    });
}

fn open(inner: &Rc<Inner>, mut url: String) {
    let last_id = inner.last_id.get();
    if last_id > 0 {
        url.push_str(&format!("&last_event_id={last_id}"));
    }
    let Ok(source) = EventSource::new(&url) else {
        set_link(inner, Link::Failed);
        return;
    };
    let weak = Rc::downgrade(inner);
    let listeners = EVENTS
        .into_iter()
        .map(|name| {
            let weak = weak.clone();
            let listener: Listener = Closure::new(move |ev: web_sys::Event| {
                if let Some(inner) = weak.upgrade() {
                    dispatch(&inner, name, ev);
                }
            });
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            (name, listener)
        })
        .collect();
    *inner.conn.borrow_mut() = Some(Conn { source, listeners });
}

fn dispatch(inner: &Rc<Inner>, name: &str, ev: web_sys::Event) {
    let message = ev.dyn_ref::<MessageEvent>();
    let data = message.and_then(|m| m.data().as_string());
    match (name, data) {
        ("open", _) => {
            inner.opened.set(true);
            inner.failures.set(0);
            set_link(inner, Link::Live);
        }
        ("error", Some(data)) => {
            // The server's own error frame: the object is gone, or the stream hiccupped.
            if data.contains("\"gone\"") {
                close(inner);
                set_link(inner, Link::Failed);
            } else {
                retry(inner);
            }
        }
        ("error", None) => retry(inner),
        ("end", data) => {
            close(inner);
            set_link(inner, Link::Ended);
            (inner.on_event)("end", data.as_deref().unwrap_or("{}"));
        }
        (name, Some(data)) => {
            if name == "log" {
                if let Some(id) = message.and_then(|m| m.last_event_id().parse::<i64>().ok()) {
                    inner.last_id.set(inner.last_id.get().max(id));
                }
            }
            (inner.on_event)(name, &data);
        }
        _ => {}
    }
}

/// Gives up after this many failed connections in a row (the panel then offers a retry).
const MAX_FAILURES: u32 = 10;

/// Rebuilds the source, with a new ticket, after a delay that grows with consecutive failures
/// (1 s … 15 s).
fn retry(inner: &Rc<Inner>) {
    close(inner);
    if inner.path.borrow().is_none() {
        return;
    }
    let failures = inner.failures.get().saturating_add(1);
    inner.failures.set(failures);
    if failures > MAX_FAILURES {
        set_link(inner, Link::Failed);
        return;
    }
    set_link(inner, Link::Reconnecting);
    let delay = Duration::from_secs((1u64 << (failures.min(5) - 1)).min(15));
    let weak = Rc::downgrade(inner);
    let handle = set_timeout_with_handle(
        move || {
            if let Some(inner) = weak.upgrade() {
                connect(&inner);
            }
        },
        delay,
    )
    .ok();
    *inner.timer.borrow_mut() = handle;
}
