//! A signed-in user's side of the widget (seed 003, issue 14): the page's
//! `EdgeChat('login', {token})` hands over the identity JWT its backend
//! minted; [`AppApi::login`] exchanges it for an app session token
//! (`POST /api/v1/app/session`), sent as `Authorization: Bearer` on the
//! `/api/v1/app/*` calls. The token lives in memory only (never stored).

use edgechat_shared::api::app::{AppConversation, Poll, Reason, Replied};
use edgechat_shared::api::conversations::Status;
use wasm_bindgen::JsValue;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::api::{fetch, js_error, json_body, ApiError};
use crate::wire::{self, Body, Json};

/// The `/api/v1/app/*` routes as one signed-in user.
#[derive(Debug, Clone)]
pub struct AppApi {
    /// Origin of the EdgeChat worker.
    pub base: String,
    /// The app session token.
    pub token: String,
}

/// A ticket as `GET /api/v1/app/tickets` lists it (the fields the widget shows).
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub id: i64,
    pub reference: String,
    pub subject: String,
    /// `submitted`, `in_progress`, `waiting_on_customer`, `resolved` or `closed`.
    pub status: String,
    pub rated: bool,
}

impl TicketRow {
    fn read(json: &Json) -> TicketRow {
        TicketRow {
            id: json.int("id"),
            reference: json.str("reference"),
            subject: json.str("subject"),
            status: json.str("status"),
            rated: json.bool("rated"),
        }
    }
}

/// One status change of a ticket's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub at: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
}

/// `GET /api/v1/app/tickets/{id}`: the ticket's fields (flattened into the
/// same object) and its timeline.
#[derive(Debug, Clone)]
pub struct TicketView {
    pub ticket: TicketRow,
    pub timeline: Vec<TimelineRow>,
}

/// A ticket status as the user reads it (`in_progress` → `In progress`).
pub fn status_label(status: &str) -> String {
    let mut label = status.replace('_', " ");
    if let Some(first) = label.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    label
}

/// A conversation of `GET /api/v1/app/conversations` (`AppConversation`).
fn conversation(json: &Json) -> AppConversation {
    AppConversation {
        id: json.int("id"),
        state: Status::parse(&json.str("state")).unwrap_or(Status::Open),
        snoozed_until: json.opt_str("snoozed_until"),
        reason: json.obj("reason").map(|r| Reason { main: r.str("main"), sub: r.opt_str("sub") }),
        last_message: json.obj("last_message").map(|m| wire::message(&m)),
        unread: json.int("unread"),
        rated: json.bool("rated"),
        created_at: json.str("created_at"),
        updated_at: json.str("updated_at"),
    }
}

async fn call(base: &str, method: &str, path: &str, bearer: Option<&str>, body: Option<Body>) -> Result<Response, ApiError> {
    let headers = Headers::new().map_err(js_error)?;
    if let Some(token) = bearer {
        headers.set("Authorization", &["Bearer ", token].concat()).map_err(js_error)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        headers.set("Content-Type", "application/json").map_err(js_error)?;
        init.set_body(&JsValue::from_str(&body.to_json()));
    }
    init.set_headers(&headers);
    fetch(Request::new_with_str_and_init(&[base, "/api/v1/app/", path].concat(), &init).map_err(js_error)?).await
}

impl AppApi {
    /// `POST /api/v1/app/session {site_key, token}`: the session for the page's identity JWT.
    pub async fn login(base: &str, site_key: &str, jwt: &str) -> Result<AppApi, ApiError> {
        let body = Body::new().str("site_key", site_key).str("token", jwt);
        let session = json_body(call(base, "POST", "session", None, Some(body)).await?).await?;
        Ok(AppApi { base: base.into(), token: session.str("token") })
    }

    /// `DELETE /api/v1/app/session`: signs out (errors ignored: the token is dropped anyway).
    pub async fn logout(&self) {
        let _ = call(&self.base, "DELETE", "session", Some(&self.token), None).await;
    }

    /// `GET /api/v1/app/{path}`.
    async fn get(&self, path: &str) -> Result<Json, ApiError> {
        json_body(call(&self.base, "GET", path, Some(&self.token), None).await?).await
    }

    /// `POST /api/v1/app/{path}` with a JSON body, reading the JSON answer.
    async fn post(&self, path: &str, body: Body) -> Result<Json, ApiError> {
        json_body(call(&self.base, "POST", path, Some(&self.token), Some(body)).await?).await
    }

    /// `GET /api/v1/app/conversations`: the user's conversations, newest first.
    pub async fn conversations(&self) -> Result<Vec<AppConversation>, ApiError> {
        Ok(self.get("conversations").await?.list("conversations").iter().map(conversation).collect())
    }

    /// `GET /api/v1/app/tickets`: the user's tickets.
    pub async fn tickets(&self) -> Result<Vec<TicketRow>, ApiError> {
        Ok(self.get("tickets").await?.list("tickets").iter().map(TicketRow::read).collect())
    }

    /// `POST /api/v1/app/conversations {body?, reason?}`: the new conversation's id.
    pub async fn start(&self, body: Option<&str>, reason: Option<&Reason>) -> Result<i64, ApiError> {
        let mut request = Body::new().opt_str("body", body);
        if let Some(reason) = reason {
            let topic = Body::new().str("main", &reason.main).opt_str("sub", reason.sub.as_deref());
            request = request.set("reason", topic.into_js());
        }
        Ok(self.post("conversations", request).await?.int("id"))
    }

    /// `GET /api/v1/app/conversations/{id}/poll?since=` (ms).
    pub async fn poll(&self, id: i64, since: i64) -> Result<Poll, ApiError> {
        let path = ["conversations/", &id.to_string(), "/poll?since=", &since.to_string()].concat();
        let news = self.get(&path).await?;
        Ok(Poll {
            messages: wire::messages(&news, "messages"),
            latest_timestamp: news.int("latest_timestamp"),
            state: Status::parse(&news.str("state")).unwrap_or(Status::Open),
            snoozed_until: news.opt_str("snoozed_until"),
            rated: news.bool("rated"),
        })
    }

    /// `POST /api/v1/app/conversations/{id}/read`.
    pub async fn read(&self, id: i64) {
        let _ = self.post(&["conversations/", &id.to_string(), "/read"].concat(), Body::new()).await;
    }

    /// `POST /api/v1/app/conversations/{id}/reply {body}`: the stored message and the AI's answer, if any.
    pub async fn reply(&self, id: i64, text: &str) -> Result<Replied, ApiError> {
        let body = Body::new().str("body", text).set("attachment_ids", wire::int_array(&[]));
        let replied = self.post(&["conversations/", &id.to_string(), "/reply"].concat(), body).await?;
        Ok(Replied {
            message: replied.obj("message").map(|m| wire::message(&m)).ok_or("The reply was not stored")?,
            answer: replied.obj("answer").map(|m| wire::message(&m)),
        })
    }

    /// `GET /api/v1/app/tickets/{id}`.
    pub async fn ticket(&self, id: i64) -> Result<TicketView, ApiError> {
        let json = self.get(&["tickets/", &id.to_string()].concat()).await?;
        let timeline = json
            .list("timeline")
            .iter()
            .map(|e| TimelineRow {
                at: e.str("at"),
                from_status: e.opt_str("from_status"),
                to_status: e.str("to_status"),
                note: e.opt_str("note"),
            })
            .collect();
        Ok(TicketView { ticket: TicketRow::read(&json), timeline })
    }

    /// `POST /api/v1/app/csat {stars, comment?, conversation_id | ticket_id}`.
    pub async fn csat(&self, body: Body) -> Result<(), ApiError> {
        self.post("csat", body).await.map(|_| ())
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
