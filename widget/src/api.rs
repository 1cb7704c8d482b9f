//! Calls to the public widget API (`/api/v1/chat/*`, seeds 001 and 004).

use edgechat_shared::api::config::WidgetConfig;
use edgechat_shared::api::contact::{ContactRequest, EmailRequest};
use edgechat_shared::api::events::{TypingRequest, VisitorRead};
use edgechat_shared::api::handoff::HandoffResponse;
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::rating::{RateCommentRequest, RateRequest};
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::visitor::{BlockStatus, IdentityQuery, VisitorQuery};
use edgechat_shared::error::ErrorBody;
use edgechat_shared::sse;
use futures_util::StreamExt;
use js_sys::{encode_uri_component, Uint8Array, JSON};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

/// Where the API is and which site this widget belongs to.
#[derive(Debug, Clone)]
pub struct Api {
    /// Origin of the EdgeChat worker.
    pub base: String,
    /// The site's public key.
    pub site_key: String,
    /// The logged-in visitor's identity from `EdgeChat('identify', …)`, sent with every request.
    pub identity: IdentityQuery,
}

/// A failed call, as a message for the visitor.
pub type ApiError = String;

pub(crate) fn js_error(err: JsValue) -> ApiError {
    err.as_string().unwrap_or_else(|| "The chat service cannot be reached".into())
}

pub(crate) async fn fetch(request: Request) -> Result<Response, ApiError> {
    let window = web_sys::window().ok_or("no window")?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(js_error)?.unchecked_into();
    if response.ok() {
        return Ok(response);
    }
    let status = response.status();
    Err(json_body::<ErrorBody>(response).await.map(|e| e.message).unwrap_or_else(|_| format!("HTTP {status}")))
}

/// The host page's address (`document.URL`, the same as `location.href`:
/// the widget runs in the host page), sent with each message as `page_url`
/// so operators see where the visitor is. `None` for a page the API would
/// refuse (not http(s), or over `MAX_PAGE_URL_CHARS`), so that such a page
/// never keeps a visitor from writing.
pub fn page_url() -> Option<String> {
    let url = web_sys::window()?.document()?.url().ok()?;
    let web = url.starts_with("https://") || url.starts_with("http://");
    (web && url.chars().count() <= edgechat_shared::limits::MAX_PAGE_URL_CHARS).then_some(url)
}

/// Parses a response body as JSON with the browser's own parser (smaller
/// than bundling one into the wasm).
pub(crate) async fn json_body<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let value = JsFuture::from(response.json().map_err(js_error)?).await.map_err(js_error)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| e.to_string())
}

async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    json_body(fetch(Request::new_with_str(url).map_err(js_error)?).await?).await
}

impl Api {
    /// `{base}/api/v1/chat/{path}?…` with `query` and the visitor's identity.
    pub fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        let identity = [
            ("user_id", &self.identity.user_id),
            ("user_hash", &self.identity.user_hash),
            ("email", &self.identity.email),
            ("name", &self.identity.name),
        ];
        let pairs = query.iter().map(|(k, v)| (*k, *v)).chain(identity.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))));
        let query: Vec<String> = pairs.map(|(k, v)| format!("{k}={}", String::from(encode_uri_component(v)))).collect();
        format!("{}/api/v1/chat/{path}?{}", self.base, query.join("&"))
    }

    /// `GET /api/v1/chat/config`.
    pub async fn config(&self) -> Result<WidgetConfig, ApiError> {
        get_json(&self.url("config", &[("site_key", &self.site_key)])).await
    }

    /// `GET /api/v1/chat/history` for `session_id`.
    pub async fn history(&self, session_id: &str) -> Result<HistoryResponse, ApiError> {
        get_json(&self.url("history", &[("site_key", &self.site_key), ("session_id", session_id)])).await
    }

    async fn post_json<T: serde::Serialize>(&self, path: &str, body: &T) -> Result<Response, ApiError> {
        let headers = Headers::new().map_err(js_error)?;
        headers.set("Content-Type", "application/json").map_err(js_error)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        let body = serde_wasm_bindgen::to_value(body).map_err(|e| e.to_string())?;
        init.set_body(&JSON::stringify(&body).map_err(js_error)?.into());
        // `site_key` in the URL too, so the CORS preflight names the site.
        let url = self.url(path, &[("site_key", &self.site_key)]);
        fetch(Request::new_with_str_and_init(&url, &init).map_err(js_error)?).await
    }

    /// `POST /api/v1/chat/typing`: the visitor is typing.
    pub async fn typing(&self, session_id: &str) -> Result<(), ApiError> {
        let body = TypingRequest { site_key: self.site_key.clone(), session_id: session_id.into(), typing: true };
        self.post_json("typing", &body).await.map(|_| ())
    }

    /// `POST /api/v1/chat/read`: the visitor has seen messages up to `seq`.
    pub async fn read(&self, session_id: &str, seq: i64) -> Result<(), ApiError> {
        let body = VisitorRead { site_key: self.site_key.clone(), session_id: session_id.into(), seq };
        self.post_json("read", &body).await.map(|_| ())
    }

    /// `POST /api/v1/chat/contact` (or `/email` when only an email is given).
    pub async fn contact(&self, session_id: &str, email: &str, name: &str, phone: &str) -> Result<(), ApiError> {
        let present = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        let request = ContactRequest {
            site_key: self.site_key.clone(),
            session_id: session_id.into(),
            email: present(email),
            phone: present(phone),
            name: present(name),
        };
        if request.phone.is_none() && request.name.is_none() {
            let body = EmailRequest { site_key: request.site_key, session_id: request.session_id, email: email.trim().into() };
            return self.post_json("email", &body).await.map(|_| ());
        }
        self.post_json("contact", &request).await.map(|_| ())
    }

    /// `POST /api/v1/chat/rate` then, with a comment, `POST /api/v1/chat/rate/comment`.
    pub async fn rate(&self, session_id: &str, score: i64, comment: &str) -> Result<(), ApiError> {
        let rate = RateRequest { site_key: self.site_key.clone(), session_id: session_id.into(), score };
        self.post_json("rate", &rate).await?;
        if !comment.trim().is_empty() {
            let body =
                RateCommentRequest { site_key: self.site_key.clone(), session_id: session_id.into(), comment: comment.trim().into() };
            self.post_json("rate/comment", &body).await?;
        }
        Ok(())
    }

    /// `POST /api/v1/chat/close`: the visitor ends the conversation.
    pub async fn close(&self, session_id: &str) -> Result<(), ApiError> {
        let body = VisitorQuery { site_key: self.site_key.clone(), session_id: session_id.into() };
        self.post_json("close", &body).await.map(|_| ())
    }

    /// `POST /api/v1/chat/transcript`: email the conversation to the
    /// visitor's contact email ("email me a copy"; `email` left out).
    pub async fn transcript(&self, session_id: &str) -> Result<(), ApiError> {
        let body = VisitorQuery { site_key: self.site_key.clone(), session_id: session_id.into() };
        self.post_json("transcript", &body).await.map(|_| ())
    }

    /// `POST /api/v1/chat/handoff`: the visitor accepts the offer of a
    /// person; answers the notice to show.
    pub async fn handoff(&self, session_id: &str) -> Result<String, ApiError> {
        let body = VisitorQuery { site_key: self.site_key.clone(), session_id: session_id.into() };
        let accepted: HandoffResponse = json_body(self.post_json("handoff", &body).await?).await?;
        Ok(accepted.message)
    }

    /// `GET /api/v1/chat/block-status`.
    pub async fn blocked(&self, session_id: &str) -> Result<bool, ApiError> {
        let status: BlockStatus = get_json(&self.url("block-status", &[("site_key", &self.site_key), ("session_id", session_id)])).await?;
        Ok(status.blocked)
    }

    /// `POST /api/v1/chat/stream`: calls `on_event` for each SSE event as it arrives.
    pub async fn stream(&self, request: &StreamRequest, mut on_event: impl FnMut(StreamEvent)) -> Result<(), ApiError> {
        let response = self.post_json("stream", request).await?;
        let body = response.body().ok_or("The answer has no body")?;
        let mut chunks = wasm_streams::ReadableStream::from_raw(body).into_stream();
        let mut parser = sse::Parser::new();
        while let Some(chunk) = chunks.next().await {
            let bytes = Uint8Array::new(&chunk.map_err(js_error)?).to_vec();
            for frame in parser.push(&bytes) {
                let event = JSON::parse(&frame.data).ok().and_then(|v| serde_wasm_bindgen::from_value::<StreamEvent>(v).ok());
                if let Some(event) = event {
                    on_event(event);
                }
            }
        }
        Ok(())
    }
}
