//! The settings of a resource that may change in place (e.g. its connection limit), changed
//! through its recipe.

use crate::api;
use crate::components::feedback::use_toasts;
use crate::components::form::{apply_problem, field_message, Errors, FormActions, FormBanner};
use crate::remote::{remote, Remote};
use crate::task;
use leptos::prelude::*;
use serde_json::{Map, Value};
use shared::dto::ResourceType;
use shared::resources::{ParameterKind, ResizeResource, Resource};
use shared::validation::FieldErrors;

#[component]
pub(super) fn ResizeForm(resource: Resource, remote_resource: Remote<Resource>) -> impl IntoView {
    let toasts = use_toasts();
    let types = remote::<Vec<ResourceType>>(|| "/api/resource-types".into());
    let slug = resource.resource_type.slug.clone();
    let current = resource.parameters.clone();
    let id = resource.id;
    let fields = Memo::new(move |_| match types.get() {
        Some(Ok(list)) => list
            .into_iter()
            .find(|t| t.slug == slug)
            .and_then(|t| t.recipe)
            .map(|r| {
                r.parameters
                    .into_iter()
                    .filter(|p| p.resizable)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    });
    let values = RwSignal::new(Map::<String, Value>::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = ResizeResource {
            parameters: values.get_untracked(),
        };
        task::run(
            pending,
            async move { api::post::<_, Resource>(&format!("/api/resources/{id}/resize"), &body).await },
            move |result| match result {
                Ok(r) => {
                    toasts.success(format!("{} is being changed", r.name));
                    remote_resource.set(r);
                }
                Err(e) => banner.set(apply_problem(&e, errors, &[])),
            },
        );
    };
    move || {
        let list = fields.get();
        (!list.is_empty()).then(|| {
            let inputs = list
                .into_iter()
                .map(|p| {
                    let name = p.name.clone();
                    let field = format!("parameters.{name}");
                    let input_id = format!("resize-{name}");
                    let shown = current
                        .get(&name)
                        .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
                        .unwrap_or_default();
                    let integer = p.kind == ParameterKind::Integer;
                    let error_field = field.clone();
                    view! {
                        <div class="field">
                            <label for=input_id.clone()>{p.label.clone()}</label>
                            <input
                                id=input_id
                                type=if integer { "number" } else { "text" }
                                prop:value=shown
                                on:change=move |ev| {
                                    let text = event_target_value(&ev);
                                    let value = if integer {
                                        text.trim().parse::<i64>().map(Value::from).unwrap_or(Value::from(text))
                                    } else {
                                        Value::from(text)
                                    };
                                    values.update(|v| {
                                        v.insert(name.clone(), value);
                                    });
                                }
                            />
                            <p class="field-hint">{p.description.clone()}</p>
                            {move || field_message(errors, &error_field).map(|m| view! { <p class="field-error">{m}</p> })}
                        </div>
                    }
                })
                .collect_view();
            view! {
                <form class="card form" on:submit=on_submit novalidate data-testid="resource-resize">
                    <h2 class="card-title">"Settings"</h2>
                    <FormBanner banner=banner />
                    {inputs}
                    <FormActions pending=pending label="Apply" busy="Applying…" />
                </form>
            }
        })
    }
}
