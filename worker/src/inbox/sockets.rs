//! The operator sockets of one account: each live event to every socket
//! ([`Publish`]), a new socket for a live token ([`Connect`]), and the end of
//! an operator's sockets when their permission or credentials end
//! ([`EndSessions`]). Each command's client call sits next to its handler.
//! A new socket past [`OPERATOR_SOCKETS_PER_OPERATOR`] or
//! [`OPERATOR_SOCKETS_PER_ACCOUNT`] closes an older one ([`close_over_caps`]).

use std::collections::HashMap;

use edgechat_shared::api::auth::{SessionEnd, SESSION_EXPIRED_CLOSE};
use edgechat_shared::limits::{LIVE_SOCKET_OVER_CAP_CLOSE, OPERATOR_SOCKETS_PER_ACCOUNT, OPERATOR_SOCKETS_PER_OPERATOR};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use worker::{Env, Response, WebSocket, WebSocketPair};

use super::tokens::{self, LiveToken};
use super::{Command, Inbox};
use crate::auth::now_secs;

/// The tag of operator `user_id`'s sockets (hibernation API tags).
fn user_tag(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// The attachment of every socket (it survives hibernation): when it was
/// accepted, to find the oldest, and when the access JWT that opened it
/// expires.
#[derive(Debug, Serialize, Deserialize)]
struct Opened {
    /// `Date.now()` at acceptance, in ms.
    at_ms: f64,
    /// The access JWT's `exp` ([`LiveToken::session_ends_at`], Unix
    /// seconds); 0 for a socket accepted by an earlier version, which kept
    /// none: it is closed at the first event, and its client reconnects.
    #[serde(default)]
    session_ends_at: i64,
}

/// The close code and reason of a socket whose access JWT expired: the
/// client reconnects with a fresh token (nothing ended, unlike [`SessionEnd`]).
const SESSION_EXPIRED: (u16, &str) = (SESSION_EXPIRED_CLOSE, "session expired");

/// When the access JWT of socket `ws` expires (Unix seconds; 0 when its
/// attachment does not say).
fn session_ends_at(ws: &WebSocket) -> i64 {
    ws.deserialize_attachment::<Opened>().ok().flatten().map_or(0, |opened| opened.session_ends_at)
}

/// Closes every socket of `inbox` whose access JWT has expired at `now`,
/// when one may have (`inbox.next_session_end`, kept in memory: one scan of
/// the attachments per wake and per expiry, not per event); remembers the
/// next expiry of those left.
fn close_expired(inbox: &Inbox, now: i64) {
    if inbox.next_session_end.get().is_some_and(|next| next > now) {
        return;
    }
    let mut next = i64::MAX;
    for ws in inbox.state.get_websockets() {
        let ends = session_ends_at(&ws);
        if ends <= now {
            let _ = ws.close(Some(SESSION_EXPIRED.0), Some(SESSION_EXPIRED.1));
        } else {
            next = next.min(ends);
        }
    }
    inbox.next_session_end.set(Some(next));
}

/// An open socket of the Inbox, as [`close_over_caps`] weighs it.
struct OpenSocket {
    user_id: i64,
    at_ms: f64,
    ws: WebSocket,
}

/// The sockets of `inbox` still open (not closing), oldest first.
fn open_sockets(inbox: &Inbox) -> Vec<OpenSocket> {
    let mut open: Vec<OpenSocket> = inbox
        .state
        .get_websockets()
        .into_iter()
        .filter(|ws| ws.as_ref().ready_state() == web_sys::WebSocket::OPEN)
        .filter_map(|ws| {
            let user_id = inbox.state.get_tags(&ws).iter().find_map(|tag| tag.strip_prefix("user:")?.parse().ok())?;
            let at_ms = ws.deserialize_attachment::<Opened>().ok().flatten().map_or(0.0, |o| o.at_ms);
            Some(OpenSocket { user_id, at_ms, ws })
        })
        .collect();
    // Stable: sockets accepted in the same ms keep the Inbox's (acceptance) order.
    open.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    open
}

/// Which sockets to close so that operator `user_id` holds at most
/// `per_operator` and the account at most `per_account`: `owners` are the
/// operators of the open sockets, oldest socket first; answers indexes into
/// it, each with the cap it enforces. Each time the oldest socket of the
/// operator goes (for the account: of the operator holding the most, the
/// one with the oldest socket among equals), so the newest socket is never
/// the one closed while its operator holds another.
fn over_caps(owners: &[i64], user_id: i64, per_operator: usize, per_account: usize) -> Vec<(usize, Cap)> {
    let mut open: Vec<(usize, i64)> = owners.iter().copied().enumerate().collect();
    let mut closed = Vec::new();
    while open.iter().filter(|&&(_, owner)| owner == user_id).count() > per_operator {
        let oldest = open.iter().position(|&(_, owner)| owner == user_id).expect("the operator has sockets");
        closed.push((open.remove(oldest).0, Cap::Operator));
    }
    while open.len() > per_account {
        let mut counts: HashMap<i64, usize> = HashMap::new();
        for &(_, owner) in &open {
            *counts.entry(owner).or_default() += 1;
        }
        let most = counts.values().copied().max().unwrap_or(0);
        // `open` is oldest first: the first socket of a heaviest operator is their oldest.
        let oldest = open.iter().position(|(_, owner)| counts[owner] == most).expect("a heaviest operator has sockets");
        closed.push((open.remove(oldest).0, Cap::Account));
    }
    closed
}

/// The cap a socket was closed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cap {
    /// [`OPERATOR_SOCKETS_PER_OPERATOR`].
    Operator,
    /// [`OPERATOR_SOCKETS_PER_ACCOUNT`].
    Account,
}

impl Cap {
    /// The close reason (at most 123 bytes, RFC 6455 §5.5).
    fn reason(self) -> String {
        match self {
            Cap::Operator => format!("over {OPERATOR_SOCKETS_PER_OPERATOR} live sockets for this operator: the oldest closes"),
            Cap::Account => format!("over {OPERATOR_SOCKETS_PER_ACCOUNT} live sockets for this account: the oldest closes"),
        }
    }
}

/// Closes the sockets [`over_caps`] names after operator `user_id` opened
/// one, with close code [`LIVE_SOCKET_OVER_CAP_CLOSE`] and the cap's reason.
fn close_over_caps(inbox: &Inbox, user_id: i64) {
    let open = open_sockets(inbox);
    let owners: Vec<i64> = open.iter().map(|s| s.user_id).collect();
    for (index, cap) in over_caps(&owners, user_id, OPERATOR_SOCKETS_PER_OPERATOR, OPERATOR_SOCKETS_PER_ACCOUNT) {
        let socket = &open[index];
        if let Err(err) = socket.ws.close(Some(LIVE_SOCKET_OVER_CAP_CLOSE), Some(cap.reason())) {
            worker::console_warn!("closing a socket of operator {} over the cap failed: {err}", socket.user_id);
        }
    }
}

/// `publish`: one live event for the operator sockets of the account.
#[derive(Debug, Serialize, Deserialize)]
pub struct Publish {
    /// The event's JSON ([`crate::live::EncodedEvent`]), sent to each
    /// socket as it is, one text frame.
    pub event: Box<RawValue>,
    /// Only these operators' sockets (an internal conversation's
    /// participants); absent: every socket of the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<i64>>,
}

impl Publish {
    /// Sends the event to the Inbox of `account_id`; answers how many sockets got it.
    pub async fn send(self, env: &Env, account_id: i64) -> worker::Result<usize> {
        let response = Command::Publish(Box::new(self)).post(env, account_id).await?;
        Ok(crate::runtime_stream::text(&response).await.ok().and_then(|sent| sent.parse().ok()).unwrap_or(0))
    }

    /// Sends the event to every open socket of its recipients (of everyone
    /// without a list); answers the count as JSON.
    pub(super) fn apply(self, inbox: &Inbox) -> worker::Result<Response> {
        close_expired(inbox, now_secs());
        let json = self.event.get();
        let sockets = match &self.recipients {
            None => inbox.state.get_websockets(),
            Some(ids) => ids.iter().flat_map(|&id| inbox.state.get_websockets_with_tag(&user_tag(id))).collect(),
        };
        // A socket being closed refuses the frame, so it is not counted.
        let sent = sockets.iter().filter(|ws| ws.send_with_str(json).is_ok()).count();
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
        let response = Command::Connect(self).upgrade(env, account_id).await?;
        match response.status_code() {
            101 => Ok(Some(response)),
            401 => Ok(None),
            status => Err(worker::Error::RustError(format!("the inbox answered {status} to a connect"))),
        }
    }

    /// Spends the token (401 when it cannot be), accepts the socket, tagged
    /// with its operator, then closes older sockets over the caps ([`close_over_caps`]).
    pub(super) async fn apply(self, inbox: &Inbox) -> worker::Result<Response> {
        // A token of an access JWT that has expired since opens nothing.
        if self.token.session_ends_at <= now_secs() || !tokens::redeem(&inbox.state.storage(), &self.token, now_secs()).await? {
            return Response::error("live token used, expired or revoked", 401);
        }
        let pair = WebSocketPair::new()?;
        inbox.state.accept_websocket_with_tags(&pair.server, &[&user_tag(self.token.user_id)]);
        pair.server.serialize_attachment(Opened { at_ms: js_sys::Date::now(), session_ends_at: self.token.session_ends_at })?;
        // (Unknown until a scan: the next event scans them all.)
        if let Some(next) = inbox.next_session_end.get() {
            inbox.next_session_end.set(Some(next.min(self.token.session_ends_at)));
        }
        close_over_caps(inbox, self.token.user_id);
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
        let response = Command::EndSessions(self).post(env, account_id).await?;
        let text = crate::runtime_stream::text(&response).await?;
        match (response.status(), text.parse::<usize>()) {
            (200, Ok(closed)) => Ok(closed),
            (status, _) => Err(worker::Error::RustError(format!("the inbox answered {status} to end_sessions: {text}"))),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ninth_socket_of_an_operator_closes_their_oldest_only() {
        // Operator 1 holds sockets 0, 2..=9 (oldest first); operator 2 holds socket 1.
        let owners = [1, 2, 1, 1, 1, 1, 1, 1, 1, 1];
        assert_eq!(over_caps(&owners, 1, 8, 256), vec![(0, Cap::Operator)]);
        assert_eq!(over_caps(&owners[..9], 1, 8, 256), vec![], "eight are allowed");
    }

    #[test]
    fn over_the_account_cap_the_heaviest_operators_oldest_socket_closes() {
        // Operator 3 holds the most (3); operator 1 holds the oldest socket but only two.
        let owners = [1, 3, 2, 3, 1, 3, 2];
        assert_eq!(over_caps(&owners, 2, 8, 6), vec![(1, Cap::Account)]);
        // Two over: operator 3 goes down to 2, then the tie (1, 3 and 2 at two each) loses its oldest socket: operator 1's.
        assert_eq!(over_caps(&owners, 2, 8, 5), vec![(1, Cap::Account), (0, Cap::Account)]);
    }

    #[test]
    fn the_new_socket_is_not_closed_while_its_operator_holds_an_older_one() {
        // Every operator holds one socket, the newest (6) is the account's seventh.
        let owners = [1, 2, 3, 4, 5, 6, 7];
        assert_eq!(over_caps(&owners, 7, 8, 6), vec![(0, Cap::Account)], "the oldest socket of the account goes");
        let owners = [1, 1, 1, 7];
        assert_eq!(over_caps(&owners, 7, 2, 256), vec![], "the per-operator cap counts only the new socket's operator");
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        for cap in [Cap::Operator, Cap::Account] {
            assert!(cap.reason().len() <= 123, "{}", cap.reason());
        }
    }
}
