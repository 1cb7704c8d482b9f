//! Settings (`/app/settings/{section}`): sites, knowledge base, proactive
//! rules and team for owners and admins; agents see what the API lets them
//! read, read-only; everyone edits their own profile and password.
//!
//! Test hooks: every form has a `data-form` attribute (`site-edit`,
//! `article-import`, …) and every list row a `data-id` with the row's id.

mod answer_test;
mod article_import;
mod kb;
mod proactive;
mod profile;
mod site_form;
mod site_picker;
mod sites;
mod team;

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
                <A href="/app/settings/profile">"Profile"</A>
            </nav>
            <section class="settings-body">
                {move || match section.get().as_str() {
                    "sites" => view! { <sites::Sites admin=admin.get() /> }.into_any(),
                    "kb" => view! { <kb::KnowledgeBase admin=admin.get() /> }.into_any(),
                    "proactive" => view! { <proactive::Proactive admin=admin.get() /> }.into_any(),
                    "team" => view! { <team::Team admin=admin.get() /> }.into_any(),
                    "profile" => view! { <profile::Profile /> }.into_any(),
                    _ => view! { <p class="empty">"No such settings page."</p> }.into_any(),
                }}
            </section>
        </div>
    }
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
