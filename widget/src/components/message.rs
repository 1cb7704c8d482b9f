//! One message bubble. A visitor's content is a text node; AI and operator
//! content is the safe Markdown subset of [`edgechat_shared::markdown`]; never HTML.

use edgechat_shared::api::stream::Source;
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{ChatMessage, MessageStatus, Reaction, Role};
use edgechat_shared::markdown::{self, Block, Inline};
use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;

use crate::dom;
use crate::i18n::{t, Locale, Text};

/// What a bubble shows of its message; `content` grows while an answer streams.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// The text so far.
    pub content: String,
    /// `true` while the answer is still streaming.
    pub streaming: bool,
    /// Knowledge-base articles the answer cites.
    pub sources: Vec<Source>,
    /// Operator's display name.
    pub author: Option<String>,
    /// Server id, once stored.
    pub id: Option<i64>,
    /// Server `seq`, once stored.
    pub seq: Option<i64>,
    /// Delivery status of the visitor's own messages.
    pub status: Option<MessageStatus>,
    /// Files attached to the message.
    pub attachments: Vec<Attachment>,
    /// `true` once its author edited it (seed 002): shows "edited".
    pub edited: bool,
    /// Reactions, shown as read-only `emoji count` chips.
    pub reactions: Vec<Reaction>,
}

/// A message as the panel shows it. Its parts are one signal, [`Shown`]:
/// the bubble redraws as a whole when any of them changes, and one signal
/// type in place of ten keeps the wasm small (issue 15).
#[derive(Debug, Clone, Copy)]
pub struct UiMessage {
    /// Stable key within the panel.
    pub key: usize,
    /// Who wrote it.
    pub role: Role,
    /// A notice of the conversation (an operator joined, it was closed), not a message.
    pub notice: bool,
    /// Everything the bubble shows.
    pub shown: RwSignal<Shown>,
}

impl UiMessage {
    /// A new message with `key`.
    pub fn new(key: usize, role: Role, content: &str) -> UiMessage {
        let shown = Shown { content: content.to_string(), ..Shown::default() };
        UiMessage { key, role, notice: false, shown: RwSignal::new(shown) }
    }

    /// A notice line such as "Ann joined the conversation".
    pub fn notice(key: usize, text: &str) -> UiMessage {
        UiMessage { notice: true, ..UiMessage::new(key, Role::Ai, text) }
    }

    /// The server id, once stored (not tracked).
    pub fn id(&self) -> Option<i64> {
        self.shown.with_untracked(|s| s.id)
    }

    /// The server `seq`, once stored (not tracked).
    pub fn seq(&self) -> Option<i64> {
        self.shown.with_untracked(|s| s.seq)
    }

    /// `true` while the answer streams (not tracked).
    pub fn streaming(&self) -> bool {
        self.shown.with_untracked(|s| s.streaming)
    }

    /// Calls `f` with the text so far (not tracked).
    pub fn with_content<T>(&self, f: impl FnOnce(&str) -> T) -> T {
        self.shown.with_untracked(|s| f(&s.content))
    }

    /// Changes what the bubble shows (it redraws).
    pub fn update(&self, f: impl FnOnce(&mut Shown)) {
        self.shown.update(f);
    }

    /// Takes the server's id, seq and status of a stored message.
    pub fn stored_as(&self, message: &ChatMessage) {
        self.update(|s| {
            s.id = Some(message.id);
            s.seq = Some(message.seq);
            if message.status.is_some() {
                s.status = message.status;
            }
        });
    }

    /// A stored message loaded from the history.
    pub fn from_history(key: usize, message: &ChatMessage) -> UiMessage {
        let ui = UiMessage::new(key, message.role, &message.content);
        ui.update(|s| {
            s.author = message.author_name.clone();
            s.sources = message.sources.clone();
            s.attachments = message.attachments.clone();
        });
        ui.stored_as(message);
        ui.updated(message);
        ui
    }

    /// Takes an edited message's text, "edited" mark and reactions (`message_updated`).
    pub fn updated(&self, message: &ChatMessage) {
        self.update(|s| {
            if s.content != message.content {
                s.content = message.content.clone();
            }
            s.edited = message.edited_at.is_some();
            s.reactions = message.reactions.clone();
        });
    }

    /// Someone added or took back `emoji`, which `count` people now give (`reaction`).
    pub fn react(&self, emoji: &str, count: i64) {
        self.update(|s| {
            let all = &mut s.reactions;
            match all.iter().position(|r| r.emoji == emoji) {
                Some(i) if count <= 0 => {
                    all.remove(i);
                }
                Some(i) => all[i].count = count,
                None if count > 0 => all.push(Reaction { emoji: emoji.to_string(), count, mine: false }),
                None => {}
            }
        });
    }
}

/// Renders one message with its role's style, its sources and a typing
/// indicator while it streams with no text yet. AI and operator text is
/// rendered again as Markdown each time it grows. A streaming bubble is
/// `aria-busy="true"`: the message list (`role="log"`) announces the answer
/// once, when it is complete, not every chunk.
///
/// The bubble's inside is written straight to the DOM by one effect that
/// reads every signal of the message and redraws it ([`draw`]): a Leptos
/// view per part (author, text, Markdown, attachments, sources, reactions,
/// marks) cost 23 KB gzip of the widget's wasm (issue 15, measured by
/// building without it); this is a few. Nodes are made with
/// `createElement` and text with `textContent`, never HTML ([`dom`]).
/// Appended to `parent`; `base` is the worker's origin, for attachment URLs.
pub fn bubble(parent: &web_sys::Node, message: UiMessage, base: String) -> web_sys::HtmlElement {
    let locale = crate::i18n::locale();
    if message.notice {
        let notice = dom::element(parent, "p", "ec-notice");
        dom::text(&notice, move || message.shown.with(|s| s.content.clone()));
        return notice;
    }
    let class = ["ec-msg ec-", message.role.as_str()].concat();
    let bubble = dom::element(parent, "div", &class);
    dom::attr(&bubble, "data-role", message.role.as_str());
    dom::attr(&bubble, "aria-busy", "false");
    let node = bubble.clone();
    dom::bind(move || draw(&node, &message, &base, locale.get()));
    bubble
}

/// Redraws the inside of `bubble` from `message` (tracking its signal).
pub(crate) fn draw(bubble: &web_sys::HtmlElement, message: &UiMessage, base: &str, locale: Locale) {
    let Some(doc) = bubble.owner_document() else { return };
    bubble.set_text_content(None);
    message.shown.with(|shown| draw_shown(bubble, &doc, message.role, shown, base, locale));
}

fn draw_shown(bubble: &web_sys::HtmlElement, doc: &web_sys::Document, role: Role, shown: &Shown, base: &str, locale: Locale) {
    let Shown { content, streaming, sources, author, status, attachments, edited, reactions, .. } = shown;
    let streaming = *streaming;
    let _ = bubble.set_attribute("aria-busy", if streaming { "true" } else { "false" });
    let add = |parent: &web_sys::Node, tag: &str, class: &str, text: Option<&str>| -> web_sys::Element {
        let element = append(doc, parent, tag);
        if !class.is_empty() {
            let _ = element.set_attribute("class", class);
        }
        if text.is_some() {
            element.set_text_content(text);
        }
        element
    };
    if let Some(author) = author {
        add(bubble, "span", "ec-author", Some(author));
    }
    if streaming && content.is_empty() {
        let typing = add(bubble, "p", "ec-typing", None);
        add(&typing, "span", "ec-sr", Some(t(locale, Text::Typing)));
        for _ in 0..3 {
            let _ = add(&typing, "i", "", None).set_attribute("aria-hidden", "true");
        }
    } else if role == Role::Visitor {
        let _ = add(bubble, "p", "ec-text", Some(content)).set_attribute("dir", "auto");
    } else {
        let text = add(bubble, "div", "ec-text ec-md", None);
        let _ = text.set_attribute("dir", "auto");
        markdown_dom(doc, &text, &markdown::parse(content, sources));
    }
    // An attachment's URL is a path on the worker (`/api/v1/…`); anything
    // else (`@host/…` would make `base@host` a URL of another host) is not shown.
    for attachment in attachments.iter().filter(|a| a.url.starts_with('/')) {
        let url = [base, &attachment.url].concat();
        if attachment.content_type.starts_with("image/") {
            let image = add(bubble, "img", "ec-image", None);
            let _ = image.set_attribute("src", &url);
            let _ = image.set_attribute("alt", &attachment.name);
        } else {
            link(&add(bubble, "a", "ec-file-link", Some(&attachment.name)), &url);
        }
    }
    if !sources.is_empty() {
        let list = add(bubble, "ul", "ec-sources", None);
        for source in sources {
            let item = add(&list, "li", "", None);
            match source.url.as_deref().filter(|u| markdown::is_web_url(u)) {
                Some(url) => link(&add(&item, "a", "", Some(&source.title)), url),
                None => drop(add(&item, "span", "", Some(&source.title))),
            }
        }
    }
    if *edited {
        add(bubble, "span", "ec-edited", Some(t(locale, Text::Edited)));
    }
    if !reactions.is_empty() {
        let row = add(bubble, "p", "ec-reactions", None);
        for reaction in reactions {
            let chip = [&reaction.emoji, " ", &reaction.count.to_string()].concat();
            add(&row, "span", "ec-reaction", Some(&chip));
        }
    }
    if role == Role::Visitor && *status == Some(MessageStatus::Read) {
        add(bubble, "span", "ec-read", Some(t(locale, Text::Seen)));
    }
}

/// A new `tag` element appended to `parent`.
fn append(doc: &web_sys::Document, parent: &web_sys::Node, tag: &str) -> web_sys::Element {
    let element = doc.create_element(tag).expect("a known tag");
    let _ = parent.append_child(&element);
    element
}

/// Makes `a` a link to `url` that opens in a new tab with [`markdown::LINK_REL`].
fn link(a: &web_sys::Element, url: &str) {
    let _ = a.set_attribute("href", url);
    let _ = a.set_attribute("target", "_blank");
    let _ = a.set_attribute("rel", markdown::LINK_REL);
}

/// Appends the DOM of Markdown `blocks` to `parent`: elements and text
/// nodes only (the same tags as [`markdown::view`], which the console uses).
/// Depth is bounded by [`markdown::parse`].
fn markdown_dom(doc: &web_sys::Document, parent: &web_sys::Node, blocks: &[Block]) {
    let add = |parent: &web_sys::Node, tag: &str| append(doc, parent, tag);
    for block in blocks {
        match block {
            Block::Paragraph(inlines) => inlines_dom(doc, &add(parent, "p"), inlines),
            Block::Plain(inlines) => inlines_dom(doc, parent, inlines),
            Block::List { start, items } => {
                let list = add(parent, if start.is_some() { "ol" } else { "ul" });
                if let Some(start) = start {
                    let _ = list.set_attribute("start", &start.to_string());
                }
                for item in items {
                    markdown_dom(doc, &add(&list, "li"), item);
                }
            }
            Block::Pre(text) => add(&add(parent, "pre"), "code").set_text_content(Some(text)),
            Block::Quote(blocks) => markdown_dom(doc, &add(parent, "blockquote"), blocks),
        }
    }
}

fn inlines_dom(doc: &web_sys::Document, parent: &web_sys::Node, inlines: &[Inline]) {
    let add = |tag: &str| append(doc, parent, tag);
    for inline in inlines {
        match inline {
            Inline::Text(text) => {
                let _ = parent.append_child(&doc.create_text_node(text));
            }
            Inline::Break => drop(add("br")),
            Inline::Strong(children) => inlines_dom(doc, &add("strong"), children),
            Inline::Emphasis(children) => inlines_dom(doc, &add("em"), children),
            Inline::Code(text) => add("code").set_text_content(Some(text)),
            Inline::Link { url, children } => {
                let a = add("a");
                link(&a, url);
                inlines_dom(doc, &a, children);
            }
            Inline::Citation { number, url, title } => {
                let sup = add("sup");
                let _ = sup.set_attribute("class", "ec-cite");
                let a = append(doc, &sup, "a");
                link(&a, url);
                let _ = a.set_attribute("title", title);
                a.set_text_content(Some(&["[", &number.to_string(), "]"].concat()));
            }
        }
    }
}
