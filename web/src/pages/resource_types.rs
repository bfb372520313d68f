use leptos::prelude::*;

#[component]
pub fn ResourceTypesPage() -> impl IntoView {
    view! { <p>"todo"</p> }
}
