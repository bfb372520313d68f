//! The request form: a team, a type from the catalogue (retired ones left out), the team's
//! server for a type a recipe sets up, the recipe's settings with their defaults, a name and a
//! purpose. Each refusal is shown under its field, the recipe's settings too. Instead of a
//! server, a recipe type may ask for a new one (the deploy dialog's guest fields): the same
//! approval decides both.

use crate::api;
use crate::components::form::{
    apply_problem, field_message, show_problems, Errors, FieldError, FormActions, FormBanner,
    PickField, TeamPicker, TextArea, TextField,
};
use crate::pages::deployments::draft::Target;
use crate::pages::deployments::guest::{GuestFields, GuestSignals};
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use serde_json::{Map, Value};
use shared::dto::ResourceType;
use shared::providers::ProviderAccount;
use shared::resources::{
    resource_name, CreateResource, NewServer, ParameterKind, Provisioning, RecipeParameter,
    Resource, ServerRef,
};
use shared::validation::{display_text, FieldErrors};

const KNOWN: [&str; 15] = [
    "team_id",
    "resource_type",
    "name",
    "server_id",
    "purpose",
    "parameters",
    "new_server",
    // The new server's fields, as the guest fields name them (see `under_guest_names`).
    "provider_account_id",
    "location",
    "image",
    "server_type",
    "cpu",
    "ram_mb",
    "disk_gb",
    "ssh_public_key",
];

/// The server picker's value for "a new server".
const NEW_SERVER: &str = "new";

/// The API names the new server's fields `new_server.location`, …; the guest fields show them
/// under their own names.
fn under_guest_names(mut error: crate::api::ApiErrorView) -> crate::api::ApiErrorView {
    error.fields = error
        .fields
        .into_iter()
        .map(|(name, messages)| match name.strip_prefix("new_server.") {
            Some(inner) => (inner.to_owned(), messages),
            None => (name, messages),
        })
        .collect();
    error
}

/// The new server the guest fields describe; blank fields are left to the account's defaults.
fn new_server(guest: &GuestSignals) -> NewServer {
    let text =
        |s: RwSignal<String>| Some(s.get_untracked().trim().to_owned()).filter(|v| !v.is_empty());
    let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().ok();
    // The size fields show for accounts with custom sizes; a fixed type wins over them.
    let server_type = text(guest.server_type);
    let sized = server_type.is_none();
    NewServer {
        provider_account_id: guest.account.get_untracked().parse().ok(),
        hostname: None,
        location: text(guest.location),
        image: text(guest.image),
        cpu: number(guest.cpu).filter(|_| sized),
        ram_mb: number(guest.ram_mb).filter(|_| sized),
        disk_gb: number(guest.disk_gb).filter(|_| sized),
        server_type,
        ssh_public_key: Some(guest.public_key().trim().to_owned()).filter(|k| !k.is_empty()),
    }
}

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
    let guest = GuestSignals::new();
    let wants_new = Memo::new(move |_| server.get() == NEW_SERVER);
    let accounts = remote::<Vec<ProviderAccount>>(|| "/api/provider-accounts".into());
    let vm = Memo::new(|_| Target::NewVm);

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
    let server_options = Signal::derive(move || {
        let mut options = match servers.get() {
            Some(Ok(list)) => list
                .into_iter()
                .map(|s| (s.id.to_string(), s.name))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        options.push((
            NEW_SERVER.to_owned(),
            "A new server, requested with it".to_owned(),
        ));
        options
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
                Err("choose the server it goes on, or a new server requested with it".into()),
            );
        }
        let asks_new = recipe && wants_new.get_untracked();
        if !show_problems(problems, errors, banner) {
            return;
        }
        let body = CreateResource {
            team_id: team.get_untracked().parse().unwrap_or_default(),
            resource_type: kind.get_untracked(),
            name: typed_name,
            server_id: if recipe && !asks_new {
                server.get_untracked().parse().ok()
            } else {
                None
            },
            new_server: asks_new.then(|| new_server(&guest)),
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
                    banner.set(apply_problem(&under_guest_names(e), errors, &known));
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
                            if wants_new.get() {
                                "A server request is sent with this one: approving the resource approves the server too, and the recipe runs once the server is ready.".to_string()
                            } else if server_options.get().len() == 1 {
                                "This team has no server yet: ask for a new one here, or register one under Servers.".to_string()
                            } else {
                                "The team's server the recipe installs it on.".to_string()
                            }
                        })
                    />
                    <Show when=move || wants_new.get()>
                        <fieldset class="field" data-testid="resource-new-server">
                            <legend>"The new server"</legend>
                            <GuestFields target=vm accounts=accounts fields=guest errors=errors generated_pair=false />
                        </fieldset>
                    </Show>
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
