//! CSAT (seed 001, seed 003): `POST /api/v1/chat/rate` and
//! `POST /api/v1/chat/rate/comment`.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::contact::Saved;
use edgechat_shared::api::rating::{RateCommentRequest, RateRequest, RateResponse, MAX_RATING_COMMENT_CHARS};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::error::{ErrorBody, FieldError};

use super::{load_visitor, Caller, Limit};
use crate::db::{self, ratings};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/chat/rate` route (seed 001): a CSAT score 1–5
/// of the visitor's conversation. One rating per conversation: a second
/// answers `{"id": null, "duplicate": true}` and keeps the first (seed 003).
/// 422 score out of range; 404 before the visitor's first message.
#[utoipa::path(
    post,
    path = "/api/v1/chat/rate",
    params(IdentityQuery),
    request_body = RateRequest,
    responses(
        (status = 200, description = "The rating; a second one answers `{\"id\":null,\"duplicate\":true}` and keeps the first", body = RateResponse),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the session has no conversation yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: `score` outside 1 to 5, malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_rate(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<RateResponse>> {
    let request: RateRequest = json_object(&body)?;
    if !(1..=5).contains(&request.score) {
        return Err(FieldError::new("score", "score must be 1 to 5").into());
    }
    let visitor = load_visitor(&state.env, &caller, Limit::Write("rate"), &request.site_key, &request.session_id).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("conversation to rate"))?;
    let id = ratings::insert(&db::database(&state.env)?, conversation_id, request.score, None).await?;
    if id.is_some() {
        crate::events::publish_conversation(&state.env, conversation_id).await;
    }
    Ok(Json(RateResponse { success: true, id, duplicate: id.is_none() }))
}

/// Handles the `POST /api/v1/chat/rate/comment` route (seed 001): a comment
/// of 1 to 2,000 characters on the conversation's rating (replacing an
/// earlier comment). 404 before a rating.
#[utoipa::path(
    post,
    path = "/api/v1/chat/rate/comment",
    params(IdentityQuery),
    request_body = RateCommentRequest,
    responses(
        (status = 200, description = "The comment replaces an earlier one", body = Saved),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `user_hash` does not match `user_id` (identity verification)", body = ErrorBody),
        (status = 403, description = "`blocked`: the site's operators blocked this visitor; `origin_not_allowed`: the page's `Origin` is not among the site's allowed origins", body = ErrorBody),
        (status = 404, description = "`not_found`: no site has this `site_key`, or the conversation has no rating yet", body = ErrorBody),
        (status = 422, description = "`validation_error`: `comment` not 1 to 2,000 characters, malformed `site_key` or `session_id`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: past 20 requests a minute per site key and client IP", body = ErrorBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ),
    security(("site_key" = [], "session_id" = [])),
)]
#[worker::send]
pub async fn post_rate_comment(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<Saved>> {
    let request: RateCommentRequest = json_object(&body)?;
    let chars = request.comment.trim().chars().count();
    if chars == 0 || chars > MAX_RATING_COMMENT_CHARS {
        return Err(FieldError::new("comment", format!("comment must be 1 to {MAX_RATING_COMMENT_CHARS} characters")).into());
    }
    let visitor = load_visitor(&state.env, &caller, Limit::Write("rate"), &request.site_key, &request.session_id).await?;
    let conversation_id = visitor.conversation_id.ok_or_else(|| ApiError::not_found("rating"))?;
    if !ratings::set_comment(&db::database(&state.env)?, conversation_id, request.comment.trim()).await? {
        return Err(ApiError::not_found("rating; rate the conversation first"));
    }
    Ok(Json(Saved { success: true, message: "Comment saved".into() }))
}
