//! A subscription's history: who changed what, and when.

use super::detail::Shown;
use crate::format::{datetime, person, relative};
use leptos::prelude::*;
use shared::billing::{Money, SubscriptionEvent};

/// `price: EUR 49.90 → EUR 59.90`, `status: active → suspended`: what an event changed,
/// one short line per field.
fn changed_fields(e: &SubscriptionEvent) -> Vec<String> {
    use serde_json::Value;
    let empty = serde_json::Map::new();
    let object = |v: &Option<Value>| v.as_ref().and_then(Value::as_object).cloned();
    let (before, after) = (object(&e.before), object(&e.after));
    if before.is_none() {
        // A creation: its starting state is the subscription itself, shown above.
        return Vec::new();
    }
    let before = before.unwrap_or_default();
    let after = after.unwrap_or_else(|| empty.clone());
    let currency = |side: &serde_json::Map<String, Value>| {
        side.get("currency")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let show = |key: &str, side: &serde_json::Map<String, Value>| -> String {
        match (key, side.get(key)) {
            (_, None) | (_, Some(Value::Null)) => "—".into(),
            ("monthly_price_cents", Some(v)) => match (v.as_i64(), currency(side)) {
                (Some(c), Some(cur)) => Money::new(c, &cur).display(),
                _ => v.to_string(),
            },
            (_, Some(Value::String(s))) => s.clone(),
            (_, Some(Value::Array(items))) => format!("{} linked", items.len()),
            (_, Some(v)) => v.to_string(),
        }
    };
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            let label = match k.as_str() {
                "monthly_price_cents" => "price".to_string(),
                other => other.replace('_', " "),
            };
            format!("{label}: {} → {}", show(k, &before), show(k, &after))
        })
        .collect()
}

#[component]
pub(super) fn History(shown: Shown) -> impl IntoView {
    let events = Memo::new(move |_| shown.with(|d| d.as_ref().map(|d| d.events.clone())));
    move || {
        events.get().map(|events| {
            let items = events
                .into_iter()
                .map(|e| {
                    let who = e
                        .actor
                        .as_ref()
                        .map(person)
                        .unwrap_or_else(|| "renewal job".into());
                    let changes = changed_fields(&e);
                    let at = e.at;
                    let kind = e.kind.replace('_', " ");
                    let detail = e.detail.clone();
                    view! {
                        <li class="event" data-testid="subscription-event" data-kind=e.kind.clone()>
                            <div class="event-head">
                                <strong>{who}</strong>
                                " "
                                {kind}
                                <time class="muted small" title=datetime(&at)>
                                    {relative(&at)}
                                </time>
                            </div>
                            {(!detail.trim().is_empty()).then(|| view! { <p class="event-body">{detail}</p> })}
                            {(!changes.is_empty())
                                .then(|| {
                                    view! {
                                        <ul class="event-changes mono small">
                                            {changes.into_iter().map(|c| view! { <li>{c}</li> }).collect_view()}
                                        </ul>
                                    }
                                })}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="card" data-testid="subscription-history">
                    <h2 class="card-title">"History"</h2>
                    <ol class="timeline">{items}</ol>
                </div>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::changed_fields;
    use chrono::Utc;
    use serde_json::json;
    use shared::billing::SubscriptionEvent;

    fn event(
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> SubscriptionEvent {
        SubscriptionEvent {
            at: Utc::now(),
            actor: None,
            kind: "updated".into(),
            detail: String::new(),
            before,
            after,
        }
    }

    #[test]
    fn a_creation_lists_no_changes() {
        assert!(changed_fields(&event(None, Some(json!({"plan_name": "S"})))).is_empty());
    }

    #[test]
    fn changed_fields_are_listed_by_name_with_prices_in_their_currency() {
        let e = event(
            Some(
                json!({"monthly_price_cents": 4990, "currency": "EUR", "plan_name": "S", "server_ids": []}),
            ),
            Some(
                json!({"monthly_price_cents": 5990, "currency": "EUR", "plan_name": "S", "server_ids": ["a", "b"]}),
            ),
        );
        assert_eq!(
            changed_fields(&e),
            vec![
                "price: EUR 49.90 → EUR 59.90".to_string(),
                "server ids: 0 linked → 2 linked".to_string()
            ]
        );
    }
}
