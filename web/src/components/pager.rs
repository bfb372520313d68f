use leptos::prelude::*;

/// "Showing 21–40 of 57" with previous/next buttons; hidden controls when one page fits all.
#[component]
pub fn Pager(
    page: RwSignal<u64>,
    total: u64,
    per_page: u64,
    /// What is counted, singular and plural: ("user", "users").
    noun: (&'static str, &'static str),
) -> impl IntoView {
    let noun = if total == 1 { noun.0 } else { noun.1 };
    let per_page = per_page.max(1);
    let pages = total.div_ceil(per_page).max(1);
    let current = page.get_untracked().min(pages);
    let first = if total == 0 {
        0
    } else {
        (current - 1) * per_page + 1
    };
    let last = (current * per_page).min(total);
    let summary = if total == 0 {
        String::new()
    } else if pages == 1 {
        format!("{total} {noun}")
    } else {
        format!("Showing {first}–{last} of {total} {noun}")
    };
    view! {
        <div class="pager">
            <span class="muted">{summary}</span>
            {(pages > 1)
                .then(|| {
                    view! {
                        <div class="pager-buttons">
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                disabled={current <= 1}
                                on:click=move |_| page.update(|p| *p = p.saturating_sub(1).max(1))
                            >
                                "← Previous"
                            </button>
                            <span class="muted">{format!("Page {current} of {pages}")}</span>
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                disabled={current >= pages}
                                on:click=move |_| page.update(|p| *p += 1)
                            >
                                "Next →"
                            </button>
                        </div>
                    }
                })}
        </div>
    }
}
