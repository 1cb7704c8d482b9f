//! Integration tests of the live channels (issue 4) against a real
//! `wrangler dev`: the visitor's event stream `GET /api/v1/chat/events`
//! (preamble, replay by `after_seq` and `Last-Event-ID`, live events), its
//! polling fallback `GET /api/v1/chat/operator-messages`, the visitor's
//! typing and read signals, the operator WebSocket `/v1/chat/live` and its
//! single-use tokens, message delivery statuses, unread counts, ordering
//! under concurrency, and resumption after a `wrangler dev` restart.
//!
//! Trials run in parallel against one server, so each signs up its own
//! account (from its own `CF-Connecting-IP`, `10.88.x.y`) and brings its own
//! visitors. Every wait is bounded by [`WAIT`]; negative claims ("the visitor
//! does not see its own typing", "account B sees nothing of account A") are
//! checked by ordering: the next event after the one that must not come is
//! the one that must.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use edgechat_shared::api::auth::{TokenResponse, SESSION_EXPIRED_CLOSE};
use edgechat_shared::api::conversations::{MessageList, SentMessage, Status};
use edgechat_shared::api::events::{LiveEvent, OperatorMessages, UnreadCounts, OPERATOR_MESSAGES_PAGE};
use edgechat_shared::api::history::{HistoryResponse, HISTORY_PAGE};
use edgechat_shared::api::sites::Site;
use edgechat_shared::api::stream::StreamRequest;
use edgechat_shared::api::{ChatMessage, MessageStatus, Mode, Role};
use edgechat_shared::sse::{Frame, Parser};
use edgechat_tests::socket::{messaging_token, ws_url};
use edgechat_tests::*;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite;
use xtask::wrangler::WranglerDev;

fn main() {
    let server = Server::start("live");
    run_trials(
        server,
        trials![server;
            // GET /api/v1/chat/events: preamble, replay, refusals
            event_stream_opens_with_retry_and_mode_and_status_snapshots_then_replays_the_history,
            event_stream_snapshots_show_the_current_mode_and_status,
            after_seq_replays_only_the_later_messages_then_continues_live,
            last_event_id_header_wins_over_after_seq,
            a_long_conversation_replays_page_by_page_once_each_and_in_order,
            events_without_a_conversation_are_404,
            events_with_a_malformed_session_are_422,
            events_of_a_blocked_visitor_are_403_until_unblocked,
            a_last_event_id_that_is_not_a_seq_is_422,
            a_visitor_message_and_its_ai_answer_reach_the_visitor_stream_live,
            // GET /api/v1/chat/operator-messages
            polling_returns_the_operator_messages_after_since_and_the_mode,
            // typing
            operator_typing_reaches_the_visitor_stream_and_the_operator_socket_with_the_author_name,
            visitor_typing_reaches_the_operator_socket_but_not_the_visitor_stream,
            // read marks and message status
            visitor_read_mark_reads_operator_messages_up_to_seq_and_notifies_the_operator_socket,
            visitor_read_below_seq_1_is_422,
            operator_read_mark_reads_visitor_messages_and_reaches_the_visitor_stream,
            operator_message_is_delivered_only_when_broadcast_to_an_open_visitor_stream,
            visitor_message_is_delivered_only_when_an_operator_socket_is_connected,
            // mode and status
            takeover_handback_close_and_reopen_reach_the_visitor_stream_and_the_operator_socket_in_order,
            assignment_and_visitor_blocks_reach_operator_sockets_but_not_the_visitor_stream,
            // GET /v1/chat/conversations/unread
            unread_counts_list_the_callers_conversations_with_unread_visitor_messages,
            // GET /v1/messaging/token, /v1/chat/live
            messaging_token_is_single_use,
            a_garbage_or_missing_socket_token_is_401,
            a_request_that_is_no_websocket_handshake_is_400_and_spends_no_token,
            socket_answers_ping_with_pong,
            an_operator_socket_sees_nothing_of_another_account,
            a_new_conversation_reaches_the_operator_socket_before_its_first_message,
            a_socket_token_with_a_forged_signature_or_account_is_401,
            // the end of an operator's permission or credentials ends their sockets and tokens (issue 10, hole 2)
            removing_an_operator_closes_their_socket_and_refuses_their_access_token,
            demoting_an_operator_closes_their_socket_and_refuses_their_access_token,
            changing_the_password_closes_the_operators_sockets_and_refuses_earlier_access_tokens,
            logging_out_everywhere_closes_the_operators_sockets_and_refuses_their_tokens,
            a_socket_closes_once_the_access_token_that_opened_it_expires,
            a_socket_token_issued_before_the_operators_sessions_ended_is_refused,
            // ordering, replay, concurrency, restart
            operator_reply_reaches_two_visitor_streams_and_the_operator_socket_in_order,
            reconnect_with_last_event_id_replays_exactly_the_missed_messages,
            twenty_concurrent_senders_get_seqs_1_to_n_without_loss_or_duplicates,
            acknowledged_messages_survive_a_wrangler_restart_and_clients_resume,
            // ids and Room bindings (issue 10)
            deleting_a_site_ends_its_visitor_streams_and_its_conversations_stay_gone,
            ids_of_deleted_sites_operators_and_conversations_are_never_given_again,
            an_operator_reply_with_the_visitors_message_id_is_stored_not_dropped,
        ],
    )
}

// ---------------------------------------------------------------- helpers

/// The longest wait for any one event, frame or status change.
const WAIT: Duration = Duration::from_secs(15);

/// The owner each trial signs up.
const OWNER: Owner = Owner { tag: "live", name: "Lena Live", account: "Live", site: "Live shop" };

/// The client of long-lived event streams: no total timeout (an event
/// stream never ends by itself), only a connect timeout.
fn stream_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| reqwest::Client::builder().connect_timeout(Duration::from_secs(10)).build().expect("stream client"))
}

/// Asserts a 204 answer with `what` in the failure message.
async fn assert_no_content(response: reqwest::Response, what: &str) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 204, "{what}: {body}");
}

/// Client addresses no other login uses (`10.88.x.y`, a range operator_api.rs does not use).
static FRESH_IPS: IpPool = IpPool::new("10.88");

/// Adds an agent to `tenant`'s account and logs them in.
async fn add_agent(host: &dyn Host, tenant: &Tenant) -> TokenResponse {
    add_operator(host, tenant, "agent").await
}

/// Adds an operator with `role` (`agent`, `admin`, `owner`) to `tenant`'s account and logs them in.
async fn add_operator(host: &dyn Host, tenant: &Tenant, role: &str) -> TokenResponse {
    let email = format!("{}@example.com", unique(role));
    let body = json!({"email": email, "display_name": "Alex Agent", "role": role, "password": PASSWORD});
    let _: Value = json_of(post(host, "/v1/users", tenant.token(), body).await, 201).await;
    json_of(post_public(host, &FRESH_IPS, "/auth/login", &json!({"email": email, "password": PASSWORD})).await, 200).await
}

/// One visitor of a site with a conversation.
#[derive(Debug, Clone)]
struct Visitor {
    site_key: String,
    session: String,
    conversation: i64,
}

/// `POST /api/v1/chat/stream`, read to its end (as [`Server::stream`], on any host).
async fn stream_post(host: &dyn Host, request: &StreamRequest) -> Streamed {
    let started = Instant::now();
    let response = host
        .client()
        .post(format!("{}/api/v1/chat/stream", host.base()))
        .json(request)
        .send()
        .await
        .expect("POST /api/v1/chat/stream reaches the server");
    Streamed::read(response, started).await
}

/// A visitor message through the widget API; panics unless it is answered with `done`.
async fn ask(host: &dyn Host, visitor: &Visitor, message: &str) -> Streamed {
    let streamed = stream_post(host, &visitor_request(&visitor.site_key, &visitor.session, message)).await;
    assert_eq!(streamed.status, 200, "{message}: {:?}", streamed.events);
    assert_eq!(streamed.done().conversation_id, visitor.conversation);
    streamed
}

/// A new visitor of `site_key` says hello and the AI answers: seq 1 (visitor) and 2 (AI).
async fn new_conversation(host: &dyn Host, site_key: &str) -> Visitor {
    let session = new_session_id();
    let streamed = stream_post(host, &visitor_request(site_key, &session, "Hello, can someone look at my order?")).await;
    assert_eq!(streamed.status, 200, "first message: {:?}", streamed.events);
    let meta = streamed.done();
    assert_eq!((meta.seq, meta.answer_seq), (1, Some(2)), "a new conversation holds the question and the AI answer");
    Visitor { site_key: site_key.into(), session, conversation: meta.conversation_id }
}

/// Every message of a conversation (up to 100), in seq order.
async fn messages(host: &dyn Host, token: &str, id: i64) -> Vec<ChatMessage> {
    let list: MessageList =
        json_of(get(host, &format!("{}?after_seq=0&limit=100", conversation_path(id, "/messages")), token).await, 200).await;
    assert!(!list.has_more, "tests keep conversations under 100 messages");
    list.messages
}

fn seqs(messages: &[ChatMessage]) -> Vec<i64> {
    messages.iter().map(|m| m.seq).collect()
}

/// What identifies a stored message, whatever its delivery status.
fn key(m: &ChatMessage) -> (i64, i64, Role, String, Option<String>) {
    (m.id, m.seq, m.role, m.content.clone(), m.author_name.clone())
}

async fn status_of(host: &dyn Host, token: &str, id: i64, seq: i64) -> Option<MessageStatus> {
    let all = messages(host, token, id).await;
    all.iter().find(|m| m.seq == seq).unwrap_or_else(|| panic!("conversation {id} has no seq {seq}: {all:?}")).status
}

/// Polls until message `seq` has `status` (the worker writes `delivered`
/// right after the broadcast); panics after [`WAIT`].
async fn wait_for_status(host: &dyn Host, token: &str, id: i64, seq: i64, status: MessageStatus) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = status_of(host, token, id, seq).await;
        if got == Some(status) {
            return;
        }
        assert!(Instant::now() < deadline, "message {seq} of conversation {id} is {got:?}, not {status:?}, after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn operator_reply(host: &dyn Host, token: &str, conversation_id: i64, content: &str) -> ChatMessage {
    let body = json!({"conversation_id": conversation_id, "content": content});
    let sent: SentMessage = json_of(post(host, "/v1/chat/messages/send", token, body).await, 201).await;
    assert!(!sent.duplicate);
    sent.message
}

async fn operator_typing(host: &dyn Host, token: &str, id: i64, typing: bool) {
    let response = post(host, &conversation_path(id, "/typing"), token, json!({ "typing": typing })).await;
    assert_no_content(response, "operator typing").await;
}

async fn visitor_typing(host: &dyn Host, visitor: &Visitor, typing: bool) -> reqwest::Response {
    let body = json!({"site_key": visitor.site_key, "session_id": visitor.session, "typing": typing});
    host.client().post(format!("{}/api/v1/chat/typing", host.base())).json(&body).send().await.expect("POST /typing reaches the server")
}

async fn visitor_read(host: &dyn Host, visitor: &Visitor, seq: i64) -> reqwest::Response {
    let body = json!({"site_key": visitor.site_key, "session_id": visitor.session, "seq": seq});
    host.client().post(format!("{}/api/v1/chat/read", host.base())).json(&body).send().await.expect("POST /read reaches the server")
}

async fn block_visitor(host: &dyn Host, token: &str, visitor_id: i64) {
    let _: Value = json_of(post(host, &format!("/v1/chat/users/{visitor_id}/block"), token, json!({"reason": "spam"})).await, 200).await;
}

async fn unblock_visitor(host: &dyn Host, token: &str, visitor_id: i64) {
    let response = send(host, Method::DELETE, &format!("/v1/chat/users/{visitor_id}/block"), token, None).await;
    assert_no_content(response, "unblock").await;
}

async fn poll_operator_messages(host: &dyn Host, visitor: &Visitor, since: Option<i64>) -> OperatorMessages {
    let mut query = vec![("site_key", visitor.site_key.clone()), ("session_id", visitor.session.clone())];
    if let Some(since) = since {
        query.push(("since", since.to_string()));
    }
    let response = host
        .client()
        .get(format!("{}/api/v1/chat/operator-messages", host.base()))
        .query(&query)
        .send()
        .await
        .expect("GET /operator-messages reaches the server");
    json_of(response, 200).await
}

async fn unread(host: &dyn Host, token: &str) -> (Vec<(i64, i64)>, i64) {
    let counts: UnreadCounts = json_of(get(host, "/v1/chat/conversations/unread", token).await, 200).await;
    let mut list: Vec<(i64, i64)> = counts.conversations.iter().map(|c| (c.conversation_id, c.unread_count)).collect();
    list.sort();
    (list, counts.total)
}

fn conversation_of(event: &LiveEvent) -> i64 {
    event.conversation_id().expect("a conversation's event")
}

/// The message of a `message` event; panics on any other event.
fn message_of(event: LiveEvent) -> ChatMessage {
    match event {
        LiveEvent::Message { message, .. } => message,
        other => panic!("expected a message event, got {other:?}"),
    }
}

// ---------------------------------------------------------------- visitor event stream client

/// `GET /api/v1/chat/events` as sent, without reading the body.
async fn events_request(
    host: &dyn Host,
    site_key: &str,
    session: &str,
    after_seq: Option<i64>,
    last_event_id: Option<&str>,
) -> reqwest::Response {
    let mut query = vec![("site_key", site_key.to_string()), ("session_id", session.to_string())];
    if let Some(after) = after_seq {
        query.push(("after_seq", after.to_string()));
    }
    let mut request = stream_client().get(format!("{}/api/v1/chat/events", host.base())).query(&query);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    request.send().await.expect("GET /api/v1/chat/events reaches the server")
}

/// An open visitor event stream. A spawned task feeds the body to the SSE
/// parser and hands over the frames; dropping the client disconnects it.
struct EventStream {
    conversation: i64,
    frames: mpsc::UnboundedReceiver<Frame>,
    raw: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl EventStream {
    /// Opens the stream of `visitor`; panics unless it answers 200 `text/event-stream`.
    async fn open(host: &dyn Host, visitor: &Visitor, after_seq: Option<i64>, last_event_id: Option<&str>) -> EventStream {
        let response = events_request(host, &visitor.site_key, &visitor.session, after_seq, last_event_id).await;
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        if status != 200 {
            panic!("GET /api/v1/chat/events answered {status}: {}", response.text().await.unwrap_or_default());
        }
        assert!(content_type.starts_with("text/event-stream"), "content-type {content_type:?}");
        let (tx, frames) = mpsc::unbounded_channel();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let sink = raw.clone();
        let reader = tokio::spawn(async move {
            let mut parser = Parser::new();
            let mut body = response.bytes_stream();
            while let Some(Ok(chunk)) = body.next().await {
                sink.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(&chunk);
                for frame in parser.push(&chunk) {
                    if tx.send(frame).is_err() {
                        return;
                    }
                }
            }
        });
        EventStream { conversation: visitor.conversation, frames, raw, reader }
    }

    /// Opens the stream and checks its preamble: answers the snapshot's mode and status.
    async fn open_past_preamble(
        host: &dyn Host,
        visitor: &Visitor,
        after_seq: Option<i64>,
        last_event_id: Option<&str>,
    ) -> (EventStream, Mode, Status) {
        let mut stream = EventStream::open(host, visitor, after_seq, last_event_id).await;
        let (mode, status) = stream.preamble().await;
        (stream, mode, status)
    }

    /// The bytes received so far, as text.
    fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Waits for the server to end the stream (skipping frames before); panics
    /// when it is still open after [`WAIT`].
    async fn ended(&mut self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while let Ok(Some(_)) = tokio::time::timeout_at(deadline, self.frames.recv()).await {}
        assert!(tokio::time::Instant::now() < deadline, "the stream is still open; received so far:\n{}", self.raw_text());
    }

    /// The next frame; panics when none comes within [`WAIT`] or the stream ended.
    async fn frame(&mut self) -> Frame {
        match tokio::time::timeout(WAIT, self.frames.recv()).await {
            Ok(Some(frame)) => frame,
            Ok(None) => panic!("the event stream ended; received so far:\n{}", self.raw_text()),
            Err(_) => panic!("no event within {WAIT:?}; received so far:\n{}", self.raw_text()),
        }
    }

    /// The next event, checked against its frame: `event:` is its type, only
    /// message events carry `id:` (their seq), and it is this visitor's conversation.
    async fn event(&mut self) -> LiveEvent {
        let frame = self.frame().await;
        let event: LiveEvent =
            serde_json::from_str(&frame.data).unwrap_or_else(|e| panic!("SSE data is not a live event ({e}): {frame:?}"));
        assert_eq!(frame.event.as_deref(), Some(event.name()), "the event: field names the type: {frame:?}");
        assert_eq!(frame.id, event.seq().map(|s| s.to_string()), "only message events carry an id, their seq: {frame:?}");
        assert_eq!(conversation_of(&event), self.conversation, "an event of another conversation: {event:?}");
        event
    }

    /// The next `n` events, which must all be messages.
    async fn messages(&mut self, n: usize) -> Vec<ChatMessage> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(message_of(self.event().await));
        }
        out
    }

    /// The first two events: the `mode` then the `status` snapshot.
    async fn preamble(&mut self) -> (Mode, Status) {
        let mode = match self.event().await {
            LiveEvent::Mode { mode, .. } => mode,
            other => panic!("the stream must open with the mode snapshot, got {other:?}"),
        };
        let status = match self.event().await {
            LiveEvent::Status { status, .. } => status,
            other => panic!("the mode snapshot must be followed by the status snapshot, got {other:?}"),
        };
        (mode, status)
    }

    /// Asserts the stream ends (the server went away) within [`WAIT`] without another event.
    async fn ends(mut self) {
        match tokio::time::timeout(WAIT, self.frames.recv()).await {
            Ok(None) => {}
            Ok(Some(frame)) => panic!("expected the stream to end, got {frame:?}"),
            Err(_) => panic!("the stream stayed open {WAIT:?} after the server stopped"),
        }
    }
}

// ---------------------------------------------------------------- operator WebSocket client

/// The HTTP status a refused WebSocket handshake to `path` answered.
async fn refused_handshake(host: &dyn Host, path: &str) -> u16 {
    match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(ws_url(host, path))).await {
        Ok(Err(tungstenite::Error::Http(response))) => response.status().as_u16(),
        Ok(Err(e)) => panic!("{path}: the handshake failed without an HTTP answer: {e}"),
        Ok(Ok(_)) => panic!("{path}: the WebSocket was accepted"),
        Err(_) => panic!("{path}: no handshake answer within {WAIT:?}"),
    }
}

// ---------------------------------------------------------------- GET /api/v1/chat/events

async fn event_stream_opens_with_retry_and_mode_and_status_snapshots_then_replays_the_history(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let stored = messages(server, tenant.token(), visitor.conversation).await;
    assert_eq!(seqs(&stored), [1, 2]);
    let mut stream = EventStream::open(server, &visitor, None, None).await;
    assert_eq!(stream.preamble().await, (Mode::Ai, Status::Open));
    let replayed = stream.messages(2).await;
    assert_eq!(replayed.iter().map(key).collect::<Vec<_>>(), stored.iter().map(key).collect::<Vec<_>>(), "the history, in seq order");
    assert_eq!((replayed[0].role, replayed[1].role), (Role::Visitor, Role::Ai));
    let raw = stream.raw_text();
    assert!(raw.starts_with("retry: 3000\n"), "the stream must start with a retry: 3000 line, got:\n{raw}");
    let reply = operator_reply(server, tenant.token(), visitor.conversation, "Hi, Lena here, let me look.").await;
    let live = message_of(stream.event().await);
    assert_eq!(key(&live), key(&reply), "the next event is the live reply");
    assert_eq!((live.seq, live.role, live.author_name), (3, Role::Operator, Some(tenant.name().to_string())));
}

async fn event_stream_snapshots_show_the_current_mode_and_status(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    act(server, tenant.token(), visitor.conversation, "takeover", json!({})).await;
    let (_, mode, status) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    assert_eq!((mode, status), (Mode::Operator, Status::Open), "after a takeover");
    act(server, tenant.token(), visitor.conversation, "close", json!({})).await;
    let (_, mode, status) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    assert_eq!((mode, status), (Mode::Operator, Status::Closed), "after a takeover and a close");
    act(server, tenant.token(), visitor.conversation, "handback", json!({})).await;
    act(server, tenant.token(), visitor.conversation, "reopen", json!({})).await;
    let (_, mode, status) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    assert_eq!((mode, status), (Mode::Ai, Status::Open), "after a handback and a reopen");
}

async fn after_seq_replays_only_the_later_messages_then_continues_live(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    ask(server, &visitor, "And where is my parcel?").await;
    let stored = messages(server, tenant.token(), visitor.conversation).await;
    assert_eq!(seqs(&stored), [1, 2, 3, 4]);
    let (mut from_two, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    let replayed = from_two.messages(2).await;
    assert_eq!(replayed.iter().map(key).collect::<Vec<_>>(), stored[2..].iter().map(key).collect::<Vec<_>>());
    let (mut from_four, ..) = EventStream::open_past_preamble(server, &visitor, Some(4), None).await;
    let reply = operator_reply(server, tenant.token(), visitor.conversation, "It left our warehouse today.").await;
    assert_eq!(reply.seq, 5);
    assert_eq!(key(&message_of(from_two.event().await)), key(&reply), "after_seq=2: 3, 4, then live 5");
    assert_eq!(key(&message_of(from_four.event().await)), key(&reply), "after_seq=4: nothing replayed, then live 5");
}

async fn last_event_id_header_wins_over_after_seq(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    ask(server, &visitor, "And where is my parcel?").await;
    let stored = messages(server, tenant.token(), visitor.conversation).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(1), Some("3")).await;
    let replayed = message_of(stream.event().await);
    assert_eq!(key(&replayed), key(&stored[3]), "Last-Event-ID: 3 wins over after_seq=1: only seq 4 is replayed");
    let reply = operator_reply(server, tenant.token(), visitor.conversation, "Checking.").await;
    assert_eq!(key(&message_of(stream.event().await)), key(&reply));
}

async fn a_long_conversation_replays_page_by_page_once_each_and_in_order(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    // 230 replies: the replay reads D1 100 messages at a time, so three pages.
    for chunk in 0..23 {
        let texts: Vec<String> = (0..10).map(|i| format!("Reply {}", chunk * 10 + i)).collect();
        futures::future::join_all(texts.iter().map(|text| operator_reply(server, tenant.token(), visitor.conversation, text))).await;
    }
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(0), None).await;
    // Sent right after the stream opened: in a later page, queued live, or
    // both; it arrives once (the overlap itself: room::live's unit tests).
    let during = operator_reply(server, tenant.token(), visitor.conversation, "Sent during the replay").await;
    let replayed = stream.messages(during.seq as usize).await;
    assert_eq!(seqs(&replayed), (1..=during.seq).collect::<Vec<_>>(), "every message once, in seq order");
    assert_eq!(key(replayed.last().unwrap()), key(&during));
    let after = operator_reply(server, tenant.token(), visitor.conversation, "Sent after the replay").await;
    assert_eq!(key(&message_of(stream.event().await)), key(&after), "then live, with no duplicate of seq {} before it", during.seq);
    // The widget's history is bounded too: the newest 100, then back page by page.
    let mut seen: Vec<i64> = Vec::new();
    let mut before = String::new();
    let mut pages = 0;
    loop {
        let path = format!("/api/v1/chat/history?site_key={}&session_id={}{before}", visitor.site_key, visitor.session);
        let page: HistoryResponse = json_of(server.get(&path).await, 200).await;
        assert!(page.messages.len() <= HISTORY_PAGE as usize, "a page holds at most {HISTORY_PAGE}: {}", page.messages.len());
        pages += 1;
        seen.splice(0..0, page.messages.iter().map(|m| m.seq));
        if !page.has_more {
            break;
        }
        before = format!("&before_seq={}", page.messages[0].seq);
    }
    assert_eq!(seen, (1..=after.seq).collect::<Vec<_>>(), "every message once, in seq order");
    assert_eq!(pages, (after.seq as usize).div_ceil(HISTORY_PAGE as usize));
    // And the operator-messages poll: 100 at a time, oldest first, `since` the last.
    let mut polled: Vec<i64> = Vec::new();
    let mut since = None;
    loop {
        let page = poll_operator_messages(server, &visitor, since).await;
        assert!(page.messages.len() <= OPERATOR_MESSAGES_PAGE as usize, "a poll holds at most {OPERATOR_MESSAGES_PAGE}");
        assert!(page.messages.iter().all(|m| m.role == Role::Operator));
        polled.extend(page.messages.iter().map(|m| m.seq));
        if !page.has_more {
            break;
        }
        since = page.messages.last().map(|m| m.seq);
    }
    let replies = history_seqs_of_role(server, &visitor, Role::Operator).await;
    assert!(replies.len() > OPERATOR_MESSAGES_PAGE as usize * 2, "three polls' worth: {}", replies.len());
    assert_eq!(polled, replies, "every operator message once, in seq order");
}

/// The `seq`s of the messages of `role` in `visitor`'s conversation, read
/// from the widget's history page by page.
async fn history_seqs_of_role(server: &Server, visitor: &Visitor, role: Role) -> Vec<i64> {
    let mut seqs: Vec<i64> = Vec::new();
    let mut before = String::new();
    loop {
        let path = format!("/api/v1/chat/history?site_key={}&session_id={}{before}", visitor.site_key, visitor.session);
        let page: HistoryResponse = json_of(server.get(&path).await, 200).await;
        seqs.splice(0..0, page.messages.iter().filter(|m| m.role == role).map(|m| m.seq));
        if !page.has_more {
            return seqs;
        }
        before = format!("&before_seq={}", page.messages[0].seq);
    }
}

async fn events_without_a_conversation_are_404(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let response = events_request(server, tenant.site_key(), &new_session_id(), None, None).await;
    assert_error(response, 404, "not_found", "a session that never wrote").await;
}

async fn events_with_a_malformed_session_are_422(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    new_conversation(server, tenant.site_key()).await;
    for session in ["sess_short", "sess_0123456789abcdef<script>", ""] {
        let response = events_request(server, tenant.site_key(), session, None, None).await;
        assert_error(response, 422, "validation_error", &format!("session {session:?}")).await;
    }
}

async fn events_of_a_blocked_visitor_are_403_until_unblocked(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let visitor_id = summary(server, tenant.token(), visitor.conversation).await.visitor.as_ref().expect("a visitor conversation").id;
    block_visitor(server, tenant.token(), visitor_id).await;
    let response = events_request(server, &visitor.site_key, &visitor.session, None, None).await;
    assert_error(response, 403, "blocked", "a blocked visitor's event stream").await;
    unblock_visitor(server, tenant.token(), visitor_id).await;
    let (_, mode, status) = EventStream::open_past_preamble(server, &visitor, None, None).await;
    assert_eq!((mode, status), (Mode::Ai, Status::Open), "unblocked, the stream opens again");
}

async fn a_last_event_id_that_is_not_a_seq_is_422(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    for (after_seq, id) in [(None, "abc"), (Some(0), "abc"), (None, "1.5")] {
        let response = events_request(server, &visitor.site_key, &visitor.session, after_seq, Some(id)).await;
        assert_error(response, 422, "validation_error", &format!("Last-Event-ID {id:?} with after_seq {after_seq:?}")).await;
    }
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, None, Some("1")).await;
    assert_eq!(message_of(stream.event().await).seq, 2, "a numeric Last-Event-ID is accepted");
}

async fn a_visitor_message_and_its_ai_answer_reach_the_visitor_stream_live(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    let asked = ask(server, &visitor, "Do you ship to Norway?").await;
    let meta = asked.done();
    let live = stream.messages(2).await;
    assert_eq!((live[0].seq, live[0].role, live[0].content.as_str()), (meta.seq, Role::Visitor, "Do you ship to Norway?"));
    assert_eq!((live[1].seq, live[1].role, Some(live[1].id)), (meta.answer_seq.expect("an AI answer"), Role::Ai, meta.answer_id));
    assert_eq!(live[1].content, asked.answer(), "the stored answer is the streamed one");
}

// ---------------------------------------------------------------- GET /api/v1/chat/operator-messages

async fn polling_returns_the_operator_messages_after_since_and_the_mode(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let none = poll_operator_messages(server, &visitor, Some(0)).await;
    assert_eq!((none.success, none.messages.len(), none.mode), (true, 0, Mode::Ai));
    act(server, tenant.token(), id, "takeover", json!({})).await;
    let first = operator_reply(server, tenant.token(), id, "First operator answer").await;
    let between = ask(server, &visitor, "A visitor message in between").await;
    assert_eq!(between.done().seq, 4);
    let second = operator_reply(server, tenant.token(), id, "Second operator answer").await;
    assert_eq!((first.seq, second.seq), (3, 5));
    for (since, expected) in [
        (None, vec![&first, &second]),
        (Some(0), vec![&first, &second]),
        (Some(3), vec![&second]),
        (Some(4), vec![&second]),
        (Some(5), vec![]),
    ] {
        let polled = poll_operator_messages(server, &visitor, since).await;
        assert!(polled.success);
        assert_eq!(polled.mode, Mode::Operator, "since {since:?}");
        assert_eq!(
            polled.messages.iter().map(key).collect::<Vec<_>>(),
            expected.iter().map(|m| key(m)).collect::<Vec<_>>(),
            "since {since:?}"
        );
    }
    let polled = poll_operator_messages(server, &visitor, Some(0)).await;
    assert!(polled.messages.iter().all(|m| m.role == Role::Operator && m.author_name.as_deref() == Some(OWNER.name)));
    act(server, tenant.token(), id, "handback", json!({})).await;
    let after = poll_operator_messages(server, &visitor, Some(5)).await;
    assert_eq!((after.messages.len(), after.mode), (0, Mode::Ai), "the mode follows the handback");
}

// ---------------------------------------------------------------- typing

async fn operator_typing_reaches_the_visitor_stream_and_the_operator_socket_with_the_author_name(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let mut socket = Socket::open(server, tenant.token()).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    for typing in [true, false] {
        operator_typing(server, tenant.token(), id, typing).await;
        let expected =
            LiveEvent::Typing { conversation_id: id, role: Role::Operator, typing, author_name: Some(tenant.name().to_string()) };
        assert_eq!(stream.event().await, expected, "the visitor stream");
        assert_eq!(socket.event_of(id).await, expected, "the operator socket");
    }
}

async fn visitor_typing_reaches_the_operator_socket_but_not_the_visitor_stream(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let mut socket = Socket::open(server, tenant.token()).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    for typing in [true, false] {
        assert_no_content(visitor_typing(server, &visitor, typing).await, "visitor typing").await;
        match socket.event_of(id).await {
            LiveEvent::Typing { role: Role::Visitor, typing: got, .. } => assert_eq!(got, typing),
            other => panic!("the operator socket must get the visitor's typing, got {other:?}"),
        }
    }
    // Both typing events have reached operators; the next event of the
    // visitor's own stream must be this reply, not an echo of its typing.
    let reply = operator_reply(server, tenant.token(), id, "Take your time.").await;
    assert_eq!(key(&message_of(stream.event().await)), key(&reply), "the visitor's own typing is not sent to the visitor");
}

// ---------------------------------------------------------------- read marks and message status

async fn visitor_read_mark_reads_operator_messages_up_to_seq_and_notifies_the_operator_socket(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    act(server, tenant.token(), id, "takeover", json!({})).await;
    let first = operator_reply(server, tenant.token(), id, "First").await;
    let second = operator_reply(server, tenant.token(), id, "Second").await;
    assert_eq!((first.seq, second.seq), (3, 4));
    assert_eq!(status_of(server, tenant.token(), id, 3).await, Some(MessageStatus::Sent), "no visitor stream was open");
    let mut socket = Socket::open(server, tenant.token()).await;
    assert_no_content(visitor_read(server, &visitor, 3).await, "visitor read up to 3").await;
    assert_eq!(socket.event_of(id).await, LiveEvent::Read { conversation_id: id, role: Role::Visitor, seq: 3 });
    let stored = messages(server, tenant.token(), id).await;
    let statuses: Vec<(i64, Option<MessageStatus>)> = stored.iter().filter(|m| m.seq != 2).map(|m| (m.seq, m.status)).collect();
    assert_eq!(
        statuses,
        [(1, Some(MessageStatus::Sent)), (3, Some(MessageStatus::Read)), (4, Some(MessageStatus::Sent))],
        "only operator messages up to the mark are read"
    );
    assert_no_content(visitor_read(server, &visitor, 4).await, "visitor read up to 4").await;
    assert_eq!(socket.event_of(id).await, LiveEvent::Read { conversation_id: id, role: Role::Visitor, seq: 4 });
    assert_eq!(status_of(server, tenant.token(), id, 3).await, Some(MessageStatus::Read));
    assert_eq!(status_of(server, tenant.token(), id, 4).await, Some(MessageStatus::Read));
}

async fn visitor_read_below_seq_1_is_422(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    for seq in [0, -1] {
        assert_error(visitor_read(server, &visitor, seq).await, 422, "validation_error", &format!("read up to {seq}")).await;
    }
    assert_no_content(visitor_read(server, &visitor, 1).await, "read up to 1").await;
}

async fn operator_read_mark_reads_visitor_messages_and_reaches_the_visitor_stream(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    assert_eq!(ask(server, &visitor, "Second question").await.done().seq, 3);
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(4), None).await;
    assert_eq!(status_of(server, tenant.token(), id, 1).await, Some(MessageStatus::Sent), "no operator socket was connected");
    let read = act(server, tenant.token(), id, "read", json!({"seq": 1})).await;
    assert_eq!(read.unread_count, 1);
    assert_eq!(stream.event().await, LiveEvent::Read { conversation_id: id, role: Role::Operator, seq: 1 });
    assert_eq!(status_of(server, tenant.token(), id, 1).await, Some(MessageStatus::Read));
    assert_eq!(status_of(server, tenant.token(), id, 3).await, Some(MessageStatus::Sent), "seq 3 is after the mark");
    act(server, tenant.token(), id, "read", json!({"seq": 3})).await;
    assert_eq!(stream.event().await, LiveEvent::Read { conversation_id: id, role: Role::Operator, seq: 3 });
    assert_eq!(status_of(server, tenant.token(), id, 3).await, Some(MessageStatus::Read));
}

async fn operator_message_is_delivered_only_when_broadcast_to_an_open_visitor_stream(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    act(server, tenant.token(), id, "takeover", json!({})).await;
    let unseen = operator_reply(server, tenant.token(), id, "Nobody is listening yet").await;
    // Opened after seq 3, so that the stream does not replay it.
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(unseen.seq), None).await;
    let seen = operator_reply(server, tenant.token(), id, "Now you are listening").await;
    // Stored `delivered` at once: the reply and its live event say so.
    assert_eq!(seen.status, Some(MessageStatus::Delivered), "the visitor's stream was open when it was stored");
    let broadcast = message_of(stream.event().await);
    assert_eq!((key(&broadcast), broadcast.status), (key(&seen), Some(MessageStatus::Delivered)));
    assert_eq!(unseen.status, Some(MessageStatus::Sent), "no stream was open");
    wait_for_status(server, tenant.token(), id, seen.seq, MessageStatus::Delivered).await;
    assert_eq!(status_of(server, tenant.token(), id, unseen.seq).await, Some(MessageStatus::Sent), "stored while no stream was open");
}

async fn visitor_message_is_delivered_only_when_an_operator_socket_is_connected(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let mut socket = Socket::open(server, tenant.token()).await;
    let seq = ask(server, &visitor, "Is anyone there now?").await.done().seq;
    assert_eq!(seq, 3);
    assert_eq!(socket.message_of(id).await.seq, 3);
    wait_for_status(server, tenant.token(), id, 3, MessageStatus::Delivered).await;
    assert_eq!(status_of(server, tenant.token(), id, 1).await, Some(MessageStatus::Sent), "stored while no operator was connected");
}

// ---------------------------------------------------------------- mode and status

async fn takeover_handback_close_and_reopen_reach_the_visitor_stream_and_the_operator_socket_in_order(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let mut socket = Socket::open(server, tenant.token()).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    for action in ["takeover", "handback", "close", "reopen"] {
        act(server, tenant.token(), id, action, json!({})).await;
    }
    let expected = vec![
        LiveEvent::Mode { conversation_id: id, mode: Mode::Operator, author_name: Some(tenant.name().to_string()) },
        LiveEvent::Mode { conversation_id: id, mode: Mode::Ai, author_name: Some(tenant.name().to_string()) },
        LiveEvent::Status { conversation_id: id, status: Status::Closed },
        LiveEvent::Status { conversation_id: id, status: Status::Open },
    ];
    let mut streamed = Vec::new();
    for _ in 0..expected.len() {
        streamed.push(stream.event().await);
    }
    assert_eq!(streamed, expected, "the visitor stream");
    // Operators also learn that the takeover assigned the unassigned conversation to its taker.
    let mut for_operators = expected.clone();
    let assigned =
        LiveEvent::Assignment { conversation_id: id, assignee_id: Some(tenant.id()), author_name: Some(tenant.name().to_string()) };
    for_operators.insert(1, assigned);
    let mut socketed = Vec::new();
    for _ in 0..for_operators.len() {
        socketed.push(socket.event_of(id).await);
    }
    assert_eq!(socketed, for_operators, "the operator socket");
}

/// Assignments and blocks reach operators' sockets, never the visitor's
/// stream, which a block ends instead.
async fn assignment_and_visitor_blocks_reach_operator_sockets_but_not_the_visitor_stream(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let agent = add_agent(server, &tenant).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let visitor_id = summary(server, tenant.token(), id).await.visitor.as_ref().expect("a visitor conversation").id;
    let mut socket = Socket::open(server, &agent.access_token).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    act(server, tenant.token(), id, "assign", json!({"assignee_id": agent.user.id})).await;
    block_visitor(server, tenant.token(), visitor_id).await;
    // The block ends the visitor's open stream; unblocked, they open another.
    stream.ended().await;
    unblock_visitor(server, tenant.token(), visitor_id).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    act(server, tenant.token(), id, "assign", json!({"assignee_id": null})).await;
    // Assigning again to the same nobody changes nothing and announces nothing.
    act(server, tenant.token(), id, "assign", json!({"assignee_id": null})).await;
    act(server, tenant.token(), id, "close", json!({})).await;
    let name = Some(tenant.name().to_string());
    let expected = vec![
        LiveEvent::Assignment { conversation_id: id, assignee_id: Some(agent.user.id), author_name: name.clone() },
        LiveEvent::VisitorBlocked { conversation_id: id, visitor_id, blocked: true },
        LiveEvent::VisitorBlocked { conversation_id: id, visitor_id, blocked: false },
        LiveEvent::Assignment { conversation_id: id, assignee_id: None, author_name: name },
        LiveEvent::Status { conversation_id: id, status: Status::Closed },
    ];
    let mut socketed = Vec::new();
    for _ in 0..expected.len() {
        socketed.push(socket.event_of(id).await);
    }
    assert_eq!(socketed, expected, "another operator's socket");
    // The visitor's stream skips the operators' notices: its next event is the close.
    assert_eq!(stream.event().await, LiveEvent::Status { conversation_id: id, status: Status::Closed }, "the visitor stream");
}

// ---------------------------------------------------------------- GET /v1/chat/conversations/unread

async fn unread_counts_list_the_callers_conversations_with_unread_visitor_messages(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let agent = add_agent(server, &tenant).await;
    let other = signup_as(server, &FRESH_IPS, &OWNER).await;
    let first = new_conversation(server, tenant.site_key()).await;
    ask(server, &first, "Another question").await;
    let second = new_conversation(server, tenant.site_key()).await;
    let (a, b) = (first.conversation, second.conversation);
    let mut both = vec![(a, 2), (b, 1)];
    both.sort();
    assert_eq!(unread(server, tenant.token()).await, (both.clone(), 3));
    act(server, tenant.token(), a, "read", json!({})).await;
    assert_eq!(unread(server, tenant.token()).await, (vec![(b, 1)], 1), "read conversations drop out of the owner's counts");
    assert_eq!(unread(server, &agent.access_token).await, (both, 3), "read marks are per operator");
    assert_eq!(unread(server, other.token()).await, (vec![], 0), "another account has nothing unread");
    ask(server, &first, "One more thing").await;
    let mut now = vec![(a, 1), (b, 1)];
    now.sort();
    assert_eq!(unread(server, tenant.token()).await, (now, 2), "a new visitor message after the mark is unread");
}

// ---------------------------------------------------------------- GET /v1/messaging/token, /v1/chat/live

async fn messaging_token_is_single_use(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let issued = messaging_token(server, tenant.token()).await;
    assert_eq!(issued.expires_in, 60);
    assert!(issued.url.starts_with("/v1/chat/live?token="), "url {:?}", issued.url);
    assert!(!issued.token.is_empty() && issued.url.contains(&issued.token), "the url carries the token: {issued:?}");
    let mut socket = Socket::connect(server, &issued.url).await;
    socket.ping().await;
    assert_eq!(refused_handshake(server, &issued.url).await, 401, "a used token");
    socket.ping().await;
    let mut again = Socket::open(server, tenant.token()).await;
    again.ping().await;
    let next = messaging_token(server, tenant.token()).await;
    assert_ne!(next.token, issued.token, "every token is new");
}

async fn a_garbage_or_missing_socket_token_is_401(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let jwt = format!("/v1/chat/live?token={}", tenant.token());
    for path in ["/v1/chat/live?token=garbage", "/v1/chat/live?token=", "/v1/chat/live", jwt.as_str()] {
        assert_eq!(refused_handshake(server, path).await, 401, "{path}");
    }
    let response = server.http.get(format!("{}/v1/messaging/token", server.url)).send().await.expect("GET reaches the server");
    assert_error(response, 401, "unauthorized", "a messaging token without a JWT").await;
}

/// A plain `GET` or a `HEAD` of the socket's URL cannot become a socket:
/// 400, before the token is spent or the Inbox takes a slot (the token
/// then opens the socket it was issued for).
async fn a_request_that_is_no_websocket_handshake_is_400_and_spends_no_token(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let issued = messaging_token(server, tenant.token()).await;
    let url = format!("{}{}", server.url, issued.url);
    assert_error(server.http.get(&url).send().await.expect("GET reaches the server"), 400, "bad_request", "a plain GET").await;
    let head = server.http.head(&url).send().await.expect("HEAD reaches the server");
    assert_eq!(head.status(), 400, "a HEAD");
    let mut socket = Socket::connect(server, &issued.url).await;
    socket.ping().await;
}

async fn socket_answers_ping_with_pong(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let issued = messaging_token(server, tenant.token()).await;
    let mut socket = Socket::connect(server, &issued.url).await;
    for _ in 0..2 {
        socket.send_text("ping").await;
        assert_eq!(socket.text().await, "pong");
    }
}

async fn an_operator_socket_sees_nothing_of_another_account(server: &Server) {
    let a = signup_as(server, &FRESH_IPS, &OWNER).await;
    let b = signup_as(server, &FRESH_IPS, &OWNER).await;
    let mut socket_a = Socket::open(server, a.token()).await;
    let mut socket_b = Socket::open(server, b.token()).await;
    let visitor_a = new_conversation(server, a.site_key()).await;
    let ca = visitor_a.conversation;
    assert_no_content(visitor_typing(server, &visitor_a, true).await, "visitor typing").await;
    operator_typing(server, a.token(), ca, true).await;
    act(server, a.token(), ca, "takeover", json!({})).await;
    operator_reply(server, a.token(), ca, "Account A's reply").await;
    assert_no_content(visitor_read(server, &visitor_a, 3).await, "visitor read").await;
    act(server, a.token(), ca, "read", json!({})).await;
    act(server, a.token(), ca, "close", json!({})).await;
    // Account A's socket has seen all of it…
    loop {
        if socket_a.event_of(ca).await == (LiveEvent::Status { conversation_id: ca, status: Status::Closed }) {
            break;
        }
    }
    // …so anything of A sent to B would arrive before B's own first events.
    let visitor_b = new_conversation(server, b.site_key()).await;
    let cb = visitor_b.conversation;
    let mut seen = Vec::new();
    loop {
        let event = socket_b.event().await;
        let done = matches!(&event, LiveEvent::Message { message, .. } if message.seq == 2);
        assert_eq!(conversation_of(&event), cb, "account B's socket got {event:?}; before it: {seen:?}");
        seen.push(event);
        if done {
            break;
        }
    }
    assert_eq!(seen[0], LiveEvent::Conversation { conversation_id: cb, site_id: Some(b.site.id) }, "{seen:?}");
}

async fn a_new_conversation_reaches_the_operator_socket_before_its_first_message(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let mut socket = Socket::open(server, tenant.token()).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        if let event @ (LiveEvent::Conversation { .. } | LiveEvent::Message { .. }) = socket.event_of(id).await {
            seen.push(event);
        }
    }
    assert_eq!(seen[0], LiveEvent::Conversation { conversation_id: id, site_id: Some(tenant.site.id) }, "{seen:?}");
    let firsts: Vec<(i64, Role)> = seen[1..].iter().cloned().map(message_of).map(|m| (m.seq, m.role)).collect();
    assert_eq!(firsts, [(1, Role::Visitor), (2, Role::Ai)]);
    ask(server, &visitor, "A follow-up").await;
    let mut later = Vec::new();
    while later.len() < 2 {
        match socket.event_of(id).await {
            LiveEvent::Conversation { .. } => panic!("a second conversation event for {id}"),
            LiveEvent::Message { message, .. } => later.push(message.seq),
            _ => {}
        }
    }
    assert_eq!(later, [3, 4], "later messages come without a new conversation event");
}

async fn a_socket_token_with_a_forged_signature_or_account_is_401(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let other = signup_as(server, &FRESH_IPS, &OWNER).await;
    let issued = messaging_token(server, tenant.token()).await;
    let (account, rest) = issued.token.split_once('.').expect("the token names its account first");
    assert_eq!(account, tenant.tokens.account.id.to_string(), "token {}", issued.token);
    let (payload, signature) = issued.token.rsplit_once('.').expect("the token ends with its signature");
    let flipped: String = signature.chars().rev().collect();
    for forged in [
        format!("{}.{rest}", other.tokens.account.id),
        format!("{}.{rest}", 999_999_999),
        format!("{payload}.{flipped}"),
        format!("{payload}.{}", "0".repeat(signature.len())),
        format!("{}.{}", other.tokens.account.id, "ab".repeat(32)),
    ] {
        assert_eq!(refused_handshake(server, &format!("/v1/chat/live?token={forged}")).await, 401, "{forged}");
    }
    let mut socket = Socket::connect(server, &issued.url).await;
    socket.ping().await;
}

// ---------------------------------------------------------------- the end of an operator's permission or credentials

/// Asserts the access token `token` is refused on the operator API and for new socket tokens.
async fn assert_token_refused(host: &dyn Host, token: &str, what: &str) {
    for path in ["/auth/me", "/v1/chat/conversations", "/v1/messaging/token"] {
        assert_error(get(host, path, token).await, 401, "unauthorized", &format!("{what}: GET {path}")).await;
    }
}

/// A control: `socket` (of an operator whose sessions go on) sees a new
/// conversation of `tenant`'s site, so events are still published.
async fn assert_still_live(host: &dyn Host, tenant: &Tenant, socket: &mut Socket) {
    let visitor = new_conversation(host, tenant.site_key()).await;
    assert_eq!(socket.message_of(visitor.conversation).await.seq, 1);
}

async fn removing_an_operator_closes_their_socket_and_refuses_their_access_token(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let agent = add_agent(server, &tenant).await;
    let mut owner_socket = Socket::open(server, tenant.token()).await;
    let mut agent_socket = Socket::open(server, &agent.access_token).await;
    assert_no_content(send(server, Method::DELETE, &format!("/v1/users/{}", agent.user.id), tenant.token(), None).await, "delete").await;
    assert_eq!(agent_socket.closed().await, (4003, "operator removed".to_string()));
    assert_token_refused(server, &agent.access_token, "a removed operator's token").await;
    assert_still_live(server, &tenant, &mut owner_socket).await;
}

async fn demoting_an_operator_closes_their_socket_and_refuses_their_access_token(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let admin = add_operator(server, &tenant, "admin").await;
    let mut owner_socket = Socket::open(server, tenant.token()).await;
    let mut admin_socket = Socket::open(server, &admin.access_token).await;
    let path = format!("/v1/users/{}", admin.user.id);
    let _: Value = json_of(send(server, Method::PATCH, &path, tenant.token(), Some(json!({"role": "agent"}))).await, 200).await;
    assert_eq!(admin_socket.closed().await, (4003, "role changed".to_string()));
    assert_token_refused(server, &admin.access_token, "a token issued before the role change").await;
    assert_still_live(server, &tenant, &mut owner_socket).await;
    // The refresh token still works, and gives a token of the new role.
    let renewed: TokenResponse =
        json_of(post_public(server, &FRESH_IPS, "/auth/refresh", &json!({"refresh_token": admin.body_refresh_token()})).await, 200).await;
    assert_eq!(renewed.user.role, edgechat_shared::api::auth::OperatorRole::Agent);
    let mut socket = Socket::open(server, &renewed.access_token).await;
    socket.ping().await;
}

async fn changing_the_password_closes_the_operators_sockets_and_refuses_earlier_access_tokens(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let agent = add_agent(server, &tenant).await;
    let mut agent_socket = Socket::open(server, &agent.access_token).await;
    let mut owner_sockets = [Socket::open(server, tenant.token()).await, Socket::open(server, tenant.token()).await];
    let body = json!({"current_password": PASSWORD, "new_password": "a much better passphrase", "refresh_token": tenant.tokens.body_refresh_token()});
    let _: Value = json_of(post(server, "/auth/change-password", tenant.token(), body).await, 200).await;
    for socket in &mut owner_sockets {
        assert_eq!(socket.closed().await, (4001, "password changed".to_string()));
    }
    assert_token_refused(server, tenant.token(), "a token issued before the password change").await;
    assert_still_live(server, &tenant, &mut agent_socket).await;
    // The session named in the change goes on with a new access token.
    let renewed: TokenResponse =
        json_of(post_public(server, &FRESH_IPS, "/auth/refresh", &json!({"refresh_token": tenant.tokens.body_refresh_token()})).await, 200)
            .await;
    let mut socket = Socket::open(server, &renewed.access_token).await;
    socket.ping().await;
}

async fn logging_out_everywhere_closes_the_operators_sockets_and_refuses_their_tokens(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let agent = add_agent(server, &tenant).await;
    let second = add_agent_session(server, &agent).await;
    let mut owner_socket = Socket::open(server, tenant.token()).await;
    let mut agent_sockets = [Socket::open(server, &agent.access_token).await, Socket::open(server, &second.access_token).await];
    let body = json!({"refresh_token": second.body_refresh_token(), "all": true});
    let answer: Value = json_of(post_public(server, &FRESH_IPS, "/auth/logout", &body).await, 200).await;
    assert_eq!(answer, json!({"success": true}));
    for socket in &mut agent_sockets {
        assert_eq!(socket.closed().await, (4001, "logged out everywhere".to_string()));
    }
    for (session, tokens) in [("first", &agent), ("second", &second)] {
        assert_token_refused(server, &tokens.access_token, &format!("the {session} session's access token")).await;
        let refreshed = post_public(server, &FRESH_IPS, "/auth/refresh", &json!({"refresh_token": tokens.body_refresh_token()})).await;
        assert_error(refreshed, 401, "unauthorized", &format!("the {session} session's refresh token")).await;
    }
    assert_still_live(server, &tenant, &mut owner_socket).await;
}

/// A socket lives as long as the access JWT it was opened with: past the
/// JWT's `exp` no event reaches it, the first one closes it instead (4002
/// "session expired": reconnect), so a single logout, a revoked refresh
/// token or a removal that did not reach the Inbox ends it by then. A
/// socket of a live token goes on; one opened after the Inbox last looked
/// at its sockets' expiries is closed on time too. (The waits here are for
/// the clock to pass `exp`.)
async fn a_socket_closes_once_the_access_token_that_opened_it_expires(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let expired = (SESSION_EXPIRED_CLOSE, "session expired".to_string());
    let (short, exp) = expiring_token(tenant.token(), 3);
    let mut sockets = [Socket::open(server, &short).await, Socket::open(server, &short).await];
    let mut lasting = Socket::open(server, tenant.token()).await;
    sockets[0].ping().await;
    sleep_past(exp).await;
    // An event of the account closes them instead of reaching them.
    let visitor = new_conversation(server, tenant.site_key()).await;
    for socket in &mut sockets {
        assert_eq!(socket.closed().await, expired, "an event after exp");
    }
    assert!(matches!(lasting.event_of(visitor.conversation).await, LiveEvent::Conversation { .. }), "the live token's socket gets it");
    // A socket opened after that event's look at the expiries, expiring
    // before every other, is closed at the first event after its `exp`.
    let (shorter, exp) = expiring_token(tenant.token(), 3);
    let mut late = Socket::open(server, &shorter).await;
    sleep_past(exp).await;
    let second = new_conversation(server, tenant.site_key()).await;
    assert_eq!(late.closed().await, expired, "a socket opened after the scan");
    assert!(matches!(lasting.event_of(second.conversation).await, LiveEvent::Conversation { .. }));
    // An access JWT past its `exp` (within the verifier's leeway) gets no live token.
    let (stale, _) = expiring_token(tenant.token(), -1);
    assert_error(send(server, Method::GET, "/v1/messaging/token", &stale, None).await, 401, "unauthorized", "an expired JWT").await;
}

/// The access JWT `token` re-signed to expire `seconds` from now, and that time.
fn expiring_token(token: &str, seconds: i64) -> (String, i64) {
    use edgechat_shared::api::auth::AccessClaims;
    use jsonwebtoken::{decode, encode, DecodingKey, EncodingKey, Header, Validation};
    let key = DecodingKey::from_secret(JWT_SECRET.as_bytes());
    let mut claims = decode::<AccessClaims>(token, &key, &Validation::default()).expect("an access token").claims;
    claims.exp = now() + seconds;
    (encode(&Header::default(), &claims, &EncodingKey::from_secret(JWT_SECRET.as_bytes())).expect("JWT"), claims.exp)
}

/// Sleeps until the clock is past `exp` (Unix seconds).
async fn sleep_past(exp: i64) {
    tokio::time::sleep(Duration::from_secs(u64::try_from(exp - now()).unwrap_or(0) + 1)).await;
}

/// A second login of the operator of `tokens` (same email, password [`PASSWORD`]).
async fn add_agent_session(host: &dyn Host, tokens: &TokenResponse) -> TokenResponse {
    json_of(post_public(host, &FRESH_IPS, "/auth/login", &json!({"email": tokens.user.email, "password": PASSWORD})).await, 200).await
}

async fn a_socket_token_issued_before_the_operators_sessions_ended_is_refused(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let admin = add_operator(server, &tenant, "admin").await;
    let agent = add_agent(server, &tenant).await;
    let admin_token = messaging_token(server, &admin.access_token).await;
    let agent_token = messaging_token(server, &agent.access_token).await;
    let _: Value = json_of(
        send(server, Method::PATCH, &format!("/v1/users/{}", admin.user.id), tenant.token(), Some(json!({"role": "agent"}))).await,
        200,
    )
    .await;
    assert_no_content(send(server, Method::DELETE, &format!("/v1/users/{}", agent.user.id), tenant.token(), None).await, "delete").await;
    assert_eq!(refused_handshake(server, &admin_token.url).await, 401, "a socket token issued before the role change");
    assert_eq!(refused_handshake(server, &agent_token.url).await, 401, "a socket token of a removed operator");
}

// ---------------------------------------------------------------- ordering, replay, concurrency, restart

async fn operator_reply_reaches_two_visitor_streams_and_the_operator_socket_in_order(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    act(server, tenant.token(), id, "takeover", json!({})).await;
    let mut socket = Socket::open(server, tenant.token()).await;
    let (mut tab_one, ..) = EventStream::open_past_preamble(server, &visitor, Some(2), None).await;
    let (mut tab_two, ..) = EventStream::open_past_preamble(server, &visitor, None, Some("2")).await;
    let contents: Vec<String> = (1..=3).map(|i| format!("Reply number {i}")).collect();
    let sent = futures::future::join_all(contents.iter().map(|c| operator_reply(server, tenant.token(), id, c))).await;
    let mut by_seq: BTreeMap<i64, _> = BTreeMap::new();
    for message in &sent {
        assert!(by_seq.insert(message.seq, key(message)).is_none(), "seq {} acknowledged twice", message.seq);
    }
    assert_eq!(by_seq.keys().copied().collect::<Vec<_>>(), [3, 4, 5]);
    let expected: Vec<_> = by_seq.into_values().collect();
    let one: Vec<_> = tab_one.messages(3).await.iter().map(key).collect();
    let two: Vec<_> = tab_two.messages(3).await.iter().map(key).collect();
    let mut operators = Vec::new();
    for _ in 0..3 {
        operators.push(key(&socket.message_of(id).await));
    }
    assert_eq!(one, expected, "first visitor stream");
    assert_eq!(two, expected, "second visitor stream");
    assert_eq!(operators, expected, "operator socket");
}

async fn reconnect_with_last_event_id_replays_exactly_the_missed_messages(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    act(server, tenant.token(), id, "takeover", json!({})).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, None, None).await;
    assert_eq!(seqs(&stream.messages(2).await), [1, 2]);
    let seen = operator_reply(server, tenant.token(), id, "Before you left").await;
    let last = message_of(stream.event().await);
    assert_eq!(key(&last), key(&seen));
    drop(stream);
    let missed_one = operator_reply(server, tenant.token(), id, "While you were away (1)").await;
    let visitor_seq = ask(server, &visitor, "Sent from another tab").await.done().seq;
    let missed_three = operator_reply(server, tenant.token(), id, "While you were away (3)").await;
    assert_eq!((missed_one.seq, visitor_seq, missed_three.seq), (4, 5, 6));
    let stored = messages(server, tenant.token(), id).await;
    let (mut resumed, mode, _) = EventStream::open_past_preamble(server, &visitor, None, Some(&last.seq.to_string())).await;
    assert_eq!(mode, Mode::Operator);
    let replayed: Vec<_> = resumed.messages(3).await.iter().map(key).collect();
    assert_eq!(replayed, stored[3..6].iter().map(key).collect::<Vec<_>>(), "exactly the three missed messages, in order");
    let live = operator_reply(server, tenant.token(), id, "Welcome back").await;
    assert_eq!(key(&message_of(resumed.event().await)), key(&live), "then live continues with no duplicate");
}

async fn twenty_concurrent_senders_get_seqs_1_to_n_without_loss_or_duplicates(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let id = visitor.conversation;
    // In operator mode a visitor message stores exactly one message.
    act(server, tenant.token(), id, "takeover", json!({})).await;
    let mut socket = Socket::open(server, tenant.token()).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, None, None).await;
    assert_eq!(seqs(&stream.messages(2).await), [1, 2]);
    let operator_texts: Vec<String> = (0..10).map(|i| format!("operator message {i}")).collect();
    let visitor_texts: Vec<String> = (0..10).map(|i| format!("visitor message {i}")).collect();
    let (operator_acks, visitor_acks) = futures::join!(
        futures::future::join_all(operator_texts.iter().map(|c| operator_reply(server, tenant.token(), id, c))),
        futures::future::join_all(visitor_texts.iter().map(|c| ask(server, &visitor, c))),
    );
    let mut acked: BTreeMap<i64, (Role, String)> = BTreeMap::new();
    for message in &operator_acks {
        assert!(acked.insert(message.seq, (Role::Operator, message.content.clone())).is_none(), "seq {} acknowledged twice", message.seq);
    }
    for (streamed, content) in visitor_acks.iter().zip(&visitor_texts) {
        let meta = streamed.done();
        assert_eq!((meta.mode, meta.answer_seq), (Mode::Operator, None), "no AI answer after a takeover");
        assert!(acked.insert(meta.seq, (Role::Visitor, content.clone())).is_none(), "seq {} acknowledged twice", meta.seq);
    }
    let n = 22;
    assert_eq!(acked.keys().copied().collect::<Vec<_>>(), (3..=n).collect::<Vec<_>>(), "acknowledged seqs");
    let stored = messages(server, tenant.token(), id).await;
    assert_eq!(seqs(&stored), (1..=n).collect::<Vec<_>>(), "stored seqs: none lost, none duplicated");
    for message in &stored[2..] {
        assert_eq!(Some(&(message.role, message.content.clone())), acked.get(&message.seq), "stored seq {}", message.seq);
    }
    let streamed: Vec<_> = stream.messages(20).await.iter().map(key).collect();
    assert_eq!(streamed, stored[2..].iter().map(key).collect::<Vec<_>>(), "the visitor stream: 3..=22 in order, once each");
    let mut operators = Vec::new();
    for _ in 0..20 {
        operators.push(key(&socket.message_of(id).await));
    }
    assert_eq!(operators, streamed, "the operator socket: the same order");
}

/// The restart trial's own `wrangler dev`; its log is printed when the trial panics.
struct OwnServer {
    dev: Option<WranglerDev>,
    url: String,
    http: reqwest::Client,
}

impl Host for OwnServer {
    fn base(&self) -> &str {
        &self.url
    }

    fn client(&self) -> &reqwest::Client {
        &self.http
    }
}

impl OwnServer {
    /// Starts `wrangler dev` on a new free port over `dir`; `fresh` first
    /// empties, migrates and seeds it as [`Server::start`] does.
    async fn start(dir: PathBuf, fresh: bool) -> OwnServer {
        let dev = tokio::task::spawn_blocking(move || {
            if fresh {
                let _ = std::fs::remove_dir_all(&dir);
                xtask::wrangler::migrate(&dir).unwrap_or_else(|e| panic!("migrations failed: {e}"));
                xtask::seed::demo_account(&dir).unwrap_or_else(|e| panic!("seeding the demo account failed: {e}"));
            }
            let port = xtask::wrangler::free_port().expect("free port");
            let dev = WranglerDev::spawn(&dir, port, &[("JWT_SECRET", JWT_SECRET)], false)
                .unwrap_or_else(|e| panic!("wrangler dev did not start: {e}"));
            if fresh {
                xtask::seed::demo_kb(&dev.url)
                    .unwrap_or_else(|e| panic!("importing the demo knowledge base failed: {e}{}", dev.log_tail()));
            }
            dev
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("client");
        OwnServer { url: dev.url.clone(), dev: Some(dev), http }
    }

    /// Stops `wrangler dev` and every process it started.
    async fn stop(&mut self) {
        let mut dev = self.dev.take().expect("a running server");
        tokio::task::spawn_blocking(move || dev.stop()).await.expect("wrangler dev stops");
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if let Some(dev) = &self.dev {
            if std::thread::panicking() {
                eprintln!("{}", dev.log_tail());
            }
        }
    }
}

async fn acknowledged_messages_survive_a_wrangler_restart_and_clients_resume(_: &Server) {
    let dir = run_dir("live-restart");
    let mut own = OwnServer::start(dir.clone(), true).await;
    let tenant = signup_as(&own, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(&own, tenant.site_key()).await;
    let id = visitor.conversation;
    act(&own, tenant.token(), id, "takeover", json!({})).await;
    let (mut stream, ..) = EventStream::open_past_preamble(&own, &visitor, None, None).await;
    operator_reply(&own, tenant.token(), id, "Reply before the restart").await;
    ask(&own, &visitor, "Visitor before the restart").await;
    operator_reply(&own, tenant.token(), id, "Second reply before the restart").await;
    let seen = stream.messages(5).await;
    assert_eq!(seqs(&seen), [1, 2, 3, 4, 5]);
    drop(stream);
    // Acknowledged while the visitor is away, then the server stops at once.
    let (missed_reply, missed_visitor) = futures::join!(
        operator_reply(&own, tenant.token(), id, "Acknowledged just before the stop"),
        ask(&own, &visitor, "Visitor message just before the stop"),
    );
    let mut acked = vec![missed_reply.seq, missed_visitor.done().seq];
    acked.sort();
    assert_eq!(acked, [6, 7]);
    let before = messages(&own, tenant.token(), id).await;
    assert_eq!(seqs(&before), (1..=7).collect::<Vec<_>>());
    let (idle, ..) = EventStream::open_past_preamble(&own, &visitor, None, Some("7")).await;
    let old_url = own.url.clone();
    own.stop().await;
    idle.ends().await;
    assert!(reqwest::get(format!("{old_url}/health")).await.is_err(), "the stopped server still answers");

    let own = OwnServer::start(dir, false).await;
    let after = messages(&own, tenant.token(), id).await;
    assert_eq!(
        after.iter().map(key).collect::<Vec<_>>(),
        before.iter().map(key).collect::<Vec<_>>(),
        "every acknowledged message survived"
    );
    assert_eq!(summary(&own, tenant.token(), id).await.mode, Mode::Operator, "the takeover survived");
    let mut socket = Socket::open(&own, tenant.token()).await;
    let (mut resumed, mode, status) = EventStream::open_past_preamble(&own, &visitor, None, Some("5")).await;
    assert_eq!((mode, status), (Mode::Operator, Status::Open));
    let replayed: Vec<_> = resumed.messages(2).await.iter().map(key).collect();
    assert_eq!(replayed, before[5..7].iter().map(key).collect::<Vec<_>>(), "exactly the two missed messages");
    let live = operator_reply(&own, tenant.token(), id, "Back after the restart").await;
    assert_eq!(live.seq, 8, "seqs continue after the restart");
    assert_eq!(key(&message_of(resumed.event().await)), key(&live));
    assert_eq!(key(&socket.message_of(id).await), key(&live));
    assert_eq!(ask(&own, &visitor, "Still there?").await.done().seq, 9);
}

// ---------------------------------------------------------------- ids and Room bindings (issue 10)

/// `DELETE /v1/sites/{id}` as the tenant's owner.
async fn delete_site(host: &dyn Host, tenant: &Tenant) {
    let response = send(host, Method::DELETE, &format!("/v1/sites/{}", tenant.site.id), tenant.token(), None).await;
    assert_no_content(response, "delete the site").await;
}

async fn deleting_a_site_ends_its_visitor_streams_and_its_conversations_stay_gone(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let (mut stream, ..) = EventStream::open_past_preamble(server, &visitor, None, None).await;
    assert_eq!(seqs(&stream.messages(2).await), [1, 2]);
    delete_site(server, &tenant).await;
    // The open stream of the deleted conversation ends at once, with no event.
    stream.ends().await;
    let again = events_request(server, &visitor.site_key, &visitor.session, None, None).await;
    assert_eq!(again.status().as_u16(), 404, "the deleted site's stream cannot be opened again");
    let operator = get(server, &conversation_path(visitor.conversation, ""), tenant.token()).await;
    assert_eq!(operator.status().as_u16(), 404, "the deleted conversation is gone for operators too");
}

async fn ids_of_deleted_sites_operators_and_conversations_are_never_given_again(_: &Server) {
    // Its own server, so that no other trial inserts rows in between: on a
    // shared one an id could move on by chance.
    let mut own = OwnServer::start(run_dir("live-ids"), true).await;
    let first = signup_as(&own, &FRESH_IPS, &OWNER).await;
    let agent = add_agent(&own, &first).await.user.id;
    let visitor = new_conversation(&own, first.site_key()).await;
    let response = send(&own, Method::DELETE, &format!("/v1/users/{agent}"), first.token(), None).await;
    assert_no_content(response, "delete the agent").await;
    delete_site(&own, &first).await;

    // The newest rows were deleted: SQLite's default would hand their ids out again.
    let site: Site = json_of(post(&own, "/v1/sites", first.token(), json!({"name": "Second shop"})).await, 201).await;
    assert!(site.id > first.site.id, "site id {} was given again (deleted: {})", site.id, first.site.id);
    let second = Tenant { email: first.email.clone(), tokens: first.tokens.clone(), site };
    let next_agent = add_agent(&own, &second).await.user.id;
    assert!(next_agent > agent, "operator id {next_agent} was given again (deleted: {agent})");
    let next = new_conversation(&own, second.site_key()).await;
    assert!(
        next.conversation > visitor.conversation,
        "conversation id {} was given again (deleted: {})",
        next.conversation,
        visitor.conversation
    );
    // The new conversation's stream carries only its own messages.
    let (mut stream, ..) = EventStream::open_past_preamble(&own, &next, None, None).await;
    assert_eq!(seqs(&stream.messages(2).await), [1, 2], "the new conversation holds only its own messages");
    own.stop().await;
}

async fn an_operator_reply_with_the_visitors_message_id_is_stored_not_dropped(server: &Server) {
    let tenant = signup_as(server, &FRESH_IPS, &OWNER).await;
    let session = new_session_id();
    let request = visitor_request(tenant.site_key(), &session, "Is my parcel on its way?");
    let message_id = request.message_id.clone().expect("a message id");
    let streamed = stream_post(server, &request).await;
    let conversation = streamed.done().conversation_id;
    act(server, tenant.token(), conversation, "takeover", json!({})).await;
    // The same client id from another author is another message.
    let body = json!({"conversation_id": conversation, "content": "It left this morning.", "message_id": message_id});
    let sent: SentMessage = json_of(post(server, "/v1/chat/messages/send", tenant.token(), body.clone()).await, 201).await;
    assert!(!sent.duplicate, "the operator's reply was taken for the visitor's message: {sent:?}");
    assert_eq!((sent.message.role, sent.message.content.as_str(), sent.message.seq), (Role::Operator, "It left this morning.", 3));
    // The operator's own retry is still a duplicate of their reply.
    let again: SentMessage = json_of(post(server, "/v1/chat/messages/send", tenant.token(), body).await, 201).await;
    assert!(again.duplicate);
    assert_eq!(again.message.id, sent.message.id);
    // And the visitor's retry replays the visitor's message.
    let replay = stream_post(server, &request).await;
    assert!(replay.done().replayed);
    assert_eq!(replay.done().seq, 1);
    let stored = messages(server, tenant.token(), conversation).await;
    assert_eq!(stored.iter().map(|m| (m.seq, m.role)).collect::<Vec<_>>(), [(1, Role::Visitor), (2, Role::Ai), (3, Role::Operator)]);
}
