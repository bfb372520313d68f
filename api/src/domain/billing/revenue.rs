//! Revenue: MRR and ARR per currency, the last twelve months with churn, the shares by client and
//! plan, the margin of every billed subscription, and all of it as CSV.

use super::subscriptions::to_dtos;
use super::{price_of, rows, status_of};
use crate::auth::AuthUser;
use crate::domain::teams;
use crate::entities::clients as client_rows;
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use shared::billing::{
    add_to, churn, months_back, revenue_by_month, totals_list, Billed, MarginRow, Money,
    MonthRevenue, Revenue, RevenueShare, Totals,
};
use shared::Permission;
use std::collections::HashMap;
use uuid::Uuid;

fn billed(row: &rows::Model, clients: &HashMap<Uuid, String>) -> Billed {
    Billed {
        client: clients.get(&row.client_id).cloned().unwrap_or_default(),
        plan: row.plan_name.clone(),
        price: price_of(row),
        start: row.start_date,
        stop: row.stopped_on,
    }
}

pub async fn revenue<C: ConnectionTrait>(
    db: &C,
    auth: &AuthUser,
    today: NaiveDate,
) -> ApiResult<Revenue> {
    auth.require(Permission::RevenueRead)?;
    let found = teams::scoped(auth, rows::Entity::find(), rows::Column::TeamId)
        .order_by_asc(rows::Column::CreatedAt)
        .all(db)
        .await?;
    let clients: HashMap<Uuid, String> = client_rows::Entity::find()
        .filter(client_rows::Column::Id.is_in(found.iter().map(|s| s.client_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.company))
        .collect();
    let all: Vec<Billed> = found.iter().map(|r| billed(r, &clients)).collect();
    let now_billed: Vec<&rows::Model> = found
        .iter()
        .filter(|r| status_of(r).is_billed() && r.start_date <= today)
        .collect();
    let mut mrr = Totals::new();
    let mut by_client: std::collections::BTreeMap<String, Totals> = Default::default();
    let mut by_plan: std::collections::BTreeMap<String, Totals> = Default::default();
    // Totals beyond i64 cents cannot come from validated prices; should the rows hold them, the
    // figures are refused (logged, 500) rather than wrapped.
    let too_large = |e: String| ApiError::Internal(anyhow::anyhow!("revenue figures: {e}"));
    for r in &now_billed {
        let price = price_of(r);
        add_to(&mut mrr, &price).map_err(too_large)?;
        add_to(
            by_client
                .entry(clients.get(&r.client_id).cloned().unwrap_or_default())
                .or_default(),
            &price,
        )
        .map_err(too_large)?;
        add_to(by_plan.entry(r.plan_name.clone()).or_default(), &price).map_err(too_large)?;
    }
    let arr = mrr
        .iter()
        .map(|(c, v)| Ok((c.clone(), v.checked_mul(12).ok_or("ARR is too large")?)))
        .collect::<Result<Totals, String>>()
        .map_err(too_large)?;
    let months = months_back(today, 12);
    let by_month = revenue_by_month(&all, &months)
        .map_err(too_large)?
        .into_iter()
        .map(|(first, totals)| MonthRevenue {
            month: first.format("%Y-%m").to_string(),
            totals: totals_list(&totals),
            churn: churn(&all, first),
        })
        .collect();
    let share = |map: std::collections::BTreeMap<String, Totals>| -> Vec<RevenueShare> {
        map.into_iter()
            .map(|(name, totals)| RevenueShare {
                name,
                mrr: totals_list(&totals),
            })
            .collect()
    };
    let dtos = to_dtos(db, now_billed.into_iter().cloned().collect()).await?;
    Ok(Revenue {
        today,
        mrr: totals_list(&mrr),
        arr: totals_list(&arr),
        by_month,
        by_client: share(by_client),
        by_plan: share(by_plan),
        margins: dtos
            .into_iter()
            .map(|s| MarginRow {
                subscription_id: s.id,
                client: s.client_company,
                plan: s.plan_name,
                price: s.price,
                cost: s.cost,
                margin: s.margin,
            })
            .collect(),
    })
}

/// One CSV line, quoting fields that need it (and neutralising spreadsheet formulas).
fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            let f = if f.starts_with(['=', '+', '-', '@']) {
                format!("'{f}")
            } else {
                f.clone()
            };
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}

/// The revenue figures as CSV: one row per month and currency, then one per subscription margin.
pub fn revenue_csv(revenue: &Revenue) -> String {
    let cents = |m: &Money| format!("{}.{:02}", m.cents / 100, (m.cents % 100).abs());
    let mut out = csv_line(&["section", "key", "currency", "amount", "extra"].map(String::from));
    for m in &revenue.mrr {
        out.push_str(&csv_line(&[
            "mrr".into(),
            revenue.today.to_string(),
            m.currency.clone(),
            cents(m),
            String::new(),
        ]));
    }
    for month in &revenue.by_month {
        for m in &month.totals {
            out.push_str(&csv_line(&[
                "month".into(),
                month.month.clone(),
                m.currency.clone(),
                cents(m),
                month
                    .churn
                    .map(|c| format!("churn {c}%"))
                    .unwrap_or_default(),
            ]));
        }
    }
    for row in &revenue.margins {
        out.push_str(&csv_line(&[
            "margin".into(),
            format!("{} / {}", row.client, row.plan),
            row.price.currency.clone(),
            cents(&row.price),
            row.margin.as_ref().map(cents).unwrap_or_default(),
        ]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(
            csv_line(&[
                "a,b".into(),
                "say \"hi\"".into(),
                "=cmd()".into(),
                "plain".into()
            ]),
            "\"a,b\",\"say \"\"hi\"\"\",'=cmd(),plain\r\n"
        );
    }
}
