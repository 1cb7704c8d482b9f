//! One conversation in the console: its messages (live), the composer,
//! the actions (take over / hand back, close / reopen, assign, block) and
//! the visitor panel.
//!
//! Messages come from `GET /v1/chat/conversations/{id}/messages` (the
//! newest page, older pages on demand) and then from the live channel;
//! after a reconnection, everything after the last `seq` shown is fetched
//! again. AI and operator messages render through the widget's Markdown
//! renderer (`edgechat_shared::markdown`), visitor messages as text.
//!
//! Team messaging (seed 002): the header renames, mutes, archives and
//! deletes; the side panel lists the participants; the caller's own
//! messages can be edited in place (`PATCH /v1/chat/messages/{id}`), every
//! message shows "edited", "Forwarded", its reactions (toggle chips) and a
//! quick reaction bar, and can be forwarded; the composer attaches files
//! (seed 002's upload URL → `PUT` → confirm). `?message={id}` opens the
//! conversation scrolled to that message, highlighted.

use edgechat_shared::api::app::SnoozeRequest;
use edgechat_shared::api::conversations::{
    Assignment, ConversationDetail, ConversationSummary, Kind, MessageList, OperatorSend, SentMessage, Status,
};
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::media::{ConfirmMedia, ConfirmedMedia, UploadUrl, UploadUrlRequest};
use edgechat_shared::api::messages::{EditMessage, ReactionState, ReactionToggle};
use edgechat_shared::api::team::ConversationPatch;
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{ChatMessage, MessageStatus, Mode, Reaction, Role};
use edgechat_shared::markdown;
use leptos::html::{Div, Input, Textarea};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::inbox::Inbox;
use crate::session::Session;
use crate::{api, live, team, tickets, ui};

/// The quick reactions offered on every message.
const QUICK_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];
/// At most this many older pages are loaded to reach a message opened from search.
const MAX_PAGES_TO_TARGET: u32 = 20;

/// The detail with the creator, when the API gives it (`created_by`: who may delete for everyone).
#[derive(Deserialize)]
struct DetailWithCreator {
    #[serde(flatten)]
    detail: ConversationDetail,
    #[serde(default)]
    created_by: Option<i64>,
}

/// Messages per page.
const PAGE: u32 = 50;
/// How long the visitor's typing indicator stays without news, in ms.
const TYPING_TIMEOUT_MS: f64 = 8_000.0;
/// At most one "typing" signal per this many ms while the operator types.
const TYPING_EVERY_MS: f64 = 3_000.0;

/// The state of the open conversation; every field is a signal, so it is `Copy`.
#[derive(Clone, Copy)]
struct Open {
    id: i64,
    /// The signed-in operator.
    me: Option<i64>,
    /// The creator of the conversation, when known.
    created_by: RwSignal<Option<i64>>,
    /// The message id to bring into view (`?message=`).
    target: RwSignal<Option<i64>>,
    /// `true` while the operator looks at an older message: new ones do not scroll.
    hold_scroll: RwSignal<bool>,
    /// The inbox, taken at creation: async continuations have no reactive owner to look it up.
    inbox: Inbox,
    detail: RwSignal<Option<ConversationDetail>>,
    messages: RwSignal<Vec<ChatMessage>>,
    older: RwSignal<bool>,
    visitor_typing_until: RwSignal<f64>,
    error: RwSignal<Option<String>>,
    /// A confirmation for the person ("Forwarded to 2 conversations.").
    note: RwSignal<Option<String>>,
}

impl Open {
    /// `true` once the view was left: answers arriving later are dropped
    /// (a disposed signal must not be touched).
    fn gone(&self) -> bool {
        self.messages.is_disposed() || self.detail.is_disposed()
    }

    fn last_seq(&self) -> i64 {
        self.messages.with_untracked(|all| all.last().map_or(0, |m| m.seq))
    }

    /// Adds `new` messages, keeping `seq` order and no duplicates.
    fn merge(&self, new: Vec<ChatMessage>) {
        self.messages.update(|all| {
            for message in new {
                match all.binary_search_by_key(&message.seq, |m| m.seq) {
                    Ok(index) => all[index] = message,
                    Err(index) => all.insert(index, message),
                }
            }
        });
    }

    fn set_summary(&self, summary: ConversationSummary) {
        self.inbox.replace(&summary);
        self.detail.update(|detail| {
            if let Some(detail) = detail {
                detail.summary = summary;
            }
        });
    }

    fn patch(&self, f: impl FnOnce(&mut ConversationSummary)) {
        self.detail.update(|detail| {
            if let Some(detail) = detail {
                f(&mut detail.summary);
            }
        });
    }

    async fn load_detail(self) {
        let answer = api::get::<DetailWithCreator>(&format!("/v1/chat/conversations/{}", self.id)).await;
        if self.gone() {
            return;
        }
        match answer {
            Ok(detail) => {
                self.created_by.set(detail.created_by);
                self.detail.set(Some(detail.detail));
            }
            Err(err) => self.error.set(Some(err.message)),
        }
    }

    /// Loads what came after the last message shown (all of the newest page at first).
    async fn catch_up(self) {
        let last = self.last_seq();
        let query = if last == 0 { format!("limit={PAGE}") } else { format!("after_seq={last}&limit=100") };
        let answer = api::get::<MessageList>(&format!("/v1/chat/conversations/{}/messages?{query}", self.id)).await;
        if self.gone() {
            return;
        }
        match answer {
            Ok(list) => {
                if last == 0 {
                    self.older.set(list.has_more);
                }
                let more = last != 0 && list.has_more;
                self.merge(list.messages);
                self.mark_read().await;
                if more {
                    Box::pin(self.catch_up()).await;
                }
            }
            Err(err) => self.error.set(Some(err.message)),
        }
    }

    /// Loads older pages until the target message is shown (bounded), then scrolls to it.
    async fn reach_target(self) {
        let Some(target) = self.target.get_untracked() else { return };
        for _ in 0..MAX_PAGES_TO_TARGET {
            let shown = self.messages.with_untracked(|all| all.iter().any(|m| m.id == target));
            if shown || !self.older.get_untracked() || self.gone() {
                break;
            }
            self.load_older().await;
        }
        if self.gone() {
            return;
        }
        self.hold_scroll.set(true);
        let Some(seq) = self.messages.with_untracked(|all| all.iter().find(|m| m.id == target).map(|m| m.seq)) else { return };
        // After the render of the page just merged.
        let callback = Closure::once_into_js(move || {
            let element = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(&format!("m-{seq}")));
            if let Some(element) = element {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                element.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), 50);
        }
    }

    /// The message of `seq`, if shown.
    fn message(&self, seq: i64) -> Option<ChatMessage> {
        self.messages.with(|all| all.binary_search_by_key(&seq, |m| m.seq).ok().map(|i| all[i].clone()))
    }

    fn update_message(&self, id: i64, f: impl FnOnce(&mut ChatMessage)) {
        self.messages.update(|all| {
            if let Some(message) = all.iter_mut().find(|m| m.id == id) {
                f(message);
            }
        });
    }

    async fn load_older(self) {
        let Some(first) = self.messages.with_untracked(|all| all.first().map(|m| m.seq)) else { return };
        let answer = api::get::<MessageList>(&format!("/v1/chat/conversations/{}/messages?before_seq={first}&limit={PAGE}", self.id)).await;
        if self.gone() {
            return;
        }
        match answer {
            Ok(list) => {
                self.older.set(list.has_more);
                self.merge(list.messages);
            }
            Err(err) => self.error.set(Some(err.message)),
        }
    }

    /// Marks every visitor message read for the caller, while the tab is visible.
    async fn mark_read(self) {
        if self.gone() {
            return;
        }
        let visible = web_sys::window().and_then(|w| w.document()).is_some_and(|d| !d.hidden());
        let unread = self
            .messages
            .with_untracked(|all| all.iter().any(|m| m.role == Role::Visitor || (m.role == Role::Operator && m.author_id != self.me)));
        if !visible || !unread {
            return;
        }
        if api::post::<ConversationSummary>(&format!("/v1/chat/conversations/{}/read", self.id), &api::EMPTY).await.is_ok() {
            self.inbox.mark_read(self.id);
        }
    }

    fn apply(self, event: &LiveEvent) {
        if event.conversation_id() != Some(self.id) {
            return;
        }
        match event {
            LiveEvent::Message { message, .. } => {
                let visitor = message.role == Role::Visitor;
                if visitor {
                    self.visitor_typing_until.set(0.0);
                }
                // A gap means events were missed: fetch instead of guessing.
                if message.seq > self.last_seq() + 1 && self.last_seq() != 0 {
                    leptos::task::spawn_local(self.catch_up());
                } else {
                    self.merge(vec![message.clone()]);
                    if visitor {
                        leptos::task::spawn_local(self.mark_read());
                    }
                }
            }
            LiveEvent::Typing { role: Role::Visitor, typing, .. } => {
                self.visitor_typing_until.set(if *typing { js_sys::Date::now() + TYPING_TIMEOUT_MS } else { 0.0 });
            }
            LiveEvent::Read { role: Role::Visitor, seq, .. } => self.messages.update(|all| {
                for message in all.iter_mut().filter(|m| m.role != Role::Visitor && m.seq <= *seq) {
                    message.status = Some(MessageStatus::Read);
                }
            }),
            LiveEvent::Mode { mode, .. } => self.patch(|s| s.mode = *mode),
            LiveEvent::Status { status, .. } => self.patch(|s| s.status = *status),
            LiveEvent::Handoff { .. } => self.patch(|s| s.mode = Mode::Operator),
            LiveEvent::Assignment { assignee_id, .. } => self.patch(|s| s.assignee_id = *assignee_id),
            LiveEvent::VisitorBlocked { blocked, .. } => self.patch(|s| {
                if let Some(visitor) = s.visitor.as_mut() {
                    visitor.blocked = *blocked;
                }
            }),
            LiveEvent::MessageUpdated { message, .. }
                if self.messages.with_untracked(|all| all.binary_search_by_key(&message.seq, |m| m.seq).is_ok()) =>
            {
                self.merge(vec![message.clone()]);
            }
            LiveEvent::Reaction { message_id, emoji, user_id, added, count, .. } => {
                let mine = self.me.is_some() && *user_id == self.me;
                self.update_message(*message_id, |m| apply_reaction(&mut m.reactions, emoji, *count, mine.then_some(*added)));
            }
            LiveEvent::ConversationUpdated { name, description, .. } => self.patch(|s| {
                s.name = name.clone();
                s.description = description.clone();
            }),
            LiveEvent::ConversationDeleted { .. } => {
                self.detail.set(None);
                self.messages.set(Vec::new());
                self.error.set(Some("This conversation was deleted.".into()));
            }
            _ => {}
        }
    }
}

/// The conversation `id`: messages, composer, actions and visitor panel.
#[component]
pub fn ConversationView(id: i64) -> impl IntoView {
    let query = use_query_map();
    let target = Memo::new(move |_| query.with(|q| q.get("message").and_then(|m| m.parse::<i64>().ok())));
    let open = Open {
        id,
        me: Session::get().signed().map(|s| s.user.id),
        created_by: RwSignal::new(None),
        target: RwSignal::new(target.get_untracked()),
        hold_scroll: RwSignal::new(false),
        inbox: Inbox::get(),
        detail: RwSignal::new(None),
        messages: RwSignal::new(Vec::new()),
        older: RwSignal::new(false),
        visitor_typing_until: RwSignal::new(0.0),
        error: RwSignal::new(None),
        note: RwSignal::new(None),
    };
    let live = live::Live::get();
    Effect::new(move |_| {
        live.epoch.track();
        leptos::task::spawn_local(async move {
            open.load_detail().await;
            open.catch_up().await;
            open.reach_target().await;
        });
    });
    // A search result for another message of this conversation: go there.
    Effect::new(move |previous: Option<Option<i64>>| {
        let now = target.get();
        if previous.is_some_and(|p| p != now) {
            open.target.set(now);
            leptos::task::spawn_local(open.reach_target());
        }
        now
    });
    live::listen(move |event| open.apply(event));

    // Keep the newest message in view.
    let log = NodeRef::<Div>::new();
    Effect::new(move |_| {
        open.messages.track();
        if open.hold_scroll.get_untracked() {
            return;
        }
        if let Some(log) = log.get() {
            log.set_scroll_top(log.scroll_height());
        }
    });
    let now = ui::now();
    let visitor_typing = move || {
        now.track();
        open.visitor_typing_until.get() > js_sys::Date::now()
    };
    // Re-evaluate the typing indicator when it expires.
    Effect::new(move |_| {
        let until = open.visitor_typing_until.get();
        let wait = until - js_sys::Date::now();
        if wait > 0.0 {
            let callback = Closure::once_into_js(move || open.visitor_typing_until.update(|_| {}));
            if let Some(window) = web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), wait as i32 + 50);
            }
        }
    });

    let visitor_name = move || {
        open.inbox.dm_names.track();
        open.detail.with(|d| d.as_ref().map(|d| open.inbox.title(&d.summary)).unwrap_or_default())
    };
    let internal = move || open.detail.with(|d| d.as_ref().is_some_and(|d| d.summary.kind == Kind::Internal));
    let muted = move || open.detail.with(|d| d.as_ref().is_some_and(|d| d.summary.muted));
    let description = move || open.detail.with(|d| d.as_ref().and_then(|d| d.summary.description.clone()));
    // On a phone the visitor panel opens over the messages.
    let details = RwSignal::new(false);
    view! {
        <div class="conversation" class:show-details=move || details.get() data-conversation=id.to_string()>
            <header class="conversation-head">
                <a class="back" href="/app/" aria-label="Back to the list">"←"</a>
                <h1>
                    {move || internal().then(|| view! { <span class="team-icon" title="Team conversation" aria-label="Team conversation" role="img">"👥"</span> })}
                    // Isolated: a name with a bidi override (U+202E) cannot reorder the icons beside it.
                    <bdi>{visitor_name}</bdi>
                    {move || muted().then(|| view! { <span class="muted-icon" title="Muted" aria-label="Muted" role="img">"🔇"</span> })}
                </h1>
                {move || description().map(|d| view! { <p class="description muted">{d}</p> })}
                <button type="button" class="details-toggle" aria-expanded=move || details.get().to_string() aria-controls="visitor-panel"
                    on:click=move |_| details.update(|d| *d = !*d)>"Details"</button>
                <Actions open=open />
            </header>
            <ui::ErrorNote error=open.error />
            <ui::OkNote note=open.note />
            <div class="conversation-body">
                <div class="messages" node_ref=log role="log" aria-live="polite" aria-label="Messages">
                    <Show when=move || open.older.get()>
                        <button type="button" class="more" on:click=move |_| { leptos::task::spawn_local(open.load_older()); }>"Load earlier messages"</button>
                    </Show>
                    <For each=move || open.messages.with(|all| all.iter().map(|m| m.seq).collect::<Vec<_>>()) key=|seq| *seq let:seq>
                        <MessageItem open=open seq=seq visitor=visitor_name() />
                    </For>
                    <Show when=visitor_typing>
                        <p class="typing" role="status"><bdi>{visitor_name}</bdi>" is typing…"</p>
                    </Show>
                </div>
                <VisitorPanel open=open />
            </div>
            <Composer open=open />
        </div>
    }
}

/// Sets `emoji`'s `count` in `reactions` (dropping it at 0); `mine` when the caller's own toggle is known.
fn apply_reaction(reactions: &mut Vec<Reaction>, emoji: &str, count: i64, mine: Option<bool>) {
    match reactions.iter_mut().find(|r| r.emoji == emoji) {
        Some(reaction) => {
            reaction.count = count;
            if let Some(mine) = mine {
                reaction.mine = mine;
            }
        }
        None if count > 0 => reactions.push(Reaction { emoji: emoji.to_string(), count, mine: mine.unwrap_or(false) }),
        None => {}
    }
    reactions.retain(|r| r.count > 0);
}

/// One message: who, when, status, "edited", "Forwarded", content,
/// attachments, sources, reactions; edit (own messages), react, forward.
#[component]
fn MessageItem(open: Open, seq: i64, visitor: String) -> impl IntoView {
    let message = Memo::new(move |_| open.message(seq));
    let editing = RwSignal::new(false);
    let forwarding = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let editor = NodeRef::<Textarea>::new();
    Effect::new(move |_| {
        if editing.get() {
            if let Some(editor) = editor.get() {
                let _ = editor.focus();
            }
        }
    });
    let save = move || {
        let Some(current) = message.get_untracked() else { return };
        let content = draft.get_untracked();
        if content.trim().is_empty() || content == current.content {
            editing.set(false);
            return;
        }
        leptos::task::spawn_local(async move {
            let answer = api::patch::<ChatMessage>(&format!("/v1/chat/messages/{}", current.id), &EditMessage { content }).await;
            if open.gone() {
                return;
            }
            match answer {
                Ok(updated) => {
                    open.merge(vec![updated]);
                    editing.try_set(false);
                    open.error.set(None);
                }
                Err(err) => open.error.set(Some(err.message)),
            }
        });
    };
    let react = move |emoji: String| {
        let Some(id) = message.get_untracked().map(|m| m.id) else { return };
        leptos::task::spawn_local(async move {
            let answer = api::post::<ReactionState>(&format!("/v1/chat/messages/{id}/reactions"), &ReactionToggle { emoji }).await;
            if open.gone() {
                return;
            }
            match answer {
                Ok(r) => open.update_message(id, |m| m.reactions = r.reactions),
                Err(err) => open.error.set(Some(err.message)),
            }
        });
    };
    move || {
        let message = message.get()?;
        let visitor = visitor.clone();
        let id = message.id;
        let author = match message.role {
            Role::Visitor => visitor,
            Role::Ai => "AI".into(),
            Role::Operator => message.author_name.clone().unwrap_or_else(|| "Operator".into()),
        };
        let own = message.role == Role::Operator && open.me.is_some() && message.author_id == open.me;
        let role = message.role.as_str();
        let status = (message.role != Role::Visitor).then_some(message.status).flatten().map(|s| match s {
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
        });
        let shown = message.clone();
        let sources = message.sources.clone();
        let target = move || open.target.get() == Some(id);
        let keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
            "Enter" if !ev.shift_key() && !ev.is_composing() => {
                ev.prevent_default();
                save();
            }
            "Escape" => {
                ev.prevent_default();
                editing.set(false);
            }
            _ => {}
        };
        let react_chip = react;
        Some(view! {
            <article class=format!("msg {role}") class:target=target id=format!("m-{seq}") data-seq=seq.to_string() data-message=id.to_string() data-role=role
                data-edited=message.edited_at.is_some().to_string()>
                <header class="msg-head">
                    <bdi class="author">{author}</bdi>
                    <time datetime=message.created_at.clone()>{ui::clock(&message.created_at)}</time>
                    {status.map(|s| view! { <span class="status" data-status=s>{s}</span> })}
                    {message.edited_at.as_ref().map(|at| view! { <span class="edited" title=ui::clock(at)>"edited"</span> })}
                    {message.forwarded_from.map(|_| view! { <span class="forwarded">"Forwarded"</span> })}
                </header>
                {move || if editing.get() {
                    view! {
                        <div class="edit">
                            <label class="sr-only" for=format!("edit-{id}")>"Edit message"</label>
                            <textarea id=format!("edit-{id}") class="edit-box" node_ref=editor rows="2" prop:value=move || draft.get()
                                on:input=move |ev| draft.set(event_target_value(&ev)) on:keydown=keydown></textarea>
                            <p class="muted hint">"Enter saves, Esc cancels"</p>
                        </div>
                    }.into_any()
                } else {
                    body_view(&shown).into_any()
                }}
                {(!message.attachments.is_empty()).then(|| view! {
                    <ul class="attachments">{message.attachments.clone().into_iter().map(attachment_view).collect_view()}</ul>
                })}
                {(!sources.is_empty()).then(|| view! {
                    <ol class="sources" aria-label="Sources">
                        {sources.into_iter().map(|s| match s.url.filter(|u| markdown::is_web_url(u)) {
                            Some(url) => view! { <li><a href=url target="_blank" rel=markdown::LINK_REL>{s.title}</a></li> }.into_any(),
                            None => view! { <li>{s.title}</li> }.into_any(),
                        }).collect_view()}
                    </ol>
                })}
                {(!message.reactions.is_empty()).then(|| view! {
                    <div class="reactions" aria-label="Reactions">
                        {message.reactions.iter().map(|r| {
                            let emoji = r.emoji.clone();
                            let label = format!("{} {}{}", r.emoji, r.count, if r.mine { ", yours: click to take back" } else { ": click to add yours" });
                            view! {
                                <button type="button" class="chip" data-emoji=r.emoji.clone() aria-pressed=r.mine.to_string() aria-label=label
                                    on:click=move |_| react_chip(emoji.clone())>
                                    {r.emoji.clone()}<span class="count">{r.count}</span>
                                </button>
                            }
                        }).collect_view()}
                    </div>
                })}
                <div class="msg-actions" role="toolbar" aria-label="Message actions">
                    {QUICK_REACTIONS.iter().map(|emoji| view! {
                        <button type="button" class="quick" data-quick=*emoji aria-label=format!("React with {emoji}") on:click=move |_| react(emoji.to_string())>{*emoji}</button>
                    }).collect_view()}
                    {own.then(|| {
                        let content = message.content.clone();
                        view! { <button type="button" class="link" on:click=move |_| { draft.set(content.clone()); editing.set(true); }>"Edit"</button> }
                    })}
                    <button type="button" class="link" on:click=move |_| forwarding.set(true)>"Forward"</button>
                </div>
                <Show when=move || forwarding.get()>
                    <team::ForwardDialog message_id=id from=open.id on_close=Callback::new(move |_| forwarding.set(false))
                        on_done=Callback::new(move |n: usize| {
                            forwarding.set(false);
                            open.error.set(None);
                            open.note.set(Some(if n == 1 { "Forwarded to 1 conversation.".into() } else { format!("Forwarded to {n} conversations.") }));
                        }) />
                </Show>
            </article>
        })
    }
}

/// The text of `message`: visitor messages as text, the others through the Markdown renderer.
fn body_view(message: &ChatMessage) -> Option<AnyView> {
    if message.content.is_empty() {
        return None;
    }
    Some(if message.role == Role::Visitor {
        view! { <div class="text">{message.content.clone()}</div> }.into_any()
    } else {
        let blocks = markdown::parse(&message.content, &message.sources);
        view! { <div class="text md">{markdown::view(blocks)}</div> }.into_any()
    })
}

fn attachment_view(attachment: Attachment) -> impl IntoView {
    let size = if attachment.size >= 1 << 20 {
        format!("{} MB", ui::decimal(attachment.size as f64 / (1 << 20) as f64, 1))
    } else {
        format!("{} KB", (attachment.size + 1023) / 1024)
    };
    if attachment.content_type.starts_with("image/") {
        view! {
            <li class="attachment image">
                <a href=attachment.url.clone() target="_blank" rel=markdown::LINK_REL>
                    <img src=attachment.url.clone() alt=attachment.name.clone() loading="lazy" />
                </a>
            </li>
        }
        .into_any()
    } else {
        view! {
            <li class="attachment file">
                <a href=attachment.url target="_blank" rel=markdown::LINK_REL>{attachment.name}</a>
                <span class="muted">{format!(" ({size})")}</span>
            </li>
        }
        .into_any()
    }
}

/// Take over / hand back, close / reopen, assign, block / unblock (visitor
/// conversations); rename, mute, archive and delete (every conversation).
#[component]
fn Actions(open: Open) -> impl IntoView {
    let inbox = Inbox::get();
    let me = Session::get().signed().map(|s| s.user.id);
    let admin = Session::get().signed().is_some_and(|s| s.is_admin());
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let renaming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let ticketing = RwSignal::new(false);
    let kind = move || open.detail.with(|d| d.as_ref().map(|d| d.summary.kind));
    let visitor_kind = move || kind() == Some(Kind::Visitor);
    let muted = move || open.detail.with(|d| d.as_ref().is_some_and(|d| d.summary.muted));
    let archived = move || open.detail.with(|d| d.as_ref().is_some_and(|d| d.summary.archived));
    // POST sets, DELETE clears the caller's mute or archive; the answer is the summary.
    let toggle = move |path: &'static str, on: bool| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let url = format!("/v1/chat/conversations/{}/{path}", open.id);
            let answer = if on {
                api::post::<ConversationSummary>(&url, &api::EMPTY).await
            } else {
                api::call::<ConversationSummary>("DELETE", &url, None::<&()>).await
            };
            if open.gone() {
                return;
            }
            match answer {
                Ok(summary) => {
                    let archived_now = summary.archived;
                    open.set_summary(summary);
                    open.error.set(None);
                    if path == "archive" && archived_now != open.inbox.archived.get_untracked() {
                        // It leaves (or comes back to) the list shown.
                        open.inbox.reload();
                    }
                }
                Err(err) => open.error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let may_delete_for_everyone = move || {
        admin || (me.is_some() && open.created_by.get() == me) || (open.created_by.get().is_none() && kind() == Some(Kind::Internal))
    };
    let remove = move |scope: &'static str| {
        let navigate = navigate.clone();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let answer = api::delete(&format!("/v1/chat/conversations/{}?scope={scope}", open.id)).await;
            if open.gone() {
                return;
            }
            busy.set(false);
            match answer {
                Ok(()) => {
                    open.inbox.conversations.update(|all| all.retain(|c| c.id != open.id));
                    deleting.set(false);
                    navigate("/app/", Default::default());
                }
                Err(err) => {
                    deleting.set(false);
                    open.error.set(Some(err.message));
                }
            }
        });
    };
    let act = move |path: &'static str| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let answer = api::post::<ConversationSummary>(&format!("/v1/chat/conversations/{}/{path}", open.id), &api::EMPTY).await;
            if open.gone() {
                return;
            }
            match answer {
                Ok(summary) => open.set_summary(summary),
                Err(err) => open.error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let snoozed_until = move || open.detail.with(|d| d.as_ref().and_then(|d| d.summary.snoozed_until.clone()));
    // Snooze until a time picked in the operator's own time zone.
    let snooze = move |ev| {
        let Some(until) = snooze_time(&event_target_value(&ev)) else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let url = format!("/v1/chat/conversations/{}/snooze", open.id);
            let answer = api::post::<ConversationSummary>(&url, &SnoozeRequest { until }).await;
            if open.gone() {
                return;
            }
            match answer {
                Ok(summary) => open.set_summary(summary),
                Err(err) => open.error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let mode = move || open.detail.with(|d| d.as_ref().map(|d| d.summary.mode));
    let status = move || open.detail.with(|d| d.as_ref().map(|d| d.summary.status));
    let assignee = move || open.detail.with(|d| d.as_ref().and_then(|d| d.summary.assignee_id));
    let visitor = move || open.detail.with(|d| d.as_ref().and_then(|d| d.summary.visitor.as_ref().map(|v| (v.id, v.blocked))));
    let assign = move |ev| {
        let value = event_target_value(&ev);
        let assignee_id = value.parse::<i64>().ok();
        leptos::task::spawn_local(async move {
            match api::post::<ConversationSummary>(&format!("/v1/chat/conversations/{}/assign", open.id), &Assignment { assignee_id }).await
            {
                Ok(summary) => open.set_summary(summary),
                Err(err) => open.error.set(Some(err.message)),
            }
        });
    };
    let block = move |_| {
        let Some((visitor_id, blocked)) = visitor() else { return };
        busy.set(true);
        leptos::task::spawn_local(async move {
            let path = format!("/v1/chat/users/{visitor_id}/block");
            let result =
                if blocked { api::delete(&path).await } else { api::post::<serde::de::IgnoredAny>(&path, &api::EMPTY).await.map(|_| ()) };
            if open.gone() {
                return;
            }
            match result {
                Ok(()) => open.patch(|s| {
                    if let Some(visitor) = s.visitor.as_mut() {
                        visitor.blocked = !blocked;
                    }
                }),
                Err(err) => open.error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="actions" role="toolbar" aria-label="Conversation actions">
            <Show when=visitor_kind>
            {move || match mode() {
                Some(Mode::Ai) => view! { <button type="button" class="primary" disabled=move || busy.get() on:click=move |_| act("takeover")>"Take over"</button> }.into_any(),
                Some(Mode::Operator) => view! { <button type="button" disabled=move || busy.get() on:click=move |_| act("handback")>"Hand back to AI"</button> }.into_any(),
                None => ().into_any(),
            }}
            {move || match status() {
                Some(Status::Closed) => view! { <button type="button" disabled=move || busy.get() on:click=move |_| act("reopen")>"Reopen"</button> }.into_any(),
                Some(Status::Snoozed) => view! {
                    <span class="snoozed">{move || snoozed_until().map(|t| format!("Snoozed until {}", ui::clock(&t))).unwrap_or_else(|| "Snoozed".into())}</span>
                    <button type="button" disabled=move || busy.get() on:click=move |_| act("reopen")>"Wake now"</button>
                }.into_any(),
                Some(_) => view! {
                    <button type="button" disabled=move || busy.get() on:click=move |_| act("close")>"Close"</button>
                    <label class="snooze">"Snooze"
                        <select aria-label="Snooze" disabled=move || busy.get() on:change=snooze>
                            <option value="" selected=true>"…"</option>
                            <option value="1h">"1 hour"</option>
                            <option value="4h">"4 hours"</option>
                            <option value="tomorrow">"Tomorrow 9:00"</option>
                            <option value="week">"1 week"</option>
                        </select>
                    </label>
                }.into_any(),
                None => ().into_any(),
            }}
            <label class="assign">"Assignee"
                <select on:change=assign aria-label="Assignee" prop:value=move || assignee().map(|a| a.to_string()).unwrap_or_default()>
                    <option value="" selected=move || assignee().is_none()>"Nobody"</option>
                    {move || inbox.operators.get().into_iter().map(|operator| {
                        let id = operator.id;
                        let label = if Some(id) == me { format!("Me ({})", operator.display_name) } else { operator.display_name };
                        view! { <option value=id.to_string() selected=move || assignee() == Some(id)>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
            {move || visitor().map(|(_, blocked)| view! {
                <button type="button" class="danger" disabled=move || busy.get() on:click=block>{if blocked { "Unblock visitor" } else { "Block visitor" }}</button>
            })}
            <button type="button" data-action="make-ticket" on:click=move |_| ticketing.set(true)>"Make a ticket"</button>
            <Show when=move || ticketing.get()>
                <tickets::MakeTicketDialog conversation_id=open.id on_close=Callback::new(move |_| ticketing.set(false)) />
            </Show>
            </Show>
            <button type="button" disabled=move || busy.get() on:click=move |_| renaming.set(true)>"Rename"</button>
            <button type="button" aria-pressed=move || muted().to_string() disabled=move || busy.get() on:click=move |_| toggle("mute", !muted())>
                {move || if muted() { "Unmute" } else { "Mute" }}
            </button>
            <button type="button" disabled=move || busy.get() on:click=move |_| toggle("archive", !archived())>
                {move || if archived() { "Unarchive" } else { "Archive" }}
            </button>
            <button type="button" class="danger" disabled=move || busy.get() on:click=move |_| deleting.set(true)>"Delete…"</button>
            <Show when=move || renaming.get()>
                <RenameDialog open=open on_close=Callback::new(move |_| renaming.set(false)) />
            </Show>
            <Show when=move || deleting.get()>
                {
                    let remove = remove.clone();
                    let remove_all = remove.clone();
                    view! {
                        <team::Dialog title="Delete conversation" on_close=Callback::new(move |_| deleting.set(false))>
                            <p>"Delete for me hides it from your list only. Delete for everyone removes it and its messages for good, for every operator and the visitor."</p>
                            <div class="dialog-actions" data-form="delete-conversation">
                                <button type="button" on:click=move |_| deleting.set(false)>"Cancel"</button>
                                <button type="button" on:click=move |_| remove("for_me")>"Delete for me"</button>
                                <Show when=may_delete_for_everyone>
                                    {
                                        let remove_all = remove_all.clone();
                                        view! { <button type="button" class="danger" on:click=move |_| remove_all("for_everyone")>"Delete for everyone"</button> }
                                    }
                                </Show>
                            </div>
                        </team::Dialog>
                    }
                }
            </Show>
        </div>
    }
}

/// Name and description of the conversation (`PATCH /v1/chat/conversations/{id}`; empty clears).
#[component]
fn RenameDialog(open: Open, on_close: Callback<()>) -> impl IntoView {
    let (name, description) =
        open.detail.with_untracked(|d| d.as_ref().map(|d| (d.summary.name.clone(), d.summary.description.clone()))).unwrap_or_default();
    let name = RwSignal::new(name.unwrap_or_default());
    let description = RwSignal::new(description.unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Blank clears (`null`).
        let body = ConversationPatch {
            name: Some(Some(name.get_untracked().trim().to_string()).filter(|n| !n.is_empty())),
            description: Some(Some(description.get_untracked().trim().to_string()).filter(|d| !d.is_empty())),
        };
        leptos::task::spawn_local(async move {
            let answer = api::patch::<ConversationSummary>(&format!("/v1/chat/conversations/{}", open.id), &body).await;
            if open.gone() || error.is_disposed() {
                return;
            }
            match answer {
                Ok(summary) => {
                    open.set_summary(summary);
                    on_close.run(());
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    view! {
        <team::Dialog title="Rename conversation" on_close=on_close>
            <form data-form="rename-conversation" on:submit=save>
                <label>"Name" <input type="text" name="name" maxlength="100" bind:value=name /></label>
                <label>"Description" <textarea name="description" rows="3" maxlength="1000" bind:value=description></textarea></label>
                <ui::ErrorNote error=error />
                <div class="dialog-actions">
                    <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="primary">"Save"</button>
                </div>
            </form>
        </team::Dialog>
    }
}

/// The visitor's details, the page they were on, and their rating.
#[component]
fn VisitorPanel(open: Open) -> impl IntoView {
    let kind = Memo::new(move |_| open.detail.with(|d| d.as_ref().map(|d| d.summary.kind)));
    view! {
        <aside class="visitor" id="visitor-panel" aria-label="Details">
            {move || open.detail.get().and_then(|detail| {
                let visitor = detail.summary.visitor.clone()?;
                let site = detail.summary.site_id.and_then(|id| Inbox::get().site_name(id));
                Some(view! {
                    <h2>{ui::visitor_name(&visitor)}</h2>
                    <dl>
                        <dt>"Name"</dt><dd>{visitor.name.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Email"</dt><dd>{visitor.email.clone().map(|e| view! { <a href=format!("mailto:{e}")>{e.clone()}</a> }.into_any()).unwrap_or_else(|| "—".into_any())}</dd>
                        <dt>"Phone"</dt><dd>{visitor.phone.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Identity"</dt><dd>{if visitor.verified { "Verified by the site" } else { "Not verified" }}</dd>
                        <dt>"First seen"</dt><dd>{ui::clock(&visitor.created_at)}</dd>
                        {site.map(|s| view! { <dt>"Site"</dt><dd>{s}</dd> })}
                        <dt>"Page"</dt><dd class="page">{detail.page_url.clone().map(|url| {
                            if markdown::is_web_url(&url) {
                                view! { <a href=url.clone() target="_blank" rel=markdown::LINK_REL>{url.clone()}</a> }.into_any()
                            } else {
                                url.into_any()
                            }
                        }).unwrap_or_else(|| "—".into_any())}</dd>
                        <dt>"Blocked"</dt><dd>{if visitor.blocked { "Yes" } else { "No" }}</dd>
                        {detail.reason.clone().map(|reason| view! {
                            <dt>"Topic"</dt>
                            <dd class="topic">{match reason.sub { Some(sub) => format!("{} › {sub}", reason.main), None => reason.main }}</dd>
                        })}
                        {detail.meta.clone().map(|meta| {
                            let app = [meta.app_version.map(|v| format!("app {v}")), meta.browser, meta.os, meta.device, meta.locale, meta.ip.map(|ip| format!("IP {ip}"))]
                                .into_iter()
                                .flatten()
                                .collect::<Vec<_>>()
                                .join(" · ");
                            view! { <dt>"App"</dt><dd class="meta">{app}</dd> }
                        })}
                    </dl>
                    <h3>"Rating"</h3>
                    {match detail.rating.clone() {
                        Some(rating) => view! {
                            <p class="rating" aria-label=format!("{} of 5 stars", rating.stars)>
                                {"★".repeat(rating.stars as usize)}{"☆".repeat(5usize.saturating_sub(rating.stars as usize))}
                            </p>
                            {rating.comment.map(|c| view! { <blockquote class="comment">{c}</blockquote> })}
                        }.into_any(),
                        None => view! { <p class="muted">"Not rated."</p> }.into_any(),
                    }}
                })
            })}
            {move || kind.get().map(|kind| view! { <team::ParticipantsPanel id=open.id kind=kind /> })}
        </aside>
    }
}

/// The time (RFC 3339 UTC) of a snooze choice: `1h`, `4h`, `tomorrow`
/// (9:00 local time), `week`; `None` for anything else.
fn snooze_time(choice: &str) -> Option<String> {
    let now = js_sys::Date::new_0();
    let hour = 3_600_000.0;
    let at = match choice {
        "1h" => now.get_time() + hour,
        "4h" => now.get_time() + 4.0 * hour,
        "week" => now.get_time() + 7.0 * 24.0 * hour,
        "tomorrow" => {
            let t = js_sys::Date::new(&now.get_time().into());
            t.set_date(t.get_date() + 1);
            t.set_hours(9);
            t.set_minutes(0);
            t.set_seconds(0);
            t.set_milliseconds(0);
            t.get_time()
        }
        _ => return None,
    };
    Some(js_sys::Date::new(&at.into()).to_iso_string().into())
}

/// The reply box: Enter sends, Shift+Enter adds a line; "typing" reaches
/// the visitor while the operator types.
#[component]
fn Composer(open: Open) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let sending = RwSignal::new(false);
    let last_typing = StoredValue::new(0.0_f64);
    let input = NodeRef::<Textarea>::new();
    let typing = move |on: bool| {
        let path = format!("/v1/chat/conversations/{}/typing", open.id);
        leptos::task::spawn_local(async move {
            let _ = api::send_raw("POST", &path, Some(&format!("{{\"typing\":{on}}}")), "application/json").await;
        });
    };
    let send = move || {
        let content = text.get_untracked();
        if content.trim().is_empty() || sending.get_untracked() {
            return;
        }
        sending.set(true);
        let request = OperatorSend { conversation_id: open.id, content, message_id: Some(random_message_id()), ..Default::default() };
        leptos::task::spawn_local(async move {
            let answer = api::post::<SentMessage>("/v1/chat/messages/send", &request).await;
            if open.gone() || text.is_disposed() {
                return;
            }
            match answer {
                Ok(sent) => {
                    text.set(String::new());
                    open.hold_scroll.set(false);
                    open.merge(vec![sent.message]);
                    open.error.set(None);
                    last_typing.set_value(0.0);
                }
                // What was typed stays in the box.
                Err(err) => open.error.set(Some(err.message)),
            }
            sending.set(false);
            if let Some(input) = input.get_untracked() {
                let _ = input.focus();
            }
        });
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    let on_input = move |ev| {
        text.set(event_target_value(&ev));
        let now = js_sys::Date::now();
        if now - last_typing.get_value() > TYPING_EVERY_MS {
            last_typing.set_value(now);
            typing(true);
        }
    };
    let blocked = move || open.detail.with(|d| d.as_ref().is_some_and(|d| d.summary.visitor.as_ref().is_some_and(|v| v.blocked)));
    // Attach: seed 002's upload URL, one PUT of the bytes, then confirm, which
    // sends the file (with the text typed so far) as a message.
    let file_input = NodeRef::<Input>::new();
    let uploading = RwSignal::new(false);
    let on_file = move |_| {
        let Some(input) = file_input.get_untracked() else { return };
        let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
        input.set_value("");
        uploading.set(true);
        open.error.set(None);
        leptos::task::spawn_local(async move {
            let caption = Some(text.get_untracked()).filter(|t| !t.trim().is_empty());
            let answer = upload(open.id, &file, caption.clone()).await;
            if open.gone() || uploading.is_disposed() {
                return;
            }
            uploading.set(false);
            match answer {
                Ok(message) => {
                    if caption.is_some() {
                        text.set(String::new());
                    }
                    open.hold_scroll.set(false);
                    open.merge(vec![message]);
                }
                Err(err) => open.error.set(Some(err.message)),
            }
        });
    };
    view! {
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
            <label class="sr-only" for="reply">"Reply"</label>
            <textarea id="reply" node_ref=input rows="2" placeholder=move || if blocked() { "This visitor is blocked." } else { "Reply… (Enter sends, Shift+Enter for a new line)" }
                prop:value=move || text.get() on:input=on_input on:keydown=keydown on:blur=move |_| typing(false) disabled=blocked></textarea>
            <input type="file" class="file" node_ref=file_input hidden=true tabindex="-1" aria-hidden="true" on:change=on_file />
            <button type="button" class="attach icon" aria-label="Attach a file" title="Attach a file" disabled=move || uploading.get() || blocked()
                on:click=move |_| { if let Some(input) = file_input.get_untracked() { input.click(); } }>"📎"</button>
            {move || uploading.get().then(|| view! { <span class="muted uploading" role="status">"Uploading…"</span> })}
            <button type="submit" class="primary" disabled=move || sending.get() || text.with(|t| t.trim().is_empty())>"Send"</button>
        </form>
    }
}

/// Uploads `file` to conversation `id` through seed 002's presigned flow
/// and answers the message that carries it; a refused file (415, 413, 422)
/// answers the API's words.
async fn upload(id: i64, file: &web_sys::File, content: Option<String>) -> api::ApiResult<ChatMessage> {
    let content_type = Some(file.type_()).filter(|t| !t.is_empty()).unwrap_or_else(|| "application/octet-stream".into());
    let request = UploadUrlRequest { conversation_id: id, filename: file.name(), content_type, size: file.size() as i64 };
    let url = api::post::<UploadUrl>("/v1/chat/media/upload-url", &request).await?;
    api::put_file(&url.upload_url, file).await?;
    let confirmed = api::post::<ConfirmedMedia>(&format!("/v1/chat/media/{}/confirm", url.media_id), &ConfirmMedia { content }).await?;
    Ok(confirmed.message)
}

/// A client message id (`m_` + 16 random hex digits): a retried send is stored once.
fn random_message_id() -> String {
    let hex: String = (0..16).map(|_| format!("{:x}", (js_sys::Math::random() * 16.0) as u8)).collect();
    format!("m_{hex}")
}
