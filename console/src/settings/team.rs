//! Settings: Team (to be built).

use leptos::prelude::*;

/// The Team settings; `admin` is false for agents (read-only).
#[component]
pub fn Team(admin: bool) -> impl IntoView {
    let _ = admin;
    view! { <p class="empty">"Coming soon."</p> }
}
