use crate::components::feedback::{Empty, ErrorBanner, Loading};
use crate::format::category_label;
use crate::remote::remote;
use leptos::prelude::*;
use shared::dto::{ResourceCategory, ResourceType};

const CATEGORIES: [(ResourceCategory, &str, &str); 3] = [
    (
        ResourceCategory::Storage,
        "▣",
        "Object, block and file storage.",
    ),
    (
        ResourceCategory::Database,
        "◫",
        "Managed relational and document databases.",
    ),
    (
        ResourceCategory::Bigdata,
        "▦",
        "Clusters for analytics and data processing.",
    ),
];

#[component]
pub fn ResourceTypesPage() -> impl IntoView {
    let types = remote::<Vec<ResourceType>>(|| "/api/resource-types".into());
    let retry = Callback::new(move |_| types.refetch());
    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Resource types"</h1>
                    <p class="muted">"The catalogue of resources teams can request."</p>
                </div>
            </header>
            {move || match types.get() {
                    None => view! { <Loading /> }.into_any(),
                        Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                        Some(Ok(list)) if list.is_empty() => {
                            view! {
                                <Empty
                                    title="The catalogue is empty"
                                    hint="No resource types have been configured yet."
                                />
                            }
                                .into_any()
                        }
                        Some(Ok(list)) => {
                            CATEGORIES
                                .into_iter()
                                .map(|(category, icon, blurb)| {
                                    let mut items: Vec<ResourceType> = list
                                        .iter()
                                        .filter(|t| t.category == category)
                                        .cloned()
                                        .collect();
                                    items.sort_by_key(|t| t.name.to_ascii_lowercase());
                                    (!items.is_empty())
                                        .then(|| {
                                            let count = items.len();
                                            view! {
                                                <section class="category">
                                                    <header class="category-header">
                                                        <h2>
                                                            <span class="category-icon" aria-hidden="true">{icon}</span>
                                                            {category_label(category)}
                                                            <span class="count">{count}</span>
                                                        </h2>
                                                        <p class="muted">{blurb}</p>
                                                    </header>
                                                    <div class="card-grid">
                                                        {items
                                                            .into_iter()
                                                            .map(|t| {
                                                                view! {
                                                                    <article class="card resource-card">
                                                                        <h3>{t.name}</h3>
                                                                        <p class="mono small muted">{t.slug}</p>
                                                                        <p>{t.description}</p>
                                                                    </article>
                                                                }
                                                            })
                                                            .collect_view()}
                                                    </div>
                                                </section>
                                            }
                                        })
                                })
                                .collect_view()
                                .into_any()
                        }
                    }
                }
        </section>
    }
}
