//! The site's look inside the panel: the header's avatar and title, the
//! site's custom CSS, and the phone layout's height above the on-screen
//! keyboard. Everything goes through CSSOM (constructed stylesheets,
//! `style.setProperty`), never a `style` attribute or a `<style>` element,
//! so a page whose CSP has no `'unsafe-inline'` styles shows no violation.

use std::cell::RefCell;

use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, HtmlElement, Node, ShadowRoot};

use crate::dom;

/// Widths up to this many CSS pixels are phones: the panel is full screen
/// and modal (the `@media (max-width: 480px)` rules of `style.css`).
const PHONE_MAX_WIDTH: f64 = 480.0;

thread_local! {
    /// The site's stylesheet, adopted once and rewritten on each redraw.
    static SITE_SHEET: RefCell<Option<CssStyleSheet>> = const { RefCell::new(None) };
    /// `true` while the window is phone-sized; `None` until [`follow_viewport`] ran.
    static PHONE: RefCell<Option<RwSignal<bool>>> = const { RefCell::new(None) };
}

/// Appends the header's avatar and title to `header`. `avatar()` is the
/// site's `avatar_url` (a path on the worker, given `base`, the worker's
/// origin, is made absolute); without one the title's first letter stands
/// in. Both are decorative next to the title text.
pub fn brand(
    header: &Node,
    base: String,
    title: impl Fn() -> String + Copy + 'static,
    avatar: impl Fn() -> Option<String> + Copy + 'static,
) {
    let has_avatar = move || avatar().is_some_and(|url| !url.is_empty());
    dom::show(header, has_avatar, move |at| {
        let image = dom::element(at, "img", "ec-avatar");
        dom::attr(&image, "alt", "");
        let base = base.clone();
        dom::attr_of(&image, "src", move || {
            let url = avatar().unwrap_or_default();
            Some(if url.starts_with('/') { [base.as_str(), &url].concat() } else { url })
        });
    });
    dom::show(
        header,
        move || !has_avatar(),
        move |at| {
            let initial = dom::element(at, "span", "ec-avatar ec-initial");
            dom::attr(&initial, "aria-hidden", "true");
            dom::text(&initial, move || title().chars().next().map(String::from).unwrap_or_default());
        },
    );
    dom::text(&dom::element(header, "h2", "ec-title"), title);
}

/// Adopts the site's `custom_css` into the shadow root of `panel`, after the
/// widget's own stylesheet so that its rules win; a later call replaces the
/// text (`""` empties it). Invalid rules are dropped by the browser's parser.
///
/// Errors: a JavaScript exception when the sheet cannot be made or adopted.
pub fn adopt_site_css(panel: &HtmlElement, css: &str) -> Result<(), JsValue> {
    SITE_SHEET.with_borrow_mut(|site| {
        if let Some(sheet) = site.as_ref() {
            return sheet.replace_sync(css);
        }
        if css.is_empty() {
            return Ok(());
        }
        let Ok(root) = panel.get_root_node().dyn_into::<ShadowRoot>() else { return Ok(()) };
        let sheet = CssStyleSheet::new()?;
        sheet.replace_sync(css)?;
        let sheets = root.adopted_style_sheets();
        sheets.push(&sheet);
        root.set_adopted_style_sheets(&sheets);
        *site = Some(sheet);
        Ok(())
    })
}

/// Keeps `--ec-vh` on `container` (the panel's slot) at the visual
/// viewport's height in px, so that on a phone the full-screen panel ends
/// above the on-screen keyboard, and answers a signal that is `true` while
/// the window is at most 480 px wide. Installed once; later calls answer the
/// same signal.
pub fn follow_viewport(container: &HtmlElement) -> RwSignal<bool> {
    if let Some(phone) = PHONE.with_borrow(|phone| *phone) {
        return phone;
    }
    let phone = RwSignal::new(false);
    PHONE.with_borrow_mut(|slot| *slot = Some(phone));
    let container = container.clone();
    let measure = move || {
        let Some(window) = web_sys::window() else { return };
        let width = window.inner_width().ok().and_then(|w| w.as_f64()).unwrap_or(PHONE_MAX_WIDTH + 1.0);
        phone.set(width <= PHONE_MAX_WIDTH);
        if let Some(viewport) = window.visual_viewport() {
            let mut height = (viewport.height().round() as i64).to_string();
            height.push_str("px");
            let _ = container.style().set_property("--ec-vh", &height);
        }
    };
    measure();
    let on_resize = Closure::<dyn Fn()>::new(measure);
    if let Some(window) = web_sys::window() {
        let _ = window.add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
        if let Some(viewport) = window.visual_viewport() {
            let _ = viewport.add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
        }
    }
    // Listens as long as the page lives, like the widget itself.
    on_resize.forget();
    phone
}
