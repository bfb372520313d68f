//! The catalogue of resource types: what teams can request, and whether Provisio sets it up with
//! a shipped recipe or a technical agent does by hand. Administrators add, change and retire
//! types here.

use crate::api;
use crate::components::feedback::{use_toasts, Empty, ErrorBanner, Loading};
use crate::components::form::{
    apply_problem, Errors, FormActions, FormBanner, PickField, TextArea, TextField,
};
use crate::components::list::NewButton;
use crate::components::modal::Modal;
use crate::format::category_label;
use crate::remote::{remote, Remote};
use crate::session::use_session;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::dto::{ResourceCategory, ResourceType};
use shared::resources::{type_slug, Provisioning, SaveResourceType};
use shared::validation::{display_text, FieldErrors};
use shared::Permission;

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

fn category_value(c: ResourceCategory) -> &'static str {
    match c {
        ResourceCategory::Storage => "storage",
        ResourceCategory::Database => "database",
        ResourceCategory::Bigdata => "bigdata",
    }
}

#[component]
pub fn ResourceTypesPage() -> impl IntoView {
    let types = remote::<Vec<ResourceType>>(|| "/api/resource-types".into());
    let retry = Callback::new(move |_| types.refetch());
    let manages = use_session().can(Permission::ResourceTypesManage);
    // `Some(None)`: a new type; `Some(Some(t))`: editing `t`.
    let editing = RwSignal::new(None::<Option<ResourceType>>);
    view! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>"Resource types"</h1>
                    <p class="muted">
                        "The catalogue of resources teams can request. Provisio sets up those with a recipe on the team's server; a technical agent sets up the others by hand."
                    </p>
                </div>
                <div class="actions">
                    <A href="/resources" attr:class="btn btn-ghost">"Request a resource"</A>
                    {manages.then(|| view! {
                        <NewButton label="New type" on_click=move |_| editing.set(Some(None)) testid="new-resource-type" />
                    })}
                </div>
            </header>
            {move || match types.get() {
                None => view! { <Loading /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(list)) if list.is_empty() => {
                    view! {
                        <Empty
                            title="The catalogue is empty"
                            hint="An administrator adds the types teams may request with “New type”."
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
                            items.sort_by_key(|t| (t.retired, t.name.to_ascii_lowercase()));
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
                                                    .map(|t| view! { <TypeCard t=t manages=manages editing=editing /> })
                                                    .collect_view()}
                                            </div>
                                        </section>
                                    }
                                })
                        })
                        .collect_view()
                        .into_any()
                }
            }}
            {move || editing.get().map(|t| view! {
                <TypeDialog existing=t types=types on_close=move |_| editing.set(None) />
            })}
        </section>
    }
}

#[component]
fn TypeCard(
    t: ResourceType,
    manages: bool,
    editing: RwSignal<Option<Option<ResourceType>>>,
) -> impl IntoView {
    let how = match &t.recipe {
        Some(r) => format!("Set up by Provisio: {}", r.engine),
        None => "Set up by hand by a technical agent".to_string(),
    };
    let badge = match t.provisioning {
        Provisioning::Recipe => ("badge req req-deployed", "recipe"),
        Provisioning::Manual => ("badge req req-pending", "by hand"),
    };
    let edit = t.clone();
    view! {
        <article
            class=if t.retired { "card resource-card retired" } else { "card resource-card" }
            data-testid=format!("type-{}", t.slug)
        >
            <h3>
                {t.name.clone()} " "
                <span class=badge.0>{badge.1}</span>
                {t.retired.then(|| view! { " " <span class="badge req req-cancelled">"retired"</span> })}
            </h3>
            <p class="mono small muted">{t.slug.clone()}</p>
            <p>{t.description.clone()}</p>
            <p class="muted small">{how}</p>
            {manages.then(|| view! {
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| editing.set(Some(Some(edit.clone())))>
                    "Edit"
                </button>
            })}
        </article>
    }
}

/// Adds a type, or changes (and retires) one; its slug stays as created.
#[component]
fn TypeDialog(
    existing: Option<ResourceType>,
    types: Remote<Vec<ResourceType>>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let editing_id = existing.as_ref().map(|t| t.id);
    let slug = RwSignal::new(
        existing
            .as_ref()
            .map(|t| t.slug.clone())
            .unwrap_or_default(),
    );
    let name = RwSignal::new(
        existing
            .as_ref()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
    );
    let description = RwSignal::new(
        existing
            .as_ref()
            .map(|t| t.description.clone())
            .unwrap_or_default(),
    );
    let category = RwSignal::new(
        existing
            .as_ref()
            .map(|t| category_value(t.category).to_string())
            .unwrap_or_else(|| "database".into()),
    );
    let recipe = RwSignal::new(
        existing
            .as_ref()
            .and_then(|t| t.recipe.as_ref().map(|r| r.slug.clone()))
            .unwrap_or_default(),
    );
    let retired = RwSignal::new(existing.as_ref().is_some_and(|t| t.retired));
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    // The shipped recipes, as the catalogue's types name them.
    let recipes = Signal::derive(move || {
        let mut found: Vec<(String, String)> = vec![(String::new(), "None: set up by hand".into())];
        if let Some(Ok(list)) = types.get() {
            for r in list.into_iter().filter_map(|t| t.recipe) {
                if !found.iter().any(|(s, _)| *s == r.slug) {
                    found.push((r.slug.clone(), format!("{} recipe", r.slug)));
                }
            }
        }
        found
    });
    let categories = Signal::derive(|| {
        CATEGORIES
            .iter()
            .map(|(c, _, _)| {
                (
                    category_value(*c).to_string(),
                    category_label(*c).to_string(),
                )
            })
            .collect::<Vec<_>>()
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let chosen = recipe.get_untracked();
        let body = SaveResourceType {
            slug: slug.get_untracked().trim().to_owned(),
            name: name.get_untracked().trim().to_owned(),
            category: match category.get_untracked().as_str() {
                "storage" => ResourceCategory::Storage,
                "bigdata" => ResourceCategory::Bigdata,
                _ => ResourceCategory::Database,
            },
            description: description.get_untracked().trim().to_owned(),
            provisioning: if chosen.is_empty() {
                Provisioning::Manual
            } else {
                Provisioning::Recipe
            },
            recipe: (!chosen.is_empty()).then_some(chosen),
            retired: retired.get_untracked(),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if let Err(m) = type_slug(&body.slug) {
            problems.entry("slug".into()).or_insert_with(|| vec![m]);
        }
        if let Err(m) = display_text(&body.name, 2, 80) {
            problems.entry("name".into()).or_insert_with(|| vec![m]);
        }
        if !problems.is_empty() {
            errors.set(problems);
            return;
        }
        task::run(
            pending,
            async move {
                match editing_id {
                    Some(id) => {
                        api::put::<_, ResourceType>(&format!("/api/resource-types/{id}"), &body)
                            .await
                    }
                    None => api::post::<_, ResourceType>("/api/resource-types", &body).await,
                }
            },
            move |result| match result {
                Ok(t) => {
                    toasts.success(format!("{} saved", t.name));
                    types.refetch();
                    on_close.run(());
                }
                Err(e) => banner.set(apply_problem(
                    &e,
                    errors,
                    &[
                        "slug",
                        "name",
                        "category",
                        "description",
                        "recipe",
                        "provisioning",
                    ],
                )),
            },
        );
    };
    let title = match &existing {
        Some(t) => format!("Edit {}", t.name),
        None => "New resource type".to_string(),
    };
    let fixed = existing.is_some();
    view! {
        <Modal title=title on_close=on_close>
            <form class="form" on:submit=on_submit novalidate data-testid="resource-type-form">
                <FormBanner banner=banner />
                {if fixed {
                    view! { <p class="muted">"Slug: " <span class="mono">{slug.get_untracked()}</span> " (requests name it; it stays as created)"</p> }.into_any()
                } else {
                    view! {
                        <TextField id="type-slug" label="Slug" value=slug errors=errors field="slug" required=true
                            hint="Lower-case words joined by -, e.g. db-mysql." />
                    }.into_any()
                }}
                <TextField id="type-name" label="Name" value=name errors=errors field="name" required=true />
                <PickField id="type-category" label="Category" field="category" errors=errors value=category options=categories />
                <TextArea id="type-description" label="Description" value=description errors=errors field="description" />
                <PickField
                    id="type-recipe"
                    label="Recipe"
                    field="recipe"
                    errors=errors
                    value=recipe
                    options=recipes
                    hint=Signal::derive(|| "With a recipe Provisio installs it on the team's server; without one it goes to the technical agents' queue.".to_string())
                />
                {fixed.then(|| view! {
                    <label class="check check-field" for="type-retired">
                        <input
                            type="checkbox"
                            id="type-retired"
                            prop:checked=move || retired.get()
                            on:change=move |ev| retired.set(event_target_checked(&ev))
                        />
                        "Retired: no new requests (existing resources stay)"
                    </label>
                })}
                <FormActions pending=pending label="Save" busy="Saving…" on_cancel=on_close testid="resource-type-save" />
            </form>
        </Modal>
    }
}
