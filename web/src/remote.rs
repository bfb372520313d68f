//! Data loaded from the API for a view. A small stand-in for `LocalResource`: one effect
//! and one spawned request per load, which keeps the wasm noticeably smaller.

use crate::api::{self, ApiErrorView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use std::rc::Rc;
use std::time::Duration;
use uuid::Uuid;

pub type Loaded<T> = Option<Result<T, ApiErrorView>>;

/// The latest answer stays visible while a reload is in flight, so lists don't flash.
pub struct Remote<T: Send + Sync + 'static> {
    value: RwSignal<Loaded<T>>,
    trigger: RwSignal<u32>,
    latest: StoredValue<u32>,
}

impl<T: Send + Sync + 'static> Clone for Remote<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Remote<T> {}

impl<T: Clone + Send + Sync + 'static> Remote<T> {
    /// `None` until the first answer arrives.
    pub fn get(&self) -> Loaded<T> {
        self.value.get()
    }

    pub fn refetch(&self) {
        self.trigger.update(|n| *n = n.wrapping_add(1));
    }

    /// Shows `value` (e.g. the answer to a mutation) and drops any load still in flight.
    pub fn set(&self, value: T) {
        self.latest.update_value(|n| *n = n.wrapping_add(1));
        self.value.set(Some(Ok(value)));
    }

    /// The latest answer, without tracking.
    pub fn get_untracked(&self) -> Loaded<T> {
        self.value.try_get_untracked().flatten()
    }

    /// The loaded value, without tracking.
    pub fn loaded_untracked(&self) -> Option<T> {
        self.value
            .try_get_untracked()
            .flatten()
            .and_then(Result::ok)
    }
}

/// Reloads `remote` every `secs` seconds while `when` holds, until the owner is disposed.
pub fn poll<T: Clone + Send + Sync + 'static>(
    remote: Remote<T>,
    secs: u64,
    when: impl Fn(&Remote<T>) -> bool + 'static,
) {
    poll_every(remote, Duration::from_secs(secs), when);
}

/// [`poll`] at a period finer than a second.
pub fn poll_every<T: Clone + Send + Sync + 'static>(
    remote: Remote<T>,
    period: Duration,
    when: impl Fn(&Remote<T>) -> bool + 'static,
) {
    let handle = set_interval_with_handle(
        move || {
            if when(&remote) {
                remote.refetch();
            }
        },
        period,
    )
    .ok();
    on_cleanup(move || {
        if let Some(h) = handle {
            h.clear();
        }
    });
}

/// Loads `url()` now and again whenever a signal it reads (or `refetch`) changes. Answers
/// to superseded requests are dropped, so a slow old search can't overwrite a newer one.
pub fn remote<T>(url: impl Fn() -> String + 'static) -> Remote<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let value = RwSignal::new(None);
    let trigger = RwSignal::new(0u32);
    let latest = StoredValue::new(0u32);
    // Only the parse is generic: the effect and the request future exist once in the wasm.
    load(
        Box::new(url),
        trigger,
        latest,
        Rc::new(move |answer| {
            value.set(Some(answer.and_then(api::parse::<T>)));
        }),
    );
    Remote {
        value,
        trigger,
        latest,
    }
}

type Answer = Result<(u16, String), ApiErrorView>;

fn load(
    url: Box<dyn Fn() -> String>,
    trigger: RwSignal<u32>,
    latest: StoredValue<u32>,
    deliver: Rc<dyn Fn(Answer)>,
) {
    Effect::new(move |_| {
        trigger.track();
        let url = url();
        let Some(ticket) = latest.try_update_value(|n| {
            *n = n.wrapping_add(1);
            *n
        }) else {
            return;
        };
        let deliver = deliver.clone();
        spawn_local(async move {
            let answer = api::get_raw(&url).await;
            if latest.try_get_value() == Some(ticket) {
                deliver(answer);
            }
        });
    });
}

/// The `:id` of the current route, as a memo that changes when the route does.
pub fn use_route_id() -> Memo<String> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()))
}

/// What a detail page shows of `remote`: the last good answer stays while a reload fails,
/// but never one of another item than the route's `id` (`id_of` names an item's id).
pub fn shown_at<T>(
    remote: Remote<T>,
    id: Memo<String>,
    id_of: impl Fn(&T) -> Uuid + Send + Sync + 'static,
) -> Memo<Option<T>>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    Memo::new(move |prev: Option<&Option<T>>| {
        let current = id.get();
        let latest = match remote.get() {
            Some(Ok(item)) => Some(item),
            _ => prev.cloned().flatten(),
        };
        latest.filter(|item| id_of(item).to_string() == current)
    })
}

/// The error of the latest load, while there is one.
pub fn failure_of<T: Clone + Send + Sync + 'static>(
    remote: Remote<T>,
) -> Memo<Option<ApiErrorView>> {
    Memo::new(move |_| match remote.get() {
        Some(Err(e)) => Some(e),
        _ => None,
    })
}

/// The item of a detail page, loaded from `{path}/{id}` for the route's `:id`.
pub struct Detail<T: Send + Sync + 'static> {
    pub id: Memo<String>,
    pub remote: Remote<T>,
    /// See [`shown_at`].
    pub shown: Memo<Option<T>>,
    /// Something is shown.
    pub loaded: Memo<bool>,
    pub failure: Memo<Option<ApiErrorView>>,
}

impl<T: Send + Sync + 'static> Clone for Detail<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Detail<T> {}

/// Loads the item of a detail page; `id_of` names an item's id.
pub fn use_detail<T>(
    path: &'static str,
    id_of: impl Fn(&T) -> Uuid + Send + Sync + 'static,
) -> Detail<T>
where
    T: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    let id = use_route_id();
    let remote = remote::<T>(move || format!("{path}/{}", api::encode(&id.get())));
    let shown = shown_at(remote, id, id_of);
    Detail {
        id,
        remote,
        shown,
        loaded: Memo::new(move |_| shown.with(Option::is_some)),
        failure: failure_of(remote),
    }
}
