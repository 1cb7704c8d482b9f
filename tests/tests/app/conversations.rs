//! A signed-in user's conversations (seed 003, issue 14): list, start from
//! a message or a topic alone, read one, poll for news and state, read,
//! close, reply; operators' snooze and its wake-up; isolation between users
//! and sites; the widget's `user_hash` identity reaching the same user.
//!
//! Each trial signs up its own accounts (from `10.142.x.y`).

use std::time::Duration;

use edgechat_shared::api::app::{AppConversationDetail, AppConversationList, Closed, Poll, Replied, DETAIL_MESSAGES};
use edgechat_shared::api::conversations::{ConversationDetail, ConversationSummary, Status};
use edgechat_shared::api::Role;
use edgechat_tests::app::{app_login, app_send};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

use super::session::secret_of;

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        a_request_with_a_body_is_answered_and_listed,
        a_topic_alone_opens_a_request_operators_see_with_the_meta,
        bad_start_bodies_are_422_or_400_and_store_nothing,
        a_user_keeps_several_requests_and_a_closed_one_stays_listed,
        poll_shows_new_messages_and_an_operators_close_and_snooze_at_once,
        a_snooze_reopens_on_time_and_at_once_on_a_user_message,
        bad_snoozes_are_422_and_another_accounts_conversation_404,
        reading_clears_the_unread_badge,
        closing_asks_for_csat_until_rated_and_a_reply_reopens,
        the_widgets_user_hash_identity_reaches_the_same_user,
        another_users_or_sites_conversation_is_404_everywhere,
        a_reply_takes_only_the_users_own_uploads,
        the_live_channel_streams_operator_replies_and_resumes_after_a_seq,
        a_long_conversation_reads_back_page_by_page_from_the_newest,
        a_retried_start_or_reply_with_the_same_message_id_lands_once,
    ]
}

static IPS: IpPool = IpPool::new("10.142");

/// A tenant and a signed-in user of its site.
async fn user_of(server: &Server, tenant: &Tenant, sub: &str) -> String {
    app_login(server, &IPS, tenant.site_key(), &secret_of(tenant), sub).await
}

async fn start(server: &Server, session: &str, body: Value) -> reqwest::Response {
    app_send(server, Method::POST, "/api/v1/app/conversations", session, Some(body)).await
}

async fn started(server: &Server, session: &str, body: Value) -> AppConversationDetail {
    json_of(start(server, session, body).await, 201).await
}

async fn list(server: &Server, session: &str) -> AppConversationList {
    json_of(app_send(server, Method::GET, "/api/v1/app/conversations", session, None).await, 200).await
}

async fn poll(server: &Server, session: &str, id: i64, since: i64) -> Poll {
    json_of(app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}/poll?since={since}"), session, None).await, 200).await
}

async fn user_action(server: &Server, session: &str, id: i64, action: &str, body: Option<Value>) -> reqwest::Response {
    app_send(server, Method::POST, &format!("/api/v1/app/conversations/{id}/{action}"), session, body).await
}

async fn operator_reply(server: &Server, tenant: &Tenant, id: i64, text: &str) {
    let sent = post(server, "/v1/chat/messages/send", tenant.token(), json!({"conversation_id": id, "content": text})).await;
    assert_eq!(sent.status().as_u16(), 201, "operator reply");
}

/// RFC 3339 UTC time `seconds` from now (negative: ago).
fn in_seconds(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(now() + seconds, 0).expect("a valid time").format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

async fn a_request_with_a_body_is_answered_and_listed(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "buyer").await;
    let detail = started(server, &session, json!({"body": "Where is my parcel?"})).await;
    assert_eq!(detail.conversation.state, Status::Open);
    assert_eq!(detail.messages[0].role, Role::Visitor);
    assert_eq!(detail.messages[0].content, "Where is my parcel?");
    assert!(detail.messages.len() >= 2, "the AI answered: {:?}", detail.messages);
    assert_eq!(detail.messages[1].role, Role::Ai);
    let listed = list(server, &session).await;
    assert_eq!(listed.conversations.len(), 1);
    let first = &listed.conversations[0];
    assert_eq!(first.id, detail.conversation.id);
    assert_eq!(first.last_message.as_ref().map(|m| m.role), Some(Role::Ai));
    assert!(!first.rated);
    let got: AppConversationDetail =
        json_of(app_send(server, Method::GET, &format!("/api/v1/app/conversations/{}", first.id), &session, None).await, 200).await;
    assert_eq!(got.messages.len(), detail.messages.len());
    assert_eq!(got.rating, None);
}

async fn a_topic_alone_opens_a_request_operators_see_with_the_meta(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "topic").await;
    let body = json!({"reason": {"main": "Payments", "sub": "Refund"}, "meta": {"browser": "Firefox 133", "os": "Android 15", "appVersion": "4.2.1", "locale": "fr-FR", "ip": "6.6.6.6"}});
    let response = app_send(server, Method::POST, "/api/v1/app/conversations", &session, None).await;
    assert_error(response, 400, "bad_request", "no body").await;
    let response = server
        .client()
        .post(format!("{}/api/v1/app/conversations", server.base()))
        .bearer_auth(&session)
        .header("CF-Connecting-IP", "203.0.113.9")
        .json(&body)
        .send()
        .await
        .unwrap();
    let detail: AppConversationDetail = json_of(response, 201).await;
    assert!(detail.messages.is_empty(), "the topic is no user message: {:?}", detail.messages);
    assert_eq!(detail.conversation.reason.as_ref().map(|r| r.main.as_str()), Some("Payments"));
    let seen: ConversationDetail = json_of(get(server, &conversation_path(detail.conversation.id, ""), tenant.token()).await, 200).await;
    let reason = seen.reason.expect("operators see the topic");
    assert_eq!((reason.main.as_str(), reason.sub.as_deref()), ("Payments", Some("Refund")));
    let meta = seen.meta.expect("operators see the meta");
    assert_eq!(meta.browser.as_deref(), Some("Firefox 133"));
    assert_eq!(meta.app_version.as_deref(), Some("4.2.1"));
    assert_eq!(meta.ip.as_deref(), Some("203.0.113.9"), "the worker's IP, not the body's");
    assert!(seen.summary.visitor.is_some_and(|v| v.verified), "a signed-in user is a verified visitor");
}

async fn bad_start_bodies_are_422_or_400_and_store_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "bad").await;
    let refused = [
        (json!({}), 422, "neither body nor reason"),
        (json!({"body": "   "}), 422, "blank body"),
        (json!({"body": "x".repeat(10_001)}), 422, "over-long body"),
        (json!({"reason": {"main": ""}}), 422, "empty topic"),
        (json!({"reason": {"main": "x".repeat(101)}}), 422, "over-long topic"),
        (json!({"body": "hi", "meta": {"browser": "b".repeat(201)}}), 422, "over-long meta"),
        (json!({"body": 7}), 400, "body not a string"),
        (json!({"reason": "Payments"}), 400, "reason not an object"),
    ];
    for (body, status, what) in refused {
        let code = if status == 422 { "validation_error" } else { "bad_request" };
        assert_error(start(server, &session, body).await, status, code, what).await;
    }
    assert!(list(server, &session).await.conversations.is_empty(), "nothing was stored");
}

async fn a_user_keeps_several_requests_and_a_closed_one_stays_listed(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "several").await;
    let first = started(server, &session, json!({"body": "First question"})).await.conversation.id;
    let closed: Closed = json_of(user_action(server, &session, first, "close", None).await, 200).await;
    assert_eq!(closed.state, Status::Closed);
    let second = started(server, &session, json!({"reason": {"main": "Account"}})).await.conversation.id;
    assert_ne!(first, second, "a new request starts a new conversation");
    let listed = list(server, &session).await;
    let ids: Vec<i64> = listed.conversations.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![second, first], "newest first, the closed one stays");
    assert_eq!(listed.conversations[1].state, Status::Closed);
}

async fn poll_shows_new_messages_and_an_operators_close_and_snooze_at_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "poller").await;
    let id = started(server, &session, json!({"body": "Hello"})).await.conversation.id;
    let all = poll(server, &session, id, 0).await;
    assert!(all.messages.len() >= 2);
    assert_eq!(all.state, Status::Open);
    let since = all.latest_timestamp;
    assert!(poll(server, &session, id, since).await.messages.is_empty(), "nothing new since the latest");
    operator_reply(server, &tenant, id, "An operator here").await;
    let news = poll(server, &session, id, since).await;
    assert_eq!(news.messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(), vec!["An operator here"]);
    assert!(news.latest_timestamp > since);
    act(server, tenant.token(), id, "close", json!({})).await;
    assert_eq!(poll(server, &session, id, news.latest_timestamp).await.state, Status::Closed, "an operator's close shows in one poll");
    let until = in_seconds(3600);
    let snoozed = act(server, tenant.token(), id, "snooze", json!({"until": until})).await;
    assert_eq!((snoozed.status, snoozed.snoozed_until.is_some()), (Status::Snoozed, true));
    let state = poll(server, &session, id, news.latest_timestamp).await;
    assert_eq!(state.state, Status::Snoozed);
    assert_eq!(state.snoozed_until.as_deref().map(|t| &t[..19]), Some(&until[..19]));
    let bad = app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}/poll?since=soon"), &session, None).await;
    assert_error(bad, 400, "bad_request", "since not a number").await;
    let bad = app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}/poll?since=-5"), &session, None).await;
    assert_error(bad, 422, "validation_error", "negative since").await;
}

async fn a_snooze_reopens_on_time_and_at_once_on_a_user_message(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "sleeper").await;
    let id = started(server, &session, json!({"body": "Wake me"})).await.conversation.id;
    act(server, tenant.token(), id, "snooze", json!({"until": in_seconds(2)})).await;
    assert_eq!(poll(server, &session, id, 0).await.state, Status::Snoozed);
    // The Room's alarm reopens it: wait for that state (bounded).
    let mut state = Status::Snoozed;
    for _ in 0..60 {
        state = poll(server, &session, id, 0).await.state;
        if state == Status::Open {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(state, Status::Open, "the snooze ended on time");
    let seen: ConversationSummary = summary(server, tenant.token(), id).await;
    assert_eq!((seen.status, seen.snoozed_until), (Status::Open, None));
    // Snoozed for an hour, a user message wakes it at once.
    act(server, tenant.token(), id, "snooze", json!({"until": in_seconds(3600)})).await;
    let replied = user_action(server, &session, id, "reply", Some(json!({"body": "Still there?"}))).await;
    assert_eq!(replied.status().as_u16(), 201);
    let after = poll(server, &session, id, 0).await;
    assert_eq!((after.state, after.snoozed_until), (Status::Open, None));
}

async fn bad_snoozes_are_422_and_another_accounts_conversation_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "snoozy").await;
    let id = started(server, &session, json!({"body": "Hi"})).await.conversation.id;
    let path = conversation_path(id, "/snooze");
    for (body, what) in [
        (json!({"until": in_seconds(-60)}), "in the past"),
        (json!({"until": in_seconds(400 * 86_400)}), "over a year ahead"),
        (json!({"until": "tomorrow"}), "not a time"),
        (json!({}), "missing"),
    ] {
        assert_error(post(server, &path, tenant.token(), body).await, 422, "validation_error", what).await;
    }
    assert_error(post(server, &path, tenant.token(), json!({"until": 5})).await, 400, "bad_request", "until a number").await;
    assert_error(post(server, &path, other.token(), json!({"until": in_seconds(60)})).await, 404, "not_found", "other account").await;
    assert_eq!(summary(server, tenant.token(), id).await.status, Status::Open, "nothing changed");
}

async fn reading_clears_the_unread_badge(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "reader").await;
    let id = started(server, &session, json!({"body": "Hi"})).await.conversation.id;
    assert_eq!(list(server, &session).await.conversations[0].unread, 0, "the AI's answer came in the reply");
    operator_reply(server, &tenant, id, "One").await;
    operator_reply(server, &tenant, id, "Two").await;
    assert_eq!(list(server, &session).await.conversations[0].unread, 2);
    let read = user_action(server, &session, id, "read", None).await;
    assert_eq!(read.status().as_u16(), 204);
    assert_eq!(list(server, &session).await.conversations[0].unread, 0);
}

async fn closing_asks_for_csat_until_rated_and_a_reply_reopens(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    let session = user_of(server, &tenant, "rater").await;
    let id = started(server, &session, json!({"body": "Thanks"})).await.conversation.id;
    let closed: Closed = json_of(user_action(server, &session, id, "close", None).await, 200).await;
    assert_eq!(closed, Closed { state: Status::Closed, csat_due: true });
    assert_eq!(summary(server, tenant.token(), id).await.status, Status::Closed, "operators see it closed");
    // The widget, signed in as the same user, rates the conversation.
    let hash = user_hash(&secret, "rater");
    let rated = server
        .client()
        .post(format!("{}/api/v1/chat/rate?user_id=rater&user_hash={hash}", server.base()))
        .header("CF-Connecting-IP", IPS.next())
        .json(&json!({"site_key": tenant.site_key(), "session_id": new_session_id(), "score": 5}))
        .send()
        .await
        .unwrap();
    assert!(rated.status().is_success(), "widget rating: {}", rated.status());
    assert!(poll(server, &session, id, 0).await.rated);
    let again: Closed = json_of(user_action(server, &session, id, "close", None).await, 200).await;
    assert!(!again.csat_due, "rated: no prompt");
    let replied: Replied = json_of(user_action(server, &session, id, "reply", Some(json!({"body": "One more thing"}))).await, 201).await;
    assert_eq!(replied.message.content, "One more thing");
    assert_eq!(poll(server, &session, id, 0).await.state, Status::Open, "a reply reopens it");
}

async fn the_widgets_user_hash_identity_reaches_the_same_user(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let secret = secret_of(&tenant);
    let hash = user_hash(&secret, "both-ways");
    let mut request = visitor_request(tenant.site_key(), &new_session_id(), "From the widget");
    request.message_id = Some(new_message_id());
    let response = server
        .client()
        .post(format!("{}/api/v1/chat/stream?user_id=both-ways&user_hash={hash}", server.base()))
        .header("CF-Connecting-IP", IPS.next())
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.text().await;
    let session = user_of(server, &tenant, "both-ways").await;
    let listed = list(server, &session).await;
    assert_eq!(listed.conversations.len(), 1, "the widget's conversation is the app user's");
    let detail: AppConversationDetail = json_of(
        app_send(server, Method::GET, &format!("/api/v1/app/conversations/{}", listed.conversations[0].id), &session, None).await,
        200,
    )
    .await;
    assert_eq!(detail.messages[0].content, "From the widget");
}

async fn another_users_or_sites_conversation_is_404_everywhere(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other_site = signup(server, &IPS).await;
    let alice = user_of(server, &tenant, "alice").await;
    let bob = user_of(server, &tenant, "bob").await;
    let mallory = user_of(server, &other_site, "alice").await;
    let id = started(server, &alice, json!({"body": "Private"})).await.conversation.id;
    for intruder in [&bob, &mallory] {
        let get = app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}"), intruder, None).await;
        assert_error(get, 404, "not_found", "get").await;
        let polled = app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}/poll"), intruder, None).await;
        assert_error(polled, 404, "not_found", "poll").await;
        for (action, body) in [("read", None), ("close", None), ("reply", Some(json!({"body": "boo"})))] {
            assert_error(user_action(server, intruder, id, action, body).await, 404, "not_found", action).await;
        }
        assert!(list(server, intruder).await.conversations.is_empty());
    }
    let mine = poll(server, &alice, id, 0).await;
    assert_eq!(mine.state, Status::Open, "nothing closed it");
    assert!(mine.messages.iter().all(|m| m.content != "boo"), "nothing was written");
    assert_error(user_action(server, &alice, 999_999_999, "read", None).await, 404, "not_found", "unknown id").await;
}

async fn a_reply_takes_only_the_users_own_uploads(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "uploader").await;
    let id = started(server, &session, json!({"body": "Files"})).await.conversation.id;
    for (body, what) in [
        (json!({"body": "see", "attachment_ids": [123_456]}), "an upload that is not the user's"),
        (json!({"body": ""}), "empty without attachments"),
    ] {
        assert_error(user_action(server, &session, id, "reply", Some(body)).await, 422, "validation_error", what).await;
    }
    let eleven = json!({"body": "see", "attachmentIds": (1..=11).collect::<Vec<i64>>()});
    assert_error(user_action(server, &session, id, "reply", Some(eleven)).await, 422, "too_many_items", "more than 10").await;
    let messages = poll(server, &session, id, 0).await.messages;
    assert!(messages.iter().all(|m| m.content != "see"), "nothing was stored");
}

/// An SSE response read as text.
struct Sse {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    text: String,
}

impl Sse {
    fn new(response: reqwest::Response) -> Self {
        Sse { body: Box::pin(response.bytes_stream()), text: String::new() }
    }

    /// Reads until `needle` has arrived (at most 20 s); answers everything read so far.
    async fn until(&mut self, needle: &str) -> &str {
        use futures::StreamExt;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !self.text.contains(needle) {
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                other => panic!("the stream ended or stalled before {needle:?}: {other:?}\n{}", self.text),
            }
        }
        &self.text
    }
}

async fn the_live_channel_streams_operator_replies_and_resumes_after_a_seq(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "live").await;
    let intruder = user_of(server, &tenant, "intruder").await;
    let id = started(server, &session, json!({"body": "Live?"})).await.conversation.id;
    let path = format!("/api/v1/app/conversations/{id}/events");
    assert_error(app_send(server, Method::GET, &path, &intruder, None).await, 404, "not_found", "another user's stream").await;
    let bad =
        server.client().get(format!("{}{path}", server.base())).bearer_auth(&session).header("Last-Event-ID", "x").send().await.unwrap();
    assert_error(bad, 422, "validation_error", "Last-Event-ID not a seq").await;
    // HEAD is checked as GET is, and answers the stream's headers without opening one.
    let head = |user: Option<&str>| {
        let request = server.client().head(format!("{}{path}", server.base()));
        match user {
            Some(user) => request.bearer_auth(user),
            None => request,
        }
    };
    assert_eq!(head(Some(&intruder)).send().await.unwrap().status(), 404, "HEAD of another user's stream");
    assert_eq!(head(None).send().await.unwrap().status(), 401, "HEAD without a session");
    let headed = head(Some(&session)).send().await.unwrap();
    assert_eq!(headed.status(), 200, "HEAD of the user's own stream");
    let kind = headed.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(kind.starts_with("text/event-stream"), "HEAD names the event stream: {kind}");
    let stream = server.client().get(format!("{}{path}", server.base())).bearer_auth(&session).send().await.unwrap();
    assert_eq!(stream.status().as_u16(), 200);
    let mut live = Sse::new(stream);
    live.until("Live?").await;
    operator_reply(server, &tenant, id, "Live reply").await;
    live.until("Live reply").await;
    // Resuming after the reply's seq replays nothing before it.
    let seq = poll(server, &session, id, 0).await.messages.iter().find(|m| m.content == "Live reply").unwrap().seq;
    let resumed = server
        .client()
        .get(format!("{}{path}", server.base()))
        .bearer_auth(&session)
        .header("Last-Event-ID", (seq - 1).to_string())
        .send()
        .await
        .unwrap();
    let mut resumed = Sse::new(resumed);
    let text = resumed.until("Live reply").await;
    assert!(!text.contains("Live?"), "nothing before the seq: {text}");
}

/// A conversation's detail holds its newest 100 messages; `before_seq`
/// pages back to the first, each message once (issue 16, bounded reads).
async fn a_long_conversation_reads_back_page_by_page_from_the_newest(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let alice = user_of(server, &tenant, "alice").await;
    let id = started(server, &alice, json!({"body": "A long story"})).await.conversation.id;
    for chunk in 0..11 {
        let texts: Vec<String> = (0..10).map(|i| format!("Line {}", chunk * 10 + i)).collect();
        futures::future::join_all(texts.iter().map(|text| operator_reply(server, &tenant, id, text))).await;
    }
    let path = format!("/api/v1/app/conversations/{id}");
    let mut seen: Vec<i64> = Vec::new();
    let mut before = String::new();
    let mut pages = 0;
    let mut first_page_ends = None;
    loop {
        let page: AppConversationDetail = json_of(app_send(server, Method::GET, &format!("{path}{before}"), &alice, None).await, 200).await;
        assert!(page.messages.len() <= DETAIL_MESSAGES as usize, "a page holds at most {DETAIL_MESSAGES}: {}", page.messages.len());
        if pages == 0 {
            first_page_ends = page.messages.last().map(|m| m.seq);
        }
        pages += 1;
        seen.splice(0..0, page.messages.iter().map(|m| m.seq));
        if !page.has_more {
            break;
        }
        before = format!("?before_seq={}", page.messages[0].seq);
    }
    let newest = *seen.last().expect("messages");
    assert!(newest > DETAIL_MESSAGES as i64, "over one page: {newest} messages");
    assert_eq!(first_page_ends, Some(newest), "the first page is the newest one");
    assert_eq!(seen, (1..=newest).collect::<Vec<_>>(), "every message once, in seq order");
    assert_eq!(pages, (newest as usize).div_ceil(DETAIL_MESSAGES as usize));
    for bad in ["0", "-1", "x1"] {
        let response = app_send(server, Method::GET, &format!("{path}?before_seq={bad}"), &alice, None).await;
        assert_error(response, 422, "validation_error", &format!("before_seq={bad}")).await;
    }
}

/// Issue 16, "a retry that lands twice": an app whose answer was lost sends
/// the same request again with the same `message_id`.
async fn a_retried_start_or_reply_with_the_same_message_id_lands_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let session = user_of(server, &tenant, "retrier").await;
    let visitor_texts = |detail: &AppConversationDetail, text: &str| {
        detail.messages.iter().filter(|m| m.role == Role::Visitor && m.content == text).count()
    };

    // A start, then its retry: the same conversation, one message.
    let request = json!({"body": "Lost answer?", "message_id": "m-start-1"});
    let first = started(server, &session, request.clone()).await;
    let again = started(server, &session, request.clone()).await;
    assert_eq!(again.conversation.id, first.conversation.id, "the retry answers the conversation it started");
    assert_eq!(visitor_texts(&again, "Lost answer?"), 1, "one message: {:?}", again.messages);
    // Two at once (a retry while the first is still out): one conversation.
    let twice = json!({"body": "Twice at once", "messageId": "m-start-2"});
    let (a, b) = futures::join!(started(server, &session, twice.clone()), started(server, &session, twice.clone()));
    assert_eq!(a.conversation.id, b.conversation.id);
    let listed = list(server, &session).await;
    assert_eq!(listed.conversations.len(), 2, "two requests, not four: {:?}", listed.conversations);
    // The id is the user's own: another user's same id starts their own.
    let other = user_of(server, &tenant, "other-retrier").await;
    assert_ne!(started(server, &other, request).await.conversation.id, first.conversation.id);

    // A reply, then its retry: the same message and answer, stored once.
    let id = first.conversation.id;
    let reply = json!({"body": "And the refund?", "message_id": "m-reply-1"});
    let replied: Replied = json_of(user_action(server, &session, id, "reply", Some(reply.clone())).await, 201).await;
    let retried: Replied = json_of(user_action(server, &session, id, "reply", Some(reply)).await, 201).await;
    assert_eq!(retried.message.id, replied.message.id);
    assert_eq!(retried.answer.as_ref().map(|m| m.id), replied.answer.as_ref().map(|m| m.id), "the stored answer, not a new one");
    // A retry is not checked for uploads again (they are attached by now),
    // nor does it attach any: a new message naming the same upload is.
    let with_upload = json!({"body": "And the refund?", "message_id": "m-reply-1", "attachment_ids": [123_456]});
    let replayed: Replied = json_of(user_action(server, &session, id, "reply", Some(with_upload)).await, 201).await;
    assert_eq!(replayed.message.id, replied.message.id);
    assert!(replayed.message.attachments.is_empty(), "nothing attached by a retry");
    let new_with_upload = json!({"body": "See file", "message_id": "m-reply-2", "attachment_ids": [123_456]});
    assert_error(
        user_action(server, &session, id, "reply", Some(new_with_upload)).await,
        422,
        "validation_error",
        "a new message's upload is checked",
    )
    .await;
    let seen: AppConversationDetail =
        json_of(app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}"), &session, None).await, 200).await;
    assert_eq!(visitor_texts(&seen, "And the refund?"), 1, "one reply: {:?}", seen.messages);
    assert_eq!(visitor_texts(&seen, "See file"), 0);
    // A retry arriving after the conversation was closed, or snoozed, is
    // no new message: it reopens and wakes nothing.
    let reply = json!({"body": "And the refund?", "message_id": "m-reply-1"});
    let closed: Closed = json_of(user_action(server, &session, id, "close", None).await, 200).await;
    assert_eq!(closed.state, Status::Closed);
    let late: Replied = json_of(user_action(server, &session, id, "reply", Some(reply.clone())).await, 201).await;
    assert_eq!(late.message.id, replied.message.id);
    assert_eq!(poll(server, &session, id, 0).await.state, Status::Closed, "a retry does not reopen");
    let reopened = json!({"body": "Reopen please", "message_id": "m-reply-3"});
    assert_eq!(user_action(server, &session, id, "reply", Some(reopened)).await.status().as_u16(), 201);
    assert_eq!(poll(server, &session, id, 0).await.state, Status::Open, "a new message reopens");
    act(server, tenant.token(), id, "snooze", json!({"until": in_seconds(3600)})).await;
    let late: Replied = json_of(user_action(server, &session, id, "reply", Some(reply)).await, 201).await;
    assert_eq!(late.message.id, replied.message.id);
    assert_eq!(poll(server, &session, id, 0).await.state, Status::Snoozed, "a retry does not wake");

    // A malformed id is 422 on both routes, and nothing is stored.
    for bad in ["", "has space", &"x".repeat(65)] {
        let start_bad = json!({"body": "Bad id", "message_id": bad});
        assert_error(start(server, &session, start_bad).await, 422, "validation_error", "a malformed start id").await;
        let reply_bad = json!({"body": "Bad id", "message_id": bad});
        assert_error(user_action(server, &session, id, "reply", Some(reply_bad)).await, 422, "validation_error", "a malformed reply id")
            .await;
    }
    assert_eq!(list(server, &session).await.conversations.len(), 2, "no start was stored");
    let seen: AppConversationDetail =
        json_of(app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}"), &session, None).await, 200).await;
    assert_eq!(visitor_texts(&seen, "Bad id"), 0, "no reply was stored");
}
