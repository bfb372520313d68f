//! Revenue: MRR and ARR per currency, the last twelve months as a column chart with their
//! churn, MRR by client and by plan, each subscription's margin, and the CSV export.

use crate::api;
use crate::components::chart::{Column, ColumnChart};
use crate::components::feedback::{use_toasts, Empty, ErrorBanner};
use crate::components::list::PageHeader;
use crate::components::table::{Col, DataTable};
use crate::format::{amounts, percent_tenths};
use crate::pages::subscriptions::amount;
use crate::remote::remote;
use crate::task;
use leptos::prelude::*;
use leptos_router::components::A;
use shared::billing::{MarginRow, Money, MonthRevenue, Revenue, RevenueShare};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `2026-11` → (`Nov`, `2026`).
fn month_label(month: &str) -> (String, String) {
    match month.split_once('-') {
        Some((year, m)) => match m.parse::<usize>() {
            Ok(n) if (1..=12).contains(&n) => (MONTHS[n - 1].to_string(), year.to_string()),
            _ => (month.to_string(), String::new()),
        },
        None => (month.to_string(), String::new()),
    }
}

/// Every currency the figures mention, in a stable order: MRR's first, then the months'.
fn currencies(r: &Revenue) -> Vec<String> {
    let mut all: Vec<String> = r.mrr.iter().map(|m| m.currency.clone()).collect();
    for month in &r.by_month {
        for m in &month.totals {
            if !all.contains(&m.currency) {
                all.push(m.currency.clone());
            }
        }
    }
    all
}

/// One currency's revenue per month, as chart columns; the year shows under the first month
/// and under each January.
fn columns(months: &[MonthRevenue], currency: &str) -> Vec<Column> {
    months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let cents = m
                .totals
                .iter()
                .find(|t| t.currency == currency)
                .map_or(0, |t| t.cents);
            let (label, year) = month_label(&m.month);
            let sublabel = if i == 0 || label == "Jan" {
                year
            } else {
                String::new()
            };
            Column {
                key: m.month.clone(),
                label,
                sublabel,
                value: cents,
                text: Money::new(cents, currency).display(),
            }
        })
        .collect()
}

#[component]
pub fn RevenuePage() -> impl IntoView {
    let toasts = use_toasts();
    let revenue = remote::<Revenue>(|| "/api/revenue".into());
    let retry = Callback::new(move |_| revenue.refetch());
    let exporting = RwSignal::new(false);
    let export = move |_| {
        let name = match revenue.loaded_untracked() {
            Some(r) => format!("revenue-{}.csv", r.today),
            None => "revenue.csv".into(),
        };
        task::run(
            exporting,
            async move { api::get_text("/api/revenue.csv").await },
            move |result| match result.map_err(|e| e.message()).and_then(|csv| {
                crate::components::download::offer_file(&name, "text/csv;charset=utf-8", &csv)
            }) {
                Ok(()) => toasts.success("Revenue exported"),
                Err(m) => toasts.error(m),
            },
        );
    };
    view! {
        <section class="page">
            <PageHeader
                title="Revenue"
                description="What your clients' subscriptions bring in, per currency: amounts are never converted."
            >
                <button
                    type="button"
                    class="btn btn-ghost"
                    data-testid="revenue-export"
                    disabled=move || exporting.get()
                    aria-busy=move || exporting.get().then_some("true")
                    on:click=export
                >
                    {move || if exporting.get() { "Exporting…" } else { "Export CSV" }}
                </button>
            </PageHeader>
            {move || match revenue.get() {
                None => view! {
                    <div class="stats" aria-hidden="true">
                        {(0..4).map(|_| view! { <div class="card stat skeleton-card"></div> }).collect_view()}
                    </div>
                    <p class="sr-only" role="status">"Loading…"</p>
                }
                .into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(r)) => view! { <Figures revenue=r /> }.into_any(),
            }}
        </section>
    }
}

/// A figure card whose value is one line per currency.
#[component]
fn MoneyStat(
    label: &'static str,
    list: Vec<Money>,
    hint: &'static str,
    testid: &'static str,
) -> impl IntoView {
    let value = if list.is_empty() {
        view! { <span class="stat-value">"—"</span> }.into_any()
    } else {
        list.iter()
            .map(|m| {
                view! {
                    <span class="stat-value stat-money" data-currency=m.currency.clone()>
                        {m.display()}
                    </span>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <div class="card stat" data-testid=testid>
            <span class="stat-label">{label}</span>
            {value}
            <span class="stat-hint muted">{hint}</span>
        </div>
    }
}

#[component]
fn Figures(revenue: Revenue) -> impl IntoView {
    let billed = revenue.margins.len();
    let churn_now = revenue
        .by_month
        .last()
        .and_then(|m| m.churn)
        .map(percent_tenths)
        .unwrap_or_else(|| "—".into());
    let nothing = revenue.mrr.is_empty() && revenue.by_month.iter().all(|m| m.totals.is_empty());
    view! {
        <div class="stats" data-testid="revenue-stats">
            <MoneyStat
                label="MRR"
                list=revenue.mrr.clone()
                hint="monthly recurring revenue of billed subscriptions"
                testid="mrr"
            />
            <MoneyStat label="ARR" list=revenue.arr.clone() hint="MRR × 12" testid="arr" />
            <div class="card stat" data-testid="stat-billed">
                <span class="stat-label">"Billed subscriptions"</span>
                <span class="stat-value">{billed}</span>
                <span class="stat-hint muted">"active or expiring today"</span>
            </div>
            <div class="card stat" data-testid="stat-churn">
                <span class="stat-label">"Churn this month"</span>
                <span class="stat-value">{churn_now}</span>
                <span class="stat-hint muted">"of the subscriptions billed on the 1st"</span>
            </div>
        </div>
        {if nothing {
            view! {
                <Empty
                    icon="↗"
                    testid="revenue-empty"
                    title="No revenue yet"
                    hint="Figures appear once a client's subscription is billed."
                >
                    <A href="/clients" attr:class="btn btn-primary">
                        "Go to clients"
                    </A>
                </Empty>
            }
                .into_any()
        } else {
            view! {
                <MonthsCard revenue=revenue.clone() />
                <div class="grid-2">
                    <ShareCard title="By client" who="Client" rows=revenue.by_client.clone() testid="revenue-by-client" />
                    <ShareCard title="By plan" who="Plan" rows=revenue.by_plan.clone() testid="revenue-by-plan" />
                </div>
                <MarginsCard rows=revenue.margins.clone() />
            }
                .into_any()
        }}
    }
}

/// The twelve months as columns of one currency (chosen when there are several), and their churn.
#[component]
fn MonthsCard(revenue: Revenue) -> impl IntoView {
    let all = currencies(&revenue);
    let chosen = RwSignal::new(all.first().cloned().unwrap_or_else(|| "EUR".into()));
    let months = StoredValue::new(revenue.by_month.clone());
    let picker = (all.len() > 1).then(|| {
        view! {
            <div class="field field-inline">
                <label for="revenue-currency">"Currency"</label>
                <select
                    id="revenue-currency"
                    data-testid="revenue-currency"
                    prop:value=move || chosen.get()
                    on:change=move |ev| chosen.set(event_target_value(&ev))
                >
                    {all.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                </select>
            </div>
        }
    });
    let churn = revenue
        .by_month
        .iter()
        .map(|m| {
            let (label, year) = month_label(&m.month);
            let value = m.churn.map(percent_tenths).unwrap_or_else(|| "—".into());
            view! {
                <li data-month=m.month.clone()>
                    <span class="muted" title=format!("{label} {year}")>{label.clone()}</span>
                    <span>{value}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="card" data-testid="revenue-months">
            <div class="card-title-row">
                <h2 class="card-title">"Revenue, last 12 months"</h2>
                {picker}
            </div>
            <p class="muted small">"Each month's billed days, prorated from the monthly prices."</p>
            {move || {
                let currency = chosen.get();
                let cols = months.with_value(|m| columns(m, &currency));
                view! {
                    <ColumnChart
                        title=format!("Revenue per month in {currency}")
                        columns=cols
                        class="bar-revenue"
                        testid="revenue-chart"
                    />
                }
            }}
            <h3 class="subhead">"Churn per month"</h3>
            <ol class="churn-list" data-testid="revenue-churn" aria-label="Churn per month">
                {churn}
            </ol>
        </div>
    }
}

#[component]
fn ShareCard(
    title: &'static str,
    who: &'static str,
    rows: Vec<RevenueShare>,
    testid: &'static str,
) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <p class="muted">"No billed subscription."</p> }.into_any()
    } else {
        let rows = rows
            .into_iter()
            .map(|r| {
                view! {
                    <tr>
                        <td>{r.name}</td>
                        <td class="num nowrap">{amounts(&r.mrr)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <DataTable columns=vec![Col::Text(who), Col::Num("MRR")] compact=true flat=true testid=testid>
                {rows}
            </DataTable>
        }
        .into_any()
    };
    view! {
        <div class="card">
            <h2 class="card-title">{title}</h2>
            {body}
        </div>
    }
}

#[component]
fn MarginsCard(rows: Vec<MarginRow>) -> impl IntoView {
    let body = if rows.is_empty() {
        view! { <p class="muted">"No billed subscription."</p> }.into_any()
    } else {
        let rows = rows
            .into_iter()
            .map(|r| {
                let (cost, margin) = (amount(r.cost.as_ref()), amount(r.margin.as_ref()));
                view! {
                    <tr data-testid="margin-row">
                        <td>{r.client}</td>
                        <td>
                            <A href=format!("/subscriptions/{}", r.subscription_id)>{r.plan}</A>
                        </td>
                        <td class="num nowrap">{r.price.display()}</td>
                        <td class="num nowrap">{cost}</td>
                        <td class="num nowrap">{margin}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <DataTable
                columns=&[
                    Col::Text("Client"), Col::Text("Plan"), Col::Num("Price / month"), Col::Num("Server cost"),
                    Col::Num("Margin")
                ]
                compact=true
                flat=true
                testid="revenue-margins"
            >
                {rows}
            </DataTable>
        }
        .into_any()
    };
    view! {
        <div class="card">
            <h2 class="card-title">"Margins"</h2>
            <p class="muted small">
                "Price minus the catalog cost of the linked servers, in the subscription's currency."
            </p>
            {body}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_labelled_with_their_year_where_it_changes() {
        let month = |m: &str, cents: i64| MonthRevenue {
            month: m.into(),
            totals: vec![Money::new(cents, "EUR"), Money::new(1, "USD")],
            churn: None,
        };
        let cols = columns(
            &[
                month("2026-12", 100),
                month("2027-01", 4990),
                month("2027-02", 0),
            ],
            "EUR",
        );
        let labels: Vec<(&str, &str)> = cols
            .iter()
            .map(|c| (c.label.as_str(), c.sublabel.as_str()))
            .collect();
        assert_eq!(labels, [("Dec", "2026"), ("Jan", "2027"), ("Feb", "")]);
        assert_eq!(cols[1].value, 4990);
        assert_eq!(cols[1].text, "EUR 49.90");
        assert_eq!(columns(&[month("2026-12", 5)], "CHF")[0].value, 0);
    }
}
