//! Clients of the sales teams: the list with their MRR, the client form with its contacts, and
//! the client page with its facts and subscriptions.

use crate::api::{self, ApiErrorView};
use crate::components::feedback::{detail_body, use_toasts, Empty, ErrorBanner, SkeletonRows};
use crate::components::form::{
    apply_problem, show_problems, Errors, FormActions, FormBanner, Row, RowsEditor, TeamPicker,
    TextArea, TextField,
};
use crate::components::list::{loaded_list, NewButton, PageHeader};
use crate::components::modal::{DialogWhile, Modal};
use crate::components::removal::{use_removal, RemoveButton};
use crate::components::table::{Col, DataTable};
use crate::format::{amounts, datetime, relative};
use crate::pages::subscriptions::{SubscriptionForm, SubscriptionTable};
use crate::remote::{remote, use_detail, Detail};
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use shared::billing::{Client, Contact, SaveClient, Subscription, SubscriptionDetail};
use shared::validation::FieldErrors;
use uuid::Uuid;

#[component]
pub fn ClientsPage() -> impl IntoView {
    let toasts = use_toasts();
    let clients = remote::<Vec<Client>>(|| "/api/clients".into());
    let creating = RwSignal::new(false);
    let open = Callback::new(move |_| creating.set(true));
    // No client at all: the empty state carries the one call to action.
    let nothing = Memo::new(move |_| matches!(clients.get(), Some(Ok(list)) if list.is_empty()));
    let on_created = Callback::new(move |c: Client| {
        creating.set(false);
        toasts.success(format!("Client {} created", c.company));
        clients.refetch();
    });
    view! {
        <section class="page">
            <PageHeader
                title="Clients"
                description="The companies your teams serve, with what they pay each month."
            >
                {move || {
                    (!nothing.get())
                        .then(|| view! { <NewButton label="New client" testid="client-new" on_click=open /> })
                }}
            </PageHeader>
            {loaded_list(
                clients,
                4,
                move || {
                    view! {
                        <Empty
                            icon="◉"
                            testid="clients-empty"
                            title="No clients yet"
                            hint="Add the companies you sell to; their subscriptions make up the revenue figures."
                        >
                            <button
                                type="button"
                                class="btn btn-primary"
                                data-testid="client-new"
                                on:click=move |_| open.run(())
                            >
                                "New client"
                            </button>
                        </Empty>
                    }
                },
                |items| view! { <ClientTable items=items /> },
            )}
            <DialogWhile open=creating title="New client" wide=true>
                <ClientForm client=None on_done=on_created on_cancel=move |_| creating.set(false) />
            </DialogWhile>
        </section>
    }
}

#[component]
fn ClientTable(items: Vec<Client>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|c| {
            let mrr = amounts(&c.mrr);
            let company = c.company.clone();
            view! {
                <tr data-testid="client-row" data-company=c.company.clone()>
                    <td>
                        <A href=format!("/clients/{}", c.id)>{company}</A>
                        <div class="muted small">{c.billing_email.clone()}</div>
                    </td>
                    <td>{c.team.name.clone()}</td>
                    <td class="num">{c.subscriptions}</td>
                    <td class="num nowrap" data-testid="client-mrr">{mrr}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable
            columns=&[Col::Text("Company"), Col::Text("Team"), Col::Num("Subscriptions"), Col::Num("MRR")]
            testid="clients-table"
            caption="Clients"
        >
            {rows}
        </DataTable>
    }
}

/// Fields of [`SaveClient`] that have an input of their own.
const CLIENT_FIELDS: &[&str] = &["company", "team_id", "billing_email", "contacts", "notes"];

/// Messages about `contacts[1].email` go under the contacts, naming the row and the column.
fn fold_contacts(errors: FieldErrors) -> FieldErrors {
    let mut out = FieldErrors::new();
    for (key, messages) in errors {
        let row = key
            .strip_prefix("contacts[")
            .and_then(|rest| rest.split_once(']'))
            .and_then(|(n, rest)| Some((n.parse::<usize>().ok()?, rest.trim_start_matches('.'))));
        match row {
            Some((i, column)) => out.entry("contacts".into()).or_default().extend(
                messages
                    .into_iter()
                    .map(|m| format!("contact {}, {}: {m}", i + 1, column.replace('_', " "))),
            ),
            None => out.entry(key).or_default().extend(messages),
        }
    }
    out
}

fn contact_rows(contacts: &[Contact]) -> Vec<Row> {
    contacts
        .iter()
        .map(|c| Row::new(vec![c.name.clone(), c.email.clone(), c.phone.clone()]))
        .collect()
}

fn contacts_of(rows: &[Row]) -> Vec<Contact> {
    rows.iter()
        .filter(|r| !r.is_blank())
        .map(|r| Contact {
            name: r.cell(0).to_owned(),
            email: r.cell(1).to_owned(),
            phone: r.cell(2).to_owned(),
        })
        .collect()
}

/// Creates a client, or edits `client`.
#[component]
fn ClientForm(
    client: Option<Client>,
    #[prop(into)] on_done: Callback<Client>,
    #[prop(into)] on_cancel: Callback<()>,
) -> impl IntoView {
    let existing = client.as_ref().map(|c| c.id);
    let company = RwSignal::new(
        client
            .as_ref()
            .map(|c| c.company.clone())
            .unwrap_or_default(),
    );
    let team = RwSignal::new(
        client
            .as_ref()
            .map(|c| c.team.id.to_string())
            .unwrap_or_default(),
    );
    let email = RwSignal::new(
        client
            .as_ref()
            .map(|c| c.billing_email.clone())
            .unwrap_or_default(),
    );
    let notes = RwSignal::new(client.as_ref().map(|c| c.notes.clone()).unwrap_or_default());
    let contacts = RwSignal::new(
        client
            .as_ref()
            .map(|c| contact_rows(&c.contacts))
            .unwrap_or_default(),
    );
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = SaveClient {
            team_id: team.get_untracked().parse().unwrap_or_default(),
            company: company.get_untracked().trim().to_owned(),
            contacts: contacts_of(&contacts.get_untracked()),
            billing_email: email.get_untracked().trim().to_owned(),
            notes: notes.get_untracked().trim().to_owned(),
        };
        let mut problems = body.validate().err().unwrap_or_default();
        if body.team_id.is_nil() {
            problems.insert("team_id".into(), vec!["Choose a team".into()]);
        }
        if !show_problems(fold_contacts(problems), errors, banner) {
            return;
        }
        task::run(
            pending,
            async move {
                match existing {
                    None => api::post::<_, Client>("/api/clients", &body).await,
                    Some(id) => api::put::<_, Client>(&format!("/api/clients/{id}"), &body).await,
                }
            },
            move |result: Result<Client, ApiErrorView>| match result {
                Ok(c) => on_done.run(c),
                Err(mut e) => {
                    e.fields = fold_contacts(std::mem::take(&mut e.fields));
                    banner.set(apply_problem(&e, errors, CLIENT_FIELDS));
                }
            },
        );
    };

    let submit = if existing.is_none() {
        "Create client"
    } else {
        "Save changes"
    };
    view! {
        <form class="form" data-testid="client-form" on:submit=on_submit novalidate>
            <FormBanner banner=banner />
            <div class="form-grid">
                <TextField
                    id="client-company"
                    label="Company"
                    value=company
                    errors=errors
                    field="company"
                    autocomplete="organization"
                    placeholder="e.g. Acme Ltd"
                    required=true
                    autofocus=true
                    testid="client-company"
                />
                <TeamPicker id="client-team" team=team errors=errors />
                <TextField
                    id="client-email"
                    label="Billing e-mail"
                    kind="email"
                    value=email
                    errors=errors
                    field="billing_email"
                    autocomplete="email"
                    placeholder="billing@example.com"
                    hint="Renewal notices go here."
                    required=true
                    testid="client-email"
                />
            </div>
            <RowsEditor
                legend="Contacts"
                columns=&[
                    ("contact_name", "Name", "text"),
                    ("contact_email", "E-mail", "email"),
                    ("contact_phone", "Phone", "tel"),
                ]
                rows=contacts
                errors=errors
                field="contacts"
                add_label="Add contact"
                hint="The people you deal with; a name is enough."
            />
            <TextArea id="client-notes" label="Notes" value=notes errors=errors field="notes" rows=3 />
            <FormActions
                pending=pending
                label=submit
                busy="Saving…"
                on_cancel=on_cancel
                testid="client-submit"
            />
        </form>
    }
}

#[component]
pub fn ClientPage() -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let page = use_detail::<Client>("/api/clients", |c| c.id);
    let Detail {
        id,
        remote: client,
        shown,
        ..
    } = page;
    let subscriptions = remote::<Vec<Subscription>>(move || {
        api::with_query("/api/subscriptions", &[("client_id", id.get())])
    });
    let editing = RwSignal::new(false);
    let adding = RwSignal::new(false);
    let removal = use_removal::<Uuid>();
    let delete = move |target: Uuid| {
        let navigate = navigate.clone();
        removal.delete(format!("/api/clients/{target}"), move |_| {
            toasts.success("Client deleted");
            navigate("/clients", Default::default());
        });
    };
    let on_saved = Callback::new(move |c: Client| {
        editing.set(false);
        toasts.success("Client saved");
        client.set(c);
    });
    let on_subscribed = Callback::new(move |d: SubscriptionDetail| {
        adding.set(false);
        toasts.success(format!("Subscription {} created", d.subscription.plan_name));
        subscriptions.refetch();
        client.refetch();
    });
    let retry = Callback::new(move |_| subscriptions.refetch());

    view! {
        <section class="page">
            <A href="/clients" attr:class="back-link">
                "← Clients"
            </A>
            {detail_body(
                page,
                move |c: Client| {
                    let client_id = c.id;
                    view! {
                        <header class="page-header">
                            <div>
                                <h1>{move || shown.with(|c| c.as_ref().map(|c| c.company.clone()))}</h1>
                                <p class="muted">
                                    {move || shown.with(|c| c.as_ref().map(|c| c.team.name.clone()))}
                                </p>
                            </div>
                            <div class="actions">
                                <button
                                    type="button"
                                    class="btn btn-ghost"
                                    data-testid="client-edit"
                                    on:click=move |_| editing.set(true)
                                >
                                    "Edit"
                                </button>
                                <RemoveButton removal=removal item=client_id testid="client-delete" large=true />
                            </div>
                        </header>
                        <ClientFacts shown=shown />
                        <div class="card" data-testid="client-subscriptions">
                            <div class="card-title-row">
                                <h2 class="card-title">"Subscriptions"</h2>
                                <button
                                    type="button"
                                    class="btn btn-primary btn-sm"
                                    data-testid="subscription-new"
                                    on:click=move |_| adding.set(true)
                                >
                                    <span aria-hidden="true">"+ "</span>
                                    "New subscription"
                                </button>
                            </div>
                            {move || match subscriptions.get() {
                                None => view! { <SkeletonRows rows=2 /> }.into_any(),
                                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                                Some(Ok(list)) if list.is_empty() => {
                                    view! {
                                        <p class="muted" data-testid="subscriptions-empty">
                                            "No subscription yet: add the plan this client pays for."
                                        </p>
                                    }
                                        .into_any()
                                }
                                Some(Ok(list)) => view! { <SubscriptionTable items=list /> }.into_any(),
                            }}
                        </div>
                        <DialogWhile open=adding title="New subscription" wide=true>
                            <SubscriptionForm
                                client_id=client_id
                                subscription=None
                                on_done=on_subscribed
                                on_cancel=move |_| adding.set(false)
                            />
                        </DialogWhile>
                    }
                },
            )}
            {move || {
                editing
                    .get()
                    .then(|| shown.get_untracked())
                    .flatten()
                    .map(|c| {
                        view! {
                            <Modal title=format!("Edit {}", c.company) on_close=move |_| editing.set(false) wide=true>
                                <ClientForm client=Some(c.clone()) on_done=on_saved on_cancel=move |_| editing.set(false) />
                            </Modal>
                        }
                    })
            }}
            {removal
                .dialog(
                    "Delete client",
                    move |_| {
                        let company = shown
                            .with_untracked(|c| c.as_ref().map(|c| c.company.clone()).unwrap_or_default());
                        (
                            format!("Delete {company}?"),
                            "The client and its contacts are deleted. A client with subscriptions cannot be deleted: cancel them instead."
                                .into(),
                        )
                    },
                    delete,
                )}
        </section>
    }
}

#[component]
fn ClientFacts(shown: Memo<Option<Client>>) -> impl IntoView {
    move || {
        shown.get().map(|c| {
            let contacts = if c.contacts.is_empty() {
                view! { <span class="muted">"none"</span> }.into_any()
            } else {
                view! {
                    <ul class="contact-list">
                        {c
                            .contacts
                            .iter()
                            .map(|p| {
                                let reach: Vec<String> = [p.email.clone(), p.phone.clone()]
                                    .into_iter()
                                    .filter(|s| !s.is_empty())
                                    .collect();
                                view! {
                                    <li>
                                        <strong>{p.name.clone()}</strong>
                                        {(!reach.is_empty())
                                            .then(|| view! { <span class="muted">{format!(" · {}", reach.join(" · "))}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            };
            let mailto = format!("mailto:{}", c.billing_email);
            view! {
                <div class="card">
                    <h2 class="card-title">"Details"</h2>
                    <dl class="details details-wide" data-testid="client-facts">
                        <dt>"Team"</dt>
                        <dd>{c.team.name.clone()}</dd>
                        <dt>"Billing e-mail"</dt>
                        <dd>
                            <a href=mailto>{c.billing_email.clone()}</a>
                        </dd>
                        <dt>"Contacts"</dt>
                        <dd>{contacts}</dd>
                        <dt>"MRR"</dt>
                        <dd data-testid="client-mrr">{amounts(&c.mrr)}</dd>
                        <dt>"Subscriptions"</dt>
                        <dd>{c.subscriptions}</dd>
                        {(!c.notes.trim().is_empty())
                            .then(|| {
                                view! {
                                    <dt>"Notes"</dt>
                                    <dd class="pre-wrap">{c.notes.clone()}</dd>
                                }
                            })}
                        <dt>"Created"</dt>
                        <dd title=datetime(&c.created_at)>{relative(&c.created_at)}</dd>
                    </dl>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_messages_name_their_row() {
        let folded = fold_contacts(FieldErrors::from([
            (
                "contacts[1].email".to_string(),
                vec!["not an e-mail".to_string()],
            ),
            ("company".to_string(), vec!["too short".to_string()]),
        ]));
        assert_eq!(folded["contacts"], ["contact 2, email: not an e-mail"]);
        assert_eq!(folded["company"], ["too short"]);
    }

    #[test]
    fn blank_contact_rows_are_left_out() {
        let rows = vec![
            Row::new(vec![
                "Ann".into(),
                " ann@example.com ".into(),
                String::new(),
            ]),
            Row::new(vec![String::new(), " ".into(), String::new()]),
        ];
        assert_eq!(
            contacts_of(&rows),
            [Contact {
                name: "Ann".into(),
                email: "ann@example.com".into(),
                phone: String::new(),
            }]
        );
    }
}
