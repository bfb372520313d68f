//! A monospace editor for playbooks: a textarea with a line-number gutter. The lines that the
//! field's messages name ("line 5, column 3: …") are marked in the gutter, and each such
//! message, listed under the editor, moves the caret to its line.

use crate::components::form::{described_by, Errors};
use leptos::html;
use leptos::prelude::*;
use shared::scripts::error_line;

#[component]
pub fn CodeEditor(
    /// Unique DOM id of the textarea.
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    /// Where the messages about `field` come from; none for a read-only view.
    #[prop(optional)]
    errors: Option<Errors>,
    #[prop(default = "content")] field: &'static str,
    #[prop(optional)] readonly: bool,
    #[prop(default = 18)] rows: u32,
    #[prop(optional)] hint: Option<&'static str>,
    /// `data-testid` of the textarea, for the browser tests.
    #[prop(optional)]
    testid: Option<&'static str>,
) -> impl IntoView {
    let input = NodeRef::<html::Textarea>::new();
    let gutter = NodeRef::<html::Div>::new();
    let line_count = Memo::new(move |_| value.with(|v| v.split('\n').count()));
    let messages = Memo::new(move |_| {
        errors
            .map(|e| e.with(|e| e.get(field).cloned().unwrap_or_default()))
            .unwrap_or_default()
    });
    let marked_lines = Memo::new(move |_| {
        messages.with(|m| m.iter().filter_map(|m| error_line(m)).collect::<Vec<_>>())
    });
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = described_by(hint.map(|_| hint_id.clone()), error_id.clone(), move || {
        messages.with(|m| !m.is_empty())
    });
    let follow_scroll = move |_| {
        if let (Some(text), Some(numbers)) = (input.get_untracked(), gutter.get_untracked()) {
            numbers.set_scroll_top(text.scroll_top());
        }
    };
    let go_to_line = move |line: usize| {
        let Some(text) = input.get_untracked() else {
            return;
        };
        // Selection offsets count UTF-16 code units, as the DOM does.
        let mut start = 0u32;
        for (number, content) in value.get_untracked().split('\n').enumerate() {
            let length = content.encode_utf16().count() as u32;
            if number + 1 == line {
                let _ = text.focus();
                let _ = text.set_selection_range(start, start + length);
                let line_height =
                    f64::from(text.scroll_height()) / line_count.get_untracked().max(1) as f64;
                let top = (line - 1) as f64 * line_height - f64::from(text.client_height()) / 3.0;
                text.set_scroll_top(top.max(0.0) as i32);
                return;
            }
            start += length + 1;
        }
    };

    view! {
        <div class="field">
            <label for=id>{label}</label>
            <div
                class="code-editor"
                class:code-editor-invalid=move || messages.with(|m| !m.is_empty())
                class:code-editor-readonly=readonly
            >
                <div class="code-gutter" node_ref=gutter aria-hidden="true">
                    <div class="code-gutter-lines">
                        <For
                            each=move || 1..=line_count.get()
                            key=|n| *n
                            children=move |n| {
                                view! {
                                    <span
                                        class="gutter-line"
                                        class:gutter-error=move || marked_lines.with(|l| l.contains(&n))
                                    >
                                        {n}
                                    </span>
                                }
                            }
                        />
                    </div>
                </div>
                <textarea
                    id=id
                    name=field
                    class="code-input"
                    rows=rows
                    wrap="off"
                    spellcheck="false"
                    autocomplete="off"
                    autocapitalize="off"
                    readonly=readonly
                    data-testid=testid
                    node_ref=input
                    aria-invalid=move || messages.with(|m| !m.is_empty()).then_some("true")
                    aria-describedby=described
                    bind:value=value
                    on:scroll=follow_scroll
                ></textarea>
            </div>
            {hint.map(|h| view! { <p class="field-hint" id=hint_id>{h}</p> })}
            {move || {
                let list = messages.get();
                (!list.is_empty())
                    .then(|| {
                        view! {
                            <ul class="code-errors" id=error_id.clone()>
                                {list
                                    .into_iter()
                                    .map(|message| {
                                        let item = match error_line(&message) {
                                            Some(line) => {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="link-button code-error-link"
                                                        title=format!("Go to line {line}")
                                                        on:click=move |_| go_to_line(line)
                                                    >
                                                        {message}
                                                    </button>
                                                }
                                                    .into_any()
                                            }
                                            None => view! { <span>{message}</span> }.into_any(),
                                        };
                                        view! { <li class="field-error">{item}</li> }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                    })
            }}
        </div>
    }
}
