//! Reaction emojis against Unicode's RGI emoji set (UTS #51), through the
//! runtime's regular expressions (`worker/js/emoji.js`, the `v` flag's
//! `\p{RGI_Emoji}`), which know the set of the runtime's Unicode version.
//!
//! The Rust table (the `emojis` crate) put about 400 KB of emoji names and
//! sequences into the wasm (issue 16: the worker's upload).

use edgechat_shared::api::messages;
use edgechat_shared::error::FieldError;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/js/emoji.js")]
extern "C" {
    #[wasm_bindgen(js_name = isRgiEmoji)]
    fn is_rgi_emoji(value: &str) -> bool;
}

/// `Ok` when `value` is one emoji: the shape of one
/// ([`messages::emoji`]: one grapheme cluster of at most 32 bytes, not
/// ASCII) and an RGI emoji, with or without U+FE0F; 422
/// `validation_error` on `emoji` otherwise (`中` is one grapheme, not an emoji).
pub fn check(value: &str) -> Result<(), FieldError> {
    messages::emoji(value)?;
    if is_rgi_emoji(value) {
        Ok(())
    } else {
        Err(messages::emoji_error())
    }
}
