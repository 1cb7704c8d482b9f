//! Phone numbers against the numbering plans: libphonenumber's metadata
//! through the npm package `libphonenumber-js` (`worker/js/phone.js`),
//! which wrangler bundles with the worker.
//!
//! The Rust port (the `phonenumber` crate) compiled libphonenumber's
//! metadata and the regex crate's Unicode tables into the wasm, about 600 KB
//! of the upload; the JavaScript package keeps its metadata compact and uses
//! the runtime's own regular expressions.

use edgechat_shared::error::FieldError;
use edgechat_shared::validate;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/js/phone.js")]
extern "C" {
    #[wasm_bindgen(js_name = isValidE164)]
    fn is_valid_e164(phone: &str) -> bool;
}

/// `Ok` when `phone` is an E.164 number (`+`, country code, subscriber
/// number, ITU-T E.164) that its country's numbering plan assigns, in the
/// form libphonenumber formats it; 422 `validation_error` on `phone`
/// otherwise (e.g. `+11235550123`: no North American area code starts with 1).
pub fn check(phone: &str) -> Result<(), FieldError> {
    validate::e164_phone(phone)?;
    if is_valid_e164(phone) {
        Ok(())
    } else {
        Err(validate::phone_error())
    }
}
