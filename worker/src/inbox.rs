//! The `Inbox` Durable Object: one per account, holding every operator's
//! WebSocket (`/v1/chat/live`) with the hibernation API, so idle operators
//! cost nothing. Rooms publish each [`LiveEvent`] of the account's
//! conversations here and the Inbox sends it to every socket.
//!
//! WebSocket tokens (`GET /v1/messaging/token`, seed 002) are single-use and
//! live [`WS_TOKEN_SECONDS`]: the JWT never appears in a URL.

use edgechat_shared::api::events::{LiveEvent, MessagingToken, WS_TOKEN_SECONDS};
use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, Method, Request, RequestInit, Response, State, WebSocket, WebSocketIncomingMessage, WebSocketPair,
};

use crate::auth::{now_secs, random_hex};

fn stub(env: &Env, account_id: i64) -> worker::Result<worker::Stub> {
    env.durable_object("INBOX")?.id_from_name(&account_id.to_string())?.get_stub()
}

/// Sends `event` to every operator socket of `account_id`; answers how many got it.
pub async fn publish(env: &Env, account_id: i64, event: &LiveEvent) -> worker::Result<usize> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(serde_json::to_string(event)?.into()));
    let mut response = stub(env, account_id)?.fetch_with_request(Request::new_with_init("https://inbox/publish", &init)?).await?;
    Ok(response.json::<usize>().await.unwrap_or(0))
}

/// A new single-use WebSocket token for operator `user_id` of `account_id`.
pub async fn issue_token(env: &Env, account_id: i64, user_id: i64) -> worker::Result<MessagingToken> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(serde_json::to_string(&user_id)?.into()));
    let mut response = stub(env, account_id)?.fetch_with_request(Request::new_with_init("https://inbox/token", &init)?).await?;
    let secret: String = response.json().await?;
    let token = format!("{account_id}.{secret}");
    Ok(MessagingToken { url: format!("/v1/chat/live?token={token}"), token, expires_in: WS_TOKEN_SECONDS })
}

/// Forwards a WebSocket upgrade with `token` to its account's Inbox; the
/// Inbox answers 101 with the socket, or 401 for an unknown, used or expired token.
pub async fn connect(env: &Env, token: &str) -> worker::Result<Option<Response>> {
    let Some((account, secret)) = token.split_once('.') else { return Ok(None) };
    let Ok(account_id) = account.parse::<i64>() else { return Ok(None) };
    if secret.len() != 64 || !secret.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut request = Request::new(&format!("https://inbox/connect?token={secret}"), Method::Get)?;
    request.headers_mut()?.set("Upgrade", "websocket")?;
    let response = stub(env, account_id)?.fetch_with_request(request).await?;
    Ok((response.status_code() == 101).then_some(response))
}

#[derive(Debug, Serialize, Deserialize)]
struct PendingToken {
    user_id: i64,
    expires_at: i64,
}

#[derive(Debug, Deserialize)]
struct ConnectQuery {
    token: String,
}

/// The live hub of one account's operators.
#[durable_object]
pub struct Inbox {
    state: State,
}

impl DurableObject for Inbox {
    fn new(state: State, _env: Env) -> Self {
        Inbox { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/publish") => {
                let event: LiveEvent = req.json().await?;
                let json = serde_json::to_string(&event)?;
                let sent = self.state.get_websockets().iter().filter(|ws| ws.send_with_str(&json).is_ok()).count();
                Response::from_json(&sent)
            }
            (Method::Post, "/token") => {
                let user_id: i64 = req.json().await?;
                let secret = random_hex(32);
                let pending = PendingToken { user_id, expires_at: now_secs() + WS_TOKEN_SECONDS };
                self.state.storage().put(&format!("token:{secret}"), pending).await?;
                Response::from_json(&secret)
            }
            (Method::Get, "/connect") => {
                let query: ConnectQuery = req.query()?;
                let key = format!("token:{}", query.token);
                let pending: Option<PendingToken> = self.state.storage().get(&key).await?;
                let Some(pending) = pending else { return Response::error("unknown token", 401) };
                // Single use: gone whether it is still valid or not.
                self.state.storage().delete(&key).await?;
                if pending.expires_at < now_secs() {
                    return Response::error("expired token", 401);
                }
                let pair = WebSocketPair::new()?;
                self.state.accept_websocket_with_tags(&pair.server, &[&format!("user:{}", pending.user_id)]);
                Response::from_websocket(pair.client)
            }
            _ => Response::error("unknown inbox route", 404),
        }
    }

    async fn websocket_message(&self, ws: WebSocket, message: WebSocketIncomingMessage) -> worker::Result<()> {
        if let WebSocketIncomingMessage::String(text) = message {
            if text == "ping" {
                ws.send_with_str("pong")?;
            }
        }
        Ok(())
    }

    async fn websocket_close(&self, ws: WebSocket, code: usize, reason: String, _was_clean: bool) -> worker::Result<()> {
        // Echo the close so the socket completes its closing handshake.
        let code = if code == 1005 || code == 1006 { 1000 } else { code as u16 };
        let _ = ws.close(Some(code), Some(reason));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> worker::Result<()> {
        Ok(())
    }
}
