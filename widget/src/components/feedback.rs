//! Inline forms of the conversation: leave contact details, rate the chat,
//! email a copy.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Api;
use crate::i18n::{self, text, Text};
use crate::session;

/// "Leave your email": email (required), name and phone (optional). Shown
/// after the first answer until the visitor leaves an address.
#[component]
pub fn ContactForm(api: StoredValue<Api>, #[prop(into)] prompt: Signal<String>, on_saved: Callback<String>) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        busy.set(true);
        spawn_local(async move {
            let address = email.get_untracked();
            match api.contact(&session_id, &address, &name.get_untracked(), &phone.get_untracked()).await {
                Ok(()) => {
                    session::remember_contact(&api.site_key);
                    on_saved.run(address.trim().to_string());
                }
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    let input = move |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    view! {
        <form class="ec-form ec-contact" on:submit=submit>
            <p class="ec-form-title">{move || prompt.get()}</p>
            <input class="ec-input ec-email" type="email" required autocomplete="email" placeholder="you@example.com"
                aria-label=text(Text::Email) prop:value=move || email.get() on:input=input(email) />
            <input class="ec-input ec-name" type="text" autocomplete="name" placeholder=text(Text::NameOptional)
                aria-label=text(Text::Name) prop:value=move || name.get() on:input=input(name) />
            <input class="ec-input ec-phone" type="tel" autocomplete="tel" placeholder=text(Text::PhoneOptional)
                aria-label=text(Text::Phone) prop:value=move || phone.get() on:input=input(phone) />
            <Show when=move || error.with(Option::is_some)>
                <p class="ec-form-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button class="ec-send ec-save" type="submit" disabled=move || busy.get()>{text(Text::Save)}</button>
        </form>
    }
}

pub(crate) fn star_class(on: bool) -> &'static str {
    if on {
        "ec-star ec-on"
    } else {
        "ec-star"
    }
}

/// Five star buttons setting `score` (1–5): a labelled group of toggle
/// buttons, each named "n of 5 stars" and pressed when it is the choice, so
/// Tab reaches them and Enter or Space chooses.
#[component]
pub(crate) fn Stars(score: RwSignal<i64>) -> impl IntoView {
    let locale = i18n::locale();
    view! {
        <div class="ec-stars" role="group" aria-label=text(Text::Rating)>
            {(1..=5i64).map(|n| view! {
                <button type="button" class=move || star_class(score.get() >= n) data-score=n
                    aria-label=move || i18n::fill(i18n::t(locale.get(), Text::StarsOfFive), "{n}", &n.to_string())
                    aria-pressed=move || if score.get() == n { "true" } else { "false" }
                    on:click=move |_| score.set(n)>"★"</button>
            }).collect_view()}
        </div>
    }
}

/// A 1–5 star rating with an optional comment, offered when the
/// conversation is closed (seed 003's CSAT prompt).
#[component]
pub fn RatingForm(api: StoredValue<Api>) -> impl IntoView {
    let score = RwSignal::new(0i64);
    let comment = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        if score.get_untracked() == 0 {
            error.set(Some(i18n::now(Text::ChooseStars).into()));
            return;
        }
        spawn_local(async move {
            match api.rate(&session_id, score.get_untracked(), &comment.get_untracked()).await {
                Ok(()) => done.set(true),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    // The submitted form goes away with the focused button in it: the focus
    // moves to the thanks, so it stays in the panel (Esc, Tab go on working).
    let thanks = NodeRef::<leptos::html::P>::new();
    Effect::new(move || {
        if let Some(p) = thanks.get() {
            let _ = p.focus();
        }
    });
    view! {
        <Show when=move || !done.get()
            fallback=move || view! { <p class="ec-notice ec-thanks" role="status" tabindex="-1" node_ref=thanks>{text(Text::ThanksFeedback)}</p> }>
            <form class="ec-form ec-rating" on:submit=submit>
                <p class="ec-form-title">{text(Text::HowWasIt)}</p>
                <Stars score />
                <input class="ec-input ec-comment" type="text" placeholder=text(Text::TellUsMore) aria-label=text(Text::Comment)
                    prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev)) />
                <Show when=move || error.with(Option::is_some)>
                    <p class="ec-form-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </Show>
                <button class="ec-send ec-submit-rating" type="submit">{text(Text::SendRating)}</button>
            </form>
        </Show>
    }
}

/// "Email me a copy" of the closed conversation, sent to the contact email
/// the visitor left; shows "Sent" (or why not, e.g. no email left yet).
#[component]
pub fn TranscriptButton(api: StoredValue<Api>) -> impl IntoView {
    let status = RwSignal::new(None::<String>);
    let send = move |_| {
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        status.set(Some(i18n::now(Text::Sending).into()));
        spawn_local(async move {
            status.set(Some(match api.transcript(&session_id).await {
                Ok(()) => i18n::now(Text::Sent).into(),
                Err(message) => message,
            }));
        });
    };
    view! {
        <Show when=move || status.with(Option::is_some)
            fallback=move || view! { <button type="button" class="ec-send ec-transcript" on:click=send>{text(Text::EmailCopy)}</button> }>
            <p class="ec-notice ec-transcript-status" role="status">{move || status.get().unwrap_or_default()}</p>
        </Show>
    }
}
