//! `/v1/chat/conversations…`, `/v1/chat/messages/send`, `/v1/chat/ai-active`,
//! `/v1/chat/users/{id}/block`, `/v1/chat/blocks` (seeds 002, 000, 003):
//! conversations as operators see and answer them.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use edgechat_shared::api::app::{SnoozeRequest, MAX_SNOOZE_DAYS};
use edgechat_shared::api::conversations::{
    Assignment, Block, BlockList, BlockRequest, ConversationDetail, ConversationFilter, ConversationList, ConversationSummary, MessageList,
    MessagePage, OperatorSend, SentMessage, Status,
};
use edgechat_shared::api::events::{LiveEvent, TypingRequest, UnreadCounts};
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::error::{ErrorBody, ErrorCode, FieldError};
use edgechat_shared::validate;
use serde::Deserialize;
use worker::D1Database;

use super::page_size;
use crate::auth::{Credential, CurrentOperator};
use crate::db::conversations::{self as conv_db, StateChange};
use crate::db::messages::{self, FileLinks};
use crate::db::{self, team as team_db, users};
use crate::error::{ApiError, ApiResult};
use crate::inbox;
use crate::room::{RoomContext, SendClaimedMessage, SendOperatorMessage};
use crate::routes::{json_object, AppState};

/// The caller's conversation `id`, or 404.
pub(super) async fn load(db: &D1Database, caller: &CurrentOperator, id: i64) -> ApiResult<ConversationSummary> {
    conv_db::summary(db, caller.id, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))
}

async fn list(state: &AppState, caller: &CurrentOperator, filter: &ConversationFilter) -> ApiResult<Json<ConversationList>> {
    let limit = page_size(filter.limit)?;
    let assignee = match filter.assignee.as_deref() {
        None => None,
        Some("me") => Some(Some(caller.id)),
        Some("none") => Some(None),
        Some(id) => Some(Some(id.parse().map_err(|_| FieldError::new("assignee", "assignee must be an operator id, 'me' or 'none'"))?)),
    };
    let after = match filter.cursor.as_deref() {
        None => None,
        Some(cursor) => Some(conv_db::decode_cursor(cursor).ok_or_else(|| FieldError::new("cursor", "cursor is not one this API gave"))?),
    };
    let participant_only = match filter.participant.as_deref() {
        None => false,
        Some("me") => true,
        Some(_) => return Err(FieldError::new("participant", "participant must be 'me'").into()),
    };
    let db = db::database(&state.env)?;
    let (conversations, more) = conv_db::list(&db, caller.id, caller.account_id, filter, assignee, participant_only, after, limit).await?;
    let next_cursor = if more { conversations.last().map(conv_db::encode_cursor) } else { None };
    Ok(Json(ConversationList { conversations, next_cursor }))
}

/// Handles the `GET /v1/chat/conversations` route: filters `site_id`,
/// `status`, `mode`, `assignee` (id, `me`, `none`), `kind`, `archived=true`
/// (only the caller's archived ones; otherwise those are left out, as are
/// those the caller deleted `for_me` until their next message),
/// `participant=me`; newest activity first; cursor pagination (`limit` 1
/// to 100). 422 for a bad filter or cursor.
#[utoipa::path(
    get,
    path = "/v1/chat/conversations",
    params(ConversationFilter),
    responses(
        (status = 200, description = "A page of conversations, newest activity first", body = ConversationList),
        (status = 422, description = "`validation_error`: a bad filter (`participant` other than `me`), cursor or `limit` (1 to 100)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_conversations(
    State(state): State<AppState>,
    caller: CurrentOperator,
    filter: Result<Query<ConversationFilter>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ConversationList>> {
    let Query(filter) = filter.map_err(|e| FieldError::new("query", e.body_text()))?;
    list(&state, &caller, &filter).await
}

/// Handles the `GET /v1/chat/ai-active` route (seed 000): open
/// conversations the AI is answering, for supervision.
#[utoipa::path(
    get,
    path = "/v1/chat/ai-active",
    responses(
        (status = 200, description = "Open conversations the AI is answering (up to 100)", body = ConversationList),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_ai_active(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<ConversationList>> {
    let filter = ConversationFilter { status: Some(Status::Open), mode: Some(Mode::Ai), limit: Some(100), ..Default::default() };
    list(&state, &caller, &filter).await
}

/// Handles the `GET /v1/chat/conversations/{id}` route: the conversation as
/// listed, plus the page the visitor last wrote from and their CSAT rating
/// and comment (the console's side panel, issue 11).
#[utoipa::path(
    get,
    path = "/v1/chat/conversations/{id}",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation, with the visitor's page and CSAT rating", body = ConversationDetail),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_conversation(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationDetail>> {
    let db = db::database(&state.env)?;
    let detail = conv_db::detail(&db, caller.id, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    Ok(Json(detail))
}

/// Handles the `GET /v1/chat/conversations/{id}/messages` route: pages by
/// `seq` (`after_seq` forward, `before_seq` backward, neither: newest).
#[utoipa::path(
    get,
    path = "/v1/chat/conversations/{id}/messages",
    params(("id" = i64, Path, description = "Conversation id"), MessagePage),
    responses(
        (status = 200, description = "A page of messages in `seq` order", body = MessageList),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad `before_seq`, `after_seq` or `limit` (1 to 100)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_messages(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    page: Result<Query<MessagePage>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<MessageList>> {
    let Query(page) = page.map_err(|e| FieldError::new("query", e.body_text()))?;
    let limit = page_size(page.limit)?;
    let db = db::database(&state.env)?;
    let conversation = load(&db, &caller, id).await?;
    let (rows, has_more) = messages::page(&db, conversation.id, page.before_seq, page.after_seq, limit).await?;
    let links = file_links(&state.env, &db, &conversation).await?;
    let mut messages: Vec<_> = rows.iter().map(|m| m.to_chat_message(&links)).collect();
    db::edits::fill_reactions(&db, &mut messages, db::edits::Reactor::Operator(caller.id)).await?;
    Ok(Json(MessageList { messages, has_more }))
}

/// Handles the `POST /v1/chat/messages/send` route: an operator reply,
/// written by the conversation's Room (next `seq`, deduped by `message_id`),
/// signed with the operator's display name. 201 [`SentMessage`].
#[utoipa::path(
    post,
    path = "/v1/chat/messages/send",
    request_body = OperatorSend,
    responses(
        (status = 201, description = "The stored reply (`duplicate` when this `message_id` was already stored)", body = SentMessage),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation in the caller's account; an `attachments` id that is not an operator upload of the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank (without attachments) or over-long `content`, a malformed `message_id`, more than `MAX_FILES_PER_MSG` attachments, an upload already attached or made for another site's conversation", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_send(State(state): State<AppState>, credential: Credential, body: Bytes) -> ApiResult<(StatusCode, Json<SentMessage>)> {
    // A signed-in operator's valid reply without attachments, to a
    // conversation whose Room serves it already: one D1 round trip, the
    // write checking the token's claims (issue 16). Anything else, or a
    // write those claims no longer allow, takes the checked path below.
    if let (Some(claims), Ok(send)) = (credential.claims(), json_object::<OperatorSend>(&body)) {
        if send.attachments.is_empty() && send.validate().is_ok() {
            let claimed = SendClaimedMessage::new(send.conversation_id, claims, send.content, send.message_id);
            if let Some(sent) = claimed.call(&state.env).await? {
                return Ok((StatusCode::CREATED, Json(sent)));
            }
        }
    }
    let db = db::database(&state.env)?;
    // The operator, the conversation and its site's file links in one D1
    // round trip; a refused operator is 401 before any fault of the body.
    let (caller, send, target) = credential
        .operator_with(&db, |user_id, account_id| {
            let send = json_object::<OperatorSend>(&body);
            let reads = match &send {
                Ok(send) => conv_db::send_target_statements(&db, user_id, account_id, send.conversation_id)?,
                Err(_) => Vec::new(),
            };
            Ok((send, reads))
        })
        .await?;
    let send = send?;
    send.validate()?;
    let (site_id, site) = conv_db::send_target(&target)?.ok_or_else(|| ApiError::not_found("conversation"))?;
    let links = match (site_id, site) {
        (Some(_), Some(site)) => FileLinks::of(&site),
        (Some(_), None) => return Err(ApiError::not_found("conversation")),
        (None, _) => super::media::links_for(&state.env, &db, None).await?,
    };
    let attachments = super::media::operator_attachments(&state.env, &db, &caller, site_id, &links, &send.attachments).await?;
    let sent = SendOperatorMessage {
        context: RoomContext { conversation_id: send.conversation_id, site_id, account_id: caller.account_id },
        content: send.content,
        author_id: caller.id,
        author_name: caller.display_name.clone(),
        client_message_id: send.message_id,
        links,
        attachments,
    }
    .call(&state.env)
    .await?;
    Ok((StatusCode::CREATED, Json(sent)))
}

/// How the conversation's files are signed (its site's secret, or for an
/// internal conversation the worker's own file-link key).
async fn file_links(env: &worker::Env, db: &D1Database, conversation: &ConversationSummary) -> ApiResult<FileLinks> {
    super::media::links_for(env, db, conversation.site_id).await
}

pub(super) fn room_context(caller: &CurrentOperator, conversation: &ConversationSummary) -> RoomContext {
    RoomContext { conversation_id: conversation.id, site_id: conversation.site_id, account_id: caller.account_id }
}

/// Runs `change` on the caller's conversation `id`, announces the new mode
/// or status live (visitor stream and operators), and answers the conversation.
async fn change_state<F, Fut>(state: &AppState, caller: &CurrentOperator, id: i64, change: F) -> ApiResult<Json<ConversationSummary>>
where
    F: FnOnce(D1Database) -> Fut,
    Fut: std::future::Future<Output = worker::Result<bool>>,
{
    let db = db::database(&state.env)?;
    let before = load(&db, caller, id).await?;
    if !change(db::database(&state.env)?).await? {
        return Err(ApiError::not_found("conversation"));
    }
    crate::events::publish_conversation(&state.env, id).await;
    let after = load(&db, caller, id).await?;
    let room = room_context(caller, &after);
    if after.mode != before.mode {
        let event = LiveEvent::Mode { conversation_id: id, mode: after.mode, author_name: Some(caller.display_name.clone()) };
        room.signal(&state.env, &event).await?;
    }
    if after.status != before.status {
        room.signal(&state.env, &LiveEvent::Status { conversation_id: id, status: after.status }).await?;
    }
    if after.assignee_id != before.assignee_id {
        let event =
            LiveEvent::Assignment { conversation_id: id, assignee_id: after.assignee_id, author_name: Some(caller.display_name.clone()) };
        inbox::publish(&state.env, caller.account_id, &event).await?;
        if let Some(assignee) = after.assignee_id {
            // The assignee takes part in the conversation (seed 002
            // participants); the `assignment` event says so, and stays the
            // one event of an assignment (issue 12: assignment stays as it is).
            team_db::ensure_participant(&db, id, assignee, Some(caller.id)).await?;
        }
    }
    Ok(Json(after))
}

/// Handles the `POST /v1/chat/conversations/{id}/takeover` route (seed 000):
/// mode `operator`, the AI stops answering; assigned to the caller if unassigned.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/takeover",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "In `operator` mode (the AI stops answering), assigned to the caller if it was unassigned; the change is announced live", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_takeover(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    let (account, user) = (caller.account_id, caller.id);
    let change = StateChange { mode: Some(Mode::Operator), assign_if_unassigned: Some(user), ..Default::default() };
    change_state(&state, &caller, id, |db| async move { Ok(conv_db::change(&db, id, Some(account), change).await?.is_some()) }).await
}

/// Handles the `POST /v1/chat/conversations/{id}/handback` route: mode `ai`.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/handback",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "In `ai` mode again; the change is announced live", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_handback(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    let account = caller.account_id;
    let change = StateChange { mode: Some(Mode::Ai), ..Default::default() };
    change_state(&state, &caller, id, |db| async move { Ok(conv_db::change(&db, id, Some(account), change).await?.is_some()) }).await
}

/// Handles the `POST /v1/chat/conversations/{id}/close` route (seed 003).
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/close",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "Closed; the change is announced live", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_close(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    let account = caller.account_id;
    let change = StateChange { status: Some(Status::Closed), ..Default::default() };
    change_state(&state, &caller, id, |db| async move { Ok(conv_db::change(&db, id, Some(account), change).await?.is_some()) }).await
}

/// Handles the `POST /v1/chat/conversations/{id}/snooze` route (issue 14):
/// status `snoozed` until `until`, when the conversation's Room reopens it
/// by itself (a Durable Object alarm, [`crate::room::Snooze`]); a message
/// of the visitor reopens it at once. Snoozing again moves the time.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/snooze",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = SnoozeRequest,
    responses(
        (status = 200, description = "Snoozed (`status` `snoozed`, `snoozed_until`); the change is announced live", body = ConversationSummary),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such visitor conversation in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: `until` is not an ISO 8601 time with a zone, not in the future, or more than 365 days ahead", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_snooze(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ConversationSummary>> {
    let request: SnoozeRequest = json_object(&body)?;
    let until = validate::iso8601_utc(&request.until)
        .map_err(|_| FieldError::new("until", "until must be an ISO 8601 time such as 2026-12-24T09:00:00Z"))?;
    let until_ms = js_sys::Date::parse(&until) as i64;
    let now_ms = js_sys::Date::now() as i64;
    if until_ms <= now_ms || until_ms > now_ms + MAX_SNOOZE_DAYS * 86_400_000 {
        return Err(FieldError::new("until", format!("until must be in the future and at most {MAX_SNOOZE_DAYS} days ahead")).into());
    }
    let db = db::database(&state.env)?;
    let before = load(&db, &caller, id).await?;
    conv_db::snooze(&db, id, caller.account_id, &until).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
    crate::events::publish_conversation(&state.env, id).await;
    let room = room_context(&caller, &before);
    crate::room::Snooze { context: room, until_ms }.call(&state.env).await?;
    Ok(Json(load(&db, &caller, id).await?))
}

/// Handles the `POST /v1/chat/conversations/{id}/reopen` route.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/reopen",
    params(("id" = i64, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "Open again; the change is announced live", body = ConversationSummary),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_reopen(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationSummary>> {
    let account = caller.account_id;
    let change = StateChange { status: Some(Status::Open), ..Default::default() };
    change_state(&state, &caller, id, |db| async move { Ok(conv_db::change(&db, id, Some(account), change).await?.is_some()) }).await
}

/// Handles the `POST /v1/chat/conversations/{id}/assign` route:
/// `{"assignee_id": id | null}`; the assignee must be an operator of the
/// caller's account (404 otherwise) and becomes a participant.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/assign",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body = Assignment,
    responses(
        (status = 200, description = "Assigned (or unassigned with `null`); the assignee becomes a participant", body = ConversationSummary),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation, or no such operator, in the caller's account", body = ErrorBody),
        (status = 409, description = "`conflict`: a staff DM assigned to an operator who is not one of its two", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_assign(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ConversationSummary>> {
    let assignment: Assignment = json_object(&body)?;
    let db = db::database(&state.env)?;
    if let Some(assignee) = assignment.assignee_id {
        let operator = users::user(&db, caller.account_id, assignee).await?.ok_or_else(|| ApiError::not_found("operator"))?;
        // The assignee becomes a participant: a staff DM takes no third
        // operator this way either (as `POST …/participants`). Checked
        // once the caller may see the conversation, so a DM stays 404 to others.
        load(&db, &caller, id).await?;
        if let Some(pair) = team_db::dm_key_of(&db, caller.account_id, id).await? {
            if !super::team::in_dm(&pair, operator.id) {
                return Err(super::team::dm_stays_between_two());
            }
        }
    }
    let account = caller.account_id;
    change_state(&state, &caller, id, |db| async move { conv_db::assign(&db, account, id, assignment.assignee_id).await }).await
}

/// Body of `POST /v1/chat/conversations/{id}/read`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ReadMark {
    /// Read up to this `seq`; absent means every message.
    #[serde(default)]
    pub seq: Option<i64>,
}

/// Handles the `POST /v1/chat/conversations/{id}/read` route (seed 002):
/// marks the conversation read by the caller up to `seq`.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/read",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body(content = Option<ReadMark>, description = "Optional: without a body, every message is read"),
    responses(
        (status = 200, description = "Read by the caller up to `seq`; the visitor receives a `read` event", body = ConversationSummary),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: a negative `seq`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_read(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<ConversationSummary>> {
    let mark: ReadMark = if body.is_empty() { ReadMark::default() } else { json_object(&body)? };
    if mark.seq.is_some_and(|s| s < 0) {
        return Err(FieldError::new("seq", "seq must not be negative").into());
    }
    let db = db::database(&state.env)?;
    let conversation = load(&db, &caller, id).await?;
    let seq = conv_db::mark_read(&db, conversation.id, caller.id, mark.seq).await?;
    let event = LiveEvent::Read { conversation_id: id, role: Role::Operator, seq };
    room_context(&caller, &conversation).signal(&state.env, &event).await?;
    Ok(Json(load(&db, &caller, id).await?))
}

/// Handles the `POST /v1/chat/conversations/{id}/typing` route (seed 002):
/// `{"typing": true|false}`; the visitor sees a typing indicator with the
/// operator's name. 204.
#[utoipa::path(
    post,
    path = "/v1/chat/conversations/{id}/typing",
    params(("id" = i64, Path, description = "Conversation id")),
    request_body(content = Option<TypingRequest>, description = "Optional: without a body, `typing` is true"),
    responses(
        (status = 204, description = "The visitor sees a typing indicator with the caller's name"),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_typing(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let request: TypingRequest = if body.is_empty() { TypingRequest { typing: true, ..Default::default() } } else { json_object(&body)? };
    let db = db::database(&state.env)?;
    let conversation = load(&db, &caller, id).await?;
    let event = LiveEvent::Typing {
        conversation_id: id,
        role: Role::Operator,
        typing: request.typing,
        author_name: Some(caller.display_name.clone()),
    };
    room_context(&caller, &conversation).signal(&state.env, &event).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `GET /v1/chat/conversations/unread` route (seed 002):
/// per-conversation counts of visitor messages the caller has not read.
#[utoipa::path(
    get,
    path = "/v1/chat/conversations/unread",
    responses(
        (status = 200, description = "The caller's unread visitor messages per conversation", body = UnreadCounts),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_unread(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<UnreadCounts>> {
    let conversations = conv_db::unread_counts(&db::database(&state.env)?, caller.id, caller.account_id).await?;
    let total = conversations.iter().map(|c| c.unread_count).sum();
    Ok(Json(UnreadCounts { conversations, total }))
}

/// Handles the `POST /v1/chat/users/{id}/block` route (seed 002): blocks a
/// visitor; their widget calls then answer 403 `blocked`.
#[utoipa::path(
    post,
    path = "/v1/chat/users/{id}/block",
    params(("id" = i64, Path, description = "Visitor id (`visitor.id` of a conversation)")),
    request_body(content = Option<BlockRequest>, description = "Optional"),
    responses(
        (status = 200, description = "Blocked: the visitor's widget calls answer 403 `blocked`", body = Block),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such visitor in the caller's account", body = ErrorBody),
        (status = 422, description = "`validation_error`: `reason` over 500 characters", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_block(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
    body: Bytes,
) -> ApiResult<Json<Block>> {
    let request: BlockRequest = if body.is_empty() { BlockRequest::default() } else { json_object(&body)? };
    if request.reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(FieldError::new("reason", "reason must be at most 500 characters").into());
    }
    let db = db::database(&state.env)?;
    let block = conv_db::set_blocked(&db, caller.account_id, id, true, request.reason.as_deref()).await?;
    let block = block.ok_or_else(|| ApiError::not_found("visitor"))?;
    announce_block(&state, &db, &caller, id, true).await?;
    Ok(Json(block))
}

/// Tells every operator of the account, per conversation of visitor
/// `visitor_id`, that the visitor is now `blocked` or not, through the
/// conversation's Room: a block also ends the visitor's open live streams
/// there (a live channel does not outlive the permission that opened it).
/// Best effort: the block is stored already, a Room that fails is logged
/// (a deleted conversation's is not: nobody streams it), and its streams
/// end at its next heartbeat, which checks the block too. (One after the
/// other: a visitor has one conversation or a few.)
async fn announce_block(state: &AppState, db: &D1Database, caller: &CurrentOperator, visitor_id: i64, blocked: bool) -> ApiResult<()> {
    for (conversation_id, site_id) in conv_db::ids_of_visitor(db, caller.account_id, visitor_id).await? {
        let context = RoomContext { conversation_id, site_id, account_id: caller.account_id };
        if let Err(err) = context.signal(&state.env, &LiveEvent::VisitorBlocked { conversation_id, visitor_id, blocked }).await {
            if err.code != ErrorCode::NotFound {
                worker::console_error!("telling the room of conversation {conversation_id} of a block failed: {}", err.message);
            }
        }
    }
    Ok(())
}

/// Handles the `DELETE /v1/chat/users/{id}/block` route: unblocks a visitor. 204.
#[utoipa::path(
    delete,
    path = "/v1/chat/users/{id}/block",
    params(("id" = i64, Path, description = "Visitor id (`visitor.id` of a conversation)")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 404, description = "`not_found`: no such visitor in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_block(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let db = db::database(&state.env)?;
    conv_db::set_blocked(&db, caller.account_id, id, false, None).await?.ok_or_else(|| ApiError::not_found("visitor"))?;
    announce_block(&state, &db, &caller, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Handles the `GET /v1/chat/blocks` route: the account's blocked visitors.
#[utoipa::path(
    get,
    path = "/v1/chat/blocks",
    responses(
        (status = 200, description = "The account's blocked visitors, newest first", body = BlockList),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_blocks(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<BlockList>> {
    Ok(Json(BlockList { blocks: conv_db::blocks(&db::database(&state.env)?, caller.account_id).await? }))
}
