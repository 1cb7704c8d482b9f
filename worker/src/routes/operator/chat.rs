//! Seed 000's `/v1/chat/*` routes for integrations (issue 13): history by
//! chat id, messages by person, save (import without the live channel),
//! status update, live post as a participant, and one message by id.
//!
//! Chat ids ([`ChatId`]) resolve to a conversation the caller may see
//! (db::chat); a malformed id is 422, an id that names nothing the caller
//! may see is 404 `not_found`, like another account's.

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::chat::{
    by_user_limit, decode_cursor, encode_cursor, ByUserQuery, ChatHistory, ConversationMessage, HistoryQuery, LivePost, SaveMessage,
    SavedMessage, SenderRole, UpdateMessage, UpdatedMessage, UserMessages, MAX_HISTORY_MESSAGES,
};
use edgechat_shared::api::chat::{status_rank, MessageKey};
use edgechat_shared::api::uploads::UploadResponse;
use edgechat_shared::chat_id::ChatId;
use edgechat_shared::error::{ErrorBody, FieldError};
use edgechat_shared::upload::{self, Refusal};
use edgechat_shared::validate;
use worker::{D1Database, FormEntry, HttpMetadata};

use super::media::links_for;
use crate::auth::CurrentOperator;
use crate::db::chat::{self as chat_db, Chat, Create, Import};
use crate::db::messages::{self, Author};
use crate::db::uploads::{self as upload_db, NewUpload};
use crate::db::{self, search};
use crate::error::{ApiError, ApiResult};
use crate::events;
use crate::room::{RoomContext, SendOperatorMessage, SendVisitorMessage};
use crate::routes::widget::{self, uploads, Caller, Limit};
use crate::routes::{json_object, AppState};

/// Parses a chat id of the path (422 when malformed).
fn chat_id(raw: &str) -> ApiResult<ChatId> {
    Ok(ChatId::parse(raw)?)
}

/// The caller's chat `id`, or 404.
async fn load(db: &D1Database, caller: &CurrentOperator, id: &ChatId) -> ApiResult<Chat> {
    chat_db::resolve(db, caller.id, caller.account_id, id, Create::No).await?.ok_or_else(|| ApiError::not_found("chat"))
}

fn room(caller: &CurrentOperator, chat: &Chat) -> RoomContext {
    RoomContext { conversation_id: chat.conversation_id, site_id: chat.site_id, account_id: caller.account_id }
}

/// Handles the `GET /v1/chat/history/{chat_id}` route (seed 000 "History
/// by chat"): every message of the conversation the chat id names, by
/// `seq` (chronological), at most 1000 per answer; `next_after_seq` pages on.
#[utoipa::path(
    get,
    path = "/v1/chat/history/{chat_id}",
    params(("chat_id" = String, Path, description = "`customer:{email}`, `customer:{session_id}:{email}`, `{emailA}|{emailB}` or an external id"), HistoryQuery),
    responses(
        (status = 200, description = "The messages by `seq`; `next_after_seq` when more follow", body = ChatHistory),
        (status = 404, description = "`not_found`: the chat id names no conversation the caller may see", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed chat id or a negative `after_seq`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_history(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(raw): Path<String>,
    query: Result<Query<HistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<ChatHistory>> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    let id = chat_id(&raw)?;
    let after_seq = query.after_seq.unwrap_or(0);
    if after_seq < 0 {
        return Err(FieldError::new("after_seq", "after_seq must be 0 or more").into());
    }
    let db = db::database(&state.env)?;
    let chat = load(&db, &caller, &id).await?;
    let (rows, more) = messages::page(&db, chat.conversation_id, None, Some(after_seq), MAX_HISTORY_MESSAGES).await?;
    let links = links_for(&state.env, &db, chat.site_id).await?;
    let messages: Vec<_> = rows.iter().map(|m| m.to_chat_message(&links)).collect();
    let next_after_seq = if more { messages.last().map(|m| m.seq) } else { None };
    Ok(Json(ChatHistory { chat_id: raw, conversation_id: chat.conversation_id, messages, next_after_seq }))
}

/// Handles the `GET /v1/chat/messages/by-user/{email}` route (seed 000
/// "History by user"): the messages where that person is the sender or the
/// recipient (a customer's conversations; an operator's own messages and
/// internal conversations), created after `created_after`, oldest first,
/// in pages of `limit` (default 100, at most 200) continued by `cursor`.
#[utoipa::path(
    get,
    path = "/v1/chat/messages/by-user/{email}",
    params(("email" = String, Path, description = "The person's email"), ByUserQuery),
    responses(
        (status = 200, description = "Messages with their conversation, oldest first; `next_cursor` when more follow", body = UserMessages),
        (status = 422, description = "`validation_error`: a bad email, `created_after` not ISO 8601, a `cursor` this route did not answer, `limit` not 1 to 200", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_by_user(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(email): Path<String>,
    query: Result<Query<ByUserQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<UserMessages>> {
    let Query(query) = query.map_err(|e| FieldError::new("query", e.body_text()))?;
    validate::email(&email)?;
    let since = query
        .created_after
        .as_deref()
        .map(|at| validate::iso8601_utc(at).map_err(|_| FieldError::new("created_after", "created_after must be an ISO 8601 time")))
        .transpose()?;
    let cursor = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let limit = by_user_limit(query.limit)?;
    let db = db::database(&state.env)?;
    let mut rows = chat_db::by_user(
        &db,
        caller.id,
        caller.account_id,
        &email,
        since.as_deref(),
        cursor.as_ref().map(|(at, id)| (at.as_str(), *id)),
        limit,
    )
    .await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| encode_cursor(&r.row.created_at, r.row.id)) } else { None };
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        let links = links_for(&state.env, &db, row.site_id).await?;
        messages.push(ConversationMessage { conversation_id: row.conversation_id, message: row.row.to_chat_message(&links) });
    }
    Ok(Json(UserMessages { messages, next_cursor }))
}

/// Handles the `POST /v1/chat/save/{chat_id}` route (seed 000 "Save a
/// message"): stores a message without the live channel (no live event;
/// visitors and operators see it when they next read), e.g. to import
/// history. `sent_time` (ms) becomes `created_at`, and the message takes
/// the conversation's next `seq` whatever its time: import in
/// chronological order to keep both orders the same. `sender_role`
/// `customer` → `visitor`, `agent` → `operator` (signed by the operator
/// whose email is `from`, another than the caller for admins only; else by `from`), `ai` → `ai`, `system` →
/// `operator` signed `System`. A chat id that names nothing yet starts a
/// conversation (see db::chat). Emits `message.created` (outbox, same D1
/// batch). A retry with the same `message_id` and sender stores nothing new.
#[utoipa::path(
    post,
    path = "/v1/chat/save/{chat_id}",
    params(("chat_id" = String, Path, description = "A chat id (seed 000)")),
    request_body = SaveMessage,
    responses(
        (status = 201, description = "The stored message (`duplicate` when this `message_id` was stored before)", body = SavedMessage),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: `sender_role` agent with `from` naming another operator of the account needs the admin role (an API key never has it)", body = ErrorBody),
        (status = 404, description = "`not_found`: the chat id names no conversation the caller may see and none can be started (a guest session that does not exist, a DM the caller is not in, an account without a site for a new customer)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed chat id; blank or over-long `content`; `from`/`to` over 254 characters; bad `type`, `sender_role`, `sent_time` or `message_id`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_save(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SavedMessage>)> {
    let id = chat_id(&raw)?;
    let save: SaveMessage = json_object(&body)?;
    let valid = save.validate(js_sys::Date::now() as i64)?;
    let db = db::database(&state.env)?;
    let (author_id, author_name) = match valid.role {
        SenderRole::Agent => match save.from.as_deref() {
            Some(from) => match chat_db::operator_by_email(&db, caller.account_id, from).await? {
                Some((id, name)) => {
                    // Writing in another operator's name is an admin's
                    // (as for live posts); checked before anything is stored.
                    if id != caller.id {
                        caller.require(OperatorRole::Admin)?;
                    }
                    (Some(id), Some(name))
                }
                None => (None, Some(from.to_string())),
            },
            None => (None, None),
        },
        SenderRole::System => (None, Some("System".to_string())),
        SenderRole::Customer | SenderRole::Ai => (None, None),
    };
    let create = Create::Yes { customer_email: save.customer_email() };
    let chat = chat_db::resolve(&db, caller.id, caller.account_id, &id, create).await?.ok_or_else(|| ApiError::not_found("chat"))?;
    let import = Import {
        role: valid.role.role(),
        author_id,
        author_name: author_name.as_deref(),
        content: &save.content,
        client_id: save.message_id.as_deref(),
        created_at: valid.created_at.as_deref(),
    };
    let (row, duplicate, event) = chat_db::import(&db, chat.conversation_id, import).await?;
    if event.is_some() {
        // Every unpublished event of the conversation: a chat this import
        // created has its `conversation.created` waiting too, and the Room
        // publishes only its own messages' events (`RoomCore::publish_created`).
        events::publish_conversation(&state.env, chat.conversation_id).await;
    }
    let links = links_for(&state.env, &db, chat.site_id).await?;
    let message = row.to_chat_message(&links);
    Ok((StatusCode::CREATED, Json(SavedMessage { conversation_id: chat.conversation_id, message, duplicate })))
}

/// Handles the `POST /v1/chat/update/{chat_id}` route (seed 000 "Update a
/// message"): moves a message's status forward (sent → delivered → read),
/// stamping `read_at` with `read`. The same status again is a no-op
/// (`changed: false`, no event); a move backwards is 409 `conflict` and
/// changes nothing. `message_id` is EdgeChat's id (a number) or the client
/// id given to `save`/`live` (a string). Emits `message.updated` when the
/// status changed (outbox, same D1 batch).
#[utoipa::path(
    post,
    path = "/v1/chat/update/{chat_id}",
    params(("chat_id" = String, Path, description = "A chat id (seed 000)")),
    request_body = UpdateMessage,
    responses(
        (status = 200, description = "The message after the update", body = UpdatedMessage),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 404, description = "`not_found`: no such chat, or no such message in it", body = ErrorBody),
        (status = 409, description = "`conflict`: the status would move backwards (e.g. read → delivered)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed chat id; no `message_id`; `status` not sent, delivered or read; `read_at` without status read or not ISO 8601", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_update(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(raw): Path<String>,
    body: Bytes,
) -> ApiResult<Json<UpdatedMessage>> {
    let id = chat_id(&raw)?;
    let update: UpdateMessage = json_object(&body)?;
    let valid = update.validate()?;
    let db = db::database(&state.env)?;
    let chat = load(&db, &caller, &id).await?;
    let (row, _) = chat_db::message_in(&db, chat.conversation_id, &valid.key).await?.ok_or_else(|| ApiError::not_found("message"))?;
    if status_rank(valid.status) < status_rank(row.status) {
        return Err(ApiError::conflict("A message's status only moves forward: sent, delivered, read"));
    }
    let event = chat_db::advance_status(&db, chat.conversation_id, row.id, valid.status, valid.read_at.as_deref()).await?;
    let changed = event.is_some();
    if let Some(event) = event {
        events::publish(&state.env, &[event]).await;
    }
    let (row, read_at) =
        chat_db::message_in(&db, chat.conversation_id, &MessageKey::Id(row.id)).await?.ok_or_else(|| ApiError::not_found("message"))?;
    let links = links_for(&state.env, &db, chat.site_id).await?;
    Ok(Json(UpdatedMessage { conversation_id: chat.conversation_id, message: row.to_chat_message(&links), read_at, changed }))
}

/// Who a live post is written as.
enum Poster {
    Operator { id: i64, name: String },
    Visitor,
}

/// Handles the `POST /v1/chat/live/{chat_id}/{user_id}` route (seed 000
/// "Live chat REST helper"): posts into the chat as that participant, as a
/// live client would: written by the conversation's Room and broadcast to
/// the visitor's streams and the operators' sockets. `user_id` is an
/// operator of the account (numeric id or login email), or the chat's
/// visitor (`visitor`, or the email of a `customer:` chat id). Posting as
/// the visitor is a visitor message: the site's responder answers it in AI
/// mode, as in the widget (the answer is stored before this route answers).
/// Posting as another operator than the caller needs the admin role (an
/// API key never has it: a key posts as the operator who made it); in an
/// internal conversation the operator must take part in it.
#[utoipa::path(
    post,
    path = "/v1/chat/live/{chat_id}/{user_id}",
    params(
        ("chat_id" = String, Path, description = "A chat id (seed 000)"),
        ("user_id" = String, Path, description = "An operator's id or email, `visitor`, or the chat's customer email"),
    ),
    request_body = LivePost,
    responses(
        (status = 201, description = "The stored message (`duplicate` when this `message_id` was posted before)", body = SavedMessage),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 403, description = "`forbidden`: posting as another operator needs the admin role", body = ErrorBody),
        (status = 404, description = "`not_found`: no such chat, or `user_id` is no participant of it", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed chat id; blank or over-long `content`; a bad `message_id`", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_live(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path((raw, user_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<SavedMessage>)> {
    let id = chat_id(&raw)?;
    let post: LivePost = json_object(&body)?;
    post.validate()?;
    let db = db::database(&state.env)?;
    let chat = load(&db, &caller, &id).await?;
    let poster = poster(&db, &caller, &id, &chat, &user_id).await?;
    let links = links_for(&state.env, &db, chat.site_id).await?;
    let sent = match poster {
        Poster::Operator { id: author_id, name } => {
            let sent = SendOperatorMessage {
                context: room(&caller, &chat),
                content: post.content,
                author_id,
                author_name: name,
                client_message_id: post.message_id,
                links,
                attachments: Vec::new(),
            }
            .call(&state.env)
            .await?;
            SavedMessage { conversation_id: chat.conversation_id, message: sent.message, duplicate: sent.duplicate }
        }
        Poster::Visitor => {
            let site = db::sites::by_id(&db, chat.site_id.unwrap_or_default()).await?.ok_or_else(|| ApiError::not_found("chat"))?;
            // A client id always, to find the stored message after the stream.
            let client_id = post.message_id.clone().unwrap_or_else(|| format!("live-{}", crate::auth::random_hex(12)));
            let before = messages::by_client_id(&db, chat.conversation_id, Author::Visitor, &client_id).await?;
            let send = SendVisitorMessage {
                context: room(&caller, &chat),
                content: post.content,
                client_message_id: Some(client_id.clone()),
                attachments: Vec::new(),
                responder: site.responder(),
                links: links.clone(),
                page_url: None,
                lang: None,
                claims: None,
            };
            // The answer's stream, read to its end: the visitor message and
            // (in AI mode) its answer are stored when it closes.
            let response = send.call(&state.env).await?;
            let _ = crate::runtime_stream::text(&response).await?;
            let row = messages::by_client_id(&db, chat.conversation_id, Author::Visitor, &client_id)
                .await?
                .ok_or_else(|| ApiError::internal("live visitor message was not stored"))?;
            SavedMessage { conversation_id: chat.conversation_id, message: row.to_chat_message(&links), duplicate: before.is_some() }
        }
    };
    Ok((StatusCode::CREATED, Json(sent)))
}

/// Who `user_id` of a live post is (see [`post_live`]).
async fn poster(db: &D1Database, caller: &CurrentOperator, id: &ChatId, chat: &Chat, user_id: &str) -> ApiResult<Poster> {
    let operator = match user_id.parse::<i64>() {
        Ok(numeric) => {
            Some(db::team::operators_among(db, caller.account_id, &[numeric]).await?.pop().ok_or_else(|| ApiError::not_found("user"))?.id)
        }
        Err(_) => chat_db::operator_by_email(db, caller.account_id, user_id).await?.map(|(id, _)| id),
    };
    if let Some(operator) = operator {
        if operator != caller.id {
            caller.require(OperatorRole::Admin)?;
        }
        if chat.site_id.is_none() && !db::team::participants(db, chat.conversation_id).await?.iter().any(|p| p.user_id == operator) {
            return Err(ApiError::not_found("user"));
        }
        let name = match operator == caller.id {
            true => caller.display_name.clone(),
            false => db::team::participants(db, chat.conversation_id)
                .await?
                .into_iter()
                .find(|p| p.user_id == operator)
                .map(|p| p.display_name)
                .or(chat_db::operator_name(db, caller.account_id, operator).await?)
                .ok_or_else(|| ApiError::not_found("user"))?,
        };
        return Ok(Poster::Operator { id: operator, name });
    }
    let customer = match id {
        ChatId::Customer { email } | ChatId::Guest { email, .. } => Some(email.as_str()),
        _ => None,
    };
    let is_visitor = user_id == "visitor" || customer.is_some_and(|email| email.eq_ignore_ascii_case(user_id));
    if chat.site_id.is_some() && is_visitor {
        return Ok(Poster::Visitor);
    }
    Err(ApiError::not_found("user"))
}

/// Handles the `GET /v1/chat/messages/{id}` route (the single-message
/// permalink seed 000 says is missing): one message of a conversation the
/// caller may see.
#[utoipa::path(
    get,
    path = "/v1/chat/messages/{id}",
    params(("id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, description = "The message with its conversation", body = ConversationMessage),
        (status = 404, description = "`not_found`: no such message in a conversation the caller may see", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_message(
    State(state): State<AppState>,
    caller: CurrentOperator,
    Path(id): Path<i64>,
) -> ApiResult<Json<ConversationMessage>> {
    let db = db::database(&state.env)?;
    let located = search::locate(&db, caller.id, caller.account_id, id).await?.ok_or_else(|| ApiError::not_found("message"))?;
    let row = db::edits::by_id(&db, id).await?.ok_or_else(|| ApiError::not_found("message"))?;
    let links = links_for(&state.env, &db, located.site_id).await?;
    let mut message = row.to_chat_message(&links);
    db::edits::fill_reactions(&db, std::slice::from_mut(&mut message), db::edits::Reactor::Operator(caller.id)).await?;
    Ok(Json(ConversationMessage { conversation_id: located.conversation_id, message }))
}

/// Multipart body of `POST /v1/chat/upload/{chat_id}/{user_id}`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // described in the document, never built
pub struct ChatFilesUpload {
    /// The site's public key (or the `X-Site-Key` header).
    pub site_key: Option<String>,
    /// The visitor's widget session id: the chat's visitor's own.
    pub session_id: String,
    /// 1 to `MAX_FILES_PER_MSG` (default 10) files, all together at most
    /// `MAX_FILE_MB` MiB (default 10); each JPEG, PNG, GIF, WEBP, BMP, PDF,
    /// MP4 or plain text by its bytes.
    #[schema(rename = "files[]", max_items = 10)]
    pub files: Vec<crate::openapi::FileBytes>,
}

/// Handles the `POST /v1/chat/upload/{chat_id}/{user_id}` route (seed 000
/// "File uploads"): public (no token), for widgets. The caller proves to be
/// the chat's visitor exactly as the widget's own upload routes ask:
/// `site_key` (field or `X-Site-Key` header) and the visitor's `session_id`
/// (plus `user_id`/`user_hash` in the query for a verified visitor), under
/// the same origin, block and rate-limit rules; the chat id must name that
/// visitor's conversation of that site, so knowing a customer's email (or
/// even their chat id) lets no stranger drop files into it. `user_id` is
/// `visitor` or the chat's customer email. Files follow the widget upload
/// rules (magic bytes, renamed or polyglot files refused, `MAX_FILE_MB`) and
/// answer the widget's stored file references, to pass as `attachments`.
#[utoipa::path(
    post,
    path = "/v1/chat/upload/{chat_id}/{user_id}",
    params(
        ("chat_id" = String, Path, description = "A chat id (seed 000)"),
        ("user_id" = String, Path, description = "`visitor`, or the chat's customer email"),
        edgechat_shared::api::visitor::IdentityQuery,
    ),
    request_body(content = ChatFilesUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The stored files, in the order given", body = Vec<UploadResponse>),
        (status = 400, description = "`bad_request`: the body is not `multipart/form-data`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the visitor is blocked; `origin_not_allowed`: the page's `Origin` is not allowed", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this key, or the chat id is not this session's visitor's conversation, or `user_id` is not its visitor", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the files are over `MAX_FILE_MB` MiB together", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a file is not an allowed type, or renamed, or a polyglot", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed chat id, `site_key` or `session_id`; no file, or more than `MAX_FILES_PER_MSG`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: the widget upload limits", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path((raw, user_id)): Path<(String, String)>,
    request: Request,
) -> ApiResult<Json<Vec<UploadResponse>>> {
    let id = chat_id(&raw)?;
    // Before a body of up to the cap is read, the client address alone is counted.
    widget::rate_limit(&state.env, &caller.headers, Limit::Write("upload-body"), "*").await?;
    let max = uploads::max_bytes(&state.env);
    let cap = upload::max_body_bytes(max);
    let too_large = || uploads::refusal(Refusal::TooLarge(max));
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let header_key = request.headers().get("x-site-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let body = uploads::read_capped(request.into_body(), cap, too_large).await?;
    let form = uploads::parse_form(&content_type, &body).await?;
    drop(body);
    let site_key = header_key.or_else(|| uploads::form_text(&form, "site_key")).unwrap_or_default();
    let session_id = uploads::form_text(&form, "session_id").unwrap_or_default();
    let visitor = widget::load_visitor(&state.env, &caller, Limit::Write("upload"), &site_key, &session_id).await?;
    // The chat must be this visitor's conversation of this site (operator 0 sees visitor conversations only).
    let db = db::database(&state.env)?;
    let chat = chat_db::resolve(&db, 0, visitor.site.account_id, &id, Create::No).await?;
    let customer = match &id {
        ChatId::Customer { email } | ChatId::Guest { email, .. } => Some(email.as_str()),
        _ => None,
    };
    let is_visitor = user_id == "visitor" || customer.is_some_and(|email| email.eq_ignore_ascii_case(&user_id));
    let (Some(chat), Some(visitor_id), true) = (chat, visitor.visitor_id, is_visitor) else { return Err(ApiError::not_found("chat")) };
    if chat.site_id != Some(visitor.site.id) || visitor.conversation_id != Some(chat.conversation_id) {
        return Err(ApiError::not_found("chat"));
    }
    let files: Vec<worker::File> = form
        .get_all("files[]")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| match entry {
            FormEntry::File(file) => Some(file),
            FormEntry::Field(_) => None,
        })
        .collect();
    let max_files = uploads::max_files(&state.env);
    if files.is_empty() || files.len() > max_files {
        return Err(FieldError::new("files[]", format!("1 to {max_files} files in the multipart field 'files[]'")).into());
    }
    // Every file is checked before any is stored: one refusal stores none.
    let mut checked = Vec::with_capacity(files.len());
    for file in files {
        let bytes = file.bytes().await?;
        let name: String = file.name().chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
        let kind = upload::check(&bytes, &name, max, |_| true).map_err(uploads::refusal)?;
        checked.push((bytes, name, kind));
    }
    let mut stored = Vec::with_capacity(checked.len());
    for (bytes, name, kind) in checked {
        let key = format!("{}/{}/{visitor_id}/{}", visitor.site.account_id, visitor.site.id, crate::auth::random_hex(16));
        let size = bytes.len() as i64;
        let metadata = HttpMetadata { content_type: Some(kind.content_type().into()), ..Default::default() };
        uploads::bucket(&state.env)?.put(&key, bytes).http_metadata(metadata).execute().await?;
        let new = NewUpload { site_id: visitor.site.id, visitor_id, r2_key: &key, content_type: kind.content_type(), size, name: &name };
        let id = upload_db::insert_upload(&db, &new).await?;
        let url = uploads::signed_url(&visitor.site, id);
        stored.push(UploadResponse { success: true, id, url, content_type: kind.content_type().into(), size, name });
    }
    Ok(Json(stored))
}
