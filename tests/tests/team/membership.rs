//! Conversations operators start and share (seed 002): `POST
//! /v1/chat/conversations` (internal conversations, staff DMs, outbound
//! follow-ups), `PATCH`/`DELETE /v1/chat/conversations/{id}`, participants,
//! mute and archive, `GET /v1/chat/users/search`, and who receives an
//! internal conversation's live events.
//!
//! Each trial signs up its own account (from `10.112.x.y`) with agents of
//! its own. Negative live claims ("a removed participant gets nothing
//! more") are checked by ordering: the next event on the socket after the
//! one that must not come is one that must.

use edgechat_shared::api::auth::TokenResponse;
use edgechat_shared::api::conversations::{ConversationList, ConversationSummary, Kind, MessageList, SentMessage};
use edgechat_shared::api::events::{LiveEvent, UnreadCounts};
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::team::{ParticipantList, UserSearch};
use edgechat_shared::api::{Mode, Role};
use edgechat_tests::socket::Socket;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        an_internal_conversation_is_seen_and_heard_by_its_participants_only,
        starting_a_conversation_refuses_bad_input_and_other_accounts_ids,
        a_staff_dm_is_unique_per_pair_whoever_starts_it_and_however_often,
        a_removed_operators_email_reused_never_opens_their_old_dm,
        an_operator_whose_email_folds_to_anothers_never_opens_their_dm,
        renaming_a_conversation_answers_it_and_tells_participants_live,
        participants_are_listed_added_and_removed_with_live_events_in_order,
        a_removed_participant_gets_no_more_events_and_404_on_the_conversation,
        assignment_and_takeover_make_the_assignee_a_participant,
        mute_and_archive_are_the_callers_own_and_leave_unread_counts,
        an_archived_visitor_conversation_comes_back_on_the_next_visitor_message,
        an_archived_internal_conversation_comes_back_on_another_operators_message_only,
        delete_for_me_hides_the_conversation_until_its_next_message,
        delete_for_everyone_by_an_agent_who_did_not_start_it_is_403_and_deletes_nothing,
        delete_for_everyone_removes_the_conversation_and_its_messages_for_good,
        an_outbound_follow_up_reaches_the_verified_user_it_names_and_never_one_by_email_alone,
        an_outbound_follow_up_to_an_unknown_email_is_claimed_by_no_one,
        user_search_finds_operators_and_visitors_by_name_email_and_phone_prefix,
    ]
}

// ---------------------------------------------------------------- helpers

/// Client addresses of this module's logins and sign-ups (`10.112.x.y`).
static IPS: IpPool = IpPool::new("10.112");

const OWNER: Owner = Owner { tag: "team", name: "Tess Team", account: "Team", site: "Team shop" };

/// An operator added to the account and logged in.
struct Agent {
    id: i64,
    email: String,
    tokens: TokenResponse,
}

impl Agent {
    fn token(&self) -> &str {
        &self.tokens.access_token
    }
}

/// Adds an agent named `name` to `tenant`'s account and logs them in.
async fn add_agent(server: &Server, tenant: &Tenant, name: &str) -> Agent {
    let email = format!("{}@example.com", unique("agent"));
    let body = json!({"email": email, "display_name": name, "role": "agent", "password": PASSWORD});
    let user: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    let tokens: TokenResponse =
        json_of(post_public(server, &IPS, "/auth/login", &json!({"email": email, "password": PASSWORD})).await, 200).await;
    Agent { id: user["id"].as_i64().expect("an operator id"), email, tokens }
}

/// `POST /v1/chat/conversations` of `body`: the status and the answer.
async fn start(server: &Server, token: &str, body: Value) -> (u16, ConversationSummary) {
    let response = post(server, "/v1/chat/conversations", token, body).await;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let summary = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text}: {e}"));
    (status, summary)
}

/// A new internal conversation named `name` between the operator of `token` and `ids`.
async fn internal(server: &Server, token: &str, ids: &[i64], name: &str) -> ConversationSummary {
    let (status, summary) = start(server, token, json!({"kind": "internal", "participant_ids": ids, "name": name})).await;
    assert_eq!(status, 201, "a new internal conversation");
    summary
}

/// `POST /v1/chat/messages/send` answering 201.
async fn say(server: &Server, token: &str, id: i64, content: &str) -> SentMessage {
    json_of(post(server, "/v1/chat/messages/send", token, json!({"conversation_id": id, "content": content})).await, 201).await
}

/// The ids of `GET /v1/chat/conversations{query}`.
async fn listed(server: &Server, token: &str, query: &str) -> Vec<i64> {
    let list: ConversationList = json_of(get(server, &format!("/v1/chat/conversations{query}"), token).await, 200).await;
    list.conversations.iter().map(|c| c.id).collect()
}

/// The conversation ids of `GET /v1/chat/conversations/unread`.
async fn unread(server: &Server, token: &str) -> Vec<i64> {
    let counts: UnreadCounts = json_of(get(server, "/v1/chat/conversations/unread", token).await, 200).await;
    counts.conversations.iter().map(|c| c.conversation_id).collect()
}

async fn participant_ids(server: &Server, token: &str, id: i64) -> Vec<i64> {
    let list: ParticipantList = json_of(get(server, &conversation_path(id, "/participants"), token).await, 200).await;
    list.participants.iter().map(|p| p.user_id).collect()
}

/// `POST /api/v1/chat/stream` as a visitor of `site_key`, with `identity`
/// (`user_id`, `user_hash`, `email`…) in the query; read to its end. Answers the conversation id.
async fn visitor_says(server: &Server, site_key: &str, session: &str, message: &str, identity: &[(&str, &str)]) -> i64 {
    let response = server
        .http
        .post(format!("{}/api/v1/chat/stream", server.url))
        .query(identity)
        .header("cf-connecting-ip", visitor_ip(session))
        .json(&visitor_request(site_key, session, message))
        .send()
        .await
        .expect("POST reaches the server");
    let streamed = Streamed::read(response, std::time::Instant::now()).await;
    assert_eq!(streamed.status, 200, "visitor message: {:?}", streamed.events);
    streamed.done().conversation_id
}

/// `GET /api/v1/chat/history` as the visitor of `session` with `identity`.
async fn history(server: &Server, site_key: &str, session: &str, identity: &[(&str, &str)]) -> HistoryResponse {
    let response = server
        .http
        .get(format!("{}/api/v1/chat/history", server.url))
        .query(&[("site_key", site_key), ("session_id", session)])
        .query(identity)
        .header("cf-connecting-ip", visitor_ip(session))
        .send()
        .await
        .expect("GET reaches the server");
    json_of(response, 200).await
}

async fn delete(server: &Server, token: &str, path: &str) -> reqwest::Response {
    send(server, Method::DELETE, path, token, None).await
}

async fn assert_no_content(response: reqwest::Response, what: &str) {
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(status, 204, "{what}: {body}");
}

/// Every path of conversation `id` an operator may call, each answering 404 to someone who may not see it.
async fn assert_invisible(server: &Server, token: &str, id: i64, what: &str) {
    for (method, path, body) in [
        (Method::GET, conversation_path(id, ""), None),
        (Method::GET, conversation_path(id, "/messages"), None),
        (Method::GET, conversation_path(id, "/participants"), None),
        (Method::PATCH, conversation_path(id, ""), Some(json!({"name": "Mine now"}))),
        (Method::POST, conversation_path(id, "/participants"), Some(json!({"user_ids": [1]}))),
        (Method::POST, conversation_path(id, "/mute"), None),
        (Method::POST, conversation_path(id, "/archive"), None),
        (Method::DELETE, conversation_path(id, ""), None),
        (Method::POST, "/v1/chat/messages/send".to_string(), Some(json!({"conversation_id": id, "content": "hi"}))),
    ] {
        let response = send(server, method.clone(), &path, token, body).await;
        assert_error(response, 404, "not_found", &format!("{what}: {method} {path}")).await;
    }
    assert!(!listed(server, token, "").await.contains(&id), "{what}: listed");
    assert!(!listed(server, token, "?archived=true").await.contains(&id), "{what}: listed as archived");
    assert!(!unread(server, token).await.contains(&id), "{what}: in unread counts");
}

// ---------------------------------------------------------------- internal conversations

async fn an_internal_conversation_is_seen_and_heard_by_its_participants_only(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let cal = add_agent(server, &tenant, "Cal Agent").await;
    let mut bea_socket = Socket::open(server, bea.token()).await;
    let mut cal_socket = Socket::open(server, cal.token()).await;

    let (status, created) = start(
        server,
        tenant.token(),
        json!({"kind": "internal", "participant_ids": [bea.id], "name": " Refund policy ", "description": "Who approves refunds"}),
    )
    .await;
    assert_eq!(status, 201);
    let id = created.id;
    assert_eq!(
        (created.kind, created.name.as_deref(), created.description.as_deref()),
        (Kind::Internal, Some("Refund policy"), Some("Who approves refunds"))
    );
    assert_eq!((created.site_id, created.visitor.is_some(), created.mode), (None, false, Mode::Operator));
    assert_eq!(participant_ids(server, tenant.token(), id).await, [tenant.id(), bea.id]);
    assert_eq!(bea_socket.event().await, LiveEvent::Conversation { conversation_id: id, site_id: None }, "a participant hears of it");

    let sent = say(server, tenant.token(), id, "Refunds over 100 need an admin").await;
    assert_eq!(bea_socket.message_of(id).await.id, sent.message.id, "a participant gets its messages");
    assert_eq!(listed(server, bea.token(), "?participant=me&kind=internal").await, [id]);
    assert_eq!(unread(server, bea.token()).await, [id], "another operator's message is unread for a participant");
    assert!(!unread(server, tenant.token()).await.contains(&id), "nor for its author");

    // Cal, of the same account, takes no part: nothing of it reaches him.
    assert_invisible(server, cal.token(), id, "a non-participant").await;
    let other = internal(server, tenant.token(), &[cal.id], "Rota").await;
    assert_eq!(
        cal_socket.event().await,
        LiveEvent::Conversation { conversation_id: other.id, site_id: None },
        "the next event a non-participant gets is of a conversation he takes part in, not the message before it"
    );
    assert_eq!(listed(server, cal.token(), "?kind=internal").await, [other.id]);
    assert_eq!(summary(server, tenant.token(), id).await.name.as_deref(), Some("Refund policy"), "nothing changed");
}

async fn starting_a_conversation_refuses_bad_input_and_other_accounts_ids(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let stranger = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let too_many: Vec<i64> = (1..=51).collect();
    let long_name = "n".repeat(101);
    let long_description = "d".repeat(1_001);
    for (body, field) in [
        (json!({}), "kind"),
        (json!({"kind": "internal"}), "participant_ids"),
        (json!({"kind": "internal", "participant_ids": []}), "participant_ids"),
        (json!({"kind": "internal", "participant_ids": [tenant.id()]}), "participant_ids"),
        (json!({"kind": "internal", "participant_ids": [bea.id], "name": ""}), "name"),
        (json!({"kind": "internal", "participant_ids": [bea.id], "name": long_name}), "name"),
        (json!({"kind": "internal", "participant_ids": [bea.id], "description": long_description}), "description"),
        (json!({"kind": "internal", "participant_ids": [bea.id], "site_id": tenant.site.id}), "site_id"),
        (json!({"kind": "visitor", "email": "ann@example.com"}), "site_id"),
        (json!({"kind": "visitor", "site_id": tenant.site.id}), "email"),
        (json!({"kind": "visitor", "site_id": tenant.site.id, "email": "not an email"}), "email"),
        (json!({"kind": "visitor", "site_id": tenant.site.id, "email": "ann@example.com", "content": " "}), "content"),
        (json!({"kind": "visitor", "site_id": tenant.site.id, "email": "ann@example.com", "user_id": "u".repeat(129)}), "user_id"),
        (json!({"kind": "visitor", "site_id": tenant.site.id, "email": "ann@example.com", "user_id": " "}), "user_id"),
        (json!({"kind": "internal", "participant_ids": [bea.id], "user_id": "42"}), "user_id"),
    ] {
        let error = assert_error(
            post(server, "/v1/chat/conversations", tenant.token(), body.clone()).await,
            422,
            "validation_error",
            &body.to_string(),
        )
        .await;
        assert!(error.message.contains(field), "{body}: {}", error.message);
    }
    let over = json!({"kind": "internal", "participant_ids": too_many});
    let error = assert_error(post(server, "/v1/chat/conversations", tenant.token(), over).await, 422, "too_many_items", "51 ids").await;
    assert!(error.message.contains("participant_ids"), "{}", error.message);
    for body in [json!([1]), json!({"kind": "internal", "participant_ids": "3"}), json!({"kind": "team", "participant_ids": [3]})] {
        assert_error(post(server, "/v1/chat/conversations", tenant.token(), body.clone()).await, 400, "bad_request", &body.to_string())
            .await;
    }
    let error = assert_error(
        post(server, "/v1/chat/conversations", tenant.token(), json!({"kind": "internal", "participant_ids": [bea.id, stranger.id()]}))
            .await,
        404,
        "not_found",
        "another account's operator",
    )
    .await;
    assert!(error.message.contains(&stranger.id().to_string()), "the 404 names the operator: {}", error.message);
    let unknown = json!({"kind": "internal", "participant_ids": [i64::from(i32::MAX)]});
    assert_error(post(server, "/v1/chat/conversations", tenant.token(), unknown).await, 404, "not_found", "an unknown operator").await;
    let other_site = json!({"kind": "visitor", "site_id": stranger.site.id, "email": "ann@example.com", "content": "Hi"});
    assert_error(post(server, "/v1/chat/conversations", tenant.token(), other_site).await, 404, "not_found", "another account's site")
        .await;
    assert!(listed(server, tenant.token(), "").await.is_empty(), "nothing was created");
    assert!(listed(server, stranger.token(), "").await.is_empty(), "nothing was created in the other account");
}

async fn a_removed_operators_email_reused_never_opens_their_old_dm(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bob = add_agent(server, &tenant, "Bob Agent").await;
    let (status, dm) = start(server, tenant.token(), json!({"kind": "internal", "participant_ids": [bob.id]})).await;
    assert_eq!(status, 201);
    let _: SentMessage = json_of(
        post(server, "/v1/chat/messages/send", tenant.token(), json!({"conversation_id": dm.id, "content": "Private note"})).await,
        201,
    )
    .await;
    assert_no_content(delete(server, tenant.token(), &format!("/v1/users/{}", bob.id)).await, "remove Bob").await;

    // Someone invited with Bob's old address starts a DM with the owner: a new one, not Bob's.
    let body = json!({"email": bob.email, "display_name": "Not Bob", "role": "agent", "password": PASSWORD});
    let user: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    let tokens: TokenResponse =
        json_of(post_public(server, &IPS, "/auth/login", &json!({"email": bob.email, "password": PASSWORD})).await, 200).await;
    let (status, fresh) = start(server, &tokens.access_token, json!({"kind": "internal", "participant_ids": [tenant.id()]})).await;
    assert_eq!(status, 201, "a new DM");
    assert_ne!(fresh.id, dm.id);
    assert!(fresh.last_message.is_none(), "none of the old DM's messages");
    assert_error(get(server, &conversation_path(dm.id, "/messages"), &tokens.access_token).await, 404, "not_found", "Bob's old DM").await;
    assert_eq!(participant_ids(server, tenant.token(), fresh.id).await.len(), 2);
    assert!(user["id"].as_i64() != Some(bob.id), "a new operator id");
}

/// An admin adds an operator whose address Unicode lower-casing folds to
/// another's (the Kelvin sign `\u{212A}` for `k`: SQLite's ASCII NOCASE keeps
/// the two apart, so both may exist): they start their own DM with the
/// owner, never the other's, by id or by seed 000's chat id.
async fn an_operator_whose_email_folds_to_anothers_never_opens_their_dm(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let kim_email = format!("k{}@example.com", unique("im"));
    let body = json!({"email": kim_email, "display_name": "Kim", "role": "agent", "password": PASSWORD});
    let kim: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    let kim_id = kim["id"].as_i64().expect("an operator id");
    let (status, dm) = start(server, tenant.token(), json!({"kind": "internal", "participant_ids": [kim_id]})).await;
    assert_eq!(status, 201);
    let sent = json!({"conversation_id": dm.id, "content": "Private note"});
    let _: SentMessage = json_of(post(server, "/v1/chat/messages/send", tenant.token(), sent).await, 201).await;

    let twin_email = format!("\u{212A}{}", &kim_email[1..]);
    assert_eq!(twin_email.to_lowercase(), kim_email, "the twin folds to Kim's address");
    let body = json!({"email": twin_email, "display_name": "Kim", "role": "agent", "password": PASSWORD});
    let _: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    let twin: TokenResponse =
        json_of(post_public(server, &IPS, "/auth/login", &json!({"email": twin_email, "password": PASSWORD})).await, 200).await;
    assert_ne!(twin.user.id, kim_id);
    let (status, own) = start(server, &twin.access_token, json!({"kind": "internal", "participant_ids": [tenant.id()]})).await;
    assert_eq!(status, 201, "the twin's own DM with the owner, not Kim's");
    assert_ne!(own.id, dm.id);
    assert!(own.last_message.is_none(), "none of Kim's messages");
    assert_error(get(server, &conversation_path(dm.id, "/messages"), &twin.access_token).await, 404, "not_found", "Kim's DM").await;
    assert_eq!(participant_ids(server, tenant.token(), dm.id).await, {
        let mut pair = vec![tenant.id(), kim_id];
        pair.sort_unstable();
        pair
    });

    // Seed 000's chat id of Kim's DM, from the twin: nothing to read or write.
    let path = format!("/v1/chat/history/{kim_email}|{}", tenant.email()).replace('@', "%40").replace('|', "%7C");
    assert_error(get(server, &path, &twin.access_token).await, 404, "not_found", "Kim's DM by its chat id").await;
    let history: Value = json_of(get(server, &path, tenant.token()).await, 200).await;
    assert_eq!(history["conversation_id"].as_i64(), Some(dm.id), "the owner reads Kim's DM by its chat id");
}

async fn a_staff_dm_is_unique_per_pair_whoever_starts_it_and_however_often(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let cal = add_agent(server, &tenant, "Cal Agent").await;
    let dm = json!({"kind": "internal", "participant_ids": [bea.id]});
    let racing = futures::future::join_all((0..4).map(|_| start(server, tenant.token(), dm.clone()))).await;
    let first = racing[0].1.clone();
    let mut statuses: Vec<u16> = racing.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 201], "four concurrent starts: one creates, three find it");
    assert!(racing.iter().all(|(_, s)| s.id == first.id), "one conversation: {racing:?}");
    assert_eq!((first.kind, first.name.as_deref()), (Kind::Internal, None));
    let (status, again) = start(server, tenant.token(), dm.clone()).await;
    assert_eq!((status, again.id), (200, first.id), "a retry answers the same DM with 200");
    let (status, reverse) = start(server, bea.token(), json!({"kind": "internal", "participant_ids": [tenant.id(), bea.id]})).await;
    assert_eq!((status, reverse.id), (200, first.id), "the other of the pair gets the same DM");
    assert_eq!(listed(server, tenant.token(), "?kind=internal").await, [first.id], "one conversation for the pair");
    assert_eq!(participant_ids(server, bea.token(), first.id).await, [tenant.id(), bea.id]);

    // A named conversation of the same two is not their DM; a DM takes no third operator.
    let named = internal(server, tenant.token(), &[bea.id], "Shift swap").await;
    assert_ne!(named.id, first.id);
    let third = post(server, &conversation_path(first.id, "/participants"), tenant.token(), json!({"user_ids": [cal.id]})).await;
    assert_error(third, 409, "conflict", "a third operator in a DM").await;
    // Nor through an assignment, which makes the assignee a participant.
    let assigned = post(server, &conversation_path(first.id, "/assign"), tenant.token(), json!({"assignee_id": cal.id})).await;
    assert_error(assigned, 409, "conflict", "a DM assigned to a third operator").await;
    assert_eq!(participant_ids(server, bea.token(), first.id).await, [tenant.id(), bea.id], "nobody was added");
    assert_error(get(server, &conversation_path(first.id, ""), cal.token()).await, 404, "not_found", "the third operator").await;
    let to_member = post(server, &conversation_path(first.id, "/assign"), tenant.token(), json!({"assignee_id": bea.id})).await;
    assert_eq!(to_member.status().as_u16(), 200, "one of the pair may be assigned");

    // Leaving the DM and starting it again rejoins it.
    assert_no_content(delete(server, bea.token(), &conversation_path(first.id, &format!("/participants/{}", bea.id))).await, "leave").await;
    assert_error(get(server, &conversation_path(first.id, ""), bea.token()).await, 404, "not_found", "after leaving").await;
    let (status, rejoined) = start(server, bea.token(), json!({"kind": "internal", "participant_ids": [tenant.id()]})).await;
    assert_eq!((status, rejoined.id), (200, first.id));
    assert_eq!(participant_ids(server, bea.token(), first.id).await, [tenant.id(), bea.id]);
}

async fn renaming_a_conversation_answers_it_and_tells_participants_live(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let stranger = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let cal = add_agent(server, &tenant, "Cal Agent").await;
    let conversation = internal(server, tenant.token(), &[bea.id], "Refunds").await;
    let id = conversation.id;
    let mut socket = Socket::open(server, bea.token()).await;
    let path = conversation_path(id, "");

    let renamed: ConversationSummary = json_of(
        send(server, Method::PATCH, &path, bea.token(), Some(json!({"name": "Refunds 2026", "description": "Policy v2"}))).await,
        200,
    )
    .await;
    assert_eq!((renamed.name.as_deref(), renamed.description.as_deref()), (Some("Refunds 2026"), Some("Policy v2")));
    let cleared: ConversationSummary =
        json_of(send(server, Method::PATCH, &path, bea.token(), Some(json!({"description": null}))).await, 200).await;
    assert_eq!((cleared.name.as_deref(), cleared.description), (Some("Refunds 2026"), None), "null clears, absent keeps");
    assert_eq!(
        socket.events_of_until(id, |e| matches!(e, LiveEvent::ConversationUpdated { description: None, .. })).await,
        [
            LiveEvent::ConversationUpdated {
                conversation_id: id,
                name: Some("Refunds 2026".into()),
                description: Some("Policy v2".into())
            },
            LiveEvent::ConversationUpdated { conversation_id: id, name: Some("Refunds 2026".into()), description: None },
        ]
    );

    for body in [json!({}), json!({"name": ""}), json!({"name": "n".repeat(101)}), json!({"description": "d".repeat(1_001)})] {
        assert_error(send(server, Method::PATCH, &path, bea.token(), Some(body.clone())).await, 422, "validation_error", &body.to_string())
            .await;
    }
    assert_error(send(server, Method::PATCH, &path, bea.token(), Some(json!({"name": 7}))).await, 400, "bad_request", "a number").await;
    let unknown = conversation_path(i64::from(i32::MAX), "");
    assert_error(send(server, Method::PATCH, &unknown, bea.token(), Some(json!({"name": "x"}))).await, 404, "not_found", "unknown").await;
    assert_error(
        send(server, Method::PATCH, &path, stranger.token(), Some(json!({"name": "x"}))).await,
        404,
        "not_found",
        "another account",
    )
    .await;
    assert_error(send(server, Method::PATCH, &path, cal.token(), Some(json!({"name": "x"}))).await, 404, "not_found", "not a participant")
        .await;
    assert_eq!(summary(server, tenant.token(), id).await.name.as_deref(), Some("Refunds 2026"), "no refused patch changed it");
}

// ---------------------------------------------------------------- participants

async fn participants_are_listed_added_and_removed_with_live_events_in_order(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let stranger = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let cal = add_agent(server, &tenant, "Cal Agent").await;
    let mut socket = Socket::open(server, bea.token()).await;
    let id = internal(server, tenant.token(), &[bea.id], "Launch").await.id;
    let path = conversation_path(id, "/participants");

    let list: ParticipantList = json_of(get(server, &path, bea.token()).await, 200).await;
    let owner = &list.participants[0];
    assert_eq!((owner.user_id, owner.email.as_str(), owner.added_by), (tenant.id(), tenant.email(), Some(tenant.id())));
    assert_eq!((list.participants[1].user_id, list.participants[1].display_name.as_str()), (bea.id, "Bea Agent"));

    let added: ParticipantList = json_of(post(server, &path, bea.token(), json!({"user_ids": [cal.id, cal.id]})).await, 200).await;
    let cal_row = added.participants.iter().find(|p| p.user_id == cal.id).expect("Cal takes part");
    assert_eq!((cal_row.email.as_str(), cal_row.added_by), (cal.email.as_str(), Some(bea.id)));
    let again: ParticipantList = json_of(post(server, &path, bea.token(), json!({"user_ids": [cal.id]})).await, 200).await;
    assert_eq!(again, added, "adding a participant again changes nothing");
    assert_eq!(summary(server, cal.token(), id).await.id, id, "the added operator sees it");

    for body in [json!({}), json!({"user_ids": []})] {
        assert_error(post(server, &path, bea.token(), body.clone()).await, 422, "validation_error", &body.to_string()).await;
    }
    let fifty_one = json!({"user_ids": (1..=51).collect::<Vec<i64>>()});
    assert_error(post(server, &path, bea.token(), fifty_one).await, 422, "too_many_items", "51 user ids").await;
    assert_error(post(server, &path, bea.token(), json!({"user_ids": ["x"]})).await, 400, "bad_request", "a string id").await;
    assert_error(
        post(server, &path, bea.token(), json!({"user_ids": [stranger.id()]})).await,
        404,
        "not_found",
        "another account's operator",
    )
    .await;
    assert_error(
        post(server, &path, stranger.token(), json!({"user_ids": [stranger.id()]})).await,
        404,
        "not_found",
        "another account's caller",
    )
    .await;

    assert_no_content(delete(server, tenant.token(), &format!("{path}/{}", cal.id)).await, "remove Cal").await;
    assert_error(delete(server, tenant.token(), &format!("{path}/{}", cal.id)).await, 404, "not_found", "Cal again").await;
    assert_error(delete(server, tenant.token(), &format!("{path}/{}", stranger.id())).await, 404, "not_found", "never a participant").await;
    assert_eq!(participant_ids(server, bea.token(), id).await, [tenant.id(), bea.id]);
    assert_eq!(
        socket.events_of_until(id, |e| matches!(e, LiveEvent::Participants { removed, .. } if !removed.is_empty())).await,
        [
            LiveEvent::Conversation { conversation_id: id, site_id: None },
            LiveEvent::Participants { conversation_id: id, added: vec![cal.id], removed: vec![] },
            LiveEvent::Participants { conversation_id: id, added: vec![], removed: vec![cal.id] },
        ],
        "created, Cal added (once), Cal removed"
    );
    assert_invisible(server, cal.token(), id, "a removed participant").await;
}

async fn a_removed_participant_gets_no_more_events_and_404_on_the_conversation(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let id = internal(server, tenant.token(), &[bea.id], "Ops").await.id;
    let mut socket = Socket::open(server, bea.token()).await;
    let before = say(server, tenant.token(), id, "Still there?").await;
    assert_eq!(socket.message_of(id).await.id, before.message.id);

    assert_no_content(delete(server, tenant.token(), &conversation_path(id, &format!("/participants/{}", bea.id))).await, "remove Bea")
        .await;
    assert_eq!(
        socket.event().await,
        LiveEvent::Participants { conversation_id: id, added: vec![], removed: vec![bea.id] },
        "told she left"
    );
    say(server, tenant.token(), id, "Secret after Bea left").await;
    let typing = post(server, &conversation_path(id, "/typing"), tenant.token(), json!({"typing": true})).await;
    assert_no_content(typing, "typing").await;
    let rename = send(server, Method::PATCH, &conversation_path(id, ""), tenant.token(), Some(json!({"name": "Ops private"}))).await;
    assert_eq!(rename.status().as_u16(), 200);
    let next = internal(server, tenant.token(), &[bea.id], "Next").await;
    assert_eq!(
        socket.event().await,
        LiveEvent::Conversation { conversation_id: next.id, site_id: None },
        "no message, typing or rename of the conversation she left reached her"
    );
    assert_invisible(server, bea.token(), id, "a removed participant").await;
}

async fn assignment_and_takeover_make_the_assignee_a_participant(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let cal = add_agent(server, &tenant, "Cal Agent").await;
    let first = visitor_says(server, tenant.site_key(), &new_session_id(), "Where is my parcel?", &[]).await;
    let mut socket = Socket::open(server, tenant.token()).await;
    let assigned = act(server, tenant.token(), first, "assign", json!({"assignee_id": bea.id})).await;
    assert_eq!(assigned.assignee_id, Some(bea.id));
    assert_eq!(participant_ids(server, cal.token(), first).await, [bea.id]);
    // The assignment event is the one event of an assignment: it also says who now takes part.
    let events = socket.events_of_until(first, |e| matches!(e, LiveEvent::Assignment { .. })).await;
    assert_eq!(
        events.last(),
        Some(&LiveEvent::Assignment { conversation_id: first, assignee_id: Some(bea.id), author_name: Some(tenant.name().into()) })
    );
    assert_eq!(listed(server, bea.token(), "?participant=me").await, [first]);

    let second = visitor_says(server, tenant.site_key(), &new_session_id(), "And my refund?", &[]).await;
    let taken = act(server, cal.token(), second, "takeover", json!({})).await;
    assert_eq!((taken.assignee_id, taken.mode), (Some(cal.id), Mode::Operator));
    assert_eq!(participant_ids(server, cal.token(), second).await, [cal.id]);
    assert_eq!(listed(server, cal.token(), "?participant=me").await, [second]);
}

// ---------------------------------------------------------------- mute, archive

async fn mute_and_archive_are_the_callers_own_and_leave_unread_counts(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let stranger = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let id = visitor_says(server, tenant.site_key(), &new_session_id(), "Hello?", &[]).await;
    assert_eq!(unread(server, bea.token()).await, [id]);

    let muted = act(server, bea.token(), id, "mute", json!({})).await;
    assert!(muted.muted && !muted.archived);
    assert!(act(server, bea.token(), id, "mute", json!({})).await.muted, "muting twice is fine");
    assert_eq!(listed(server, bea.token(), "").await, [id], "a muted conversation is still listed");
    assert!(unread(server, bea.token()).await.is_empty(), "but left out of the caller's unread counts");
    assert_eq!(unread(server, tenant.token()).await, [id], "muting is the caller's own");
    assert!(!summary(server, tenant.token(), id).await.muted);
    let unmuted: ConversationSummary = json_of(delete(server, bea.token(), &conversation_path(id, "/mute")).await, 200).await;
    assert!(!unmuted.muted);
    assert_eq!(unread(server, bea.token()).await, [id]);

    let archived = act(server, bea.token(), id, "archive", json!({})).await;
    assert!(archived.archived);
    assert!(listed(server, bea.token(), "").await.is_empty(), "archived: out of the default list");
    assert_eq!(listed(server, bea.token(), "?archived=true").await, [id], "archived=true lists it");
    assert!(unread(server, bea.token()).await.is_empty(), "and out of unread counts");
    assert_eq!(listed(server, tenant.token(), "").await, [id], "archiving is the caller's own");
    assert!(listed(server, tenant.token(), "?archived=true").await.is_empty());
    let back: ConversationSummary = json_of(delete(server, bea.token(), &conversation_path(id, "/archive")).await, 200).await;
    assert!(!back.archived);
    assert_eq!(listed(server, bea.token(), "").await, [id]);

    for action in ["/mute", "/archive"] {
        assert_error(post(server, &conversation_path(id, action), stranger.token(), json!({})).await, 404, "not_found", "another account")
            .await;
        let unknown = conversation_path(i64::from(i32::MAX), action);
        assert_error(post(server, &unknown, bea.token(), json!({})).await, 404, "not_found", "unknown").await;
        assert_error(delete(server, stranger.token(), &conversation_path(id, action)).await, 404, "not_found", "another account").await;
    }
    assert_error(get(server, "/v1/chat/conversations?participant=you", bea.token()).await, 422, "validation_error", "participant=you")
        .await;
    assert_error(get(server, "/v1/chat/conversations?archived=maybe", bea.token()).await, 422, "validation_error", "archived=maybe").await;
    assert_error(get(server, "/v1/chat/conversations?kind=team", bea.token()).await, 422, "validation_error", "kind=team").await;
}

async fn an_archived_visitor_conversation_comes_back_on_the_next_visitor_message(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let session = new_session_id();
    let id = visitor_says(server, tenant.site_key(), &session, "Hello?", &[]).await;
    act(server, tenant.token(), id, "archive", json!({})).await;
    act(server, tenant.token(), id, "takeover", json!({})).await;
    say(server, tenant.token(), id, "Looking into it").await;
    assert!(listed(server, tenant.token(), "").await.is_empty(), "the operator's own reply keeps it archived");
    assert_eq!(visitor_says(server, tenant.site_key(), &session, "Any news?", &[]).await, id);
    assert_eq!(listed(server, tenant.token(), "").await, [id], "back in the default list on a visitor message");
    assert!(!summary(server, tenant.token(), id).await.archived);
    assert!(listed(server, tenant.token(), "?archived=true").await.is_empty());
}

async fn an_archived_internal_conversation_comes_back_on_another_operators_message_only(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let id = internal(server, tenant.token(), &[bea.id], "Standup").await.id;
    act(server, bea.token(), id, "archive", json!({})).await;
    say(server, bea.token(), id, "My own note").await;
    assert_eq!(listed(server, bea.token(), "?archived=true").await, [id], "her own message keeps it archived");
    say(server, tenant.token(), id, "Standup in 5").await;
    assert_eq!(listed(server, bea.token(), "?kind=internal").await, [id], "another operator's message brings it back");
}

// ---------------------------------------------------------------- delete

async fn delete_for_me_hides_the_conversation_until_its_next_message(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let session = new_session_id();
    let id = visitor_says(server, tenant.site_key(), &session, "Hello?", &[]).await;
    let path = conversation_path(id, "");
    assert_error(delete(server, bea.token(), &format!("{path}?scope=everything")).await, 422, "validation_error", "scope=everything").await;
    assert_no_content(delete(server, bea.token(), &path).await, "delete for me (the default)").await;
    assert!(listed(server, bea.token(), "").await.is_empty(), "gone from the caller's list");
    assert!(unread(server, bea.token()).await.is_empty(), "and from their unread counts");
    assert_eq!(summary(server, bea.token(), id).await.id, id, "still readable by id");
    assert_eq!(listed(server, tenant.token(), "").await, [id], "everyone else still has it");
    assert_no_content(delete(server, bea.token(), &format!("{path}?scope=for_me")).await, "again").await;
    visitor_says(server, tenant.site_key(), &session, "Hello again?", &[]).await;
    assert_eq!(listed(server, bea.token(), "").await, [id], "back on its next message");
}

async fn delete_for_everyone_by_an_agent_who_did_not_start_it_is_403_and_deletes_nothing(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let id = internal(server, tenant.token(), &[bea.id], "Budget").await.id;
    say(server, tenant.token(), id, "Numbers attached").await;
    let everyone = conversation_path(id, "?scope=for_everyone");
    assert_error(delete(server, bea.token(), &everyone).await, 403, "forbidden", "an agent who did not start it").await;
    let messages: MessageList = json_of(get(server, &conversation_path(id, "/messages"), bea.token()).await, 200).await;
    assert_eq!(messages.messages.len(), 1, "nothing deleted");
    assert_eq!(listed(server, tenant.token(), "").await, [id]);

    let own = internal(server, bea.token(), &[tenant.id()], "Bea's own").await.id;
    assert_no_content(delete(server, bea.token(), &conversation_path(own, "?scope=for_everyone")).await, "its creator").await;
    assert_error(get(server, &conversation_path(own, ""), tenant.token()).await, 404, "not_found", "deleted by its creator").await;
}

async fn delete_for_everyone_removes_the_conversation_and_its_messages_for_good(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Bea Agent").await;
    let id = internal(server, bea.token(), &[tenant.id()], "Old plans").await.id;
    let word: String = unique("plan").chars().filter(char::is_ascii_alphanumeric).collect();
    say(server, bea.token(), id, &format!("Plan A is {word}")).await;
    let found = |token: String| {
        let path = format!("/v1/chat/messages/search?q={word}");
        async move { json_of::<Value>(get(server, &path, &token).await, 200).await["results"].as_array().map_or(0, Vec::len) }
    };
    assert_eq!(found(tenant.token().to_string()).await, 1, "found before the delete");
    let mut socket = Socket::open(server, bea.token()).await;
    assert_no_content(delete(server, tenant.token(), &conversation_path(id, "?scope=for_everyone")).await, "an owner").await;
    assert_eq!(socket.event().await, LiveEvent::ConversationDeleted { conversation_id: id }, "participants are told");
    for token in [tenant.token(), bea.token()] {
        assert_invisible(server, token, id, "a deleted conversation").await;
    }
    assert_error(delete(server, tenant.token(), &conversation_path(id, "?scope=for_everyone")).await, 404, "not_found", "twice").await;
    assert_eq!(found(tenant.token().to_string()).await, 0, "a deleted conversation's messages are gone from search");

    // A visitor conversation: the widget no longer has it, and its id is never given again.
    let session = new_session_id();
    let visitor = visitor_says(server, tenant.site_key(), &session, "Delete me", &[]).await;
    assert_no_content(delete(server, tenant.token(), &conversation_path(visitor, "?scope=for_everyone")).await, "a visitor conversation")
        .await;
    let after = history(server, tenant.site_key(), &session, &[]).await;
    assert_eq!((after.conversation_id, after.messages.len()), (None, 0), "the visitor's history is gone");
    let next = visitor_says(server, tenant.site_key(), &session, "Hello again", &[]).await;
    assert!(next > visitor, "a new conversation, never the deleted id");
    assert_eq!(listed(server, tenant.token(), "").await, [next]);
}

// ---------------------------------------------------------------- outbound follow-ups

async fn an_outbound_follow_up_reaches_the_verified_user_it_names_and_never_one_by_email_alone(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let user_id = unique("user");
    let hash = user_hash(&secret, &user_id);
    let email = format!("{}@example.com", unique("ann"));
    let identity = [("user_id", user_id.as_str()), ("user_hash", hash.as_str()), ("email", email.as_str())];
    let session = new_session_id();
    let earlier = visitor_says(server, tenant.site_key(), &session, "My order is late", &identity).await;
    let visitor_id = summary(server, tenant.token(), earlier).await.visitor.expect("a visitor").id;

    // By email alone: the email a signed-in visitor's site passes is not
    // under user_hash, so it never picks who reads the thread.
    let by_email = json!({"kind": "visitor", "site_id": tenant.site.id, "email": email, "content": "Only for the real Ann"});
    let (status, elsewhere) = start(server, tenant.token(), by_email).await;
    assert_eq!(status, 201);
    let stranger = elsewhere.visitor.as_ref().expect("a visitor made for the email");
    assert!(stranger.id != visitor_id && !stranger.verified, "not the verified visitor who merely shares the email");
    let seen = history(server, tenant.site_key(), &new_session_id(), &identity[..2]).await;
    assert_eq!(seen.conversation_id, Some(earlier), "the signed-in user still sees only their own conversation");

    let mut socket = Socket::open(server, tenant.token()).await;
    let body = json!({"kind": "visitor", "site_id": tenant.site.id, "user_id": user_id, "email": email.to_uppercase(), "name": "Ann", "content": "Your order shipped today"});
    let (status, created) = start(server, tenant.token(), body).await;
    assert_eq!(status, 201);
    let id = created.id;
    assert!(id > earlier);
    assert_eq!(
        (created.kind, created.site_id, created.mode, created.assignee_id),
        (Kind::Visitor, Some(tenant.site.id), Mode::Operator, Some(tenant.id()))
    );
    assert_eq!(created.visitor.as_ref().map(|v| (v.id, v.verified)), Some((visitor_id, true)), "the verified user it names");
    assert_eq!(created.last_message.as_ref().map(|m| (m.role, m.content.as_str())), Some((Role::Operator, "Your order shipped today")));
    assert_eq!(participant_ids(server, tenant.token(), id).await, [tenant.id()]);
    let events = socket.events_of_until(id, |e| matches!(e, LiveEvent::Message { .. })).await;
    assert_eq!(events[0], LiveEvent::Conversation { conversation_id: id, site_id: Some(tenant.site.id) });
    assert_eq!(events.len(), 2, "announced, then its first message: {events:?}");

    // On another device, the same verified user opens the widget: the follow-up is there.
    let seen = history(server, tenant.site_key(), &new_session_id(), &identity[..2]).await;
    assert_eq!(seen.conversation_id, Some(id));
    assert_eq!(seen.messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(), ["Your order shipped today"]);
}

async fn an_outbound_follow_up_to_an_unknown_email_is_claimed_by_no_one(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let email = format!("{}@example.com", unique("nobody"));
    let body = json!({"kind": "visitor", "site_id": tenant.site.id, "email": email, "name": "Nia"});
    let (status, first) = start(server, tenant.token(), body.clone()).await;
    assert_eq!(status, 201);
    let visitor = first.visitor.clone().expect("a visitor made for the email");
    assert_eq!((visitor.email.as_deref(), visitor.name.as_deref(), visitor.verified), (Some(email.as_str()), Some("Nia"), false));
    assert!(first.last_message.is_none(), "no content, no message");
    let (_, second) = start(server, tenant.token(), body).await;
    assert_eq!(second.visitor.map(|v| v.id), Some(visitor.id), "a second follow-up to the email goes to the same visitor");

    // A verified user of the site who merely claims the address (the email is not under user_hash) does not get the thread.
    let user_id = unique("user");
    let hash = user_hash(&secret, &user_id);
    let identity = [("user_id", user_id.as_str()), ("user_hash", hash.as_str()), ("email", email.as_str())];
    let session = new_session_id();
    let seen = history(server, tenant.site_key(), &session, &identity).await;
    assert_eq!((seen.conversation_id, seen.messages.len()), (None, 0));
    let own = visitor_says(server, tenant.site_key(), &session, "Hi", &identity).await;
    assert!(own != first.id && own != second.id, "their own conversation");

    // A follow-up naming a user_id that never chatted waits for them: their widget shows it once it identifies them.
    let newcomer = unique("user");
    let body = json!({"kind": "visitor", "site_id": tenant.site.id, "user_id": newcomer, "email": email, "content": "Welcome aboard"});
    let (status, waiting) = start(server, tenant.token(), body).await;
    assert_eq!(status, 201);
    assert_eq!(waiting.visitor.as_ref().map(|v| v.verified), Some(true));
    let hash = user_hash(&secret, &newcomer);
    let seen = history(server, tenant.site_key(), &new_session_id(), &[("user_id", newcomer.as_str()), ("user_hash", hash.as_str())]).await;
    assert_eq!(seen.conversation_id, Some(waiting.id));
    assert_eq!(seen.messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(), ["Welcome aboard"]);
}

// ---------------------------------------------------------------- user search

async fn user_search_finds_operators_and_visitors_by_name_email_and_phone_prefix(server: &Server) {
    let tenant = signup_as(server, &IPS, &OWNER).await;
    let stranger = signup_as(server, &IPS, &OWNER).await;
    let bea = add_agent(server, &tenant, "Beatrix Quill").await;
    add_agent(server, &stranger, "Beatrix Quill").await;
    let session = new_session_id();
    visitor_says(server, tenant.site_key(), &session, "Hello", &[]).await;
    let contact = json!({"site_key": tenant.site_key(), "session_id": session, "name": "Quentin Visitor", "phone": "+14155550123"});
    let response = server
        .http
        .post(format!("{}/api/v1/chat/contact", server.url))
        .header("cf-connecting-ip", visitor_ip(&session))
        .json(&contact)
        .send()
        .await
        .expect("POST reaches the server");
    assert_eq!(response.status().as_u16(), 200, "{}", response.text().await.unwrap_or_default());

    let token = tenant.token().to_string();
    let search = |q: &str| {
        let path = format!("/v1/chat/users/search?q={}", urlencoding(q));
        let token = token.clone();
        async move { json_of::<UserSearch>(get(server, &path, &token).await, 200).await }
    };
    let found = search("quill").await;
    assert_eq!(found.operators.iter().map(|o| o.id).collect::<Vec<_>>(), [bea.id], "by name, case-insensitive, this account only");
    assert_eq!(found.operators[0].email, bea.email);
    assert_eq!(search(&bea.email).await.operators.len(), 1, "by email");
    let by_name = search("Quentin").await;
    assert_eq!(by_name.visitors.iter().map(|v| v.visitor.name.as_deref()).collect::<Vec<_>>(), [Some("Quentin Visitor")]);
    assert_eq!(by_name.visitors[0].site_id, tenant.site.id);
    assert_eq!(search("+1415555").await.visitors.len(), 1, "by an E.164 prefix");
    assert!(search("+1416").await.visitors.is_empty());
    let wild = search("%").await;
    assert!(wild.operators.is_empty() && wild.visitors.is_empty(), "a searched % matches only a %");
    assert!(search("_").await.operators.is_empty(), "a searched _ matches only a _");
    for q in ["", "%20%20", &"q".repeat(101)] {
        let path = format!("/v1/chat/users/search?q={q}");
        assert_error(get(server, &path, tenant.token()).await, 422, "validation_error", &format!("q={q:?}")).await;
    }
    assert_error(get(server, "/v1/chat/users/search", tenant.token()).await, 422, "validation_error", "no q").await;
    assert!(search("Quentin").await.visitors.len() == 1);
    let theirs: UserSearch = json_of(get(server, "/v1/chat/users/search?q=Quentin", stranger.token()).await, 200).await;
    assert!(theirs.visitors.is_empty(), "another account's visitors are not found");
}

/// `q` percent-encoded for a query string.
fn urlencoding(q: &str) -> String {
    q.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
