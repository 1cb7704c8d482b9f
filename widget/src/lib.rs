//! `edgechat-widget`: the chat panel, Leptos CSR compiled to wasm.
//!
//! `loader.js` imports this module on the first click of the launcher and
//! calls [`mount`] with its open Shadow DOM root, so host-page CSS cannot
//! reach the panel and the panel's CSS cannot leak out.

mod api;
mod components;
mod live;
mod markdown;
mod session;
mod upload;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, HtmlElement, ShadowRoot};

/// The widget's stylesheet, adopted by the shadow root.
const STYLE: &str = include_str!("../style.css");

/// Mounts the chat panel into `container` (an element inside `shadow_root`).
///
/// - `site_key`: the site's public key from the script tag's `data-site-key`.
/// - `api_base`: origin of the EdgeChat worker, e.g. `https://chat.example.com`.
/// - `identity`: the last `EdgeChat('identify', {user_id, email, name, user_hash})`
///   object, or `null`.
///
/// Errors: a JavaScript exception when the stylesheet cannot be adopted.
#[wasm_bindgen]
pub fn mount(
    shadow_root: ShadowRoot,
    container: HtmlElement,
    site_key: String,
    api_base: String,
    identity: JsValue,
) -> Result<(), JsValue> {
    let sheet = CssStyleSheet::new()?;
    sheet.replace_sync(STYLE)?;
    let sheets = shadow_root.adopted_style_sheets();
    sheets.push(&sheet);
    shadow_root.set_adopted_style_sheets(&sheets);
    let identity = serde_wasm_bindgen::from_value(identity).unwrap_or_default();
    let api = api::Api { base: api_base, site_key, identity };
    let panel = container.clone();
    leptos::mount::mount_to(container, move || view! { <components::chat::ChatPanel api=api.clone() panel=panel.clone() /> }).forget();
    Ok(())
}
