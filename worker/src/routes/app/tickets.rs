//! `/api/v1/app/tickets…` (seed 003, "Tickets"; issue 14): a signed-in
//! user follows their own tickets: the list (newest first, with `rated`),
//! a search by reference, one ticket with its chat and status timeline, a
//! reply (reopens a resolved ticket) and a request to clarify the status.
//! Another user's ticket answers 404 as a missing one does.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::Json;
use edgechat_shared::api::tickets::{
    clarify_message, ActorKind, AppTicket, AppTicketDetail, AppTicketList, Ticket, TicketReply, TicketSearch, TicketStatus, TimelineEntry,
    TimelineKind, MAX_APP_TICKETS,
};
use edgechat_shared::api::Mode;
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::{D1Database, Env};

use super::AppUser;
use crate::db::messages::FileLinks;
use crate::db::tickets::{self as store, ActorRef, TicketUpdate};
use crate::db::{self, conversations};
use crate::error::{ApiError, ApiResult};
use crate::room::{RoomContext, SendVisitorMessage};
use crate::routes::operator::tickets::{announce, chat_messages};
use crate::routes::{json_object, AppState};

/// The user's ticket `id` (as they see it, and its full row), or 404.
async fn load(db: &D1Database, user: &AppUser, id: i64) -> ApiResult<(AppTicket, Ticket)> {
    store::of_user_by_id(db, user.site.id, user.visitor_id, id).await?.ok_or_else(|| ApiError::not_found("ticket"))
}

fn actor(user: &AppUser) -> ActorRef {
    ActorRef { kind: ActorKind::User, id: user.visitor_id, name: None }
}

/// What the user sees of a timeline: the status entries and clarification
/// requests, without operators' notes, assignments or ids.
fn for_user(timeline: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
    timeline
        .into_iter()
        .filter(|e| matches!(e.kind, TimelineKind::Created | TimelineKind::Status | TimelineKind::Clarify))
        .map(|mut e| {
            e.actor.id = None;
            e.note = None;
            e.assignee_id = None;
            e
        })
        .collect()
}

async fn detail(env: &Env, db: &D1Database, user: &AppUser, id: i64) -> ApiResult<AppTicketDetail> {
    let (ticket, full) = load(db, user, id).await?;
    let timeline = for_user(store::timeline(db, id).await?);
    let messages = chat_messages(env, db, full.site_id, full.conversation_id).await?;
    Ok(AppTicketDetail { ticket, messages, timeline })
}

/// Writes `content` as the user's message into the ticket's conversation
/// (made first when the ticket has none), through its Room: in `operator`
/// mode (a person answers a ticket; an `ai` conversation is handed to the
/// team first, as the widget's handoff does), so the team sees it live.
/// `true` when `client_message_id` was stored already (a retry: nothing new).
async fn send_to_chat(
    env: &Env,
    db: &D1Database,
    user: &AppUser,
    ticket: &Ticket,
    content: String,
    client_message_id: Option<String>,
) -> ApiResult<bool> {
    let conversation_id = match ticket.conversation_id {
        Some(id) => id,
        None => store::ensure_conversation(db, ticket.id).await?.ok_or_else(|| ApiError::not_found("ticket"))?,
    };
    let context = RoomContext { conversation_id, site_id: Some(user.site.id), account_id: user.site.account_id };
    let state = conversations::state(db, conversation_id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    if state.mode == Mode::Ai {
        context.handoff(env).await?;
    }
    let send = SendVisitorMessage {
        context,
        content,
        client_message_id,
        attachments: Vec::new(),
        responder: user.site.responder(),
        links: FileLinks::of(&user.site),
        page_url: None,
        lang: None,
        claims: None,
    };
    // The Room stores the message before it answers; in `operator` mode its
    // stream carries nothing more than `done`, whose meta tells a replay.
    let done = crate::routes::widget::token_conversations::send_and_await(env, send).await?;
    crate::events::publish_conversation(env, conversation_id).await;
    Ok(done.is_some_and(|meta| meta.replayed))
}

/// Handles the `GET /api/v1/app/tickets` route (seed 003): the user's
/// tickets, newest first (up to 100), each with `rated`.
#[utoipa::path(
    get,
    path = "/api/v1/app/tickets",
    tag = "app",
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The user's tickets, newest first (up to 100)", body = AppTicketList),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's read limit", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_tickets(State(state): State<AppState>, user: AppUser) -> ApiResult<Json<AppTicketList>> {
    let db = db::database(&state.env)?;
    Ok(Json(AppTicketList { tickets: store::of_user(&db, user.site.id, user.visitor_id, None, MAX_APP_TICKETS).await? }))
}

/// Handles the `GET /api/v1/app/tickets/search?q=EC-1042` route (seed
/// 003): the user's tickets whose reference contains `q`, any case.
#[utoipa::path(
    get,
    path = "/api/v1/app/tickets/search",
    tag = "app",
    params(TicketSearch),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The user's tickets whose reference contains `q` (any case), newest first", body = AppTicketList),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 422, description = "`validation_error`: `q` missing, blank, over 32 characters, or not letters, digits and `-`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's read limit", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_search(
    State(state): State<AppState>,
    user: AppUser,
    query: Result<Query<TicketSearch>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<AppTicketList>> {
    let Query(query) = query.map_err(|e| FieldError::new("q", e.body_text()))?;
    let q = query.validate()?;
    let db = db::database(&state.env)?;
    Ok(Json(AppTicketList { tickets: store::of_user(&db, user.site.id, user.visitor_id, Some(&q), MAX_APP_TICKETS).await? }))
}

/// Handles the `GET /api/v1/app/tickets/{id}` route (seed 003): the
/// ticket, the newest messages of its chat and its status timeline.
#[utoipa::path(
    get,
    path = "/api/v1/app/tickets/{id}",
    tag = "app",
    params(("id" = i64, Path, description = "Ticket id")),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The ticket, its chat's newest messages (up to 100) and its status timeline", body = AppTicketDetail),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such ticket of this user", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's read limit", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_ticket(State(state): State<AppState>, user: AppUser, Path(id): Path<i64>) -> ApiResult<Json<AppTicketDetail>> {
    let db = db::database(&state.env)?;
    Ok(Json(detail(&state.env, &db, &user, id).await?))
}

/// Handles the `POST /api/v1/app/tickets/{id}/reply` route (seed 003):
/// `{body}` becomes the user's message in the ticket's chat (made when it
/// has none); a `resolved` ticket, or one `waiting_on_customer`, moves to
/// `in_progress` with a timeline entry by the user. A `closed` ticket takes
/// no reply (409). A retry with the same `message_id` stores nothing new.
#[utoipa::path(
    post,
    path = "/api/v1/app/tickets/{id}/reply",
    operation_id = "app_post_ticket_reply",
    tag = "app",
    params(("id" = i64, Path, description = "Ticket id")),
    request_body = TicketReply,
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The message is in the ticket's chat; the ticket as it is now (reopened when it was resolved)", body = AppTicketDetail),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such ticket of this user", body = ErrorBody),
        (status = 409, description = "`conflict`: the ticket is closed", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank or over-long `body` (1 to 10,000 characters), a malformed `message_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's write limit", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_reply(
    State(state): State<AppState>,
    user: AppUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<AppTicketDetail>> {
    let reply: TicketReply = json_object(&body)?;
    reply.validate()?;
    let db = db::database(&state.env)?;
    let (_, ticket) = load(&db, &user, id).await?;
    still_open(&ticket)?;
    let replayed = send_to_chat(&state.env, &db, &user, &ticket, reply.body, reply.message_id).await?;
    if !replayed && matches!(ticket.status, TicketStatus::Resolved | TicketStatus::WaitingOnCustomer) {
        let update = TicketUpdate { status: Some(TicketStatus::InProgress), ..Default::default() };
        if let Some((after, event_id)) = store::change(&db, &ticket, &actor(&user), &update).await? {
            announce(&state.env, user.site.account_id, &after, event_id).await;
        }
    }
    Ok(Json(detail(&state.env, &db, &user, id).await?))
}

/// 409 `conflict` for a closed ticket, which takes no reply and no question.
fn still_open(ticket: &Ticket) -> ApiResult<()> {
    if ticket.status == TicketStatus::Closed {
        return Err(ApiError::conflict("This ticket is closed; start a new request instead"));
    }
    Ok(())
}

/// Handles the `POST /api/v1/app/tickets/{id}/clarify` route (seed 003):
/// writes "Could you clarify the status of my request EC-…?" as the user's
/// message into the ticket's chat (made when it has none) and records a
/// `clarify` timeline entry. Takes no body. 409 on a closed ticket; 429
/// within 10 minutes of the ticket's last `clarify` (each is a message, a
/// timeline entry, a webhook and a live event for the team).
#[utoipa::path(
    post,
    path = "/api/v1/app/tickets/{id}/clarify",
    tag = "app",
    params(("id" = i64, Path, description = "Ticket id")),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The question is in the ticket's chat; the ticket with its chat and timeline", body = AppTicketDetail),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such ticket of this user", body = ErrorBody),
        (status = 409, description = "`conflict`: the ticket is closed; nothing is sent", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past the user's write limit, or the ticket was asked about less than 10 minutes ago (`Retry-After` says when it may be again); nothing is sent", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_clarify(State(state): State<AppState>, user: AppUser, Path(id): Path<i64>) -> ApiResult<Json<AppTicketDetail>> {
    let db = db::database(&state.env)?;
    let (_, ticket) = load(&db, &user, id).await?;
    still_open(&ticket)?;
    let (wait, asked) = store::clarify_wait(&db, ticket.id).await?;
    if let Some(wait) = wait {
        return Err(ApiError::rate_limited(wait.clamp(1, store::CLARIFY_EVERY_SECONDS) as u32));
    }
    // Asks that raced past the wait share the message's client id (the
    // Room stores one) and the count the timeline entry is recorded against.
    // `#` is outside a client's `message_id` alphabet: no reply takes it.
    let client_id = format!("clarify#{}#{asked}", ticket.id);
    send_to_chat(&state.env, &db, &user, &ticket, clarify_message(&ticket.reference), Some(client_id)).await?;
    if let Some(event_id) = store::record_clarify(&db, ticket.id, &actor(&user), asked).await? {
        if let Some(after) = store::by_id(&db, user.site.account_id, ticket.id).await? {
            announce(&state.env, user.site.account_id, &after, event_id).await;
        }
    }
    Ok(Json(detail(&state.env, &db, &user, id).await?))
}
