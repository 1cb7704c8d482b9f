//! The chat panel: header, greeting, conversation, composer. Loads the site's
//! settings and, for a returning visitor, the stored conversation.

use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::{Mode, Role};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlElement;

use super::composer::Composer;
use super::message::{MessageBubble, UiMessage};
use crate::api::Api;
use crate::session;

/// The whole panel. `panel` is the element `loader.js` shows and hides.
#[component]
pub fn ChatPanel(api: Api, panel: HtmlElement) -> impl IntoView {
    let panel = StoredValue::new_local(panel);
    let api = StoredValue::new(api);
    let title = RwSignal::new(String::from("Chat"));
    let greeting = RwSignal::new(String::new());
    let accent = RwSignal::new(String::from("#4f46e5"));
    let messages = RwSignal::new(Vec::<UiMessage>::new());
    let next_key = StoredValue::new(0usize);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let list = NodeRef::<Div>::new();

    let new_message = move |role: Role, content: &str| {
        let key = next_key.get_value();
        next_key.set_value(key + 1);
        UiMessage::new(key, role, content)
    };

    spawn_local(async move {
        let api = api.get_value();
        match api.config().await {
            Ok(config) => {
                title.set(config.name);
                greeting.set(config.greeting);
                accent.set(config.theme_color);
            }
            Err(message) => error.set(Some(message)),
        }
        if let Some(session_id) = session::stored(&api.site_key) {
            match api.history(&session_id).await {
                Ok(history) => messages.set(
                    history
                        .messages
                        .iter()
                        .map(|m| {
                            let key = next_key.get_value();
                            next_key.set_value(key + 1);
                            UiMessage::from_history(key, m)
                        })
                        .collect(),
                ),
                Err(message) => error.set(Some(message)),
            }
        }
    });

    // Keep the newest text in view while answers stream in.
    Effect::new(move || {
        messages.with(|all| all.iter().for_each(|m| m.content.track()));
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });

    let send = Callback::new(move |text: String| {
        spawn_local(async move {
            let api = api.get_value();
            busy.set(true);
            error.set(None);
            let visitor = new_message(Role::Visitor, &text);
            let answer = new_message(Role::Ai, "");
            answer.streaming.set(true);
            messages.update(|all| all.extend([visitor, answer]));
            let result = match (session::get_or_create(&api.site_key), session::random_hex(8)) {
                (Ok(session_id), Ok(id)) => {
                    let request = StreamRequest {
                        site_key: api.site_key.clone(),
                        session_id,
                        message: text,
                        lang: web_sys::window().and_then(|w| w.navigator().language()),
                        message_id: Some(format!("m_{id}")),
                    };
                    api.stream(&request, |event| match event {
                        StreamEvent::Chunk { content } => answer.content.update(|c| c.push_str(&content)),
                        StreamEvent::Done { meta } => {
                            answer.sources.set(meta.sources);
                            if meta.mode == Mode::Operator && meta.answer_id.is_none() {
                                messages.update(|all| all.retain(|m| m.key != answer.key));
                            }
                        }
                        StreamEvent::Error { message } => error.set(Some(message)),
                    })
                    .await
                }
                _ => Err("This browser cannot start a chat session".to_string()),
            };
            answer.streaming.set(false);
            if let Err(message) = result {
                error.set(Some(message));
            }
            if answer.content.with_untracked(String::is_empty) {
                messages.update(|all| all.retain(|m| m.key != answer.key));
            }
            busy.set(false);
        });
    });

    view! {
        <div class="ec-panel" role="dialog" aria-label="Chat" style=move || format!("--ec-accent: {}", accent.get())>
            <header class="ec-header">
                <span class="ec-title">{move || title.get()}</span>
                <button class="ec-close" type="button" aria-label="Close chat"
                    on:click=move |_| panel.with_value(|p| p.set_hidden(true))>"×"</button>
            </header>
            <div class="ec-messages" node_ref=list aria-live="polite">
                <Show when=move || greeting.with(|g| !g.is_empty())>
                    <div class="ec-msg ec-ai ec-greeting"><p class="ec-text">{move || greeting.get()}</p></div>
                </Show>
                <For each=move || messages.get() key=|m| m.key let:message>
                    <MessageBubble message=message />
                </For>
            </div>
            <Show when=move || error.with(Option::is_some)>
                <p class="ec-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <Composer on_send=send busy=busy />
        </div>
    }
}
