//! The visitor's session id, kept in `localStorage` so that the conversation
//! survives page loads. It is created on the first message, never before
//! (no storage is written until the visitor interacts).
//!
//! A session belongs to at most one logged-in user: the `user_id` it was
//! first used with is kept beside it, and the widget starts a fresh session
//! on `EdgeChat('reset')` and whenever the page names another user (or
//! none: the user logged out) than the stored session's, so the next person
//! on a shared browser never continues the previous user's session.

use wasm_bindgen::JsValue;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The `localStorage` key of this site's `name`: `edgechat:{site_key}:{name}`.
fn key_of(site_key: &str, name: &str) -> String {
    ["edgechat:", site_key, ":", name].concat()
}

fn key(site_key: &str) -> String {
    key_of(site_key, "session")
}

/// The stored session id of this site, if the visitor has written before.
pub fn stored(site_key: &str) -> Option<String> {
    storage()?.get_item(&key(site_key)).ok().flatten().filter(|id| edgechat_shared::validate::session_id(id).is_ok())
}

/// The stored session id, or a new one (`sess_` + 128 random bits in hex),
/// stored now with `user_id`, the logged-in user it is for (if any).
pub fn get_or_create(site_key: &str, user_id: Option<&str>) -> Result<String, JsValue> {
    if let Some(id) = stored(site_key) {
        return Ok(id);
    }
    let id = ["sess_", &random_hex(16)?].concat();
    if let Some(storage) = storage() {
        storage.set_item(&key(site_key), &id)?;
        if let Some(user_id) = user_id {
            storage.set_item(&user_key(site_key), user_id)?;
        }
    }
    Ok(id)
}

fn user_key(site_key: &str) -> String {
    key_of(site_key, "user")
}

/// Forgets this site's session and what was kept with it (seen seq, contact
/// given, user): the next message starts a fresh session (`EdgeChat('reset')`).
pub fn reset(site_key: &str) {
    if let Some(storage) = storage() {
        for name in ["session", "seen", "contact", "user"] {
            let _ = storage.remove_item(&key_of(site_key, name));
        }
    }
}

/// Keeps the stored session only if it may continue as `user_id` (the
/// page's logged-in user, `None` when nobody is): a session stored for
/// another user, or for a user when nobody is logged in now, is reset. An
/// anonymous session continues as its first logged-in user (the server
/// upgrades it), recorded here.
pub fn follow_identity(site_key: &str, user_id: Option<&str>) {
    let Some(storage) = storage() else { return };
    let stored_user = storage.get_item(&user_key(site_key)).ok().flatten();
    if stored_user.is_some() && stored_user.as_deref() != user_id {
        reset(site_key);
    } else if let (Some(user_id), Some(_)) = (user_id, stored(site_key)) {
        let _ = storage.set_item(&user_key(site_key), user_id);
    }
}

/// Remembers the newest message `seq` the visitor has seen, so the loader
/// counts only newer operator messages on its unread badge. Written only
/// once a session exists (the visitor has interacted).
pub fn remember_seen(site_key: &str, seq: i64) {
    if seq > 0 && stored(site_key).is_some() {
        if let Some(storage) = storage() {
            let _ = storage.set_item(&key_of(site_key, "seen"), &seq.to_string());
        }
    }
}

/// Remembers that the visitor left contact details, so the form is not offered again.
pub fn remember_contact(site_key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key_of(site_key, "contact"), "1");
    }
}

/// `true` once the visitor left contact details in this browser.
pub fn contact_known(site_key: &str) -> bool {
    storage().and_then(|s| s.get_item(&key_of(site_key, "contact")).ok().flatten()).is_some()
}

/// `bytes` random bytes from the Web Crypto API, as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, JsValue> {
    let mut buf = vec![0u8; bytes];
    web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?.crypto()?.get_random_values_with_u8_array(&mut buf)?;
    Ok(hex::encode(buf))
}
