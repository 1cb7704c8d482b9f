//! The router: one module per namespace (ARCHITECTURE.md, "API surface"),
//! each route registered from its handler's `#[utoipa::path]` attribute.

mod app;
pub(crate) mod auth;
pub mod body_cap;
pub mod console;
mod health;
mod inbound;
pub mod operator;
pub(crate) mod widget;

use axum::http::{header, HeaderMap, Uri};
use axum::Router;
use edgechat_shared::api::list_cap;
use worker::Env;

use crate::error::{ApiError, ApiResult};
use crate::openapi::{self, api_routes, ApiRouter};
use body_cap::BodyCap;

/// Shared state of every handler: the worker's bindings.
#[derive(Clone)]
pub struct AppState {
    pub env: Env,
}

/// Parses a request body that must be one JSON object of type `T`.
///
/// Errors: 400 `bad_request` when the body is not JSON, not an object, or a
/// field has the wrong JSON type; 422 `too_many_items` naming the field's
/// path (`request_reasons[0].subs`) when a list is over its cap
/// (`edgechat_shared::api::list_cap`). Missing fields are left to the
/// type's validation (422).
///
/// `T` is read straight from the parsed JSON; the path of a list over its
/// cap is found afterwards, on that error only
/// ([`list_cap::over_cap_path`]). Tracking the path on every read
/// (`serde_path_to_error`) wrapped each request type's decoder: 31 KB of
/// the worker's gzip.
pub fn json_object<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(ApiError::bad_json)?;
    if !value.is_object() {
        return Err(ApiError::bad_json("expected a JSON object"));
    }
    T::deserialize(&value).map_err(|err| match list_cap::too_many_items(&err.to_string()) {
        Some(max) => {
            let path = list_cap::over_cap_path(&mut value, max, |v| T::deserialize(v).err().map(|e| e.to_string()));
            ApiError::too_many_items(&path, max)
        }
        None => ApiError::bad_json(err),
    })
}

/// Puts the plain-text rejections of axum's extractors (a path or query
/// parameter that does not parse) into the error envelope
/// `{"error", "message"}` that every other answer uses
/// ([`ApiError::from_rejection`]: 404 for a path, 422 for a query), and
/// axum's empty 405 for a method a path does not take (405
/// `method_not_allowed`, its `Allow` header kept). Our own errors are JSON
/// already and pass through, as does every other answer.
async fn enveloped_rejections(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse;

    if response.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED && response.headers().get(header::CONTENT_TYPE).is_none() {
        let mut answer = ApiError::method_not_allowed().into_response();
        if let Some(allow) = response.headers().get(header::ALLOW) {
            answer.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return answer;
    }
    let plain = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    if !plain || !response.status().is_client_error() {
        return response;
    }
    let status = response.status().as_u16();
    // Rejection texts are one line; 4 KiB bounds a pathological one.
    let text = match axum::body::to_bytes(response.into_body(), 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    ApiError::from_rejection(status, &text).into_response()
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

/// Every route of the worker: the documented groups below, the CORS layer
/// of the widget API, the console's pages (not API routes: undocumented),
/// and 404 `not_found` for anything else.
pub fn router(env: Env) -> Router {
    let state = AppState { env };
    let cors = axum::middleware::from_fn_with_state(state.clone(), widget::cors::cors);
    Router::new()
        .merge(service_api().into_router())
        .merge(widget_api().into_router().layer(cors.clone()))
        .merge(app_api().into_router().layer(cors))
        .merge(auth_api().into_router())
        .merge(operator_api().into_router())
        .merge(webhooks_api().into_router())
        .merge(console::router())
        .fallback(health::not_found)
        .layer(axum::middleware::map_response(enveloped_rejections))
        // For the routes' body caps (`body_cap::enforce`), which run
        // without the state: the upload cap reads `MAX_FILE_MB`.
        .layer(axum::Extension(state.clone()))
        .with_state(state)
}

/// The OpenAPI document of [`router`]'s routes, as committed in
/// `worker/openapi.json` (see [`crate::openapi`]).
#[cfg(test)]
pub fn openapi() -> String {
    crate::openapi::document([service_api(), widget_api(), app_api(), auth_api(), operator_api(), webhooks_api()])
}

/// `GET /health`, `GET /ready` and `GET /openapi.json`.
fn service_api() -> ApiRouter {
    api_routes!(ApiRouter::new("service"), health::get_health, health::get_ready, openapi::get_openapi)
}

/// The public widget API, `/api/v1/chat/*` (seeds 001 and 004).
fn widget_api() -> ApiRouter {
    api_routes!(
        ApiRouter::new("widget"),
        widget::config::get_config,
        widget::stream::post_stream,
        widget::history::get_history,
        widget::events::get_events,
        widget::events::get_operator_messages,
        widget::events::post_typing,
        widget::events::post_read,
        widget::contact::post_email,
        widget::contact::post_contact,
        widget::rating::post_rate,
        widget::rating::post_rate_comment,
        widget::block_status::get_block_status,
        widget::close::post_close,
        widget::handoff::post_handoff,
        widget::proactive::get_pending,
        widget::uploads::post_upload_image @ BodyCap::Upload,
        widget::uploads::post_upload_file @ BodyCap::Upload,
        widget::uploads::get_file,
        widget::token_conversations::post_conversation,
        widget::token_conversations::get_messages,
        widget::token_conversations::post_reply,
        widget::token_conversations::get_file,
        operator::chat::post_upload @ BodyCap::Upload,
        widget::transcript::post_transcript,
    )
}

/// Signed-in users of a site's app, `/api/v1/app/*` (seed 003, issue 14):
/// the app session token of [`app::AppUser`], CORS as the widget API.
fn app_api() -> ApiRouter {
    api_routes!(
        ApiRouter::new("app"),
        app::session::post_session,
        app::session::delete_session,
        app::get_me,
        app::conversations::get_conversations,
        app::conversations::post_conversation,
        app::conversations::get_conversation,
        app::conversations::get_poll,
        app::conversations::post_read,
        app::conversations::post_close,
        app::conversations::post_reply,
        app::conversations::get_events,
        app::csat::post_csat,
        app::complaints::post_complaint,
        app::tickets::get_tickets,
        app::tickets::get_search,
        app::tickets::get_ticket,
        app::tickets::post_reply,
        app::tickets::post_clarify,
        app::devices::post_register,
        app::devices::delete_device,
        app::devices::get_web_push_key,
        app::notification_settings::get_notification_settings,
        app::notification_settings::put_notification_settings,
        app::diagnostics::post_diagnostics @ BodyCap::Diagnostics,
    )
}

/// Accounts and tokens, `/auth/*` (seed 002).
fn auth_api() -> ApiRouter {
    api_routes!(
        ApiRouter::new("auth"),
        auth::post_signup,
        auth::post_login,
        auth::post_refresh,
        auth::post_logout,
        auth::get_me,
        auth::patch_profile,
        auth::post_change_password,
    )
}

/// The operator API, `/v1/*` (seeds 002, 000, 003).
fn operator_api() -> ApiRouter {
    api_routes!(
        ApiRouter::new("operator"),
        operator::users::post_user,
        operator::users::patch_user,
        operator::users::delete_user,
        operator::users::get_users,
        operator::users::get_agents,
        operator::sites::get_sites,
        operator::sites::post_site,
        operator::sites::get_site,
        operator::sites::patch_site,
        operator::sites::delete_site,
        operator::sites::post_rotate_secret,
        operator::sites::get_articles,
        operator::sites::post_article @ BodyCap::Article,
        operator::sites::get_article_search,
        operator::sites::post_import @ BodyCap::Import,
        operator::sites::get_article,
        operator::sites::patch_article @ BodyCap::Article,
        operator::sites::delete_article,
        operator::proactive::get_rules,
        operator::proactive::post_rule,
        operator::proactive::patch_rule,
        operator::proactive::delete_rule,
        operator::conversations::get_conversations,
        operator::conversations::get_unread,
        operator::conversations::get_conversation,
        operator::conversations::get_messages,
        operator::conversations::post_takeover,
        operator::conversations::post_handback,
        operator::conversations::post_close,
        operator::conversations::post_reopen,
        operator::conversations::post_snooze,
        operator::conversations::post_assign,
        operator::conversations::post_read,
        operator::conversations::post_typing,
        operator::conversations::post_send,
        operator::media::post_upload_url,
        operator::media::put_upload @ BodyCap::Upload,
        operator::media::post_confirm,
        operator::media::get_media,
        operator::media::post_media @ BodyCap::Upload,
        operator::conversations::get_ai_active,
        operator::conversations::post_block,
        operator::conversations::delete_block,
        operator::conversations::get_blocks,
        operator::team::post_conversation,
        operator::team::patch_conversation,
        operator::team::delete_conversation,
        operator::team::get_participants,
        operator::team::post_participants,
        operator::team::delete_participant,
        operator::team::post_mute,
        operator::team::delete_mute,
        operator::team::post_archive,
        operator::team::delete_archive,
        operator::team::get_user_search,
        operator::messages::get_search,
        operator::messages::post_sync,
        operator::messages::post_forward,
        operator::messages::patch_message,
        operator::messages::get_edits,
        operator::messages::post_reaction,
        operator::live::get_token,
        operator::live::get_live,
        operator::chat::get_history,
        operator::chat::get_by_user,
        operator::chat::post_save,
        operator::chat::post_update,
        operator::chat::post_live,
        operator::chat::get_message,
        operator::api_keys::post_api_key,
        operator::api_keys::get_api_keys,
        operator::api_keys::delete_api_key,
        operator::transcripts::post_transcript_send,
        inbound::post_endpoint,
        inbound::get_endpoints,
        inbound::delete_endpoint,
        operator::webhooks::post_webhook,
        operator::webhooks::get_webhooks,
        operator::webhooks::get_webhook,
        operator::webhooks::patch_webhook,
        operator::webhooks::delete_webhook,
        operator::webhooks::get_deliveries,
        operator::webhooks::post_resend,
        operator::tickets::post_ticket,
        operator::tickets::get_tickets,
        operator::tickets::get_ticket,
        operator::tickets::patch_ticket,
        operator::ratings::get_ratings,
        operator::complaints::get_complaints,
        operator::complaints::patch_complaint,
    )
}

/// Public webhook receivers, `/webhooks/*` (seed 003: HMAC-verified).
fn webhooks_api() -> ApiRouter {
    api_routes!(ApiRouter::new("webhooks"), inbound::post_inbound @ BodyCap::Inbound)
}
