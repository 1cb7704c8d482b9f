//! Settings: Proactive (to be built).

use leptos::prelude::*;

/// The Proactive settings; `admin` is false for agents (read-only).
#[component]
pub fn Proactive(admin: bool) -> impl IntoView {
    let _ = admin;
    view! { <p class="empty">"Coming soon."</p> }
}
