//! Settings (`/app/settings/{section}`): sites, knowledge base, proactive
//! rules and team for owners and admins; agents see what the API lets them
//! read, read-only; everyone edits their own profile and password.

mod kb;
mod proactive;
mod profile;
mod sites;
mod team;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::session::Session;

/// The settings page of the `:section` in the URL.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let params = use_params_map();
    let section = move || params.with(|p| p.get("section").unwrap_or_default());
    let admin = move || Session::get().signed().is_some_and(|s| s.is_admin());
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
                {move || match section().as_str() {
                    "sites" => view! { <sites::Sites admin=admin() /> }.into_any(),
                    "kb" => view! { <kb::KnowledgeBase admin=admin() /> }.into_any(),
                    "proactive" => view! { <proactive::Proactive admin=admin() /> }.into_any(),
                    "team" => view! { <team::Team admin=admin() /> }.into_any(),
                    "profile" => view! { <profile::Profile /> }.into_any(),
                    _ => view! { <p class="empty">"No such settings page."</p> }.into_any(),
                }}
            </section>
        </div>
    }
}
