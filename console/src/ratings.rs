//! Ratings (`/app/ratings`, seed 003's CSAT for operators): the account's
//! average, the distribution of 1 to 5 stars and the newest comments, for
//! one site or all and a period (`GET /v1/ratings`). Widget, app and ticket
//! ratings count alike; a comment links to what was rated.
//!
//! Test hooks: `data-form="ratings-filter"`, `data-stars` on each bar,
//! `data-average`, and a `data-id` row per comment.

use edgechat_shared::api::rating::{RatingComment, RatingsReport};
use edgechat_shared::api::sites::SiteList;
use leptos::prelude::*;

use crate::{api, ui};

/// The account's sites as `(id, name)`, loaded once, for the site filters
/// of this page and of the complaints page.
pub fn load_sites() -> RwSignal<Vec<(i64, String)>> {
    let sites = RwSignal::new(Vec::new());
    leptos::task::spawn_local(async move {
        if let Ok(list) = api::get::<SiteList>("/v1/sites").await {
            sites.set(list.sites.into_iter().map(|s| (s.id, s.name)).collect());
        }
    });
    sites
}

/// A site `<select>` with "All sites" (value `""`) first.
#[component]
pub fn SiteFilter(sites: RwSignal<Vec<(i64, String)>>, site: RwSignal<String>) -> impl IntoView {
    view! {
        <label>"Site"
            <select name="site" on:change=move |ev| site.set(event_target_value(&ev)) prop:value=move || site.get()>
                <option value="">"All sites"</option>
                <For each=move || sites.get() key=|(id, name)| (*id, name.clone()) let:s>
                    <option value=s.0.to_string()>{s.1.clone()}</option>
                </For>
            </select>
        </label>
    }
}

/// The first day of the last `days` days (today included), `YYYY-MM-DD` in UTC.
fn first_day(days: u32) -> String {
    let ms = js_sys::Date::now() - f64::from(days.saturating_sub(1)) * 86_400_000.0;
    String::from(js_sys::Date::new(&ms.into()).to_iso_string()).chars().take(10).collect()
}

/// The filters and the report they give.
#[derive(Clone, Copy)]
struct Report {
    /// Site id, or `""` for all.
    site: RwSignal<String>,
    /// The last this many days; 0 for all time.
    days: RwSignal<u32>,
    report: RwSignal<Option<RatingsReport>>,
    error: RwSignal<Option<String>>,
}

impl Report {
    /// Loads the report again whenever a filter changes.
    fn new() -> Report {
        let report =
            Report { site: RwSignal::new(String::new()), days: RwSignal::new(30), report: RwSignal::new(None), error: RwSignal::new(None) };
        // The newest request: an answer to an older one (filters changed meanwhile) is dropped.
        let latest = StoredValue::new(String::new());
        Effect::new(move |_| {
            let path = report.path();
            latest.set_value(path.clone());
            leptos::task::spawn_local(async move {
                let answer = api::get::<RatingsReport>(&path).await;
                if latest.get_value() != path {
                    return;
                }
                match answer {
                    Ok(answer) => {
                        report.error.set(None);
                        report.report.set(Some(answer));
                    }
                    Err(err) => report.error.set(Some(err.message)),
                }
            });
        });
        report
    }

    /// `GET /v1/ratings` with the current filters.
    fn path(&self) -> String {
        let mut query = Vec::new();
        let site = self.site.get();
        if !site.is_empty() {
            query.push(format!("site_id={}", api::encode(&site)));
        }
        let days = self.days.get();
        if days > 0 {
            query.push(format!("from={}", first_day(days)));
        }
        format!("/v1/ratings?{}", query.join("&"))
    }
}

/// The ratings page.
#[component]
pub fn RatingsPage() -> impl IntoView {
    let sites = load_sites();
    let report = Report::new();
    let set_days = move |ev| report.days.set(event_target_value(&ev).parse().unwrap_or(0));
    view! {
        <div class="settings">
            <section class="settings-body settings-page" aria-labelledby="ratings-title">
                <div class="settings-head">
                    <h1 id="ratings-title">"Ratings"</h1>
                    <form class="feedback-filters" data-form="ratings-filter" on:submit=|ev| ev.prevent_default()>
                        <SiteFilter sites=sites site=report.site />
                        <label>"Period"
                            <select name="period" on:change=set_days prop:value=move || report.days.get().to_string()>
                                <option value="7">"Last 7 days"</option>
                                <option value="30">"Last 30 days"</option>
                                <option value="90">"Last 90 days"</option>
                                <option value="0">"All time"</option>
                            </select>
                        </label>
                    </form>
                </div>
                <ui::ErrorNote error=report.error />
                {move || report.report.get().map(|r| view! { <Summary report=r /> })}
            </section>
        </div>
    }
}

/// Average, count, bars and comments of one report.
#[component]
fn Summary(report: RatingsReport) -> impl IntoView {
    let count = report.count;
    let most = report.distribution.iter().copied().max().unwrap_or(0).max(1);
    let average = report.average.map(|a| ui::decimal(a, 2)).unwrap_or_else(|| "–".into());
    let bars = (1..=5usize)
        .rev()
        .map(|stars| {
            let n = report.distribution.get(stars - 1).copied().unwrap_or(0);
            let width = format!("width: {}%", n * 100 / most);
            view! {
                <li data-stars=stars.to_string()>
                    <span class="stars-label">{format!("{stars} ★")}</span>
                    <span class="bar" role="img" aria-label=format!("{n} ratings of {stars} stars")><span class="fill" style=width></span></span>
                    <span class="bar-count">{n.to_string()}</span>
                </li>
            }
        })
        .collect_view();
    let empty = report.comments.is_empty();
    view! {
        <div class="card rating-summary">
            <p><strong class="rating-average" data-average=average.clone()>{average.clone()}</strong>" average of "{format!("{count} rating{}", if count == 1 { "" } else { "s" })}</p>
            <ul class="rating-bars">{bars}</ul>
        </div>
        <h2>"Comments"</h2>
        {empty.then(|| view! { <p class="empty">"No comment in this period."</p> })}
        <ul class="settings-list rating-comments">
            {report.comments.into_iter().map(|c| view! { <CommentRow comment=c /> }).collect_view()}
        </ul>
    }
}

/// One comment, its stars, time and a link to what was rated.
#[component]
fn CommentRow(comment: RatingComment) -> impl IntoView {
    let link = match (comment.ticket_id, comment.conversation_id) {
        (Some(ticket), _) => {
            let label = format!("Ticket {}", comment.ticket_reference.clone().unwrap_or_default());
            view! { <a href=format!("/app/tickets/{ticket}")>{label}</a> }.into_any()
        }
        (None, Some(id)) => view! { <a href=format!("/app/conversations/{id}")>"Conversation"</a> }.into_any(),
        (None, None) => ().into_any(),
    };
    let id = comment.ticket_id.map(|t| format!("t{t}")).or(comment.conversation_id.map(|c| format!("c{c}"))).unwrap_or_default();
    view! {
        <li class="item" data-id=id>
            <div class="item-head">
                <strong class="title" aria-label=format!("{} stars", comment.stars)>{"★".repeat(comment.stars.clamp(0, 5) as usize)}</strong>
                <span class="muted">{ui::clock(&comment.created_at)}</span>
                {link}
            </div>
            <p>{comment.comment.clone()}</p>
        </li>
    }
}
