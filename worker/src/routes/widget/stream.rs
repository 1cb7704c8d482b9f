//! `POST /api/v1/chat/stream` (seed 001): store a visitor message and stream
//! the answer as Server-Sent Events.

use std::rc::Rc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::uploads::Attachment;
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::ErrorBody;
use worker::Env;

use super::known::{self, KnownVisitor};
use super::{check_origin, claimed_user_id, counted_visitor, rate_limit, Caller, Limit, Visitor};
use crate::db;
use crate::db::conversations;
use crate::db::messages::{self, FileLinks};
use crate::db::sites::SiteRow;
use crate::error::{ApiError, ApiResult};
use crate::room::{RoomContext, SendVisitorMessage};
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/chat/stream` route.
///
/// Answers `text/event-stream`: `data: {"type":"chunk","content":"…"}` events,
/// then `data: {"type":"done","meta":{…}}` once the visitor message and the
/// answer are stored, or a last `data: {"type":"error","message":"…","handoff_offered":true}`
/// when the responder failed (the visitor message stays stored). Errors, with nothing stored: 400 `bad_request` (not
/// JSON), 422 `validation_error` (blank or over-long message, malformed
/// `session_id` or `page_url`, …), 404 `not_found` (unknown site key), 403 `blocked` or
/// `origin_not_allowed`, 429 past 20 a minute per site key and IP.
#[utoipa::path(
    post,
    path = "/api/v1/chat/stream",
    params(IdentityQuery),
    request_body = StreamRequest,
    responses(
        (status = 200, description = "A stream of SSE events, each `data: <StreamEvent JSON>`: `chunk` events, then `done` once the message and its answer are stored, or a last `error` event when the responder failed (the visitor message stays stored)", content_type = "text/event-stream", body = StreamEvent),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`", body = ErrorBody),
        (status = 422, description = "`validation_error`: blank or over-long message, malformed `session_id`, `lang`, `message_id` or `page_url` (an http(s) URL of at most 2,048 characters), attachments not the visitor's or over 10", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_stream(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Response> {
    let request: StreamRequest = json_object(&body)?;
    request.validate()?;
    rate_limit(&state.env, &caller.headers, Limit::Write("stream"), &request.site_key).await?;
    let mut known = recall(&caller, &request);
    loop {
        // The session as this isolate remembers it, sent with the claims
        // the Room's write checks (one D1 round trip); else checked in full.
        let (conversation_id, site, attachments, claims) = match known.take() {
            Some(KnownVisitor { site, visitor_id, conversation_id }) => {
                let claims = (site.revision, visitor_id, request.session_id.clone());
                (conversation_id, site, Vec::new(), Some(claims))
            }
            None => {
                let (conversation_id, site, attachments) = checked(&state.env, &caller, &request).await?;
                (conversation_id, Rc::new(site), attachments, None)
            }
        };
        let claimed = claims.is_some();
        let send = SendVisitorMessage {
            context: RoomContext { conversation_id, site_id: Some(site.id), account_id: site.account_id },
            content: request.message.clone(),
            client_message_id: request.message_id.clone(),
            attachments,
            responder: site.responder(),
            links: FileLinks::of(&site),
            page_url: request.page_url.clone(),
            lang: request.lang.clone(),
            claims,
        };
        // Claims the Room did not take (204, nothing stored: its write
        // found them stale, or it does not serve the conversation): the
        // session is checked in full, so every refusal keeps its status
        // and envelope.
        match send.call(&state.env).await? {
            answer if claimed && answer.status() == 204 => known::forget(&request.site_key, &request.session_id),
            answer => return Ok(crate::runtime_stream::pass_through(answer)),
        }
    }
}

/// The session this isolate remembers for an anonymous message without
/// attachments ([`known`]; issue 16: a visitor's message in one D1 round
/// trip), unless the page's origin is not among the site's allowed origins
/// as remembered (the checked path answers that).
fn recall(caller: &Caller, request: &StreamRequest) -> Option<KnownVisitor> {
    if !request.attachments.is_empty() || claimed_user_id(&caller.identity).is_some() {
        return None;
    }
    known::recall(&request.site_key, &request.session_id).filter(|known| check_origin(&known.site, &caller.headers).is_ok())
}

/// Checks the request's visitor in full (the request is counted already)
/// and its attachments, creating the visitor and its conversation on its
/// first message; answers the conversation, the site and the checked
/// attachments. Remembers an anonymous session ([`known`]).
async fn checked(env: &Env, caller: &Caller, request: &StreamRequest) -> ApiResult<(i64, SiteRow, Vec<Attachment>)> {
    let database = db::database(env)?;
    let Visitor { site, conversation_id, visitor_id, blocked } =
        counted_visitor(env, caller, &request.site_key, &request.session_id).await?;
    if blocked {
        return Err(ApiError::blocked());
    }
    // A retry of a stored message replays it with the uploads it has.
    let retry =
        messages::is_retry_with_attachments(&database, conversation_id, request.message_id.as_deref(), &request.attachments).await?;
    let attachments = match retry {
        true => Vec::new(),
        false => super::uploads::attachments(env, &site, visitor_id, &request.attachments).await?,
    };
    let (visitor_id, conversation_id) = match conversation_id {
        Some(id) => (visitor_id, id),
        None => {
            let visitor_id = match visitor_id {
                Some(id) => id,
                None => db::visitors::ensure_visitor(&database, site.id, &request.session_id).await?,
            };
            (Some(visitor_id), conversations::create_for_visitor(&database, site.id, visitor_id).await?)
        }
    };
    if let (Some(visitor_id), None) = (visitor_id, claimed_user_id(&caller.identity)) {
        known::remember(&request.session_id, &site, visitor_id, conversation_id);
    }
    Ok((conversation_id, site, attachments))
}
