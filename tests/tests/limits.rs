//! Integration tests of the resource caps (issue 16, README "Resource
//! caps") against a real `wrangler dev`: a conversation's ninth live stream
//! ends its oldest, a slow stream is dropped and resumes with
//! `Last-Event-ID` with no gap and no duplicate, an operator's ninth socket
//! closes their oldest with 4029, and the OpenAPI document states the
//! figures of `edgechat_shared::limits`.
//!
//! The server runs with the test-only var `LIVE_BUFFER_EVENTS` =
//! [`BUFFER`], so a slow client is produced with a few messages. Trials run
//! in parallel, each with its own account (`10.216.x.y`).

use edgechat_shared::api::conversations::SentMessage;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::limits::{
    LIVE_BUFFER_EVENTS, LIVE_SOCKET_OVER_CAP_CLOSE, LIVE_STREAMS_PER_CONVERSATION, OPERATOR_SOCKETS_PER_ACCOUNT,
    OPERATOR_SOCKETS_PER_OPERATOR,
};
use edgechat_shared::sse::{Frame, Parser};
use edgechat_tests::socket::WAIT;
use edgechat_tests::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The buffer cap of the test server's visitor streams (`LIVE_BUFFER_EVENTS`).
const BUFFER: usize = 4;

/// Life of an upload URL on this binary's server (`MEDIA_URL_SECONDS`, 600
/// by default): short, so that one expires within a trial. (Setting a stored
/// expiry in the past from outside, with `wrangler d1 execute`, locked the
/// database under a shared server's other trials: SQLITE_BUSY.)
const MEDIA_URL_SECONDS: u64 = 3;

/// A real 1x1 PNG, 69 bytes.
const PNG: &[u8] = b"\x89PNG\x0d\x0a\x1a\x0a\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\
    wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xdf\xc0\x00\x00\x04\x01\x01\x80\xc5*\x18]\x00\x00\x00\x00IE\
    ND\xaeB`\x82";

fn main() {
    let buffer = BUFFER.to_string();
    let media_url_seconds = MEDIA_URL_SECONDS.to_string();
    let server = Server::start_with("limits", &[("LIVE_BUFFER_EVENTS", &buffer), ("MEDIA_URL_SECONDS", &media_url_seconds)]);
    let mut trials = trials![server;
        a_ninth_live_stream_ends_the_oldest_and_the_newest_eight_stay_live,
        head_on_the_live_channel_answers_its_headers_and_takes_no_stream_slot,
        a_ninth_operator_socket_closes_the_oldest_with_4029_and_spares_other_operators,
        the_openapi_document_states_the_caps,
        an_upload_url_is_refused_once_it_expires,
    ];
    trials.push(trial("a_slow_stream_is_dropped_and_resumes_with_last_event_id_without_gap_or_duplicate", server, |server| {
        a_slow_stream_is_dropped_and_resumes_with_last_event_id_without_gap_or_duplicate(server)
    }));
    run_trials(server, trials)
}

// ---------------------------------------------------------------- helpers

/// Client addresses of this binary's sign-ups.
static IPS: IpPool = IpPool::new("10.216");

/// A visitor of `site_key` with a conversation: seq 1 (visitor) and 2 (AI).
struct Visitor {
    site_key: String,
    session: String,
    conversation: i64,
}

async fn new_conversation(server: &Server, site_key: &str) -> Visitor {
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(site_key, &session, "Hello, is anyone there?")).await;
    assert_eq!(streamed.status, 200, "first message: {:?}", streamed.events);
    let meta = streamed.done();
    assert_eq!((meta.seq, meta.answer_seq), (1, Some(2)));
    Visitor { site_key: site_key.into(), session, conversation: meta.conversation_id }
}

/// `POST /v1/chat/messages/send`: stored (201) before the call returns.
async fn operator_reply(server: &Server, token: &str, conversation_id: i64, content: &str) -> i64 {
    let body = json!({"conversation_id": conversation_id, "content": content});
    let sent: SentMessage = json_of(post(server, "/v1/chat/messages/send", token, body).await, 201).await;
    sent.message.seq
}

/// A visitor event stream read over a raw TCP connection with a small
/// receive buffer, so that a client that stops reading soon stops the
/// server's writes too (a "slow" client, as a phone on a bad network).
struct RawStream {
    tcp: TcpStream,
    /// Bytes read and not yet decoded (chunked transfer coding).
    pending: Vec<u8>,
    chunked: bool,
    parser: Parser,
    ended: bool,
}

impl RawStream {
    /// Opens `GET /api/v1/chat/events` of `visitor`, after `Last-Event-ID:
    /// last_event_id` (if any); panics unless it answers 200.
    async fn open(server: &Server, visitor: &Visitor, last_event_id: Option<i64>) -> RawStream {
        let authority = server.url.strip_prefix("http://").expect("an http URL");
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let mut tcp = socket.connect(authority.parse().expect("host:port")).await.expect("connects");
        let resume = last_event_id.map(|id| format!("Last-Event-ID: {id}\r\n")).unwrap_or_default();
        let request = format!(
            "GET /api/v1/chat/events?site_key={}&session_id={} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/event-stream\r\nCF-Connecting-IP: {}\r\n{resume}\r\n",
            visitor.site_key,
            visitor.session,
            visitor_ip(&visitor.session),
        );
        tcp.write_all(request.as_bytes()).await.expect("the request is sent");
        let mut stream = RawStream { tcp, pending: Vec::new(), chunked: false, parser: Parser::new(), ended: false };
        let head = loop {
            if let Some(end) = stream.pending.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&stream.pending[..end]).to_ascii_lowercase();
                stream.pending.drain(..end + 4);
                break head;
            }
            assert!(stream.read_more().await, "the connection closed before the response head");
        };
        assert!(head.starts_with("http/1.1 200"), "GET /api/v1/chat/events: {head}");
        stream.chunked = head.contains("transfer-encoding: chunked");
        stream
    }

    /// Reads once more from the socket (at most [`WAIT`]); `false` at its end.
    async fn read_more(&mut self) -> bool {
        let mut buf = [0u8; 16 * 1024];
        let n = tokio::time::timeout(WAIT, self.tcp.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("nothing read within {WAIT:?}"))
            .expect("the socket reads");
        self.pending.extend_from_slice(&buf[..n]);
        n > 0
    }

    /// The SSE frames in the body bytes read so far (the chunks decoded).
    fn decode(&mut self) -> Vec<Frame> {
        if !self.chunked {
            let body = std::mem::take(&mut self.pending);
            return self.parser.push(&body);
        }
        let mut frames = Vec::new();
        while let Some(line_end) = self.pending.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&self.pending[..line_end]).into_owned();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
                .unwrap_or_else(|e| panic!("not a chunk size ({e}): {line:?}"));
            if size == 0 {
                self.ended = true;
                self.pending.clear();
                break;
            }
            if self.pending.len() < line_end + 2 + size + 2 {
                break;
            }
            let data: Vec<u8> = self.pending[line_end + 2..line_end + 2 + size].to_vec();
            self.pending.drain(..line_end + 2 + size + 2);
            frames.extend(self.parser.push(&data));
        }
        frames
    }

    /// The live events of the stream until `done` holds for the events so
    /// far or the stream ends; panics when neither happens within [`WAIT`].
    async fn events_until(&mut self, done: impl Fn(&[LiveEvent]) -> bool) -> Vec<LiveEvent> {
        let mut events = Vec::new();
        loop {
            for frame in self.decode() {
                if !frame.data.is_empty() {
                    events.push(serde_json::from_str(&frame.data).unwrap_or_else(|e| panic!("not a live event ({e}): {frame:?}")));
                }
            }
            if self.ended || done(&events) {
                return events;
            }
            if !self.read_more().await {
                self.ended = true;
            }
        }
    }
}

/// The seqs of the message events among `events`.
fn seqs(events: &[LiveEvent]) -> Vec<i64> {
    events.iter().filter_map(LiveEvent::seq).collect()
}

// ---------------------------------------------------------------- live streams per conversation

async fn a_ninth_live_stream_ends_the_oldest_and_the_newest_eight_stay_live(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let mut streams = Vec::new();
    for _ in 0..LIVE_STREAMS_PER_CONVERSATION + 1 {
        // Each stream is in the Room once its replay (seq 1 and 2) arrived, so they open in this order.
        let mut stream = RawStream::open(server, &visitor, None).await;
        let replayed = stream.events_until(|events| seqs(events) == [1, 2]).await;
        assert_eq!(seqs(&replayed), [1, 2], "the replay of a new stream");
        streams.push(stream);
    }
    let mut oldest = streams.remove(0);
    let rest = oldest.events_until(|_| false).await;
    assert!(oldest.ended, "the oldest stream ends when a ninth opens");
    assert!(seqs(&rest).is_empty(), "and gets nothing more: {rest:?}");

    let seq = operator_reply(server, tenant.token(), visitor.conversation, "Still there: all eight newest tabs see this").await;
    for (i, stream) in streams.iter_mut().enumerate() {
        let events = stream.events_until(|events| seqs(events).contains(&seq)).await;
        assert_eq!(seqs(&events), [seq], "stream {} (of the newest eight) stays live", i + 2);
    }

    // One more: the oldest of the eight (the second opened) ends, the others stay.
    let mut tenth = RawStream::open(server, &visitor, Some(seq)).await;
    tenth.events_until(|events| events.len() >= 2).await;
    let second = &mut streams[0];
    second.events_until(|_| false).await;
    assert!(second.ended, "a tenth stream ends the second opened");
}

/// `HEAD /api/v1/chat/events` answers what a `GET` would (200, an event
/// stream) with no body, and opens nothing: more `HEAD`s than the
/// conversation has stream slots leave its one live stream open.
async fn head_on_the_live_channel_answers_its_headers_and_takes_no_stream_slot(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let mut live = RawStream::open(server, &visitor, None).await;
    assert_eq!(seqs(&live.events_until(|events| seqs(events) == [1, 2]).await), [1, 2], "the replay of the live stream");
    let url = format!("{}/api/v1/chat/events?site_key={}&session_id={}", server.url, visitor.site_key, visitor.session);
    for i in 0..LIVE_STREAMS_PER_CONVERSATION + 2 {
        let head = server.http.head(&url).header("cf-connecting-ip", visitor_ip(&visitor.session)).send().await.expect("HEAD is answered");
        assert_eq!(head.status(), 200, "HEAD {i}");
        let kind = head.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(kind.starts_with("text/event-stream"), "HEAD {i} names the event stream: {kind}");
    }
    let unknown = format!("{}/api/v1/chat/events?site_key={}&session_id={}", server.url, visitor.site_key, new_session_id());
    let head = server.http.head(&unknown).header("cf-connecting-ip", visitor_ip(&visitor.session)).send().await.expect("HEAD is answered");
    assert_eq!(head.status(), 404, "HEAD for a session without a conversation is refused as GET is");
    let seq = operator_reply(server, tenant.token(), visitor.conversation, "The live stream outlived the HEADs").await;
    let events = live.events_until(|events| seqs(events).contains(&seq)).await;
    assert!(!live.ended, "the live stream was not ended by the HEADs");
    assert_eq!(seqs(&events), [seq], "and gets the next reply");
}

// ---------------------------------------------------------------- buffered events per slow stream

async fn a_slow_stream_is_dropped_and_resumes_with_last_event_id_without_gap_or_duplicate(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let mut slow = RawStream::open(server, &visitor, None).await;
    assert_eq!(seqs(&slow.events_until(|events| seqs(events) == [1, 2]).await), [1, 2]);
    let mut fast = RawStream::open(server, &visitor, None).await;
    assert_eq!(seqs(&fast.events_until(|events| seqs(events) == [1, 2]).await), [1, 2]);

    // The slow client reads nothing while the operator writes: each reply
    // is 10,000 four-byte characters, so a few fill every buffer on the way.
    let body: String = "😀".repeat(10_000);
    let messages = slow_messages();
    let mut sent = Vec::new();
    for _ in 0..messages {
        sent.push(operator_reply(server, tenant.token(), visitor.conversation, &body).await);
        // The fast client keeps up: it is never dropped.
        let last = *sent.last().expect("one sent");
        let events = fast.events_until(|events| seqs(events).contains(&last)).await;
        assert_eq!(seqs(&events), [last], "the fast stream gets every message once, in order");
    }
    assert_eq!(sent, (3..3 + messages as i64).collect::<Vec<_>>());

    let before = slow.events_until(|_| false).await;
    assert!(slow.ended, "the slow stream ends once {BUFFER} events wait for it");
    let got = seqs(&before);
    assert!(got.len() < sent.len(), "the slow stream was dropped before the last message: got {got:?}");
    assert_eq!(got, sent[..got.len()], "what it got before the drop has no gap");

    // The reconnect of an EventSource: `Last-Event-ID` = the last seq it got.
    let last_seen = got.last().copied().unwrap_or(2);
    let mut resumed = RawStream::open(server, &visitor, Some(last_seen)).await;
    let last_sent = *sent.last().expect("one sent");
    let replayed = resumed.events_until(|events| seqs(events).contains(&last_sent)).await;
    assert_eq!(seqs(&replayed), sent[got.len()..], "the replay has exactly the missed messages");
    let live = operator_reply(server, tenant.token(), visitor.conversation, "and live again").await;
    assert_eq!(seqs(&resumed.events_until(|events| seqs(events).contains(&live)).await), [live]);
    assert_eq!(seqs(&fast.events_until(|events| seqs(events).contains(&live)).await), [live]);
}

/// Operator replies (of 40,000 bytes) the slow client does not read:
/// enough to fill the buffers between the Room and the client and then
/// [`BUFFER`] events in the Room. Those buffers are sockets' send buffers,
/// which Linux grows up to `net.ipv4.tcp_wmem`'s maximum (4 MiB by
/// default): with that maximum the slow client had taken 204–216 replies
/// (8.2–8.6 MB) when it was dropped, in three runs of 300 (80, 3.2 MB,
/// never filled them). So: the bytes of four such buffers, at least 400 replies.
fn slow_messages() -> usize {
    const REPLY_BYTES: usize = 40_000;
    let wmem_max = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|v| v.split_whitespace().nth(2).and_then(|max| max.parse::<usize>().ok()))
        .unwrap_or(4 << 20);
    (4 * wmem_max / REPLY_BYTES + BUFFER).max(400)
}

// ---------------------------------------------------------------- operator sockets

async fn a_ninth_operator_socket_closes_the_oldest_with_4029_and_spares_other_operators(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let email = format!("{}@example.com", unique("agent"));
    let body = json!({"email": email, "display_name": "Alex Agent", "role": "agent", "password": PASSWORD});
    let _: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    let agent: edgechat_shared::api::auth::TokenResponse =
        json_of(post_public(server, &IPS, "/auth/login", &json!({"email": email, "password": PASSWORD})).await, 200).await;
    let mut agents = Socket::open(server, &agent.access_token).await;

    let mut sockets = Vec::new();
    for _ in 0..OPERATOR_SOCKETS_PER_OPERATOR {
        sockets.push(Socket::open(server, tenant.token()).await);
    }
    let ninth = Socket::open(server, tenant.token()).await;
    let (code, reason) = sockets[0].closed().await;
    assert_eq!(code, LIVE_SOCKET_OVER_CAP_CLOSE, "the oldest closes with 4029: {reason}");
    assert!(reason.contains(&OPERATOR_SOCKETS_PER_OPERATOR.to_string()), "the reason names the cap: {reason}");
    sockets.remove(0);
    sockets.push(ninth);
    for socket in &mut sockets {
        socket.ping().await;
    }
    agents.ping().await;

    // Once more: the closed socket no longer counts, the next oldest goes.
    let _tenth = Socket::open(server, tenant.token()).await;
    let (code, _) = sockets[0].closed().await;
    assert_eq!(code, LIVE_SOCKET_OVER_CAP_CLOSE, "a tenth socket closes the second opened");
    for socket in &mut sockets[1..] {
        socket.ping().await;
    }
    agents.ping().await;

    // The sockets still open get the account's events.
    let visitor = new_conversation(server, tenant.site_key()).await;
    assert!(matches!(agents.event_of(visitor.conversation).await, LiveEvent::Conversation { .. }));
    assert!(matches!(sockets[1].event_of(visitor.conversation).await, LiveEvent::Conversation { .. }));
}

// ---------------------------------------------------------------- the OpenAPI document

async fn the_openapi_document_states_the_caps(server: &Server) {
    let document: Value = server.get("/openapi.json").await.json().await.expect("the OpenAPI document is JSON");
    let description = |path: &str, status: &str| {
        document["paths"][path]["get"]["responses"][status]["description"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} has no {status} description"))
            .to_string()
    };
    for path in ["/api/v1/chat/events", "/api/v1/app/conversations/{id}/events"] {
        let text = description(path, "200");
        for figure in
            [format!("{LIVE_STREAMS_PER_CONVERSATION} live streams per conversation"), format!("{LIVE_BUFFER_EVENTS} live events")]
        {
            assert!(text.contains(&figure), "{path}: {figure:?} missing from {text:?}");
        }
    }
    let text = description("/v1/chat/live", "101");
    for figure in [
        format!("{OPERATOR_SOCKETS_PER_OPERATOR} sockets per operator"),
        format!("{OPERATOR_SOCKETS_PER_ACCOUNT} per account"),
        format!("close code {LIVE_SOCKET_OVER_CAP_CLOSE}"),
    ] {
        assert!(text.contains(&figure), "/v1/chat/live: {figure:?} missing from {text:?}");
    }
}

/// An upload URL works until it expires, then is 403 and leaves nothing to
/// confirm (409). Time is what expires it: the trial waits out the URL's
/// `MEDIA_URL_SECONDS`, measured from before it was issued.
async fn an_upload_url_is_refused_once_it_expires(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor = new_conversation(server, tenant.site_key()).await;
    let body = json!({"conversation_id": visitor.conversation, "filename": "late.png", "content_type": "image/png", "size": PNG.len()});
    let put = |url: &Value| {
        let url = format!("{}{}", server.url, url["upload_url"].as_str().expect("upload_url"));
        server.http.put(url).body(PNG.to_vec()).send()
    };
    let early: Value = json_of(post(server, "/v1/chat/media/upload-url", tenant.token(), body.clone()).await, 201).await;
    assert_eq!(put(&early).await.expect("PUT reaches the server").status(), 204, "a URL works before it expires");
    let issued = tokio::time::Instant::now();
    let late: Value = json_of(post(server, "/v1/chat/media/upload-url", tenant.token(), body).await, 201).await;
    // The worker compares whole seconds: one more and a margin.
    tokio::time::sleep_until(issued + std::time::Duration::from_millis(MEDIA_URL_SECONDS * 1000 + 1500)).await;
    assert_error(put(&late).await.expect("PUT reaches the server"), 403, "forbidden", "a PUT after expiry").await;
    let confirm = format!("/v1/chat/media/{}/confirm", late["media_id"]);
    assert_error(post(server, &confirm, tenant.token(), json!({})).await, 409, "conflict", "nothing to confirm").await;
}
