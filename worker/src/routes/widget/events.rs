//! `GET /api/v1/chat/events` (visitor live channel), `GET
//! /api/v1/chat/operator-messages` (its polling fallback, seed 001), and the
//! visitor's `POST /api/v1/chat/typing` and `POST /api/v1/chat/read`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use edgechat_shared::api::events::{EventsQuery, LiveEvent, OperatorMessages, OperatorMessagesQuery, TypingRequest, VisitorRead};
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::error::FieldError;

use super::{load_visitor, Caller, Limit};
use crate::db::{self, conversations, messages};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles the `GET /api/v1/chat/events` route: a `text/event-stream` for a
/// plain `EventSource`. Each `message` event carries `id: <seq>`; a reconnect
/// with `Last-Event-ID` (or `?after_seq=`) replays exactly the messages after
/// it, then continues live. Also `typing`, `mode`, `read` and `status`
/// events, a `retry:` hint and a comment heartbeat every 20 s.
#[worker::send]
pub async fn get_events(State(state): State<AppState>, caller: Caller, Query(query): Query<EventsQuery>) -> ApiResult<Response> {
    let last_event_id = match caller.headers.get("last-event-id").and_then(|v| v.to_str().ok()) {
        Some(id) if !id.is_empty() => Some(id.parse::<i64>().map_err(|_| FieldError::new("Last-Event-ID", "Last-Event-ID must be a seq"))?),
        _ => None,
    };
    let after_seq = last_event_id.or(query.after_seq).unwrap_or(0);
    if after_seq < 0 {
        return Err(FieldError::new("after_seq", "after_seq must not be negative").into());
    }
    let visitor = load_visitor(&state.env, &caller, Limit::Read("events"), &query.site_key, &query.session_id).await?;
    Ok(visitor.conversation()?.subscribe(&state.env, after_seq, visitor.file_links()).await?.into())
}

/// Handles the `GET /api/v1/chat/operator-messages` route (seed 001): the
/// operator messages after `since` (a seq) and the current mode, for
/// clients that poll instead of holding the event stream.
#[worker::send]
pub async fn get_operator_messages(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<OperatorMessagesQuery>,
) -> ApiResult<Json<OperatorMessages>> {
    let visitor = load_visitor(&state.env, &caller, Limit::Read("operator-messages"), &query.site_key, &query.session_id).await?;
    let db = db::database(&state.env)?;
    let Some(conversation_id) = visitor.conversation_id else {
        return Ok(Json(OperatorMessages { success: true, messages: Vec::new(), mode: Mode::Ai }));
    };
    let rows = messages::operator_messages_after(&db, conversation_id, query.since.unwrap_or(0)).await?;
    let mode = conversations::state(&db, conversation_id).await?.map_or(Mode::Ai, |state| state.mode);
    Ok(Json(OperatorMessages { success: true, messages: rows.iter().map(|m| m.to_chat_message(&visitor.file_links())).collect(), mode }))
}

/// Handles the `POST /api/v1/chat/typing` route: the visitor is typing (or
/// stopped); operators receive a `typing` event. 204.
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
