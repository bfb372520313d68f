//! The subscriptions table, its status badge and how amounts are shown.

use crate::components::table::{Col, DataTable};
use crate::format::period_text;
use crate::format::status_label;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::billing::{Money, Subscription, SubscriptionStatus};

/// Badge colours shared with the request statuses.
fn status_tone(status: SubscriptionStatus) -> &'static str {
    match status {
        SubscriptionStatus::Active => "deployed",
        SubscriptionStatus::Expiring => "pending",
        SubscriptionStatus::Suspended => "provisioning",
        SubscriptionStatus::Expired => "failed",
        SubscriptionStatus::Cancelled => "cancelled",
    }
}

#[component]
pub fn SubscriptionBadge(status: SubscriptionStatus) -> impl IntoView {
    view! {
        <span
            class=format!("badge req req-{}", status_tone(status))
            data-testid="subscription-status"
            data-status=status.as_str()
        >
            {status_label(status.as_str())}
        </span>
    }
}

/// An amount, red when it is negative (a margin below cost); `—` when it is not known.
pub fn amount(m: Option<&Money>) -> AnyView {
    match m {
        Some(m) if m.cents < 0 => {
            view! { <span class="amount-negative">{m.display()}</span> }.into_any()
        }
        Some(m) => view! { <span>{m.display()}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// `2026-11-26 → 2026-12-26`.
fn dates(s: &Subscription) -> String {
    format!("{} → {}", s.start_date, s.end_date)
}

/// The subscriptions of one client (or of several, with `show_client`).
#[component]
pub fn SubscriptionTable(
    items: Vec<Subscription>,
    #[prop(optional)] show_client: bool,
) -> impl IntoView {
    let mut columns = vec![Col::Text("Plan")];
    if show_client {
        columns.push(Col::Text("Client"));
    }
    columns.extend([
        Col::Num("Price / month"),
        Col::Text("Period"),
        Col::Text("Dates"),
        Col::Text("Auto-renew"),
        Col::Text("Status"),
        Col::Num("Margin"),
    ]);
    let rows = items
        .into_iter()
        .map(|s| {
            let company = s.client_company.clone();
            let client = show_client.then(|| {
                view! {
                    <td>
                        <A href=format!("/clients/{}", s.client_id)>{company}</A>
                    </td>
                }
            });
            let range = dates(&s);
            let margin = amount(s.margin.as_ref());
            let plan = s.plan_name.clone();
            view! {
                <tr data-testid="subscription-row" data-plan=s.plan_name.clone()>
                    <td>
                        <A href=format!("/subscriptions/{}", s.id)>{plan}</A>
                    </td>
                    {client}
                    <td class="num nowrap" data-testid="subscription-price">{s.price.display()}</td>
                    <td>{period_text(s.period_months)}</td>
                    <td class="nowrap">{range}</td>
                    <td>{if s.auto_renew { "yes" } else { "no" }}</td>
                    <td>
                        <SubscriptionBadge status=s.status />
                    </td>
                    <td class="num nowrap">{margin}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <DataTable columns=columns compact=true flat=true testid="subscriptions-table" caption="Subscriptions">
            {rows}
        </DataTable>
    }
}
