//! The router: one module per namespace (ARCHITECTURE.md, "API surface").

mod auth;
mod health;
pub mod operator;
mod widget;

use axum::http::{header, HeaderMap, Uri};
use axum::routing::{get, post};
use axum::Router;
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

/// The worker's public origin as the caller reached it, e.g.
/// `https://chat.example.com` (for embed snippets).
pub fn public_origin(uri: &Uri, headers: &HeaderMap) -> String {
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        return format!("{scheme}://{authority}");
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("https://{host}")
}

/// Every route of the worker.
pub fn router(env: Env) -> Router {
    let state = AppState { env };
    let widget_api = Router::new()
        .route("/config", get(widget::config::get_config))
        .route("/stream", post(widget::stream::post_stream))
        .route("/history", get(widget::history::get_history))
        .route("/events", get(widget::events::get_events))
        .route("/operator-messages", get(widget::events::get_operator_messages))
        .route("/typing", post(widget::events::post_typing))
        .route("/read", post(widget::events::post_read))
        .route("/email", post(widget::contact::post_email))
        .route("/contact", post(widget::contact::post_contact))
        .route("/rate", post(widget::rating::post_rate))
        .route("/rate/comment", post(widget::rating::post_rate_comment))
        .route("/block-status", get(widget::block_status::get_block_status))
        .route("/close", post(widget::close::post_close))
        .route("/handoff", post(widget::handoff::post_handoff))
        .route("/pending-proactive", get(widget::proactive::get_pending))
        .route("/upload-image", post(widget::uploads::post_upload_image))
        .route("/upload-file", post(widget::uploads::post_upload_file))
        .route("/files/{id}", get(widget::uploads::get_file))
        .route("/conversations", post(widget::token_conversations::post_conversation))
        .route(
            "/conversations/{visitor_token}/messages",
            get(widget::token_conversations::get_messages).post(widget::token_conversations::post_reply),
        )
        .route("/conversations/{visitor_token}/files/{activity_id}/{id}", get(widget::token_conversations::get_file))
        .layer(axum::middleware::from_fn_with_state(state.clone(), widget::cors::cors));
    let auth_api = Router::new()
        .route("/signup", post(auth::post_signup))
        .route("/login", post(auth::post_login))
        .route("/refresh", post(auth::post_refresh))
        .route("/logout", post(auth::post_logout))
        .route("/me", get(auth::get_me))
        .route("/profile", axum::routing::patch(auth::patch_profile))
        .route("/change-password", post(auth::post_change_password));
    let operator_api = Router::new()
        .route("/users", post(operator::users::post_user))
        .route("/users/{id}", axum::routing::patch(operator::users::patch_user).delete(operator::users::delete_user))
        .route("/chat/users", get(operator::users::get_users))
        .route("/chat/agents", get(operator::users::get_agents))
        .route("/sites", get(operator::sites::get_sites).post(operator::sites::post_site))
        .route("/sites/{id}", get(operator::sites::get_site).patch(operator::sites::patch_site).delete(operator::sites::delete_site))
        .route("/sites/{id}/rotate-secret", post(operator::sites::post_rotate_secret))
        .route("/sites/{id}/articles", get(operator::sites::get_articles).post(operator::sites::post_article))
        .route("/sites/{id}/proactive", get(operator::proactive::get_rules).post(operator::proactive::post_rule))
        .route(
            "/sites/{id}/proactive/{rule_id}",
            axum::routing::patch(operator::proactive::patch_rule).delete(operator::proactive::delete_rule),
        )
        .route("/sites/{id}/articles/import", post(operator::sites::post_import))
        .route("/sites/{id}/articles/search", get(operator::sites::get_article_search))
        .route(
            "/sites/{id}/articles/{article_id}",
            get(operator::sites::get_article).patch(operator::sites::patch_article).delete(operator::sites::delete_article),
        )
        .route("/chat/conversations", get(operator::conversations::get_conversations))
        .route("/chat/conversations/{id}", get(operator::conversations::get_conversation))
        .route("/chat/conversations/{id}/messages", get(operator::conversations::get_messages))
        .route("/chat/conversations/{id}/takeover", post(operator::conversations::post_takeover))
        .route("/chat/conversations/{id}/handback", post(operator::conversations::post_handback))
        .route("/chat/conversations/{id}/close", post(operator::conversations::post_close))
        .route("/chat/conversations/{id}/reopen", post(operator::conversations::post_reopen))
        .route("/chat/conversations/{id}/assign", post(operator::conversations::post_assign))
        .route("/chat/conversations/{id}/read", post(operator::conversations::post_read))
        .route("/chat/conversations/{id}/typing", post(operator::conversations::post_typing))
        .route("/chat/conversations/unread", get(operator::conversations::get_unread))
        .route("/messaging/token", get(operator::live::get_token))
        .route("/chat/live", get(operator::live::get_live))
        .route("/chat/messages/send", post(operator::conversations::post_send))
        .route("/chat/ai-active", get(operator::conversations::get_ai_active))
        .route("/chat/users/{id}/block", post(operator::conversations::post_block).delete(operator::conversations::delete_block))
        .route("/chat/blocks", get(operator::conversations::get_blocks));
    Router::new()
        .route("/health", get(health::get_health))
        .route("/ready", get(health::get_ready))
        .nest("/api/v1/chat", widget_api)
        .nest("/auth", auth_api)
        .nest("/v1", operator_api)
        .fallback(health::not_found)
        .with_state(state)
}
