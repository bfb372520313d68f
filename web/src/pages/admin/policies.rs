//! Every team's approval policy on one page, each editable where it is shown.

use super::AdminHeader;
use crate::components::feedback::{Empty, ErrorBanner, SkeletonRows};
use crate::pages::teams::PolicyPanel;
use crate::remote::remote;
use leptos::prelude::*;
use shared::dto::{Page, Team, PER_PAGE_MAX};

#[component]
pub fn PoliciesPage() -> impl IntoView {
    let teams = remote::<Page<Team>>(|| format!("/api/teams?per_page={PER_PAGE_MAX}"));
    let retry = Callback::new(move |_| teams.refetch());
    view! {
        <section class="page">
            <AdminHeader
                title="Approval policies"
                intro="A team's requests go through its policy's steps in order; a request within a step's auto-approval limits is approved at once. Teams without a policy of their own wait for any administrator."
            />
            {move || match teams.get() {
                None => view! { <SkeletonRows rows=3 /> }.into_any(),
                Some(Err(e)) => view! { <ErrorBanner error=e on_retry=retry /> }.into_any(),
                Some(Ok(page)) if page.items.is_empty() => {
                    view! {
                        <Empty
                            title="No teams yet"
                            hint="Create a team on the Teams page; its approval policy appears here."
                        />
                    }
                        .into_any()
                }
                Some(Ok(page)) => {
                    page.items
                        .into_iter()
                        .map(|team| {
                            view! {
                                <div class="policy-of-team" data-testid="team-policy">
                                    <h2 class="policy-team">{team.name}</h2>
                                    <PolicyPanel team_id=team.id manage=true />
                                </div>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            }}
        </section>
    }
}
