use leptos::prelude::*;

#[component]
pub fn TeamsPage() -> impl IntoView {
    view! { <p>"todo"</p> }
}
