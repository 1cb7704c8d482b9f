//! The operator sockets of one account: each live event to every socket
//! ([`Publish`]), a new socket for a live token ([`Connect`]), and the end of
//! an operator's sockets when their permission or credentials end
//! ([`EndSessions`]). Each command's client call sits next to its handler.

use edgechat_shared::api::auth::SessionEnd;
use edgechat_shared::api::events::LiveEvent;
use serde::{Deserialize, Serialize};
use worker::{Env, Response, WebSocketPair};

use super::tokens::{self, LiveToken};
use super::{Command, Inbox};
use crate::auth::now_secs;

/// The tag of operator `user_id`'s sockets (hibernation API tags).
fn user_tag(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// `publish`: one live event for the operator sockets of the account.
#[derive(Debug, Serialize, Deserialize)]
pub struct Publish {
    /// The event, sent to each socket as one JSON text frame.
    pub event: LiveEvent,
    /// Only these operators' sockets (an internal conversation's
    /// participants); absent: every socket of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<i64>>,
}

impl Publish {
    /// Sends the event to the Inbox of `account_id`; answers how many sockets got it.
    pub async fn send(self, env: &Env, account_id: i64) -> worker::Result<usize> {
        let mut response = Command::Publish(Box::new(self)).send(env, account_id).await?;
        Ok(response.json::<usize>().await.unwrap_or(0))
    }

    /// Sends the event to every open socket of its recipients (of everyone
    /// without a list); answers the count as JSON.
    pub(super) fn apply(self, inbox: &Inbox) -> worker::Result<Response> {
        let json = serde_json::to_string(&self.event)?;
        let sockets = match &self.recipients {
            None => inbox.state.get_websockets(),
            Some(ids) => ids.iter().flat_map(|&id| inbox.state.get_websockets_with_tag(&user_tag(id))).collect(),
        };
        // A socket being closed refuses the frame, so it is not counted.
        let sent = sockets.iter().filter(|ws| ws.send_with_str(&json).is_ok()).count();
        Response::from_json(&sent)
    }
}

/// `connect`: a new operator socket for a live token the worker verified.
#[derive(Debug, Serialize, Deserialize)]
pub struct Connect {
    /// The verified token.
    pub token: LiveToken,
}

impl Connect {
    /// Forwards the WebSocket upgrade to the Inbox of the token's account;
    /// answers the 101 response holding the socket, or `None` when the Inbox
    /// refused the token (used, expired, or its operator's sessions ended since).
    pub async fn send(self, env: &Env) -> worker::Result<Option<Response>> {
        let account_id = self.token.account_id;
        let response = Command::Connect(self).send(env, account_id).await?;
        match response.status_code() {
            101 => Ok(Some(response)),
            401 => Ok(None),
            status => Err(worker::Error::RustError(format!("the inbox answered {status} to a connect"))),
        }
    }

    /// Spends the token (401 when it cannot be) and accepts the socket, tagged with its operator.
    pub(super) async fn apply(self, inbox: &Inbox) -> worker::Result<Response> {
        if !tokens::redeem(&inbox.state.storage(), &self.token, now_secs()).await? {
            return Response::error("live token used, expired or revoked", 401);
        }
        let pair = WebSocketPair::new()?;
        inbox.state.accept_websocket_with_tags(&pair.server, &[&user_tag(self.token.user_id)]);
        Response::from_websocket(pair.client)
    }
}

/// `end_sessions`: closes every socket of an operator and refuses their
/// live tokens issued before (issue 10, hole 2).
#[derive(Debug, Serialize, Deserialize)]
pub struct EndSessions {
    /// The operator.
    pub user_id: i64,
    /// Live tokens of a lower token version are refused from now on: the
    /// operator's new version; `None` refuses every token (a removed operator).
    pub version_floor: Option<i64>,
    /// Why: the close code and reason each socket gets.
    pub why: SessionEnd,
}

impl EndSessions {
    /// Sends the command to the Inbox of `account_id`; answers how many sockets it closed.
    pub async fn send(self, env: &Env, account_id: i64) -> worker::Result<usize> {
        let mut response = Command::EndSessions(self).send(env, account_id).await?;
        if response.status_code() != 200 {
            let status = response.status_code();
            return Err(worker::Error::RustError(format!("the inbox answered {status} to end_sessions: {}", response.text().await?)));
        }
        response.json::<usize>().await
    }

    /// Raises the operator's version floor first, so no token issued before
    /// opens a socket after, then closes their sockets; answers the count as JSON.
    pub(super) async fn apply(self, inbox: &Inbox) -> worker::Result<Response> {
        tokens::raise_floor(&inbox.state.storage(), self.user_id, self.version_floor, now_secs()).await?;
        let sockets = inbox.state.get_websockets_with_tag(&user_tag(self.user_id));
        for ws in &sockets {
            if let Err(err) = ws.close(Some(self.why.close_code()), Some(self.why.reason())) {
                worker::console_warn!("closing a socket of operator {} failed: {err}", self.user_id);
            }
        }
        Response::from_json(&sockets.len())
    }
}
