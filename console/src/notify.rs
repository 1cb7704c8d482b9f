//! Optional desktop notifications and a short sound for new conversations
//! and visitor messages while the console's tab is hidden.
//!
//! Off until the operator turns them on with the bell button: only that
//! click asks the browser's permission (browsers refuse prompts that no
//! gesture started). The choice, not a secret, is remembered in
//! `localStorage` under `edgechat:console:notify`.
//!
//! Conversations the operator muted (seed 002, `POST …/{id}/mute`) never
//! alert: the inbox tells this module which ones are muted ([`set_muted`]).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

const STORAGE_KEY: &str = "edgechat:console:notify";

thread_local! {
    static ENABLED: Cell<bool> = const { Cell::new(false) };
    static MUTED: RefCell<HashSet<i64>> = RefCell::new(HashSet::new());
}

/// Remembers whether conversation `id` is muted for the signed-in operator.
pub fn set_muted(id: i64, muted: bool) {
    MUTED.with_borrow_mut(|all| {
        if muted {
            all.insert(id);
        } else {
            all.remove(&id);
        }
    });
}

/// `true` when conversation `id` is known to be muted.
pub fn is_muted(id: i64) -> bool {
    MUTED.with_borrow(|all| all.contains(&id))
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn permission() -> NotificationPermission {
    if js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("Notification")).unwrap_or(false) {
        Notification::permission()
    } else {
        NotificationPermission::Denied
    }
}

/// The bell button in the navigation: turns alerts on (asking permission) and off.
#[component]
pub fn Toggle() -> impl IntoView {
    let stored = storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten()).as_deref() == Some("on");
    let on = RwSignal::new(stored && permission() == NotificationPermission::Granted);
    ENABLED.set(on.get_untracked());
    let click = move |_| {
        if on.get_untracked() {
            on.set(false);
            ENABLED.set(false);
            if let Some(s) = storage() {
                let _ = s.remove_item(STORAGE_KEY);
            }
            return;
        }
        leptos::task::spawn_local(async move {
            let granted = match Notification::request_permission() {
                Ok(promise) => {
                    wasm_bindgen_futures::JsFuture::from(promise).await.ok().and_then(|v| v.as_string()).as_deref() == Some("granted")
                }
                Err(_) => false,
            };
            // The sound works without the permission.
            on.set(true);
            ENABLED.set(true);
            if let Some(s) = storage() {
                let _ = s.set_item(STORAGE_KEY, "on");
            }
            let _ = granted;
        });
    };
    view! {
        <button type="button" class="icon" on:click=click aria-pressed=move || on.get().to_string()
            title=move || if on.get() { "Alerts on: click to turn off" } else { "Turn on alerts for new messages" }>
            {move || if on.get() { "🔔" } else { "🔕" }}
            <span class="sr-only">"Alerts"</span>
        </button>
    }
}

fn hidden() -> bool {
    web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.hidden())
}

/// Alerts the operator to `title`/`body` of conversation `id` when alerts
/// are on and the tab is hidden: a notification (click opens the
/// conversation) and a short tone.
/// A muted conversation never alerts.
pub fn alert(title: &str, body: &str, id: i64) {
    if !ENABLED.get() || is_muted(id) || !hidden() {
        return;
    }
    beep();
    if permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&body.chars().take(140).collect::<String>());
    options.set_tag(&format!("edgechat-{id}"));
    if let Ok(notification) = Notification::new_with_options(title, &options) {
        let onclick = Closure::once_into_js(move || {
            if let Some(window) = web_sys::window() {
                let _ = window.focus();
                let _ = window.location().set_href(&format!("/app/conversations/{id}"));
            }
        });
        notification.set_onclick(Some(onclick.unchecked_ref()));
    }
}

/// A 150 ms, 880 Hz tone through the Web Audio API.
fn beep() {
    let Ok(context) = web_sys::AudioContext::new() else { return };
    let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain()) else { return };
    oscillator.frequency().set_value(880.0);
    gain.gain().set_value(0.08);
    if oscillator.connect_with_audio_node(&gain).is_err() || gain.connect_with_audio_node(&context.destination()).is_err() {
        return;
    }
    let start = context.current_time();
    let _ = oscillator.start_with_when(start);
    let _ = oscillator.stop_with_when(start + 0.15);
}
