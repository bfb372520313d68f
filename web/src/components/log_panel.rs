//! The live log of executions, servers and requests: a dark monospace panel that follows the
//! newest line unless the reader scrolled up, with the stream's connection state.

use crate::format::{clock, datetime};
use crate::live::Link;
use leptos::html;
use leptos::prelude::*;
use shared::servers::LogLine;

/// Lines kept in memory; older ones are dropped first.
const MAX_LINES: usize = 5000;

/// Adds the `LogLine` JSON of a `log` event, once (a resumed stream may repeat a line).
pub fn push_line(lines: RwSignal<Vec<LogLine>>, data: &str) {
    let Ok(line) = serde_json::from_str::<LogLine>(data) else {
        return;
    };
    lines.update(|all| {
        match all.last() {
            None => all.push(line),
            Some(last) if last.id < line.id => all.push(line),
            _ => {
                if let Err(at) = all.binary_search_by_key(&line.id, |l| l.id) {
                    all.insert(at, line);
                }
            }
        }
        if all.len() > MAX_LINES {
            let extra = all.len() - MAX_LINES;
            all.drain(..extra);
        }
    });
}

fn link_view(link: Link, on_retry: Option<Callback<()>>) -> impl IntoView {
    let (class, text) = match link {
        Link::Idle => ("log-link", ""),
        Link::Connecting => ("log-link", "connecting…"),
        Link::Live => ("log-link log-live", "live"),
        Link::Reconnecting => ("log-link log-reconnecting", "reconnecting…"),
        Link::Ended => ("log-link", "finished"),
        Link::Failed => ("log-link log-failed", "disconnected"),
    };
    view! {
        <span class=class data-testid="log-link" data-state=link.as_str()>
            {text}
        </span>
        {(link == Link::Failed)
            .then(|| {
                on_retry
                    .map(|retry| {
                        view! {
                            <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| retry.run(())>
                                "Reconnect"
                            </button>
                        }
                    })
            })}
    }
}

#[component]
pub fn LogPanel(
    #[prop(into)] lines: Signal<Vec<LogLine>>,
    #[prop(into)] link: Signal<Link>,
    #[prop(into)] title: Signal<String>,
    /// Shown while there is no line.
    #[prop(default = "No output yet.")]
    empty: &'static str,
    #[prop(optional, into)] on_retry: Option<Callback<()>>,
    /// Extra controls in the header (e.g. close, cancel).
    #[prop(optional)]
    actions: Option<ChildrenFn>,
) -> impl IntoView {
    let body = NodeRef::<html::Div>::new();
    let stick = StoredValue::new(true);
    let unseen = RwSignal::new(false);

    Effect::new(move |_| {
        let count = lines.with(Vec::len);
        let Some(el) = body.get() else {
            return;
        };
        if stick.get_value() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        } else if count > 0 {
            unseen.set(true);
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = body.get_untracked() {
            let at_bottom = el.scroll_top() + el.client_height() >= el.scroll_height() - 24;
            stick.set_value(at_bottom);
            if at_bottom {
                unseen.set(false);
            }
        }
    };
    let jump = move |_| {
        stick.set_value(true);
        unseen.set(false);
        if let Some(el) = body.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };

    view! {
        <div class="log-panel" data-testid="log-panel" data-link=move || link.get().as_str()>
            <div class="log-head">
                <h3 class="log-title">{move || title.get()}</h3>
                <div class="log-tools">
                    {move || link_view(link.get(), on_retry)}
                    {actions.clone().map(|a| a())}
                </div>
            </div>
            <div
                class="log-body"
                node_ref=body
                role="log"
                aria-label=move || title.get()
                tabindex="0"
                on:scroll=on_scroll
            >
                {move || {
                    lines.with(Vec::is_empty).then(|| view! { <p class="log-empty">{empty}</p> })
                }}
                <For
                    each=move || lines.get()
                    key=|l| l.id
                    children=move |l| {
                        let at = l.at;
                        let class = format!("log-line log-{}", l.stream);
                        view! {
                            <div class=class data-testid="log-line" data-stream=l.stream>
                                <time class="log-time" title=datetime(&at)>
                                    {clock(&at)}
                                </time>
                                <span class="log-text">{l.text}</span>
                            </div>
                        }
                    }
                />
            </div>
            {move || {
                unseen
                    .get()
                    .then(|| {
                        view! {
                            <button type="button" class="btn btn-primary btn-sm log-jump" on:click=jump>
                                "↓ New lines"
                            </button>
                        }
                    })
            }}
        </div>
    }
}
