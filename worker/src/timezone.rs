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

/// `name` as the tz database writes it (`europe/paris` is `Europe/Paris`)
/// when it is a time zone there (an IANA name such as `America/New_York`,
/// or `UTC`); 422 `validation_error` on `timezone` otherwise.
pub fn canonical(name: &str) -> Result<String, FieldError> {
    validate::timezone(name)?;
    canonical_time_zone(name).ok_or_else(validate::timezone_error)
}
