//! Settings (`/app/settings/{section}`): sites, knowledge base, proactive
//! rules, team and integrations (API keys, webhooks) for owners and admins; agents see what the API lets them
//! read, read-only; everyone edits their own profile and password.
//!
//! Test hooks: every form has a `data-form` attribute (`site-edit`,
//! `article-import`, …) and every list row a `data-id` with the row's id.

mod answer_test;
mod article_import;
mod integrations;
mod kb;
mod proactive;
mod profile;
mod site_form;
mod site_picker;
mod site_theme;
mod sites;
mod team;
mod webhook_deliveries;
mod webhooks;

use std::cell::RefCell;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use wasm_bindgen_futures::JsFuture;

use crate::session::Session;

/// The settings page of the `:section` in the URL.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let params = use_params_map();
    let section = Memo::new(move |_| params.with(|p| p.get("section").unwrap_or_default()));
    // A memo, so that a profile change (a new session user) does not redraw the page.
    let admin = Memo::new(move |_| Session::get().signed().is_some_and(|s| s.is_admin()));
    view! {
        <div class="settings">
            <nav class="tabs" aria-label="Settings">
                <A href="/app/settings/sites">"Sites"</A>
                <A href="/app/settings/kb">"Knowledge base"</A>
                <A href="/app/settings/proactive">"Proactive messages"</A>
                <A href="/app/settings/team">"Team"</A>
                <A href="/app/settings/integrations">"Integrations"</A>
                <A href="/app/settings/profile">"Profile"</A>
            </nav>
            <section class="settings-body">
                {move || match section.get().as_str() {
                    "sites" => view! { <sites::Sites admin=admin.get() /> }.into_any(),
                    "kb" => view! { <kb::KnowledgeBase admin=admin.get() /> }.into_any(),
                    "proactive" => view! { <proactive::Proactive admin=admin.get() /> }.into_any(),
                    "team" => view! { <team::Team admin=admin.get() /> }.into_any(),
                    "integrations" => view! { <integrations::Integrations admin=admin.get() /> }.into_any(),
                    "profile" => view! { <profile::Profile /> }.into_any(),
                    _ => view! { <p class="empty">"No such settings page."</p> }.into_any(),
                }}
            </section>
        </div>
    }
}

thread_local! {
    /// A note carried over to the page drawn next (see [`carry_note`]).
    static CARRIED_NOTE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Shows `note` in `target`, and keeps it for the page drawn in this one's
/// place ([`carried_note`]) until [`drop_carried_note`]: the shell draws
/// every page again when the signed-in operator changes (their name, their
/// role), which is what the caller is about to do.
fn carry_note(target: RwSignal<Option<String>>, note: String) {
    target.set(Some(note.clone()));
    CARRIED_NOTE.with_borrow_mut(|carried| *carried = Some(note));
}

/// Forgets the carried note once the page has been drawn again (after the
/// tasks already queued).
fn drop_carried_note() {
    let forget = wasm_bindgen::closure::Closure::once_into_js(|| CARRIED_NOTE.with_borrow_mut(Option::take));
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(wasm_bindgen::JsCast::unchecked_ref(&forget), 0);
    }
}

/// The note a page drawn again after [`carry_note`] shows.
fn carried_note() -> Option<String> {
    CARRIED_NOTE.with_borrow_mut(Option::take)
}

/// Moves the keyboard focus to `field` once it is drawn (the first field of
/// a form that just opened, whose opening button is then disabled).
fn focus_when_drawn<E>(field: NodeRef<E>)
where
    E: leptos::html::ElementType,
    E::Output: wasm_bindgen::JsCast + Clone + 'static,
{
    Effect::new(move |_| {
        if let Some(element) = field.get() {
            let _ = wasm_bindgen::JsCast::unchecked_ref::<web_sys::HtmlElement>(&element).focus();
        }
    });
}

/// Asks the person to confirm `question` (`window.confirm`); `false` when they cancel.
fn confirm(question: &str) -> bool {
    web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
}

/// `text` trimmed, or `None` when it is blank.
fn non_blank(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// A button that copies `text` to the clipboard (`navigator.clipboard`) and
/// says whether it worked; `label` is its text, e.g. "Copy snippet".
#[component]
fn CopyButton(#[prop(into)] text: Signal<String>, label: &'static str) -> impl IntoView {
    let said = RwSignal::new(None::<&'static str>);
    let copy = move |_| {
        let text = text.get_untracked();
        leptos::task::spawn_local(async move {
            let Some(window) = web_sys::window() else { return };
            let copied = JsFuture::from(window.navigator().clipboard().write_text(&text)).await.is_ok();
            said.set(Some(if copied { "Copied." } else { "Copying failed: select the text and copy it by hand." }));
        });
    };
    view! {
        <button type="button" on:click=copy>{label}</button>
        <span class="copy-note" role="status">{move || said.get()}</span>
    }
}
