//! The router: one module per namespace (ARCHITECTURE.md, "API surface").

mod health;
mod widget;

use axum::http::{header, Method};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};
use worker::Env;

use crate::error::{ApiError, ApiResult};

/// Shared state of every handler: the worker's bindings.
#[derive(Clone)]
pub struct AppState {
    pub env: Env,
}

/// Parses a request body that must be one JSON object of type `T`.
///
/// Errors: 400 `bad_request` when the body is not JSON, not an object, or a
/// field has the wrong JSON type. Missing fields are left to the type's
/// validation (422).
pub fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(ApiError::bad_json)?;
    if !value.is_object() {
        return Err(ApiError::bad_json("expected a JSON object"));
    }
    serde_json::from_value(value).map_err(ApiError::bad_json)
}

/// Every route of the worker.
pub fn router(env: Env) -> Router {
    // The widget runs on the site owner's pages, another origin than the API.
    let widget_cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::HeaderName::from_static("last-event-id")]);
    let widget_api = Router::new()
        .route("/config", get(widget::config::get_config))
        .route("/stream", post(widget::stream::post_stream))
        .route("/history", get(widget::history::get_history))
        .layer(widget_cors);
    Router::new()
        .route("/health", get(health::get_health))
        .route("/ready", get(health::get_ready))
        .nest("/api/v1/chat", widget_api)
        .fallback(health::not_found)
        .with_state(AppState { env })
}
