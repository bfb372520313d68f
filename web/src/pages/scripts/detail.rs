//! The script pages: a new script, and one script opened at its current or a named version.

use super::form::ScriptEditor;
use crate::api;
use crate::components::feedback::LoadStates;
use crate::remote::{failure_of, remote, use_route_id};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use shared::scripts::Script;

#[component]
pub fn NewScriptPage() -> impl IntoView {
    view! {
        <section class="page">
            <A href="/scripts" attr:class="back-link">
                "← Scripts"
            </A>
            <ScriptEditor initial=None show_version=None />
        </section>
    }
}

#[component]
pub fn ScriptPage() -> impl IntoView {
    let query = use_query_map();
    let id = use_route_id();
    let script = remote::<Script>(move || format!("/api/scripts/{}", api::encode(&id.get())));
    // The editor is built once per script, so a reload never throws away what is typed.
    let loaded_id = Memo::new(move |_| match script.get() {
        Some(Ok(s)) => Some(s.id),
        _ => None,
    });
    let failure = failure_of(script);
    let retry = Callback::new(move |_| script.refetch());
    view! {
        <section class="page">
            <A href="/scripts" attr:class="back-link">
                "← Scripts"
            </A>
            <LoadStates failure=failure loaded=Signal::derive(move || loaded_id.get().is_some()) on_retry=retry />
            {move || {
                loaded_id
                    .get()
                    .map(|_| {
                        let show_version = query
                            .with_untracked(|q| q.get("version").and_then(|v| v.parse::<i32>().ok()));
                        view! { <ScriptEditor initial=script.loaded_untracked() show_version=show_version /> }
                    })
            }}
        </section>
    }
}
