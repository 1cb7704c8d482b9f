//! `GET /health` and `GET /ready` (seed 003, "Health").

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use edgechat_shared::api::health::{Readiness, ReadyChecks};
use edgechat_shared::error::{ErrorBody, ErrorCode};
use serde_json::{json, Value};

use super::AppState;
use crate::db;
use crate::error::ApiError;
use crate::openapi::StatusAnswer;
use crate::responder::breaker;

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

/// Handles the `GET /ready` route (seed 003): D1 and the circuit breaker of
/// the deployment's AI upstreams ([`breaker::deployment_state`]). 200
/// `{"status":"ready","checks":{"database":"ok","ai_breaker":"closed"}}`
/// (`half_open` is ready too: the next question tries the model); 503
/// `not_ready` in the error envelope, its `message` naming the part that is
/// down, with the same `checks` beside it.
#[utoipa::path(
    get,
    path = "/ready",
    responses(
        (status = 200, description = "`{\"status\":\"ready\",\"checks\":{…}}`: D1 answers a query and the AI breaker is not open", body = Readiness),
        (status = 503, description = "`not_ready` in the error envelope, `message` naming the part that is down, with the `checks` of a `Readiness` beside `error` and `message`: D1 does not answer (`database: down`, `ai_breaker: unknown`), or the AI upstream's circuit breaker is open (`ai_breaker: open`)", body = ErrorBody),
    ),
)]
#[worker::send]
pub async fn get_ready(State(state): State<AppState>) -> Response {
    let database = db::database(&state.env).ok();
    let answered = match &database {
        Some(database) => db::ping(database).await,
        None => false,
    };
    let breaker = match (&database, answered) {
        (Some(database), true) => breaker::deployment_state(&state.env, database).await.ok(),
        _ => None,
    };
    let checks = ReadyChecks {
        database: if answered { "ok" } else { "down" }.into(),
        ai_breaker: breaker.map(breaker::State::as_str).unwrap_or("unknown").into(),
    };
    if checks.ready() {
        return Json(Readiness { status: Some("ready".into()), error: None, message: None, checks }).into_response();
    }
    let message = match (answered, breaker) {
        (false, _) => "The database is not reachable",
        (true, None) => "The AI upstream's circuit breaker could not be read",
        (true, Some(_)) => "The AI upstream's circuit breaker is open: answers skip the model until it recovers",
    };
    let body = Readiness { status: None, error: Some(ErrorCode::NotReady.as_str().into()), message: Some(message.into()), checks };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// Answers 404 `not_found` for every route that does not exist.
pub async fn not_found() -> ApiError {
    ApiError::no_route()
}
