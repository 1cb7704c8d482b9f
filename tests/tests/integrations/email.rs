//! Transcripts by email and inbound webhooks (issue 13) against the real
//! `wrangler dev`, with the Resend stand-in (`email_standin`) as the email
//! provider. Each trial signs up its own account from `10.133.x.y`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgechat_shared::api::chat::ChatHistory;
use edgechat_shared::api::conversations::{MessageList, SentMessage};
use edgechat_shared::api::inbound::{InboundEndpoint, InboundReceipt};
use edgechat_shared::api::transcripts::QueuedEmail;
use edgechat_shared::api::{ChatMessage, Role};
use edgechat_tests::browser::Browser;
use edgechat_tests::email_standin::{ResendStandIn, API_KEY};
use edgechat_tests::tenant::{signup, Tenant};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};
use standardwebhooks::Webhook;

/// The worker's `EMAIL_FROM`.
pub const FROM: &str = "Acme Support <support@acme.example>";

/// How long a queued email may take to reach the provider (queue batches of
/// 1 s; the failing trial waits for two backoffs of 2 s and 4 s).
const EMAIL_WAIT: Duration = Duration::from_secs(60);

static IPS: IpPool = IpPool::new("10.133");

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        // POST /v1/chat/transcript/send
        a_transcript_reaches_the_provider_with_every_message_escaped_in_html_and_verbatim_in_text,
        a_provider_failing_twice_then_succeeding_sends_one_email_under_one_idempotency_key,
        transcript_requests_with_bad_input_or_another_accounts_chat_are_refused,
        // POST /api/v1/chat/transcript
        the_widget_sends_a_copy_only_to_the_visitors_own_contact_email,
        the_widgets_email_me_a_copy_button_says_sent_and_the_email_arrives,
        // /v1/inbound-webhooks and POST /webhooks/inbound/{id}
        a_signed_inbound_message_lands_in_the_chat_once_even_when_replayed,
        tampered_stale_unsigned_or_foreign_deliveries_are_401_and_store_nothing,
        inbound_endpoints_are_listed_without_secrets_and_a_deleted_one_refuses_deliveries,
        an_endpoint_stops_when_its_creator_is_no_longer_an_admin,
        an_inbound_message_reaches_a_staff_dm_only_as_its_creator_and_member,
    ]
}

/// A visitor of `tenant`'s site who asked a question (answered by the AI)
/// and left the contact email `email`: their session and conversation id.
async fn visitor_with_email(server: &Server, tenant: &Tenant, email: &str) -> (String, i64) {
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(tenant.site_key(), &session, "Where is my order #42?")).await;
    assert_eq!(streamed.status, 200, "{:?}", streamed.events);
    let conversation = streamed.done().conversation_id;
    let body = json!({"site_key": tenant.site_key(), "session_id": session, "email": email});
    let response = post_public(server, &IPS, "/api/v1/chat/email", &body).await;
    assert_eq!(response.status().as_u16(), 200, "{}", response.text().await.unwrap_or_default());
    (session, conversation)
}

/// An operator reply of the tenant's owner.
async fn reply(server: &Server, tenant: &Tenant, conversation_id: i64, content: &str) -> ChatMessage {
    let body = json!({"conversation_id": conversation_id, "content": content});
    let sent: SentMessage = json_of(post(server, "/v1/chat/messages/send", tenant.token(), body).await, 201).await;
    sent.message
}

/// Every message of a conversation (up to 100), in seq order.
async fn messages(server: &Server, tenant: &Tenant, id: i64) -> Vec<ChatMessage> {
    let path = format!("{}?after_seq=0&limit=100", conversation_path(id, "/messages"));
    let list: MessageList = json_of(get(server, &path, tenant.token()).await, 200).await;
    list.messages
}

fn address(tag: &str) -> String {
    format!("{}@example.com", unique(tag))
}

fn transcript_request(session: &str, email: &str, to: &str) -> Value {
    json!({"chat_id": format!("customer:{session}:{email}"), "email": to})
}

async fn a_transcript_reaches_the_provider_with_every_message_escaped_in_html_and_verbatim_in_text(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor_email = address("jane");
    let (session, id) = visitor_with_email(server, &tenant, &visitor_email).await;
    let evil = "<script>alert('x')</script> & <b>bold</b>";
    reply(server, &tenant, id, evil).await;
    let stored = messages(server, &tenant, id).await;
    assert_eq!(stored.len(), 3, "question, AI answer, reply: {stored:?}");

    let to = visitor_email.clone();
    let queued: QueuedEmail =
        json_of(post(server, "/v1/chat/transcript/send", tenant.token(), transcript_request(&session, &visitor_email, &to)).await, 202)
            .await;
    assert!(queued.id.starts_with("eml_"), "{}", queued.id);

    let sent = ResendStandIn::shared().wait_for(&to, 1, EMAIL_WAIT).await;
    let email = &sent[0];
    assert_eq!(email.authorization.as_deref(), Some(format!("Bearer {API_KEY}").as_str()));
    assert_eq!(email.idempotency_key.as_deref(), Some(queued.id.as_str()));
    assert_eq!(email.body["to"], json!([to]));
    assert_eq!(email.field("from"), FROM);
    assert_eq!(email.field("subject"), format!("Your conversation with {}", tenant.site.name));
    let (text, html) = (email.field("text"), email.field("html"));
    for message in &stored {
        assert!(text.contains(&message.content), "text lacks {:?}:\n{text}", message.content);
        if message.role != Role::Operator {
            assert!(
                html.contains(&message.content.replace('&', "&amp;")) || html.contains(&message.content),
                "html lacks {:?}",
                message.content
            );
        }
    }
    assert!(text.contains(tenant.name()), "the operator's name is the author of the reply:\n{text}");
    assert!(!html.contains("<script>") && !html.contains("<b>bold"), "markup is escaped in html:\n{html}");
    assert!(html.contains("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"), "{html}");
    assert_eq!(ResendStandIn::shared().requests_to(&to).len(), 1, "one request for one email");
}

async fn a_provider_failing_twice_then_succeeding_sends_one_email_under_one_idempotency_key(server: &Server) {
    let tenant = signup(server, &IPS).await;
    // The stand-in fails the first two tries to a `fail2-` address.
    let visitor_email = address("fail2-jane");
    let (session, _) = visitor_with_email(server, &tenant, &visitor_email).await;
    let to = visitor_email.clone();
    let queued: QueuedEmail =
        json_of(post(server, "/v1/chat/transcript/send", tenant.token(), transcript_request(&session, &visitor_email, &to)).await, 202)
            .await;

    let sent = ResendStandIn::shared().wait_for(&to, 1, EMAIL_WAIT).await;
    assert_eq!(sent.len(), 1);
    let requests = ResendStandIn::shared().requests_to(&to);
    assert_eq!(requests.iter().map(|r| r.status).collect::<Vec<_>>(), [500, 500, 200], "two failures, then the send");
    assert!(requests.iter().all(|r| r.idempotency_key.as_deref() == Some(queued.id.as_str())), "every try carries the email's id");
    assert!(requests.windows(2).all(|w| w[0].body == w[1].body), "every try sends the same email");
}

async fn transcript_requests_with_bad_input_or_another_accounts_chat_are_refused(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let visitor_email = address("jane");
    let (session, _) = visitor_with_email(server, &tenant, &visitor_email).await;
    let to = address("nobody");
    let send = |token: &str, body: Value| {
        let token = token.to_string();
        async move { post(server, "/v1/chat/transcript/send", &token, body).await }
    };
    assert_error(
        send(tenant.token(), json!({"chat_id": format!("customer:{session}:{visitor_email}"), "email": "not-an-email"})).await,
        422,
        "validation_error",
        "bad email",
    )
    .await;
    assert_error(send(tenant.token(), json!({"chat_id": "customer:", "email": to})).await, 422, "validation_error", "malformed chat id")
        .await;
    assert_error(send(tenant.token(), json!({"email": to})).await, 422, "validation_error", "missing chat id").await;
    assert_error(send(tenant.token(), json!(["chat_id"])).await, 400, "bad_request", "not an object").await;
    // Only the conversation's customer or a member of the team: EdgeChat is no relay to any address.
    assert_error(send(tenant.token(), transcript_request(&session, &visitor_email, &to)).await, 422, "validation_error", "a stranger")
        .await;
    let teammate = tenant.email().to_uppercase();
    let _: QueuedEmail = json_of(send(tenant.token(), transcript_request(&session, &visitor_email, &teammate)).await, 202).await;
    assert_error(send(tenant.token(), transcript_request(&new_session_id(), &visitor_email, &to)).await, 404, "not_found", "unknown chat")
        .await;
    assert_error(send(other.token(), transcript_request(&session, &visitor_email, &to)).await, 404, "not_found", "another account's chat")
        .await;
    let response = server
        .http
        .post(format!("{}/v1/chat/transcript/send", server.url))
        .json(&transcript_request(&session, &visitor_email, &to))
        .send()
        .await
        .unwrap();
    assert_error(response, 401, "unauthorized", "no token").await;
    assert!(ResendStandIn::shared().requests_to(&to).is_empty(), "nothing refused was sent");
}

async fn the_widget_sends_a_copy_only_to_the_visitors_own_contact_email(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor_email = address("jane");
    let (session, _) = visitor_with_email(server, &tenant, &visitor_email).await;
    let ask = |session: String, email: Option<String>, site_key: String| async move {
        let mut body = json!({"site_key": site_key, "session_id": session});
        if let Some(email) = email {
            body["email"] = json!(email);
        }
        post_public(server, &IPS, "/api/v1/chat/transcript", &body).await
    };
    let site_key = tenant.site_key().to_string();

    // Another address than the visitor's own: refused, nothing sent.
    let stranger = address("stranger");
    assert_error(ask(session.clone(), Some(stranger.clone()), site_key.clone()).await, 422, "validation_error", "another address").await;
    // A session without a conversation, or this session on another site: 404.
    assert_error(ask(new_session_id(), None, site_key.clone()).await, 404, "not_found", "no conversation").await;
    let other = signup(server, &IPS).await;
    assert_error(ask(session.clone(), None, other.site_key().to_string()).await, 404, "not_found", "another site").await;
    // A visitor who left no email: 422.
    let silent = new_session_id();
    assert_eq!(server.stream(&visitor_request(tenant.site_key(), &silent, "Hello?")).await.status, 200);
    assert_error(ask(silent, None, site_key.clone()).await, 422, "validation_error", "no contact email").await;

    // Their own address, by default and named: sent.
    let first: QueuedEmail = json_of(ask(session.clone(), None, site_key.clone()).await, 202).await;
    let second: QueuedEmail = json_of(ask(session.clone(), Some(visitor_email.to_uppercase()), site_key.clone()).await, 202).await;
    assert_ne!(first.id, second.id);
    let sent = ResendStandIn::shared().wait_for(&visitor_email, 2, EMAIL_WAIT).await;
    assert!(sent[0].field("text").contains("Where is my order #42?"));
    // At most 3 a day per conversation.
    let _: QueuedEmail = json_of(ask(session.clone(), None, site_key.clone()).await, 202).await;
    assert_error(ask(session, None, site_key.clone()).await, 429, "rate_limited", "a fourth copy in a day").await;
    // At most 5 a day to one address, whatever the session: a new session
    // claiming the same (unverified) email gets two more, then none.
    let (again, _) = visitor_with_email(server, &tenant, &visitor_email).await;
    for _ in 0..2 {
        let _: QueuedEmail = json_of(ask(again.clone(), None, site_key.clone()).await, 202).await;
    }
    assert_error(ask(again, None, site_key.clone()).await, 429, "rate_limited", "a sixth email to one address in a day").await;
    // Nor to another spelling of the same mailbox (a `+tag`, upper case).
    let (tagged_address, domain) = visitor_email.split_once('@').expect("an address");
    let tagged = format!("{}+relay@{}", tagged_address.to_uppercase(), domain);
    let (tagged_session, _) = visitor_with_email(server, &tenant, &tagged).await;
    assert_error(ask(tagged_session, None, site_key).await, 429, "rate_limited", "a +tag spelling of the same mailbox").await;
    assert!(ResendStandIn::shared().requests_to(&tagged).is_empty());
    assert!(ResendStandIn::shared().requests_to(&stranger).is_empty());
}

fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root').shadowRoot; return {expr};")
}

async fn the_widgets_email_me_a_copy_button_says_sent_and_the_email_arrives(server: &Server) {
    let browser = Browser::start(&run_dir("integrations").join("chromium-profile-transcript")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser.widget_element(".ec-input", Duration::from_secs(20)).await.send_keys("How much does EdgeChat cost?").await.unwrap();
    browser.widget_element(".ec-send", Duration::from_secs(5)).await.click().await.unwrap();
    let email = address("widget-copy");
    browser.widget_element(".ec-contact .ec-email", Duration::from_secs(20)).await.send_keys(&email).await.unwrap();
    browser.widget_element(".ec-contact .ec-save", Duration::from_secs(5)).await.click().await.unwrap();
    browser.wait_until(&in_widget("!r.querySelector('.ec-contact')"), Duration::from_secs(10)).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), Duration::from_secs(10)).await;
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let session = session.as_str().expect("a session after the first message").to_string();
    let history: Value =
        server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}")).await.json().await.unwrap();
    let id = history["conversation_id"].as_i64().expect("conversation id");
    let token = server.demo_token().await;
    let closed = server.authed(Method::POST, &conversation_path(id, "/close"), &token).send().await.unwrap();
    assert!(closed.status().is_success());

    browser.widget_element(".ec-transcript", Duration::from_secs(10)).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelector('.ec-transcript-status')?.innerText === 'Sent'"), Duration::from_secs(10)).await;
    let sent = ResendStandIn::shared().wait_for(&email, 1, EMAIL_WAIT).await;
    assert!(sent[0].field("text").contains("How much does EdgeChat cost?"), "{}", sent[0].field("text"));
    browser.close().await;
}

// ---- inbound webhooks ----

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn new_endpoint(server: &Server, tenant: &Tenant) -> InboundEndpoint {
    let endpoint: InboundEndpoint =
        json_of(post(server, "/v1/inbound-webhooks", tenant.token(), json!({"name": "Helpdesk"})).await, 201).await;
    assert!(endpoint.id.starts_with("ibw_"));
    assert!(endpoint.url.ends_with(&format!("/webhooks/inbound/{}", endpoint.id)), "{}", endpoint.url);
    assert!(endpoint.secret.as_deref().is_some_and(|s| s.starts_with("whsec_")), "the secret is shown at creation");
    endpoint
}

/// Delivers `body` to endpoint `id`, signed with `secret` at `timestamp` as `webhook_id`.
async fn deliver(server: &Server, id: &str, secret: &str, webhook_id: &str, timestamp: i64, signed: &str, sent: &str) -> reqwest::Response {
    let signature = Webhook::new(secret).unwrap().sign(webhook_id, timestamp, signed.as_bytes()).unwrap();
    server
        .http
        .post(format!("{}/webhooks/inbound/{id}", server.url))
        .header("content-type", "application/json")
        .header("webhook-id", webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(sent.to_string())
        .send()
        .await
        .expect("the inbound route answers")
}

fn message_event(chat_id: &str, content: &str) -> String {
    json!({"type": "message.created", "data": {"chat_id": chat_id, "content": content, "from": "Helpdesk bot"}}).to_string()
}

async fn a_signed_inbound_message_lands_in_the_chat_once_even_when_replayed(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor_email = address("jane");
    let (session, id) = visitor_with_email(server, &tenant, &visitor_email).await;
    let endpoint = new_endpoint(server, &tenant).await;
    let secret = endpoint.secret.as_deref().unwrap();
    let body = message_event(&format!("customer:{session}:{visitor_email}"), "Ticket #7 is solved <3");

    let first: InboundReceipt = json_of(deliver(server, &endpoint.id, secret, "msg_1", now(), &body, &body).await, 201).await;
    assert!(!first.duplicate);
    let again: InboundReceipt = json_of(deliver(server, &endpoint.id, secret, "msg_1", now(), &body, &body).await, 200).await;
    assert_eq!(again, InboundReceipt { message_id: first.message_id, duplicate: true }, "a replayed webhook-id is stored once");

    let stored = messages(server, &tenant, id).await;
    let posted: Vec<_> = stored.iter().filter(|m| m.content == "Ticket #7 is solved <3").collect();
    assert_eq!(posted.len(), 1, "{stored:?}");
    assert_eq!(posted[0].id, first.message_id);
    assert_eq!(posted[0].role, Role::Operator);
    assert_eq!(posted[0].author_name.as_deref(), Some("Helpdesk bot"));
    assert_eq!(posted[0].author_id, Some(tenant.id()), "written as the endpoint's creator");

    // A new webhook-id with the same content is a new message.
    let other: InboundReceipt = json_of(deliver(server, &endpoint.id, secret, "msg_2", now(), &body, &body).await, 201).await;
    assert_ne!(other.message_id, first.message_id);
    // An event the endpoint does not take, and a chat of nobody: refused after the signature.
    let wrong_type = json!({"type": "conversation.created", "data": {"chat_id": "x", "content": "y"}}).to_string();
    assert_error(deliver(server, &endpoint.id, secret, "msg_3", now(), &wrong_type, &wrong_type).await, 422, "validation_error", "type")
        .await;
    let nowhere = message_event(&format!("customer:{}:{visitor_email}", new_session_id()), "lost");
    assert_error(deliver(server, &endpoint.id, secret, "msg_4", now(), &nowhere, &nowhere).await, 404, "not_found", "unknown chat").await;
}

async fn tampered_stale_unsigned_or_foreign_deliveries_are_401_and_store_nothing(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let visitor_email = address("jane");
    let (session, id) = visitor_with_email(server, &tenant, &visitor_email).await;
    let endpoint = new_endpoint(server, &tenant).await;
    let foreign = new_endpoint(server, &other).await;
    let secret = endpoint.secret.as_deref().unwrap();
    let chat_id = format!("customer:{session}:{visitor_email}");
    let body = message_event(&chat_id, "Refund approved");
    let before = messages(server, &tenant, id).await.len();

    let tampered = message_event(&chat_id, "Refund approved: 1,000,000");
    let refused = [
        ("tampered body", deliver(server, &endpoint.id, secret, "t_1", now(), &body, &tampered).await),
        ("stale timestamp", deliver(server, &endpoint.id, secret, "t_2", now() - 6 * 60, &body, &body).await),
        ("future timestamp", deliver(server, &endpoint.id, secret, "t_3", now() + 6 * 60, &body, &body).await),
        ("another account's secret", deliver(server, &endpoint.id, foreign.secret.as_deref().unwrap(), "t_4", now(), &body, &body).await),
        ("unknown endpoint", deliver(server, "ibw_00000000000000000000000000000000", secret, "t_5", now(), &body, &body).await),
    ];
    let mut messages_seen = Vec::new();
    for (what, response) in refused {
        messages_seen.push(assert_error(response, 401, "unauthorized", what).await.message);
    }
    assert!(messages_seen.windows(2).all(|w| w[0] == w[1]), "one answer for every refusal: {messages_seen:?}");
    let unsigned = server.http.post(format!("{}/webhooks/inbound/{}", server.url, endpoint.id)).body(body.clone()).send().await.unwrap();
    assert_error(unsigned, 401, "unauthorized", "no signature").await;
    // The other account's endpoint, signed by its own secret, cannot reach this account's chat.
    let foreign_secret = foreign.secret.as_deref().unwrap();
    assert_error(
        deliver(server, &foreign.id, foreign_secret, "t_6", now(), &body, &body).await,
        404,
        "not_found",
        "another account's chat",
    )
    .await;
    // A body over 64 KiB.
    let huge = message_event(&chat_id, &"x".repeat(70 * 1024));
    let (status, _) = error_of(deliver(server, &endpoint.id, secret, "t_7", now(), &huge, &huge).await).await;
    assert_eq!(status, 413);

    assert_eq!(messages(server, &tenant, id).await.len(), before, "nothing refused was stored");
    // The same webhook-id, now validly signed, is not taken for a replay of the refused one.
    let _: InboundReceipt = json_of(deliver(server, &endpoint.id, secret, "t_1", now(), &body, &body).await, 201).await;
}

async fn inbound_endpoints_are_listed_without_secrets_and_a_deleted_one_refuses_deliveries(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let endpoint = new_endpoint(server, &tenant).await;
    let listed: Vec<InboundEndpoint> = json_of(get(server, "/v1/inbound-webhooks", tenant.token()).await, 200).await;
    assert_eq!(listed, vec![InboundEndpoint { secret: None, ..endpoint.clone() }]);
    let theirs: Vec<InboundEndpoint> = json_of(get(server, "/v1/inbound-webhooks", other.token()).await, 200).await;
    assert!(theirs.is_empty(), "another account sees none");
    assert_error(post(server, "/v1/inbound-webhooks", tenant.token(), json!({"name": " "})).await, 422, "validation_error", "blank name")
        .await;
    assert_error(
        post(server, "/v1/inbound-webhooks", tenant.token(), json!({"name": "x".repeat(101)})).await,
        422,
        "validation_error",
        "long name",
    )
    .await;

    let path = format!("/v1/inbound-webhooks/{}", endpoint.id);
    assert_error(send(server, Method::DELETE, &path, other.token(), None).await, 404, "not_found", "another account's endpoint").await;
    assert_eq!(send(server, Method::DELETE, &path, tenant.token(), None).await.status().as_u16(), 204);
    assert_error(send(server, Method::DELETE, &path, tenant.token(), None).await, 404, "not_found", "deleted twice").await;
    let body = message_event("customer:jane@example.com", "late");
    let response = deliver(server, &endpoint.id, endpoint.secret.as_deref().unwrap(), "d_1", now(), &body, &body).await;
    assert_error(response, 401, "unauthorized", "a deleted endpoint").await;
}

async fn an_endpoint_stops_when_its_creator_is_no_longer_an_admin(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let email = address("admin");
    let body = json!({"email": email, "display_name": "Ada Admin", "role": "admin", "password": PASSWORD});
    let admin: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    let admin_token = server.login(&email, PASSWORD).await.access_token;
    let endpoint: InboundEndpoint =
        json_of(post(server, "/v1/inbound-webhooks", &admin_token, json!({"name": "Ada's helpdesk"})).await, 201).await;
    let secret = endpoint.secret.as_deref().unwrap();
    let visitor_email = address("jane");
    let (session, id) = visitor_with_email(server, &tenant, &visitor_email).await;
    let event = message_event(&format!("customer:{session}:{visitor_email}"), "Posted while an admin");
    let _: InboundReceipt = json_of(deliver(server, &endpoint.id, secret, "a_1", now(), &event, &event).await, 201).await;
    let before = messages(server, &tenant, id).await.len();

    // Demoted to agent: the endpoint, which may post as any operator, is refused.
    let path = format!("/v1/users/{}", admin["id"]);
    let _: Value = json_of(send(server, Method::PATCH, &path, tenant.token(), Some(json!({"role": "agent"}))).await, 200).await;
    let late = message_event(&format!("customer:{session}:{visitor_email}"), "Posted after the demotion");
    assert_error(deliver(server, &endpoint.id, secret, "a_2", now(), &late, &late).await, 401, "unauthorized", "a demoted creator").await;
    assert_eq!(messages(server, &tenant, id).await.len(), before, "nothing stored");
}

/// An endpoint may sign as any operator in customers' conversations, but a
/// staff DM is its two members' alone: signed as one of two agents, the
/// event is 404 and stores nothing there; its creator writes in their own DM.
async fn an_inbound_message_reaches_a_staff_dm_only_as_its_creator_and_member(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let mut agents = Vec::new();
    for name in ["Bea", "Cal"] {
        let email = address(name);
        let body = json!({"email": email, "display_name": name, "role": "agent", "password": PASSWORD});
        let agent: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
        agents.push((agent["id"].as_i64().expect("an operator id"), email.clone(), server.login(&email, PASSWORD).await.access_token));
    }
    let [(bea, bea_email, bea_token), (cal, cal_email, _)] = &agents[..] else { unreachable!("two agents") };
    let dm: Value =
        json_of(post(server, "/v1/chat/conversations", bea_token, json!({"kind": "internal", "participant_ids": [cal]})).await, 201).await;
    let sent = json!({"conversation_id": dm["id"], "content": "Between us two"});
    let _: Value = json_of(post(server, "/v1/chat/messages/send", bea_token, sent).await, 201).await;
    let history = |chat: &str| format!("/v1/chat/history/{chat}").replace('@', "%40").replace('|', "%7C");
    let mut pair = [bea_email.to_lowercase(), cal_email.to_lowercase()];
    pair.sort();
    let bea_and_cal = pair.join("|");
    let before: ChatHistory = json_of(get(server, &history(&bea_and_cal), bea_token).await, 200).await;

    let endpoint = new_endpoint(server, &tenant).await;
    let secret = endpoint.secret.as_deref().unwrap();
    let as_bea =
        json!({"type": "message.created", "data": {"chat_id": bea_and_cal, "user_id": bea, "content": "Posted by the owner's hook"}})
            .to_string();
    assert_error(
        deliver(server, &endpoint.id, secret, "dm_1", now(), &as_bea, &as_bea).await,
        404,
        "not_found",
        "the agents' DM, signed as Bea",
    )
    .await;
    let unsigned = message_event(&bea_and_cal, "Posted as the creator, who is not in it");
    assert_error(
        deliver(server, &endpoint.id, secret, "dm_2", now(), &unsigned, &unsigned).await,
        404,
        "not_found",
        "the agents' DM, as the creator",
    )
    .await;
    let after: ChatHistory = json_of(get(server, &history(&bea_and_cal), bea_token).await, 200).await;
    assert_eq!(after.messages, before.messages, "nothing was stored in the agents' DM");

    // The creator's own DM with Bea: the endpoint writes there as the creator.
    let mut pair = [tenant.email().to_lowercase(), bea_email.to_lowercase()];
    pair.sort();
    let owner_and_bea = pair.join("|");
    let _: Value =
        json_of(post(server, "/v1/chat/conversations", tenant.token(), json!({"kind": "internal", "participant_ids": [bea]})).await, 201)
            .await;
    let own = message_event(&owner_and_bea, "Build finished");
    let receipt: InboundReceipt = json_of(deliver(server, &endpoint.id, secret, "dm_3", now(), &own, &own).await, 201).await;
    let theirs: ChatHistory = json_of(get(server, &history(&owner_and_bea), bea_token).await, 200).await;
    let posted = theirs.messages.iter().find(|m| m.id == receipt.message_id).expect("the creator's message is in their DM");
    assert_eq!(posted.author_id, Some(tenant.id()));
    assert_ne!(posted.author_name.as_deref(), Some("Helpdesk bot"), "in a staff DM a message shows its operator's own name, not `from`");
}
