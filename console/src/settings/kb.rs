//! Settings: KnowledgeBase (to be built).

use leptos::prelude::*;

/// The KnowledgeBase settings; `admin` is false for agents (read-only).
#[component]
pub fn KnowledgeBase(admin: bool) -> impl IntoView {
    let _ = admin;
    view! { <p class="empty">"Coming soon."</p> }
}
