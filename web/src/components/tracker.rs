//! The step tracker of a pipeline (provisioning, deployment): one numbered mark a step,
//! ticked when done, crossed when it failed, with its state spoken to screen readers.

use leptos::prelude::*;

/// `states` holds `done`, `current`, `failed` or `pending` for each of `steps`.
#[component]
pub fn Tracker(
    /// The list's `aria-label`.
    label: &'static str,
    steps: &'static [&'static str],
    #[prop(into)] states: Signal<Vec<&'static str>>,
) -> impl IntoView {
    view! {
        <ol class="tracker" aria-label=label>
            {move || {
                steps
                    .iter()
                    .zip(states.get())
                    .enumerate()
                    .map(|(i, (label, state))| {
                        let mark = match state {
                            "done" => "✓".to_string(),
                            "failed" => "✗".to_string(),
                            _ => (i + 1).to_string(),
                        };
                        let spoken = match state {
                            "done" => " (done)",
                            "failed" => " (failed)",
                            "current" => " (in progress)",
                            _ => "",
                        };
                        view! {
                            <li
                                class=format!("track track-{state}")
                                data-testid="step"
                                data-state=state
                                aria-current=(state == "current").then_some("step")
                            >
                                <span class="track-mark" aria-hidden="true">
                                    {mark}
                                </span>
                                <span class="track-label">{*label}</span>
                                <span class="sr-only">{spoken}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ol>
    }
}
