//! The inbox: the conversation list with the API's filters
//! (`GET /v1/chat/conversations`: status, mode, assignee, site), kept live
//! by the operator WebSocket, beside the open conversation; and the
//! "AI active" view (`GET /v1/chat/ai-active`, seed 000's supervise-AI
//! pane) with one-click take over.
//!
//! Live events patch the list at once (preview, time, unread count, mode,
//! status, order) and a debounced refetch (250 ms) brings it in line with
//! the server's filters and order; so does every reconnection of the socket.
//!
//! Team messaging (seed 002): a "New conversation" button, a kind filter
//! (visitors / team) and the archived list; internal conversations carry a
//! team label and their name (or, for a staff DM, the other operator's);
//! muted ones a muted icon and no alerts; a search box over messages.

use edgechat_shared::api::auth::Operator;
use std::collections::HashMap;

use edgechat_shared::api::conversations::{ConversationList, ConversationSummary, Kind, Status};
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::sites::{Site, SiteList};
use edgechat_shared::api::team::ParticipantList;
use edgechat_shared::api::users::OperatorList;
use edgechat_shared::api::{Mode, Role};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use wasm_bindgen::prelude::*;

use crate::conversation::ConversationView;
use crate::session::Session;
use crate::{api, live, notify, search, team, ui};

/// How many conversations one page of the list holds.
const PAGE: u32 = 50;
/// How long the list waits for more live events before refetching, in ms.
const REFETCH_DEBOUNCE_MS: i32 = 250;

/// Who a conversation is assigned to, as the list filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    /// Everyone's.
    All,
    /// The caller's.
    Mine,
    /// Nobody's.
    Unassigned,
}

/// The inbox state, provided as context by the signed-in shell so that the
/// filters survive moving between conversations and settings.
#[derive(Clone, Copy)]
pub struct Inbox {
    /// The list as shown, newest activity first.
    pub conversations: RwSignal<Vec<ConversationSummary>>,
    /// The next page's cursor, when there is one.
    pub next_cursor: RwSignal<Option<String>>,
    /// Filter: status (`None`: any).
    pub status: RwSignal<Option<Status>>,
    /// Filter: who answers (`None`: both).
    pub mode: RwSignal<Option<Mode>>,
    /// Filter: assignment.
    pub assigned: RwSignal<Assigned>,
    /// Filter: site (`None`: every site).
    pub site: RwSignal<Option<i64>>,
    /// Filter: kind (`None`: visitors' and team conversations).
    pub kind: RwSignal<Option<Kind>>,
    /// Filter: only the archived conversations (`archived=true`) instead of the default list.
    pub archived: RwSignal<bool>,
    /// The signed-in operator's user id.
    pub me: Option<i64>,
    /// The other participants' names of unnamed team conversations (staff DMs), by conversation id.
    pub dm_names: RwSignal<HashMap<i64, String>>,
    /// The account's sites, for the site filter and names.
    pub sites: RwSignal<Vec<Site>>,
    /// The account's operators, for assignment.
    pub operators: RwSignal<Vec<Operator>>,
    /// The conversation open in the console, if any.
    pub open: RwSignal<Option<i64>>,
    /// The last error of a list call.
    pub error: RwSignal<Option<String>>,
    /// `true` while the first page loads.
    pub loading: RwSignal<bool>,
    refetch_queued: StoredValue<bool>,
}

impl Inbox {
    /// The inbox of the signed-in shell.
    pub fn get() -> Inbox {
        expect_context::<Inbox>()
    }

    fn query(&self, cursor: Option<&str>) -> String {
        let mut query = vec![format!("limit={PAGE}")];
        if let Some(status) = self.status.get_untracked() {
            query.push(format!("status={}", status.as_str()));
        }
        if let Some(mode) = self.mode.get_untracked() {
            query.push(format!("mode={}", mode.as_str()));
        }
        match self.assigned.get_untracked() {
            Assigned::All => {}
            Assigned::Mine => query.push("assignee=me".into()),
            Assigned::Unassigned => query.push("assignee=none".into()),
        }
        if let Some(site) = self.site.get_untracked() {
            query.push(format!("site_id={site}"));
        }
        if let Some(kind) = self.kind.get_untracked() {
            query.push(format!("kind={}", kind.as_str()));
        }
        if self.archived.get_untracked() {
            query.push("archived=true".into());
        }
        if let Some(cursor) = cursor {
            query.push(format!("cursor={}", api::encode(cursor)));
        }
        format!("/v1/chat/conversations?{}", query.join("&"))
    }

    /// Loads the first page again, keeping as many rows as were shown.
    pub fn reload(self) {
        leptos::task::spawn_local(async move {
            let answer = api::get::<ConversationList>(&self.query(None)).await;
            // Signed out meanwhile: the inbox is gone.
            if self.conversations.is_disposed() {
                return;
            }
            match answer {
                Ok(list) => {
                    list.conversations.iter().for_each(|c| notify::set_muted(c.id, c.muted));
                    self.conversations.set(list.conversations);
                    self.next_cursor.set(list.next_cursor);
                    self.error.set(None);
                }
                Err(err) => self.error.set(Some(err.message)),
            }
            self.loading.set(false);
        });
    }

    /// Appends the next page.
    pub fn more(self) {
        let Some(cursor) = self.next_cursor.get_untracked() else { return };
        leptos::task::spawn_local(async move {
            let answer = api::get::<ConversationList>(&self.query(Some(&cursor))).await;
            if self.conversations.is_disposed() {
                return;
            }
            match answer {
                Ok(list) => {
                    list.conversations.iter().for_each(|c| notify::set_muted(c.id, c.muted));
                    self.conversations.update(|all| {
                        let known: Vec<i64> = all.iter().map(|c| c.id).collect();
                        all.extend(list.conversations.into_iter().filter(|c| !known.contains(&c.id)));
                    });
                    self.next_cursor.set(list.next_cursor);
                }
                Err(err) => self.error.set(Some(err.message)),
            }
        });
    }

    /// Refetches the list once live events stop arriving for a moment.
    fn queue_reload(self) {
        if self.refetch_queued.get_value() {
            return;
        }
        self.refetch_queued.set_value(true);
        let callback = Closure::once_into_js(move || {
            if self.conversations.is_disposed() {
                return;
            }
            self.refetch_queued.set_value(false);
            self.reload();
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), REFETCH_DEBOUNCE_MS);
        }
    }

    /// Replaces the row of `summary.id` (after an action), if shown.
    pub fn replace(&self, summary: &ConversationSummary) {
        notify::set_muted(summary.id, summary.muted);
        self.conversations.update(|all| {
            if let Some(row) = all.iter_mut().find(|c| c.id == summary.id) {
                *row = summary.clone();
            }
        });
    }

    /// Marks the open conversation's visitor messages read in the list.
    pub fn mark_read(&self, id: i64) {
        self.conversations.update(|all| {
            if let Some(row) = all.iter_mut().find(|c| c.id == id) {
                row.unread_count = 0;
            }
        });
    }

    /// Applies one live event to the list.
    fn apply(self, event: &LiveEvent) {
        match event {
            LiveEvent::Message { conversation_id, message } => {
                let open = self.open.get_untracked() == Some(*conversation_id);
                // Visitor messages, and in team conversations other operators' messages, count.
                let from_someone_else = message.role == Role::Visitor || (message.role == Role::Operator && message.author_id != self.me);
                let mut found = false;
                let mut archived = false;
                self.conversations.update(|all| {
                    if let Some(index) = all.iter().position(|c| c.id == *conversation_id) {
                        let mut row = all.remove(index);
                        let counts = message.role == Role::Visitor || (row.kind == Kind::Internal && from_someone_else);
                        archived = row.archived && counts;
                        if row.last_message.as_ref().is_none_or(|m| m.seq < message.seq) {
                            row.last_activity_at = message.created_at.clone();
                            row.last_message = Some(message.clone());
                            if counts && !open {
                                row.unread_count += 1;
                            }
                        }
                        all.insert(0, row);
                        found = true;
                    }
                });
                // Unknown here, or an archived one that the message brings back: the server decides.
                if !found || archived {
                    self.queue_reload();
                }
                if from_someone_else {
                    notify::alert("New message", &message.content, *conversation_id);
                }
            }
            LiveEvent::Conversation { conversation_id, site_id, .. } => {
                self.queue_reload();
                let body =
                    if site_id.is_some() { "A visitor started a conversation." } else { "A teammate started a conversation with you." };
                notify::alert("New conversation", body, *conversation_id);
            }
            LiveEvent::Handoff { conversation_id, .. } => {
                self.queue_reload();
                notify::alert("A visitor asks for a person", "The conversation waits for an operator.", *conversation_id);
            }
            LiveEvent::Mode { conversation_id, mode, .. } => {
                self.patch(*conversation_id, |c| c.mode = *mode);
                if self.mode.get_untracked().is_some() {
                    self.queue_reload();
                }
            }
            LiveEvent::Status { conversation_id, status } => {
                self.patch(*conversation_id, |c| c.status = *status);
                if self.status.get_untracked().is_some() {
                    self.queue_reload();
                }
            }
            LiveEvent::Assignment { conversation_id, assignee_id, .. } => {
                self.patch(*conversation_id, |c| c.assignee_id = *assignee_id);
                if self.assigned.get_untracked() != Assigned::All {
                    self.queue_reload();
                }
            }
            LiveEvent::VisitorBlocked { conversation_id, blocked, .. } => self.patch(*conversation_id, |c| {
                if let Some(visitor) = c.visitor.as_mut() {
                    visitor.blocked = *blocked;
                }
            }),
            LiveEvent::ConversationUpdated { conversation_id, name, description } => self.patch(*conversation_id, |c| {
                c.name = name.clone();
                c.description = description.clone();
            }),
            LiveEvent::ConversationDeleted { conversation_id } => {
                self.conversations.update(|all| all.retain(|c| c.id != *conversation_id));
            }
            LiveEvent::Participants { .. } => self.queue_reload(),
            LiveEvent::Typing { .. }
            | LiveEvent::Read { .. }
            | LiveEvent::MessageUpdated { .. }
            | LiveEvent::Reaction { .. }
            | LiveEvent::Ticket { .. } => {}
        }
    }

    fn patch(&self, id: i64, f: impl FnOnce(&mut ConversationSummary)) {
        self.conversations.update(|all| {
            if let Some(row) = all.iter_mut().find(|c| c.id == id) {
                f(row);
            }
        });
    }

    /// What `conversation` is called: its name, its visitor's name, or for
    /// a staff DM the other participants' names (fetched once, then kept).
    pub fn title(&self, conversation: &ConversationSummary) -> String {
        let unnamed = conversation.name.as_deref().is_none_or(|n| n.trim().is_empty());
        if conversation.kind == Kind::Internal && unnamed {
            if let Some(names) = self.dm_names.with_untracked(|all| all.get(&conversation.id).cloned()) {
                return names;
            }
        }
        ui::conversation_title(conversation)
    }

    /// Fetches the other participants' names of unnamed team conversation `id` once.
    fn learn_dm_name(self, id: i64) {
        if self.dm_names.with_untracked(|all| all.contains_key(&id)) {
            return;
        }
        self.dm_names.update(|all| {
            all.insert(id, "Team conversation".into());
        });
        leptos::task::spawn_local(async move {
            let Ok(list) = api::get::<ParticipantList>(&format!("/v1/chat/conversations/{id}/participants")).await else { return };
            let others: Vec<String> =
                list.participants.into_iter().filter(|p| Some(p.user_id) != self.me).map(|p| p.display_name).collect();
            if !others.is_empty() {
                self.dm_names.try_update(|all| {
                    all.insert(id, others.join(", "));
                });
            }
        });
    }

    /// The name of site `id`, when the account has more than one site.
    pub fn site_name(&self, id: i64) -> Option<String> {
        self.sites.with(|sites| if sites.len() > 1 { sites.iter().find(|s| s.id == id).map(|s| s.name.clone()) } else { None })
    }
}

/// Creates the inbox state, loads sites and operators, and follows live events.
pub fn provide() -> Inbox {
    let inbox = Inbox {
        conversations: RwSignal::new(Vec::new()),
        next_cursor: RwSignal::new(None),
        status: RwSignal::new(Some(Status::Open)),
        mode: RwSignal::new(None),
        assigned: RwSignal::new(Assigned::All),
        site: RwSignal::new(None),
        kind: RwSignal::new(None),
        archived: RwSignal::new(false),
        me: Session::get().signed().map(|s| s.user.id),
        dm_names: RwSignal::new(HashMap::new()),
        sites: RwSignal::new(Vec::new()),
        operators: RwSignal::new(Vec::new()),
        open: RwSignal::new(None),
        error: RwSignal::new(None),
        loading: RwSignal::new(true),
        refetch_queued: StoredValue::new(false),
    };
    provide_context(inbox);
    leptos::task::spawn_local(async move {
        if let Ok(list) = api::get::<SiteList>("/v1/sites").await {
            inbox.sites.try_set(list.sites);
        }
        if let Ok(list) = api::get::<OperatorList>("/v1/chat/agents").await {
            inbox.operators.try_set(list.users);
        }
    });
    // Filters changed, or the socket (re)connected: load again.
    let live = live::Live::get();
    Effect::new(move |_| {
        inbox.status.track();
        inbox.mode.track();
        inbox.assigned.track();
        inbox.site.track();
        inbox.kind.track();
        inbox.archived.track();
        live.epoch.track();
        inbox.reload();
    });
    live::listen(move |event| inbox.apply(event));
    inbox
}

/// `/app/` and `/app/conversations/{id}`: the list, and the open conversation.
#[component]
pub fn InboxPage() -> impl IntoView {
    let inbox = Inbox::get();
    let params = use_params_map();
    let open = Memo::new(move |_| params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok())));
    Effect::new(move |_| inbox.open.set(open.get()));
    on_cleanup(move || inbox.open.set(None));
    view! {
        <div class="inbox">
            <ConversationList />
            <main class="pane" aria-label="Conversation">
                {move || match open.get() {
                    Some(id) => view! { <ConversationView id=id /> }.into_any(),
                    None => view! { <p class="empty">"Pick a conversation to answer it."</p> }.into_any(),
                }}
            </main>
        </div>
    }
}

/// The filters and the list.
#[component]
fn ConversationList() -> impl IntoView {
    let inbox = Inbox::get();
    let now = ui::now();
    let on_status = move |ev| {
        inbox.status.set(match event_target_value(&ev).as_str() {
            "" => None,
            value => Status::parse(value),
        })
    };
    let on_mode = move |ev| {
        inbox.mode.set(match event_target_value(&ev).as_str() {
            "" => None,
            value => Mode::parse(value),
        })
    };
    let on_assigned = move |ev| {
        inbox.assigned.set(match event_target_value(&ev).as_str() {
            "mine" => Assigned::Mine,
            "none" => Assigned::Unassigned,
            _ => Assigned::All,
        })
    };
    let on_site = move |ev| inbox.site.set(event_target_value(&ev).parse().ok());
    let on_kind = move |ev| {
        inbox.kind.set(match event_target_value(&ev).as_str() {
            "visitor" => Some(Kind::Visitor),
            "internal" => Some(Kind::Internal),
            _ => None,
        })
    };
    let searching = RwSignal::new(false);
    view! {
        <aside class="list" aria-label="Conversations">
            <div class="list-head">
                <team::NewConversation />
                <search::SearchBox active=searching />
            </div>
            <div class="filters" class:hidden=move || searching.get()>
                <label>"Kind"
                    <select on:change=on_kind aria-label="Kind" name="kind">
                        <option value="">"All"</option>
                        <option value="visitor">"Visitors"</option>
                        <option value="internal">"Team"</option>
                    </select>
                </label>
                <label class="inline archived-filter">
                    <input type="checkbox" name="archived" prop:checked=move || inbox.archived.get()
                        on:change=move |ev| inbox.archived.set(event_target_checked(&ev)) />
                    "Archived"
                </label>
                <label>"Status"
                    <select on:change=on_status aria-label="Status">
                        <option value="open" selected=true>"Open"</option>
                        <option value="closed">"Closed"</option>
                        <option value="snoozed">"Snoozed"</option>
                        <option value="">"Any status"</option>
                    </select>
                </label>
                <label>"Answered by"
                    <select on:change=on_mode aria-label="Answered by">
                        <option value="">"AI and operators"</option>
                        <option value="ai">"AI"</option>
                        <option value="operator">"Operators"</option>
                    </select>
                </label>
                <label>"Assigned"
                    <select on:change=on_assigned aria-label="Assigned">
                        <option value="all">"All"</option>
                        <option value="mine">"Mine"</option>
                        <option value="none">"Unassigned"</option>
                    </select>
                </label>
                <Show when=move || inbox.sites.with(|s| s.len() > 1)>
                    <label>"Site"
                        <select on:change=on_site aria-label="Site">
                            <option value="">"All sites"</option>
                            <For each=move || inbox.sites.get() key=|s| s.id let:site>
                                <option value=site.id.to_string()>{site.name.clone()}</option>
                            </For>
                        </select>
                    </label>
                </Show>
            </div>
            <ui::ErrorNote error=inbox.error />
            <ul class="conversations" class:hidden=move || searching.get()>
                <For each=move || inbox.conversations.get()
                    key=|c| (c.id, c.last_message.as_ref().map(|m| (m.seq, m.edited_at.clone())), c.unread_count, c.mode.as_str(), c.status.as_str(), c.assignee_id, c.name.clone(), c.muted, c.archived)
                    let:conversation>
                    <ConversationRow conversation=conversation now=now />
                </For>
            </ul>
            {move || (!searching.get() && inbox.conversations.with(Vec::is_empty) && !inbox.loading.get()).then(|| view! { <p class="empty">"No conversations here."</p> })}
            <Show when=move || !searching.get() && inbox.next_cursor.with(Option::is_some)>
                <button type="button" class="more" on:click=move |_| inbox.more()>"Load more"</button>
            </Show>
        </aside>
    }
}

/// One row of the list: who, preview, time since, unread, state.
#[component]
fn ConversationRow(conversation: ConversationSummary, now: ReadSignal<f64>) -> impl IntoView {
    let inbox = Inbox::get();
    let id = conversation.id;
    let internal = conversation.kind == Kind::Internal;
    if internal && conversation.name.is_none() {
        inbox.learn_dm_name(id);
    }
    let title_of = conversation.clone();
    let name = move || {
        inbox.dm_names.track();
        inbox.title(&title_of)
    };
    let muted = conversation.muted;
    let archived = conversation.archived;
    let preview = conversation.last_message.as_ref().map(|m| preview_for(m, inbox.me)).unwrap_or_else(|| "No messages yet".into());
    let activity = conversation.last_activity_at.clone();
    let unread = conversation.unread_count;
    let site = conversation.site_id.and_then(|id| inbox.site_name(id));
    let mode = match conversation.mode {
        Mode::Ai => "AI",
        Mode::Operator => "Operator",
    };
    let status = (conversation.status != Status::Open).then(|| conversation.status.as_str());
    let selected = move || inbox.open.get() == Some(id);
    let row_class = if unread > 0 { "row unread" } else { "row" };
    view! {
        <li class=row_class class:selected=selected data-conversation=id.to_string() data-kind=conversation.kind.as_str()
            data-muted=muted.to_string() data-archived=archived.to_string()>
            <A href=format!("/app/conversations/{id}") attr:aria-current=move || selected().then_some("true")>
                <span class="row-top">
                    <strong class="who">
                        {internal.then(|| view! { <span class="team-icon" title="Team conversation" aria-label="Team conversation" role="img">"👥"</span> })}
                        // Isolated: a name with a bidi override (U+202E) cannot reorder the row.
                        <bdi>{name}</bdi>
                        {muted.then(|| view! { <span class="muted-icon" title="Muted" aria-label="Muted" role="img">"🔇"</span> })}
                    </strong>
                    <time class="since">{move || ui::since(&activity, now.get())}</time>
                </span>
                <span class="row-bottom">
                    <span class="preview">{preview}</span>
                    {(unread > 0).then(|| view! { <span class="badge" aria-label=format!("{unread} unread")>{unread}</span> })}
                </span>
                <span class="tags">
                    {if internal {
                        view! { <span class="tag team">"Team"</span> }.into_any()
                    } else {
                        view! { <span class="tag" class:ai=conversation.mode == Mode::Ai>{mode}</span> }.into_any()
                    }}
                    {archived.then(|| view! { <span class="tag">"archived"</span> })}
                    {status.map(|s| view! { <span class="tag">{s}</span> })}
                    {site.map(|s| view! { <span class="tag site">{s}</span> })}
                </span>
            </A>
        </li>
    }
}

/// The first line of a message, for the list.
fn preview(message: &edgechat_shared::api::ChatMessage) -> String {
    preview_for(message, None)
}

/// The first line of a message, naming its author unless it is `me`
/// (or a visitor); without `me`, every operator message is "You".
fn preview_for(message: &edgechat_shared::api::ChatMessage, me: Option<i64>) -> String {
    let who = match message.role {
        Role::Visitor => String::new(),
        Role::Ai => "AI: ".into(),
        Role::Operator => match (&message.author_name, message.author_id) {
            (Some(name), Some(author)) if me.is_some() && Some(author) != me => format!("{name}: "),
            _ => "You: ".into(),
        },
    };
    let text = if message.content.trim().is_empty() && !message.attachments.is_empty() {
        format!("📎 {}", message.attachments[0].name)
    } else {
        message.content.lines().next().unwrap_or_default().chars().take(90).collect()
    };
    format!("{who}{text}")
}

/// `/app/ai`: open conversations the AI is answering, newest first, with
/// their last exchange and a take-over button.
#[component]
pub fn AiActivePage() -> impl IntoView {
    let conversations = RwSignal::new(Vec::<ConversationSummary>::new());
    let error = RwSignal::new(None::<String>);
    let loaded = RwSignal::new(false);
    let load = move || {
        leptos::task::spawn_local(async move {
            let answer = api::get::<ConversationList>("/v1/chat/ai-active").await;
            if conversations.is_disposed() {
                return;
            }
            match answer {
                Ok(list) => {
                    conversations.set(list.conversations);
                    error.set(None);
                }
                Err(err) => error.set(Some(err.message)),
            }
            loaded.set(true);
        })
    };
    let live = live::Live::get();
    Effect::new(move |_| {
        live.epoch.track();
        load();
    });
    live::listen(move |event| match event {
        LiveEvent::Message { conversation_id, message } => {
            let mut found = false;
            conversations.update(|all| {
                if let Some(row) = all.iter_mut().find(|c| c.id == *conversation_id) {
                    row.last_activity_at = message.created_at.clone();
                    row.last_message = Some(message.clone());
                    found = true;
                }
                all.sort_by(|a, b| b.last_activity_at.cmp(&a.last_activity_at));
            });
            if !found {
                load();
            }
        }
        LiveEvent::Conversation { .. } | LiveEvent::Mode { .. } | LiveEvent::Status { .. } | LiveEvent::Handoff { .. } => load(),
        _ => {}
    });
    let now = ui::now();
    let navigate = use_navigate();
    let take_over = move |id: i64| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match api::post::<ConversationSummary>(&format!("/v1/chat/conversations/{id}/takeover"), &api::EMPTY).await {
                Ok(_) => navigate(&format!("/app/conversations/{id}"), Default::default()),
                Err(err) => {
                    error.try_set(Some(err.message));
                }
            }
        });
    };
    view! {
        <main class="ai-active">
            <h1>"AI active"</h1>
            <p class="muted">"Conversations the AI is answering right now. Take one over to answer yourself; the AI stops at once."</p>
            <ui::ErrorNote error=error />
            {move || (loaded.get() && conversations.with(Vec::is_empty)).then(|| view! { <p class="empty">"The AI is not answering anyone right now."</p> })}
            <ul class="supervise">
                <For each=move || conversations.get() key=|c| (c.id, c.last_message.as_ref().map(|m| m.seq)) let:conversation>
                    {
                        let id = conversation.id;
                        let take_over = take_over.clone();
                        let activity = conversation.last_activity_at.clone();
                        let title = ui::conversation_title(&conversation);
                        view! {
                            <li class="card supervised" data-conversation=id.to_string()>
                                <div class="row-top">
                                    <A href=format!("/app/conversations/{id}")><strong><bdi>{title}</bdi></strong></A>
                                    <time class="since">{move || ui::since(&activity, now.get())}</time>
                                </div>
                                <p class="preview">{conversation.last_message.as_ref().map(preview).unwrap_or_default()}</p>
                                <button type="button" class="primary" on:click=move |_| take_over(id)>"Take over"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
        </main>
    }
}
