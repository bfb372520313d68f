//! Runs API mutations for forms and buttons. Lighter than `Action` + `Effect` (which matters
//! for the wasm size) and safe when the dialog that started the call closes before it ends.

use crate::api::ApiErrorView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// Starts `call` unless one is already running; `done` runs only while the component that
/// owns `pending` is still mounted (a disposed signal means it was unmounted).
pub fn run<T: 'static>(
    pending: RwSignal<bool>,
    call: impl Future<Output = Result<T, ApiErrorView>> + 'static,
    done: impl FnOnce(Result<T, ApiErrorView>) + 'static,
) {
    if pending.try_get_untracked() != Some(false) {
        return;
    }
    pending.set(true);
    spawn_local(async move {
        let result = call.await;
        if pending.try_get_untracked().is_some() {
            pending.set(false);
            done(result);
        }
    });
}
