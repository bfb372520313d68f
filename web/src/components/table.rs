//! The table shell every list uses: the scrolling wrapper, the header row from a list of
//! columns, and the rows the caller renders.

use leptos::prelude::*;

/// A header cell.
#[derive(Clone, Copy)]
pub enum Col {
    Text(&'static str),
    /// Right-aligned, for counts and versions.
    Num(&'static str),
    /// The row buttons: named for screen readers only.
    Actions,
}

impl Col {
    fn header(self) -> AnyView {
        match self {
            Col::Text(label) => view! { <th scope="col">{label}</th> }.into_any(),
            Col::Num(label) => view! { <th scope="col" class="num">{label}</th> }.into_any(),
            Col::Actions => view! {
                <th scope="col">
                    <span class="sr-only">"Actions"</span>
                </th>
            }
            .into_any(),
        }
    }
}

#[component]
pub fn DataTable(
    #[prop(into)] columns: Vec<Col>,
    /// Denser rows (`table-compact`).
    #[prop(optional)]
    compact: bool,
    /// Without the wrapper's frame, inside a card (`table-flat`).
    #[prop(optional)]
    flat: bool,
    #[prop(optional)] testid: Option<&'static str>,
    /// Read by screen readers only.
    #[prop(optional)]
    caption: Option<&'static str>,
    /// The `<tr>` rows.
    children: Children,
) -> impl IntoView {
    view! {
        <div class=if flat { "table-wrap table-flat" } else { "table-wrap" }>
            <table class=if compact { "table table-compact" } else { "table" } data-testid=testid>
                {caption.map(|c| view! { <caption class="sr-only">{c}</caption> })}
                <thead>
                    <tr>{columns.into_iter().map(Col::header).collect_view()}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// A row's button that opens the dialog about `item`: `target` holds it while it is open.
#[component]
pub fn OpenButton<T: Clone + Send + Sync + 'static>(
    label: &'static str,
    target: RwSignal<Option<T>>,
    item: T,
) -> impl IntoView {
    view! {
        <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| target.set(Some(item.clone()))>
            {label}
        </button>
    }
}
