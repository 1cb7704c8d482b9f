//! Calls to the public widget API (`/api/v1/chat/*`, seeds 001 and 004).

use edgechat_shared::api::history::HistoryResponse;
#[cfg(feature = "app")]
use edgechat_shared::api::sites::RequestReason;
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::visitor::IdentityQuery;
use edgechat_shared::limits::{ANSWER_STREAM_TIMEOUT_MS, MAX_ANSWER_BYTES};
use edgechat_shared::sse;
use js_sys::{encode_uri_component, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, ReadableStreamDefaultReader, Request, RequestInit, Response};

use crate::wire::{self, Body, Json};

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

/// The site's settings as the panels use them: the fields of
/// `GET /api/v1/chat/config` (`WidgetConfig`, seed 004) that they show,
/// read from the browser's JSON. The greetings per language stay a
/// JavaScript object, read by [`SiteConfig::greeting_in`].
#[derive(Debug, Clone)]
pub struct SiteConfig {
    /// The header's title: the site's `title`, else its `name`.
    pub title: String,
    /// The greeting in the site's own language.
    pub greeting: String,
    /// `greetings`: `{language tag (lower case): greeting}` for other languages.
    greetings: Option<Json>,
    /// The site colour (`#rrggbb`).
    pub theme_color: String,
    /// Readable text on the site colour (`#rrggbb`).
    pub theme_text_color: String,
    /// The site colour darkened to contrast at least 4.5:1 with white (`#rrggbb`).
    pub theme_ink_color: String,
    /// The header's avatar, if any (absolute URL or a path on the worker).
    pub avatar_url: Option<String>,
    /// The site's CSS for the shadow root (CSS only).
    pub custom_css: String,
    /// The request reasons signed-in users choose from (seed 003).
    #[cfg(feature = "app")]
    pub reasons: Vec<RequestReason>,
}

impl SiteConfig {
    /// The greeting in language `code` (`greetings`), else the site's own [`SiteConfig::greeting`].
    pub fn greeting_in(&self, code: &str) -> String {
        self.greetings.as_ref().and_then(|all| all.opt_str(code)).unwrap_or_else(|| self.greeting.clone())
    }
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
    // The error envelope's `message` (`{"error": …, "message": …}`).
    let message = json_body(response).await.ok().and_then(|e| e.opt_str("message"));
    Err(message.unwrap_or_else(|| ["HTTP ", &status.to_string()].concat()))
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

/// Parses a response body as JSON with the browser's own parser (see [`wire`]).
pub(crate) async fn json_body(response: Response) -> Result<Json, ApiError> {
    Ok(Json(JsFuture::from(response.json().map_err(js_error)?).await.map_err(js_error)?))
}

async fn get_json(url: &str) -> Result<Json, ApiError> {
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
        let query: Vec<String> = pairs.map(|(k, v)| [k, "=", &String::from(encode_uri_component(v))].concat()).collect();
        [&self.base, "/api/v1/chat/", path, "?", &query.join("&")].concat()
    }

    /// `GET /api/v1/chat/config`.
    ///
    /// Asked of the server, not the browser cache (`cache: "no-cache"`): the
    /// loader's copy, cached up to 5 minutes, themes the launcher before any
    /// interaction; the open panel shows the settings as they are now.
    pub async fn config(&self) -> Result<SiteConfig, ApiError> {
        let init = RequestInit::new();
        init.set_cache(web_sys::RequestCache::NoCache);
        let request = Request::new_with_str_and_init(&self.url("config", &[("site_key", &self.site_key)]), &init).map_err(js_error)?;
        let config = json_body(fetch(request).await?).await?;
        let title = config.str("title");
        Ok(SiteConfig {
            title: if title.is_empty() { config.str("name") } else { title },
            greeting: config.str("greeting"),
            greetings: config.obj("greetings"),
            theme_color: config.str("theme_color"),
            theme_text_color: config.str("theme_text_color"),
            theme_ink_color: config.str("theme_ink_color"),
            avatar_url: config.opt_str("avatar_url"),
            custom_css: config.str("custom_css"),
            #[cfg(feature = "app")]
            reasons: config.list("reasons").iter().map(|r| RequestReason { main: r.str("main"), subs: r.strings("subs") }).collect(),
        })
    }

    /// `GET /api/v1/chat/history` for `session_id`: the newest page of the
    /// conversation (older messages are not shown).
    pub async fn history(&self, session_id: &str) -> Result<HistoryResponse, ApiError> {
        let history = get_json(&self.url("history", &[("site_key", &self.site_key), ("session_id", session_id)])).await?;
        Ok(HistoryResponse {
            success: history.bool("success"),
            conversation_id: history.opt_int("conversation_id"),
            messages: wire::messages(&history, "messages"),
            has_more: history.bool("has_more"),
        })
    }

    /// `{site_key, session_id}`, the start of most visitor request bodies.
    fn visitor(&self, session_id: &str) -> Body {
        Body::new().str("site_key", &self.site_key).str("session_id", session_id)
    }

    async fn post_json(&self, path: &str, body: Body) -> Result<Response, ApiError> {
        let headers = Headers::new().map_err(js_error)?;
        headers.set("Content-Type", "application/json").map_err(js_error)?;
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&body.to_json()));
        // `site_key` in the URL too, so the CORS preflight names the site.
        let url = self.url(path, &[("site_key", &self.site_key)]);
        fetch(Request::new_with_str_and_init(&url, &init).map_err(js_error)?).await
    }

    /// `POST /api/v1/chat/typing`: the visitor is typing.
    pub async fn typing(&self, session_id: &str) -> Result<(), ApiError> {
        self.post_json("typing", self.visitor(session_id).set("typing", true)).await.map(|_| ())
    }

    /// `POST /api/v1/chat/read`: the visitor has seen messages up to `seq`.
    pub async fn read(&self, session_id: &str, seq: i64) -> Result<(), ApiError> {
        self.post_json("read", self.visitor(session_id).int("seq", seq)).await.map(|_| ())
    }

    /// `POST /api/v1/chat/contact` (or `/email` when only an email is given).
    pub async fn contact(&self, session_id: &str, email: &str, name: &str, phone: &str) -> Result<(), ApiError> {
        fn present(v: &str) -> Option<&str> {
            Some(v.trim()).filter(|v| !v.is_empty())
        }
        let (email, name, phone) = (present(email), present(name), present(phone));
        if phone.is_none() && name.is_none() {
            return self.post_json("email", self.visitor(session_id).str("email", email.unwrap_or_default())).await.map(|_| ());
        }
        let body = self.visitor(session_id).opt_str("email", email).opt_str("phone", phone).opt_str("name", name);
        self.post_json("contact", body).await.map(|_| ())
    }

    /// `POST /api/v1/chat/rate` then, with a comment, `POST /api/v1/chat/rate/comment`.
    pub async fn rate(&self, session_id: &str, score: i64, comment: &str) -> Result<(), ApiError> {
        self.post_json("rate", self.visitor(session_id).int("score", score)).await?;
        if !comment.trim().is_empty() {
            self.post_json("rate/comment", self.visitor(session_id).str("comment", comment.trim())).await?;
        }
        Ok(())
    }

    /// `POST /api/v1/chat/close`: the visitor ends the conversation.
    pub async fn close(&self, session_id: &str) -> Result<(), ApiError> {
        self.post_json("close", self.visitor(session_id)).await.map(|_| ())
    }

    /// `POST /api/v1/chat/transcript`: email the conversation to the
    /// visitor's contact email ("email me a copy"; `email` left out).
    pub async fn transcript(&self, session_id: &str) -> Result<(), ApiError> {
        self.post_json("transcript", self.visitor(session_id)).await.map(|_| ())
    }

    /// `POST /api/v1/chat/handoff`: the visitor accepts the offer of a
    /// person; answers the notice to show.
    pub async fn handoff(&self, session_id: &str) -> Result<String, ApiError> {
        let accepted = json_body(self.post_json("handoff", self.visitor(session_id)).await?).await?;
        Ok(accepted.str("message"))
    }

    /// `GET /api/v1/chat/block-status`.
    pub async fn blocked(&self, session_id: &str) -> Result<bool, ApiError> {
        let status = get_json(&self.url("block-status", &[("site_key", &self.site_key), ("session_id", session_id)])).await?;
        Ok(status.bool("blocked"))
    }

    /// `POST /api/v1/chat/stream`: calls `on_event` for each SSE event as it arrives.
    ///
    /// Errors (besides the request's own): the stream ends without a `done`
    /// or `error` event, an event is over `sse::MAX_SSE_EVENT_BYTES`, the
    /// answer's chunks are over [`MAX_ANSWER_BYTES`], or the stream is still
    /// open after [`ANSWER_STREAM_TIMEOUT_MS`] (the body is then cancelled).
    pub async fn stream(&self, request: &StreamRequest, mut on_event: impl FnMut(StreamEvent)) -> Result<(), ApiError> {
        let body = self
            .visitor(&request.session_id)
            .str("message", &request.message)
            .opt_str("lang", request.lang.as_deref())
            .opt_str("message_id", request.message_id.as_deref())
            .set("attachments", wire::int_array(&request.attachments))
            .opt_str("page_url", request.page_url.as_deref());
        let response = self.post_json("stream", body).await?;
        let body = response.body().ok_or("The answer has no body")?;
        // The body's own reader (the Streams standard): each `read()` is a
        // promise of `{done, value: Uint8Array}`; `cancel()` ends it.
        let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        let timed_out = std::rc::Rc::new(std::cell::Cell::new(false));
        let (timer_reader, timer_flag) = (reader.clone(), timed_out.clone());
        crate::dom::after(ANSWER_STREAM_TIMEOUT_MS as i32, move || {
            timer_flag.set(true);
            let _ = timer_reader.cancel();
        });
        let mut parser = sse::Parser::new();
        let (mut answer_bytes, mut ended) = (0, false);
        loop {
            let read = JsFuture::from(reader.read()).await.map_err(js_error)?;
            let field = |name: &str| js_sys::Reflect::get(&read, &JsValue::from_str(name)).unwrap_or_default();
            if field("done").is_truthy() {
                break;
            }
            let bytes = Uint8Array::new(&field("value")).to_vec();
            let frames = parser.try_push(&bytes).map_err(|e| e.to_string());
            for frame in frames.as_deref().unwrap_or_default() {
                let Some(event) = Json::parse(&frame.data).as_ref().and_then(wire::stream_event) else { continue };
                match &event {
                    StreamEvent::Chunk { content } => answer_bytes += content.len(),
                    _ => ended = true,
                }
                if answer_bytes > MAX_ANSWER_BYTES {
                    break;
                }
                on_event(event);
            }
            if frames.is_err() || answer_bytes > MAX_ANSWER_BYTES {
                let _ = reader.cancel();
                return Err(frames.err().unwrap_or_else(|| format!("The answer is longer than {MAX_ANSWER_BYTES} bytes")));
            }
        }
        match (ended, timed_out.get()) {
            (true, _) => Ok(()),
            (false, true) => Err("The answer took too long".into()),
            (false, false) => Err("The answer was cut off".into()),
        }
    }
}
