//! A list's search box: what is typed applies after a short pause (or at once on Enter) and
//! sends the list back to its first page.

use leptos::leptos_dom::helpers::{set_timeout_with_handle, TimeoutHandle};
use leptos::prelude::*;
use std::time::Duration;

#[derive(Clone, Copy)]
pub struct Search {
    /// What the box shows; `q` follows it once applied.
    pub input: RwSignal<String>,
    q: RwSignal<String>,
    page: RwSignal<u64>,
    timer: StoredValue<Option<TimeoutHandle>, LocalStorage>,
}

/// A search feeding `q` and resetting `page`; its pending timer is cleared with the component.
pub fn use_search(q: RwSignal<String>, page: RwSignal<u64>) -> Search {
    let search = Search {
        input: RwSignal::new(q.get_untracked()),
        q,
        page,
        timer: StoredValue::new_local(None),
    };
    on_cleanup(move || search.stop_timer());
    search
}

impl Search {
    fn stop_timer(self) {
        if let Some(Some(handle)) = self.timer.try_update_value(|t| t.take()) {
            handle.clear();
        }
    }

    pub fn apply(self) {
        self.stop_timer();
        let term = self.input.get_untracked().trim().to_owned();
        if self.q.get_untracked() != term {
            self.q.set(term);
            self.page.set(1);
        }
    }

    pub fn on_input(self, ev: leptos::ev::Event) {
        self.input.set(event_target_value(&ev));
        self.stop_timer();
        let handle = set_timeout_with_handle(move || self.apply(), Duration::from_millis(300)).ok();
        self.timer.set_value(handle);
    }
}
