//! One message bubble. Content is always a text node, never HTML.

use edgechat_shared::api::stream::Source;
use edgechat_shared::api::{ChatMessage, Role};
use leptos::prelude::*;

/// A message as the panel shows it; `content` grows while an answer streams.
#[derive(Debug, Clone, Copy)]
pub struct UiMessage {
    /// Stable key within the panel.
    pub key: usize,
    /// Who wrote it.
    pub role: Role,
    /// The text so far.
    pub content: RwSignal<String>,
    /// `true` while the answer is still streaming.
    pub streaming: RwSignal<bool>,
    /// Knowledge-base articles the answer cites.
    pub sources: RwSignal<Vec<Source>>,
    /// Operator's display name.
    pub author: RwSignal<Option<String>>,
}

impl UiMessage {
    /// A new message with `key`.
    pub fn new(key: usize, role: Role, content: &str) -> UiMessage {
        UiMessage {
            key,
            role,
            content: RwSignal::new(content.to_string()),
            streaming: RwSignal::new(false),
            sources: RwSignal::new(Vec::new()),
            author: RwSignal::new(None),
        }
    }

    /// A stored message loaded from the history.
    pub fn from_history(key: usize, message: &ChatMessage) -> UiMessage {
        let ui = UiMessage::new(key, message.role, &message.content);
        ui.author.set(message.author_name.clone());
        ui.sources.set(message.sources.clone());
        ui
    }
}

/// Renders one message with its role's style, its sources and a typing
/// indicator while it streams with no text yet.
#[component]
pub fn MessageBubble(message: UiMessage) -> impl IntoView {
    let class = format!("ec-msg ec-{}", message.role.as_str());
    let waiting = move || message.streaming.get() && message.content.with(String::is_empty);
    view! {
        <div class=class data-role=message.role.as_str()>
            <Show when=move || message.author.with(Option::is_some)>
                <span class="ec-author">{move || message.author.get().unwrap_or_default()}</span>
            </Show>
            <Show when=waiting fallback=move || view! { <p class="ec-text">{move || message.content.get()}</p> }>
                <p class="ec-typing" aria-label="Typing"><i></i><i></i><i></i></p>
            </Show>
            <Show when=move || message.sources.with(|s| !s.is_empty())>
                <ul class="ec-sources">
                    {move || message.sources.get().into_iter().map(|s| view! { <li>{source_view(s)}</li> }).collect_view()}
                </ul>
            </Show>
        </div>
    }
}

fn source_view(source: Source) -> AnyView {
    match source.url.filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
        Some(url) => view! {
            <a href=url target="_blank" rel="noopener noreferrer nofollow">{source.title}</a>
        }
        .into_any(),
        None => view! { <span>{source.title}</span> }.into_any(),
    }
}
