//! Operators' time zones against the IANA tz database that the runtime
//! carries (`worker/js/timezone.js`, `Intl.DateTimeFormat`'s `timeZone`):
//! the `chrono-tz` name table (8.6 KB, plus its lookup) is not compiled into
//! the wasm (issue 16: the worker's upload).

use edgechat_shared::error::FieldError;
use edgechat_shared::validate;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/js/timezone.js")]
extern "C" {
    #[wasm_bindgen(js_name = canonicalTimeZone)]
    fn canonical_time_zone(name: &str) -> Option<String>;
}

/// `name` as the runtime's tz data names the zone when it knows it (an
/// IANA name such as `America/New_York`, or `UTC`): its preferred ID,
/// which fixes the case (`europe/paris` is `Europe/Paris`) and may be
/// another alias of the same zone (`US/Eastern` is `America/New_York`;
/// ICU prefers some older names, `Asia/Kolkata` is `Asia/Calcutta`).
///
/// Errors: 422 `validation_error` on `timezone` for a name of another
/// shape ([`validate::timezone`]) or one the runtime does not know; the
/// runtime's answer is held to the same shape.
pub fn canonical(name: &str) -> Result<String, FieldError> {
    validate::timezone(name)?;
    canonical_time_zone(name).filter(|id| validate::timezone(id).is_ok()).ok_or_else(validate::timezone_error)
}
