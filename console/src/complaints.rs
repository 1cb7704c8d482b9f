//! Complaints (`/app/complaints`, seed 003's complaints for operators):
//! the account's complaints newest first, filtered by category, status and
//! site (`GET /v1/complaints`, "Load more" follows the cursor), each marked
//! handled or reopened with a note (`PATCH /v1/complaints/{id}`).
//!
//! Test hooks: `data-form="complaints-filter"`, a `data-id` and
//! `data-status` per row, `data-form="complaint-handle"` per row.

use edgechat_shared::api::complaints::{Complaint, ComplaintCategory, ComplaintChange, ComplaintList, ComplaintStatus};
use leptos::prelude::*;

use crate::ratings::{load_sites, SiteFilter};
use crate::{api, ui};

/// The filters, the rows loaded so far and the next page's cursor.
#[derive(Clone, Copy)]
struct Complaints {
    category: RwSignal<String>,
    /// `open` (the default), `handled`, or `""` for both.
    status: RwSignal<String>,
    site: RwSignal<String>,
    list: RwSignal<Vec<Complaint>>,
    next: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    /// The newest page asked for: an answer to an older one (filters changed meanwhile) is dropped.
    latest: StoredValue<String>,
}

impl Complaints {
    /// Loads the first page again whenever a filter changes.
    fn new() -> Complaints {
        let complaints = Complaints {
            category: RwSignal::new(String::new()),
            status: RwSignal::new("open".into()),
            site: RwSignal::new(String::new()),
            list: RwSignal::new(Vec::new()),
            next: RwSignal::new(None),
            error: RwSignal::new(None),
            latest: StoredValue::new(String::new()),
        };
        Effect::new(move |_| {
            let path = complaints.path(None);
            complaints.list.set(Vec::new());
            leptos::task::spawn_local(complaints.load(path));
        });
        complaints
    }

    /// `GET /v1/complaints` with the filters, after `cursor`.
    fn path(&self, cursor: Option<String>) -> String {
        let pairs = [("category", self.category.get()), ("status", self.status.get()), ("site_id", self.site.get())];
        let mut query: Vec<String> = pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", api::encode(v))).collect();
        if let Some(cursor) = cursor {
            query.push(format!("cursor={}", api::encode(&cursor)));
        }
        format!("/v1/complaints?{}", query.join("&"))
    }

    /// Appends the page at `path`.
    async fn load(self, path: String) {
        self.latest.set_value(path.clone());
        let answer = api::get::<ComplaintList>(&path).await;
        if self.latest.get_value() != path {
            return;
        }
        match answer {
            Ok(page) => {
                self.error.set(None);
                self.list.update(|all| all.extend(page.complaints));
                self.next.set(page.next_cursor);
            }
            Err(err) => self.error.set(Some(err.message)),
        }
    }

    /// Replaces a changed complaint in the list.
    fn put(self, complaint: Complaint) {
        self.list.update(|all| {
            if let Some(row) = all.iter_mut().find(|c| c.id == complaint.id) {
                *row = complaint;
            }
        });
    }
}

/// The complaints page.
#[component]
pub fn ComplaintsPage() -> impl IntoView {
    let sites = load_sites();
    let complaints = Complaints::new();
    let more = move |_| {
        let path = complaints.path(complaints.next.get_untracked());
        leptos::task::spawn_local(complaints.load(path));
    };
    view! {
        <div class="settings">
            <section class="settings-body settings-page" aria-labelledby="complaints-title">
                <div class="settings-head">
                    <h1 id="complaints-title">"Complaints"</h1>
                    <form class="feedback-filters" data-form="complaints-filter" on:submit=|ev| ev.prevent_default()>
                        <label>"Category"
                            <select name="category" on:change=move |ev| complaints.category.set(event_target_value(&ev))>
                                <option value="">"All categories"</option>
                                {ComplaintCategory::ALL.map(|c| view! { <option value=c.as_str()>{c.as_str()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"Status"
                            <select name="status" on:change=move |ev| complaints.status.set(event_target_value(&ev))>
                                <option value="open" selected>"Open"</option>
                                <option value="handled">"Handled"</option>
                                <option value="">"All"</option>
                            </select>
                        </label>
                        <SiteFilter sites=sites site=complaints.site />
                    </form>
                </div>
                <ui::ErrorNote error=complaints.error />
                {move || complaints.list.with(Vec::is_empty).then(|| view! { <p class="empty">"No complaint matches."</p> })}
                <ul class="settings-list complaints">
                    <For each=move || complaints.list.get() key=|c| (c.id, c.status.as_str(), c.handled_at.clone(), c.note.clone()) let:complaint>
                        <ComplaintRow complaints=complaints complaint=complaint />
                    </For>
                </ul>
                {move || complaints.next.with(Option::is_some).then(|| view! { <button type="button" on:click=more>"Load more"</button> })}
            </section>
        </div>
    }
}

/// Who filed it: name, email or the site's user id.
fn filed_by(complaint: &Complaint) -> String {
    complaint
        .user
        .as_ref()
        .and_then(|u| u.name.clone().or_else(|| u.email.clone()).or_else(|| u.user_id.clone()))
        .unwrap_or_else(|| "A deleted user".into())
}

/// One complaint: category, text, links, who handled it; mark handled or reopen with a note.
#[component]
fn ComplaintRow(complaints: Complaints, complaint: Complaint) -> impl IntoView {
    let id = complaint.id;
    let handled = complaint.status == ComplaintStatus::Handled;
    let note = RwSignal::new(complaint.note.clone().unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let status = if handled { "open" } else { "handled" };
        let change = ComplaintChange { status: status.into(), note: Some(note.get_untracked()) };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::patch::<Complaint>(&format!("/v1/complaints/{id}"), &change).await {
                Ok(saved) => complaints.put(saved),
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let handled_line = complaint.handled_at.as_ref().map(|at| {
        format!("Handled by {} · {}", complaint.handled_by_name.clone().unwrap_or_else(|| "a removed operator".into()), ui::clock(at))
    });
    view! {
        <li class="item complaint" data-id=id.to_string() data-status=complaint.status.as_str()>
            <div class="item-head">
                <span class="tag">{complaint.category.as_str()}</span>
                <strong class="title">{filed_by(&complaint)}</strong>
                <span class="muted">{ui::clock(&complaint.created_at)}</span>
                {complaint.conversation_id.map(|c| view! { <a href=format!("/app/conversations/{c}")>"Conversation"</a> })}
                {complaint.ticket_id.map(|t| {
                    let label = format!("Ticket {}", complaint.ticket_reference.clone().unwrap_or_default());
                    view! { <a href=format!("/app/tickets/{t}")>{label}</a> }
                })}
                {handled.then(|| view! { <span class="tag on">"Handled"</span> })}
            </div>
            <p class="complaint-text">{complaint.description.clone()}</p>
            {handled_line.map(|line| view! { <p class="muted">{line}</p> })}
            <form class="complaint-handle" data-form="complaint-handle" on:submit=submit>
                <label>"Note" <input type="text" name="note" maxlength="2000" bind:value=note /></label>
                <button type="submit" class=if handled { "" } else { "primary" } disabled=move || busy.get()>
                    {if handled { "Reopen" } else { "Mark handled" }}
                </button>
            </form>
            <ui::ErrorNote error=error />
        </li>
    }
}
