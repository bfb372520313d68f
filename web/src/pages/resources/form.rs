//! The request form: a team, a type from the catalogue (retired ones left out), the team's
//! server for a type a recipe sets up, the recipe's settings with their defaults, a name and a
//! purpose. Each refusal is shown under its field, the recipe's settings too.

use crate::api;
use crate::components::form::{
    apply_problem, field_message, show_problems, Errors, FieldError, FormActions, FormBanner,
    PickField, TeamPicker, TextArea, TextField,
};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use serde_json::{Map, Value};
use shared::dto::ResourceType;
use shared::resources::{
    resource_name, CreateResource, ParameterKind, Provisioning, RecipeParameter, Resource,
    ServerRef,
};
use shared::validation::{display_text, FieldErrors};

const KNOWN: [&str; 6] = [
    "team_id",
    "resource_type",
    "name",
    "server_id",
    "purpose",
    "parameters",
];

#[component]
pub fn NewResourceForm(
    #[prop(into)] on_done: Callback<Resource>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let team = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let server = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let purpose = RwSignal::new(String::new());
    // The recipe's settings as typed, by name; filled with the defaults when the type changes.
    let settings = RwSignal::new(Vec::<(RecipeParameter, RwSignal<String>)>::new());
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let types = remote::<Vec<ResourceType>>(|| "/api/resource-types".into());
    let offered = Memo::new(move |_| match types.get() {
        Some(Ok(list)) => list.into_iter().filter(|t| !t.retired).collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    let chosen = Memo::new(move |_| {
        let slug = kind.get();
        offered.get().into_iter().find(|t| t.slug == slug)
    });
    let by_recipe = Memo::new(move |_| {
        chosen
            .get()
            .is_some_and(|t| t.provisioning == Provisioning::Recipe)
    });
    let type_options = Signal::derive(move || {
        offered
            .get()
            .into_iter()
            .map(|t| {
                let how = match t.provisioning {
                    Provisioning::Recipe => "set up by Provisio",
                    Provisioning::Manual => "set up by a technical agent",
                };
                (t.slug, format!("{} — {how}", t.name))
            })
            .collect::<Vec<_>>()
    });
    let type_hint = Signal::derive(move || match chosen.get() {
        Some(t) => match &t.recipe {
            Some(r) => format!("{} {}", t.description, r.engine),
            None => format!(
                "{} A technical agent of your team sets it up and enters how to reach it.",
                t.description
            ),
        },
        None => String::new(),
    });
    Effect::new(move |_| {
        let params = chosen
            .get()
            .and_then(|t| t.recipe)
            .map(|r| r.parameters)
            .unwrap_or_default();
        settings.set(
            params
                .into_iter()
                .map(|p| {
                    let shown = match &p.default {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (p, RwSignal::new(shown))
                })
                .collect(),
        );
    });
    // The team's servers a resource can go on: requesters see these without the inventory.
    let servers = remote::<Vec<ServerRef>>(move || {
        api::with_query("/api/resource-targets", &[("team_id", team.get())])
    });
    let server_options = Signal::derive(move || match servers.get() {
        Some(Ok(list)) => list
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut problems = FieldErrors::new();
        let mut note = |field: &str, r: Result<(), String>| {
            if let Err(m) = r {
                problems.entry(field.to_owned()).or_default().push(m);
            }
        };
        let typed_name = name.get_untracked().trim().to_owned();
        note("name", resource_name(&typed_name));
        note(
            "purpose",
            display_text(purpose.get_untracked().trim(), 3, 1000),
        );
        let mut parameters = Map::new();
        for (p, value) in settings.get_untracked() {
            let text = value.get_untracked().trim().to_owned();
            match p.kind {
                ParameterKind::Integer => match text.parse::<i64>() {
                    Ok(n) => {
                        parameters.insert(p.name.clone(), Value::from(n));
                    }
                    Err(_) => note(
                        &format!("parameters.{}", p.name),
                        Err("must be a whole number".into()),
                    ),
                },
                ParameterKind::Text | ParameterKind::Network => {
                    parameters.insert(p.name.clone(), Value::from(text));
                }
            }
        }
        let recipe = by_recipe.get_untracked();
        if recipe && server.get_untracked().is_empty() {
            note(
                "server_id",
                Err("choose the server it goes on; register one under Servers first".into()),
            );
        }
        if !show_problems(problems, errors, banner) {
            return;
        }
        let body = CreateResource {
            team_id: team.get_untracked().parse().unwrap_or_default(),
            resource_type: kind.get_untracked(),
            name: typed_name,
            server_id: if recipe {
                server.get_untracked().parse().ok()
            } else {
                None
            },
            parameters,
            purpose: purpose.get_untracked().trim().to_owned(),
        };
        let known: Vec<String> = KNOWN
            .iter()
            .map(|k| k.to_string())
            .chain(
                settings
                    .get_untracked()
                    .iter()
                    .map(|(p, _)| format!("parameters.{}", p.name)),
            )
            .collect();
        task::run(
            pending,
            async move { api::post::<_, Resource>("/api/resources", &body).await },
            move |result| match result {
                Ok(made) => on_done.run(made),
                Err(e) => {
                    let known: Vec<&str> = known.iter().map(String::as_str).collect();
                    banner.set(apply_problem(&e, errors, &known));
                }
            },
        );
    };

    view! {
        <form class="form" on:submit=on_submit novalidate data-testid="resource-form">
            <FormBanner banner=banner />
            <TeamPicker id="resource-team" team=team errors=errors />
            <PickField
                id="resource-type"
                label="Type"
                field="resource_type"
                errors=errors
                value=kind
                options=type_options
                hint=type_hint
            />
            {move || by_recipe.get().then(|| {
                view! {
                    <PickField
                        id="resource-server"
                        label="Server"
                        field="server_id"
                        errors=errors
                        value=server
                        options=server_options
                        hint=Signal::derive(move || {
                            if server_options.get().is_empty() {
                                "This team has no server yet: request one, or register one under Servers.".to_string()
                            } else {
                                "The team's server the recipe installs it on.".to_string()
                            }
                        })
                    />
                }
            })}
            <TextField
                id="resource-name"
                label="Name"
                value=name
                errors=errors
                field="name"
                required=true
                hint="Lower-case letters, digits and _: it becomes the database and user name, e.g. shop_db."
            />
            {move || {
                settings
                    .get()
                    .into_iter()
                    .map(|(p, value)| view! { <SettingField parameter=p value=value errors=errors /> })
                    .collect_view()
            }}
            <TextArea id="resource-purpose" label="Purpose" value=purpose errors=errors field="purpose" />
            <FormActions
                pending=pending
                label="Send the request"
                busy="Sending…"
                on_cancel=on_cancel
                testid="resource-submit"
            />
        </form>
    }
}

/// One setting of the recipe, with its description and its own message.
#[component]
fn SettingField(
    parameter: RecipeParameter,
    value: RwSignal<String>,
    errors: Errors,
) -> impl IntoView {
    let id = format!("resource-setting-{}", parameter.name);
    let field = format!("parameters.{}", parameter.name);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let bounds = match (parameter.min, parameter.max) {
        (Some(min), Some(max)) => format!(" ({min}–{max})"),
        _ => String::new(),
    };
    let kind = match parameter.kind {
        ParameterKind::Integer => "number",
        ParameterKind::Text | ParameterKind::Network => "text",
    };
    let check = field.clone();
    let invalid = move || field_message(errors, &check).is_some().then_some("true");
    let clear = field.clone();
    view! {
        <div class="field">
            <label for=id.clone()>{parameter.label.clone()}</label>
            <input
                id=id
                type=kind
                min=parameter.min.map(|m| m.to_string())
                max=parameter.max.map(|m| m.to_string())
                aria-invalid=invalid
                aria-describedby=format!("{hint_id} {error_id}")
                bind:value=value
                on:input=move |_| errors.update(|e| {
                    e.remove(&clear);
                })
            />
            <p class="field-hint" id=hint_id>{format!("{}{bounds}", parameter.description)}</p>
            <FieldError errors=errors field=field id=error_id />
        </div>
    }
}
