//! Deleting one item of a list after asking: the row's button, the confirmation dialog and the
//! DELETE request, with the server's refusal shown in the dialog.

use crate::api::{self, ApiErrorView};
use crate::components::modal::ConfirmDialog;
use crate::task;
use leptos::prelude::*;

/// The item being asked about, and the state of its removal.
pub struct Removal<T: Send + Sync + 'static> {
    target: RwSignal<Option<T>>,
    pending: RwSignal<bool>,
    error: RwSignal<Option<ApiErrorView>>,
}

impl<T: Send + Sync + 'static> Clone for Removal<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Removal<T> {}

pub fn use_removal<T: Send + Sync + 'static>() -> Removal<T> {
    Removal {
        target: RwSignal::new(None),
        pending: RwSignal::new(false),
        error: RwSignal::new(None),
    }
}

impl<T: Clone + Send + Sync + 'static> Removal<T> {
    /// Opens the dialog about `item`, without the error of an earlier attempt.
    pub fn ask(self, item: T) {
        self.error.set(None);
        self.target.set(Some(item));
    }

    pub fn close(self) {
        self.target.set(None);
    }

    /// Sends DELETE `url`; on success `done` gets the item and the dialog closes.
    pub fn delete(self, url: String, done: impl FnOnce(Option<T>) + 'static) {
        task::run(
            self.pending,
            async move { api::delete(&url).await },
            move |result| match result {
                Ok(()) => {
                    done(self.target.get_untracked());
                    self.close();
                }
                Err(e) => self.error.set(Some(e)),
            },
        );
    }

    /// The dialog while an item is asked about: `text` gives its title and message, `confirm`
    /// runs on the confirm button.
    pub fn dialog(
        self,
        confirm_label: &'static str,
        text: impl Fn(&T) -> (String, String) + Send + Sync + 'static,
        confirm: impl Fn(T) + Clone + Send + Sync + 'static,
    ) -> impl IntoView {
        move || {
            self.target.get().map(|item| {
                let (title, message) = text(&item);
                let confirm = confirm.clone();
                view! {
                    <ConfirmDialog
                        title=title
                        message=message
                        confirm_label=confirm_label
                        on_confirm=move |_| confirm(item.clone())
                        on_cancel=move |_| self.close()
                        pending=self.pending
                        error=self.error
                    />
                }
            })
        }
    }
}

/// The button that asks about removing `item`.
#[component]
pub fn RemoveButton<T: Clone + Send + Sync + 'static>(
    removal: Removal<T>,
    item: T,
    #[prop(default = "Delete")] label: &'static str,
    #[prop(optional, into)] aria_label: Option<String>,
    #[prop(optional)] testid: Option<&'static str>,
    /// A page's own button rather than a row's (no `btn-sm`).
    #[prop(optional)]
    large: bool,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class=if large { "btn btn-danger-ghost" } else { "btn btn-danger-ghost btn-sm" }
            aria-label=aria_label
            data-testid=testid
            on:click=move |_| removal.ask(item.clone())
        >
            {label}
        </button>
    }
}
