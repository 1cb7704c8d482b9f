//! The input line and send button.

use edgechat_shared::limits::MAX_MESSAGE_CHARS;
use leptos::prelude::*;

/// A text input that calls `on_send` with the trimmed text on Enter or on
/// the send button, then clears itself; `on_typing` on every keystroke.
/// Blank text is not sent.
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
    let text = RwSignal::new(String::new());
    let file_input = NodeRef::<leptos::html::Input>::new();
    let submit = move || {
        let message = text.get_untracked().trim().to_string();
        if (message.is_empty() && !attachment_ready.get_untracked()) || busy.get_untracked() {
            return;
        }
        text.set(String::new());
        on_send.run(message);
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
            <button class="ec-attach" type="button" aria-label="Attach an image" disabled=move || busy.get()
                on:click=move |_| if let Some(input) = file_input.get() { input.click() }>
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2"
                    stroke-linecap="round" d="M21 11.5l-8.5 8.5a5 5 0 0 1-7-7l9-9a3.3 3.3 0 0 1 4.7 4.7l-9 9a1.7 1.7 0 0 1-2.4-2.4l8.3-8.3"/></svg>
            </button>
            <input
                class="ec-input"
                type="text"
                placeholder="Type your message…"
                aria-label="Message"
                maxlength=MAX_MESSAGE_CHARS.to_string()
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    on_typing.run(());
                }
            />
            <button class="ec-send" type="submit" disabled=move || busy.get() aria-label="Send">"Send"</button>
        </form>
    }
}
