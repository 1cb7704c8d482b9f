//! `POST /api/v1/chat/handoff` (issue 6): the visitor accepts the offer of a person.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use edgechat_shared::api::handoff::HandoffResponse;
use edgechat_shared::api::visitor::VisitorQuery;
use edgechat_shared::api::Mode;

use super::{load_visitor, Caller, Limit};
use crate::error::ApiResult;
use crate::routes::{json_object, AppState};

/// Handles the `POST /api/v1/chat/handoff` route (issue 6): the visitor
/// accepts the offer of a person. Body `{"site_key","session_id"}`; the
/// conversation switches to `operator` mode (the AI stops answering), the
/// visitor's streams get a `mode` event, and the account's operators get
/// `mode` and `handoff` events live, all under the Room's write lock (an
/// answer being written then is not stored). Accepting twice changes and
/// notifies nothing more. Answers [`HandoffResponse`]; 404 before the visitor's first
/// message, 403 `blocked`, 429 past 20 a minute.
#[worker::send]
pub async fn post_handoff(State(state): State<AppState>, caller: Caller, body: Bytes) -> ApiResult<Json<HandoffResponse>> {
    let request: VisitorQuery = json_object(&body)?;
    let visitor = load_visitor(&state.env, &caller, Limit::Write("handoff"), &request.site_key, &request.session_id).await?;
    visitor.conversation()?.handoff(&state.env).await?;
    Ok(Json(HandoffResponse {
        success: true,
        mode: Mode::Operator,
        message: "A person from our team will reply here as soon as possible.".into(),
    }))
}
