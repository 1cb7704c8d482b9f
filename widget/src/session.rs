//! The visitor's session id, kept in `localStorage` so that the conversation
//! survives page loads. It is created on the first message, never before
//! (no storage is written until the visitor interacts).

use wasm_bindgen::JsValue;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn key(site_key: &str) -> String {
    format!("edgechat:{site_key}:session")
}

/// The stored session id of this site, if the visitor has written before.
pub fn stored(site_key: &str) -> Option<String> {
    storage()?.get_item(&key(site_key)).ok().flatten().filter(|id| edgechat_shared::validate::session_id(id).is_ok())
}

/// The stored session id, or a new one (`sess_` + 128 random bits in hex), stored now.
pub fn get_or_create(site_key: &str) -> Result<String, JsValue> {
    if let Some(id) = stored(site_key) {
        return Ok(id);
    }
    let id = format!("sess_{}", random_hex(16)?);
    if let Some(storage) = storage() {
        storage.set_item(&key(site_key), &id)?;
    }
    Ok(id)
}

/// Remembers the newest message `seq` the visitor has seen, so the loader
/// counts only newer operator messages on its unread badge. Written only
/// once a session exists (the visitor has interacted).
pub fn remember_seen(site_key: &str, seq: i64) {
    if seq > 0 && stored(site_key).is_some() {
        if let Some(storage) = storage() {
            let _ = storage.set_item(&format!("edgechat:{site_key}:seen"), &seq.to_string());
        }
    }
}

/// Remembers that the visitor left contact details, so the form is not offered again.
pub fn remember_contact(site_key: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&format!("edgechat:{site_key}:contact"), "1");
    }
}

/// `true` once the visitor left contact details in this browser.
pub fn contact_known(site_key: &str) -> bool {
    storage().and_then(|s| s.get_item(&format!("edgechat:{site_key}:contact")).ok().flatten()).is_some()
}

/// `bytes` random bytes from the Web Crypto API, as lower-case hex.
pub fn random_hex(bytes: usize) -> Result<String, JsValue> {
    let mut buf = vec![0u8; bytes];
    web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?.crypto()?.get_random_values_with_u8_array(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
