//! Seed 000's `/v1/chat/*` routes (issue 13) against the real `wrangler
//! dev`: chat-id forms, history, import with `sent_time`, forward-only
//! status, messages by person, live posts and the message permalink. Each
//! trial signs up its own account from `10.113.x.y`, so trials share nothing.

use edgechat_shared::api::auth::TokenResponse;
use edgechat_shared::api::chat::{ChatHistory, ConversationMessage, SavedMessage, UpdatedMessage, UserMessages};
use edgechat_shared::api::conversations::MessageList;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::messages::SearchResults;
use edgechat_shared::api::{MessageStatus, Role};
use edgechat_tests::visitor_stream::EventStream;
use edgechat_tests::*;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        // chat ids
        a_customer_chat_id_finds_the_verified_visitor_and_never_one_who_typed_the_email,
        a_guest_chat_id_needs_the_session_and_the_email,
        a_staff_dm_chat_id_is_the_pair_of_operators_and_only_they_see_it,
        an_external_chat_id_maps_to_one_conversation_per_account,
        malformed_chat_ids_are_422_and_store_nothing,
        // GET /v1/chat/history/{chat_id}
        history_pages_with_after_seq_and_another_account_sees_404,
        // POST /v1/chat/save/{chat_id}
        an_import_keeps_sent_time_and_order_and_shows_in_every_route,
        a_save_retry_with_the_same_message_id_lands_once_with_one_event,
        bad_saves_are_refused_and_store_nothing,
        // POST /v1/chat/update/{chat_id}
        status_moves_only_forward,
        bad_updates_are_refused,
        // GET /v1/chat/messages/by-user/{email}
        messages_by_user_page_after_created_after,
        messages_by_user_of_an_operator_are_their_dms,
        bad_by_user_queries_are_422,
        // POST /v1/chat/live/{chat_id}/{user_id}
        a_live_post_as_the_operator_reaches_the_visitor_stream_and_the_operator_socket,
        a_live_post_as_the_visitor_is_answered_and_reaches_the_operator_socket,
        a_live_post_as_an_unknown_user_or_another_operator_is_refused,
        // GET /v1/chat/messages/{id}
        a_message_permalink_is_404_for_another_account_and_an_internal_conversation_one_is_not_in,
        // POST /v1/chat/upload/{chat_id}/{user_id}
        the_chats_visitor_uploads_files_and_a_stranger_cannot,
    ]
}

static IPS: IpPool = IpPool::new("10.113");

fn enc(chat_id: &str) -> String {
    // Path segment encoding: `|`, `:`, `@`, spaces and `#` stay inside the segment.
    let mut out = String::new();
    for b in chat_id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn customer_email() -> String {
    format!("{}@example.com", unique("customer"))
}

async fn history(server: &Server, token: &str, chat_id: &str) -> reqwest::Response {
    get(server, &format!("/v1/chat/history/{}", enc(chat_id)), token).await
}

async fn history_ok(server: &Server, token: &str, chat_id: &str) -> ChatHistory {
    json_of(history(server, token, chat_id).await, 200).await
}

async fn save(server: &Server, token: &str, chat_id: &str, body: Value) -> reqwest::Response {
    post(server, &format!("/v1/chat/save/{}", enc(chat_id)), token, body).await
}

async fn save_ok(server: &Server, token: &str, chat_id: &str, body: Value) -> SavedMessage {
    json_of(save(server, token, chat_id, body).await, 201).await
}

async fn update(server: &Server, token: &str, chat_id: &str, body: Value) -> reqwest::Response {
    post(server, &format!("/v1/chat/update/{}", enc(chat_id)), token, body).await
}

async fn live(server: &Server, token: &str, chat_id: &str, user_id: &str, body: Value) -> reqwest::Response {
    post(server, &format!("/v1/chat/live/{}/{}", enc(chat_id), enc(user_id)), token, body).await
}

/// Adds an agent to `tenant`'s account and logs them in; answers their tokens and email.
async fn add_agent(server: &Server, tenant: &Tenant, name: &str) -> (TokenResponse, String) {
    let email = format!("{}@example.com", unique("agent"));
    let body = json!({"email": email, "display_name": name, "role": "agent", "password": PASSWORD});
    let _: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    (json_of(post_public(server, &IPS, "/auth/login", &json!({"email": email, "password": PASSWORD})).await, 200).await, email)
}

/// A widget visitor of `site_key` who says `hello`: their session and conversation id.
async fn visitor_conversation(server: &Server, site_key: &str, hello: &str) -> (String, i64) {
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(site_key, &session, hello)).await;
    assert_eq!(streamed.status, 200, "first message: {:?}", streamed.events);
    (session, streamed.done().conversation_id)
}

/// The widget visitor of `session` gives `email` (`POST /api/v1/chat/email`).
async fn give_email(server: &Server, site_key: &str, session: &str, email: &str) {
    let body = json!({"site_key": site_key, "session_id": session, "email": email});
    let response = post_public(server, &IPS, "/api/v1/chat/email", &body).await;
    assert!(response.status().is_success(), "the visitor gives their email: {}", response.status());
}

/// The sorted DM chat id of two emails (seed 000).
fn dm(a: &str, b: &str) -> String {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    if a < b {
        format!("{a}|{b}")
    } else {
        format!("{b}|{a}")
    }
}

/// The outbox rows of `kind` about message `message_id` (read from the
/// server's D1 file: no route lists the outbox).
fn outbox_rows(server: &Server, kind: &str, message_id: i64) -> usize {
    let dir = server.persist_dir();
    let sql = format!("SELECT COUNT(*) AS n FROM outbox WHERE type = '{kind}' AND message_id = {message_id}");
    let output =
        xtask::wrangler::command(&["d1", "execute", "DB", "--local", "--persist-to", &dir.to_string_lossy(), "--json", "--command", &sql])
            .output()
            .expect("wrangler d1 execute runs");
    assert!(output.status.success(), "wrangler d1 execute: {}", String::from_utf8_lossy(&output.stderr));
    let answer: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    answer[0]["results"][0]["n"].as_u64().expect("a count") as usize
}

async fn a_customer_chat_id_finds_the_verified_visitor_and_never_one_who_typed_the_email(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    // A stranger types the customer's address into the widget.
    let (stranger, stranger_conversation) = visitor_conversation(server, tenant.site_key(), "I am totally them").await;
    give_email(server, tenant.site_key(), &stranger, &email).await;
    assert_error(history(server, tenant.token(), &format!("customer:{email}")).await, 404, "not_found", "typed email only").await;

    // The site's signed-in user with that email as their verified user_id.
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let session = new_session_id();
    let hash = user_hash(&secret, &email);
    let response = server
        .http
        .post(format!("{}/api/v1/chat/stream", server.url))
        .query(&[("user_id", email.as_str()), ("user_hash", hash.as_str())])
        .header("cf-connecting-ip", visitor_ip(&session))
        .json(&visitor_request(tenant.site_key(), &session, "Signed in and asking"))
        .send()
        .await
        .unwrap();
    let streamed = Streamed::read(response, std::time::Instant::now()).await;
    assert_eq!(streamed.status, 200);
    let verified_conversation = streamed.done().conversation_id;

    let found = history_ok(server, tenant.token(), &format!("customer:{}", email.to_uppercase())).await;
    assert_eq!(found.conversation_id, verified_conversation, "case-insensitive, the verified visitor's thread");
    assert_ne!(found.conversation_id, stranger_conversation);
    assert_eq!(found.messages.first().map(|m| m.content.as_str()), Some("Signed in and asking"));

    // A live post to customer:{email} reaches the verified visitor, not the stranger.
    let sent: SavedMessage = json_of(
        live(server, tenant.token(), &format!("customer:{email}"), &tenant.id().to_string(), json!({"content": "Hi from the CRM"})).await,
        201,
    )
    .await;
    assert_eq!(sent.conversation_id, verified_conversation);
}

async fn a_guest_chat_id_needs_the_session_and_the_email(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    let (session, conversation) = visitor_conversation(server, tenant.site_key(), "Guest question").await;
    give_email(server, tenant.site_key(), &session, &email).await;

    let found = history_ok(server, tenant.token(), &format!("customer:{session}:{email}")).await;
    assert_eq!(found.conversation_id, conversation);
    assert_eq!(found.messages[0].content, "Guest question");
    let other_session = new_session_id();
    assert_error(history(server, tenant.token(), &format!("customer:{other_session}:{email}")).await, 404, "not_found", "wrong session")
        .await;
    assert_error(
        history(server, tenant.token(), &format!("customer:{session}:{}", customer_email())).await,
        404,
        "not_found",
        "wrong email",
    )
    .await;
    // A save cannot invent a guest session.
    let body = json!({"content": "hello", "sender_role": "agent"});
    assert_error(
        save(server, tenant.token(), &format!("customer:{other_session}:{email}"), body).await,
        404,
        "not_found",
        "unknown session",
    )
    .await;
}

async fn a_staff_dm_chat_id_is_the_pair_of_operators_and_only_they_see_it(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (agent, agent_email) = add_agent(server, &tenant, "Alex Agent").await;
    let (outsider, outsider_email) = add_agent(server, &tenant, "Olga Outsider").await;
    let chat = dm(tenant.email(), &agent_email);

    assert_error(history(server, tenant.token(), &chat).await, 404, "not_found", "no DM yet").await;
    let saved = save_ok(server, tenant.token(), &chat, json!({"content": "Lunch?", "sender_role": "agent", "from": tenant.email()})).await;
    assert_eq!((saved.message.role, saved.message.author_id), (Role::Operator, Some(tenant.id())), "signed by the operator of `from`");
    let seen_by_agent = history_ok(server, &agent.access_token, &chat).await;
    assert_eq!(seen_by_agent.conversation_id, saved.conversation_id);
    assert_eq!(seen_by_agent.messages.len(), 1);
    // An agent writes in their own name only: signing as the owner needs admin.
    let forged = json!({"content": "Refund approved", "sender_role": "agent", "from": tenant.email()});
    assert_error(save(server, &agent.access_token, &chat, forged).await, 403, "forbidden", "an agent saving as the owner").await;
    let own = save_ok(server, &agent.access_token, &chat, json!({"content": "Sure", "sender_role": "agent", "from": agent_email})).await;
    assert!(own.message.author_id.is_some_and(|id| id != tenant.id()), "signed by the agent");
    assert_eq!(history_ok(server, tenant.token(), &chat).await.messages.len(), 2, "the forged message was not stored");
    assert_error(history(server, &outsider.access_token, &chat).await, 404, "not_found", "not a participant").await;
    // A third operator cannot open the DM of two others.
    let body = json!({"content": "Me too", "sender_role": "agent"});
    assert_error(save(server, &outsider.access_token, &chat, body).await, 404, "not_found", "someone else's DM").await;
    // The other DM of the owner is another conversation.
    let other =
        save_ok(server, tenant.token(), &dm(tenant.email(), &outsider_email), json!({"content": "Hi Olga", "sender_role": "agent"})).await;
    assert_ne!(other.conversation_id, saved.conversation_id);
}

async fn an_external_chat_id_maps_to_one_conversation_per_account(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let email = customer_email();
    let chat = format!("hubspot thread #{}", unique("t"));
    let first =
        save_ok(server, tenant.token(), &chat, json!({"content": "Order question", "sender_role": "customer", "from": email})).await;
    let second = save_ok(server, tenant.token(), &chat, json!({"content": "Answer", "sender_role": "agent", "to": email})).await;
    assert_eq!(first.conversation_id, second.conversation_id, "one conversation per external id");
    assert_eq!((first.message.seq, second.message.seq), (1, 2));
    let conversation: Value =
        json_of(get(server, &format!("/v1/chat/conversations/{}", first.conversation_id), tenant.token()).await, 200).await;
    assert_eq!(conversation["kind"], "visitor", "a customer's external chat is a visitor conversation: {conversation}");
    // The customer's address now names it too.
    assert_eq!(history_ok(server, tenant.token(), &format!("customer:{email}")).await.conversation_id, first.conversation_id);

    // The same id in another account is that account's own conversation.
    assert_error(history(server, other.token(), &chat).await, 404, "not_found", "another account").await;
    let theirs = save_ok(server, other.token(), &chat, json!({"content": "Internal note", "sender_role": "system"})).await;
    assert_ne!(theirs.conversation_id, first.conversation_id);
    assert_eq!(theirs.message.author_name.as_deref(), Some("System"));
    let conversation: Value =
        json_of(get(server, &format!("/v1/chat/conversations/{}", theirs.conversation_id), other.token()).await, 200).await;
    assert_eq!(conversation["kind"], "internal", "no customer named: an internal conversation: {conversation}");
    assert_eq!(history_ok(server, tenant.token(), &chat).await.messages.len(), 2, "untouched");
}

async fn malformed_chat_ids_are_422_and_store_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let body = json!({"content": "hello", "sender_role": "agent"});
    for bad in [
        "customer:".to_string(),
        "customer:not-an-email".to_string(),
        "customer:short:ann@example.com".to_string(),
        "bob@example.com|ann@example.com".to_string(),
        "ann@example.com|ann@example.com".to_string(),
        "x".repeat(201),
        "ticket\u{1}42".to_string(),
    ] {
        let (status, error) = error_of(history(server, tenant.token(), &bad).await).await;
        assert_eq!((status, error.error.as_str()), (422, "validation_error"), "history {bad:?}");
        let (status, _) = error_of(save(server, tenant.token(), &bad, body.clone()).await).await;
        assert_eq!(status, 422, "save {bad:?}");
    }
    let list: Value = json_of(get(server, "/v1/chat/conversations", tenant.token()).await, 200).await;
    assert_eq!(list["conversations"].as_array().map(Vec::len), Some(0), "nothing was started: {list}");
}

async fn history_pages_with_after_seq_and_another_account_sees_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let chat = unique("ext");
    for i in 0..3 {
        save_ok(server, tenant.token(), &chat, json!({"content": format!("m{i}"), "sender_role": "agent"})).await;
    }
    let all = history_ok(server, tenant.token(), &chat).await;
    assert_eq!(all.messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(), ["m0", "m1", "m2"]);
    assert_eq!((all.next_after_seq, all.chat_id.as_str()), (None, chat.as_str()));
    let rest: ChatHistory = json_of(get(server, &format!("/v1/chat/history/{}?after_seq=1", enc(&chat)), tenant.token()).await, 200).await;
    assert_eq!(rest.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [2, 3]);
    assert_error(
        get(server, &format!("/v1/chat/history/{}?after_seq=-1", enc(&chat)), tenant.token()).await,
        422,
        "validation_error",
        "-1",
    )
    .await;
    assert_error(history(server, other.token(), &chat).await, 404, "not_found", "another account's chat").await;
    let (session, _) = visitor_conversation(server, tenant.site_key(), "hello").await;
    let email = customer_email();
    give_email(server, tenant.site_key(), &session, &email).await;
    assert_error(history(server, other.token(), &format!("customer:{session}:{email}")).await, 404, "not_found", "another account's guest")
        .await;
}

async fn an_import_keeps_sent_time_and_order_and_shows_in_every_route(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    let chat = format!("customer:{email}");
    let word = unique("zebracorn").replace('-', "");
    // Five messages of a week ago, a minute apart, customer and agent in turn.
    let start = (now() - 7 * 24 * 3600) * 1000;
    let mut ids = Vec::new();
    for i in 0..5i64 {
        let (role, from, to) =
            if i % 2 == 0 { ("customer", email.as_str(), "support@example.com") } else { ("agent", "Sam", email.as_str()) };
        let content = if i == 2 { format!("About my {word} order") } else { format!("message {i}") };
        let body = json!({"from": from, "to": to, "content": content, "type": "user", "sender_role": role, "sent_time": start + i * 60_000, "message_id": format!("imp-{i}")});
        ids.push(save_ok(server, tenant.token(), &chat, body).await.message.id);
    }
    let history = history_ok(server, tenant.token(), &chat).await;
    let expected_times: Vec<String> = (0..5i64)
        .map(|i| {
            let ms = start + i * 60_000;
            let secs = ms / 1000;
            let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let date = civil(days);
            format!("{date}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms % 1000)
        })
        .collect();
    assert_eq!(history.messages.iter().map(|m| m.id).collect::<Vec<_>>(), ids, "read back in the order imported");
    assert_eq!(history.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert_eq!(history.messages.iter().map(|m| m.created_at.clone()).collect::<Vec<_>>(), expected_times, "sent_time kept");
    assert_eq!(
        history.messages.iter().map(|m| m.role).collect::<Vec<_>>(),
        [Role::Visitor, Role::Operator, Role::Visitor, Role::Operator, Role::Visitor]
    );
    assert_eq!(history.messages[1].author_name.as_deref(), Some("Sam"));

    // The conversation's own routes and search see them.
    let listed: MessageList =
        json_of(get(server, &format!("/v1/chat/conversations/{}/messages", history.conversation_id), tenant.token()).await, 200).await;
    assert_eq!(listed.messages.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    let found: SearchResults = json_of(get(server, &format!("/v1/chat/messages/search?q={word}"), tenant.token()).await, 200).await;
    assert_eq!(found.results.iter().map(|h| h.message.id).collect::<Vec<_>>(), [ids[2]], "search finds the import");
    // Each import wrote its message.created event in the outbox.
    assert_eq!(outbox_rows(server, "message.created", ids[2]), 1, "one message.created row per import");
}

/// `YYYY-MM-DD` of `days` since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

async fn a_save_retry_with_the_same_message_id_lands_once_with_one_event(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let chat = unique("retry");
    let body = json!({"content": "once", "sender_role": "ai", "message_id": "sk-abc"});
    let first = save_ok(server, tenant.token(), &chat, body.clone()).await;
    let again = save_ok(server, tenant.token(), &chat, body).await;
    assert!(!first.duplicate && again.duplicate);
    assert_eq!(again.message.id, first.message.id);
    assert_eq!(history_ok(server, tenant.token(), &chat).await.messages.len(), 1);
    assert_eq!(outbox_rows(server, "message.created", first.message.id), 1, "the retry emitted no second event");
}

async fn bad_saves_are_refused_and_store_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let chat = unique("bad");
    save_ok(server, tenant.token(), &chat, json!({"content": "first", "sender_role": "agent"})).await;
    let too_far = (now() + 3600) * 1000;
    for (body, field) in [
        (json!({"sender_role": "agent"}), "content"),
        (json!({"content": "   ", "sender_role": "agent"}), "content"),
        (json!({"content": "x".repeat(10_001), "sender_role": "agent"}), "content"),
        (json!({"content": "hi"}), "sender_role"),
        (json!({"content": "hi", "sender_role": "bot"}), "sender_role"),
        (json!({"content": "hi", "sender_role": "agent", "sent_time": 12}), "sent_time"),
        (json!({"content": "hi", "sender_role": "agent", "sent_time": too_far}), "sent_time"),
        (json!({"content": "hi", "sender_role": "agent", "from": "x".repeat(255)}), "from"),
        (json!({"content": "hi", "sender_role": "agent", "to": ""}), "to"),
        (json!({"content": "hi", "sender_role": "agent", "type": "not a type"}), "type"),
        (json!({"content": "hi", "sender_role": "agent", "message_id": "has space"}), "message_id"),
    ] {
        let error = assert_error(save(server, tenant.token(), &chat, body.clone()).await, 422, "validation_error", field).await;
        assert!(error.message.contains(field), "{field}: {}", error.message);
    }
    assert_error(save(server, tenant.token(), &chat, json!(["content"])).await, 400, "bad_request", "not an object").await;
    assert_error(
        save(server, tenant.token(), &chat, json!({"content": 5, "sender_role": "agent"})).await,
        400,
        "bad_request",
        "wrong type",
    )
    .await;
    assert_eq!(history_ok(server, tenant.token(), &chat).await.messages.len(), 1, "nothing more stored");
}

async fn status_moves_only_forward(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let chat = unique("status");
    let saved = save_ok(server, tenant.token(), &chat, json!({"content": "track me", "sender_role": "agent", "message_id": "trk-1"})).await;
    assert_eq!(saved.message.status, Some(MessageStatus::Sent));
    let id = saved.message.id;

    let delivered: UpdatedMessage =
        json_of(update(server, tenant.token(), &chat, json!({"message_id": id, "status": "delivered"})).await, 200).await;
    assert_eq!((delivered.message.status, delivered.changed, delivered.read_at.clone()), (Some(MessageStatus::Delivered), true, None));
    let read: UpdatedMessage = json_of(
        update(server, tenant.token(), &chat, json!({"message_id": "trk-1", "status": "read", "read_at": "2026-04-25T12:34:56Z"})).await,
        200,
    )
    .await;
    assert_eq!((read.message.id, read.message.status, read.changed), (id, Some(MessageStatus::Read), true), "by client id");
    assert_eq!(read.read_at.as_deref(), Some("2026-04-25T12:34:56.000Z"));
    let again: UpdatedMessage =
        json_of(update(server, tenant.token(), &chat, json!({"message_id": id, "status": "read"})).await, 200).await;
    assert_eq!((again.changed, again.read_at.as_deref()), (false, Some("2026-04-25T12:34:56.000Z")), "the same status: a no-op");
    for back in ["delivered", "sent"] {
        assert_error(update(server, tenant.token(), &chat, json!({"message_id": id, "status": back})).await, 409, "conflict", back).await;
    }
    let stored = history_ok(server, tenant.token(), &chat).await;
    assert_eq!(stored.messages[0].status, Some(MessageStatus::Read), "still read");
    assert_eq!(outbox_rows(server, "message.updated", id), 2, "one event per real change: delivered, read");

    // Another account's chat or message: 404, nothing changed.
    assert_error(update(server, other.token(), &chat, json!({"message_id": id, "status": "read"})).await, 404, "not_found", "foreign chat")
        .await;
    let theirs = unique("theirs");
    save_ok(server, other.token(), &theirs, json!({"content": "x", "sender_role": "agent"})).await;
    assert_error(
        update(server, other.token(), &theirs, json!({"message_id": id, "status": "read"})).await,
        404,
        "not_found",
        "foreign message",
    )
    .await;
}

async fn bad_updates_are_refused(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let chat = unique("badupd");
    let id = save_ok(server, tenant.token(), &chat, json!({"content": "x", "sender_role": "agent"})).await.message.id;
    for (body, field) in [
        (json!({"status": "read"}), "message_id"),
        (json!({"message_id": id, "status": "seen"}), "status"),
        (json!({"message_id": id}), "status"),
        (json!({"message_id": id, "status": "delivered", "read_at": "2026-04-25T12:34:56Z"}), "read_at"),
        (json!({"message_id": id, "status": "read", "read_at": "yesterday"}), "read_at"),
        (json!({"message_id": "bad id", "status": "read"}), "message_id"),
    ] {
        assert_error(update(server, tenant.token(), &chat, body).await, 422, "validation_error", field).await;
    }
    assert_error(
        update(server, tenant.token(), &chat, json!({"message_id": id + 1000, "status": "read"})).await,
        404,
        "not_found",
        "no such id",
    )
    .await;
    assert_error(update(server, tenant.token(), &chat, json!({"message_id": true, "status": "read"})).await, 400, "bad_request", "a bool")
        .await;
    assert_eq!(history_ok(server, tenant.token(), &chat).await.messages[0].status, Some(MessageStatus::Sent), "unchanged");
}

async fn by_user(server: &Server, token: &str, email: &str, query: &str) -> reqwest::Response {
    get(server, &format!("/v1/chat/messages/by-user/{}?{query}", enc(email)), token).await
}

async fn messages_by_user_page_after_created_after(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let email = customer_email();
    let chat = format!("customer:{email}");
    let start = (now() - 3600) * 1000;
    for i in 0..5i64 {
        let role = if i % 2 == 0 { "customer" } else { "agent" };
        save_ok(server, tenant.token(), &chat, json!({"content": format!("m{i}"), "sender_role": role, "sent_time": start + i * 1000}))
            .await;
    }
    // Someone else's conversation in the same account is not theirs.
    save_ok(server, tenant.token(), &format!("customer:{}", customer_email()), json!({"content": "not theirs", "sender_role": "customer"}))
        .await;

    let all: UserMessages = json_of(by_user(server, tenant.token(), &email, "").await, 200).await;
    assert_eq!(all.messages.iter().map(|m| m.message.content.as_str()).collect::<Vec<_>>(), ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(all.next_cursor, None);

    let after = all.messages[1].message.created_at.clone();
    let mut seen = Vec::new();
    let mut query = format!("created_after={after}&limit=2");
    loop {
        let page: UserMessages = json_of(by_user(server, tenant.token(), &email.to_uppercase(), &query).await, 200).await;
        assert!(page.messages.len() <= 2);
        seen.extend(page.messages.iter().map(|m| m.message.content.clone()));
        match page.next_cursor {
            Some(cursor) => query = format!("created_after={after}&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["m2", "m3", "m4"], "after created_after, paged by the cursor, each once");
    let foreign: UserMessages = json_of(by_user(server, other.token(), &email, "").await, 200).await;
    assert!(foreign.messages.is_empty(), "another account sees nothing of them");
}

async fn messages_by_user_of_an_operator_are_their_dms(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (agent, agent_email) = add_agent(server, &tenant, "Alex Agent").await;
    let chat = dm(tenant.email(), &agent_email);
    save_ok(server, tenant.token(), &chat, json!({"content": "ping", "sender_role": "agent", "from": tenant.email()})).await;
    save_ok(server, &agent.access_token, &chat, json!({"content": "pong", "sender_role": "agent", "from": agent_email})).await;
    let theirs: UserMessages = json_of(by_user(server, tenant.token(), &agent_email, "").await, 200).await;
    assert_eq!(theirs.messages.iter().map(|m| m.message.content.as_str()).collect::<Vec<_>>(), ["ping", "pong"], "sent and received");
}

async fn bad_by_user_queries_are_422(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    for (email, query, what) in [
        ("not-an-email", "", "email"),
        (email.as_str(), "created_after=yesterday", "created_after"),
        (email.as_str(), "cursor=nonsense", "cursor"),
        (email.as_str(), "limit=0", "limit"),
        (email.as_str(), "limit=201", "limit"),
    ] {
        assert_error(by_user(server, tenant.token(), email, query).await, 422, "validation_error", what).await;
    }
}

async fn a_live_post_as_the_operator_reaches_the_visitor_stream_and_the_operator_socket(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    let (session, conversation) = visitor_conversation(server, tenant.site_key(), "Anyone?").await;
    give_email(server, tenant.site_key(), &session, &email).await;
    let chat = format!("customer:{session}:{email}");
    let last_seq = history_ok(server, tenant.token(), &chat).await.messages.last().map_or(0, |m| m.seq);
    let mut stream = EventStream::open(server, tenant.site_key(), &session, last_seq).await;
    let mut socket = Socket::open(server, tenant.token()).await;

    let sent: SavedMessage =
        json_of(live(server, tenant.token(), &chat, tenant.email(), json!({"content": "Here to help", "message_id": "live-1"})).await, 201)
            .await;
    assert_eq!((sent.conversation_id, sent.message.role, sent.duplicate), (conversation, Role::Operator, false));
    assert_eq!(sent.message.author_name.as_deref(), Some(tenant.name()));
    match stream.event().await {
        LiveEvent::Message { message, .. } => assert_eq!(message.id, sent.message.id, "the visitor stream gets it live"),
        other => panic!("visitor stream: {other:?}"),
    }
    let on_socket = socket.message_of(conversation).await;
    assert_eq!(on_socket.id, sent.message.id, "the operator socket gets it live");
    let again: SavedMessage = json_of(
        live(server, tenant.token(), &chat, &tenant.id().to_string(), json!({"content": "Here to help", "message_id": "live-1"})).await,
        201,
    )
    .await;
    assert!(again.duplicate && again.message.id == sent.message.id, "a retry lands once");
}

async fn a_live_post_as_the_visitor_is_answered_and_reaches_the_operator_socket(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    let (session, conversation) = visitor_conversation(server, tenant.site_key(), "Hello").await;
    give_email(server, tenant.site_key(), &session, &email).await;
    let chat = format!("customer:{session}:{email}");
    let mut socket = Socket::open(server, tenant.token()).await;
    let sent: SavedMessage =
        json_of(live(server, tenant.token(), &chat, &email, json!({"content": "How do I reset my password?"})).await, 201).await;
    assert_eq!((sent.conversation_id, sent.message.role), (conversation, Role::Visitor));
    let on_socket = socket.message_of(conversation).await;
    assert_eq!(on_socket.id, sent.message.id, "operators get the visitor's message live");
    let history = history_ok(server, tenant.token(), &chat).await;
    let after: Vec<_> = history.messages.iter().filter(|m| m.seq > sent.message.seq).collect();
    assert_eq!(after.first().map(|m| m.role), Some(Role::Ai), "the site's responder answered it as in the widget: {after:?}");
}

async fn a_live_post_as_an_unknown_user_or_another_operator_is_refused(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let (agent, _) = add_agent(server, &tenant, "Alex Agent").await;
    let chat = unique("live");
    let saved = save_ok(server, tenant.token(), &chat, json!({"content": "start", "sender_role": "agent"})).await;
    let body = json!({"content": "hi"});
    assert_error(live(server, tenant.token(), &chat, "nobody@example.com", body.clone()).await, 404, "not_found", "unknown email").await;
    assert_error(
        live(server, tenant.token(), &chat, &other.id().to_string(), body.clone()).await,
        404,
        "not_found",
        "another account's operator",
    )
    .await;
    assert_error(live(server, tenant.token(), &chat, "visitor", body.clone()).await, 404, "not_found", "no visitor in an internal chat")
        .await;
    assert_error(
        live(server, &agent.access_token, &chat, &tenant.id().to_string(), body.clone()).await,
        404,
        "not_found",
        "agent not in it",
    )
    .await;
    let (session, _) = visitor_conversation(server, tenant.site_key(), "hello").await;
    let email = customer_email();
    give_email(server, tenant.site_key(), &session, &email).await;
    let guest = format!("customer:{session}:{email}");
    assert_error(live(server, &agent.access_token, &guest, &tenant.id().to_string(), body.clone()).await, 403, "forbidden", "as the owner")
        .await;
    assert_error(live(server, tenant.token(), &guest, "hi", json!({"content": ""})).await, 422, "validation_error", "blank").await;
    assert_error(live(server, other.token(), &guest, "visitor", body).await, 404, "not_found", "another account's chat").await;
    assert_eq!(history_ok(server, tenant.token(), &chat).await.messages.iter().map(|m| m.id).collect::<Vec<_>>(), [saved.message.id]);
}

async fn a_message_permalink_is_404_for_another_account_and_an_internal_conversation_one_is_not_in(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let (agent, _) = add_agent(server, &tenant, "Alex Agent").await;
    let (_, conversation) = visitor_conversation(server, tenant.site_key(), "Permalink me").await;
    let listed: MessageList =
        json_of(get(server, &format!("/v1/chat/conversations/{conversation}/messages"), tenant.token()).await, 200).await;
    let first = &listed.messages[0];
    let one: ConversationMessage = json_of(get(server, &format!("/v1/chat/messages/{}", first.id), &agent.access_token).await, 200).await;
    assert_eq!((one.conversation_id, one.message.id, one.message.content.as_str()), (conversation, first.id, "Permalink me"));
    assert_error(get(server, &format!("/v1/chat/messages/{}", first.id), other.token()).await, 404, "not_found", "another account").await;
    let note = save_ok(server, tenant.token(), &unique("note"), json!({"content": "owner only", "sender_role": "agent"})).await;
    let _: ConversationMessage = json_of(get(server, &format!("/v1/chat/messages/{}", note.message.id), tenant.token()).await, 200).await;
    assert_error(
        get(server, &format!("/v1/chat/messages/{}", note.message.id), &agent.access_token).await,
        404,
        "not_found",
        "not a participant",
    )
    .await;
}

/// A `multipart/form-data` body (RFC 7578) of text fields and `files[]`
/// `(name, bytes)`: its `Content-Type` and bytes.
fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("----edgechat-test-{}", &new_session_id()[5..]);
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    for (name, bytes) in files {
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files[]\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        );
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    server: &Server,
    chat_id: &str,
    user_id: &str,
    site_key: &str,
    session: &str,
    files: &[(&str, &[u8])],
) -> reqwest::Response {
    let (content_type, body) = multipart(&[("session_id", session)], files);
    server
        .http
        .post(format!("{}/v1/chat/upload/{}/{}", server.url, enc(chat_id), enc(user_id)))
        .header("content-type", content_type)
        .header("x-site-key", site_key)
        .header("CF-Connecting-IP", IPS.next())
        .body(body)
        .send()
        .await
        .expect("the upload reaches the server")
}

async fn the_chats_visitor_uploads_files_and_a_stranger_cannot(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let email = customer_email();
    let (session, _) = visitor_conversation(server, tenant.site_key(), "Here are my files").await;
    give_email(server, tenant.site_key(), &session, &email).await;
    let chat = format!("customer:{session}:{email}");
    let files: [(&str, &[u8]); 2] = [("notes.txt", b"order 4711, blue"), ("more.txt", b"and a red one")];

    let stored: Vec<Value> = json_of(upload(server, &chat, &email, tenant.site_key(), &session, &files).await, 200).await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored.iter().map(|f| f["name"].as_str().unwrap()).collect::<Vec<_>>(), ["notes.txt", "more.txt"]);
    assert!(stored[0]["content_type"].as_str().is_some_and(|t| t.starts_with("text/plain")), "{}", stored[0]);
    let url = stored[0]["url"].as_str().expect("a signed url");
    let served = server.http.get(format!("{}{url}", server.url)).send().await.unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), b"order 4711, blue", "the stored file serves its bytes");

    // A stranger with a session of their own on the same site, who knows the chat id and the email.
    let (stranger, _) = visitor_conversation(server, tenant.site_key(), "hi").await;
    let evil: [(&str, &[u8]); 1] = [("evil.txt", b"dropped by a stranger")];
    assert_error(upload(server, &chat, &email, tenant.site_key(), &stranger, &evil).await, 404, "not_found", "another session").await;
    give_email(server, tenant.site_key(), &stranger, &email).await;
    assert_error(
        upload(server, &format!("customer:{email}"), &email, tenant.site_key(), &stranger, &evil).await,
        404,
        "not_found",
        "customer form",
    )
    .await;
    let other = signup(server, &IPS).await;
    assert_error(upload(server, &chat, &email, other.site_key(), &session, &evil).await, 404, "not_found", "another site").await;
    assert_eq!(server.r2_blobs_containing(b"dropped by a stranger"), 0, "nothing stored");

    // The upload rules of the widget: a renamed executable, no file, a bad chat id.
    let renamed: [(&str, &[u8]); 1] = [("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00")];
    assert_error(upload(server, &chat, &email, tenant.site_key(), &session, &renamed).await, 415, "unsupported_media_type", "renamed")
        .await;
    assert_error(upload(server, &chat, &email, tenant.site_key(), &session, &[]).await, 422, "validation_error", "no file").await;
    assert_error(upload(server, "customer:", &email, tenant.site_key(), &session, &files).await, 422, "validation_error", "chat id").await;
    assert_error(upload(server, &chat, "someone@example.com", tenant.site_key(), &session, &files).await, 404, "not_found", "user").await;
}
