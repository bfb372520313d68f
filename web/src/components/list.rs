//! The parts of a list page: its header, the search toolbar with its filters, and the paged
//! list below with its loading, error and empty states.

use crate::api;
use crate::components::feedback::{Empty, ErrorBanner, SkeletonRows};
use crate::components::pager::Pager;
use crate::remote::{remote, Remote};
use crate::search::Search;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use shared::dto::Page;

/// The title and one-line description of a page; the children are its actions.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into)] description: TextProp,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <header class="page-header">
            <div>
                <h1>{title}</h1>
                <p class="muted">{move || description.get()}</p>
            </div>
            {children.map(|c| c())}
        </header>
    }
}

/// The primary "+ New …" button of a page header.
#[component]
pub fn NewButton(
    label: &'static str,
    #[prop(into)] on_click: Callback<()>,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button type="button" class="btn btn-primary" data-testid=testid on:click=move |_| on_click.run(())>
            <span aria-hidden="true">"+ "</span>
            {label}
        </button>
    }
}

/// The toolbar with the search box; the children are further filters.
#[component]
pub fn SearchBar(
    search: Search,
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    /// The input's `name`, where it has one.
    #[prop(optional)]
    name: Option<&'static str>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <form
            class="toolbar"
            role="search"
            on:submit=move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                search.apply();
            }
        >
            <div class="field field-inline grow">
                <label for=id>{label}</label>
                <input
                    id=id
                    type="search"
                    name=name
                    placeholder=placeholder
                    prop:value=move || search.input.get()
                    on:input=move |ev| search.on_input(ev)
                />
            </div>
            {children.map(|c| c())}
        </form>
    }
}

/// A select of the toolbar: picking a value sends the list back to its first page. The
/// children are the options.
#[component]
pub fn FilterSelect(
    id: &'static str,
    label: &'static str,
    #[prop(optional)] name: Option<&'static str>,
    value: RwSignal<String>,
    page: RwSignal<u64>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="field field-inline">
            <label for=id>{label}</label>
            <select
                id=id
                name=name
                prop:value=move || value.get()
                on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    page.set(1);
                }
            >
                {children()}
            </select>
        </div>
    }
}

/// Loads `page` of `path`, `per_page` at a time, with the non-empty `filters`; reloads when
/// the page or a filter changes.
pub fn paged_remote<T>(
    path: &'static str,
    page: RwSignal<u64>,
    per_page: u64,
    filters: impl Fn() -> Vec<(&'static str, String)> + 'static,
) -> Remote<Page<T>>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    remote::<Page<T>>(move || {
        let mut params = vec![
            ("page", page.get().to_string()),
            ("per_page", per_page.to_string()),
        ];
        params.extend(filters());
        api::with_query(path, &params)
    })
}

/// The list of `items`: skeleton rows while it loads, the error with a retry, `empty()`'s
/// title and hint when there is nothing, else `table` and the pager counting `noun`.
pub fn paged_list<T, V>(
    items: Remote<Page<T>>,
    page: RwSignal<u64>,
    noun: (&'static str, &'static str),
    empty: impl Fn() -> (&'static str, &'static str) + Send + Sync + 'static,
    table: impl Fn(Vec<T>) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let retry = Callback::new(move |_| items.refetch());
    move || match items.get() {
        None => view! { <SkeletonRows /> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
        Some(Ok(result)) if result.items.is_empty() => {
            let (title, hint) = empty();
            view! { <Empty title=title hint=hint /> }.into_any()
        }
        Some(Ok(result)) => {
            let (total, per_page) = (result.total, result.per_page);
            view! {
                {table(result.items)}
                <Pager page=page total=total per_page=per_page noun=noun />
            }
            .into_any()
        }
    }
}

/// A list loaded whole: `rows` skeleton rows while it loads, the error with a retry, `empty`
/// when there is nothing, else `table`.
pub fn loaded_list<T, E, V>(
    items: Remote<Vec<T>>,
    rows: usize,
    empty: impl Fn() -> E + Send + Sync + 'static,
    table: impl Fn(Vec<T>) -> V + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    E: IntoView + 'static,
    V: IntoView + 'static,
{
    let retry = Callback::new(move |_| items.refetch());
    move || match items.get() {
        None => view! { <SkeletonRows rows=rows /> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
        Some(Ok(list)) if list.is_empty() => empty().into_any(),
        Some(Ok(list)) => table(list).into_any(),
    }
}
