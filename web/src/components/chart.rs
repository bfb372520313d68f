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

/// One column of a [`ColumnChart`].
#[derive(Clone, PartialEq)]
pub struct Column {
    /// A stable name for the column (`2026-11`), in `data-key`.
    pub key: String,
    /// Under the column (`Nov`).
    pub label: String,
    /// A second line under the label (the year), or empty.
    pub sublabel: String,
    /// The height, in the series' own unit (cents); negative values draw as zero.
    pub value: i64,
    /// What the value reads as (`EUR 49.90`), for the tooltip and screen readers.
    pub text: String,
}

/// A vertical column chart (one series over time) as inline SVG with a value axis (zero, half
/// and the largest value, with grid lines) and each column's value written above it; each
/// column carries `data-testid="bar"`, its key and its value.
#[component]
pub fn ColumnChart(
    #[prop(into)] title: String,
    columns: Vec<Column>,
    /// CSS class giving the columns their colour.
    class: &'static str,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    // Integer coordinates keep float formatting out of the wasm.
    const COL: i64 = 64;
    const BAR: i64 = 34;
    const PLOT: i64 = 160;
    const TOP: i64 = 24;
    // The value axis on the left, labelled with the columns' own formatted values.
    const AXIS: i64 = 72;
    let width = AXIS + COL * columns.len().max(1) as i64;
    let height = TOP + PLOT + 40;
    let max = columns.iter().map(|c| c.value).max().unwrap_or(0).max(1);
    let top_text = columns
        .iter()
        .filter(|c| c.value == max)
        .map(|c| c.text.clone())
        .next()
        .unwrap_or_default();
    let summary = format!(
        "{title}: {}",
        columns
            .iter()
            .map(|c| format!("{} {}", c.key, c.text))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let baseline = TOP + PLOT;
    let grid = [(TOP, top_text), (baseline, "0".to_string())]
        .into_iter()
        .map(|(y, label)| {
            view! {
                <g class="chart-axis">
                    <line x1=AXIS - 6 y1=y x2=width y2=y class="chart-grid"></line>
                    <text x=AXIS - 10 y=y + 4 text-anchor="end" class="chart-label">{label}</text>
                </g>
            }
        })
        .collect_view();
    let bars = columns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let value = c.value.max(0);
            let h = if value == 0 {
                0
            } else {
                // i128: cents of a large month times the plot height must not overflow.
                ((i128::from(value) * i128::from(PLOT) / i128::from(max)) as i64).max(3)
            };
            let x = AXIS + i as i64 * COL + (COL - BAR) / 2;
            let centre = AXIS + i as i64 * COL + COL / 2;
            let tip = format!("{}: {}", c.key, c.text);
            view! {
                <g data-testid="bar" data-key=c.key.clone() data-value=value.to_string()>
                    <title>{tip}</title>
                    <rect x=x y=TOP width=BAR height=PLOT rx="4" class="chart-track"></rect>
                    <rect x=x y=baseline - h width=BAR height=h rx="4" class=class></rect>
                    // An empty month says nothing: the axis already reads zero.
                    {(value > 0)
                        .then(|| {
                            view! {
                                <text
                                    x=centre
                                    y=baseline - h - 5
                                    text-anchor="middle"
                                    class="chart-value chart-column-value"
                                    data-testid="bar-value"
                                >
                                    {c.text.clone()}
                                </text>
                            }
                        })}
                    <text x=centre y=baseline + 17 text-anchor="middle" class="chart-label">
                        {c.label}
                    </text>
                    <text x=centre y=baseline + 33 text-anchor="middle" class="chart-label chart-sublabel">
                        {c.sublabel}
                    </text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg
            class="chart chart-columns"
            data-testid=testid
            viewBox=format!("0 0 {width} {height}")
            role="img"
            aria-label=summary
            preserveAspectRatio="xMinYMin meet"
        >
            {grid}
            {bars}
        </svg>
    }
}
