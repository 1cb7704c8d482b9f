//! A signed-in user's conversations, `/api/v1/app/conversations*` (seed
//! 003, "Conversations"): list, start (from a message or a topic alone),
//! read one, poll for news and state, mark read, close, reply.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use edgechat_shared::api::app::{
    AppConversationDetail, AppConversationList, Closed, DetailQuery, Poll, PollQuery, Replied, ReplyRequest, RequestMeta, StartRequest,
    DETAIL_MESSAGES,
};
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::stream::DoneMeta;
use edgechat_shared::api::{ChatMessage, Role};
use edgechat_shared::error::{ErrorBody, FieldError};
use worker::D1Database;

use super::AppUser;

use crate::db::conversations::StateChange;
use crate::db::messages::FileLinks;
use crate::db::{self, app_conversations as app_db, conversations};
use crate::error::{ApiError, ApiResult};
use crate::inbox;
use crate::room::{RoomContext, SendVisitorMessage, Subscribe};
use crate::routes::widget::token_conversations::send_and_await;
use crate::routes::widget::uploads;
use crate::routes::{json_object, AppState};

/// The user's conversation `id` with its newest [`DETAIL_MESSAGES`]
/// messages (before `before_seq` when given) and the rating; 404 when not theirs.
async fn detail(db: &D1Database, user: &AppUser, id: i64, before_seq: Option<i64>) -> ApiResult<AppConversationDetail> {
    let conversation = app_db::one(db, user.visitor_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let links = FileLinks::of(&user.site);
    let (rows, has_more) = db::messages::page(db, id, before_seq, None, DETAIL_MESSAGES).await?;
    let messages = rows.iter().map(|m| m.to_chat_message(&links)).collect();
    let rating = app_db::rating(db, id).await?;
    Ok(AppConversationDetail { conversation, messages, has_more, rating })
}

/// Writes a user message (with checked `attachments`) through the
/// conversation's Room and waits for the AI's answer while the AI answers.
/// A retry (`client_message_id` stored already) writes nothing new and
/// attaches nothing more: the Room answers the stored message and answer,
/// and the second value is `true`.
pub(crate) async fn write_user_message(
    state: &AppState,
    user: &AppUser,
    context: RoomContext,
    content: String,
    attachment_ids: &[i64],
    client_message_id: Option<String>,
) -> ApiResult<(Replied, bool)> {
    let db = db::database(&state.env)?;
    let retry =
        db::messages::is_retry_with_attachments(&db, Some(context.conversation_id), client_message_id.as_deref(), attachment_ids).await?;
    let attachment_ids = if retry { &[] } else { attachment_ids };
    let attachments = uploads::attachments(&state.env, &user.site, Some(user.visitor_id), attachment_ids).await?;
    let send = SendVisitorMessage {
        context,
        content,
        client_message_id,
        attachments,
        responder: user.site.responder(),
        links: FileLinks::of(&user.site),
        page_url: None,
        lang: None,
        claims: None,
    };
    let meta: Option<DoneMeta> = send_and_await(&state.env, send).await?;
    let links = FileLinks::of(&user.site);
    let rows = db::messages::after(&db, context.conversation_id, meta.as_ref().map(|m| m.seq - 1).unwrap_or(0)).await?;
    let pick = |id: Option<i64>| -> Option<ChatMessage> { rows.iter().find(|r| Some(r.id) == id).map(|r| r.to_chat_message(&links)) };
    let message = match &meta {
        Some(meta) => pick(Some(meta.message_id)),
        // The answer failed: the message is stored all the same, the user's newest.
        None => rows.iter().rev().find(|r| r.role == Role::Visitor).map(|r| r.to_chat_message(&links)),
    }
    .ok_or_else(|| ApiError::internal("the stored message was not found"))?;
    let replayed = meta.as_ref().is_some_and(|m| m.replayed);
    Ok((Replied { message, answer: pick(meta.and_then(|m| m.answer_id)) }, replayed))
}

/// Handles `GET /api/v1/app/conversations` (seed 003): the user's
/// conversations, newest activity first (a closed one stays listed).
#[utoipa::path(
    get,
    path = "/api/v1/app/conversations",
    tag = "app",
    security(("app_session" = [])),
    responses(
        (status = 200, description = "At most 100 conversations, newest activity first, with the last message, unread count, state and whether rated", body = AppConversationList),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_conversations(State(state): State<AppState>, user: AppUser) -> ApiResult<Json<AppConversationList>> {
    let conversations = app_db::list(&db::database(&state.env)?, user.visitor_id).await?;
    Ok(Json(AppConversationList { conversations }))
}

/// The client IP Cloudflare's edge saw.
fn client_ip(headers: &HeaderMap) -> Option<String> {
    headers.get("cf-connecting-ip").and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Handles `POST /api/v1/app/conversations` (seed 003, "Starting a
/// request"): a new conversation every time, except for a retry (`body`
/// with the `message_id` of a conversation this user started: that
/// conversation, nothing new stored). With `body`, its first message
/// is stored and answered (the answer is in the reply); with only `reason`,
/// the conversation opens from the topic alone, which operators see on the
/// conversation (not as a message). `meta` and the client IP are shown to
/// operators.
#[utoipa::path(
    post,
    path = "/api/v1/app/conversations",
    tag = "app",
    security(("app_session" = [])),
    request_body = StartRequest,
    responses(
        (status = 201, description = "The new conversation with its messages (the first message and its answer)", body = AppConversationDetail),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 422, description = "`validation_error`: neither `body` nor `reason`, a blank or over-long `body`, a topic over 100 characters, a `meta` field over 200, a malformed `message_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: AppUser,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<AppConversationDetail>)> {
    let request: StartRequest = json_object(&body)?;
    request.validate()?;
    let meta = RequestMeta { ip: client_ip(&headers), ..request.meta.clone().unwrap_or_default() };
    let db = db::database(&state.env)?;
    let message_id = request.body.as_ref().and(request.message_id.as_deref());
    let id = app_db::start(&db, user.site.id, user.visitor_id, request.reason.as_ref(), &meta, message_id).await?;
    let context = RoomContext { conversation_id: id, site_id: Some(user.site.id), account_id: user.site.account_id };
    match request.body {
        Some(body) => {
            // A retry writes again with the same client id: the Room replays
            // a stored message, or stores one the first attempt did not.
            write_user_message(&state, &user, context, body, &[], request.message_id).await?;
        }
        // Without a body there is no client id: a new conversation.
        None => {
            // No message announces it: operators learn of it now.
            crate::events::publish_conversation(&state.env, id).await;
            inbox::publish(&state.env, user.site.account_id, &LiveEvent::Conversation { conversation_id: id, site_id: Some(user.site.id) })
                .await?;
        }
    }
    Ok((StatusCode::CREATED, Json(detail(&db, &user, id, None).await?)))
}

/// Handles `GET /api/v1/app/conversations/{id}` (seed 003): the newest
/// [`DETAIL_MESSAGES`] messages (older ones with `before_seq`), the state
/// and the rating.
#[utoipa::path(
    get,
    path = "/api/v1/app/conversations/{id}",
    tag = "app",
    params(("id" = i64, Path, description = "Conversation id"), DetailQuery),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "The conversation with its newest 100 messages by `seq` (before `before_seq` when given; `has_more` when older ones remain) and the user's rating", body = AppConversationDetail),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of this user's conversations", body = ErrorBody),
        (status = 422, description = "`validation_error`: `before_seq` not an integer of 1 or more", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_conversation(
    State(state): State<AppState>,
    user: AppUser,
    Path(id): Path<i64>,
    Query(query): Query<DetailQuery>,
) -> ApiResult<Json<AppConversationDetail>> {
    query.validate()?;
    Ok(Json(detail(&db::database(&state.env)?, &user, id, query.before_seq).await?))
}

/// Unix milliseconds of an RFC 3339 time.
fn millis(time: &str) -> i64 {
    js_sys::Date::parse(time) as i64
}

/// Handles `GET /api/v1/app/conversations/{id}/poll?since=<ms>` (seed 003,
/// "Poll response"): messages created after `since` and the live state.
#[utoipa::path(
    get,
    path = "/api/v1/app/conversations/{id}/poll",
    tag = "app",
    params(("id" = i64, Path, description = "Conversation id"), PollQuery),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "New messages (at most 500) and the state; pass `latest_timestamp` as the next `since`", body = Poll),
        (status = 400, description = "`bad_request`: `since` is not an integer", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of this user's conversations", body = ErrorBody),
        (status = 422, description = "`validation_error`: `since` negative or past the year 9999", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_poll(
    State(state): State<AppState>,
    user: AppUser,
    Path(id): Path<i64>,
    query: Result<Query<PollQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Poll>> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let since = query.since.unwrap_or(0);
    if !(0..=253_402_300_799_999).contains(&since) {
        return Err(FieldError::new("since", "since must be Unix milliseconds").into());
    }
    let db = db::database(&state.env)?;
    let conversation = app_db::one(&db, user.visitor_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let links = FileLinks::of(&user.site);
    let rows = app_db::messages_since(&db, id, &rfc3339_millis(since)).await?;
    let latest_timestamp = rows.iter().map(|r| millis(&r.created_at)).max().unwrap_or(since).max(since);
    Ok(Json(Poll {
        messages: rows.iter().map(|m| m.to_chat_message(&links)).collect(),
        latest_timestamp,
        state: conversation.state,
        snoozed_until: conversation.snoozed_until,
        rated: conversation.rated,
    }))
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds.
fn rfc3339_millis(ms: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64)).to_iso_string().into()
}

/// Handles `POST /api/v1/app/conversations/{id}/read` (seed 003): clears
/// the unread badge; operators see the user's `read` mark live.
#[utoipa::path(
    post,
    path = "/api/v1/app/conversations/{id}/read",
    tag = "app",
    params(("id" = i64, Path, description = "Conversation id")),
    security(("app_session" = [])),
    responses(
        (status = 204, description = "Read up to the newest message"),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of this user's conversations", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_read(State(state): State<AppState>, user: AppUser, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let db = db::database(&state.env)?;
    let context = user.conversation(&db, id).await?;
    let seq = app_db::mark_read(&db, id).await?;
    if seq > 0 {
        context.signal(&state.env, &LiveEvent::Read { conversation_id: id, role: Role::Visitor, seq }).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Handles `POST /api/v1/app/conversations/{id}/close` (seed 003): the user
/// closes the request; `csat_due` tells the app to ask for a rating.
#[utoipa::path(
    post,
    path = "/api/v1/app/conversations/{id}/close",
    tag = "app",
    params(("id" = i64, Path, description = "Conversation id")),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "Closed (also when it was closed already); `csat_due` unless rated", body = Closed),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of this user's conversations", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_close(State(state): State<AppState>, user: AppUser, Path(id): Path<i64>) -> ApiResult<Json<Closed>> {
    let db = db::database(&state.env)?;
    let context = user.conversation(&db, id).await?;
    let before = app_db::one(&db, user.visitor_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let change = StateChange { status: Some(Status::Closed), ..Default::default() };
    conversations::change(&db, id, Some(user.site.account_id), change).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    if before.state != Status::Closed {
        crate::events::publish_conversation(&state.env, id).await;
        context.signal(&state.env, &LiveEvent::Status { conversation_id: id, status: Status::Closed }).await?;
    }
    Ok(Json(Closed { state: Status::Closed, csat_due: !before.rated }))
}

/// Handles `POST /api/v1/app/conversations/{id}/reply` (seed 003): a user
/// message (with the user's uploads), answered by the AI while it answers;
/// it reopens a closed conversation and wakes a snoozed one. A retry with
/// the same `message_id` stores nothing new and answers the stored message
/// and its answer.
#[utoipa::path(
    post,
    path = "/api/v1/app/conversations/{id}/reply",
    tag = "app",
    params(("id" = i64, Path, description = "Conversation id")),
    security(("app_session" = [])),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "The stored message and the AI's answer (`null` when an operator has the conversation or the answer failed)", body = Replied),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of this user's conversations", body = ErrorBody),
        (status = 422, description = "`validation_error`: blank or over-long `body` without attachments; more than 10 attachments, or one that is not this user's unattached upload (unless a retry); a malformed `message_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 30 writes a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn post_reply(
    State(state): State<AppState>,
    user: AppUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Replied>)> {
    let request: ReplyRequest = json_object(&body)?;
    request.validate()?;
    let db = db::database(&state.env)?;
    let context = user.conversation(&db, id).await?;
    let before = app_db::one(&db, user.visitor_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let (replied, replayed) = write_user_message(&state, &user, context, request.body, &request.attachment_ids, request.message_id).await?;
    if before.state == Status::Closed && !replayed {
        // A new message reopens a request the user or an operator closed.
        let change = StateChange { status: Some(Status::Open), ..Default::default() };
        conversations::change(&db, id, Some(user.site.account_id), change).await?;
        crate::events::publish_conversation(&state.env, id).await;
        context.signal(&state.env, &LiveEvent::Status { conversation_id: id, status: Status::Open }).await?;
    }
    Ok((StatusCode::CREATED, Json(replied)))
}

/// Query of `GET /api/v1/app/conversations/{id}/events`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppEventsQuery {
    /// Replay the messages after this `seq` first (`Last-Event-ID` wins).
    #[serde(default)]
    pub after_seq: Option<i64>,
}

/// Handles `GET /api/v1/app/conversations/{id}/events`: the user's live
/// channel of a conversation, the widget's event stream (`message` events
/// with `id: <seq>`, `typing`, `mode`, `read`, `status`; a heartbeat every
/// 20 s); a reconnect with `Last-Event-ID` replays what it missed. While it
/// is open the user counts as live (no push notification for this
/// conversation). It ends at the first heartbeat after the session does
/// (sign-out, expiry, a rotated identity secret) or the user is blocked.
#[utoipa::path(
    get,
    path = "/api/v1/app/conversations/{id}/events",
    tag = "app",
    params(("id" = i64, Path, description = "Conversation id"), AppEventsQuery, ("Last-Event-ID" = Option<i64>, Header, description = "The last message `seq` seen; wins over `after_seq`")),
    security(("app_session" = [])),
    responses(
        (status = 200, description = "SSE events named after their `type`; `message` events carry `id: <seq>`. Caps (README, \"Resource caps\"): at most 8 live streams per conversation, a 9th ends the oldest; a stream more than 32 live events behind its reader ends, and its reconnect with `Last-Event-ID` replays the rest.", content_type = "text/event-stream", body = LiveEvent),
        (status = 401, description = "`unauthorized`: no valid session token", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this user; `origin_not_allowed`", body = ErrorBody),
        (status = 404, description = "`not_found`: not one of this user's conversations", body = ErrorBody),
        (status = 422, description = "`validation_error`: a `Last-Event-ID` that is not a seq, a negative `after_seq`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 120 reads a minute for this user", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
)]
#[worker::send]
pub async fn get_events(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    user: AppUser,
    Path(id): Path<i64>,
    query: Result<Query<AppEventsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<axum::response::Response> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let last_event_id = match headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(id) if !id.is_empty() => Some(id.parse::<i64>().map_err(|_| FieldError::new("Last-Event-ID", "Last-Event-ID must be a seq"))?),
        _ => None,
    };
    let after_seq = last_event_id.or(query.after_seq).unwrap_or(0);
    if after_seq < 0 {
        return Err(FieldError::new("after_seq", "after_seq must not be negative").into());
    }
    let context = user.conversation(&db::database(&state.env)?, id).await?;
    let subscribe = Subscribe { context, after_seq, links: FileLinks::of(&user.site), app_session: Some(user.session_hash) };
    crate::runtime_stream::live_channel(&method, Box::pin(subscribe.call(&state.env))).await
}
