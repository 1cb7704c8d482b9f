//! One ticket (`GET /v1/tickets/{id}`): its reference, subject and status,
//! a link to its conversation, the timeline of every change, the chat's
//! newest messages, and the form that changes its status with a note
//! (`PATCH /v1/tickets/{id}`).

use edgechat_shared::api::tickets::{ActorKind, TicketChange, TicketDetail, TicketStatus, TimelineEntry, TimelineKind};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::{api, ui};

/// What one timeline entry says, e.g. "Submitted → In progress".
fn describe(entry: &TimelineEntry) -> String {
    match entry.kind {
        TimelineKind::Created => "Ticket made".into(),
        TimelineKind::Status => match entry.from_status {
            Some(from) => format!("{} → {}", from.label(), entry.to_status.label()),
            None => entry.to_status.label().into(),
        },
        TimelineKind::Assigned => match entry.assignee_id {
            Some(id) => format!("Assigned to operator #{id}"),
            None => "Unassigned".into(),
        },
        TimelineKind::Note => "Note".into(),
        TimelineKind::Clarify => "The user asked for the status".into(),
    }
}

fn who(entry: &TimelineEntry) -> String {
    match (entry.actor.kind, entry.actor.name.clone()) {
        (ActorKind::Operator, Some(name)) => name,
        (ActorKind::Operator, None) => "An operator".into(),
        (ActorKind::User, name) => name.unwrap_or_else(|| "The user".into()),
    }
}

/// Ticket `id`, loaded when drawn; `on_change` runs after a saved change.
#[component]
pub fn TicketDetailView(id: i64, on_change: Callback<()>) -> impl IntoView {
    let detail = RwSignal::new(None::<TicketDetail>);
    let error = RwSignal::new(None::<String>);
    leptos::task::spawn_local(async move {
        match api::get::<TicketDetail>(&format!("/v1/tickets/{id}")).await {
            Ok(d) => detail.set(Some(d)),
            Err(err) => error.set(Some(err.message)),
        }
    });
    view! {
        <section class="ticket" data-ticket=id.to_string()>
            <ui::ErrorNote error=error />
            {move || detail.get().map(|d| {
                let conversation = d.ticket.conversation_id;
                view! {
                    <header class="pane-head">
                        <h2><span class="reference">{d.ticket.reference.clone()}</span>" "{d.ticket.subject.clone()}</h2>
                        <span class="tag status" data-status=d.ticket.status.as_str()>{d.ticket.status.label()}</span>
                        {conversation.map(|c| view! { <A href=format!("/app/conversations/{c}")>"Open the conversation"</A> })}
                    </header>
                    <StatusForm id=id current=d.ticket.status detail=detail on_change=on_change />
                    <h3>"Timeline"</h3>
                    <ol class="timeline">
                        {d.timeline.iter().map(|entry| view! {
                            <li data-kind=entry.kind.as_str()>
                                <time>{ui::clock(&entry.at)}</time>" "
                                <strong>{describe(entry)}</strong>" · "{who(entry)}
                                {entry.note.clone().map(|n| view! { <p class="note">{n}</p> })}
                            </li>
                        }).collect_view()}
                    </ol>
                    <h3>"Conversation"</h3>
                    {d.messages.is_empty().then(|| view! { <p class="muted">"No conversation yet: the user's first reply starts one."</p> })}
                    <ul class="ticket-messages">
                        {d.messages.iter().map(|m| view! {
                            <li class=format!("message {}", m.role.as_str())><time>{ui::clock(&m.created_at)}</time>" "{m.content.clone()}</li>
                        }).collect_view()}
                    </ul>
                }
            })}
        </section>
    }
}

/// Change the status, with an optional note (both on the timeline).
#[component]
fn StatusForm(id: i64, current: TicketStatus, detail: RwSignal<Option<TicketDetail>>, on_change: Callback<()>) -> impl IntoView {
    let status = RwSignal::new(current.as_str().to_string());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let note_text = note.get_untracked().trim().to_string();
        let body = TicketChange {
            status: TicketStatus::parse(&status.get_untracked()),
            note: (!note_text.is_empty()).then_some(note_text),
            assignee_id: None,
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::patch::<TicketDetail>(&format!("/v1/tickets/{id}"), &body).await {
                Ok(after) => {
                    detail.set(Some(after));
                    note.set(String::new());
                    error.set(None);
                    on_change.run(());
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="ticket-status" data-form="ticket-status" on:submit=save>
            <label>"Status"
                <select name="status" prop:value=move || status.get() on:change=move |ev| status.set(event_target_value(&ev))>
                    {TicketStatus::ALL.into_iter().map(|s| view! { <option value=s.as_str() selected=s == current>{s.label()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Note" <textarea name="note" rows="2" maxlength="2000" placeholder="Optional, for the team" bind:value=note></textarea></label>
            <ui::ErrorNote error=error />
            <button type="submit" class="primary" disabled=move || busy.get()>"Save"</button>
        </form>
    }
}
