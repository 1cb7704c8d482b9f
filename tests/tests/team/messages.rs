//! Message edits, reactions, forwards, full-text search and sync (seed 002,
//! issue 12) against the real `wrangler dev`. Each trial signs up its own
//! account from `10.112.x.y`, so trials share nothing.

use std::collections::BTreeSet;

use edgechat_shared::api::auth::TokenResponse;
use edgechat_shared::api::conversations::{MessageList, SentMessage};
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::messages::{EditList, ForwardedMessages, ReactionState, SearchResults, SyncResponse};
use edgechat_shared::api::sites::Site;
use edgechat_shared::api::{ChatMessage, ForwardedFrom, Reaction, Role};
use edgechat_tests::visitor_stream::EventStream;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        // PATCH /v1/chat/messages/{id}, GET …/edits
        an_edit_replaces_the_text_keeps_the_old_one_in_the_audit_trail_and_search_follows,
        an_unchanged_edit_is_a_no_op,
        only_the_author_may_edit_and_other_accounts_see_404,
        bad_edits_are_refused,
        edits_and_reactions_reach_the_visitor_stream_and_the_operator_socket_in_order_after_the_message,
        // POST /v1/chat/messages/{id}/reactions
        a_reaction_toggles_and_counts_each_operator_once,
        anything_but_one_emoji_is_422,
        every_kind_of_emoji_is_a_reaction,
        the_variants_of_one_emoji_are_one_reaction,
        // POST /v1/chat/messages/forward
        forward_copies_in_order_marked_with_the_origin_and_a_retry_lands_once,
        forward_of_another_accounts_message_is_404_and_copies_nothing,
        forward_lists_are_bounded,
        // GET /v1/chat/messages/search
        a_message_is_found_right_after_it_is_stored_with_a_plain_text_snippet,
        search_pages_with_the_cursor_and_filters_by_conversation,
        search_sees_nothing_of_another_account_nor_of_a_deleted_site,
        fts_syntax_and_bad_queries_are_422_never_500,
        // POST /v1/chat/messages/sync
        sync_after_50_offline_messages_in_3_conversations_returns_exactly_those,
        sync_lists_unknown_and_foreign_ids_as_gone_and_new_conversations_since,
        bad_syncs_are_refused,
    ]
}

static IPS: IpPool = IpPool::new("10.112");

/// Adds an agent to `tenant`'s account and logs them in.
async fn add_agent(server: &Server, tenant: &Tenant) -> TokenResponse {
    let email = format!("{}@example.com", unique("agent"));
    let body = json!({"email": email, "display_name": "Alex Agent", "role": "agent", "password": PASSWORD});
    let _: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    json_of(post_public(server, &IPS, "/auth/login", &json!({"email": email, "password": PASSWORD})).await, 200).await
}

/// A visitor of `site_key` says `hello`: answers their session and conversation id.
async fn visitor_conversation(server: &Server, site_key: &str, hello: &str) -> (String, i64) {
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(site_key, &session, hello)).await;
    assert_eq!(streamed.status, 200, "first message: {:?}", streamed.events);
    (session, streamed.done().conversation_id)
}

async fn send(server: &Server, token: &str, conversation_id: i64, content: &str) -> ChatMessage {
    let body = json!({"conversation_id": conversation_id, "content": content});
    let sent: SentMessage = json_of(post(server, "/v1/chat/messages/send", token, body).await, 201).await;
    sent.message
}

async fn edit(server: &Server, token: &str, id: i64, body: Value) -> reqwest::Response {
    send_json(server, Method::PATCH, &format!("/v1/chat/messages/{id}"), token, body).await
}

async fn send_json(server: &Server, method: Method, path: &str, token: &str, body: Value) -> reqwest::Response {
    edgechat_tests::send(server, method, path, token, Some(body)).await
}

async fn react(server: &Server, token: &str, id: i64, emoji: &str) -> reqwest::Response {
    post(server, &format!("/v1/chat/messages/{id}/reactions"), token, json!({"emoji": emoji})).await
}

async fn messages(server: &Server, token: &str, id: i64) -> Vec<ChatMessage> {
    let list: MessageList =
        json_of(get(server, &format!("/v1/chat/conversations/{id}/messages?after_seq=0&limit=100"), token).await, 200).await;
    list.messages
}

async fn search_raw(server: &Server, token: &str, query: &[(&str, &str)]) -> reqwest::Response {
    server
        .authed(Method::GET, "/v1/chat/messages/search", token)
        .query(query)
        .send()
        .await
        .expect("GET /v1/chat/messages/search reaches the server")
}

async fn search(server: &Server, token: &str, q: &str) -> SearchResults {
    json_of(search_raw(server, token, &[("q", q)]).await, 200).await
}

fn ids(results: &SearchResults) -> Vec<i64> {
    results.results.iter().map(|h| h.message.id).collect()
}

fn reaction(emoji: &str, count: i64, mine: bool) -> Reaction {
    Reaction { emoji: emoji.into(), count, mine }
}

async fn an_edit_replaces_the_text_keeps_the_old_one_in_the_audit_trail_and_search_follows(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hello there").await;
    let sent = send(server, tenant.token(), id, "Our zebracorn refund arrives Monday").await;
    assert_eq!(ids(&search(server, tenant.token(), "zebracorn").await), vec![sent.id]);

    let edited: ChatMessage =
        json_of(edit(server, tenant.token(), sent.id, json!({"content": "Your okapiform refund arrives Tuesday"})).await, 200).await;
    assert_eq!((edited.id, edited.seq, edited.content.as_str()), (sent.id, sent.seq, "Your okapiform refund arrives Tuesday"));
    assert!(edited.edited_at.is_some(), "an edit sets edited_at");
    assert_eq!(sent.edited_at, None);

    let trail: EditList = json_of(get(server, &format!("/v1/chat/messages/{}/edits", sent.id), tenant.token()).await, 200).await;
    assert_eq!(trail.edits.len(), 1);
    assert_eq!((trail.edits[0].content.as_str(), trail.edits[0].edited_by), ("Our zebracorn refund arrives Monday", Some(tenant.id())));

    let _: ChatMessage = json_of(edit(server, tenant.token(), sent.id, json!({"content": "Third okapiform text"})).await, 200).await;
    let trail: EditList = json_of(get(server, &format!("/v1/chat/messages/{}/edits", sent.id), tenant.token()).await, 200).await;
    let texts: Vec<&str> = trail.edits.iter().map(|e| e.content.as_str()).collect();
    assert_eq!(texts, ["Our zebracorn refund arrives Monday", "Your okapiform refund arrives Tuesday"], "oldest first");

    assert!(search(server, tenant.token(), "zebracorn").await.results.is_empty(), "the old text is no longer found");
    assert!(search(server, tenant.token(), "Tuesday").await.results.is_empty(), "nor the intermediate one");
    assert_eq!(ids(&search(server, tenant.token(), "third okapiform").await), vec![sent.id], "the new text is");
    let stored = messages(server, tenant.token(), id).await;
    let stored = stored.iter().find(|m| m.id == sent.id).expect("the message is still listed");
    assert_eq!(stored.content, "Third okapiform text");
    assert!(stored.edited_at.is_some());
}

async fn an_unchanged_edit_is_a_no_op(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hi").await;
    let sent = send(server, tenant.token(), id, "Same words").await;
    let same: ChatMessage = json_of(edit(server, tenant.token(), sent.id, json!({"content": "Same words"})).await, 200).await;
    assert_eq!((same.content.as_str(), same.edited_at.as_deref()), ("Same words", None), "nothing changed");
    let trail: EditList = json_of(get(server, &format!("/v1/chat/messages/{}/edits", sent.id), tenant.token()).await, 200).await;
    assert!(trail.edits.is_empty(), "no version for an unchanged text");
}

async fn only_the_author_may_edit_and_other_accounts_see_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let agent = add_agent(server, &tenant).await;
    let other = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Where is my parcel?").await;
    let sent = send(server, tenant.token(), id, "Checking now").await;
    let all = messages(server, tenant.token(), id).await;
    let visitor = all.iter().find(|m| m.role == Role::Visitor).expect("the visitor's message");
    let body = json!({"content": "tampered"});

    assert_error(edit(server, &agent.access_token, sent.id, body.clone()).await, 403, "forbidden", "another operator's message").await;
    assert_error(edit(server, tenant.token(), visitor.id, body.clone()).await, 403, "forbidden", "a visitor's message").await;
    if let Some(ai) = all.iter().find(|m| m.role == Role::Ai) {
        assert_error(edit(server, tenant.token(), ai.id, body.clone()).await, 403, "forbidden", "an AI message").await;
    }
    assert_error(edit(server, other.token(), sent.id, body.clone()).await, 404, "not_found", "another account's message").await;
    assert_error(edit(server, tenant.token(), 987_654_321, body.clone()).await, 404, "not_found", "an unknown message").await;
    let path = format!("/v1/chat/messages/{}/edits", sent.id);
    assert_error(get(server, &path, other.token()).await, 404, "not_found", "another account's audit trail").await;
    let stored = messages(server, tenant.token(), id).await;
    assert!(stored.iter().all(|m| m.content != "tampered" && m.edited_at.is_none()), "nothing was changed: {stored:?}");
}

async fn bad_edits_are_refused(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hi").await;
    let sent = send(server, tenant.token(), id, "Original").await;
    let long = "x".repeat(edgechat_shared::limits::MAX_MESSAGE_CHARS + 1);
    for (body, what) in [(json!({"content": "   "}), "blank"), (json!({}), "missing"), (json!({"content": long}), "too long")] {
        assert_error(edit(server, tenant.token(), sent.id, body).await, 422, "validation_error", what).await;
    }
    assert_error(edit(server, tenant.token(), sent.id, json!(["content"])).await, 400, "bad_request", "not an object").await;
    assert_error(edit(server, tenant.token(), sent.id, json!({"content": 5})).await, 400, "bad_request", "wrong type").await;
    let stored = messages(server, tenant.token(), id).await;
    assert!(stored.iter().any(|m| m.id == sent.id && m.content == "Original" && m.edited_at.is_none()));
}

/// The next event of conversation `id` on `socket` that is about its messages.
async fn socket_event(socket: &mut Socket, id: i64) -> LiveEvent {
    loop {
        let event = socket.event_of(id).await;
        if matches!(event, LiveEvent::Message { .. } | LiveEvent::MessageUpdated { .. } | LiveEvent::Reaction { .. }) {
            return event;
        }
    }
}

async fn edits_and_reactions_reach_the_visitor_stream_and_the_operator_socket_in_order_after_the_message(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (session, id) = visitor_conversation(server, tenant.site_key(), "Hello, is anyone there?").await;
    let last_seq = messages(server, tenant.token(), id).await.last().map_or(0, |m| m.seq);
    let mut stream = EventStream::open(server, tenant.site_key(), &session, last_seq).await;
    let mut socket = Socket::open(server, tenant.token()).await;

    let sent = send(server, tenant.token(), id, "Yes, I am here").await;
    let _: ChatMessage = json_of(edit(server, tenant.token(), sent.id, json!({"content": "Yes, **Olivia** is here"})).await, 200).await;
    let _: ReactionState = json_of(react(server, tenant.token(), sent.id, "🎉").await, 200).await;

    for (who, events) in [
        ("visitor stream", [stream.event().await, stream.event().await, stream.event().await]),
        (
            "operator socket",
            [socket_event(&mut socket, id).await, socket_event(&mut socket, id).await, socket_event(&mut socket, id).await],
        ),
    ] {
        match &events {
            [LiveEvent::Message { message: first, .. }, LiveEvent::MessageUpdated { conversation_id, message }, LiveEvent::Reaction { message_id, emoji, role, user_id, added, count, .. }] =>
            {
                assert_eq!((first.id, first.content.as_str()), (sent.id, "Yes, I am here"), "{who}: the message first");
                assert_eq!((*conversation_id, message.id, message.seq), (id, sent.id, sent.seq), "{who}");
                assert_eq!(message.content, "Yes, **Olivia** is here", "{who}");
                assert!(message.edited_at.is_some(), "{who}");
                assert_eq!(
                    (*message_id, emoji.as_str(), *role, *user_id, *added, *count),
                    (sent.id, "🎉", Role::Operator, Some(tenant.id()), true, 1),
                    "{who}"
                );
            }
            other => panic!("{who}: expected message, message_updated, reaction; got {other:?}"),
        }
    }
}

async fn a_reaction_toggles_and_counts_each_operator_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let agent = add_agent(server, &tenant).await;
    let (session, id) = visitor_conversation(server, tenant.site_key(), "Thanks!").await;
    let sent = send(server, tenant.token(), id, "You are welcome").await;

    let state: ReactionState = json_of(react(server, tenant.token(), sent.id, "👍").await, 200).await;
    assert_eq!((state.message_id, state.reactions.clone()), (sent.id, vec![reaction("👍", 1, true)]));
    let state: ReactionState = json_of(react(server, &agent.access_token, sent.id, "👍").await, 200).await;
    assert_eq!(state.reactions, vec![reaction("👍", 2, true)], "the agent's own counts once more");
    let state: ReactionState = json_of(react(server, &agent.access_token, sent.id, "❤️").await, 200).await;
    assert_eq!(state.reactions, vec![reaction("👍", 2, true), reaction("❤️", 1, true)], "in the order first given");

    let owner_view = messages(server, tenant.token(), id).await;
    let listed = owner_view.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(listed.reactions, vec![reaction("👍", 2, true), reaction("❤️", 1, false)], "mine is the caller's");

    let state: ReactionState = json_of(react(server, tenant.token(), sent.id, "👍").await, 200).await;
    assert_eq!(state.reactions, vec![reaction("👍", 1, false), reaction("❤️", 1, false)], "toggling again takes it back");
    let state: ReactionState = json_of(react(server, &agent.access_token, sent.id, "❤️").await, 200).await;
    assert_eq!(state.reactions, vec![reaction("👍", 1, true)], "an emoji nobody gives any more is gone");

    let history: HistoryResponse =
        json_of(server.get(&format!("/api/v1/chat/history?site_key={}&session_id={session}", tenant.site_key())).await, 200).await;
    let seen = history.messages.iter().find(|m| m.id == sent.id).unwrap();
    assert_eq!(seen.reactions, vec![reaction("👍", 1, false)], "the widget history carries reactions");

    let other = signup(server, &IPS).await;
    assert_error(react(server, other.token(), sent.id, "👍").await, 404, "not_found", "another account's message").await;
}

async fn anything_but_one_emoji_is_422(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hi").await;
    let sent = send(server, tenant.token(), id, "Hello").await;
    let two = "👨‍👩‍👧‍👦".repeat(2);
    // One grapheme over the 64 bytes: a letter and 40 combining accents.
    let too_long = format!("e{}", "\u{301}".repeat(40));
    // One grapheme that is not an emoji (`中`, `é`, `→`) is refused by the RGI check.
    for bad in ["", "a", "ok", "👍👍", "👍 x", "1", "<b>", "中", "é", "→", "\u{fe0f}", two.as_str(), too_long.as_str()] {
        assert_error(react(server, tenant.token(), sent.id, bad).await, 422, "validation_error", bad).await;
    }
    let path = format!("/v1/chat/messages/{}/reactions", sent.id);
    assert_error(post(server, &path, tenant.token(), json!({})).await, 422, "validation_error", "no emoji").await;
    assert_error(post(server, &path, tenant.token(), json!({"emoji": 1})).await, 400, "bad_request", "a number").await;
    let stored = messages(server, tenant.token(), id).await;
    assert!(stored.iter().all(|m| m.reactions.is_empty()), "nothing was stored");
}

async fn every_kind_of_emoji_is_a_reaction(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hi").await;
    let sent = send(server, tenant.token(), id, "Hello").await;
    // Sent → kept (the RGI form): skin tones, ZWJ families, flags, keycaps,
    // text-default symbols, and the longest RGI emoji (35 bytes).
    let emojis = [
        ("👍", "👍"),
        ("❤", "❤️"),
        ("🎉", "🎉"),
        ("👍🏽", "👍🏽"),
        ("👨‍👩‍👧", "👨‍👩‍👧"),
        ("🇫🇷", "🇫🇷"),
        ("✅", "✅"),
        ("™", "™️"),
        ("1️⃣", "1️⃣"),
        ("👩🏻\u{200d}❤️\u{200d}💋\u{200d}👨🏼", "👩🏻\u{200d}❤️\u{200d}💋\u{200d}👨🏼"),
    ];
    for (sent_as, kept) in emojis {
        let state: ReactionState = json_of(react(server, tenant.token(), sent.id, sent_as).await, 200).await;
        assert!(state.reactions.iter().any(|r| r.emoji == kept && r.mine), "{sent_as:?} is the reaction {kept:?}: {:?}", state.reactions);
    }
    let stored = messages(server, tenant.token(), id).await;
    let reactions = &stored.iter().find(|m| m.id == sent.id).unwrap().reactions;
    let kept: Vec<&str> = reactions.iter().map(|r| r.emoji.as_str()).collect();
    assert_eq!(kept, emojis.map(|(_, kept)| kept), "each one stored once, in its RGI form, in the order given");
}

/// `❤`, `❤️` and `❤️️` (two selectors) are one reaction: each toggles the
/// same one, whichever variant put it there.
async fn the_variants_of_one_emoji_are_one_reaction(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hi").await;
    let sent = send(server, tenant.token(), id, "Hello").await;
    let hearts = |state: &ReactionState| -> Vec<(String, i64, bool)> {
        state.reactions.iter().map(|r| (r.emoji.clone(), r.count, r.mine)).collect()
    };
    let on: ReactionState = json_of(react(server, tenant.token(), sent.id, "❤").await, 200).await;
    assert_eq!(hearts(&on), [("❤️".to_string(), 1, true)]);
    let off: ReactionState = json_of(react(server, tenant.token(), sent.id, "❤\u{fe0f}\u{fe0f}").await, 200).await;
    assert_eq!(hearts(&off), [], "another variant takes the same reaction back");
    let again: ReactionState = json_of(react(server, tenant.token(), sent.id, "❤️").await, 200).await;
    assert_eq!(hearts(&again), [("❤️".to_string(), 1, true)]);
    let agent = add_agent(server, &tenant).await;
    let both: ReactionState = json_of(react(server, &agent.access_token, sent.id, "❤").await, 200).await;
    assert_eq!(hearts(&both), [("❤️".to_string(), 2, true)], "two operators, one heart");
}

async fn forward(server: &Server, token: &str, message_ids: &[i64], conversation_ids: &[i64]) -> reqwest::Response {
    post(server, "/v1/chat/messages/forward", token, json!({"message_ids": message_ids, "conversation_ids": conversation_ids})).await
}

async fn forward_copies_in_order_marked_with_the_origin_and_a_retry_lands_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, from) = visitor_conversation(server, tenant.site_key(), "My order 1234 is broken").await;
    let (_, a) = visitor_conversation(server, tenant.site_key(), "Question A").await;
    let (_, b) = visitor_conversation(server, tenant.site_key(), "Question B").await;
    let first = send(server, tenant.token(), from, "First forwarded line").await;
    let visitor = messages(server, tenant.token(), from).await.into_iter().find(|m| m.role == Role::Visitor).unwrap();
    let before_a = messages(server, tenant.token(), a).await.len();

    let forwarded: ForwardedMessages = json_of(forward(server, tenant.token(), &[first.id, visitor.id], &[a, b]).await, 201).await;
    let got: Vec<(&str, Option<ForwardedFrom>, Role, Option<i64>)> =
        forwarded.messages.iter().map(|m| (m.content.as_str(), m.forwarded_from, m.role, m.author_id)).collect();
    let origin = |m: &ChatMessage| Some(ForwardedFrom { conversation_id: from, message_id: m.id });
    let me = Some(tenant.id());
    assert_eq!(
        got,
        vec![
            ("First forwarded line", origin(&first), Role::Operator, me),
            ("My order 1234 is broken", origin(&visitor), Role::Operator, me),
            ("First forwarded line", origin(&first), Role::Operator, me),
            ("My order 1234 is broken", origin(&visitor), Role::Operator, me),
        ]
    );
    let in_a = messages(server, tenant.token(), a).await;
    assert_eq!(in_a.len(), before_a + 2);
    let tail: Vec<&str> = in_a[before_a..].iter().map(|m| m.content.as_str()).collect();
    assert_eq!(tail, ["First forwarded line", "My order 1234 is broken"], "in the order given");

    let again: ForwardedMessages = json_of(forward(server, tenant.token(), &[first.id, visitor.id], &[a, b]).await, 201).await;
    let same: Vec<i64> = again.messages.iter().map(|m| m.id).collect();
    assert_eq!(same, forwarded.messages.iter().map(|m| m.id).collect::<Vec<_>>(), "a retry answers the same copies");
    assert_eq!(messages(server, tenant.token(), a).await.len(), before_a + 2, "and lands nothing twice");
}

async fn forward_of_another_accounts_message_is_404_and_copies_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let (_, mine) = visitor_conversation(server, tenant.site_key(), "Mine").await;
    let (_, theirs) = visitor_conversation(server, other.site_key(), "Theirs").await;
    let own = send(server, tenant.token(), mine, "own line").await;
    let foreign = send(server, other.token(), theirs, "secret line").await;
    let before = messages(server, tenant.token(), mine).await.len();

    assert_error(forward(server, tenant.token(), &[own.id, foreign.id], &[mine]).await, 404, "not_found", "a foreign message").await;
    assert_error(forward(server, tenant.token(), &[own.id], &[mine, theirs]).await, 404, "not_found", "a foreign target").await;
    assert_error(forward(server, tenant.token(), &[987_654_321], &[mine]).await, 404, "not_found", "an unknown message").await;
    assert_eq!(messages(server, tenant.token(), mine).await.len(), before, "nothing copied here");
    let theirs_now = messages(server, other.token(), theirs).await;
    assert!(theirs_now.iter().all(|m| m.content != "own line"), "nor there");
}

async fn forward_lists_are_bounded(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, id) = visitor_conversation(server, tenant.site_key(), "Hi").await;
    let sent = send(server, tenant.token(), id, "line").await;
    let many: Vec<i64> = (1..=21).collect();
    let targets: Vec<i64> = (1..=11).collect();
    for (messages_, conversations, code, what) in [
        (vec![], vec![id], "validation_error", "no messages"),
        (vec![sent.id], vec![], "validation_error", "no targets"),
        (many, vec![id], "too_many_items", "21 messages"),
        (vec![sent.id], targets, "too_many_items", "11 targets"),
        (vec![sent.id, sent.id], vec![id], "validation_error", "an id twice"),
    ] {
        assert_error(forward(server, tenant.token(), &messages_, &conversations).await, 422, code, what).await;
    }
    assert_error(post(server, "/v1/chat/messages/forward", tenant.token(), json!([1])).await, 400, "bad_request", "not an object").await;
}

async fn a_message_is_found_right_after_it_is_stored_with_a_plain_text_snippet(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (session, id) = visitor_conversation(server, tenant.site_key(), "My <b>quokkaberry</b> order never came").await;
    let results = search(server, tenant.token(), "quokkaberry").await;
    assert_eq!(results.results.len(), 1, "{results:?}");
    let hit = &results.results[0];
    assert_eq!((hit.conversation_id, hit.message.role), (id, Role::Visitor));
    assert!(hit.snippet.contains("<b>"), "the snippet is the text as written, never HTML: {:?}", hit.snippet);
    assert_eq!(hit.highlights.len(), 1, "{hit:?}");
    let [start, end] = hit.highlights[0];
    let highlighted: String = hit.snippet.chars().skip(start).take(end - start).collect();
    assert_eq!(highlighted.to_lowercase(), "quokkaberry");
    assert!(!hit.snippet.contains('\u{2}') && !hit.snippet.contains('\u{3}'), "no markers left");

    server.stream(&visitor_request(tenant.site_key(), &session, "A second wallabyfruit question")).await;
    assert_eq!(search(server, tenant.token(), "WALLABYFRUIT").await.results.len(), 1, "case does not matter; found at once");
    let sent = send(server, tenant.token(), id, "Refunds for the wallabyfruit order").await;
    let both = search(server, tenant.token(), "wallabyfruit").await;
    assert_eq!(both.results.len(), 2);
    assert_eq!(both.results[0].message.id, sent.id, "newest first");
    assert_eq!(ids(&search(server, tenant.token(), "wallabyfruit refunds").await), vec![sent.id], "every word is required");
}

async fn search_pages_with_the_cursor_and_filters_by_conversation(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let (_, a) = visitor_conversation(server, tenant.site_key(), "hello").await;
    let (_, b) = visitor_conversation(server, tenant.site_key(), "hello").await;
    let mut sent = Vec::new();
    for n in 0..5 {
        sent.push(send(server, tenant.token(), a, &format!("numbat report {n}")).await.id);
    }
    let in_b = send(server, tenant.token(), b, "numbat report b").await.id;
    let first: SearchResults = json_of(search_raw(server, tenant.token(), &[("q", "numbat"), ("limit", "4")]).await, 200).await;
    assert_eq!(ids(&first), vec![in_b, sent[4], sent[3], sent[2]]);
    let cursor = first.next_cursor.clone().expect("more follow");
    let second: SearchResults =
        json_of(search_raw(server, tenant.token(), &[("q", "numbat"), ("limit", "4"), ("before", &cursor)]).await, 200).await;
    assert_eq!((ids(&second), second.next_cursor), (vec![sent[1], sent[0]], None));
    let only_b: SearchResults =
        json_of(search_raw(server, tenant.token(), &[("q", "numbat"), ("conversation_id", &b.to_string())]).await, 200).await;
    assert_eq!(ids(&only_b), vec![in_b]);
    let site = tenant.site.id.to_string();
    let by_site: SearchResults = json_of(search_raw(server, tenant.token(), &[("q", "numbat"), ("site_id", &site)]).await, 200).await;
    assert_eq!(by_site.results.len(), 6);
    for (limit, what) in [("0", "limit 0"), ("51", "limit 51"), ("x", "limit x")] {
        let response = search_raw(server, tenant.token(), &[("q", "numbat"), ("limit", limit)]).await;
        assert_error(response, 422, "validation_error", what).await;
    }
    assert_error(search_raw(server, tenant.token(), &[("q", "numbat"), ("before", "abc")]).await, 422, "validation_error", "bad cursor")
        .await;
}

async fn search_sees_nothing_of_another_account_nor_of_a_deleted_site(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    visitor_conversation(server, other.site_key(), "The capybarine secret").await;
    assert!(search(server, tenant.token(), "capybarine").await.results.is_empty(), "another account's message");
    assert_eq!(search(server, other.token(), "capybarine").await.results.len(), 1);
    let (_, id) = visitor_conversation(server, other.site_key(), "ignored").await;
    let foreign: SearchResults =
        json_of(search_raw(server, tenant.token(), &[("q", "capybarine"), ("conversation_id", &id.to_string())]).await, 200).await;
    assert!(foreign.results.is_empty());

    let site: Site = json_of(post(server, "/v1/sites", tenant.token(), json!({"name": "Doomed"})).await, 201).await;
    visitor_conversation(server, &site.site_key, "The axolotlish question").await;
    assert_eq!(search(server, tenant.token(), "axolotlish").await.results.len(), 1);
    let response = edgechat_tests::send(server, Method::DELETE, &format!("/v1/sites/{}", site.id), tenant.token(), None).await;
    assert_eq!(response.status().as_u16(), 204, "{}", response.text().await.unwrap_or_default());
    assert!(search(server, tenant.token(), "axolotlish").await.results.is_empty(), "a deleted conversation's messages are gone");
}

async fn fts_syntax_and_bad_queries_are_422_never_500(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    visitor_conversation(server, tenant.site_key(), "plain words here").await;
    let long = "a".repeat(201);
    for q in [
        "",
        "   ",
        long.as_str(),
        "\"",
        "plain\"",
        "pla*",
        "NEAR(plain words)",
        "plain OR words",
        "plain AND words",
        "NOT plain",
        "(plain",
        "plain)",
        "content:plain",
        "^plain",
        "-plain",
        "+plain",
        "{plain}",
        "...",
        "<script>",
    ] {
        assert_error(search_raw(server, tenant.token(), &[("q", q)]).await, 422, "validation_error", q).await;
    }
    let response = server.authed(Method::GET, "/v1/chat/messages/search", tenant.token()).send().await.unwrap();
    assert_error(response, 422, "validation_error", "no q").await;
    for q in ["plain", "Plain words!", "words, here.", "or", "and not near", "don't", "plain @here #1"] {
        let response = search_raw(server, tenant.token(), &[("q", q)]).await;
        assert_eq!(response.status().as_u16(), 200, "{q}: {}", response.text().await.unwrap_or_default());
    }
}

async fn sync(server: &Server, token: &str, body: Value) -> reqwest::Response {
    post(server, "/v1/chat/messages/sync", token, body).await
}

async fn sync_after_50_offline_messages_in_3_conversations_returns_exactly_those(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let mut conversations = Vec::new();
    for hello in ["one", "two", "three"] {
        let (_, id) = visitor_conversation(server, tenant.site_key(), hello).await;
        let last_seq = messages(server, tenant.token(), id).await.last().map_or(0, |m| m.seq);
        conversations.push((id, last_seq));
    }
    let mut expected = BTreeSet::new();
    for n in 0..50 {
        let (id, _) = conversations[n % 3];
        expected.insert(send(server, tenant.token(), id, &format!("offline {n}")).await.id);
    }
    let body = json!({"conversations": conversations.iter().map(|(id, seq)| json!({"id": id, "last_seq": seq})).collect::<Vec<_>>()});
    let synced: SyncResponse = json_of(sync(server, tenant.token(), body).await, 200).await;
    assert!(synced.gone.is_empty() && synced.new_conversations.is_empty());
    assert_eq!(synced.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), conversations.iter().map(|c| c.0).collect::<Vec<_>>());
    let mut got = Vec::new();
    for (conversation, (id, last_seq)) in synced.conversations.iter().zip(&conversations) {
        assert!(!conversation.has_more);
        let seqs: Vec<i64> = conversation.messages.iter().map(|m| m.seq).collect();
        let want: Vec<i64> = (last_seq + 1..=last_seq + seqs.len() as i64).collect();
        assert_eq!(seqs, want, "conversation {id}: in seq order with no gap");
        got.extend(conversation.messages.iter().map(|m| m.id));
    }
    assert_eq!(got.len(), 50, "none twice");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), expected, "exactly the offline messages");
}

async fn sync_lists_unknown_and_foreign_ids_as_gone_and_new_conversations_since(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let other = signup(server, &IPS).await;
    let (_, known) = visitor_conversation(server, tenant.site_key(), "known").await;
    let (_, foreign) = visitor_conversation(server, other.site_key(), "foreign").await;
    let since = messages(server, tenant.token(), known).await.last().unwrap().created_at.clone();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (_, fresh) = visitor_conversation(server, tenant.site_key(), "fresh").await;
    let body = json!({"conversations": [{"id": known, "last_seq": 0}, {"id": foreign, "last_seq": 0}, {"id": 987_654_321, "last_seq": 0}], "since": since});
    let synced: SyncResponse = json_of(sync(server, tenant.token(), body).await, 200).await;
    assert_eq!(synced.gone, vec![foreign, 987_654_321]);
    assert_eq!(synced.conversations.len(), 1);
    assert!(!synced.conversations[0].messages.is_empty());
    let new: Vec<i64> = synced.new_conversations.iter().map(|c| c.id).collect();
    assert_eq!(new, vec![fresh], "the conversation not named, active since");
}

async fn bad_syncs_are_refused(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let many: Vec<Value> = (1..=101).map(|id| json!({"id": id, "last_seq": 0})).collect();
    let over = assert_error(sync(server, tenant.token(), json!({"conversations": many})).await, 422, "too_many_items", "101").await;
    assert!(over.message.contains("conversations"), "{}", over.message);
    for (body, what) in [
        (json!({"conversations": []}), "empty"),
        (json!({}), "missing"),
        (json!({"conversations": [{"id": 1, "last_seq": -1}]}), "negative seq"),
        (json!({"conversations": [{"id": 1, "last_seq": 0}, {"id": 1, "last_seq": 2}]}), "twice"),
        (json!({"conversations": [{"id": 1, "last_seq": 0}], "since": "yesterday"}), "bad since"),
    ] {
        assert_error(sync(server, tenant.token(), body).await, 422, "validation_error", what).await;
    }
    assert_error(sync(server, tenant.token(), json!({"conversations": "x"})).await, 400, "bad_request", "wrong type").await;
}
