//! The chat panel: header, greeting, conversation, composer. Loads the site's
//! settings and, for a returning visitor, the stored conversation; then holds
//! the live channel, so operator replies, typing, read marks and hand-overs
//! appear without a reload.

use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::{ChatMessage, Mode, Role};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlElement;

use super::composer::Composer;
use super::feedback::{ContactForm, RatingForm, TranscriptButton};
use super::message::{ApiBase, MessageBubble, UiMessage};
use super::theme::{adopt_site_css, follow_viewport, Brand};
use crate::api::Api;
use crate::i18n::{self, text, Text};
use crate::{live, session, upload};

/// How long an operator's typing indicator stays without news, in ms.
const TYPING_TIMEOUT_MS: i32 = 8_000;

/// The conversation as the panel shows it. Every field is a signal, so the
/// whole state is `Copy` and can be moved into event handlers.
#[derive(Clone, Copy)]
struct Conversation {
    messages: RwSignal<Vec<UiMessage>>,
    next_key: StoredValue<usize>,
    mode: RwSignal<Option<Mode>>,
    operator_typing: RwSignal<Option<String>>,
    connected: StoredValue<bool>,
    /// `true` while the live channel is open.
    live: RwSignal<bool>,
    /// Open, closed or snoozed; `None` until the live channel says.
    status: RwSignal<Option<Status>>,
    /// `true` once the conversation was closed while the panel showed it: offer the rating.
    rate: RwSignal<bool>,
    /// `true` while the last answer offers a person (asked for, not sure, or failed).
    offer_person: RwSignal<bool>,
}

impl Conversation {
    fn new() -> Conversation {
        Conversation {
            messages: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
            mode: RwSignal::new(None),
            operator_typing: RwSignal::new(None),
            connected: StoredValue::new(false),
            live: RwSignal::new(false),
            status: RwSignal::new(None),
            rate: RwSignal::new(false),
            offer_person: RwSignal::new(false),
        }
    }

    fn key(&self) -> usize {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        key
    }

    fn push(&self, role: Role, content: &str) -> UiMessage {
        let message = UiMessage::new(self.key(), role, content);
        self.messages.update(|all| all.push(message));
        message
    }

    fn notice(&self, text: &str) {
        let notice = UiMessage::notice(self.key(), text);
        self.messages.update(|all| all.push(notice));
    }

    fn remove(&self, message: UiMessage) {
        self.messages.update(|all| all.retain(|m| m.key != message.key));
    }

    /// The newest stored seq shown.
    fn last_seq(&self) -> i64 {
        self.messages.with_untracked(|all| all.iter().filter_map(|m| m.seq.get_untracked()).max().unwrap_or(0))
    }

    /// Adds a stored message unless the panel shows it already: by id, or
    /// as the visitor's own unsent copy, or as the answer still streaming.
    fn receive(&self, message: &ChatMessage) {
        let known = self.messages.with_untracked(|all| {
            all.iter().find(|m| m.id.get_untracked() == Some(message.id)).copied().or_else(|| {
                all.iter()
                    .find(|m| {
                        !m.notice
                            && m.id.get_untracked().is_none()
                            && m.role == message.role
                            && (m.streaming.get_untracked() || m.content.with_untracked(|c| *c == message.content))
                    })
                    .copied()
            })
        });
        match known {
            Some(ui) => ui.stored_as(message),
            None => {
                let ui = UiMessage::from_history(self.key(), message);
                self.messages.update(|all| all.push(ui));
            }
        }
        if message.role == Role::Operator {
            self.operator_typing.set(None);
        }
    }

    /// The shown message stored as `id`, if any.
    fn stored(&self, id: i64) -> Option<UiMessage> {
        self.messages.with_untracked(|all| all.iter().find(|m| m.id.get_untracked() == Some(id)).copied())
    }

    /// The conversation ended: say so and offer the rating.
    fn close(&self) {
        if !self.rate.get_untracked() {
            self.notice(i18n::now(Text::ConversationClosed));
            self.rate.set(true);
        }
    }

    fn apply(&self, event: LiveEvent) {
        match event {
            LiveEvent::Message { message, .. } => {
                let new = self.stored(message.id).is_none();
                self.receive(&message);
                if new && message.role != Role::Visitor {
                    crate::host::emit_message(message.role, &message.content, message.seq, message.author_name.as_deref());
                }
            }
            LiveEvent::MessageUpdated { message, .. } => {
                if let Some(ui) = self.stored(message.id) {
                    ui.updated(&message);
                }
            }
            LiveEvent::Reaction { message_id, emoji, count, .. } => {
                if let Some(ui) = self.stored(message_id) {
                    ui.react(&emoji, count);
                }
            }
            LiveEvent::Typing { role: Role::Operator, typing, author_name, .. } => {
                let name = author_name.unwrap_or_else(|| i18n::now(Text::Support).into());
                self.operator_typing.set(typing.then_some(name));
                if typing {
                    let typing_signal = self.operator_typing;
                    set_timeout(move || typing_signal.set(None), std::time::Duration::from_millis(TYPING_TIMEOUT_MS as u64));
                }
            }
            LiveEvent::Typing { .. }
            | LiveEvent::Conversation { .. }
            | LiveEvent::Handoff { .. }
            | LiveEvent::Assignment { .. }
            | LiveEvent::VisitorBlocked { .. }
            | LiveEvent::ConversationUpdated { .. }
            | LiveEvent::ConversationDeleted { .. }
            | LiveEvent::Participants { .. }
            | LiveEvent::Ticket { .. } => {}
            LiveEvent::Mode { mode, author_name, .. } => {
                let before = self.mode.get_untracked();
                self.mode.set(Some(mode));
                if mode == Mode::Operator {
                    self.offer_person.set(false);
                }
                match (before, mode) {
                    (Some(Mode::Ai), Mode::Operator) => self.notice(&match author_name {
                        Some(name) => i18n::fill(i18n::now(Text::Joined), "{name}", &name),
                        None => i18n::now(Text::PersonWillReply).into(),
                    }),
                    (Some(Mode::Operator), Mode::Ai) => self.notice(i18n::now(Text::AssistantAgain)),
                    _ => {}
                }
            }
            LiveEvent::Read { role: Role::Operator, seq, .. } => self.messages.with_untracked(|all| {
                for m in all.iter().filter(|m| m.role == Role::Visitor && m.seq.get_untracked().is_some_and(|s| s <= seq)) {
                    m.status.set(Some(edgechat_shared::api::MessageStatus::Read));
                }
            }),
            LiveEvent::Read { .. } => {}
            LiveEvent::Status { status, .. } => {
                // The first status is the stream's snapshot: no notice for it.
                let before = self.status.get_untracked();
                self.status.set(Some(status));
                if before.is_some_and(|b| b != status) && status == Status::Closed {
                    self.close();
                }
            }
        }
    }
}

/// Opens the live channel once a session exists; marks operator messages
/// read while the panel is open.
fn go_live(api: Api, session_id: String, conversation: Conversation, panel: StoredValue<HtmlElement, LocalStorage>) {
    if conversation.connected.get_value() {
        return;
    }
    conversation.connected.set_value(true);
    let after = conversation.last_seq();
    let reader = (api.clone(), session_id.clone());
    live::connect(
        &api,
        &session_id,
        after,
        move |open| conversation.live.set(open),
        move |event| {
            let operator_seq = match &event {
                LiveEvent::Message { message, .. } if message.role == Role::Operator => Some(message.seq),
                _ => None,
            };
            conversation.apply(event);
            if let Some(seq) = operator_seq.filter(|_| panel.with_value(|p| !p.hidden())) {
                let (api, session_id) = reader.clone();
                spawn_local(async move {
                    let _ = api.read(&session_id, seq).await;
                });
            }
            session::remember_seen(&reader.0.site_key, conversation.last_seq());
        },
    );
}

/// The whole panel. `panel` is the element `loader.js` shows and hides.
#[component]
pub fn ChatPanel(api: Api, panel: HtmlElement) -> impl IntoView {
    let panel = StoredValue::new_local(panel);
    let api = StoredValue::new(api);
    let title = RwSignal::new(String::new());
    let greeting = RwSignal::new(String::new());
    let greetings = RwSignal::new(std::collections::BTreeMap::<String, String>::new());
    let (accent, on_accent, ink) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let avatar = RwSignal::new(None::<String>);
    let locale = i18n::provide();
    let phone = panel.with_value(follow_viewport);
    let conversation = Conversation::new();
    let messages = conversation.messages;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let list = NodeRef::<Div>::new();
    let last_typing = StoredValue::new(0.0f64);
    let ask_contact = RwSignal::new(None::<String>);
    provide_context(ApiBase(api.with_value(|a| a.base.clone())));
    // The image waiting to go with the next message: preview, progress, stored upload.
    let preview = RwSignal::new(None::<String>);
    let progress = RwSignal::new(0u32);
    let uploaded = RwSignal::new(None::<edgechat_shared::api::uploads::UploadResponse>);
    let upload_error = RwSignal::new(None::<String>);
    let blocked = RwSignal::new(false);
    let check_blocked = move |api: Api, session_id: String| async move {
        if let Ok(is_blocked) = api.blocked(&session_id).await {
            blocked.set(is_blocked);
        }
    };

    spawn_local(async move {
        let api = api.get_value();
        match api.config().await {
            Ok(config) => {
                title.set(if config.title.is_empty() { config.name } else { config.title });
                greeting.set(config.greeting);
                greetings.set(config.greetings);
                accent.set(config.theme_color);
                on_accent.set(config.theme_text_color);
                ink.set(config.theme_ink_color);
                avatar.set(config.avatar_url);
                let _ = panel.with_value(|p| adopt_site_css(p, &config.custom_css));
            }
            Err(message) => error.set(Some(message)),
        }
        // A logged-in visitor's conversation is theirs on any device: load it even without a session here yet.
        let session = match session::stored(&api.site_key) {
            None if api.identity.user_id.is_some() => session::get_or_create(&api.site_key, api.identity.user_id.as_deref()).ok(),
            stored => stored,
        };
        if let Some(session_id) = session {
            check_blocked(api.clone(), session_id.clone()).await;
            if blocked.get_untracked() {
                return;
            }
            match api.history(&session_id).await {
                Ok(history) => {
                    history.messages.iter().for_each(|m| conversation.receive(m));
                    if let Some(seq) = history.messages.iter().filter(|m| m.role == Role::Operator).map(|m| m.seq).max() {
                        let _ = api.read(&session_id, seq).await;
                    }
                    session::remember_seen(&api.site_key, conversation.last_seq());
                    if history.conversation_id.is_some() {
                        go_live(api.clone(), session_id, conversation, panel);
                    }
                }
                Err(message) => error.set(Some(message)),
            }
        }
    });

    // Keep the newest text in view while answers stream in.
    Effect::new(move || {
        messages.with(|all| all.iter().for_each(|m| m.content.track()));
        conversation.operator_typing.track();
        if list.get().is_some() {
            // After this tick's effects: the bubbles redraw themselves in theirs.
            request_animation_frame(move || {
                if let Some(list) = list.get_untracked() {
                    list.set_scroll_top(list.scroll_height());
                }
            });
        }
    });

    let on_typing = Callback::new(move |_: ()| {
        // At most one typing signal every 3 s, and only once a session exists.
        let now = js_sys::Date::now();
        if now - last_typing.get_value() < 3_000.0 {
            return;
        }
        last_typing.set_value(now);
        let api = api.get_value();
        if let Some(session_id) = session::stored(&api.site_key) {
            spawn_local(async move {
                let _ = api.typing(&session_id).await;
            });
        }
    });

    let on_attach = Callback::new(move |file: web_sys::File| {
        let api = api.get_value();
        let Ok(session_id) = session::get_or_create(&api.site_key, api.identity.user_id.as_deref()) else { return };
        upload_error.set(None);
        uploaded.set(None);
        progress.set(0);
        upload::preview(&file, move |url| preview.set(Some(url)));
        let started = upload::upload_image(
            &api,
            &session_id,
            &file,
            move |percent| progress.set(percent),
            move |result| match result {
                Ok(done) => {
                    progress.set(100);
                    uploaded.set(Some(done));
                }
                Err(message) => {
                    preview.set(None);
                    upload_error.set(Some(message));
                }
            },
        );
        if started.is_err() {
            upload_error.set(Some(i18n::now(Text::NoUpload).into()));
        }
    });

    let send = Callback::new(move |text: String| {
        spawn_local(async move {
            let api = api.get_value();
            busy.set(true);
            error.set(None);
            let attachment = uploaded.get_untracked();
            uploaded.set(None);
            preview.set(None);
            let visitor = conversation.push(Role::Visitor, &text);
            crate::host::emit_sent(&text);
            if let Some(file) = &attachment {
                visitor.attachments.set(vec![edgechat_shared::api::uploads::Attachment {
                    id: file.id,
                    name: file.name.clone(),
                    content_type: file.content_type.clone(),
                    size: file.size,
                    url: file.url.clone(),
                }]);
            }
            let answer = conversation.push(Role::Ai, "");
            answer.streaming.set(true);
            let result = match (session::get_or_create(&api.site_key, api.identity.user_id.as_deref()), session::random_hex(8)) {
                (Ok(session_id), Ok(id)) => {
                    let request = StreamRequest {
                        site_key: api.site_key.clone(),
                        session_id: session_id.clone(),
                        message: text,
                        lang: Some(locale.get_untracked().code().into()),
                        message_id: Some(format!("m_{id}")),
                        attachments: attachment.iter().map(|a| a.id).collect(),
                        page_url: crate::api::page_url(),
                    };
                    let result = api
                        .stream(&request, |event| match event {
                            StreamEvent::Chunk { content } => answer.content.update(|c| c.push_str(&content)),
                            StreamEvent::Done { meta } => {
                                visitor.id.set(Some(meta.message_id));
                                visitor.seq.set(Some(meta.seq));
                                answer.sources.set(meta.sources);
                                conversation.offer_person.set(meta.handoff_offered && meta.mode == Mode::Ai);
                                if !session::contact_known(&api.site_key) && ask_contact.get_untracked().is_none() {
                                    let prompt = if meta.handoff_offered { Text::AskEmailNoAnswer } else { Text::AskEmail };
                                    ask_contact.set(Some(i18n::now(prompt).into()));
                                }
                                match (meta.answer_id, meta.answer_seq) {
                                    (Some(id), Some(seq)) => {
                                        // Unless the live channel delivered it first.
                                        if answer.id.get_untracked().is_none() {
                                            answer.content.with_untracked(|c| crate::host::emit_message(Role::Ai, c, seq, None));
                                        }
                                        answer.id.set(Some(id));
                                        answer.seq.set(Some(seq));
                                    }
                                    // No answer was stored (a person took over meanwhile).
                                    _ => answer.content.set(String::new()),
                                }
                            }
                            StreamEvent::Error { message, handoff_offered } => {
                                // What streamed before the failure was not stored: it goes.
                                answer.content.set(String::new());
                                error.set(Some(message));
                                conversation.offer_person.set(handoff_offered);
                            }
                        })
                        .await;
                    go_live(api.clone(), session_id, conversation, panel);
                    result
                }
                _ => Err(i18n::now(Text::NoSession).to_string()),
            };
            answer.streaming.set(false);
            if let Err(message) = result {
                error.set(Some(message));
                if let Some(session_id) = session::stored(&api.site_key) {
                    check_blocked(api.clone(), session_id).await;
                }
            }
            if answer.content.with_untracked(String::is_empty) {
                conversation.remove(answer);
            }
            busy.set(false);
        });
    });

    let on_contact_saved = Callback::new(move |email: String| {
        ask_contact.set(None);
        conversation.notice(&i18n::fill(i18n::now(Text::ContactSaved), "{email}", &email));
    });

    let talk_to_person = move |_| {
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        spawn_local(async move {
            match api.handoff(&session_id).await {
                Ok(notice) => {
                    conversation.offer_person.set(false);
                    error.set(None);
                    // The live `mode` event may have come first and said so already.
                    if conversation.mode.get_untracked() != Some(Mode::Operator) {
                        conversation.mode.set(Some(Mode::Operator));
                        conversation.notice(&notice);
                    }
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    let end_chat = move |_| {
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        spawn_local(async move {
            match api.close(&session_id).await {
                Ok(()) => conversation.close(),
                Err(message) => error.set(Some(message)),
            }
        });
    };

    let shown_greeting = move || greetings.with(|all| all.get(locale.get().code()).cloned()).unwrap_or_else(|| greeting.get());
    let typing = move || i18n::fill(text(Text::IsTyping)(), "{name}", &conversation.operator_typing.get().unwrap_or_default());

    view! {
        <div class="ec-panel" role="dialog" aria-label=text(Text::Chat) aria-modal=move || phone.get().then_some("true")
            lang=move || locale.get().code() dir=move || locale.get().dir()
            data-live=move || conversation.live.get().to_string()
            style:--ec-accent=move || accent.get() style:--ec-on-accent=move || on_accent.get() style:--ec-ink=move || ink.get()>
            <header class="ec-header">
                <Brand title=Signal::derive(move || if title.with(String::is_empty) { text(Text::Chat)().to_string() } else { title.get() })
                    avatar=avatar />
                <Show when=move || conversation.live.get() && !conversation.rate.get()>
                    <button class="ec-end" type="button" on:click=end_chat>{text(Text::EndChat)}</button>
                </Show>
                <button class="ec-close" type="button" aria-label=text(Text::CloseChat)
                    on:click=move |_| crate::host::close()>"×"</button>
            </header>
            <div class="ec-messages" node_ref=list role="log" aria-live="polite" aria-label=text(Text::Messages) tabindex="0">
                <Show when=move || !shown_greeting().is_empty()>
                    <div class="ec-msg ec-ai ec-greeting"><p class="ec-text" dir="auto">{shown_greeting}</p></div>
                </Show>
                <For each=move || messages.get() key=|m| m.key let:message>
                    <MessageBubble message=message />
                </For>
                <Show when=move || ask_contact.with(Option::is_some)>
                    <ContactForm api=api prompt=Signal::derive(move || ask_contact.get().unwrap_or_default()) on_saved=on_contact_saved />
                </Show>
                <Show when=move || conversation.rate.get()>
                    <RatingForm api=api />
                    <TranscriptButton api=api />
                </Show>
                <Show when=move || conversation.operator_typing.with(Option::is_some)>
                    <p class="ec-typing-notice">{typing}</p>
                </Show>
            </div>
            <Show when=move || conversation.offer_person.get()>
                <button class="ec-handoff" type="button" on:click=talk_to_person>{text(Text::TalkToPerson)}</button>
            </Show>
            <Show when=move || error.with(Option::is_some)>
                <p class="ec-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <Show when=move || blocked.get()>
                <p class="ec-blocked" role="alert">{text(Text::Blocked)}</p>
            </Show>
            <Show when=move || preview.with(Option::is_some)>
                <div class="ec-attachment">
                    <img class="ec-preview" src=move || preview.get().unwrap_or_default() alt=text(Text::ImageToSend) />
                    <progress class="ec-progress" max="100" prop:value=move || progress.get() aria-label=text(Text::ImageToSend) />
                    <button class="ec-remove" type="button" aria-label=text(Text::RemoveImage)
                        on:click=move |_| { preview.set(None); uploaded.set(None); }>"×"</button>
                </div>
            </Show>
            <Show when=move || upload_error.with(Option::is_some)>
                <p class="ec-upload-error" role="alert">{move || upload_error.get().unwrap_or_default()}</p>
            </Show>
            <Composer on_send=send on_typing=on_typing on_attach=on_attach
                busy=Signal::derive(move || busy.get() || blocked.get())
                attachment_ready=Signal::derive(move || uploaded.with(Option::is_some)) />
        </div>
    }
}
