//! `GET /health` and `GET /ready` (seed 003, "Health").

use axum::extract::State;
use axum::Json;
use edgechat_shared::error::ErrorBody;
use serde_json::{json, Value};

use super::AppState;
use crate::db;
use crate::error::{ApiError, ApiResult};
use crate::openapi::StatusAnswer;

/// Handles the `GET /health` route: 200 `{"status":"ok"}` while the worker runs.
#[utoipa::path(
    get,
    path = "/health",
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}` while the worker runs", body = StatusAnswer),
    ),
)]
pub async fn get_health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Handles the `GET /ready` route: 200 `{"status":"ready"}` when D1 answers a
/// query, 503 `not_ready` otherwise.
#[utoipa::path(
    get,
    path = "/ready",
    responses(
        (status = 200, description = "`{\"status\":\"ready\"}`: D1 answers a query", body = StatusAnswer),
        (status = 503, description = "`not_ready`: D1 does not answer", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn get_ready(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let answered = match db::database(&state.env) {
        Ok(database) => db::ping(&database).await,
        Err(_) => false,
    };
    match answered {
        true => Ok(Json(json!({"status": "ready"}))),
        false => Err(ApiError::not_ready("The database is not reachable")),
    }
}

/// Answers 404 `not_found` for every route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError::no_route()
}
