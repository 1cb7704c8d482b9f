//! A signed-in user's side of the widget (seed 003, issue 14): the page's
//! `EdgeChat('login', {token})` hands over the identity JWT its backend
//! minted; [`AppApi::login`] exchanges it for an app session token
//! (`POST /api/v1/app/session`), sent as `Authorization: Bearer` on the
//! `/api/v1/app/*` calls. The token lives in memory only (never stored).

use edgechat_shared::api::app::AppSession;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::api::{fetch, js_error, json_body, ApiError};

/// The `/api/v1/app/*` routes as one signed-in user.
#[derive(Debug, Clone)]
pub struct AppApi {
    /// Origin of the EdgeChat worker.
    pub base: String,
    /// The app session token.
    pub token: String,
}

/// A ticket as `GET /api/v1/app/tickets` lists it (the fields the widget shows).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TicketRow {
    pub id: i64,
    pub reference: String,
    pub subject: String,
    /// `submitted`, `in_progress`, `waiting_on_customer`, `resolved` or `closed`.
    pub status: String,
    #[serde(default)]
    pub rated: bool,
}

/// `{"tickets": […]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TicketRows {
    pub tickets: Vec<TicketRow>,
}

/// One status change of a ticket's timeline.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TimelineRow {
    pub at: String,
    #[serde(default)]
    pub from_status: Option<String>,
    pub to_status: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `GET /api/v1/app/tickets/{id}`: the ticket's fields and its timeline.
#[derive(Debug, Clone, Deserialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: TicketRow,
    #[serde(default)]
    pub timeline: Vec<TimelineRow>,
}

/// A ticket status as the user reads it (`in_progress` → `In progress`).
pub fn status_label(status: &str) -> String {
    let spaced = status.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[derive(Serialize)]
struct Login<'a> {
    site_key: &'a str,
    token: &'a str,
}

async fn call(base: &str, method: &str, path: &str, bearer: Option<&str>, body: Option<JsValue>) -> Result<Response, ApiError> {
    let headers = Headers::new().map_err(js_error)?;
    if let Some(token) = bearer {
        headers.set("Authorization", &format!("Bearer {token}")).map_err(js_error)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").map_err(js_error)?;
        init.set_body(&js_sys::JSON::stringify(&body).map_err(js_error)?.into());
    }
    init.set_headers(&headers);
    fetch(Request::new_with_str_and_init(&format!("{base}/api/v1/app/{path}"), &init).map_err(js_error)?).await
}

fn to_js<T: Serialize>(body: &T) -> Result<JsValue, ApiError> {
    body.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| e.to_string())
}

impl AppApi {
    /// `POST /api/v1/app/session {site_key, token}`: the session for the page's identity JWT.
    pub async fn login(base: &str, site_key: &str, jwt: &str) -> Result<AppApi, ApiError> {
        let body = to_js(&Login { site_key, token: jwt })?;
        let session: AppSession = json_body(call(base, "POST", "session", None, Some(body)).await?).await?;
        Ok(AppApi { base: base.into(), token: session.token })
    }

    /// `DELETE /api/v1/app/session`: signs out (errors ignored: the token is dropped anyway).
    pub async fn logout(&self) {
        let _ = call(&self.base, "DELETE", "session", Some(&self.token), None).await;
    }

    /// `GET /api/v1/app/{path}`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        json_body(call(&self.base, "GET", path, Some(&self.token), None).await?).await
    }

    /// `POST /api/v1/app/{path}` with a JSON body; answers the response for the caller to read.
    pub async fn post<B: Serialize>(&self, path: &str, body: &B) -> Result<Response, ApiError> {
        call(&self.base, "POST", path, Some(&self.token), Some(to_js(body)?)).await
    }

    /// [`AppApi::post`] reading a JSON answer.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, ApiError> {
        json_body(self.post(path, body).await?).await
    }
}

thread_local! {
    static SESSION: std::cell::RefCell<Option<AppApi>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the signed-in user's session (for `EdgeChat('logout')`).
pub fn set_session(session: Option<AppApi>) {
    SESSION.with_borrow_mut(|s| *s = session);
}

/// Ends the signed-in user's session, if any (`DELETE /api/v1/app/session`, in the background).
pub fn sign_out() {
    if let Some(app) = SESSION.with_borrow_mut(Option::take) {
        wasm_bindgen_futures::spawn_local(async move { app.logout().await });
    }
}
