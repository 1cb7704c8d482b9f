//! Settings: Sites (to be built).

use leptos::prelude::*;

/// The Sites settings; `admin` is false for agents (read-only).
#[component]
pub fn Sites(admin: bool) -> impl IntoView {
    let _ = admin;
    view! { <p class="empty">"Coming soon."</p> }
}
