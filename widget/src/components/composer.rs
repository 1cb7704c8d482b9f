//! The message box, the attach button and the send button.

use edgechat_shared::limits::MAX_MESSAGE_CHARS;
use leptos::prelude::*;

use crate::i18n::{text, Text};

/// The most lines the message box grows to before it scrolls.
const MAX_ROWS: usize = 5;

/// The box's `rows` for `text`: one per line, 1 to [`MAX_ROWS`]. Browsers
/// with `field-sizing: content` (style.css) size it by its wrapped text
/// instead; `rows` is their fallback.
fn rows(text: &str) -> String {
    (text.matches('\n').count() + 1).min(MAX_ROWS).to_string()
}

/// A message box that calls `on_send` with the trimmed text on Enter or on
/// the send button, then clears itself; `on_typing` on every keystroke.
/// Shift+Enter adds a line, and an Enter that ends an IME composition
/// (`isComposing`) does not send. Blank text is not sent. An image pasted
/// into the box (the clipboard's files) goes to `on_attach`, as the attach
/// button's file does.
#[component]
pub fn Composer(
    on_send: Callback<String>,
    on_typing: Callback<()>,
    on_attach: Callback<web_sys::File>,
    #[prop(into)] busy: Signal<bool>,
    /// `true` while an uploaded file waits: then an empty text may be sent.
    #[prop(into)]
    attachment_ready: Signal<bool>,
) -> impl IntoView {
    let message = RwSignal::new(String::new());
    let file_input = NodeRef::<leptos::html::Input>::new();
    let submit = move || {
        let text = message.get_untracked().trim().to_string();
        if (text.is_empty() && !attachment_ready.get_untracked()) || busy.get_untracked() {
            return;
        }
        message.set(String::new());
        on_send.run(text);
    };
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        // 229: the key that ends a composition in browsers without `isComposing`.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            submit();
        }
    };
    let on_paste = move |ev: web_sys::ClipboardEvent| {
        let file = ev.clipboard_data().and_then(|data| data.files()).and_then(|files| files.get(0));
        if let Some(image) = file.filter(|f| f.type_().starts_with("image/")) {
            ev.prevent_default();
            if !busy.get_untracked() {
                on_attach.run(image);
            }
        }
    };
    view! {
        <form class="ec-composer" on:submit=move |ev| { ev.prevent_default(); submit(); }>
            <input class="ec-file" type="file" accept="image/png,image/jpeg,image/gif,image/webp" hidden node_ref=file_input
                on:change=move |_| {
                    let Some(input) = file_input.get() else { return };
                    if let Some(file) = input.files().and_then(|files| files.get(0)) {
                        on_attach.run(file);
                    }
                    input.set_value("");
                } />
            <button class="ec-attach" type="button" aria-label=text(Text::AttachImage) disabled=move || busy.get()
                on:click=move |_| if let Some(input) = file_input.get() { input.click() }>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false"><path fill="none" stroke="currentColor" stroke-width="2"
                    stroke-linecap="round" d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7l9-9a3.3 3.3 0 0 1 4.7 4.7l-9 9a1.7 1.7 0 0 1-2.4-2.4l8.3-8.3"/></svg>
            </button>
            <textarea
                class="ec-input"
                rows=move || message.with(|m| rows(m))
                autofocus
                placeholder=text(Text::Placeholder)
                aria-label=text(Text::Message)
                maxlength=MAX_MESSAGE_CHARS.to_string()
                prop:value=move || message.get()
                on:input=move |ev| {
                    message.set(event_target_value(&ev));
                    on_typing.run(());
                }
                on:keydown=on_keydown
                on:paste=on_paste
            ></textarea>
            <button class="ec-send" type="submit" disabled=move || busy.get()>{text(Text::Send)}</button>
        </form>
    }
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
