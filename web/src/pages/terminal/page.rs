//! The terminal page: the transcript, the status line and the command prompt.

use super::history::History;
use super::output::OutputParser;
use super::session::{Link, Term, Tone, RULER_CHARS};
use crate::format::span;
use crate::remote::use_route_id;
use leptos::ev;
use leptos::html;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::terminal::{split_command_line, ClientMessage};

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
                (list, span(u64::from(r.settings.idle_timeout_secs)))
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
                                        on:click=move |_| term.connect()
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
