//! The Tickets view (issue 14): `/app/tickets` lists the account's tickets
//! newest first with a status filter (`GET /v1/tickets?status=`), and
//! `/app/tickets/{id}` shows one beside the list ([`detail`]). A `ticket`
//! live event reloads the list, so another operator's change shows at once.

mod detail;
mod make;

pub use make::MakeTicketDialog;

use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::tickets::{Ticket, TicketList, TicketStatus};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::{api, live, ui};

/// The list's state: the tickets shown, the filter, where the next page starts.
#[derive(Clone, Copy)]
struct Tickets {
    list: RwSignal<Vec<Ticket>>,
    status: RwSignal<Option<TicketStatus>>,
    next: RwSignal<Option<String>>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

impl Tickets {
    fn new() -> Tickets {
        Tickets {
            list: RwSignal::new(Vec::new()),
            status: RwSignal::new(None),
            next: RwSignal::new(None),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
        }
    }

    fn path(self, cursor: Option<&str>) -> String {
        let mut query = Vec::new();
        if let Some(status) = self.status.get_untracked() {
            query.push(format!("status={}", status.as_str()));
        }
        if let Some(cursor) = cursor {
            query.push(format!("cursor={}", api::encode(cursor)));
        }
        if query.is_empty() {
            "/v1/tickets".into()
        } else {
            format!("/v1/tickets?{}", query.join("&"))
        }
    }

    /// Loads the first page again (a filter change, a live event).
    fn reload(self) {
        leptos::task::spawn_local(async move {
            match api::get::<TicketList>(&self.path(None)).await {
                Ok(page) => {
                    self.list.set(page.tickets);
                    self.next.set(page.next_cursor);
                    self.error.set(None);
                }
                Err(err) => self.error.set(Some(err.message)),
            }
            self.loaded.set(true);
        });
    }

    /// Appends the next page.
    fn more(self) {
        let Some(cursor) = self.next.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            match api::get::<TicketList>(&self.path(Some(&cursor))).await {
                Ok(page) => {
                    self.list.update(|all| all.extend(page.tickets));
                    self.next.set(page.next_cursor);
                }
                Err(err) => self.error.set(Some(err.message)),
            }
        });
    }
}

/// `/app/tickets` and `/app/tickets/{id}`.
#[component]
pub fn TicketsPage() -> impl IntoView {
    let params = use_params_map();
    let open = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    let tickets = Tickets::new();
    tickets.reload();
    live::listen(move |event| {
        if let LiveEvent::Ticket { .. } = event {
            tickets.reload();
        }
    });
    let filter = move |ev| {
        tickets.status.set(TicketStatus::parse(&event_target_value(&ev)));
        tickets.reload();
    };
    view! {
        <div class="inbox tickets">
            <aside class="list" aria-label="Tickets">
                <div class="filters">
                    <label class="inline">"Status"
                        <select name="status" aria-label="Status filter" on:change=filter>
                            <option value="">"All"</option>
                            {TicketStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                        </select>
                    </label>
                </div>
                <ui::ErrorNote error=tickets.error />
                <ul class="conversations ticket-list">
                    <For each=move || tickets.list.get() key=|t| (t.id, t.updated_at.clone()) let:ticket>
                        <TicketRow ticket=ticket open=open />
                    </For>
                </ul>
                {move || (tickets.loaded.get() && tickets.list.with(Vec::is_empty)).then(|| view! { <p class="empty">"No tickets here."</p> })}
                <Show when=move || tickets.next.with(Option::is_some)>
                    <button type="button" class="more" on:click=move |_| tickets.more()>"Load more"</button>
                </Show>
            </aside>
            <main class="pane" aria-label="Ticket">
                {move || match open.get() {
                    Some(id) => view! { <detail::TicketDetailView id=id on_change=Callback::new(move |_| tickets.reload()) /> }.into_any(),
                    None => view! { <p class="empty">"Pick a ticket to work on it."</p> }.into_any(),
                }}
            </main>
        </div>
    }
}

#[component]
fn TicketRow(ticket: Ticket, open: Memo<Option<i64>>) -> impl IntoView {
    let id = ticket.id;
    let now = ui::now();
    let updated = ticket.updated_at.clone();
    view! {
        <li data-ticket=id.to_string() data-status=ticket.status.as_str() class:selected=move || open.get() == Some(id)>
            <A href=format!("/app/tickets/{id}")>
                <span class="row-top">
                    <strong class="who">{ticket.reference.clone()}</strong>
                    <time class="since">{move || ui::since(&updated, now.get())}</time>
                </span>
                <span class="row-bottom"><span class="preview">{ticket.subject.clone()}</span></span>
                <span class="tags"><span class="tag status">{ticket.status.label()}</span></span>
            </A>
        </li>
    }
}
