//! The visitor's live channel: a browser `EventSource` on
//! `GET /api/v1/chat/events`. The browser reconnects by itself and sends
//! `Last-Event-ID`, so the worker replays exactly what was missed.

use edgechat_shared::api::events::LiveEvent;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::api::Api;
use crate::wire::{self, Json};

/// The event names the worker sends (`LiveEvent::name`).
const EVENTS: [&str; 7] = ["message", "typing", "mode", "read", "status", "message_updated", "reaction"];

thread_local! {
    /// The open live channel: one per page.
    static CURRENT: std::cell::RefCell<Option<EventSource>> = const { std::cell::RefCell::new(None) };
}

/// Closes the open live channel, if any (the session was reset).
pub fn close() {
    if let Some(source) = CURRENT.with_borrow_mut(Option::take) {
        source.close();
    }
}

/// Opens the live channel of `session_id`, replaying messages after
/// `after_seq`; calls `on_open(true)` when it is (re)connected,
/// `on_open(false)` when it drops, and `on_event` for each event. The
/// connection lives until [`close`] or a newer `connect`.
pub fn connect(
    api: &Api,
    session_id: &str,
    after_seq: i64,
    on_open: impl Fn(bool) + 'static,
    on_event: impl Fn(LiveEvent) + 'static,
) -> Option<EventSource> {
    let after = after_seq.to_string();
    let url = api.url("events", &[("site_key", &api.site_key), ("session_id", session_id), ("after_seq", &after)]);
    let source = EventSource::new(&url).ok()?;
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let parsed = event.data().as_string().and_then(|data| Json::parse(&data)).as_ref().and_then(wire::live_event);
        if let Some(live) = parsed {
            on_event(live);
        }
    });
    for name in EVENTS {
        let _ = source.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref());
    }
    let on_open = std::rc::Rc::new(on_open);
    let opened = std::rc::Rc::clone(&on_open);
    let open = Closure::<dyn Fn()>::new(move || opened(true));
    let error = Closure::<dyn Fn()>::new(move || on_open(false));
    source.set_onopen(Some(open.as_ref().unchecked_ref()));
    source.set_onerror(Some(error.as_ref().unchecked_ref()));
    // The handlers must outlive this call: they live as long as the page.
    handler.forget();
    open.forget();
    error.forget();
    close();
    CURRENT.with_borrow_mut(|current| *current = Some(source.clone()));
    Some(source)
}
