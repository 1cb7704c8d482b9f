//! The chat panel's DOM, written by hand on Leptos's reactive graph.
//!
//! The anonymous widget has a 100 KB gzip budget (ARCHITECTURE.md, issue
//! 15). Leptos's views (tachys) are compiled once per view type, attribute
//! and signal: the chat panel as `view!` cost about 105 KB of wasm. Here the
//! panel is built with `createElement`, and each reactive part is a
//! [`bind`]: a `reactive_graph` effect that writes one thing to the DOM
//! whenever a signal it reads changes. Every binding is the same effect type
//! and every listener the same closure type, so the code is compiled once.
//! Text goes in with `textContent`, never as HTML.
//!
//! Ownership: everything made here (effects, listeners) belongs to the
//! current reactive [`Owner`] and goes when it is cleaned up: the panel's on
//! a redraw (`lib.rs`), a [`show`] section's when it hides.

use reactive_graph::effect::Effect;
use reactive_graph::graph::untrack;
use reactive_graph::owner::{Owner, StoredValue};
use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, Node};

use crate::i18n::{self, Text};

/// The page's document.
pub fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a page has a document")
}

/// A new `<tag class="class">` (no class when `""`) appended to `parent`.
pub fn element(parent: &Node, tag: &str, class: &str) -> HtmlElement {
    let element: HtmlElement = document().create_element(tag).expect("a known tag").unchecked_into();
    if !class.is_empty() {
        attr(&element, "class", class);
    }
    let _ = parent.append_child(&element);
    element
}

/// Sets the attribute `name` of `element` to `value`.
pub fn attr(element: &Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

/// Runs `write` now (on the next tick) and again whenever a signal it read
/// changes, until the current owner is cleaned up.
pub fn bind(write: impl Fn() + 'static) {
    let write: Box<dyn Fn()> = Box::new(write);
    Effect::new(move |_: Option<()>| write());
}

/// Keeps the text of `element` at `text()`.
pub fn text(element: &Element, text: impl Fn() -> String + 'static) {
    fn text_dyn(element: Element, text: Box<dyn Fn() -> String>) {
        bind(move || element.set_text_content(Some(&text())));
    }
    text_dyn(element.clone(), Box::new(text));
}

/// Keeps the attribute `name` of `element` at `value()`; `None` removes it.
pub fn attr_of(element: &Element, name: &'static str, value: impl Fn() -> Option<String> + 'static) {
    fn attr_dyn(element: Element, name: &'static str, value: Box<dyn Fn() -> Option<String>>) {
        bind(move || match value() {
            Some(value) => attr(&element, name, &value),
            None => drop(element.remove_attribute(name)),
        });
    }
    attr_dyn(element.clone(), name, Box::new(value));
}

/// Keeps `disabled` on `element` while `when()` is `true`.
pub fn disabled(element: &Element, when: impl Fn() -> bool + 'static) {
    attr_of(element, "disabled", move || when().then(String::new));
}

/// Calls `handler` on each `event` of `target` while the current owner lives.
pub fn on(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(Event) + 'static) {
    on_dyn(target, event, Box::new(handler));
}

fn on_dyn(target: &web_sys::EventTarget, event: &str, handler: Box<dyn FnMut(Event)>) {
    let handler = Closure::wrap(handler);
    let _ = target.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref());
    // Dropped with the owner, after its elements left the page.
    StoredValue::new_local(handler);
}

/// A section of `parent` (in its place among `parent`'s children) built by
/// `build` while `when()` is `true` and removed when it turns `false`, with
/// everything `build` made: the `<Show>` of the hand-written panel.
/// `build` appends its elements to the node it is given.
pub fn show(parent: &Node, when: impl Fn() -> bool + 'static, build: impl Fn(&Node) + 'static) {
    show_dyn(parent, Box::new(when), Box::new(build));
}

fn show_dyn(parent: &Node, when: Box<dyn Fn() -> bool>, build: Box<dyn Fn(&Node)>) {
    // The section's effects and listeners, cleaned up each time it hides;
    // one owner for the section's life, so toggling leaves nothing behind.
    let section = Owner::current().unwrap_or_default().child();
    // The section lies between these two empty texts, with whatever its own
    // sections (a `show` inside `build`) add there later.
    let doc = document();
    let (start, end) = (doc.create_text_node(""), doc.create_text_node(""));
    let _ = parent.append_child(&start);
    let _ = parent.append_child(&end);
    let shown = StoredValue::new(false);
    bind(move || {
        let on = when();
        if on == shown.get_value() {
            return;
        }
        shown.set_value(on);
        let Some(parent) = end.parent_node() else { return };
        if on {
            let fragment = document().create_document_fragment();
            section.with(|| untrack(|| build(&fragment)));
            let _ = parent.insert_before(&fragment, Some(&end));
        } else {
            while let Some(node) = start.next_sibling().filter(|node| !node.is_same_node(Some(&end))) {
                let _ = parent.remove_child(&node);
            }
            section.cleanup();
        }
    });
}

/// Keeps the text of `element` at the widget's text `key` in the panel's locale.
pub fn localized(element: &Element, key: Text) {
    let locale = i18n::locale();
    let element = element.clone();
    bind(move || element.set_text_content(Some(i18n::t(locale.get(), key))));
}

/// Keeps the attribute `name` of `element` at the widget's text `key` in the panel's locale.
pub fn localized_attr(element: &Element, name: &'static str, key: Text) {
    let locale = i18n::locale();
    let element = element.clone();
    bind(move || attr(&element, name, i18n::t(locale.get(), key)));
}

/// A new `<button type="button" class="class">` appended to `parent`.
pub fn button(parent: &Node, class: &str) -> HtmlElement {
    let button = element(parent, "button", class);
    attr(&button, "type", "button");
    button
}

/// A `<p class="class" role="alert">` in `parent` while `message` holds a text, showing it.
pub fn alert(parent: &Node, class: &'static str, message: RwSignal<Option<String>>) {
    show(
        parent,
        move || message.with(Option::is_some),
        move |at| {
            let line = element(at, "p", class);
            attr(&line, "role", "alert");
            text(&line, move || message.get().unwrap_or_default());
        },
    );
}

/// Runs `f` before the browser's next repaint (`requestAnimationFrame`).
pub fn next_frame(f: impl FnOnce() + 'static) {
    if let Some(window) = web_sys::window() {
        let _ = window.request_animation_frame(Closure::once_into_js(f).unchecked_ref());
    }
}

/// Runs `f` once, after `ms` milliseconds (`setTimeout`).
pub fn after(ms: i32, f: impl FnOnce() + 'static) {
    if let Some(window) = web_sys::window() {
        let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(Closure::once_into_js(f).unchecked_ref(), ms);
    }
}
