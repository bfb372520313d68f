//! A server's labels: the chips that show them and the form that edits them.

use super::detail::Shown;
use crate::api;
use crate::components::feedback::use_toasts;
use crate::components::form::{
    apply_problem, pair_rows, rows_to_pairs, Column, Errors, FormActions, FormBanner, Row,
    RowsEditor,
};
use crate::task;
use leptos::prelude::*;
use shared::servers::{Server, ServerDetail, ServerStatus, UpdateServerLabels};
use shared::validation::FieldErrors;
use std::collections::BTreeMap;

pub(super) const LABEL_COLUMNS: &[Column] = &[
    ("labels.key", "Label key", "text"),
    ("labels.value", "Label value", "text"),
];

pub(super) fn label_chips(labels: &BTreeMap<String, String>) -> impl IntoView {
    (!labels.is_empty()).then(|| {
        view! {
            <ul class="chip-list chip-list-tight">
                {labels
                    .iter()
                    .map(|(k, v)| {
                        let text = if v.is_empty() { k.clone() } else { format!("{k}={v}") };
                        let title = text.clone();
                        view! { <li class="chip chip-sm" title=title>{text}</li> }
                    })
                    .collect_view()}
            </ul>
        }
    })
}

/// The edited rows as the labels request; blank rows are dropped.
fn labels_request(rows: &[Row]) -> Result<UpdateServerLabels, FieldErrors> {
    let body = match rows_to_pairs(rows, "label") {
        Ok(labels) => UpdateServerLabels { labels },
        Err(m) => return Err(FieldErrors::from([("labels".to_string(), vec![m])])),
    };
    body.validate()?;
    Ok(body)
}

#[component]
pub(super) fn ServerLabels(
    shown: Shown,
    detail: crate::remote::Remote<ServerDetail>,
    can_operate: bool,
) -> impl IntoView {
    let labels = Memo::new(move |_| {
        shown.with(|d| {
            d.as_ref().map(|d| {
                let gone = matches!(
                    d.server.status,
                    ServerStatus::Deleting | ServerStatus::Deleted
                );
                (d.server.labels.clone(), can_operate && !gone)
            })
        })
    });
    // Rebuilt only when the stored labels change, so typing survives live updates.
    move || {
        labels.get().map(|(l, editable)| {
            if editable {
                view! { <LabelsForm labels=l detail=detail /> }.into_any()
            } else {
                view! {
                    <div class="card">
                        <h2 class="card-title">"Labels"</h2>
                        {if l.is_empty() {
                            view! { <p class="muted">"No labels."</p> }.into_any()
                        } else {
                            label_chips(&l).into_any()
                        }}
                    </div>
                }
                .into_any()
            }
        })
    }
}

#[component]
fn LabelsForm(
    labels: BTreeMap<String, String>,
    detail: crate::remote::Remote<ServerDetail>,
) -> impl IntoView {
    let toasts = use_toasts();
    let rows = RwSignal::new(pair_rows(&labels));
    let errors: Errors = RwSignal::new(FieldErrors::new());
    let banner = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(id) = detail.loaded_untracked().map(|d| d.server.id) else {
            return;
        };
        banner.set(None);
        let body = match labels_request(&rows.get_untracked()) {
            Ok(body) => body,
            Err(e) => {
                errors.set(e);
                return;
            }
        };
        errors.set(FieldErrors::new());
        task::run(
            pending,
            async move { api::put::<_, Server>(&format!("/api/servers/{id}/labels"), &body).await },
            move |result| match result {
                Ok(server) => {
                    toasts.success("Labels saved");
                    if let Some(mut d) = detail.loaded_untracked() {
                        d.server = server;
                        detail.set(d);
                    }
                }
                Err(e) => banner.set(apply_problem(&e, errors, &["labels"])),
            },
        );
    };
    view! {
        <form class="card form" data-testid="labels-form" on:submit=on_submit novalidate>
            <h2 class="card-title">"Labels"</h2>
            <FormBanner banner=banner />
            <RowsEditor
                legend="Key and value"
                columns=LABEL_COLUMNS
                rows=rows
                errors=errors
                field="labels"
                add_label="Add label"
                hint="Letters, digits, - _ . and /; up to 63 characters each."
            />
            <FormActions pending=pending label="Save labels" busy="Saving…" />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::labels_request;
    use crate::components::form::{pair_rows, Row};
    use std::collections::BTreeMap;

    #[test]
    fn stored_labels_come_back_unchanged_through_the_rows() {
        let labels = BTreeMap::from([
            ("env".to_string(), "prod".to_string()),
            ("backup".to_string(), String::new()),
        ]);
        assert_eq!(labels_request(&pair_rows(&labels)).unwrap().labels, labels);
    }

    #[test]
    fn a_label_without_a_key_is_refused() {
        let rows = vec![Row::new(vec![String::new(), "prod".into()])];
        let errors = labels_request(&rows).unwrap_err();
        assert_eq!(
            errors["labels"],
            vec!["every label needs a name".to_string()]
        );
    }

    #[test]
    fn a_label_with_a_space_is_refused_by_the_shared_rules() {
        let rows = vec![Row::new(vec!["team name".into(), "ops".into()])];
        assert!(labels_request(&rows).unwrap_err().contains_key("labels"));
    }
}
