//! One conversation in the console: its messages (live), the composer,
//! the actions (take over / hand back, close / reopen, assign, block) and
//! the visitor panel.
//!
//! Messages come from `GET /v1/chat/conversations/{id}/messages` (the
//! newest page, older pages on demand) and then from the live channel;
//! after a reconnection, everything after the last `seq` shown is fetched
//! again. AI and operator messages render through the widget's Markdown
//! renderer (`edgechat_shared::markdown`), visitor messages as text.

use edgechat_shared::api::conversations::{
    Assignment, ConversationDetail, ConversationSummary, MessageList, OperatorSend, SentMessage, Status,
};
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::{ChatMessage, MessageStatus, Mode, Role};
use edgechat_shared::markdown;
use leptos::html::{Div, Textarea};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::inbox::Inbox;
use crate::session::Session;
use crate::{api, live, ui};

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
    /// The inbox, taken at creation: async continuations have no reactive owner to look it up.
    inbox: Inbox,
    detail: RwSignal<Option<ConversationDetail>>,
    messages: RwSignal<Vec<ChatMessage>>,
    older: RwSignal<bool>,
    visitor_typing_until: RwSignal<f64>,
    error: RwSignal<Option<String>>,
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
        let answer = api::get::<ConversationDetail>(&format!("/v1/chat/conversations/{}", self.id)).await;
        if self.gone() {
            return;
        }
        match answer {
            Ok(detail) => self.detail.set(Some(detail)),
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
        let unread = self.messages.with_untracked(|all| all.iter().any(|m| m.role == Role::Visitor));
        if !visible || !unread {
            return;
        }
        if api::post::<ConversationSummary>(&format!("/v1/chat/conversations/{}/read", self.id), &api::EMPTY).await.is_ok() {
            self.inbox.mark_read(self.id);
        }
    }

    fn apply(self, event: &LiveEvent) {
        if event.conversation_id() != self.id {
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
            _ => {}
        }
    }
}

/// The conversation `id`: messages, composer, actions and visitor panel.
#[component]
pub fn ConversationView(id: i64) -> impl IntoView {
    let open = Open {
        id,
        inbox: Inbox::get(),
        detail: RwSignal::new(None),
        messages: RwSignal::new(Vec::new()),
        older: RwSignal::new(false),
        visitor_typing_until: RwSignal::new(0.0),
        error: RwSignal::new(None),
    };
    let live = live::Live::get();
    Effect::new(move |_| {
        live.epoch.track();
        leptos::task::spawn_local(async move {
            open.load_detail().await;
            open.catch_up().await;
        });
    });
    live::listen(move |event| open.apply(event));

    // Keep the newest message in view.
    let log = NodeRef::<Div>::new();
    Effect::new(move |_| {
        open.messages.track();
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

    let visitor_name = move || open.detail.with(|d| d.as_ref().map(|d| ui::conversation_title(&d.summary)).unwrap_or_default());
    // On a phone the visitor panel opens over the messages.
    let details = RwSignal::new(false);
    view! {
        <div class="conversation" class:show-details=move || details.get() data-conversation=id.to_string()>
            <header class="conversation-head">
                <a class="back" href="/app/" aria-label="Back to the list">"←"</a>
                <h1>{visitor_name}</h1>
                <button type="button" class="details-toggle" aria-expanded=move || details.get().to_string() aria-controls="visitor-panel"
                    on:click=move |_| details.update(|d| *d = !*d)>"Details"</button>
                <Actions open=open />
            </header>
            <ui::ErrorNote error=open.error />
            <div class="conversation-body">
                <div class="messages" node_ref=log role="log" aria-live="polite" aria-label="Messages">
                    <Show when=move || open.older.get()>
                        <button type="button" class="more" on:click=move |_| { leptos::task::spawn_local(open.load_older()); }>"Load earlier messages"</button>
                    </Show>
                    <For each=move || open.messages.get() key=|m| (m.seq, m.status.map(|s| s as u8)) let:message>
                        <MessageItem message=message visitor=visitor_name() />
                    </For>
                    <Show when=visitor_typing>
                        <p class="typing" role="status">{move || format!("{} is typing…", visitor_name())}</p>
                    </Show>
                </div>
                <VisitorPanel open=open />
            </div>
            <Composer open=open />
        </div>
    }
}

/// One message: who, when, status, content, attachments, sources.
#[component]
fn MessageItem(message: ChatMessage, visitor: String) -> impl IntoView {
    let author = match message.role {
        Role::Visitor => visitor,
        Role::Ai => "AI".into(),
        Role::Operator => message.author_name.clone().unwrap_or_else(|| "Operator".into()),
    };
    let role = message.role.as_str();
    let status = (message.role != Role::Visitor).then_some(message.status).flatten().map(|s| match s {
        MessageStatus::Sent => "sent",
        MessageStatus::Delivered => "delivered",
        MessageStatus::Read => "read",
    });
    let body = if message.role == Role::Visitor {
        view! { <div class="text">{message.content.clone()}</div> }.into_any()
    } else {
        let blocks = markdown::parse(&message.content, &message.sources);
        view! { <div class="text md">{markdown::view(blocks)}</div> }.into_any()
    };
    let sources = message.sources.clone();
    view! {
        <article class=format!("msg {role}") data-seq=message.seq.to_string() data-role=role>
            <header class="msg-head">
                <span class="author">{author}</span>
                <time datetime=message.created_at.clone()>{ui::clock(&message.created_at)}</time>
                {status.map(|s| view! { <span class="status" data-status=s>{s}</span> })}
            </header>
            {(!message.content.is_empty()).then_some(body)}
            {(!message.attachments.is_empty()).then(|| view! {
                <ul class="attachments">{message.attachments.into_iter().map(attachment_view).collect_view()}</ul>
            })}
            {(!sources.is_empty()).then(|| view! {
                <ol class="sources" aria-label="Sources">
                    {sources.into_iter().map(|s| match s.url.filter(|u| markdown::is_web_url(u)) {
                        Some(url) => view! { <li><a href=url target="_blank" rel=markdown::LINK_REL>{s.title}</a></li> }.into_any(),
                        None => view! { <li>{s.title}</li> }.into_any(),
                    }).collect_view()}
                </ol>
            })}
        </article>
    }
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

/// Take over / hand back, close / reopen, assign, block / unblock.
#[component]
fn Actions(open: Open) -> impl IntoView {
    let inbox = Inbox::get();
    let me = Session::get().signed().map(|s| s.user.id);
    let busy = RwSignal::new(false);
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
            {move || match mode() {
                Some(Mode::Ai) => view! { <button type="button" class="primary" disabled=move || busy.get() on:click=move |_| act("takeover")>"Take over"</button> }.into_any(),
                Some(Mode::Operator) => view! { <button type="button" disabled=move || busy.get() on:click=move |_| act("handback")>"Hand back to AI"</button> }.into_any(),
                None => ().into_any(),
            }}
            {move || match status() {
                Some(Status::Closed) => view! { <button type="button" disabled=move || busy.get() on:click=move |_| act("reopen")>"Reopen"</button> }.into_any(),
                Some(_) => view! { <button type="button" disabled=move || busy.get() on:click=move |_| act("close")>"Close"</button> }.into_any(),
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
        </div>
    }
}

/// The visitor's details, the page they were on, and their rating.
#[component]
fn VisitorPanel(open: Open) -> impl IntoView {
    view! {
        <aside class="visitor" id="visitor-panel" aria-label="Visitor">
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
        </aside>
    }
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
    let blocked =
        move || open.detail.with(|d| d.as_ref().is_some_and(|d| d.summary.visitor.as_ref().expect("a visitor conversation").blocked));
    view! {
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send(); }>
            <label class="sr-only" for="reply">"Reply"</label>
            <textarea id="reply" node_ref=input rows="2" placeholder=move || if blocked() { "This visitor is blocked." } else { "Reply… (Enter sends, Shift+Enter for a new line)" }
                prop:value=move || text.get() on:input=on_input on:keydown=keydown on:blur=move |_| typing(false) disabled=blocked></textarea>
            <button type="submit" class="primary" disabled=move || sending.get() || text.with(|t| t.trim().is_empty())>"Send"</button>
        </form>
    }
}

/// A client message id (`m_` + 16 random hex digits): a retried send is stored once.
fn random_message_id() -> String {
    let hex: String = (0..16).map(|_| format!("{:x}", (js_sys::Math::random() * 16.0) as u8)).collect();
    format!("m_{hex}")
}
