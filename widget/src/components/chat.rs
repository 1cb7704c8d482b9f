//! The chat panel: header, greeting, conversation, composer. Loads the site's
//! settings and, for a returning visitor, the stored conversation; then holds
//! the live channel, so operator replies, typing, read marks and hand-overs
//! appear without a reload.

use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::{ChatMessage, Mode, Role};
use reactive_graph::graph::untrack;
use reactive_graph::owner::{LocalStorage, Owner, StoredValue};
use reactive_graph::prelude::*;
use reactive_graph::signal::RwSignal;
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlElement;

use super::composer::composer;
use super::feedback::{contact_form, rating_form, transcript_button};
use super::message::{bubble as message_bubble, UiMessage};
use super::theme::{adopt_site_css, brand, follow_viewport};
use crate::api::{Api, SiteConfig};
use crate::i18n::{self, text, Text};
use crate::{dom, live, session, upload};

/// How long an operator's typing indicator stays without news, in ms.
const TYPING_TIMEOUT_MS: i32 = 8_000;

/// The conversation as the panel shows it. Every field is a signal, so the
/// whole state is `Copy` and can be moved into event handlers.
#[derive(Clone, Copy)]
struct Conversation {
    messages: RwSignal<Vec<UiMessage>>,
    next_key: StoredValue<usize>,
    mode: StoredValue<Option<Mode>>,
    operator_typing: RwSignal<Option<String>>,
    connected: StoredValue<bool>,
    /// `true` while the live channel is open.
    live: RwSignal<bool>,
    /// Open, closed or snoozed; `None` until the live channel says.
    status: StoredValue<Option<Status>>,
    /// `true` once the conversation was closed while the panel showed it: offer the rating.
    rate: RwSignal<bool>,
    /// `true` while the last answer offers a person (asked for, not sure, or failed).
    offer_person: RwSignal<bool>,
    /// Counts the operator's typing signals, so that only the newest one's timeout clears it.
    typing_count: StoredValue<u32>,
    /// The panel's state owner (`lib.rs`): the messages' signals live as long as it, whoever adds them.
    owner: StoredValue<Owner>,
    /// Which drawing of the panel this is (`PANEL`).
    generation: u64,
}

thread_local! {
    /// The generation of the panel on the page: the panel is drawn anew for
    /// another visitor (`identify`, `reset`); an older drawing's tasks that
    /// end later (an answer streaming, history loading) must not take the
    /// live channel or the stored `seen` mark from the new one.
    static PANEL: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Conversation {
    fn new() -> Conversation {
        let generation = PANEL.with(|panel| {
            panel.set(panel.get() + 1);
            panel.get()
        });
        Conversation {
            typing_count: StoredValue::new(0),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
            generation,
            messages: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
            mode: StoredValue::new(None),
            operator_typing: RwSignal::new(None),
            connected: StoredValue::new(false),
            live: RwSignal::new(false),
            status: StoredValue::new(None),
            rate: RwSignal::new(false),
            offer_person: RwSignal::new(false),
        }
    }

    /// `true` while this is the panel on the page.
    fn current(&self) -> bool {
        PANEL.with(|panel| panel.get()) == self.generation
    }

    /// A new message's signals, owned by the panel's state owner.
    fn message(&self, make: impl FnOnce(usize) -> UiMessage) -> UiMessage {
        let key = self.key();
        self.owner.with_value(|owner| owner.with(|| make(key)))
    }

    fn key(&self) -> usize {
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        key
    }

    fn push(&self, role: Role, content: &str) -> UiMessage {
        let message = self.message(|key| UiMessage::new(key, role, content));
        self.messages.update(|all| all.push(message));
        message
    }

    fn notice(&self, text: &str) {
        let notice = self.message(|key| UiMessage::notice(key, text));
        self.messages.update(|all| all.push(notice));
    }

    fn remove(&self, message: UiMessage) {
        self.messages.update(|all| all.retain(|m| m.key != message.key));
    }

    /// The newest stored seq shown.
    fn last_seq(&self) -> i64 {
        self.messages.with_untracked(|all| all.iter().filter_map(UiMessage::seq).max().unwrap_or(0))
    }

    /// Adds a stored message unless the panel shows it already: by id, or
    /// as the visitor's own unsent copy, or as the answer still streaming.
    fn receive(&self, message: &ChatMessage) {
        let known = self.messages.with_untracked(|all| {
            all.iter().find(|m| m.id() == Some(message.id)).copied().or_else(|| {
                all.iter()
                    .find(|m| {
                        !m.notice
                            && m.id().is_none()
                            && m.role == message.role
                            && (m.streaming() || m.with_content(|c| c == message.content))
                    })
                    .copied()
            })
        });
        match known {
            Some(ui) => ui.stored_as(message),
            None => {
                let ui = self.message(|key| UiMessage::from_history(key, message));
                self.messages.update(|all| all.push(ui));
            }
        }
        if message.role == Role::Operator {
            self.operator_typing.set(None);
        }
    }

    /// The shown message stored as `id`, if any.
    fn stored(&self, id: i64) -> Option<UiMessage> {
        self.messages.with_untracked(|all| all.iter().find(|m| m.id() == Some(id)).copied())
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
                let count = self.typing_count.get_value().wrapping_add(1);
                self.typing_count.set_value(count);
                if typing {
                    let (typing_signal, typing_count) = (self.operator_typing, self.typing_count);
                    dom::after(TYPING_TIMEOUT_MS, move || {
                        if typing_count.get_value() == count {
                            typing_signal.set(None);
                        }
                    });
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
                let before = self.mode.get_value();
                self.mode.set_value(Some(mode));
                if mode == Mode::Operator {
                    self.offer_person.set(false);
                }
                match (before, mode) {
                    (Some(Mode::Ai), Mode::Operator) => self.notice(&match author_name {
                        Some(name) => i18n::fill(i18n::now(Text::Joined), "{name}", &i18n::isolate(&name)),
                        None => i18n::now(Text::PersonWillReply).into(),
                    }),
                    (Some(Mode::Operator), Mode::Ai) => self.notice(i18n::now(Text::AssistantAgain)),
                    _ => {}
                }
            }
            LiveEvent::Read { role: Role::Operator, seq, .. } => self.messages.with_untracked(|all| {
                for m in all.iter().filter(|m| m.role == Role::Visitor && m.seq().is_some_and(|s| s <= seq)) {
                    m.update(|s| s.status = Some(edgechat_shared::api::MessageStatus::Read));
                }
            }),
            LiveEvent::Read { .. } => {}
            LiveEvent::Status { status, .. } => {
                // The first status is the stream's snapshot: no notice for it.
                let before = self.status.get_value();
                self.status.set_value(Some(status));
                if before.is_some_and(|b| b != status) && status == Status::Closed {
                    self.close();
                }
            }
        }
    }
}

/// Opens the live channel once a session exists; marks operator messages
/// read while the panel is open. Not for a drawing of the panel that
/// another has replaced.
fn go_live(api: Api, session_id: String, conversation: Conversation, panel: StoredValue<HtmlElement, LocalStorage>) {
    if conversation.connected.get_value() || !conversation.current() {
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

/// Builds the whole panel into `panel`, the element `loader.js` shows and
/// hides: its state under the current reactive owner, which must outlive
/// the tasks it starts (`lib.rs` keeps it), and its DOM's effects and
/// listeners under `view`, which `lib.rs` cleans up on a redraw. It is a `role="dialog"`
/// with the header, the message list (`role="log"`), the hand-over offer,
/// the errors, the image waiting to be sent and the composer. The DOM is
/// written by hand on signals ([`dom`]), with the same elements, classes
/// and ARIA as a Leptos view would make, at a fraction of the wasm.
pub fn chat_panel(panel: HtmlElement, api: Api, view: &Owner) {
    let root = panel.clone();
    let panel = StoredValue::new_local(panel);
    let base = api.base.clone();
    let api = StoredValue::new(api);
    let site = RwSignal::new_local(None::<SiteConfig>);
    let locale = i18n::provide();
    let phone = panel.with_value(follow_viewport);
    let conversation = Conversation::new();
    let messages = conversation.messages;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let last_typing = StoredValue::new(0.0f64);
    let ask_contact = RwSignal::new(None::<String>);
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
                let _ = panel.with_value(|p| adopt_site_css(p, &config.custom_css));
                site.set(Some(config));
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
                    if !conversation.current() {
                        return;
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

    let on_typing = move || {
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
    };

    let on_attach = move |file: web_sys::File| {
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
    };

    let send = move |text: String| {
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
                let attachment = edgechat_shared::api::uploads::Attachment {
                    id: file.id,
                    name: file.name.clone(),
                    content_type: file.content_type.clone(),
                    size: file.size,
                    url: file.url.clone(),
                };
                visitor.update(|s| s.attachments = vec![attachment]);
            }
            let answer = conversation.push(Role::Ai, "");
            answer.update(|s| s.streaming = true);
            let result = match (session::get_or_create(&api.site_key, api.identity.user_id.as_deref()), session::random_hex(8)) {
                (Ok(session_id), Ok(id)) => {
                    let request = StreamRequest {
                        site_key: api.site_key.clone(),
                        session_id: session_id.clone(),
                        message: text,
                        lang: Some(locale.get_untracked().code().into()),
                        message_id: Some(["m_", &id].concat()),
                        attachments: attachment.iter().map(|a| a.id).collect(),
                        page_url: crate::api::page_url(),
                    };
                    let result = api
                        .stream(&request, |event| match event {
                            StreamEvent::Chunk { content } => answer.update(|s| s.content.push_str(&content)),
                            StreamEvent::Done { meta } => {
                                visitor.update(|s| {
                                    s.id = Some(meta.message_id);
                                    s.seq = Some(meta.seq);
                                });
                                answer.update(|s| s.sources = meta.sources);
                                conversation.offer_person.set(meta.handoff_offered && meta.mode == Mode::Ai);
                                if !session::contact_known(&api.site_key) && ask_contact.get_untracked().is_none() {
                                    let prompt = if meta.handoff_offered { Text::AskEmailNoAnswer } else { Text::AskEmail };
                                    ask_contact.set(Some(i18n::now(prompt).into()));
                                }
                                match (meta.answer_id, meta.answer_seq) {
                                    (Some(id), Some(seq)) => {
                                        // Unless the live channel delivered it first.
                                        if answer.id().is_none() {
                                            answer.with_content(|c| crate::host::emit_message(Role::Ai, c, seq, None));
                                        }
                                        answer.update(|s| {
                                            s.id = Some(id);
                                            s.seq = Some(seq);
                                        });
                                    }
                                    // No answer was stored (a person took over meanwhile).
                                    _ => answer.update(|s| s.content.clear()),
                                }
                            }
                            StreamEvent::Error { message, handoff_offered } => {
                                // What streamed before the failure was not stored: it goes.
                                answer.update(|s| s.content.clear());
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
            answer.update(|s| s.streaming = false);
            if let Err(message) = result {
                // An answer cut short was not stored (no `done`): it goes.
                answer.update(|s| s.content.clear());
                error.set(Some(message));
                if let Some(session_id) = session::stored(&api.site_key) {
                    check_blocked(api.clone(), session_id).await;
                }
            }
            if answer.with_content(str::is_empty) {
                conversation.remove(answer);
            }
            busy.set(false);
        });
    };

    let on_contact_saved = move |email: String| {
        ask_contact.set(None);
        conversation.notice(&i18n::fill(i18n::now(Text::ContactSaved), "{email}", &i18n::isolate(&email)));
    };

    let talk_to_person = move |_: web_sys::Event| {
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        spawn_local(async move {
            match api.handoff(&session_id).await {
                Ok(notice) => {
                    conversation.offer_person.set(false);
                    error.set(None);
                    // The live `mode` event may have come first and said so already.
                    if conversation.mode.get_value() != Some(Mode::Operator) {
                        conversation.mode.set_value(Some(Mode::Operator));
                        conversation.notice(&notice);
                    }
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };

    let end_chat = move |_: web_sys::Event| {
        let api = api.get_value();
        let Some(session_id) = session::stored(&api.site_key) else { return };
        spawn_local(async move {
            match api.close(&session_id).await {
                Ok(()) => conversation.close(),
                Err(message) => error.set(Some(message)),
            }
        });
    };

    let shown_greeting = move || site.with(|site| site.as_ref().map(|site| site.greeting_in(locale.get().code())).unwrap_or_default());
    let typing =
        move || i18n::fill(text(Text::IsTyping)(), "{name}", &i18n::isolate(&conversation.operator_typing.get().unwrap_or_default()));

    // An image is on its way: sending now would leave it behind.
    let uploading = move || preview.with(Option::is_some) && uploaded.with(Option::is_none);

    // The DOM's effects and listeners belong to `view`, cleaned up when the
    // panel is drawn anew; the signals above stay with the current owner.
    view.with(move || {
        let dialog = dom::element(&root, "div", "ec-panel");
        dom::attr(&dialog, "role", "dialog");
        dom::localized_attr(&dialog, "aria-label", Text::Chat);
        dom::attr_of(&dialog, "aria-modal", move || phone.get().then(|| "true".into()));
        dom::attr_of(&dialog, "lang", move || Some(locale.get().code().into()));
        dom::attr_of(&dialog, "dir", move || Some(locale.get().dir().into()));
        dom::attr_of(&dialog, "data-live", move || Some(conversation.live.get().to_string()));
        let style = dialog.style();
        dom::bind(move || {
            site.with(|site| {
                let colours = site.as_ref().map(|s| [&s.theme_color, &s.theme_text_color, &s.theme_ink_color]);
                for (i, property) in ["--ec-accent", "--ec-on-accent", "--ec-ink"].into_iter().enumerate() {
                    let _ = style.set_property(property, colours.map(|c| c[i].as_str()).unwrap_or_default());
                }
            })
        });

        let header = dom::element(&dialog, "header", "ec-header");
        let title = move || {
            site.with(|site| site.as_ref().map(|s| s.title.clone()).filter(|t| !t.is_empty()))
                .unwrap_or_else(|| text(Text::Chat)().to_string())
        };
        let avatar = move || site.with(|site| site.as_ref().and_then(|s| s.avatar_url.clone()));
        brand(&header, base.clone(), title, avatar);
        dom::show(
            &header,
            move || conversation.live.get() && !conversation.rate.get(),
            move |at| {
                let end = dom::button(at, "ec-end");
                dom::localized(&end, Text::EndChat);
                dom::on(&end, "click", end_chat);
            },
        );
        let close = dom::button(&header, "ec-close");
        dom::localized_attr(&close, "aria-label", Text::CloseChat);
        close.set_text_content(Some("×"));
        dom::on(&close, "click", |_| crate::host::close());

        let list = dom::element(&dialog, "div", "ec-messages");
        for (name, value) in [("role", "log"), ("aria-live", "polite"), ("tabindex", "0")] {
            dom::attr(&list, name, value);
        }
        dom::localized_attr(&list, "aria-label", Text::Messages);
        dom::show(
            &list,
            move || !shown_greeting().is_empty(),
            move |at| {
                let bubble = dom::element(at, "div", "ec-msg ec-ai ec-greeting");
                let line = dom::element(&bubble, "p", "ec-text");
                dom::attr(&line, "dir", "auto");
                dom::text(&line, shown_greeting);
            },
        );
        bubbles(&list, messages, base);
        dom::show(
            &list,
            move || ask_contact.with(Option::is_some),
            move |at| contact_form(at, api, move || ask_contact.get().unwrap_or_default(), on_contact_saved),
        );
        dom::show(
            &list,
            move || conversation.rate.get(),
            move |at| {
                rating_form(at, api);
                transcript_button(at, api);
            },
        );
        dom::show(
            &list,
            move || conversation.operator_typing.with(Option::is_some),
            move |at| dom::text(&dom::element(at, "p", "ec-typing-notice"), typing),
        );
        // Keep the newest text in view while answers stream in, after this
        // tick's effects (the bubbles redraw themselves in theirs).
        let scrolled = list.clone();
        dom::bind(move || {
            messages.with(|all| all.iter().for_each(|m| m.shown.track()));
            conversation.operator_typing.track();
            let list = scrolled.clone();
            dom::next_frame(move || list.set_scroll_top(list.scroll_height()));
        });

        dom::show(
            &dialog,
            move || conversation.offer_person.get(),
            move |at| {
                let handoff = dom::button(at, "ec-handoff");
                dom::localized(&handoff, Text::TalkToPerson);
                dom::on(&handoff, "click", talk_to_person);
            },
        );
        dom::alert(&dialog, "ec-error", error);
        dom::show(
            &dialog,
            move || blocked.get(),
            |at| {
                let line = dom::element(at, "p", "ec-blocked");
                dom::attr(&line, "role", "alert");
                dom::localized(&line, Text::Blocked);
            },
        );
        dom::show(
            &dialog,
            move || preview.with(Option::is_some),
            move |at| {
                let box_ = dom::element(at, "div", "ec-attachment");
                let image = dom::element(&box_, "img", "ec-preview");
                dom::attr_of(&image, "src", move || preview.get());
                dom::localized_attr(&image, "alt", Text::ImageToSend);
                let bar = dom::element(&box_, "progress", "ec-progress");
                dom::attr(&bar, "max", "100");
                dom::attr_of(&bar, "value", move || Some(progress.get().to_string()));
                dom::localized_attr(&bar, "aria-label", Text::ImageToSend);
                let remove = dom::button(&box_, "ec-remove");
                dom::localized_attr(&remove, "aria-label", Text::RemoveImage);
                remove.set_text_content(Some("×"));
                dom::on(&remove, "click", move |_| {
                    preview.set(None);
                    uploaded.set(None);
                });
            },
        );
        dom::alert(&dialog, "ec-upload-error", upload_error);
        composer(
            &dialog,
            send,
            on_typing,
            on_attach,
            move || busy.get() || blocked.get() || uploading(),
            move || uploaded.with(Option::is_some),
        );
    });
}

/// Keeps one bubble per message of `messages` in `list`, in order, at the
/// place this is called: a message's bubble is made when it is added and
/// goes (with its effects) when it is removed. Messages are only ever
/// appended with a growing key or removed, so both lists stay in key order.
fn bubbles(list: &HtmlElement, messages: RwSignal<Vec<UiMessage>>, base: String) {
    let owner = Owner::current().unwrap_or_default();
    let place = dom::document().create_text_node("");
    let _ = list.append_child(&place);
    let list = list.clone();
    let drawn = StoredValue::new_local(Vec::<(usize, HtmlElement, Owner)>::new());
    dom::bind(move || {
        messages.with(|all| {
            drawn.update_value(|drawn| {
                drawn.retain(|(key, bubble, owner)| {
                    let keep = all.binary_search_by_key(key, |m| m.key).is_ok();
                    if !keep {
                        let _ = list.remove_child(bubble);
                        owner.cleanup();
                    }
                    keep
                });
                let last = drawn.last().map(|(key, ..)| *key);
                for message in all.iter().filter(|m| last.is_none_or(|last| m.key > last)) {
                    let own = owner.child();
                    let bubble = own.with(|| untrack(|| message_bubble(&list, *message, base.clone())));
                    let _ = list.insert_before(&bubble, Some(&place));
                    drawn.push((message.key, bubble, own));
                }
            })
        })
    });
}
