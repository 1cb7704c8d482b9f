//! The message box, the attach button and the send button.

use edgechat_shared::limits::MAX_MESSAGE_CHARS;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlTextAreaElement, Node};

use crate::dom;
use crate::i18n::Text;

/// The most lines the message box grows to before it scrolls.
const MAX_ROWS: usize = 5;

/// The box's `rows` for `text`: one per line, 1 to [`MAX_ROWS`]. Browsers
/// with `field-sizing: content` (style.css) size it by its wrapped text
/// instead; `rows` is their fallback.
fn rows(text: &str) -> &'static str {
    const ROWS: [&str; MAX_ROWS] = ["1", "2", "3", "4", "5"];
    ROWS[text.matches('\n').count().min(MAX_ROWS - 1)]
}

/// Appends the composer to `parent`: a message box that calls `on_send`
/// with the trimmed text on Enter or on the send button, then clears
/// itself; `on_typing` on every keystroke. Shift+Enter adds a line, and an
/// Enter that ends an IME composition (`isComposing`) does not send. Blank
/// text is not sent unless `attachment_ready()` (an uploaded file waits).
/// An image pasted into the box (the clipboard's files) goes to
/// `on_attach`, as the attach button's file does. Nothing is sent or
/// attached while `busy()`.
pub fn composer(
    parent: &Node,
    on_send: impl Fn(String) + Copy + 'static,
    on_typing: impl Fn() + 'static,
    on_attach: impl Fn(web_sys::File) + Copy + 'static,
    busy: impl Fn() -> bool + Copy + 'static,
    attachment_ready: impl Fn() -> bool + Copy + 'static,
) {
    let form = dom::element(parent, "form", "ec-composer");
    let file_input: HtmlInputElement = dom::element(&form, "input", "ec-file").unchecked_into();
    for (name, value) in [("type", "file"), ("accept", "image/png,image/jpeg,image/gif,image/webp"), ("hidden", "")] {
        dom::attr(&file_input, name, value);
    }
    let input = file_input.clone();
    dom::on(&file_input, "change", move |_| {
        if let Some(file) = input.files().and_then(|files| files.get(0)) {
            on_attach(file);
        }
        input.set_value("");
    });
    let attach = dom::button(&form, "ec-attach");
    dom::localized_attr(&attach, "aria-label", Text::AttachImage);
    dom::disabled(&attach, busy);
    paperclip(&attach);
    dom::on(&attach, "click", move |_| file_input.click());

    let message: HtmlTextAreaElement = dom::element(&form, "textarea", "ec-input").unchecked_into();
    for (name, value) in [("rows", "1"), ("autofocus", ""), ("maxlength", &MAX_MESSAGE_CHARS.to_string())] {
        dom::attr(&message, name, value);
    }
    dom::localized_attr(&message, "placeholder", Text::Placeholder);
    dom::localized_attr(&message, "aria-label", Text::Message);
    let submit = {
        let message = message.clone();
        move || {
            let text = message.value().trim().to_string();
            if (text.is_empty() && !attachment_ready()) || busy() {
                return;
            }
            message.set_value("");
            dom::attr(&message, "rows", "1");
            on_send(text);
        }
    };
    let input = message.clone();
    dom::on(&message, "input", move |_| {
        dom::attr(&input, "rows", rows(&input.value()));
        on_typing();
    });
    let enter = submit.clone();
    dom::on(&message, "keydown", move |ev| {
        let ev: &web_sys::KeyboardEvent = ev.unchecked_ref();
        // 229: the key that ends a composition in browsers without `isComposing`.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            enter();
        }
    });
    dom::on(&message, "paste", move |ev| {
        let ev: &web_sys::ClipboardEvent = ev.unchecked_ref();
        let file = ev.clipboard_data().and_then(|data| data.files()).and_then(|files| files.get(0));
        if let Some(image) = file.filter(|f| f.type_().starts_with("image/")) {
            ev.prevent_default();
            if !busy() {
                on_attach(image);
            }
        }
    });
    let send = dom::element(&form, "button", "ec-send");
    dom::attr(&send, "type", "submit");
    dom::disabled(&send, busy);
    dom::localized(&send, Text::Send);
    dom::on(&form, "submit", move |ev| {
        ev.prevent_default();
        submit();
    });
}

/// Appends the attach button's icon (a paper clip) to `button`: decorative,
/// the button has a label. Made with `createElementNS`, not markup, so a
/// page that enforces Trusted Types accepts it.
fn paperclip(button: &Node) {
    const SVG: &str = "http://www.w3.org/2000/svg";
    let doc = dom::document();
    let Ok(svg) = doc.create_element_ns(Some(SVG), "svg") else { return };
    for (name, value) in [("viewBox", "0 0 24 24"), ("width", "20"), ("height", "20"), ("aria-hidden", "true"), ("focusable", "false")] {
        dom::attr(&svg, name, value);
    }
    let Ok(path) = doc.create_element_ns(Some(SVG), "path") else { return };
    for (name, value) in [
        ("fill", "none"),
        ("stroke", "currentColor"),
        ("stroke-width", "2"),
        ("stroke-linecap", "round"),
        ("d", "M21 11.5l-8.5 8.5a5 5 0 0 1-7-7l9-9a3.3 3.3 0 0 1 4.7 4.7l-9 9a1.7 1.7 0 0 1-2.4-2.4l8.3-8.3"),
    ] {
        dom::attr(&path, name, value);
    }
    let _ = svg.append_child(&path);
    let _ = button.append_child(&svg);
}

#[cfg(test)]
mod tests {
    use super::rows;

    #[test]
    fn the_box_grows_a_row_per_line_up_to_five() {
        assert_eq!(rows(""), "1");
        assert_eq!(rows("one\ntwo"), "2");
        assert_eq!(rows("1\n2\n3\n4\n5\n6\n7"), "5");
    }
}
