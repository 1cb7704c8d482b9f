//! How a [`Command`] travels from the worker (routes, the Room) to an
//! account's Inbox and back: one URL for every command; the command as JSON
//! in the body of a `POST`, or, for the WebSocket upgrade of
//! [`Command::Connect`] (a `GET`, which has no body), in the
//! [`COMMAND_HEADER`] header. No path names a command.

use worker::{Env, Method, Request, Response, Stub};

use super::Command;

/// The header carrying the command of an upgrade request.
const COMMAND_HEADER: &str = "x-inbox-command";
/// The one URL of every command (the host is never resolved: the stub routes it).
const URL: &str = "https://inbox/";

/// The Inbox of `account_id` (`[[durable_objects]]` binding `INBOX`, one per account).
fn stub(env: &Env, account_id: i64) -> worker::Result<Stub> {
    env.durable_object("INBOX")?.id_from_name(&account_id.to_string())?.get_stub()
}

impl Command {
    /// Sends [`Command::Connect`], the one command that upgrades (a `GET`
    /// with the command in [`COMMAND_HEADER`]), to the Inbox of
    /// `account_id`; answers the Inbox's response, its WebSocket in it.
    pub(super) async fn upgrade(&self, env: &Env, account_id: i64) -> worker::Result<Response> {
        let mut request = Request::new(URL, Method::Get)?;
        let headers = request.headers_mut()?;
        headers.set("Upgrade", "websocket")?;
        headers.set(COMMAND_HEADER, &serde_json::to_string(self)?)?;
        stub(env, account_id)?.fetch_with_request(request).await
    }

    /// Sends a command that does not upgrade to the Inbox of `account_id`
    /// (a `POST` of its JSON) through the runtime's own fetch
    /// ([`crate::runtime_stream::post`]): its answer is read in one call,
    /// not chunk by chunk through workers-rs.
    pub(super) async fn post(&self, env: &Env, account_id: i64) -> worker::Result<web_sys::Response> {
        crate::runtime_stream::post(stub(env, account_id)?, URL, &serde_json::to_string(self)?).await
    }

    /// The command `req` carries (what [`Command::post`] or [`Command::upgrade`] sent).
    pub(super) async fn receive(req: &mut Request) -> worker::Result<Command> {
        match req.headers().get(COMMAND_HEADER)? {
            Some(json) => Ok(serde_json::from_str(&json)?),
            // serde_json on the text, not `Request::json` (serde-wasm-bindgen),
            // which cannot keep the raw JSON of a published event.
            None => Ok(serde_json::from_str(&req.text().await?)?),
        }
    }
}
