//! "Make a ticket" from a conversation (`POST /v1/tickets {subject,
//! conversation_id}`): the ticket is linked to the conversation and its
//! visitor; the console then opens it in the Tickets view.

use edgechat_shared::api::tickets::{NewTicket, TicketDetail, MAX_SUBJECT_CHARS};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::{api, team, ui};

/// The dialog asking for the subject of a ticket made from conversation `conversation_id`.
#[component]
pub fn MakeTicketDialog(conversation_id: i64, on_close: Callback<()>) -> impl IntoView {
    let subject = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewTicket { subject: subject.get_untracked(), conversation_id: Some(conversation_id), ..Default::default() };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::post::<TicketDetail>("/v1/tickets", &body).await {
                Ok(made) => {
                    on_close.run(());
                    navigate(&format!("/app/tickets/{}", made.ticket.id), Default::default());
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <team::Dialog title="Make a ticket" on_close=on_close>
            <form data-form="make-ticket" on:submit=save>
                <label>"Subject" <input type="text" name="subject" required maxlength=MAX_SUBJECT_CHARS.to_string() bind:value=subject /></label>
                <ui::ErrorNote error=error />
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary">"Make ticket"</button>
                </div>
            </form>
        </team::Dialog>
    }
}
