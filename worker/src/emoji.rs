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
    /// The RGI form of `value` (see [`check`]), `None` when it is not one
    /// RGI emoji with or without its trailing U+FE0F.
    #[wasm_bindgen(js_name = rgiEmoji)]
    pub fn rgi_form(value: &str) -> Option<String>;
}

/// The reaction key of `value`: its RGI form when it is one emoji, the
/// shape of one ([`messages::emoji`]: at most [`messages::MAX_EMOJI_BYTES`]
/// bytes, not ASCII) and exactly one RGI emoji with or without its trailing
/// U+FE0F (`❤`, `❤️` and `❤️️` are all `❤️`, so one reaction is one key).
/// 422 `validation_error` on `emoji` otherwise (`中` is no emoji, `👍👍` two).
pub fn check(value: &str) -> Result<String, FieldError> {
    messages::emoji(value)?;
    rgi_form(value).ok_or_else(messages::emoji_error)
}
