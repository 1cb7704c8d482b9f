//! "Your requests": the widget of a signed-in user (`EdgeChat('login',
//! {token})`, seed 003). Lists the user's conversations and tickets with
//! their state and unread badges, opens one (a conversation: its messages,
//! polled every few seconds, and a reply box; a ticket: its status
//! timeline), starts a new request from the site's topics, and asks for a
//! rating (`POST /api/v1/app/csat`) once a conversation or ticket is closed.

use std::time::Duration;

use edgechat_shared::api::app::{AppConversation, Reason};
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::sites::RequestReason;
use edgechat_shared::api::ChatMessage;
use edgechat_shared::limits::MAX_MESSAGE_CHARS;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::HtmlElement;

use super::feedback::star_class;
use super::message::UiMessage;
use super::theme::{adopt_site_css, follow_viewport};
use crate::api::Api;
use crate::app::{self, AppApi, TicketRow, TicketView};
use crate::i18n::{self, text, Text};
use crate::wire::Body;

/// How often an open conversation asks for news (`…/poll?since=`).
const POLL_EVERY: Duration = Duration::from_secs(3);

/// What the panel shows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Page {
    List,
    New,
    Conversation(i64),
    Ticket(i64),
}

/// The panel of a signed-in user: signs in with `jwt` (the page's identity
/// token), then shows their requests.
#[component]
pub fn RequestsPanel(api: Api, jwt: String, panel: HtmlElement) -> impl IntoView {
    let panel = StoredValue::new_local(panel);
    let session = RwSignal::new(None::<AppApi>);
    let page = RwSignal::new(Page::List);
    let conversations = RwSignal::new(Vec::<AppConversation>::new());
    let tickets = RwSignal::new(Vec::<TicketRow>::new());
    let reasons = RwSignal::new(Vec::<RequestReason>::new());
    let (title, accent) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (on_accent, ink, avatar) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(None::<String>));
    let locale = i18n::provide();
    let phone = panel.with_value(follow_viewport);
    provide_context(ApiBase(api.base.clone()));
    let error = RwSignal::new(None::<String>);
    let refresh = move || {
        let Some(app) = session.get_untracked() else { return };
        spawn_local(async move {
            match app.conversations().await {
                Ok(list) => conversations.set(list),
                Err(message) => error.set(Some(message)),
            }
            // Tickets are optional for a site (an error leaves the list empty).
            tickets.set(app.tickets().await.unwrap_or_default());
        });
    };
    let site_api = api.clone();
    spawn_local(async move {
        if let Ok(config) = site_api.config().await {
            title.set(config.title);
            accent.set(config.theme_color);
            on_accent.set(config.theme_text_color);
            ink.set(config.theme_ink_color);
            avatar.set(config.avatar_url);
            reasons.set(config.reasons);
            let _ = panel.with_value(|p| adopt_site_css(p, &config.custom_css));
        }
        match AppApi::login(&site_api.base, &site_api.site_key, &jwt).await {
            Ok(app) => {
                app::set_session(Some(app.clone()));
                session.set(Some(app));
                refresh();
            }
            Err(message) => error.set(Some(message)),
        }
    });
    let open = move |to: Page| {
        error.set(None);
        if to == Page::List {
            refresh();
        }
        page.set(to);
    };
    view! {
        <div class="ec-panel ec-app" role="dialog" aria-label=text(Text::YourRequests)
            aria-modal=move || phone.get().then_some("true")
            lang=move || locale.get().code() dir=move || locale.get().dir()
            style:--ec-accent=move || accent.get() style:--ec-on-accent=move || on_accent.get() style:--ec-ink=move || ink.get()>
            <header class="ec-header">
                <Show when=move || page.get() != Page::List>
                    <button class="ec-back" type="button" aria-label=text(Text::BackToRequests) on:click=move |_| open(Page::List)>"‹"</button>
                </Show>
                <Brand title=Signal::derive(move || if title.with(String::is_empty) { text(Text::YourRequests)().to_string() } else { title.get() })
                    avatar=avatar />
                <button class="ec-close" type="button" aria-label=text(Text::CloseChat)
                    on:click=move |_| crate::host::close()>"×"</button>
            </header>
            <Show when=move || error.with(Option::is_some)>
                <p class="ec-error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            {move || match (page.get(), session.get()) {
                (_, None) => view! { <p class="ec-notice" role="status">{text(Text::SigningIn)}</p> }.into_any(),
                (Page::List, Some(_)) => view! { <RequestList conversations tickets open /> }.into_any(),
                (Page::New, Some(app)) => view! { <NewRequest app reasons open error /> }.into_any(),
                (Page::Conversation(id), Some(app)) => view! { <ConversationView app id error /> }.into_any(),
                (Page::Ticket(id), Some(app)) => view! { <TicketTimeline app id error /> }.into_any(),
            }}
        </div>
    }
}

/// A conversation's title in the list: its topic, else its last message.
fn conversation_title(c: &AppConversation) -> String {
    match (&c.reason, &c.last_message) {
        (Some(Reason { main, sub: Some(sub) }), _) => format!("{main} · {sub}"),
        (Some(reason), _) => reason.main.clone(),
        (None, Some(message)) => message.content.chars().take(60).collect(),
        (None, None) => i18n::now(Text::Conversation).into(),
    }
}

fn state_label(state: Status) -> Text {
    match state {
        Status::Open => Text::Open,
        Status::Closed => Text::Closed,
        Status::Snoozed => Text::Snoozed,
    }
}

/// A ticket status's label in the panel's language (the status itself, made
/// readable, for a status the widget does not know).
fn ticket_status(status: &str) -> String {
    match i18n::ticket_status(status) {
        Some(key) => i18n::now(key).into(),
        None => app::status_label(status),
    }
}

#[component]
fn RequestList(
    conversations: RwSignal<Vec<AppConversation>>,
    tickets: RwSignal<Vec<TicketRow>>,
    open: impl Fn(Page) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="ec-messages ec-requests">
            <p class="ec-form-title">{text(Text::YourRequests)}</p>
            <button class="ec-send ec-new-request" type="button" on:click=move |_| open(Page::New)>{text(Text::NewRequest)}</button>
            <Show when=move || conversations.with(Vec::is_empty) && tickets.with(Vec::is_empty)>
                <p class="ec-notice">{text(Text::NoRequests)}</p>
            </Show>
            <ul class="ec-request-list">
                <For each=move || conversations.get() key=|c| (c.id, c.unread, c.state.as_str(), c.updated_at.clone()) let:c>
                    <li>
                        <button class="ec-request" type="button" data-conversation=c.id data-state=c.state.as_str()
                            on:click=move |_| open(Page::Conversation(c.id))>
                            <span class="ec-request-title">{conversation_title(&c)}</span>
                            <span class="ec-request-state">{text(state_label(c.state))}</span>
                            {(c.unread > 0).then(|| view! {
                                <span class="ec-unread">{c.unread}<span class="ec-sr">" "{text(Text::UnreadMessages)}</span></span>
                            })}
                        </button>
                    </li>
                </For>
                <For each=move || tickets.get() key=|t| (t.id, t.status.clone()) let:t>
                    <li>
                        <button class="ec-request ec-ticket" type="button" data-ticket=t.id data-status=t.status.clone()
                            on:click=move |_| open(Page::Ticket(t.id))>
                            <span class="ec-request-title">{format!("{} · {}", t.reference, t.subject)}</span>
                            <span class="ec-request-state">{ticket_status(&t.status)}</span>
                        </button>
                    </li>
                </For>
            </ul>
        </div>
    }
}

/// The topic picker and an optional first message (`POST /api/v1/app/conversations`).
#[component]
fn NewRequest(
    app: AppApi,
    reasons: RwSignal<Vec<RequestReason>>,
    open: impl Fn(Page) + Copy + Send + Sync + 'static,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = StoredValue::new(app);
    let (main, sub, body) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let busy = RwSignal::new(false);
    let subs = move || reasons.with(|all| all.iter().find(|r| r.main == main.get()).map(|r| r.subs.clone()).unwrap_or_default());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = body.get_untracked().trim().to_string();
        let topic = main.get_untracked();
        let reason = (!topic.is_empty()).then(|| Reason { main: topic, sub: Some(sub.get_untracked()).filter(|s| !s.is_empty()) });
        if reason.is_none() && text.is_empty() {
            error.set(Some(i18n::now(Text::PickTopic).into()));
            return;
        }
        busy.set(true);
        spawn_local(async move {
            match app.get_value().start(Some(text.as_str()).filter(|t| !t.is_empty()), reason.as_ref()).await {
                Ok(id) => open(Page::Conversation(id)),
                Err(message) => {
                    busy.set(false);
                    error.set(Some(message));
                }
            }
        });
    };
    view! {
        <form class="ec-messages ec-form ec-new" on:submit=submit>
            <p class="ec-form-title">{text(Text::NewRequest)}</p>
            <Show when=move || reasons.with(|r| !r.is_empty())>
                <select class="ec-input ec-topic" aria-label=text(Text::Topic) on:change=move |ev| { main.set(event_target_value(&ev)); sub.set(String::new()); }>
                    <option value="">{text(Text::ChooseTopic)}</option>
                    {move || reasons.get().into_iter().map(|r| view! { <option value=r.main.clone()>{r.main.clone()}</option> }).collect_view()}
                </select>
            </Show>
            <Show when=move || !subs().is_empty()>
                <select class="ec-input ec-subtopic" aria-label=text(Text::SubTopic) on:change=move |ev| sub.set(event_target_value(&ev))>
                    <option value="">{text(Text::ChooseOne)}</option>
                    {move || subs().into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                </select>
            </Show>
            <textarea class="ec-input ec-body" rows="3" aria-label=text(Text::Message) placeholder=text(Text::DescribeRequest)
                maxlength=MAX_MESSAGE_CHARS.to_string() prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            <button class="ec-send ec-start" type="submit" disabled=move || busy.get()>{text(Text::Start)}</button>
        </form>
    }
}

/// Adds `incoming` to `messages`, skipping the ones already shown (by id).
fn merge(messages: RwSignal<Vec<UiMessage>>, seen: RwSignal<Vec<i64>>, incoming: &[ChatMessage]) -> bool {
    let fresh: Vec<&ChatMessage> = incoming.iter().filter(|m| !seen.with_untracked(|s| s.contains(&m.id))).collect();
    if fresh.is_empty() {
        return false;
    }
    seen.update(|s| s.extend(fresh.iter().map(|m| m.id)));
    messages.update(|all| {
        for message in fresh {
            let ui = UiMessage::from_history(all.len(), message);
            ui.stored_as(message);
            all.push(ui);
        }
    });
    true
}

/// One conversation: its messages (polled), a reply box, and the rating once closed.
#[component]
fn ConversationView(app: AppApi, id: i64, error: RwSignal<Option<String>>) -> impl IntoView {
    let app = StoredValue::new(app);
    let messages = RwSignal::new(Vec::<UiMessage>::new());
    let seen = RwSignal::new(Vec::<i64>::new());
    let (state, rated) = (RwSignal::new(None::<Status>), RwSignal::new(false));
    let since = StoredValue::new(0i64);
    let text = RwSignal::new(String::new());
    let poll = move || {
        spawn_local(async move {
            let app = app.get_value();
            let Ok(news) = app.poll(id, since.get_value()).await else { return };
            since.set_value(news.latest_timestamp);
            state.set(Some(news.state));
            rated.set(news.rated);
            if merge(messages, seen, &news.messages) {
                app.read(id).await;
            }
        });
    };
    poll();
    if let Ok(handle) = set_interval_with_handle(poll, POLL_EVERY) {
        on_cleanup(move || handle.clear());
    }
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = text.get_untracked().trim().to_string();
        if body.is_empty() {
            return;
        }
        text.set(String::new());
        spawn_local(async move {
            match app.get_value().reply(id, &body).await {
                Ok(replied) => {
                    let answered: Vec<ChatMessage> = std::iter::once(replied.message).chain(replied.answer).collect();
                    merge(messages, seen, &answered);
                    state.set(Some(Status::Open));
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <div class="ec-messages ec-conversation" data-conversation=id
            data-state=move || state.get().map(Status::as_str).unwrap_or_default()>
            <For each=move || messages.get() key=|m| m.key let:message>
                <MessageBubble message=message />
            </For>
            <Show when=move || state.get() == Some(Status::Closed) && !rated.get()>
                <Csat app=app.get_value() target=Target::Conversation(id) on_done=Callback::new(move |()| rated.set(true)) />
            </Show>
        </div>
        <form class="ec-composer" on:submit=send>
            <input class="ec-input" type="text" placeholder=i18n::text(Text::Placeholder) aria-label=i18n::text(Text::Message)
                maxlength=MAX_MESSAGE_CHARS.to_string() prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            <button class="ec-send" type="submit">{i18n::text(Text::Send)}</button>
        </form>
    }
}

/// A ticket's status and its timeline (`GET /api/v1/app/tickets/{id}`).
#[component]
fn TicketTimeline(app: AppApi, id: i64, error: RwSignal<Option<String>>) -> impl IntoView {
    let ticket = RwSignal::new(None::<TicketView>);
    let rated = RwSignal::new(false);
    let fetch_app = app.clone();
    spawn_local(async move {
        match fetch_app.ticket(id).await {
            Ok(view) => {
                rated.set(view.ticket.rated);
                ticket.set(Some(view));
            }
            Err(message) => error.set(Some(message)),
        }
    });
    let app = StoredValue::new(app);
    let closed = move || ticket.with(|t| t.as_ref().is_some_and(|t| matches!(t.ticket.status.as_str(), "resolved" | "closed")));
    view! {
        <div class="ec-messages ec-ticket-view" data-ticket=id>
            {move || ticket.get().map(|t| view! {
                <p class="ec-form-title">{format!("{} · {}", t.ticket.reference, t.ticket.subject)}</p>
                <p class="ec-ticket-status" data-status=t.ticket.status.clone()>{ticket_status(&t.ticket.status)}</p>
                <ol class="ec-timeline">
                    {t.timeline.into_iter().map(|e| view! {
                        <li data-to=e.to_status.clone()>
                            <time datetime=e.at.clone()>{e.at.chars().take(16).collect::<String>().replace('T', " ")}</time>
                            " "{ticket_status(&e.to_status)}
                            {e.note.map(|n| view! { <span class="ec-note">{format!(" — {n}")}</span> })}
                        </li>
                    }).collect_view()}
                </ol>
            })}
            <Show when=move || closed() && !rated.get()>
                <Csat app=app.get_value() target=Target::Ticket(id) on_done=Callback::new(move |()| rated.set(true)) />
            </Show>
        </div>
    }
}

/// What a rating is about.
#[derive(Debug, Clone, Copy)]
enum Target {
    Conversation(i64),
    Ticket(i64),
}

/// The 1–5 star rating of a closed conversation or ticket; a duplicate
/// (`{"id": null, "duplicate": true}`) counts as done.
#[component]
fn Csat(app: AppApi, target: Target, on_done: Callback<()>) -> impl IntoView {
    let app = StoredValue::new(app);
    let (stars, comment, done) = (RwSignal::new(0i64), RwSignal::new(String::new()), RwSignal::new(false));
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if stars.get_untracked() == 0 {
            error.set(Some(i18n::now(Text::ChooseStars).into()));
            return;
        }
        let body = Body::new().int("stars", stars.get_untracked());
        let body = match target {
            Target::Conversation(id) => body.int("conversation_id", id),
            Target::Ticket(id) => body.int("ticket_id", id),
        };
        let body = body.opt_str("comment", Some(comment.get_untracked().trim()).filter(|c| !c.is_empty()));
        spawn_local(async move {
            match app.get_value().csat(body).await {
                Ok(_) => {
                    done.set(true);
                    on_done.run(());
                }
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <Show when=move || !done.get() fallback=|| view! { <p class="ec-notice ec-thanks" role="status">{text(Text::ThanksFeedback)}</p> }>
            <form class="ec-form ec-rating" on:submit=submit>
                <p class="ec-form-title">{text(Text::HowDidWeDo)}</p>
                <Stars score=stars />
                <input class="ec-input ec-comment" type="text" placeholder=text(Text::TellUsMore) aria-label=text(Text::Comment)
                    prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev)) />
                <Show when=move || error.with(Option::is_some)>
                    <p class="ec-form-error" role="alert">{move || error.get().unwrap_or_default()}</p>
                </Show>
                <button class="ec-send ec-submit-rating" type="submit">{text(Text::SendRating)}</button>
            </form>
        </Show>
    }
}

/// Five star buttons setting `score` (1–5): a labelled group of toggle
/// buttons, each named "n of 5 stars" and pressed when it is the choice, so
/// Tab reaches them and Enter or Space chooses (the Leptos view of the chat
/// panel's stars, `feedback.rs`).
#[component]
fn Stars(score: RwSignal<i64>) -> impl IntoView {
    let locale = i18n::locale();
    view! {
        <div class="ec-stars" role="group" aria-label=text(Text::Rating)>
            {(1..=5i64).map(|n| view! {
                <button type="button" class=move || star_class(score.get() >= n) data-score=n
                    aria-label=move || i18n::fill(i18n::t(locale.get(), Text::StarsOfFive), "{n}", &n.to_string())
                    aria-pressed=move || if score.get() == n { "true" } else { "false" }
                    on:click=move |_| score.set(n)>"★"</button>
            }).collect_view()}
        </div>
    }
}

/// The worker's origin, provided by the signed-in user's panel for attachment URLs.
#[derive(Debug, Clone)]
struct ApiBase(String);

/// The Leptos view of the chat panel's bubble (`message::bubble`).
#[component]
fn MessageBubble(message: UiMessage) -> impl IntoView {
    if message.notice {
        return view! { <p class="ec-notice">{move || message.shown.with(|s| s.content.clone())}</p> }.into_any();
    }
    let base = use_context::<ApiBase>().map(|b| b.0).unwrap_or_default();
    let node = NodeRef::<leptos::html::Div>::new();
    let locale = crate::i18n::locale();
    Effect::new(move || {
        let locale = locale.get();
        if let Some(bubble) = node.get() {
            super::message::draw(&bubble, &message, &base, locale);
        }
    });
    let class = ["ec-msg ec-", message.role.as_str()].concat();
    view! { <div class=class data-role=message.role.as_str() aria-busy="false" node_ref=node></div> }.into_any()
}

/// The header's avatar and title: the Leptos view of the chat panel's
/// `theme::brand`.
#[component]
fn Brand(#[prop(into)] title: Signal<String>, #[prop(into)] avatar: Signal<Option<String>>) -> impl IntoView {
    let base = use_context::<ApiBase>().map(|b| b.0).unwrap_or_default();
    let initial = move || title.with(|t| t.chars().next().map(String::from).unwrap_or_default());
    view! {
        {move || match avatar.get().filter(|url| !url.is_empty()) {
            Some(url) => {
                let src = if url.starts_with('/') { base.clone() + &url } else { url };
                view! { <img class="ec-avatar" src=src alt="" /> }.into_any()
            }
            None => view! { <span class="ec-avatar ec-initial" aria-hidden="true">{initial}</span> }.into_any(),
        }}
        <h2 class="ec-title">{move || title.get()}</h2>
    }
}
