//! The operator's live channel: one WebSocket per tab to the account's
//! `Inbox` (`GET /v1/messaging/token`, then `/v1/chat/live?token=`).
//!
//! Every [`LiveEvent`] of the account arrives here and goes to the
//! listeners that views register with [`listen`]. When the socket drops,
//! it reconnects with exponential backoff (1 s doubling to 30 s, with
//! jitter) and bumps [`Live::epoch`], so views refetch what they may have
//! missed. A close with 4001/4003 (the session ended or the permission
//! changed, `SessionEnd`) refreshes the session first; a failed refresh
//! signs out. A close with 4002 (the access token the socket was opened
//! with expired) reconnects as any drop does: the token request refreshes
//! the session when it needs to. A `ping` every 20 s finds dead connections the browser did
//! not notice.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use edgechat_shared::api::events::{LiveEvent, MessagingToken, HEARTBEAT_SECONDS};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::api;

/// First reconnect delay, in ms; it doubles on each failure.
const BACKOFF_START_MS: f64 = 1_000.0;
/// Longest reconnect delay, in ms.
const BACKOFF_MAX_MS: f64 = 30_000.0;
/// A socket silent for this long (no frame, not even `pong`) is replaced, in ms.
const SILENCE_MS: f64 = (HEARTBEAT_SECONDS as f64 * 2.0 + 5.0) * 1000.0;

/// The live channel's state, provided as context.
#[derive(Clone, Copy)]
pub struct Live {
    /// `true` while the socket is open.
    pub connected: RwSignal<bool>,
    /// Bumped on every (re)connection after the first: views resync.
    pub epoch: RwSignal<u32>,
}

impl Live {
    /// The app's live channel.
    pub fn get() -> Live {
        expect_context::<Live>()
    }
}

type Listener = Rc<dyn Fn(&LiveEvent)>;

struct Channel {
    live: Live,
    socket: Option<WebSocket>,
    /// Bumped by [`stop`] and each new connection: callbacks of an older socket do nothing.
    generation: u32,
    backoff_ms: f64,
    last_frame_ms: f64,
    timers: Vec<i32>,
}

thread_local! {
    static CHANNEL: RefCell<Option<Channel>> = const { RefCell::new(None) };
    static LISTENERS: RefCell<Vec<(u64, Listener)>> = const { RefCell::new(Vec::new()) };
    static NEXT_LISTENER: Cell<u64> = const { Cell::new(0) };
}

/// Calls `f` with every live event until the calling view is disposed.
pub fn listen(f: impl Fn(&LiveEvent) + 'static) {
    let id = NEXT_LISTENER.get();
    NEXT_LISTENER.set(id + 1);
    LISTENERS.with_borrow_mut(|all| all.push((id, Rc::new(f))));
    on_cleanup(move || LISTENERS.with_borrow_mut(|all| all.retain(|(i, _)| *i != id)));
}

fn dispatch(event: &LiveEvent) {
    // Listeners may register or drop listeners: call a snapshot.
    let listeners: Vec<Listener> = LISTENERS.with_borrow(|all| all.iter().map(|(_, l)| Rc::clone(l)).collect());
    for listener in listeners {
        listener(event);
    }
}

/// Creates the live state; [`start`] opens the socket.
pub fn provide() -> Live {
    let live = Live { connected: RwSignal::new(false), epoch: RwSignal::new(0) };
    CHANNEL.with_borrow_mut(|c| {
        *c = Some(Channel { live, socket: None, generation: 0, backoff_ms: BACKOFF_START_MS, last_frame_ms: 0.0, timers: Vec::new() })
    });
    provide_context(live);
    live
}

/// Opens the socket (once signed in); does nothing when one is open.
pub fn start() {
    let running = CHANNEL.with_borrow(|c| c.as_ref().is_some_and(|c| c.socket.is_some()));
    if !running {
        let generation = CHANNEL.with_borrow_mut(|c| c.as_mut().map(|c| c.generation)).unwrap_or(0);
        leptos::task::spawn_local(connect(generation));
    }
}

/// Closes the socket and stops reconnecting (signed out).
pub fn stop() {
    CHANNEL.with_borrow_mut(|c| {
        if let Some(channel) = c.as_mut() {
            channel.generation += 1;
            if let Some(socket) = channel.socket.take() {
                let _ = socket.close();
            }
            if let Some(window) = web_sys::window() {
                channel.timers.drain(..).for_each(|t| window.clear_timeout_with_handle(t));
            }
            channel.backoff_ms = BACKOFF_START_MS;
            channel.live.connected.set(false);
        }
    });
}

/// `true` while `generation` is the current one.
fn current(generation: u32) -> bool {
    CHANNEL.with_borrow(|c| c.as_ref().is_some_and(|c| c.generation == generation))
}

async fn connect(generation: u32) {
    if !current(generation) {
        return;
    }
    let token: MessagingToken = match api::get("/v1/messaging/token").await {
        Ok(token) => token,
        Err(err) if err.status == 401 || err.status == 403 => return,
        Err(_) => return retry_later(generation),
    };
    if !current(generation) {
        return;
    }
    let Some(location) = web_sys::window().map(|w| w.location()) else { return };
    let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
    let host = location.host().unwrap_or_default();
    let Ok(socket) = WebSocket::new(&format!("{scheme}://{host}{}", token.url)) else {
        return retry_later(generation);
    };
    let generation = CHANNEL.with_borrow_mut(|c| {
        let channel = c.as_mut().expect("live::provide ran");
        channel.generation = generation + 1;
        channel.socket = Some(socket.clone());
        channel.last_frame_ms = js_sys::Date::now();
        channel.generation
    });

    let on_open = Closure::<dyn Fn()>::new(move || {
        CHANNEL.with_borrow_mut(|c| {
            if let Some(channel) = c.as_mut().filter(|c| c.generation == generation) {
                channel.backoff_ms = BACKOFF_START_MS;
                channel.live.connected.set(true);
                // Events may have been missed before this open: views resync.
                channel.live.epoch.update(|e| *e += 1);
            }
        });
        heartbeat(generation);
    });
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        CHANNEL.with_borrow_mut(|c| {
            if let Some(channel) = c.as_mut().filter(|c| c.generation == generation) {
                channel.last_frame_ms = js_sys::Date::now();
            }
        });
        let parsed = event
            .data()
            .as_string()
            .filter(|text| text != "pong")
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .and_then(|value| serde_wasm_bindgen::from_value::<LiveEvent>(value).ok());
        if let Some(event) = parsed.filter(|_| current(generation)) {
            dispatch(&event);
        }
    });
    let on_close = Closure::<dyn Fn(CloseEvent)>::new(move |event: CloseEvent| {
        if !current(generation) {
            return;
        }
        CHANNEL.with_borrow_mut(|c| {
            if let Some(channel) = c.as_mut() {
                channel.socket = None;
                channel.live.connected.set(false);
            }
        });
        if matches!(event.code(), 4001 | 4003) {
            // The credentials behind the socket ended: a fresh access token first.
            leptos::task::spawn_local(async move {
                match crate::session::refresh().await {
                    Ok(()) => retry_later(generation),
                    Err(_) => crate::session::signed_out(),
                }
            });
        } else {
            retry_later(generation);
        }
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The socket owns its handlers from here on.
    on_open.forget();
    on_message.forget();
    on_close.forget();
}

/// Sends `ping` every heartbeat and replaces a socket that stayed silent.
fn heartbeat(generation: u32) {
    let callback = Closure::once_into_js(move || {
        let socket = CHANNEL.with_borrow(|c| c.as_ref().filter(|c| c.generation == generation).and_then(|c| c.socket.clone()));
        let Some(socket) = socket else { return };
        let silent = CHANNEL.with_borrow(|c| c.as_ref().map(|c| js_sys::Date::now() - c.last_frame_ms).unwrap_or(0.0));
        if silent > SILENCE_MS {
            // onclose does the reconnecting.
            let _ = socket.close();
            return;
        }
        let _ = socket.send_with_str("ping");
        heartbeat(generation);
    });
    set_timer(callback, (HEARTBEAT_SECONDS * 1000) as i32);
}

/// Reconnects after the current backoff, which then doubles.
fn retry_later(generation: u32) {
    let delay = CHANNEL.with_borrow_mut(|c| {
        let channel = c.as_mut()?;
        (channel.generation == generation).then(|| {
            let delay = channel.backoff_ms * (0.75 + js_sys::Math::random() * 0.5);
            channel.backoff_ms = (channel.backoff_ms * 2.0).min(BACKOFF_MAX_MS);
            delay
        })
    });
    let Some(delay) = delay else { return };
    let callback = Closure::once_into_js(move || leptos::task::spawn_local(connect(generation)));
    set_timer(callback, delay as i32);
}

fn set_timer(callback: JsValue, ms: i32) {
    let Some(window) = web_sys::window() else { return };
    if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), ms) {
        CHANNEL.with_borrow_mut(|c| {
            if let Some(channel) = c.as_mut() {
                channel.timers.push(handle);
                // Keep the list short: old handles have fired.
                let excess = channel.timers.len().saturating_sub(8);
                channel.timers.drain(..excess);
            }
        });
    }
}
