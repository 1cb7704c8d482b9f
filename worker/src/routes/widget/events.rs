//! `GET /api/v1/chat/events` (visitor live channel), `GET
//! /api/v1/chat/operator-messages` (its polling fallback, seed 001), and the
//! visitor's `POST /api/v1/chat/typing` and `POST /api/v1/chat/read`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::Json;
use edgechat_shared::api::events::{
    EventsQuery, LiveEvent, OperatorMessages, OperatorMessagesQuery, TypingRequest, VisitorRead, OPERATOR_MESSAGES_PAGE,
};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::error::{ErrorBody, FieldError};

use super::{load_visitor, Caller, Limit};
use crate::db::{self, conversations, messages};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles the `GET /api/v1/chat/events` route: a `text/event-stream` for a
/// plain `EventSource`. Each `message` event carries `id: <seq>`; a reconnect
/// with `Last-Event-ID` (or `?after_seq=`) replays exactly the messages after
/// it, then continues live. Also `typing`, `mode`, `read` and `status`
/// events, a `retry:` hint and a comment heartbeat every 20 s. Bounded by
/// [`edgechat_shared::limits::LIVE_STREAMS_PER_CONVERSATION`] and
/// [`edgechat_shared::limits::LIVE_BUFFER_EVENTS`] (see the Room's live fan-out).
#[utoipa::path(
    get,
    path = "/api/v1/chat/events",
    params(EventsQuery, IdentityQuery, ("Last-Event-ID" = Option<i64>, Header, description = "The last message `seq` seen; wins over `after_seq`")),
    responses(
        (status = 200, description = "The visitor's live channel for a plain `EventSource`: a `retry:` hint, then SSE events named after their `type` (`message` events carry `id: <seq>`), and a comment heartbeat every 20 s. A reconnect with `Last-Event-ID` or `after_seq` first replays the messages after it. Caps (README, \"Resource caps\"): at most 8 live streams per conversation, a 9th ends the oldest; a stream more than 32 live events behind its reader ends, and its reconnect with `Last-Event-ID` replays the rest.", content_type = "text/event-stream", body = LiveEvent),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`, a `Last-Event-ID` that is not a seq, a negative `after_seq`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn get_events(
    State(state): State<AppState>,
    method: Method,
    caller: Caller,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Response> {
    let last_event_id = match caller.headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(id) if !id.is_empty() => Some(id.parse::<i64>().map_err(|_| FieldError::new("Last-Event-ID", "Last-Event-ID must be a seq"))?),
        _ => None,
    };
    let after_seq = last_event_id.or(query.after_seq).unwrap_or(0);
    if after_seq < 0 {
        return Err(FieldError::new("after_seq", "after_seq must not be negative").into());
    }
    let visitor = load_visitor(&state.env, &caller, Limit::Read("events"), &query.site_key, &query.session_id).await?;
    let conversation = visitor.conversation()?;
    crate::runtime_stream::live_channel(&method, Box::pin(conversation.subscribe(&state.env, after_seq, visitor.file_links()))).await
}

/// Handles the `GET /api/v1/chat/operator-messages` route (seed 001): the
/// operator messages after `since` (a seq), at most
/// [`OPERATOR_MESSAGES_PAGE`] (`has_more` when more follow), and the
/// current mode, for clients that poll instead of holding the event stream.
#[utoipa::path(
    get,
    path = "/api/v1/chat/operator-messages",
    params(OperatorMessagesQuery, IdentityQuery),
    responses(
        (status = 200, description = "Operator messages after `since`, at most 100 (`has_more` when more follow: ask again with `since` = the last `seq`), and the conversation's mode", body = OperatorMessages),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`, `since` not an integer, or `user_id` over 128 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn get_operator_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OperatorMessagesQuery>,
) -> ApiResult<Json<OperatorMessages>> {
    let visitor = load_visitor(&state.env, &caller, Limit::Read("operator-messages"), &query.site_key, &query.session_id).await?;
    let db = db::database(&state.env)?;
    let Some(conversation_id) = visitor.conversation_id else {
        return Ok(Json(OperatorMessages { success: true, messages: Vec::new(), mode: Mode::Ai, has_more: false }));
    };
    let (rows, has_more) =
        messages::operator_messages_after(&db, conversation_id, query.since.unwrap_or(0), OPERATOR_MESSAGES_PAGE).await?;
    let mode = conversations::state(&db, conversation_id).await?.map_or(Mode::Ai, |state| state.mode);
    let messages = rows.iter().map(|m| m.to_chat_message(&visitor.file_links())).collect();
    Ok(Json(OperatorMessages { success: true, messages, mode, has_more }))
}

/// Handles the `POST /api/v1/chat/typing` route: the visitor is typing (or
/// stopped); operators receive a `typing` event. 204.
#[utoipa::path(
    post,
    path = "/api/v1/chat/typing",
    params(IdentityQuery),
    request_body = TypingRequest,
    responses(
        (status = 204, description = "Operators receive a `typing` event"),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: malformed `site_key` or `session_id`, or `user_id` over 128 characters", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_typing(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<StatusCode> {
    let request: TypingRequest = json_object(&body)?;
    let room = load_visitor(&state.env, &caller, Limit::Read("typing"), &request.site_key, &request.session_id).await?.conversation()?;
    let event = LiveEvent::Typing { conversation_id: room.conversation_id, role: Role::Visitor, typing: request.typing, author_name: None };
    room.signal(&state.env, &event).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `POST /api/v1/chat/read` route: the visitor has read the
/// operators' messages up to `seq`; they move to status `read` and
/// operators receive a `read` event. 204.
#[utoipa::path(
    post,
    path = "/api/v1/chat/read",
    params(IdentityQuery),
    request_body = VisitorRead,
    responses(
        (status = 204, description = "The operators' messages up to `seq` are `read`; operators receive a `read` event"),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: `seq` below 1, malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_read(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<StatusCode> {
    let request: VisitorRead = json_object(&body)?;
    if request.seq < 1 {
        return Err(FieldError::new("seq", "seq must be a message seq (1 or more)").into());
    }
    let room = load_visitor(&state.env, &caller, Limit::Read("read"), &request.site_key, &request.session_id).await?.conversation()?;
    let event = LiveEvent::Read { conversation_id: room.conversation_id, role: Role::Visitor, seq: request.seq };
    room.signal(&state.env, &event).await?;
    Ok(StatusCode::NO_CONTENT)
}
