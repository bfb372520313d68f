//! Data loaded from the API for a view. A small stand-in for `LocalResource`: one effect
//! and one spawned request per load, which keeps the wasm noticeably smaller.

use crate::api::{self, ApiErrorView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;

pub type Loaded<T> = Option<Result<T, ApiErrorView>>;

/// The latest answer stays visible while a reload is in flight, so lists don't flash.
pub struct Remote<T: Send + Sync + 'static> {
    value: RwSignal<Loaded<T>>,
    trigger: RwSignal<u32>,
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
    Effect::new(move |_| {
        trigger.track();
        let url = url();
        let Some(ticket) = latest.try_update_value(|n| {
            *n = n.wrapping_add(1);
            *n
        }) else {
            return;
        };
        spawn_local(async move {
            let result = api::get::<T>(&url).await;
            if latest.try_get_value() == Some(ticket) {
                value.set(Some(result));
            }
        });
    });
    Remote { value, trigger }
}
