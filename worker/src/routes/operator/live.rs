//! `GET /v1/messaging/token` (seed 002) and the operator WebSocket
//! `GET /v1/chat/live?token=`: every live event of the operator's account.

use axum::extract::{Query, State};
use axum::http::header::UPGRADE;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use edgechat_shared::api::events::MessagingToken;
use edgechat_shared::error::ErrorBody;
use serde::Deserialize;

use crate::auth::{jwt, now_secs, random_hex, CurrentOperator};
use crate::db::{self, users};
use crate::error::{ApiError, ApiResult};
use crate::inbox::{Connect, LiveToken};
use crate::routes::AppState;

/// Handles the `GET /v1/messaging/token` route: exchanges the access JWT for
/// a single-use WebSocket token valid 60 s, so the JWT never travels in a
/// URL. The token is signed, so issuing it touches no Durable Object. 403
/// for an API key: no live socket may outlive a revoked key (issue 13). The
/// socket it opens lives as long as the access JWT: it closes (4002
/// "session expired") at the first event after the JWT's `exp`,
/// and the client reconnects with a fresh token.
#[utoipa::path(
    get,
    path = "/v1/messaging/token",
    responses(
        (status = 200, description = "A single-use WebSocket token, valid 60 seconds", body = MessagingToken),
        (status = 403, description = "`forbidden`: an API key (live sockets need a signed-in operator)", body = ErrorBody),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_token(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<MessagingToken>> {
    let session_ends_at = caller.session_end()?;
    // (An access JWT in its leeway after `exp` would open a socket that is closed at once.)
    if session_ends_at <= now_secs() {
        return Err(ApiError::unauthorized("The access token has expired"));
    }
    let secret = jwt::secret(&state.env)?;
    let token = LiveToken::new(caller.account_id, caller.id, caller.token_version, now_secs(), session_ends_at, random_hex(16));
    Ok(Json(token.to_messaging_token(&secret)))
}

/// Query of `GET /v1/chat/live`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// The single-use token of `GET /v1/messaging/token`.
    #[param(required)]
    #[serde(default)]
    token: String,
}

/// Handles the `GET /v1/chat/live?token=` route: upgrades to a WebSocket
/// carrying every [`edgechat_shared::api::events::LiveEvent`] of the
/// account as JSON text frames (`ping` is answered `pong`). 401 for a
/// forged, used or expired token, or one of an operator removed, or whose
/// token version changed, since it was issued. The socket closes with 4002
/// when the access JWT its token was issued for expires (at the first event
/// from then on: reconnect), and with 4001
/// or 4003 when its operator's credentials or permission end
/// ([`edgechat_shared::api::auth::SessionEnd`]), and with 4029 when a newer
/// socket goes over [`edgechat_shared::limits::OPERATOR_SOCKETS_PER_OPERATOR`]
/// or [`edgechat_shared::limits::OPERATOR_SOCKETS_PER_ACCOUNT`].
#[utoipa::path(
    get,
    path = "/v1/chat/live",
    params(LiveQuery),
    responses(
        (status = 101, description = "Switching to a WebSocket (`Upgrade: websocket`) that carries every live event of the account as one JSON text frame each (schema `LiveEvent`); `ping` is answered `pong`. Caps (README, \"Resource caps\"): at most 8 sockets per operator and 256 per account; one more closes the oldest socket of that operator (for the account: of the operator holding the most) with close code 4029 and a reason naming the cap."),
        (status = 400, description = "`bad_request`: not a WebSocket handshake (no `Upgrade: websocket`, RFC 6455 §4.1); the token is not spent", body = ErrorBody),
        (status = 401, description = "`unauthorized`: an unknown, used or expired token", body = ErrorBody),
    ),
    security(("ws_token" = [])),
)]
#[worker::send]
pub async fn get_live(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<LiveQuery>) -> ApiResult<Response> {
    // A request that cannot become a socket (a plain GET, a HEAD) is
    // refused before its token is spent or an Inbox slot is taken.
    let upgrade = headers.get(UPGRADE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !upgrade.split(',').any(|protocol| protocol.trim().eq_ignore_ascii_case("websocket")) {
        return Err(ApiError::bad_request("GET /v1/chat/live is a WebSocket handshake: it needs the header Upgrade: websocket"));
    }
    let refused = || ApiError::unauthorized("The WebSocket token is unknown, used or expired");
    let secret = jwt::secret(&state.env)?;
    // A forged or expired token is refused before any Durable Object is touched.
    let token = LiveToken::verify(&query.token, &secret, now_secs()).ok_or_else(refused)?;
    let db = db::database(&state.env)?;
    users::session_user(&db, token.account_id, token.user_id, token.version).await?.ok_or_else(refused)?;
    let socket = Connect { token }.send(&state.env).await?.ok_or_else(refused)?;
    Ok(socket.into())
}
