//! Calls to the worker's `/auth/*` and `/v1/*` routes from the console.
//!
//! The access JWT lives in this module's memory only (never in
//! `localStorage`): a reload starts without one and gets a new one from
//! `POST /auth/refresh`, which reads the refresh token from its
//! `HttpOnly; SameSite=Strict` cookie scoped to `/auth` ([`crate::session`]).
//! A request answered 401 refreshes once and is sent again; every other
//! error reaches the person as the envelope's `message`.

use std::cell::RefCell;

use edgechat_shared::error::ErrorBody;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

thread_local! {
    /// The access JWT of the signed-in operator.
    static ACCESS_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Sets or forgets the access JWT.
pub fn set_access_token(token: Option<String>) {
    ACCESS_TOKEN.with_borrow_mut(|t| *t = token);
}

fn access_token() -> Option<String> {
    ACCESS_TOKEN.with_borrow(Clone::clone)
}

/// A failed call: the HTTP status (0 when the worker could not be reached)
/// and the error envelope's `error` code and `message`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status; 0 for a network failure.
    pub status: u16,
    /// The envelope's `error` code, e.g. `validation_error`.
    pub code: String,
    /// The envelope's `message`, shown to the person as it is.
    pub message: String,
}

impl ApiError {
    fn network(err: JsValue) -> ApiError {
        let detail = err.as_string().unwrap_or_else(|| "no answer".into());
        ApiError { status: 0, code: "network".into(), message: format!("EdgeChat cannot be reached ({detail}); check your connection.") }
    }

    fn local(message: impl Into<String>) -> ApiError {
        ApiError { status: 0, code: "client".into(), message: message.into() }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The result of a call.
pub type ApiResult<T> = Result<T, ApiError>;

/// An empty JSON object body, `{}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Empty {}

/// The body `{}` of the routes that take none.
pub const EMPTY: Empty = Empty {};

/// `body` as JSON text, through the browser's `JSON.stringify` (smaller than
/// bundling a JSON writer into the wasm).
fn to_json(body: &impl Serialize) -> ApiResult<String> {
    let value = body.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| ApiError::local(e.to_string()))?;
    js_sys::JSON::stringify(&value).map(String::from).map_err(|_| ApiError::local("The request could not be written as JSON."))
}

/// Sends one request to `path` on this origin (cookies go along for
/// same-origin `/auth` paths), with the access token when there is one.
async fn send_once(method: &str, path: &str, body: Option<&str>, content_type: &str) -> ApiResult<Response> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(ApiError::network)?;
    if let Some(token) = access_token() {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(ApiError::network)?;
    }
    if let Some(body) = body {
        headers.set("Content-Type", content_type).map_err(ApiError::network)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(ApiError::network)?;
    let window = web_sys::window().ok_or_else(|| ApiError::local("no window"))?;
    let response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(ApiError::network)?;
    Ok(response.unchecked_into())
}

/// The error of a non-2xx `response`, from its envelope.
async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    match json_body::<ErrorBody>(response).await {
        Ok(body) => ApiError { status, code: body.error, message: body.message },
        Err(_) => ApiError { status, code: "http".into(), message: format!("EdgeChat answered HTTP {status}.") },
    }
}

/// Parses a response body as JSON with the browser's parser.
async fn json_body<T: DeserializeOwned>(response: Response) -> ApiResult<T> {
    let promise = response.json().map_err(ApiError::network)?;
    let value = JsFuture::from(promise).await.map_err(ApiError::network)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| ApiError::local(format!("Unexpected answer from EdgeChat: {e}")))
}

/// Sends a request; a 401 on a `/v1` or authenticated `/auth` route
/// refreshes the session once ([`crate::session::refresh`]) and sends it
/// again. A failed refresh signs the console out.
pub async fn send_raw(method: &str, path: &str, body: Option<&str>, content_type: &str) -> ApiResult<Response> {
    let response = send_once(method, path, body, content_type).await?;
    if response.status() != 401 || access_token().is_none() {
        return Ok(response);
    }
    if crate::session::refresh().await.is_err() {
        crate::session::signed_out();
        return Ok(response);
    }
    send_once(method, path, body, content_type).await
}

/// `method path` with an optional JSON body; the answer parsed as `T`.
pub async fn call<T: DeserializeOwned>(method: &str, path: &str, body: Option<&impl Serialize>) -> ApiResult<T> {
    let body = body.map(to_json).transpose()?;
    let response = send_raw(method, path, body.as_deref(), "application/json").await?;
    if !response.ok() {
        return Err(error_of(response).await);
    }
    json_body(response).await
}

/// `GET path`, parsed as `T`.
pub async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    call::<T>("GET", path, None::<&()>).await
}

/// `POST path` with a JSON body, parsed as `T`.
pub async fn post<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> ApiResult<T> {
    call("POST", path, Some(body)).await
}

/// `PATCH path` with a JSON body, parsed as `T`.
pub async fn patch<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> ApiResult<T> {
    call("PATCH", path, Some(body)).await
}

/// `DELETE path`; the answer's body is ignored.
pub async fn delete(path: &str) -> ApiResult<()> {
    let response = send_raw("DELETE", path, None, "application/json").await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `POST path` with a JSON body when only the status matters (e.g. 202
/// Accepted); the answer's body is ignored.
pub async fn post_accepted(path: &str, body: &impl Serialize) -> ApiResult<()> {
    let body = to_json(body)?;
    let response = send_raw("POST", path, Some(&body), "application/json").await?;
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `PUT url` of a file's bytes (the single-use upload URL of
/// `POST /v1/chat/media/upload-url`: its token is the credential, so no
/// bearer goes along); the browser sets the file's `Content-Type`.
pub async fn put_file(url: &str, file: &web_sys::File) -> ApiResult<()> {
    let init = RequestInit::new();
    init.set_method("PUT");
    init.set_body(file);
    let request = Request::new_with_str_and_init(url, &init).map_err(ApiError::network)?;
    let window = web_sys::window().ok_or_else(|| ApiError::local("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(ApiError::network)?.unchecked_into();
    if response.ok() {
        Ok(())
    } else {
        Err(error_of(response).await)
    }
}

/// `POST path` with a raw text body of `content_type` (JSON Lines imports), parsed as `T`.
pub async fn post_text<T: DeserializeOwned>(path: &str, body: &str, content_type: &str) -> ApiResult<T> {
    let response = send_raw("POST", path, Some(body), content_type).await?;
    if !response.ok() {
        return Err(error_of(response).await);
    }
    json_body(response).await
}

/// `POST path` without the access token and without a retry (the cookie
/// routes of `/auth`): the answer parsed as `T`.
pub async fn post_anonymous<T: DeserializeOwned>(path: &str, body: &impl Serialize) -> ApiResult<T> {
    let body = to_json(body)?;
    let init = RequestInit::new();
    init.set_method("POST");
    let headers = Headers::new().map_err(ApiError::network)?;
    headers.set("Content-Type", "application/json").map_err(ApiError::network)?;
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body));
    let request = Request::new_with_str_and_init(path, &init).map_err(ApiError::network)?;
    let window = web_sys::window().ok_or_else(|| ApiError::local("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(ApiError::network)?.unchecked_into();
    if !response.ok() {
        return Err(error_of(response).await);
    }
    json_body(response).await
}

/// `s` percent-encoded for a URL query value.
pub fn encode(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
