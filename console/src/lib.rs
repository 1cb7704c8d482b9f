//! `edgechat-console`: the operators' web inbox, Leptos CSR compiled to
//! wasm and served by the worker at `/app/` (`index.html` for every deep
//! link, so `/app/conversations/42` opens that conversation).
//!
//! It speaks only the public `/auth` and `/v1` API ([`api`]), with the
//! wire types of `edgechat-shared`, and the operator WebSocket ([`live`]).
//!
//! Routes:
//! - `/app/` the inbox; `/app/conversations/{id}` one conversation in it;
//!   `/app/ai` the conversations the AI is answering (seed 000's
//!   supervise-AI pane).
//! - `/app/ratings` CSAT ratings, `/app/complaints` users' complaints (seed 003).
//! - `/app/tickets` the account's tickets; `/app/tickets/{id}` one of them.
//! - `/app/settings/sites`, `/app/settings/kb`, `/app/settings/proactive`,
//!   `/app/settings/team`, `/app/settings/integrations`, `/app/settings/profile`.

mod api;
mod complaints;
mod conversation;
mod inbox;
mod live;
mod notify;
mod ratings;
mod search;
mod session;
mod settings;
mod team;
mod tickets;
mod ui;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::path;
use wasm_bindgen::prelude::*;

use crate::session::{Session, State};

/// Mounts the console on `<body>`.
#[wasm_bindgen(start)]
pub fn main() {
    leptos::mount::mount_to_body(App);
}

/// The whole console: the login until someone is signed in, then the shell.
#[component]
fn App() -> impl IntoView {
    ui::provide_clock();
    let session = session::start();
    provide_context(session);
    let live = live::provide();
    // The socket lives exactly as long as the sign-in.
    Effect::new(move |_| match session.state.get() {
        State::SignedIn(_) => live::start(),
        _ => live::stop(),
    });
    let _ = live;
    // Only a change of phase rebuilds the page: a refreshed token or a saved
    // profile keeps the shell (and the inbox's filters) as they are.
    let phase = Memo::new(move |_| match session.state.get() {
        State::Starting => 0,
        State::SignedOut => 1,
        State::SignedIn(_) => 2,
    });
    view! {
        <Router>
            {move || match phase.get() {
                0 => view! { <p class="boot" role="status">"Loading EdgeChat…"</p> }.into_any(),
                1 => view! { <Login /> }.into_any(),
                _ => view! { <Shell /> }.into_any(),
            }}
        </Router>
    }
}

/// The login form; it keeps what was typed after an error.
#[component]
fn Login() -> impl IntoView {
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            if let Err(err) = session::login(email.get_untracked(), password.get_untracked()).await {
                error.set(Some(err.message));
            }
            busy.set(false);
        });
    };
    view! {
        <main class="login">
            <form class="card login-card" on:submit=submit>
                <h1>"EdgeChat"</h1>
                <p class="muted">"Sign in to answer your visitors."</p>
                <label>"Email" <input type="email" name="email" autocomplete="username" required bind:value=email /></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required bind:value=password /></label>
                <ui::ErrorNote error=error />
                <button type="submit" class="primary" disabled=move || busy.get()>"Sign in"</button>
            </form>
        </main>
    }
}

/// The signed-in layout: navigation, then the page of the route.
#[component]
fn Shell() -> impl IntoView {
    let session = Session::get();
    let live = live::Live::get();
    let location = use_location();
    let in_conversation = move || location.pathname.get().starts_with("/app/conversations/");
    let name = move || session.signed().map(|s| s.user.display_name).unwrap_or_default();
    let logout = move |_| leptos::task::spawn_local(session::logout());
    inbox::provide();
    view! {
        <div class="shell" class:in-conversation=in_conversation>
            <nav class="nav" aria-label="Main">
                <span class="brand">"EdgeChat"</span>
                <A href="/app/" exact=true>"Inbox"</A>
                <A href="/app/ai">"AI active"</A>
                <A href="/app/ratings">"Ratings"</A>
                <A href="/app/complaints">"Complaints"</A>
                <A href="/app/tickets">"Tickets"</A>
                <A href="/app/settings/sites">"Settings"</A>
                <span class="spacer"></span>
                <span class="live-dot" class:on=move || live.connected.get() title=move || if live.connected.get() { "Live" } else { "Reconnecting…" }
                    role="status" aria-label=move || if live.connected.get() { "Live" } else { "Reconnecting" }></span>
                <notify::Toggle />
                <A href="/app/settings/profile">{name}</A>
                <button type="button" class="link" on:click=logout>"Log out"</button>
            </nav>
            <Routes fallback=|| view! { <p class="empty">"This page does not exist."</p> }>
                <Route path=path!("/app") view=inbox::InboxPage />
                <Route path=path!("/app/conversations/:id") view=inbox::InboxPage />
                <Route path=path!("/app/ai") view=inbox::AiActivePage />
                <Route path=path!("/app/ratings") view=ratings::RatingsPage />
                <Route path=path!("/app/complaints") view=complaints::ComplaintsPage />
                <Route path=path!("/app/tickets") view=tickets::TicketsPage />
                <Route path=path!("/app/tickets/:id") view=tickets::TicketsPage />
                <Route path=path!("/app/settings/:section") view=settings::SettingsPage />
            </Routes>
        </div>
    }
}
