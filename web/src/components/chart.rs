//! A small horizontal bar chart drawn as inline SVG (no charting library in the bundle).

use leptos::prelude::*;

#[derive(Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: u64,
    /// CSS class giving the bar its colour.
    pub class: &'static str,
}

#[component]
pub fn BarChart(#[prop(into)] title: String, bars: Vec<Bar>) -> impl IntoView {
    const ROW: f64 = 34.0;
    const LABEL_W: f64 = 130.0;
    const BAR_W: f64 = 250.0;
    const WIDTH: f64 = LABEL_W + BAR_W + 50.0;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let height = ROW * bars.len() as f64;
    let summary = format!(
        "{title}: {}",
        bars.iter()
            .map(|b| format!("{} {}", b.label, b.value))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = bars
        .into_iter()
        .enumerate()
        .map(|(i, bar)| {
            let y = i as f64 * ROW;
            let w = if bar.value == 0 {
                2.0
            } else {
                (bar.value as f64 / max * BAR_W).max(4.0)
            };
            view! {
                <g>
                    <text x="0" y=y + 21.0 class="chart-label">
                        {bar.label.clone()}
                    </text>
                    <rect x=LABEL_W y=y + 8.0 width=BAR_W height="18" rx="4" class="chart-track"></rect>
                    <rect x=LABEL_W y=y + 8.0 width=w height="18" rx="4" class=bar.class></rect>
                    <text x=LABEL_W + BAR_W + 10.0 y=y + 21.0 class="chart-value">
                        {bar.value}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="chart"
            viewBox=format!("0 0 {WIDTH} {height}")
            role="img"
            aria-label=summary
            preserveAspectRatio="xMinYMin meet"
        >
            {rows}
        </svg>
    }
}
