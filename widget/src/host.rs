//! The page side of the widget: the `host` object `loader.js` hands to
//! [`crate::mount`]. Through it the widget raises the JavaScript API's
//! events (`EdgeChat('on', name, fn)`, README "JavaScript API"), closes the
//! panel the way the launcher does, and reads the locale the page chose.
//!
//! Every function here is a no-op (or answers `None`) before `mount`.

use std::cell::RefCell;

use edgechat_shared::api::Role;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `{emit(name, detail), close(), locale}` from `loader.js`.
    #[derive(Clone)]
    pub type Host;

    /// Calls the page's handlers of event `name` with `detail`.
    #[wasm_bindgen(method)]
    fn emit(this: &Host, name: &str, detail: &JsValue);

    /// Hides the panel, returns focus to the launcher and emits `close`.
    #[wasm_bindgen(method)]
    fn close(this: &Host);

    /// Imports the `app` build (signed-in users' requests) and mounts it
    /// in place of this module, with every command so far.
    #[wasm_bindgen(method)]
    fn upgrade(this: &Host);

    /// `EdgeChat('setLocale', code)`'s code, else the script tag's
    /// `data-locale`, else `null`.
    #[wasm_bindgen(method, getter)]
    fn locale(this: &Host) -> Option<String>;
}

thread_local! {
    static HOST: RefCell<Option<Host>> = const { RefCell::new(None) };
}

/// Keeps the loader's `host` object for the functions below (called by `mount`).
pub(crate) fn set(host: Host) {
    HOST.with_borrow_mut(|h| *h = Some(host));
}

/// Calls `f` with the host, if mounted; no borrow is held meanwhile, as the
/// page's handlers may call back into the widget.
fn with_host(f: impl FnOnce(&Host)) {
    if let Some(host) = HOST.with_borrow(Option::clone) {
        f(&host);
    }
}

/// A plain object of string-keyed fields, the `detail` of an event.
fn detail(fields: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (name, value) in fields {
        let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object.into()
}

/// Emits `message` `{role, content, seq, author_name}` for a stored message
/// of the AI or an operator that just arrived (`role` is `"ai"` or
/// `"operator"`; `seq` its position in the conversation; `author_name` the
/// operator's display name or `null`). The loader counts it as unread while
/// the panel is closed.
pub fn emit_message(role: Role, content: &str, seq: i64, author: Option<&str>) {
    let fields = [
        ("role", JsValue::from_str(role.as_str())),
        ("content", JsValue::from_str(content)),
        ("seq", JsValue::from_f64(seq as f64)),
        ("author_name", author.map_or(JsValue::NULL, JsValue::from_str)),
    ];
    with_host(|host| host.emit("message", &detail(&fields)));
}

/// Emits `sent` `{content}` when the visitor sends a message.
pub fn emit_sent(content: &str) {
    with_host(|host| host.emit("sent", &detail(&[("content", JsValue::from_str(content))])));
}

/// Closes the panel as the launcher does (the close button, Esc): hides
/// it, returns focus to the launcher and emits `close`.
pub fn close() {
    with_host(Host::close);
}

/// Hands the panel over to the `app` build, which has the signed-in user's
/// requests (`EdgeChat('login', …)` in the anonymous build).
#[cfg(not(feature = "app"))]
pub fn upgrade() {
    with_host(Host::upgrade);
}

/// The locale the page asked for (`EdgeChat('setLocale', code)`, else the
/// script tag's `data-locale`), e.g. `"fr"`; `None` lets the widget follow
/// the browser's language.
pub fn locale() -> Option<String> {
    HOST.with_borrow(Option::clone).and_then(|host| host.locale())
}
