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
    // Integer coordinates keep float formatting out of the wasm.
    const ROW: u64 = 34;
    const LABEL_W: u64 = 130;
    const BAR_W: u64 = 250;
    const WIDTH: u64 = LABEL_W + BAR_W + 50;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let height = ROW * bars.len() as u64;
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
            let y = i as u64 * ROW;
            let w = if bar.value == 0 {
                2
            } else {
                (bar.value.saturating_mul(BAR_W) / max).max(4)
            };
            view! {
                <g>
                    <text x="0" y=y + 21 class="chart-label">
                        {bar.label.clone()}
                    </text>
                    <rect x=LABEL_W y=y + 8 width=BAR_W height="18" rx="4" class="chart-track"></rect>
                    <rect x=LABEL_W y=y + 8 width=w height="18" rx="4" class=bar.class></rect>
                    <text x=LABEL_W + BAR_W + 10 y=y + 21 class="chart-value">
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
