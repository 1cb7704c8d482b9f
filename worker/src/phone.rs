//! Phone numbers against the numbering plans: libphonenumber's metadata
//! through the npm package `libphonenumber-js` (`worker/js/phone.js`),
//! whose code wrangler bundles with the worker.
//!
//! The Rust port (the `phonenumber` crate) compiled libphonenumber's
//! metadata and the regex crate's Unicode tables into the wasm, about 600 KB
//! of the upload; the JavaScript package keeps its metadata compact and uses
//! the runtime's own regular expressions. The metadata itself (157 KB, 39 KB
//! gzip) is a static asset, `public/data/phone-metadata.json`, read through
//! the `ASSETS` binding once per isolate on the first check (issue 16: the
//! worker's upload).

use edgechat_shared::validate;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::error::{ApiError, ApiResult};

#[wasm_bindgen(module = "/js/phone.js")]
extern "C" {
    #[wasm_bindgen(js_name = isValidE164, catch)]
    async fn is_valid_e164(assets: &JsValue, phone: &str) -> Result<JsValue, JsValue>;
}

/// `Ok` when `phone` is an E.164 number (`+`, country code, subscriber
/// number, ITU-T E.164) that its country's numbering plan assigns, in the
/// form libphonenumber formats it.
///
/// Errors: 422 `validation_error` on `phone` otherwise (e.g.
/// `+11235550123`: no North American area code starts with 1); 500 when
/// the metadata is not in the assets (not built: `cargo xtask build`).
pub async fn check(env: &worker::Env, phone: &str) -> ApiResult<()> {
    validate::e164_phone(phone)?;
    let assets = env.assets("ASSETS")?;
    let valid = is_valid_e164(assets.as_ref(), phone).await.map_err(|e| {
        let why = js_sys::Error::from(e).message();
        ApiError::internal(format!("phone numbers cannot be checked: {why}"))
    })?;
    if valid.as_bool() == Some(true) {
        Ok(())
    } else {
        Err(validate::phone_error().into())
    }
}
