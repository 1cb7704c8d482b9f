//! Inbound webhooks (seed 003's HMAC-verified endpoint; issue 13): the
//! management routes `/v1/inbound-webhooks` (admins) and the public
//! `POST /webhooks/inbound/{endpoint_id}`, where an external helpdesk or
//! automation posts Standard-Webhooks-signed `message.created` events into
//! a chat of the endpoint's account.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Json;
use base64::Engine;
use edgechat_shared::api::auth::OperatorRole;
use edgechat_shared::api::inbound::{
    InboundEndpoint, InboundEvent, InboundReceipt, NewInboundEndpoint, MAX_ENDPOINTS, MAX_WEBHOOK_ID_CHARS,
};
use edgechat_shared::error::{ErrorBody, FieldError};
use sha2::{Digest, Sha256};
use standardwebhooks::Webhook;

use crate::auth::{random_hex, CurrentOperator};
use crate::db::inbound::{self as inbound_db, EndpointRow};
use crate::db::{self, users};
use crate::error::{ApiError, ApiResult};
use crate::room::{RoomContext, SendOperatorMessage};
use crate::routes::{json_object, public_origin, AppState};

/// The one answer to an unknown endpoint and a bad, missing or old
/// signature: no oracle for which endpoint ids exist.
fn bad_signature() -> ApiError {
    ApiError::unauthorized("The webhook signature is missing, invalid or outside the 5-minute window")
}

/// The wire form of `row`; `secret` only when `reveal` (creation).
fn endpoint(row: EndpointRow, origin: &str, reveal: bool) -> InboundEndpoint {
    InboundEndpoint {
        url: format!("{origin}/webhooks/inbound/{}", row.id),
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        secret: reveal.then_some(row.secret),
    }
}

/// A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks).
fn new_secret() -> String {
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).expect("the Workers runtime provides crypto.getRandomValues");
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// Handles the `POST /v1/inbound-webhooks` route (admins): 201 the new
/// endpoint with its `url` and its `secret`, shown this once.
#[utoipa::path(
    post,
    path = "/v1/inbound-webhooks",
    request_body = NewInboundEndpoint,
    responses(
        (status = 201, description = "The endpoint, with its `secret` (shown only now)", body = InboundEndpoint),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no valid access token or API key", body = ErrorBody),
        (status = 403, description = "`forbidden`: only owners and admins manage inbound webhooks", body = ErrorBody),
        (status = 422, description = "`validation_error`: a blank name or one over 100 characters; the account has 20 endpoints already", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn post_endpoint(
    State(state): State<AppState>,
    caller: CurrentOperator,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<InboundEndpoint>)> {
    caller.require(OperatorRole::Admin)?;
    let request: NewInboundEndpoint = json_object(&body)?;
    request.validate()?;
    let id = format!("ibw_{}", random_hex(16));
    let db = db::database(&state.env)?;
    let row = inbound_db::insert(&db, caller.account_id, &id, request.name.trim(), &new_secret(), caller.id, MAX_ENDPOINTS)
        .await?
        .ok_or_else(|| FieldError::new("name", format!("An account has at most {MAX_ENDPOINTS} inbound webhooks")))?;
    Ok((StatusCode::CREATED, Json(endpoint(row, &public_origin(&uri, &headers), true))))
}

/// Handles the `GET /v1/inbound-webhooks` route (admins): the account's
/// endpoints, oldest first, without their secrets.
#[utoipa::path(
    get,
    path = "/v1/inbound-webhooks",
    responses(
        (status = 200, description = "The account's inbound endpoints (at most 20), without secrets", body = Vec<InboundEndpoint>),
        (status = 401, description = "`unauthorized`: no valid access token or API key", body = ErrorBody),
        (status = 403, description = "`forbidden`: only owners and admins manage inbound webhooks", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_endpoints(
    State(state): State<AppState>,
    caller: CurrentOperator,
    uri: Uri,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<InboundEndpoint>>> {
    caller.require(OperatorRole::Admin)?;
    let origin = public_origin(&uri, &headers);
    let rows = inbound_db::list(&db::database(&state.env)?, caller.account_id).await?;
    Ok(Json(rows.into_iter().map(|row| endpoint(row, &origin, false)).collect()))
}

/// Handles the `DELETE /v1/inbound-webhooks/{id}` route (admins): 204; its
/// deliveries are refused from now on (401).
#[utoipa::path(
    delete,
    path = "/v1/inbound-webhooks/{id}",
    params(("id" = String, Path, description = "The endpoint id (`ibw_…`)")),
    responses(
        (status = 204, description = "The endpoint is deleted"),
        (status = 401, description = "`unauthorized`: no valid access token or API key", body = ErrorBody),
        (status = 403, description = "`forbidden`: only owners and admins manage inbound webhooks", body = ErrorBody),
        (status = 404, description = "`not_found`: no such endpoint in the caller's account", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn delete_endpoint(State(state): State<AppState>, caller: CurrentOperator, Path(id): Path<String>) -> ApiResult<StatusCode> {
    caller.require(OperatorRole::Admin)?;
    if inbound_db::delete(&db::database(&state.env)?, caller.account_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("inbound webhook"))
    }
}

/// The Room's dedupe key of a delivery (a client `message_id`: at most 64
/// characters): `inbound:` + the first 40 hex digits of
/// SHA-256(`endpoint_id` `\n` `webhook-id`). Two concurrent deliveries of
/// one `webhook-id` meet in the Room, which stores the message once.
fn client_message_id(endpoint_id: &str, webhook_id: &str) -> String {
    let digest = Sha256::digest(format!("{endpoint_id}\n{webhook_id}").as_bytes());
    format!("inbound:{}", &hex::encode(digest)[..40])
}

/// Handles the `POST /webhooks/inbound/{endpoint_id}` route (public,
/// Standard Webhooks): verifies `webhook-signature` (`v1,` + base64
/// HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed by the
/// endpoint's secret) with `webhook-timestamp` within 5 minutes of now,
/// then posts `data.content` into the chat `data.chat_id` of the endpoint's
/// account, live through its Room, as `data.user_id` (an operator of the
/// account) or else the endpoint's creator, signed `data.from` when given.
/// 201 for a new message; 200 with `duplicate` for a `webhook-id` stored
/// before (nothing new is stored).
#[utoipa::path(
    post,
    path = "/webhooks/inbound/{endpoint_id}",
    params(
        ("endpoint_id" = String, Path, description = "The endpoint id (`ibw_…`)"),
        ("webhook-id" = String, Header, description = "The delivery's unique id: a repeat is stored once"),
        ("webhook-timestamp" = i64, Header, description = "Unix seconds; refused more than 5 minutes from now"),
        ("webhook-signature" = String, Header, description = "`v1,<base64 HMAC-SHA256>` (space-separated list)"),
    ),
    request_body = InboundEvent,
    responses(
        (status = 201, description = "The message is stored and shown live", body = InboundReceipt),
        (status = 200, description = "This `webhook-id` was stored before: nothing new", body = InboundReceipt),
        (status = 400, description = "`bad_request`: the body is not a JSON object of this shape", body = ErrorBody),
        (status = 401, description = "`unauthorized`: unknown endpoint, or a missing, invalid or stale signature (one answer for all)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such chat in the endpoint's account, or a staff conversation (DM, group) signed as another operator than the endpoint's creator", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: a body over 64 KiB", body = ErrorBody),
        (status = 422, description = "`validation_error`: `type` other than `message.created`, a malformed `chat_id`, a blank or over-long `content` or `from`, a `user_id` that is not an operator of the account, a `webhook-id` over 200 characters", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn post_inbound(
    State(state): State<AppState>,
    Path(endpoint_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<InboundReceipt>)> {
    let db = db::database(&state.env)?;
    let endpoint = inbound_db::by_id(&db, &endpoint_id).await?.ok_or_else(bad_signature)?;
    let webhook = Webhook::new(&endpoint.secret).map_err(ApiError::internal)?;
    webhook.verify(&body, &headers).map_err(|_| bad_signature())?;
    let webhook_id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if webhook_id.chars().count() > MAX_WEBHOOK_ID_CHARS {
        return Err(FieldError::new("webhook-id", format!("webhook-id is at most {MAX_WEBHOOK_ID_CHARS} characters")).into());
    }
    if let Some(message_id) = inbound_db::delivered(&db, &endpoint.id, webhook_id).await? {
        return Ok((StatusCode::OK, Json(InboundReceipt { message_id, duplicate: true })));
    }
    let event: InboundEvent = json_object(&body)?;
    event.validate()?;
    let author = match event.data.user_id {
        Some(id) => users::user(&db, endpoint.account_id, id)
            .await?
            .ok_or_else(|| FieldError::new("user_id", "data.user_id is not an operator of this account"))?,
        None => users::user(&db, endpoint.account_id, endpoint.created_by)
            .await?
            .ok_or_else(|| ApiError::internal("inbound endpoint without its creator"))?,
    };
    let chat = super::operator::transcripts::resolve_chat(&db, author.id, endpoint.account_id, &event.data.chat_id).await?;
    // The endpoint acts for its creator: it may sign as another operator in
    // customers' conversations, but a staff conversation (a DM, a group) is
    // its members' alone, so there it writes only as its creator, and only
    // where they are a member (resolved as them above).
    if chat.site_id.is_none() && author.id != endpoint.created_by {
        return Err(ApiError::not_found("chat"));
    }
    let site_id = chat.site_id;
    let sent = SendOperatorMessage {
        context: RoomContext { conversation_id: chat.conversation_id, site_id, account_id: endpoint.account_id },
        content: event.data.content,
        author_id: author.id,
        // `from` names the integration to customers; in a staff
        // conversation a message shows its operator's own name.
        author_name: event.data.from.filter(|_| site_id.is_some()).map(|f| f.trim().to_string()).unwrap_or(author.display_name),
        client_message_id: Some(client_message_id(&endpoint.id, webhook_id)),
        links: super::operator::media::links_for(&state.env, &db, site_id).await?,
        attachments: Vec::new(),
    }
    .call(&state.env)
    .await?;
    inbound_db::record_delivery(&db, &endpoint.id, webhook_id, sent.message.id).await?;
    let status = if sent.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(InboundReceipt { message_id: sent.message.id, duplicate: sent.duplicate })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dedupe_key_is_a_valid_message_id_and_differs_per_endpoint() {
        let a = client_message_id("ibw_1", "msg_1");
        assert!(edgechat_shared::validate::message_id(&a).is_ok(), "{a}");
        assert_eq!(a, client_message_id("ibw_1", "msg_1"));
        assert_ne!(a, client_message_id("ibw_2", "msg_1"));
        assert_ne!(a, client_message_id("ibw_1", "msg_2"));
    }
}
