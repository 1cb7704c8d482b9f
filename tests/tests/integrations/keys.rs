//! Account API keys (issue 13): `POST/GET/DELETE /v1/api-keys`, and a key
//! as the bearer of the `/v1` routes: it acts as its creator with role at
//! most agent, its scope follows the HTTP method, and a revoked key, or one
//! whose creator left, is refused at once.
//!
//! Each trial signs up its own accounts (from `10.131.x.y`).

use edgechat_shared::api::auth::TokenResponse;
use edgechat_shared::api::conversations::{ConversationList, ConversationSummary, MessageList, SentMessage};
use edgechat_shared::api::integrations::{ApiKey, ApiKeyScope};
use edgechat_shared::api::Role;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        keys_are_created_listed_newest_first_and_revoked_and_the_secret_shows_once,
        a_read_key_reads_conversations_but_its_reply_is_403_and_stores_nothing,
        a_write_key_replies_as_its_creator_and_its_use_is_stamped,
        a_revoked_key_is_refused_at_once_and_revoking_twice_is_404,
        a_key_sees_nothing_of_another_account_and_cannot_revoke_its_keys,
        a_key_cannot_manage_keys_team_or_sites_nor_open_live_sockets_nor_use_auth_routes,
        an_agent_cannot_create_or_list_keys,
        bad_key_input_is_refused_with_422_or_400,
        an_account_has_at_most_25_active_keys,
        a_key_whose_creator_was_removed_is_refused,
        an_unknown_key_is_401,
    ]
}

// ---------------------------------------------------------------- helpers

/// Client addresses of this module's logins and sign-ups (`10.131.x.y`).
static IPS: IpPool = IpPool::new("10.131");

const OTHER: Owner = Owner { tag: "other", name: "Otto Other", account: "Other", site: "Other shop" };

/// `POST /v1/api-keys` as `token`: the answer's status and raw body.
async fn create(server: &Server, token: &str, body: Value) -> reqwest::Response {
    post(server, "/v1/api-keys", token, body).await
}

/// A new key named `name` with `scopes`, created by the operator of `token`.
async fn new_key(server: &Server, token: &str, name: &str, scopes: &[&str]) -> ApiKey {
    json_of(create(server, token, json!({"name": name, "scopes": scopes})).await, 201).await
}

/// The secret of a key just created.
fn secret(key: &ApiKey) -> &str {
    key.key.as_deref().expect("the create answer holds the secret")
}

/// `GET /v1/api-keys` as `token`, as raw JSON (to see that no secret is in it).
async fn list(server: &Server, token: &str) -> Vec<Value> {
    json_of(get(server, "/v1/api-keys", token).await, 200).await
}

async fn revoke(server: &Server, token: &str, id: i64) -> reqwest::Response {
    send(server, Method::DELETE, &format!("/v1/api-keys/{id}"), token, None).await
}

/// A visitor of `site_key` says `hello`: answers the conversation id.
async fn visitor_conversation(server: &Server, site_key: &str, hello: &str) -> i64 {
    let streamed = server.stream(&visitor_request(site_key, &new_session_id(), hello)).await;
    assert_eq!(streamed.status, 200, "first message: {:?}", streamed.events);
    streamed.done().conversation_id
}

async fn messages(server: &Server, token: &str, conversation_id: i64) -> MessageList {
    json_of(get(server, &format!("/v1/chat/conversations/{conversation_id}/messages"), token).await, 200).await
}

async fn reply(server: &Server, token: &str, conversation_id: i64, content: &str) -> reqwest::Response {
    post(server, "/v1/chat/messages/send", token, json!({"conversation_id": conversation_id, "content": content})).await
}

/// Adds an operator with `role` to `tenant`'s account and logs them in.
async fn add_operator(server: &Server, tenant: &Tenant, role: &str) -> TokenResponse {
    let email = format!("{}@example.com", unique(role));
    let body = json!({"email": email, "display_name": "Ada Added", "role": role, "password": PASSWORD});
    let _: Value = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    json_of(post_public(server, &IPS, "/auth/login", &json!({"email": email, "password": PASSWORD})).await, 200).await
}

// ----------------------------------------------------------------- trials

async fn keys_are_created_listed_newest_first_and_revoked_and_the_secret_shows_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let first = new_key(server, tenant.token(), "  CRM sync  ", &["write", "read", "read"]).await;
    let key = secret(&first);
    assert!(key.starts_with("eck_") && key.len() == 44, "eck_ + 40 hex digits: {key}");
    assert!(key[4..].chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    assert!(key.starts_with(&first.prefix) && first.prefix.len() < key.len() / 2, "a short visible prefix: {}", first.prefix);
    assert_eq!(first.name, "CRM sync", "the name is trimmed");
    assert_eq!(first.scopes, [ApiKeyScope::Read, ApiKeyScope::Write], "scopes sorted, without repeats");
    assert_eq!(first.created_by, tenant.id());
    assert_eq!(first.last_used_at, None);

    let second = new_key(server, tenant.token(), "Reporting", &["read"]).await;
    assert_ne!(secret(&second), key, "every key has its own secret");
    let listed = list(server, tenant.token()).await;
    let ids: Vec<i64> = listed.iter().map(|k| k["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [second.id, first.id], "newest first");
    let text = serde_json::to_string(&listed).unwrap();
    assert!(listed.iter().all(|k| k.get("key").is_none()), "no secret in the list: {text}");
    assert!(!text.contains(key) && !text.contains(secret(&second)), "no secret in the list: {text}");
    assert_eq!(listed[1]["prefix"], first.prefix.as_str());

    assert_eq!(revoke(server, tenant.token(), first.id).await.status().as_u16(), 204);
    let ids: Vec<i64> = list(server, tenant.token()).await.iter().map(|k| k["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [second.id], "a revoked key leaves the list");
}

async fn a_read_key_reads_conversations_but_its_reply_is_403_and_stores_nothing(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = visitor_conversation(server, tenant.site_key(), "Where is my parcel?").await;
    let read = new_key(server, tenant.token(), "Reader", &["read"]).await;
    let key = secret(&read);

    let listed: ConversationList = json_of(get(server, "/v1/chat/conversations", key).await, 200).await;
    assert!(listed.conversations.iter().any(|c| c.id == conversation), "the key lists the account's conversations");
    let one: ConversationSummary = json_of(get(server, &format!("/v1/chat/conversations/{conversation}"), key).await, 200).await;
    assert_eq!(one.id, conversation);
    let before = messages(server, key, conversation).await.messages.len();
    assert!(before >= 1, "the visitor's message is readable with the key");

    let refused = assert_error(reply(server, key, conversation, "From a read key").await, 403, "forbidden", "a read key replies").await;
    assert_eq!(refused.message, "This API key lacks the write scope");
    let after = messages(server, tenant.token(), conversation).await.messages;
    assert_eq!(after.len(), before, "nothing was stored");
    assert!(after.iter().all(|m| m.content != "From a read key"));
}

async fn a_write_key_replies_as_its_creator_and_its_use_is_stamped(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let conversation = visitor_conversation(server, tenant.site_key(), "Can I change my address?").await;
    let writer = new_key(server, tenant.token(), "Writer", &["write"]).await;
    let key = secret(&writer);

    let sent: SentMessage = json_of(reply(server, key, conversation, "Yes, from our CRM").await, 201).await;
    assert_eq!(sent.message.role, Role::Operator);
    assert_eq!(sent.message.author_id, Some(tenant.id()), "the key acts as its creator");
    assert_eq!(sent.message.author_name.as_deref(), Some(tenant.name()));
    let stored = messages(server, tenant.token(), conversation).await.messages;
    assert!(stored.iter().any(|m| m.content == "Yes, from our CRM" && m.author_id == Some(tenant.id())), "{stored:?}");

    let refused = assert_error(get(server, "/v1/chat/conversations", key).await, 403, "forbidden", "a write-only key reads").await;
    assert_eq!(refused.message, "This API key lacks the read scope");

    let listed = list(server, tenant.token()).await;
    let used = listed.iter().find(|k| k["id"] == writer.id).expect("the key is listed");
    let stamp = used["last_used_at"].as_str().unwrap_or_else(|| panic!("last_used_at is set after use: {used}"));
    assert!(stamp >= writer.created_at.as_str(), "{stamp} is not before the key's creation {}", writer.created_at);
}

async fn a_revoked_key_is_refused_at_once_and_revoking_twice_is_404(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let created = new_key(server, tenant.token(), "Short-lived", &["read", "write"]).await;
    let key = secret(&created);
    assert_eq!(get(server, "/v1/chat/conversations", key).await.status().as_u16(), 200);

    assert_eq!(revoke(server, tenant.token(), created.id).await.status().as_u16(), 204);
    assert_error(get(server, "/v1/chat/conversations", key).await, 401, "unauthorized", "a revoked key reads").await;
    assert_error(reply(server, key, 1, "late").await, 401, "unauthorized", "a revoked key writes").await;
    assert_error(revoke(server, tenant.token(), created.id).await, 404, "not_found", "revoking twice").await;
}

async fn a_key_sees_nothing_of_another_account_and_cannot_revoke_its_keys(server: &'static Server) {
    let a = signup(server, &IPS).await;
    let b = signup_as(server, &IPS, &OTHER).await;
    let theirs = visitor_conversation(server, b.site_key(), "A question for B").await;
    let ours = visitor_conversation(server, a.site_key(), "A question for A").await;
    let key_a = new_key(server, a.token(), "A's key", &["read", "write"]).await;
    let key = secret(&key_a);

    let listed: ConversationList = json_of(get(server, "/v1/chat/conversations", key).await, 200).await;
    let ids: Vec<i64> = listed.conversations.iter().map(|c| c.id).collect();
    assert!(ids.contains(&ours) && !ids.contains(&theirs), "only A's conversations: {ids:?}");
    assert_error(get(server, &format!("/v1/chat/conversations/{theirs}"), key).await, 404, "not_found", "B's conversation").await;
    assert_error(reply(server, key, theirs, "Hello B").await, 404, "not_found", "a reply into B's conversation").await;
    let b_messages = messages(server, b.token(), theirs).await.messages;
    assert!(b_messages.iter().all(|m| m.content != "Hello B"), "nothing was written into B's conversation");

    // B's owner can neither list nor revoke A's key.
    assert!(list(server, b.token()).await.is_empty(), "B lists none of A's keys");
    assert_error(revoke(server, b.token(), key_a.id).await, 404, "not_found", "B revokes A's key").await;
    assert_eq!(get(server, "/v1/chat/conversations", key).await.status().as_u16(), 200, "A's key still works");
}

async fn a_key_cannot_manage_keys_team_or_sites_nor_open_live_sockets_nor_use_auth_routes(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let created = new_key(server, tenant.token(), "Everything", &["read", "write"]).await;
    let key = secret(&created);
    let site = tenant.site.id;

    let refusals: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/v1/api-keys".into(), Some(json!({"name": "Child", "scopes": ["read"]}))),
        (Method::GET, "/v1/api-keys".into(), None),
        (Method::DELETE, format!("/v1/api-keys/{}", created.id), None),
        (
            Method::POST,
            "/v1/users".into(),
            Some(json!({"email": format!("{}@example.com", unique("k")), "display_name": "K", "role": "agent", "password": PASSWORD})),
        ),
        (Method::DELETE, format!("/v1/users/{}", tenant.id()), None),
        (Method::POST, "/v1/sites".into(), Some(json!({"name": "Key site"}))),
        (Method::PATCH, format!("/v1/sites/{site}"), Some(json!({"name": "Renamed by a key"}))),
        (Method::POST, format!("/v1/sites/{site}/rotate-secret"), None),
        (Method::GET, "/v1/messaging/token".into(), None),
    ];
    for (method, path, body) in refusals {
        let what = format!("{method} {path} with a key");
        assert_error(send(server, method, &path, key, body).await, 403, "forbidden", &what).await;
    }
    for path in ["/auth/me", "/auth/profile"] {
        let method = if path == "/auth/me" { Method::GET } else { Method::PATCH };
        let body = (method == Method::PATCH).then(|| json!({"display_name": "Renamed by a key"}));
        assert_error(send(server, method, path, key, body).await, 401, "unauthorized", &format!("{path} with a key")).await;
    }

    let sites: Value = json_of(get(server, "/v1/sites", tenant.token()).await, 200).await;
    assert!(sites.to_string().contains("Acme shop") && !sites.to_string().contains("by a key"), "nothing changed: {sites}");
    assert_eq!(list(server, tenant.token()).await.len(), 1, "the key made no key and was not revoked");
    let me: Value = json_of(get(server, "/auth/me", tenant.token()).await, 200).await;
    assert!(!me.to_string().contains("by a key"), "{me}");
}

async fn an_agent_cannot_create_or_list_keys(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let agent = add_operator(server, &tenant, "agent").await;
    let body = json!({"name": "Agent key", "scopes": ["read"]});
    assert_error(create(server, &agent.access_token, body).await, 403, "forbidden", "an agent creates a key").await;
    assert_error(get(server, "/v1/api-keys", &agent.access_token).await, 403, "forbidden", "an agent lists keys").await;
    let owners = new_key(server, tenant.token(), "Owner's", &["read"]).await;
    assert_error(revoke(server, &agent.access_token, owners.id).await, 403, "forbidden", "an agent revokes a key").await;
    assert!(list(server, tenant.token()).await.len() == 1, "the agent created and revoked nothing");

    let admin = add_operator(server, &tenant, "admin").await;
    let made = new_key(server, &admin.access_token, "Admin's", &["read"]).await;
    assert_eq!(made.created_by, admin.user.id, "an admin creates keys");
}

async fn bad_key_input_is_refused_with_422_or_400(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let long = "n".repeat(101);
    let invalid = [
        (json!({"name": "", "scopes": ["read"]}), "empty name"),
        (json!({"name": "   ", "scopes": ["read"]}), "blank name"),
        (json!({"scopes": ["read"]}), "no name"),
        (json!({"name": long, "scopes": ["read"]}), "101-character name"),
        (json!({"name": "Key", "scopes": ["admin"]}), "unknown scope"),
        (json!({"name": "Key", "scopes": []}), "empty scopes"),
        (json!({"name": "Key"}), "no scopes"),
    ];
    for (body, what) in invalid {
        assert_error(create(server, tenant.token(), body).await, 422, "validation_error", what).await;
    }
    let malformed =
        [(json!(["read"]), "an array body"), (json!("key"), "a string body"), (json!({"name": 5, "scopes": ["read"]}), "a number name")];
    for (body, what) in malformed {
        assert_error(create(server, tenant.token(), body).await, 400, "bad_request", what).await;
    }
    assert!(list(server, tenant.token()).await.is_empty(), "no key was made");
    let longest = new_key(server, tenant.token(), &"é".repeat(100), &["read"]).await;
    assert_eq!(longest.name.chars().count(), 100, "100 characters (not bytes) is the cap");
}

async fn an_account_has_at_most_25_active_keys(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let mut first = None;
    for n in 0..25 {
        let key = new_key(server, tenant.token(), &format!("Key {n}"), &["read"]).await;
        first.get_or_insert(key.id);
    }
    let body = json!({"name": "One too many", "scopes": ["read"]});
    assert_error(create(server, tenant.token(), body.clone()).await, 422, "validation_error", "the 26th active key").await;
    assert_eq!(list(server, tenant.token()).await.len(), 25);

    assert_eq!(revoke(server, tenant.token(), first.unwrap()).await.status().as_u16(), 204);
    let _ = new_key(server, tenant.token(), "Room again", &["read"]).await;
    assert_eq!(list(server, tenant.token()).await.len(), 25, "revoked keys do not count");
}

async fn a_key_whose_creator_was_removed_is_refused(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let admin = add_operator(server, &tenant, "admin").await;
    let created = new_key(server, &admin.access_token, "Admin's integration", &["read"]).await;
    let key = secret(&created);
    assert_eq!(get(server, "/v1/chat/conversations", key).await.status().as_u16(), 200);

    let removed = send(server, Method::DELETE, &format!("/v1/users/{}", admin.user.id), tenant.token(), None).await;
    assert_eq!(removed.status().as_u16(), 204);
    assert_error(get(server, "/v1/chat/conversations", key).await, 401, "unauthorized", "the removed creator's key").await;
}

async fn an_unknown_key_is_401(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let created = new_key(server, tenant.token(), "Real", &["read"]).await;
    let real = secret(&created);
    // Same prefix, last digit changed: the hash matches no key.
    let last = if real.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &real[..real.len() - 1]);
    assert_error(get(server, "/v1/chat/conversations", &forged).await, 401, "unauthorized", "a forged key").await;
    assert_error(get(server, "/v1/chat/conversations", "eck_").await, 401, "unauthorized", "an empty key").await;
}
