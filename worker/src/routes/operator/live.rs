//! `GET /v1/messaging/token` (seed 002) and the operator WebSocket
//! `GET /v1/chat/live?token=`: every live event of the operator's account.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use edgechat_shared::api::events::MessagingToken;
use edgechat_shared::error::ErrorBody;
use serde::Deserialize;

use crate::auth::CurrentOperator;
use crate::error::{ApiError, ApiResult};
use crate::inbox;
use crate::routes::AppState;

/// Handles the `GET /v1/messaging/token` route: exchanges the access JWT for
/// a single-use WebSocket token valid 60 s, so the JWT never travels in a URL.
#[utoipa::path(
    get,
    path = "/v1/messaging/token",
    responses(
        (status = 200, description = "A single-use WebSocket token, valid 60 seconds", body = MessagingToken),
    ),
    security(("operator_jwt" = [])),
)]
#[worker::send]
pub async fn get_token(State(state): State<AppState>, caller: CurrentOperator) -> ApiResult<Json<MessagingToken>> {
    Ok(Json(inbox::issue_token(&state.env, caller.account_id, caller.id).await?))
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
/// account as JSON text frames (`ping` is answered `pong`). 401 for an
/// unknown, used or expired token.
#[utoipa::path(
    get,
    path = "/v1/chat/live",
    params(LiveQuery),
    responses(
        (status = 101, description = "Switching to a WebSocket (`Upgrade: websocket`) that carries every live event of the account as one JSON text frame each (schema `LiveEvent`); `ping` is answered `pong`"),
        (status = 401, description = "`unauthorized`: an unknown, used or expired token", body = ErrorBody),
    ),
    security(("ws_token" = [])),
)]
#[worker::send]
pub async fn get_live(State(state): State<AppState>, Query(query): Query<LiveQuery>) -> ApiResult<Response> {
    match inbox::connect(&state.env, &query.token).await? {
        Some(response) => Ok(response.into()),
        None => Err(ApiError::unauthorized("The WebSocket token is unknown, used or expired")),
    }
}
