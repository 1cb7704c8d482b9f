//! The conversation routes of seed 004, for integrations that create and
//! follow a conversation by a visitor token with the site key
//! (`?site_key=`): create, list messages since a time, reply, download a file.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use edgechat_shared::api::conversations::Status;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::stream::DoneMeta;
use edgechat_shared::api::token_conversations::{CreateConversation, CreatedConversation, ReplyRequest, TokenMessage, TokenQuery};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::api::Role;
use edgechat_shared::error::ErrorBody;
use edgechat_shared::sse;
use edgechat_shared::texts::Lang;
use edgechat_shared::validate;
use serde_json::{json, Value};

use super::{load_visitor, Caller, Limit, Visitor};
use crate::auth::random_hex;
use crate::db::conversations::StateChange;
use crate::db::messages::FileLinks;
use crate::db::sites::SiteRow;
use crate::db::uploads as upload_db;
use crate::db::{self};
use crate::error::{ApiError, ApiResult};
use crate::openapi::{FileBytes, StatusAnswer};
use crate::room::{RoomContext, SendVisitorMessage};
use crate::routes::{json_object, AppState};

/// Stores a visitor message, written from `page_url` in `lang` when given, through
/// the conversation's Room (the single writer) and waits for its answer;
/// answers whether the answer was given (`done`) rather than failed
/// (`error`, or a stream that ended without either). The message is stored
/// either way.
async fn write_visitor_message(
    state: &AppState,
    site: &SiteRow,
    context: RoomContext,
    content: String,
    page_url: Option<String>,
    lang: Option<String>,
) -> ApiResult<bool> {
    let send = SendVisitorMessage {
        context,
        content,
        client_message_id: None,
        attachments: Vec::new(),
        responder: site.responder(),
        links: FileLinks::of(site),
        page_url,
        lang,
        claims: None,
    };
    Ok(send_and_await(&state.env, send).await?.is_some())
}

/// The `done` event of an answer stream, `{"type":"done","meta":{…}}`
/// ([`StreamEvent::Done`](edgechat_shared::api::stream::StreamEvent::Done)), the one event [`send_and_await`] reads. Only
/// it has a `meta`; decoding into the whole `StreamEvent` would put its
/// tagged decoder into the wasm for this one field.
#[derive(serde::Deserialize)]
struct DoneEvent {
    #[serde(rename = "type")]
    kind: String,
    meta: DoneMeta,
}

/// Sends a visitor message to its conversation's Room and reads the SSE
/// answer to its end (an answer stops when its reader goes away, so a
/// route that answers JSON waits for it): the `done` event's meta, `None`
/// when the answer failed (`error`) or the stream ended without `done`.
/// The message is stored either way.
pub(crate) async fn send_and_await(env: &worker::Env, send: SendVisitorMessage) -> ApiResult<Option<DoneMeta>> {
    let response = send.call(env).await?;
    let answer =
        crate::runtime_stream::text(&response).await.map_err(|e| ApiError::internal(format!("reading the room's answer failed: {e}")))?;
    let mut done = None;
    for frame in sse::Parser::new().push(answer.as_bytes()) {
        if let Ok(DoneEvent { kind, meta }) = serde_json::from_str(&frame.data) {
            if kind == "done" {
                done = Some(meta);
            }
        }
    }
    Ok(done)
}

/// Handles the `POST /api/v1/chat/conversations` route (seed 004, "Create
/// Conversation", 5 a minute): 201 `{"conversation_token","auto_reply"}`;
/// 422 with the seed's messages; 409 when the visitor token has a conversation.
#[utoipa::path(
    post,
    path = "/api/v1/chat/conversations",
    params(("site_key" = String, Query, description = "The site's public key"), IdentityQuery),
    request_body = CreateConversation,
    responses(
        (status = 201, description = "The conversation, its first message stored and answered (also when the AI could not answer); `auto_reply` in the visitor's `lang`", body = CreatedConversation),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 409, description = "`conflict`: this visitor token already has a conversation", body = ErrorBody),
        (status = 422, description = "`validation_error`: a missing field, an invalid email, a message over 10,000 characters, a malformed `visitor_token` or `site_key` (seed 004's messages), a `page_url` that is not an http(s) URL of at most 2,048 characters, a malformed `lang`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 5 conversations a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn post_conversation(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TokenQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<CreatedConversation>)> {
    let request: CreateConversation = json_object(&body)?;
    request.validate()?;
    let visitor = load_visitor(&state.env, &caller, Limit::Create, &query.site_key, &request.visitor_token).await?;
    if visitor.conversation_id.is_some() {
        return Err(ApiError::conflict("A conversation with this visitor token already exists"));
    }
    let db = db::database(&state.env)?;
    // A verified caller's conversation is their own visitor's, reached by identity.
    let visitor_id = match visitor.visitor_id {
        Some(id) => id,
        None => db::visitors::ensure_visitor(&db, visitor.site.id, &request.visitor_token).await?,
    };
    if let Some(earlier) = db::visitors::set_visitor_details(&db, visitor_id, Some(request.email.trim()), Some(request.name.trim())).await?
    {
        crate::events::publish_conversation(&state.env, earlier).await;
    }
    let conversation_id = crate::db::conversations::create_for_visitor(&db, visitor.site.id, visitor_id).await?;
    let token = random_hex(24);
    db::conversations::set_token(&db, conversation_id, &token).await?;
    let context = RoomContext { conversation_id, site_id: Some(visitor.site.id), account_id: visitor.site.account_id };
    // The conversation exists now: its token is answered even when the AI
    // could not answer the first message (a retry would be 409 and lose it).
    let auto_reply = Lang::from_tag(request.lang.as_deref()).texts().auto_reply.to_string();
    if !write_visitor_message(&state, &visitor.site, context, request.message, request.page_url, request.lang).await? {
        worker::console_error!("conversation {conversation_id}: the first message got no answer");
    }
    Ok((StatusCode::CREATED, Json(CreatedConversation { conversation_token: token, auto_reply })))
}

/// The visitor of `visitor_token` with a conversation, or 404.
async fn conversation_of(
    state: &AppState,
    caller: &Caller,
    limit: Limit,
    site_key: &str,
    visitor_token: &str,
) -> ApiResult<(Visitor, i64)> {
    let visitor = load_visitor(&state.env, caller, limit, site_key, visitor_token).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("conversation for this visitor token"))?;
    Ok((visitor, conversation_id))
}

/// Handles the `GET /api/v1/chat/conversations/{visitor_token}/messages`
/// route (seed 004, "Get Messages", 60 a minute): oldest first, only those
/// after `since` (ISO 8601) when given; 422 for a malformed `since`.
#[utoipa::path(
    get,
    path = "/api/v1/chat/conversations/{visitor_token}/messages",
    params(("visitor_token" = String, Path, description = "The visitor token the conversation was created with (seed 004): the visitor's session"), ("site_key" = String, Query, description = "The site's public key"), ("since" = Option<String>, Query, description = "ISO 8601 time: only messages after it"), IdentityQuery),
    responses(
        (status = 200, description = "The conversation's messages, oldest first", body = Vec<TokenMessage>),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or this visitor token has no conversation", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed `since`, `site_key` or visitor token", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn get_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(visitor_token): Path<String>,
    Query(query): Query<TokenQuery>,
) -> ApiResult<Json<Vec<TokenMessage>>> {
    let since = match query.since.as_deref() {
        Some(since) => Some(validate::iso8601_utc(since)?),
        None => None,
    };
    let (visitor, conversation_id) = conversation_of(&state, &caller, Limit::Read("messages"), &query.site_key, &visitor_token).await?;
    let rows = db::messages::since_with_visitor_name(&db::database(&state.env)?, conversation_id, since.as_deref()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| {
                let inbound = row.role == Role::Visitor;
                let author = match row.role {
                    Role::Visitor => row.visitor_name.unwrap_or_else(|| "Visitor".into()),
                    Role::Operator => row.author_name.unwrap_or_else(|| "Support".into()),
                    Role::Ai => visitor.site.name.clone(),
                };
                TokenMessage {
                    direction: if inbound { "inbound" } else { "outbound" }.into(),
                    body: row.content,
                    timestamp: row.created_at,
                    author,
                }
            })
            .collect(),
    ))
}

/// Handles the `POST /api/v1/chat/conversations/{visitor_token}/messages`
/// route (seed 004, "Send Reply", 20 a minute): 201 `{"status":"ok"}`;
/// reopens a closed conversation. 502 `service_unavailable` when the AI
/// responder failed to answer (the message is kept: issue 6).
#[utoipa::path(
    post,
    path = "/api/v1/chat/conversations/{visitor_token}/messages",
    params(("visitor_token" = String, Path, description = "The visitor token the conversation was created with (seed 004): the visitor's session"), ("site_key" = String, Query, description = "The site's public key"), IdentityQuery),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "`{\"status\":\"ok\"}`: stored and answered; a closed conversation reopens", body = StatusAnswer),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or this visitor token has no conversation", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank or over-long message, a `page_url` that is not an http(s) URL of at most 2,048 characters, a malformed `site_key` or visitor token", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
        (status = 502, description = "`service_unavailable`: the AI responder failed to answer; the message is kept", body = ErrorBody),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn post_reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(visitor_token): Path<String>,
    Query(query): Query<TokenQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let request: ReplyRequest = json_object(&body)?;
    request.validate()?;
    let (visitor, conversation_id) = conversation_of(&state, &caller, Limit::Write("reply"), &query.site_key, &visitor_token).await?;
    let context = RoomContext { conversation_id, site_id: Some(visitor.site.id), account_id: visitor.site.account_id };
    let db = db::database(&state.env)?;
    let closed = db::conversations::state(&db, conversation_id).await?.is_some_and(|s| s.status != Status::Open);
    let reopened = closed
        && db::conversations::change(
            &db,
            conversation_id,
            Some(context.account_id),
            StateChange { status: Some(Status::Open), ..Default::default() },
        )
        .await?
        .is_some();
    if reopened {
        crate::events::publish_conversation(&state.env, conversation_id).await;
        context.signal(&state.env, &LiveEvent::Status { conversation_id, status: Status::Open }).await?;
    }
    if !write_visitor_message(&state, &visitor.site, context, request.message, request.page_url, None).await? {
        return Err(ApiError::service_unavailable("The assistant could not answer; your message was received"));
    }
    Ok((StatusCode::CREATED, Json(json!({"status": "ok"}))))
}

/// Handles the `GET /api/v1/chat/conversations/{visitor_token}/files/{activity_id}/{id}`
/// route (seed 004, "Download File"): upload `id` attached to message
/// `activity_id` of that visitor's conversation; `disposition` defaults to
/// `attachment`. 404 for any other pairing.
#[utoipa::path(
    get,
    path = "/api/v1/chat/conversations/{visitor_token}/files/{activity_id}/{id}",
    operation_id = "get_conversation_file",
    params(("visitor_token" = String, Path, description = "The visitor token the conversation was created with (seed 004): the visitor's session"), ("activity_id" = i64, Path, description = "The message the file is attached to"), ("id" = i64, Path, description = "Upload id"), ("site_key" = String, Query, description = "The site's public key"), ("disposition" = Option<String>, Query, description = "`inline` or `attachment` (default)"), IdentityQuery),
    responses(
        (status = 200, description = "The file, with its sniffed `Content-Type`", content_type = "application/octet-stream", body = FileBytes, headers(("Content-Disposition" = String, description = "`inline` or `attachment`, with the file name"), ("X-Content-Type-Options" = String, description = "`nosniff`"))),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or no such file on that message of this visitor's conversation", body = ErrorBody),
        (status = 422, description = "`validation_error`: a malformed `site_key` or visitor token", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 60 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [])),
)]
#[worker::send]
pub async fn get_file(
    State(state): State<AppState>,
    caller: Caller,
    Path((visitor_token, activity_id, id)): Path<(String, i64, i64)>,
    Query(query): Query<TokenQuery>,
) -> ApiResult<Response> {
    let (_, conversation_id) = conversation_of(&state, &caller, Limit::Read("files"), &query.site_key, &visitor_token).await?;
    if !upload_db::is_attached(&db::database(&state.env)?, id, activity_id, conversation_id).await? {
        return Err(ApiError::not_found("file"));
    }
    super::uploads::serve(&state.env, id, query.disposition.as_deref().unwrap_or("attachment")).await
}
