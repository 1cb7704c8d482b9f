//! Integration tests of the public widget API (`/api/v1/chat/*`, seeds 001
//! and 004) and the health routes, over HTTP and SSE against a real
//! `wrangler dev` (workerd with local D1 and the Room Durable Object).

use edgechat_shared::api::config::WidgetConfig;
use edgechat_shared::api::conversations::{ConversationDetail, ConversationList};
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::stream::StreamEvent;
use edgechat_shared::api::{Mode, Role};
use edgechat_tests::*;
use serde_json::json;

fn main() {
    let server = Server::start("widget_api");
    run_trials(
        server,
        trials![server;
            health_answers_while_the_worker_runs,
            ready_answers_when_d1_answers,
            config_returns_the_site_greeting,
            config_of_an_unknown_site_key_is_404,
            stream_sends_chunks_before_done_with_the_expected_article,
            stream_stores_question_and_answer_before_done,
            stream_offers_a_person_when_no_article_fits,
            stream_with_a_repeated_message_id_stores_once_and_replays,
            stream_refuses_invalid_input_and_stores_nothing,
            stream_refuses_malformed_json_with_400,
            stream_to_an_unknown_site_key_is_404,
            history_returns_messages_in_order,
            history_of_a_new_session_is_empty,
            history_refuses_a_malformed_session_id,
            widget_api_answers_cors_preflights,
            unknown_route_is_404_in_the_error_envelope,
            identity_with_a_wrong_user_hash_is_401_and_stores_nothing,
            verified_visitor_sees_their_conversation_on_another_device,
            proactive_rules_are_managed_per_site_by_owners,
            pending_proactive_answers_due_rules_of_the_page_and_when_the_next_is_due,
            a_once_per_visitor_nudge_is_shown_to_a_session_once,
            a_site_has_at_most_50_proactive_rules_and_a_poll_marks_all_its_due_ones_at_once,
            operators_see_the_phone_a_visitor_left,
            operators_see_the_page_a_token_visitor_wrote_from,
            a_bad_page_url_is_422_and_nothing_is_stored,
        ],
    )
}

async fn history(server: &Server, session_id: &str) -> HistoryResponse {
    let response = server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session_id}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("history JSON")
}

async fn health_answers_while_the_worker_runs(server: &Server) {
    let response = server.get("/health").await;
    assert_eq!(response.status(), 200);
}

async fn ready_answers_when_d1_answers(server: &Server) {
    let response = server.get("/ready").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

async fn config_returns_the_site_greeting(server: &Server) {
    let response = server.get(&format!("/api/v1/chat/config?site_key={DEMO_SITE_KEY}")).await;
    assert_eq!(response.status(), 200);
    let config: WidgetConfig = response.json().await.unwrap();
    assert_eq!(config.site_key, DEMO_SITE_KEY);
    assert_eq!(config.greeting, "Hi there! How can we help?");
    assert_eq!(config.name, "EdgeChat Demo");
}

async fn config_of_an_unknown_site_key_is_404(server: &Server) {
    let (status, body) = error_of(server.get("/api/v1/chat/config?site_key=sk_nobody_has_this").await).await;
    assert_eq!((status, body.error.as_str()), (404, "not_found"));
    let (status, body) = error_of(server.get("/api/v1/chat/config").await).await;
    assert_eq!((status, body.error.as_str()), (422, "validation_error"), "a missing site_key is a validation error");
}

async fn stream_sends_chunks_before_done_with_the_expected_article(server: &Server) {
    let streamed = server.stream(&demo_request(&new_session_id(), "How do I install the widget on my website?")).await;
    assert_eq!(streamed.status, 200);
    assert!(streamed.content_type.starts_with("text/event-stream"), "{}", streamed.content_type);
    assert!(streamed.chunk_count() >= 3, "the answer streams in several chunks, got {}", streamed.chunk_count());
    let done_index = streamed.events.iter().position(|(_, e)| matches!(e, StreamEvent::Done { .. })).unwrap();
    assert_eq!(done_index, streamed.events.len() - 1, "done is the last event, after every chunk");
    let meta = streamed.done();
    assert_eq!(meta.sources[0].id, "install-widget");
    assert_eq!(meta.sources[0].title, "How do I install the EdgeChat widget on my website?");
    assert!(streamed.answer().starts_with("Paste one script tag"), "{}", streamed.answer());
    assert_eq!(meta.mode, Mode::Ai);
    assert!(!meta.handoff_offered);
}

async fn stream_stores_question_and_answer_before_done(server: &Server) {
    let session = new_session_id();
    let streamed = server.stream(&demo_request(&session, "How do I deploy to Cloudflare Workers?")).await;
    let meta = streamed.done().clone();
    let stored = history(server, &session).await;
    assert_eq!(stored.conversation_id, Some(meta.conversation_id));
    assert_eq!(stored.messages.len(), 2);
    assert_eq!((stored.messages[0].role, stored.messages[0].seq), (Role::Visitor, 1));
    assert_eq!(stored.messages[0].content, "How do I deploy to Cloudflare Workers?");
    assert_eq!(stored.messages[0].id, meta.message_id);
    assert_eq!((stored.messages[1].role, stored.messages[1].seq), (Role::Ai, 2));
    assert_eq!(stored.messages[1].content, streamed.answer());
    assert_eq!(Some(stored.messages[1].id), meta.answer_id);
    assert_eq!(meta.sources[0].id, "deploy-cloudflare");
}

async fn stream_offers_a_person_when_no_article_fits(server: &Server) {
    let streamed = server.stream(&demo_request(&new_session_id(), "Quantum chromodynamics lattice gauge simulations?")).await;
    let meta = streamed.done();
    assert!(meta.sources.is_empty(), "{:?}", meta.sources);
    assert!(meta.handoff_offered);
    assert!(streamed.answer().contains("connect you with a person"), "{}", streamed.answer());
}

async fn stream_with_a_repeated_message_id_stores_once_and_replays(server: &Server) {
    let session = new_session_id();
    let request = demo_request(&session, "Where do I find my site key?");
    let first = server.stream(&request).await;
    let second = server.stream(&request).await;
    let (a, b) = (first.done(), second.done());
    assert!(!a.replayed);
    assert!(b.replayed, "the second send is a replay");
    assert_eq!((a.message_id, a.answer_id), (b.message_id, b.answer_id));
    assert_eq!(first.answer(), second.answer(), "the stored answer is replayed");
    assert_eq!(a.sources, b.sources);
    let stored = history(server, &session).await;
    assert_eq!(stored.messages.len(), 2, "one visitor message and one answer: {:?}", stored.messages);
}

async fn stream_refuses_invalid_input_and_stores_nothing(server: &Server) {
    let session = new_session_id();
    let cases = [
        (json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": ""}), "message"),
        (json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": "  \n\t "}), "message"),
        (json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": "a".repeat(10_001)}), "too long"),
        (json!({"site_key": DEMO_SITE_KEY, "session_id": "short", "message": "hi"}), "session_id"),
        (json!({"site_key": DEMO_SITE_KEY, "session_id": "sess_0123456789abcdef<script>", "message": "hi"}), "session_id"),
        (json!({"site_key": DEMO_SITE_KEY, "message": "hi"}), "session_id"),
        (json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": "hi", "lang": "en_US!"}), "lang"),
        (json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": "hi", "message_id": "bad id"}), "message_id"),
        (json!({"session_id": session, "message": "hi"}), "site_key"),
    ];
    for (body, mentions) in cases {
        let (status, error) = error_of(server.post_stream_raw(body.to_string()).await).await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "{body}");
        assert!(error.message.contains(mentions), "{:?} should mention {mentions}", error.message);
    }
    let exactly_max = json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": "é".repeat(10_000)});
    assert_eq!(server.post_stream_raw(exactly_max.to_string()).await.status(), 200, "10,000 characters are accepted");
    let stored = history(server, &session).await;
    assert_eq!(stored.messages.iter().filter(|m| m.role == Role::Visitor).count(), 1, "only the valid message was stored");
}

async fn stream_refuses_malformed_json_with_400(server: &Server) {
    for body in ["{not json", "[]", "{\"site_key\": 5}"] {
        let (status, error) = error_of(server.post_stream_raw(body.into()).await).await;
        assert_eq!((status, error.error.as_str()), (400, "bad_request"), "{body}");
    }
}

async fn stream_to_an_unknown_site_key_is_404(server: &Server) {
    let mut request = demo_request(&new_session_id(), "hello");
    request.site_key = "sk_nobody_has_this".into();
    let (status, error) = error_of(server.post_stream_raw(serde_json::to_string(&request).unwrap()).await).await;
    assert_eq!((status, error.error.as_str()), (404, "not_found"));
}

async fn history_returns_messages_in_order(server: &Server) {
    let session = new_session_id();
    for question in ["How much does EdgeChat cost?", "Which browsers are supported?", "Can I talk to a human?"] {
        server.stream(&demo_request(&session, question)).await.done();
    }
    let stored = history(server, &session).await;
    assert!(stored.success);
    let seqs: Vec<i64> = stored.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    let roles: Vec<Role> = stored.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Visitor, Role::Ai, Role::Visitor, Role::Ai, Role::Visitor, Role::Ai]);
    assert_eq!(stored.messages[2].content, "Which browsers are supported?");
    assert!(stored.messages.iter().all(|m| m.created_at.ends_with('Z') && m.id > 0));
    assert!(!stored.has_more, "six messages are one page");
    let older: HistoryResponse =
        server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}&before_seq=3")).await.json().await.unwrap();
    let seqs: Vec<i64> = older.messages.iter().map(|m| m.seq).collect();
    assert_eq!((seqs, older.has_more), (vec![1, 2], false), "before_seq=3 is what precedes seq 3");
}

async fn history_of_a_new_session_is_empty(server: &Server) {
    let stored = history(server, &new_session_id()).await;
    assert!(stored.success);
    assert!(stored.messages.is_empty());
    assert_eq!(stored.conversation_id, None);
}

async fn history_refuses_a_malformed_session_id(server: &Server) {
    let (status, error) = error_of(server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id=x")).await).await;
    assert_eq!((status, error.error.as_str()), (422, "validation_error"));
    let (status, _) = error_of(server.get(&format!("/api/v1/chat/history?site_key=sk_nobody&session_id={}", new_session_id())).await).await;
    assert_eq!(status, 404);
    let session = new_session_id();
    server.stream(&demo_request(&session, "Hello")).await.done();
    for bad in ["0", "-3", "abc", "1.5"] {
        let (status, error) =
            error_of(server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}&before_seq={bad}")).await)
                .await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "before_seq={bad}: {}", error.message);
        assert!(error.message.contains("before_seq"), "{}", error.message);
    }
}

async fn widget_api_answers_cors_preflights(server: &Server) {
    let response = server
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/chat/stream", server.url))
        .header("origin", "https://customer.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert!(response.headers().contains_key("access-control-allow-origin"));
    let methods = response.headers()["access-control-allow-methods"].to_str().unwrap().to_string();
    assert!(methods.contains("POST"), "{methods}");
}

async fn unknown_route_is_404_in_the_error_envelope(server: &Server) {
    let (status, error) = error_of(server.get("/api/v1/chat/nope").await).await;
    assert_eq!((status, error.error.as_str()), (404, "not_found"));
}

/// The demo site's identity-verification secret, as its owner sees it.
async fn demo_identity_secret(server: &Server) -> (String, String) {
    let token = server.demo_token().await;
    let sites: serde_json::Value = server.authed(reqwest::Method::GET, "/v1/sites", &token).send().await.unwrap().json().await.unwrap();
    let site = sites["sites"].as_array().unwrap().iter().find(|s| s["site_key"] == DEMO_SITE_KEY).expect("the demo site").clone();
    (site["identity_secret"].as_str().expect("owners see the secret").to_string(), token)
}

/// `POST /api/v1/chat/stream?user_id=…&user_hash=…&email=…&name=…` as a logged-in visitor.
async fn identified_stream(server: &Server, session: &str, message: &str, identity: &[(&str, &str)]) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/v1/chat/stream", server.url))
        .query(identity)
        .header("cf-connecting-ip", visitor_ip(session))
        .json(&demo_request(session, message))
        .send()
        .await
        .unwrap()
}

async fn identity_with_a_wrong_user_hash_is_401_and_stores_nothing(server: &Server) {
    let (secret, _) = demo_identity_secret(server).await;
    let session = new_session_id();
    let wrong = user_hash(&secret, "someone-else");
    let (status, error) =
        error_of(identified_stream(server, &session, "hello", &[("user_id", "user-7"), ("user_hash", &wrong)]).await).await;
    assert_eq!((status, error.error.as_str()), (401, "unauthorized"));
    let (status, _) = error_of(identified_stream(server, &session, "hello", &[("user_id", "user-7")]).await).await;
    assert_eq!(status, 401, "a user_id without user_hash is refused too");
    assert!(history(server, &session).await.messages.is_empty(), "nothing was stored");
}

async fn verified_visitor_sees_their_conversation_on_another_device(server: &Server) {
    let (secret, token) = demo_identity_secret(server).await;
    let user_id = format!("user-{}", new_message_id());
    let hash = user_hash(&secret, &user_id);
    let identity = [("user_id", user_id.as_str()), ("user_hash", hash.as_str()), ("email", "ada@example.com"), ("name", "Ada")];
    let (laptop, phone) = (new_session_id(), new_session_id());
    let response = identified_stream(server, &laptop, "Where do I find my site key?", &identity).await;
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("\"type\":\"done\""), "{body}");

    // The same user on another device (another session) finds the same conversation.
    let on_phone: HistoryResponse = server
        .http
        .get(format!("{}/api/v1/chat/history", server.url))
        .query(&[("site_key", DEMO_SITE_KEY), ("session_id", phone.as_str())])
        .query(&identity)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on_phone.messages.len(), 2, "{:?}", on_phone.messages);
    assert_eq!(on_phone.messages[0].content, "Where do I find my site key?");
    let response = identified_stream(server, &phone, "And how do I deploy?", &identity).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap();
    let on_phone_after: HistoryResponse = server
        .http
        .get(format!("{}/api/v1/chat/history", server.url))
        .query(&[("site_key", DEMO_SITE_KEY), ("session_id", laptop.as_str())])
        .query(&identity)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(on_phone_after.conversation_id, on_phone.conversation_id, "one conversation across devices");
    assert_eq!(on_phone_after.messages.len(), 4);

    // Without the identity, the phone's session alone has no conversation.
    assert!(history(server, &phone).await.messages.is_empty());

    // Operators see a verified visitor with the details the site gave.
    let id = on_phone.conversation_id.unwrap();
    let summary: serde_json::Value =
        server.authed(reqwest::Method::GET, &format!("/v1/chat/conversations/{id}"), &token).send().await.unwrap().json().await.unwrap();
    assert_eq!(summary["visitor"]["verified"], true);
    assert_eq!(summary["visitor"]["email"], "ada@example.com");
    assert_eq!(summary["visitor"]["name"], "Ada");
}

/// A new account's owner token and its first site (id, key), signed up from `ip`.
async fn own_site(server: &Server, ip: &str) -> (String, i64, String) {
    let email = format!("owner-{}@example.com", new_message_id());
    let signed = signup_from(&server.http, &server.url, ip, &json!({"email": email, "password": "correct horse", "name": "Owner"})).await;
    (signed.tokens.access_token, signed.site.id, signed.site.site_key)
}

async fn pending(server: &Server, site_key: &str, url: &str, seconds: i64, session: Option<&str>) -> serde_json::Value {
    let mut query = vec![("site_key", site_key.to_string()), ("url", url.to_string()), ("seconds_on_page", seconds.to_string())];
    if let Some(session) = session {
        query.push(("session_id", session.to_string()));
    }
    let response = server.http.get(format!("{}/api/v1/chat/pending-proactive", server.url)).query(&query).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn proactive_rules_are_managed_per_site_by_owners(server: &Server) {
    let (token, site, _) = own_site(server, "10.61.0.1").await;
    let path = format!("/v1/sites/{site}/proactive");
    let created = server
        .authed(reqwest::Method::POST, &path, &token)
        .json(&json!({"message": "Need a hand?", "url_match": "/pricing*", "delay_seconds": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let rule: serde_json::Value = created.json().await.unwrap();
    assert_eq!(
        (rule["once_per_visitor"].as_bool(), rule["enabled"].as_bool(), rule["delay_seconds"].as_i64()),
        (Some(true), Some(true), Some(5))
    );
    let id = rule["id"].as_i64().unwrap();
    for bad in [
        json!({}),
        json!({"message": "  "}),
        json!({"message": "x", "delay_seconds": -1}),
        json!({"message": "x", "delay_seconds": 86_401}),
    ] {
        let (status, error) = error_of(server.authed(reqwest::Method::POST, &path, &token).json(&bad).send().await.unwrap()).await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "{bad}");
    }
    let patched: serde_json::Value = server
        .authed(reqwest::Method::PATCH, &format!("{path}/{id}"), &token)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((patched["enabled"].as_bool(), patched["message"].as_str()), (Some(false), Some("Need a hand?")));
    let list: serde_json::Value = server.authed(reqwest::Method::GET, &path, &token).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["rules"].as_array().unwrap().len(), 1);

    // Another account sees none of it; an agent may read but not write.
    let (stranger, _, _) = own_site(server, "10.61.0.2").await;
    let (status, _) = error_of(server.authed(reqwest::Method::GET, &path, &stranger).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let (status, _) = error_of(server.authed(reqwest::Method::DELETE, &format!("{path}/{id}"), &stranger).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let agent_email = format!("agent-{}@example.com", new_message_id());
    let invited = server
        .authed(reqwest::Method::POST, "/v1/users", &token)
        .json(&json!({"email": agent_email, "display_name": "Agent", "role": "agent", "password": "agent password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), 201);
    let agent = server
        .http
        .post(format!("{}/auth/login", server.url))
        .header("cf-connecting-ip", "10.61.0.3")
        .json(&json!({"email": agent_email, "password": "agent password"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.authed(reqwest::Method::GET, &path, &agent).send().await.unwrap().status(), 200);
    let (status, error) =
        error_of(server.authed(reqwest::Method::POST, &path, &agent).json(&json!({"message": "hi"})).send().await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (403, "forbidden"));

    assert_eq!(server.authed(reqwest::Method::DELETE, &format!("{path}/{id}"), &token).send().await.unwrap().status(), 204);
    let list: serde_json::Value = server.authed(reqwest::Method::GET, &path, &token).send().await.unwrap().json().await.unwrap();
    assert!(list["rules"].as_array().unwrap().is_empty());
}

async fn pending_proactive_answers_due_rules_of_the_page_and_when_the_next_is_due(server: &Server) {
    let (token, site, key) = own_site(server, "10.61.0.4").await;
    let path = format!("/v1/sites/{site}/proactive");
    for rule in [
        json!({"message": "Pricing help", "url_match": "/pricing*", "delay_seconds": 5}),
        json!({"message": "Anywhere, later", "delay_seconds": 30}),
        json!({"message": "Switched off", "delay_seconds": 0, "enabled": false}),
    ] {
        assert_eq!(server.authed(reqwest::Method::POST, &path, &token).json(&rule).send().await.unwrap().status(), 201);
    }
    let page = "https://shop.example.com/pricing?plan=pro";
    let early = pending(server, &key, page, 2, None).await;
    assert_eq!(early["messages"], json!([]));
    assert_eq!(early["next_in"], 3, "the pricing nudge comes due 3 s later");
    let due = pending(server, &key, page, 6, None).await;
    let texts: Vec<&str> = due["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Pricing help"]);
    assert_eq!(due["next_in"], 24);
    let elsewhere = pending(server, &key, "https://shop.example.com/checkout", 40, None).await;
    let texts: Vec<&str> = elsewhere["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Anywhere, later"], "the pricing rule is for pricing pages only; disabled rules never show");
    let (status, _) = error_of(server.get("/api/v1/chat/pending-proactive?site_key=sk_nobody_has_this&url=x").await).await;
    assert_eq!(status, 404);
}

async fn a_once_per_visitor_nudge_is_shown_to_a_session_once(server: &Server) {
    let (token, site, key) = own_site(server, "10.61.0.5").await;
    let path = format!("/v1/sites/{site}/proactive");
    server.authed(reqwest::Method::POST, &path, &token).json(&json!({"message": "Once", "delay_seconds": 0})).send().await.unwrap();
    server
        .authed(reqwest::Method::POST, &path, &token)
        .json(&json!({"message": "Always", "once_per_visitor": false}))
        .send()
        .await
        .unwrap();
    let session = new_session_id();
    let texts = |v: serde_json::Value| {
        v["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(texts(pending(server, &key, "https://a.test/", 1, Some(&session)).await), ["Once", "Always"]);
    assert_eq!(texts(pending(server, &key, "https://a.test/", 1, Some(&session)).await), ["Always"], "shown once to this visitor");
    assert_eq!(
        texts(pending(server, &key, "https://a.test/", 1, Some(&new_session_id())).await),
        ["Once", "Always"],
        "another visitor still sees it"
    );
}

/// Every poll loads and matches all of a site's rules: a site has at most
/// 50 (the 51st is 422 and adds nothing), and a poll that shows all 50
/// marks them shown in one write: the same visitor's next poll shows none.
async fn a_site_has_at_most_50_proactive_rules_and_a_poll_marks_all_its_due_ones_at_once(server: &Server) {
    use edgechat_shared::limits::MAX_PROACTIVE_RULES_PER_SITE;
    let (token, site, key) = own_site(server, "10.61.0.6").await;
    let path = format!("/v1/sites/{site}/proactive");
    let create = |n: usize| server.authed(reqwest::Method::POST, &path, &token).json(&json!({"message": format!("Nudge {n}")})).send();
    let mut ids = Vec::new();
    for n in 0..MAX_PROACTIVE_RULES_PER_SITE {
        let created = create(n).await.unwrap();
        assert_eq!(created.status(), 201, "rule {n}");
        ids.push(created.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let (status, error) = error_of(create(50).await.unwrap()).await;
    assert_eq!((status, error.error.as_str()), (422, "validation_error"), "the 51st rule: {}", error.message);
    assert!(error.message.contains("50"), "{}", error.message);
    let list: serde_json::Value = server.authed(reqwest::Method::GET, &path, &token).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["rules"].as_array().unwrap().len(), MAX_PROACTIVE_RULES_PER_SITE, "nothing past the cap");

    let session = new_session_id();
    let first = pending(server, &key, "https://a.test/", 1, Some(&session)).await;
    assert_eq!(first["messages"].as_array().unwrap().len(), MAX_PROACTIVE_RULES_PER_SITE);
    let again = pending(server, &key, "https://a.test/", 1, Some(&session)).await;
    assert_eq!(again["messages"], json!([]), "every once-per-visitor rule was marked shown");

    assert_eq!(server.authed(reqwest::Method::DELETE, &format!("{path}/{}", ids[0]), &token).send().await.unwrap().status(), 204);
    assert_eq!(create(51).await.unwrap().status(), 201, "room for one again");
}

async fn operators_see_the_phone_a_visitor_left(server: &Server) {
    let session = new_session_id();
    let done = server.stream(&demo_request(&session, "Can someone call me?")).await.done().clone();
    let response = server
        .http
        .post(format!("{}/api/v1/chat/contact", server.url))
        .header("cf-connecting-ip", visitor_ip(&session))
        .json(&json!({"site_key": DEMO_SITE_KEY, "session_id": session, "phone": "+14155550123", "name": "Sam"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token = server.demo_token().await;
    let summary: serde_json::Value = server
        .authed(reqwest::Method::GET, &format!("/v1/chat/conversations/{}", done.conversation_id), &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((summary["visitor"]["phone"].as_str(), summary["visitor"]["name"].as_str()), (Some("+14155550123"), Some("Sam")));
}

/// `POST /api/v1/chat/conversations{path}?site_key=` (seed 004) of JSON `body`
/// from the client address of `visitor_token`.
async fn token_post(server: &Server, path: &str, visitor_token: &str, body: &serde_json::Value) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/v1/chat/conversations{path}?site_key={DEMO_SITE_KEY}", server.url))
        .header("cf-connecting-ip", visitor_ip(visitor_token))
        .json(body)
        .send()
        .await
        .expect("the conversation route reaches the server")
}

/// The demo account's conversation of the visitor with `email`, as its operators see it.
async fn demo_conversation_of(server: &Server, email: &str) -> ConversationDetail {
    let token = server.demo_token().await;
    let list = server.authed(reqwest::Method::GET, "/v1/chat/conversations?limit=100", &token).send().await.unwrap();
    let list: ConversationList = json_of(list, 200).await;
    let id = list
        .conversations
        .iter()
        .find(|c| c.visitor.as_ref().expect("a visitor conversation").email.as_deref() == Some(email))
        .expect("the visitor's conversation")
        .id;
    json_of(server.authed(reqwest::Method::GET, &format!("/v1/chat/conversations/{id}"), &token).send().await.unwrap(), 200).await
}

async fn operators_see_the_page_a_token_visitor_wrote_from(server: &Server) {
    let visitor_token = new_session_id();
    let email = format!("{}@example.com", unique("paula"));
    let create = json!({"name": "Paula", "email": email, "message": "Is this in stock?", "visitor_token": visitor_token,
        "page_url": "https://shop.example.com/p/42"});
    assert_eq!(token_post(server, "", &visitor_token, &create).await.status(), 201);
    assert_eq!(demo_conversation_of(server, &email).await.page_url.as_deref(), Some("https://shop.example.com/p/42"));
    let reply = json!({"message": "In blue, please.", "page_url": "https://shop.example.com/p/42?colour=blue"});
    assert_eq!(token_post(server, &format!("/{visitor_token}/messages"), &visitor_token, &reply).await.status(), 201);
    let seen = demo_conversation_of(server, &email).await;
    assert_eq!(seen.page_url.as_deref(), Some("https://shop.example.com/p/42?colour=blue"));
    assert_eq!(seen.rating, None);
}

async fn a_bad_page_url_is_422_and_nothing_is_stored(server: &Server) {
    let session = new_session_id();
    let long = format!("https://shop.example.com/{}", "a".repeat(2048));
    let bad_urls = ["/cart", "shop.example.com/cart", "javascript:alert(1)", "ftp://shop.example.com/", "", long.as_str()];
    for bad in bad_urls {
        let body = json!({"site_key": DEMO_SITE_KEY, "session_id": session, "message": "Where is my parcel?", "page_url": bad});
        let (status, error) = error_of(server.post_stream_raw(body.to_string()).await).await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "{bad}");
        assert!(error.message.contains("page_url"), "{:?} should name page_url", error.message);
    }
    assert!(history(server, &session).await.messages.is_empty(), "no message was stored");

    let visitor_token = new_session_id();
    let email = format!("{}@example.com", unique("quinn"));
    let create = |page_url: &str| json!({"name": "Quinn", "email": email, "message": "Hello?", "visitor_token": visitor_token, "page_url": page_url});
    for bad in bad_urls {
        let (status, error) = error_of(token_post(server, "", &visitor_token, &create(bad)).await).await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "create on {bad}");
    }
    let messages = format!("/api/v1/chat/conversations/{visitor_token}/messages?site_key={DEMO_SITE_KEY}");
    assert_eq!(server.get(&messages).await.status(), 404, "no conversation was created");
    assert_eq!(token_post(server, "", &visitor_token, &create("https://shop.example.com/")).await.status(), 201);
    let stored = json_of::<Vec<serde_json::Value>>(server.get(&messages).await, 200).await.len();
    for bad in bad_urls {
        let reply = json!({"message": "Anyone there?", "page_url": bad});
        let (status, error) = error_of(token_post(server, &format!("/{visitor_token}/messages"), &visitor_token, &reply).await).await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "reply on {bad}");
    }
    assert_eq!(json_of::<Vec<serde_json::Value>>(server.get(&messages).await, 200).await.len(), stored, "no reply was stored");
    assert_eq!(demo_conversation_of(server, &email).await.page_url.as_deref(), Some("https://shop.example.com/"), "the page is unchanged");
}
