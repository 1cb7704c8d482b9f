//! One message bubble. A visitor's content is a text node; AI and operator
//! content is the safe Markdown subset of [`edgechat_shared::markdown`]; never HTML.

use edgechat_shared::api::stream::Source;
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{ChatMessage, MessageStatus, Reaction, Role};
use leptos::prelude::*;

use edgechat_shared::markdown;

use crate::i18n::{text, Text};

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
    /// Server id, once stored.
    pub id: RwSignal<Option<i64>>,
    /// Server `seq`, once stored.
    pub seq: RwSignal<Option<i64>>,
    /// Delivery status of the visitor's own messages.
    pub status: RwSignal<Option<MessageStatus>>,
    /// A notice of the conversation (an operator joined, it was closed), not a message.
    pub notice: bool,
    /// Files attached to the message.
    pub attachments: RwSignal<Vec<Attachment>>,
    /// `true` once its author edited it (seed 002): shows "edited".
    pub edited: RwSignal<bool>,
    /// Reactions, shown as read-only `emoji count` chips.
    pub reactions: RwSignal<Vec<Reaction>>,
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
            id: RwSignal::new(None),
            seq: RwSignal::new(None),
            status: RwSignal::new(None),
            notice: false,
            attachments: RwSignal::new(Vec::new()),
            edited: RwSignal::new(false),
            reactions: RwSignal::new(Vec::new()),
        }
    }

    /// A notice line such as "Ann joined the conversation".
    pub fn notice(key: usize, text: &str) -> UiMessage {
        UiMessage { notice: true, ..UiMessage::new(key, Role::Ai, text) }
    }

    /// Takes the server's id, seq and status of a stored message.
    pub fn stored_as(&self, message: &ChatMessage) {
        self.id.set(Some(message.id));
        self.seq.set(Some(message.seq));
        if message.status.is_some() {
            self.status.set(message.status);
        }
    }

    /// A stored message loaded from the history.
    pub fn from_history(key: usize, message: &ChatMessage) -> UiMessage {
        let ui = UiMessage::new(key, message.role, &message.content);
        ui.author.set(message.author_name.clone());
        ui.sources.set(message.sources.clone());
        ui.attachments.set(message.attachments.clone());
        ui.stored_as(message);
        ui.updated(message);
        ui
    }

    /// Takes an edited message's text, "edited" mark and reactions (`message_updated`).
    pub fn updated(&self, message: &ChatMessage) {
        if self.content.with_untracked(|c| *c != message.content) {
            self.content.set(message.content.clone());
        }
        self.edited.set(message.edited_at.is_some());
        self.reactions.set(message.reactions.clone());
    }

    /// Someone added or took back `emoji`, which `count` people now give (`reaction`).
    pub fn react(&self, emoji: &str, count: i64) {
        self.reactions.update(|all| match all.iter().position(|r| r.emoji == emoji) {
            Some(i) if count <= 0 => {
                all.remove(i);
            }
            Some(i) => all[i].count = count,
            None if count > 0 => all.push(Reaction { emoji: emoji.to_string(), count, mine: false }),
            None => {}
        });
    }
}

/// Renders one message with its role's style, its sources and a typing
/// indicator while it streams with no text yet. AI and operator text is
/// rendered again as Markdown each time it grows. A streaming bubble is
/// `aria-busy="true"`: the message list (`role="log"`) announces the answer
/// once, when it is complete, not every chunk.
#[component]
pub fn MessageBubble(message: UiMessage) -> impl IntoView {
    if message.notice {
        return view! { <p class="ec-notice">{move || message.content.get()}</p> }.into_any();
    }
    let class = format!("ec-msg ec-{}", message.role.as_str());
    let read = move || message.role == Role::Visitor && message.status.get() == Some(MessageStatus::Read);
    let waiting = move || message.streaming.get() && message.content.with(String::is_empty);
    view! {
        <div class=class data-role=message.role.as_str() aria-busy=move || if message.streaming.get() { "true" } else { "false" }>
            <Show when=move || message.author.with(Option::is_some)>
                <span class="ec-author">{move || message.author.get().unwrap_or_default()}</span>
            </Show>
            <Show when=waiting fallback=move || content_view(message)>
                <p class="ec-typing"><span class="ec-sr">{text(Text::Typing)}</span><i aria-hidden="true"></i><i aria-hidden="true"></i><i aria-hidden="true"></i></p>
            </Show>
            {move || message.attachments.get().into_iter().map(attachment_view).collect_view()}
            <Show when=move || message.sources.with(|s| !s.is_empty())>
                <ul class="ec-sources">
                    {move || message.sources.get().into_iter().map(|s| view! { <li>{source_view(s)}</li> }).collect_view()}
                </ul>
            </Show>
            <Show when=move || message.edited.get()>
                <span class="ec-edited">{text(Text::Edited)}</span>
            </Show>
            <Show when=move || message.reactions.with(|r| !r.is_empty())>
                <p class="ec-reactions">
                    {move || message.reactions.get().into_iter().map(|r| view! { <span class="ec-reaction">{format!("{} {}", r.emoji, r.count)}</span> }).collect_view()}
                </p>
            </Show>
            <Show when=read>
                <span class="ec-read">{text(Text::Seen)}</span>
            </Show>
        </div>
    }
    .into_any()
}

/// The text of `message`: as typed for a visitor, Markdown for AI and operators.
fn content_view(message: UiMessage) -> AnyView {
    match message.role {
        Role::Visitor => view! { <p class="ec-text" dir="auto">{move || message.content.get()}</p> }.into_any(),
        Role::Ai | Role::Operator => {
            let blocks = move || message.content.with(|text| message.sources.with(|sources| markdown::parse(text, sources)));
            view! { <div class="ec-text ec-md" dir="auto">{move || markdown::view(blocks())}</div> }.into_any()
        }
    }
}

/// An attached image shown inline; other files as a download link. URLs are
/// the worker's signed file URLs, made absolute with the API base.
fn attachment_view(attachment: Attachment) -> AnyView {
    let base = use_context::<ApiBase>().map(|b| b.0).unwrap_or_default();
    let url = format!("{base}{}", attachment.url);
    if attachment.content_type.starts_with("image/") {
        view! { <img class="ec-image" src=url alt=attachment.name /> }.into_any()
    } else {
        view! { <a class="ec-file-link" href=url target="_blank" rel=markdown::LINK_REL>{attachment.name}</a> }.into_any()
    }
}

/// The worker's origin, provided by the panel for attachment URLs.
#[derive(Debug, Clone)]
pub struct ApiBase(pub String);

fn source_view(source: Source) -> AnyView {
    match source.url.filter(|u| markdown::is_web_url(u)) {
        Some(url) => view! {
            <a href=url target="_blank" rel=markdown::LINK_REL>{source.title}</a>
        }
        .into_any(),
        None => view! { <span>{source.title}</span> }.into_any(),
    }
}
