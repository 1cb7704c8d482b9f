//! Settings: the operator's profile and password (to be built).

use leptos::prelude::*;

/// The profile and password form.
#[component]
pub fn Profile() -> impl IntoView {
    view! { <p class="empty">"Coming soon."</p> }
}
