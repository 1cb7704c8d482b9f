//! Inline forms of the conversation: leave contact details, rate the chat,
//! email a copy. Written to the DOM by hand ([`dom`]).

use reactive_graph::owner::StoredValue;
use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, Node};

use crate::api::Api;
use crate::dom;
use crate::i18n::{self, Text};
use crate::session;

/// A new `<input class="class" type="kind">` in `form`, named `label` for
/// assistive technology.
fn field(form: &Node, class: &str, kind: &str, label: Text) -> HtmlInputElement {
    let input: HtmlInputElement = dom::element(form, "input", class).unchecked_into();
    dom::attr(&input, "type", kind);
    dom::localized_attr(&input, "aria-label", label);
    input
}

/// Appends "Leave your email" to `parent`: email (required), name and
/// phone (optional), titled `prompt()`. Shown after the first answer until
/// the visitor leaves an address; `on_saved` gets the saved address
/// (`POST /api/v1/chat/contact`, seed 001).
pub fn contact_form(
    parent: &Node,
    api: StoredValue<Api>,
    prompt: impl Fn() -> String + 'static,
    on_saved: impl Fn(String) + Copy + 'static,
) {
    let form = dom::element(parent, "form", "ec-form ec-contact");
    dom::text(&dom::element(&form, "p", "ec-form-title"), prompt);
    let email = field(&form, "ec-input ec-email", "email", Text::Email);
    for (name, value) in [("required", ""), ("autocomplete", "email"), ("placeholder", "you@example.com")] {
        dom::attr(&email, name, value);
    }
    let name = field(&form, "ec-input ec-name", "text", Text::Name);
    dom::attr(&name, "autocomplete", "name");
    dom::localized_attr(&name, "placeholder", Text::NameOptional);
    let phone = field(&form, "ec-input ec-phone", "tel", Text::Phone);
    dom::attr(&phone, "autocomplete", "tel");
    dom::localized_attr(&phone, "placeholder", Text::PhoneOptional);
    let error = RwSignal::new(None::<String>);
    dom::alert(&form, "ec-form-error", error);
    let busy = RwSignal::new(false);
    let save = dom::element(&form, "button", "ec-send ec-save");
    dom::attr(&save, "type", "submit");
    dom::disabled(&save, move || busy.get());
    dom::localized(&save, Text::Save);
    dom::on(&form, "submit", move |ev| {
        ev.prevent_default();
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        busy.set(true);
        let (address, name, phone) = (email.value(), name.value(), phone.value());
        spawn_local(async move {
            match api.contact(&session_id, &address, &name, &phone).await {
                Ok(()) => {
                    session::remember_contact(&api.site_key);
                    on_saved(address.trim().to_string());
                }
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    });
}

/// The class of a star button: lit (`ec-on`) when `on`.
pub(crate) fn star_class(on: bool) -> &'static str {
    if on {
        "ec-star ec-on"
    } else {
        "ec-star"
    }
}

/// Appends five star buttons setting `score` (1–5) to `parent`: a labelled
/// group of toggle buttons, each named "n of 5 stars" and pressed when it
/// is the choice, so Tab reaches them and Enter or Space chooses.
fn stars(parent: &Node, score: RwSignal<i64>) {
    let group = dom::element(parent, "div", "ec-stars");
    dom::attr(&group, "role", "group");
    dom::localized_attr(&group, "aria-label", Text::Rating);
    let locale = i18n::locale();
    for n in 1..=5i64 {
        let star = dom::button(&group, "");
        let number = n.to_string();
        dom::attr(&star, "data-score", &number);
        star.set_text_content(Some("★"));
        let button = star.clone();
        dom::bind(move || {
            let chosen = score.get();
            dom::attr(&button, "class", star_class(chosen >= n));
            dom::attr(&button, "aria-pressed", if chosen == n { "true" } else { "false" });
            dom::attr(&button, "aria-label", &i18n::fill(i18n::t(locale.get(), Text::StarsOfFive), "{n}", &number));
        });
        dom::on(&star, "click", move |_| score.set(n));
    }
}

/// Appends a 1–5 star rating with an optional comment to `parent`, offered
/// when the conversation is closed (seed 003's CSAT prompt,
/// `POST /api/v1/chat/rate`); then a thanks that takes the focus, since
/// the submitted form goes away with the focused button in it (so Esc and
/// Tab go on working inside the panel).
pub fn rating_form(parent: &Node, api: StoredValue<Api>) {
    let score = RwSignal::new(0i64);
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    dom::show(
        parent,
        move || !done.get(),
        move |at| {
            let form = dom::element(at, "form", "ec-form ec-rating");
            dom::localized(&dom::element(&form, "p", "ec-form-title"), Text::HowWasIt);
            stars(&form, score);
            let comment = field(&form, "ec-input ec-comment", "text", Text::Comment);
            dom::localized_attr(&comment, "placeholder", Text::TellUsMore);
            dom::alert(&form, "ec-form-error", error);
            let submit = dom::element(&form, "button", "ec-send ec-submit-rating");
            dom::attr(&submit, "type", "submit");
            dom::localized(&submit, Text::SendRating);
            dom::on(&form, "submit", move |ev| {
                ev.prevent_default();
                let api = api.get_value();
                let Some(session_id) = session::stored(&api.site_key) else { return };
                if score.get_untracked() == 0 {
                    error.set(Some(i18n::now(Text::ChooseStars).into()));
                    return;
                }
                let comment = comment.value();
                spawn_local(async move {
                    match api.rate(&session_id, score.get_untracked(), &comment).await {
                        Ok(()) => done.set(true),
                        Err(message) => error.set(Some(message)),
                    }
                });
            });
        },
    );
    dom::show(
        parent,
        move || done.get(),
        |at| {
            let thanks = dom::element(at, "p", "ec-notice ec-thanks");
            dom::attr(&thanks, "role", "status");
            dom::attr(&thanks, "tabindex", "-1");
            dom::localized(&thanks, Text::ThanksFeedback);
            // Once it is on the page.
            dom::next_frame(move || drop(thanks.focus()));
        },
    );
}

/// Appends "Email me a copy" of the closed conversation to `parent`, sent
/// to the contact email the visitor left (`POST /api/v1/chat/transcript`);
/// then "Sent" (or why not, e.g. no email left yet) in its place.
pub fn transcript_button(parent: &Node, api: StoredValue<Api>) {
    let status = RwSignal::new(None::<String>);
    dom::show(
        parent,
        move || status.with(Option::is_none),
        move |at| {
            let button = dom::button(at, "ec-send ec-transcript");
            dom::localized(&button, Text::EmailCopy);
            dom::on(&button, "click", move |_| {
                let api = api.get_value();
                let Some(session_id) = session::stored(&api.site_key) else { return };
                status.set(Some(i18n::now(Text::Sending).into()));
                spawn_local(async move {
                    status.set(Some(match api.transcript(&session_id).await {
                        Ok(()) => i18n::now(Text::Sent).into(),
                        Err(message) => message,
                    }));
                });
            });
        },
    );
    dom::show(
        parent,
        move || status.with(Option::is_some),
        move |at| {
            let line = dom::element(at, "p", "ec-notice ec-transcript-status");
            dom::attr(&line, "role", "status");
            dom::text(&line, move || status.get().unwrap_or_default());
        },
    );
}
