//! Devices, notification settings, push and diagnostics (seed 003,
//! "Devices & settings", "Diagnostics"; issue 14): the routes with their
//! bad inputs and another user's ids, and pushes of an operator's reply to
//! a signed-in user reaching the three push stand-ins
//! (`edgechat_tests::push_standin`: Web Push with VAPID and a decrypted
//! payload, FCM HTTP v1, Telegram) once, and only when they should.
//!
//! Each trial signs up its own account (from `10.149.x.y`). "Nothing was
//! pushed for A" is shown without sleeping: a push for another user B,
//! asked for after A's event, is awaited first (the bus handles events
//! in order).

use std::time::Duration;

use edgechat_shared::api::devices::{DeviceRegistered, NotificationSettings, WebPushKey};
use edgechat_shared::api::diagnostics::MAX_DIAGNOSTICS_PER_USER;
use edgechat_shared::api::stream::StreamRequest;
use edgechat_tests::app::{app_login, app_send};
use edgechat_tests::push_standin::{self, Push, PushStandIn, WebSubscription};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        devices_register_as_upserts_and_refuse_bad_tokens,
        another_users_device_is_404_and_devices_are_capped,
        notification_settings_default_on_and_change,
        an_operator_reply_reaches_each_offline_device_once,
        a_ticket_change_reaches_the_users_devices_once,
        no_push_while_the_user_is_live_or_has_chat_messages_off,
        a_gone_device_is_removed,
        diagnostics_are_stored_without_pii_and_capped,
    ]
}

/// Client addresses of this module's sign-ups (`10.149.x.y`).
static IPS: IpPool = IpPool::new("10.149");

/// How long a push may take to arrive (queue batching included).
const PUSH_WAIT: Duration = Duration::from_secs(30);

/// The worker's vars for the push stand-ins (started before the server).
pub fn vars() -> Vec<(&'static str, String)> {
    PushStandIn::shared().vars()
}

fn standin() -> &'static PushStandIn {
    PushStandIn::shared()
}

/// A signed-in user of `tenant`'s site.
struct User {
    id: String,
    session: String,
    secret: String,
    site_key: String,
}

async fn sign_in(server: &Server, tenant: &Tenant) -> User {
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let id = unique("push-user");
    let session = app_login(server, &IPS, tenant.site_key(), &secret, &id).await;
    User { id, session, secret, site_key: tenant.site_key().to_string() }
}

async fn register(server: &Server, user: &User, body: Value) -> reqwest::Response {
    app_send(server, Method::POST, "/api/v1/app/devices/register", &user.session, Some(body)).await
}

async fn register_ok(server: &Server, user: &User, platform: &str, token: Value) -> i64 {
    let device: DeviceRegistered = json_of(register(server, user, json!({"platform": platform, "token": token})).await, 200).await;
    device.id
}

async fn delete_device(server: &Server, user: &User, id: impl std::fmt::Display) -> reqwest::Response {
    app_send(server, Method::DELETE, &format!("/api/v1/app/devices/{id}"), &user.session, None).await
}

/// A fresh FCM registration token and Telegram chat id.
fn fcm_token() -> String {
    format!("fcm-{}:APA91b{}", unique("t"), "x".repeat(100))
}

fn chat_id() -> String {
    static NEXT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
    (700_000_000 + now() % 100_000 * 1000 + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)).to_string()
}

/// The user's three devices: a browser subscription, an FCM token and a Telegram chat.
struct Devices {
    web: WebSubscription,
    fcm: String,
    chat: String,
}

async fn register_all(server: &Server, user: &User) -> Devices {
    let devices = Devices { web: standin().subscribe(), fcm: fcm_token(), chat: chat_id() };
    register_ok(server, user, "web", devices.web.json.clone()).await;
    register_ok(server, user, "mobile", json!(devices.fcm)).await;
    register_ok(server, user, "tma", json!(push_standin::init_data(&devices.chat))).await;
    devices
}

/// The user writes through the widget as their verified identity (the same
/// user as the app session); answers the conversation id.
async fn user_writes(server: &Server, user: &User, message: &str) -> i64 {
    let request = visitor_request(&user.site_key, &new_session_id(), message);
    let response = identity_post(server, user, &request).await;
    let streamed = Streamed::read(response, std::time::Instant::now()).await;
    assert_eq!(streamed.status, 200, "the user's message is accepted");
    streamed.done().conversation_id
}

fn identity_query(user: &User) -> [(&'static str, String); 2] {
    [("user_id", user.id.clone()), ("user_hash", user_hash(&user.secret, &user.id))]
}

async fn identity_post(server: &Server, user: &User, request: &StreamRequest) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/v1/chat/stream", server.url))
        .query(&identity_query(user))
        .header("cf-connecting-ip", visitor_ip(&request.session_id))
        .json(request)
        .send()
        .await
        .expect("POST reaches the server")
}

/// An operator of `tenant` takes conversation `id` over and replies `content`.
async fn operator_replies(server: &Server, tenant: &Tenant, id: i64, content: &str) {
    let _ = post(server, &conversation_path(id, "/takeover"), tenant.token(), json!({})).await;
    let body = json!({"conversation_id": id, "content": content});
    let _: Value = json_of(post(server, "/v1/chat/messages/send", tenant.token(), body).await, 201).await;
}

/// The pushes of `devices` carrying `text` (web: the decrypted payload's body).
async fn wait_everywhere(devices: &Devices, text: &str) -> (Vec<Push>, Vec<Push>, Vec<Push>) {
    let web = standin().wait_for(&devices.web.endpoint, 1, PUSH_WAIT, |p| p.payload["body"] == text).await;
    let fcm = standin().wait_for(&devices.fcm, 1, PUSH_WAIT, |p| p.payload["notification"]["body"] == text).await;
    let tma = standin().wait_for(&devices.chat, 1, PUSH_WAIT, |p| p.payload["text"].as_str().is_some_and(|t| t.contains(text))).await;
    (web, fcm, tma)
}

fn pushed(devices: &Devices) -> usize {
    standin().pushes_to(&devices.web.endpoint).len() + standin().pushes_to(&devices.fcm).len() + standin().pushes_to(&devices.chat).len()
}

async fn devices_register_as_upserts_and_refuse_bad_tokens(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let user = sign_in(server, &tenant).await;
    let subscription = standin().subscribe();
    let first = register_ok(server, &user, "web", subscription.json.clone()).await;
    // The same subscription (as a JSON string this time) is the same device.
    assert_eq!(register_ok(server, &user, "web", json!(subscription.json.to_string())).await, first);
    let token = fcm_token();
    let mobile = register_ok(server, &user, "mobile", json!(token)).await;
    assert_eq!(register_ok(server, &user, "mobile", json!(token)).await, mobile);
    assert_ne!(mobile, first);
    let telegram = register_ok(server, &user, "tma", json!(push_standin::init_data("123456789"))).await;
    assert_eq!(register_ok(server, &user, "tma", json!(push_standin::init_data("123456789"))).await, telegram, "the same Telegram user");
    let key: WebPushKey = json_of(app_send(server, Method::GET, "/api/v1/app/devices/web-push-key", &user.session, None).await, 200).await;
    assert_eq!(key.vapid_public_key.as_deref(), Some(push_standin::vapid_public_key().as_str()));

    let keys = &subscription.json["keys"];
    let web = |endpoint: &str, p256dh: &Value, auth: &Value| json!({"platform": "web", "token": {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}});
    let refused = [
        ("unknown platform", json!({"platform": "desktop", "token": "abc"})),
        ("no platform", json!({"token": "abc"})),
        ("no token", json!({"platform": "mobile"})),
        ("empty token", json!({"platform": "mobile", "token": " "})),
        ("FCM token with spaces", json!({"platform": "mobile", "token": "not a token"})),
        ("FCM token over 4096", json!({"platform": "mobile", "token": "a".repeat(4097)})),
        ("a bare chat id", json!({"platform": "tma", "token": 123456789})),
        ("a chat id as a string", json!({"platform": "tma", "token": "123456789"})),
        ("initData of another bot", json!({"platform": "tma", "token": push_standin::init_data_of("123456789", "999:another-bot", now())})),
        (
            "initData over a day old",
            json!({"platform": "tma", "token": push_standin::init_data_of("123456789", push_standin::TELEGRAM_BOT_TOKEN, now() - 86_460)}),
        ),
        (
            "initData with its user changed",
            json!({"platform": "tma", "token": push_standin::init_data("123456789").replace("123456789", "123456780")}),
        ),
        (
            "initData over 4096 bytes",
            json!({"platform": "tma", "token": format!("{}&x={}", push_standin::init_data("1"), "x".repeat(4096))}),
        ),
        ("subscription not JSON", json!({"platform": "web", "token": "https://push.example.com/x"})),
        ("http endpoint", web("http://push.example.com/x", &keys["p256dh"], &keys["auth"])),
        ("private endpoint", web("https://10.0.0.7/x", &keys["p256dh"], &keys["auth"])),
        ("short p256dh", web("https://push.example.com/x", &json!("BCVx"), &keys["auth"])),
        ("p256dh not on the curve", web("https://push.example.com/x", &json!(format!("BA{}", "A".repeat(85))), &keys["auth"])),
        ("auth not 16 bytes", web("https://push.example.com/x", &keys["p256dh"], &json!("AAAA"))),
        ("subscription over 4096 bytes", web(&format!("https://push.example.com/{}", "x".repeat(4100)), &keys["p256dh"], &keys["auth"])),
    ];
    for (what, body) in refused {
        assert_error(register(server, &user, body).await, 422, "validation_error", what).await;
    }
    assert_error(register(server, &user, json!([1, 2])).await, 400, "bad_request", "an array").await;
    assert_error(register(server, &user, json!({"platform": 3, "token": "x"})).await, 400, "bad_request", "platform not a string").await;
    let no_session =
        server.http.post(format!("{}/api/v1/app/devices/register", server.url)).json(&json!({"platform": "tma", "token": "1"}));
    assert_error(no_session.send().await.unwrap(), 401, "unauthorized", "no session").await;
    // Nothing refused was stored: the user has exactly the three devices above.
    for id in [first, mobile, telegram] {
        assert_eq!(delete_device(server, &user, id).await.status().as_u16(), 204);
    }
}

async fn another_users_device_is_404_and_devices_are_capped(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let alice = sign_in(server, &tenant).await;
    let bob = sign_in(server, &tenant).await;
    let elsewhere = signup(server, &IPS).await;
    let mallory = sign_in(server, &elsewhere).await;
    let device = register_ok(server, &alice, "mobile", json!(fcm_token())).await;
    assert_error(delete_device(server, &bob, device).await, 404, "not_found", "another user's device").await;
    assert_error(delete_device(server, &mallory, device).await, 404, "not_found", "another site's user").await;
    assert_error(delete_device(server, &alice, "abc").await, 404, "not_found", "a non-numeric id").await;
    assert_error(delete_device(server, &alice, device + 100_000).await, 404, "not_found", "no such device").await;
    assert_eq!(delete_device(server, &alice, device).await.status().as_u16(), 204, "the owner unregisters it");
    assert_error(delete_device(server, &alice, device).await, 404, "not_found", "unregistered twice").await;
    // A Telegram chat is registered only by the user it belongs to (their
    // Mini App's signed initData): naming another's chat id takes nothing
    // from them, on this site or another.
    let chat = chat_id();
    let bobs_chat = register_ok(server, &bob, "tma", json!(push_standin::init_data(&chat))).await;
    for (thief, what) in [(&alice, "a user of the same site"), (&mallory, "a user of another site")] {
        assert_error(register(server, thief, json!({"platform": "tma", "token": chat})).await, 422, "validation_error", what).await;
    }
    assert_eq!(delete_device(server, &bob, bobs_chat).await.status().as_u16(), 204, "bob's chat stays his");
    // The same token registered by two users is two devices.
    let shared = fcm_token();
    let a = register_ok(server, &alice, "mobile", json!(shared)).await;
    let b = register_ok(server, &bob, "mobile", json!(shared)).await;
    assert_ne!(a, b);
    // At most 10 devices: the 11th forgets the least recently registered.
    for _ in 0..10 {
        register_ok(server, &alice, "mobile", json!(fcm_token())).await;
    }
    assert_error(delete_device(server, &alice, a).await, 404, "not_found", "the oldest device was forgotten").await;
    assert_eq!(delete_device(server, &bob, b).await.status().as_u16(), 204, "bob's device stays");
}

async fn notification_settings_default_on_and_change(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let user = sign_in(server, &tenant).await;
    let other = sign_in(server, &tenant).await;
    let path = "/api/v1/app/settings/notifications";
    let all_on = NotificationSettings { chat_messages: true, ticket_updates: true, system_notices: true };
    let got: NotificationSettings = json_of(app_send(server, Method::GET, path, &user.session, None).await, 200).await;
    assert_eq!(got, all_on);
    let changed: NotificationSettings =
        json_of(app_send(server, Method::PUT, path, &user.session, Some(json!({"chat_messages": false}))).await, 200).await;
    assert_eq!(changed, NotificationSettings { chat_messages: false, ..all_on });
    // Seed 003's camelCase names; unnamed fields stay.
    let changed: NotificationSettings = json_of(
        app_send(server, Method::PUT, path, &user.session, Some(json!({"ticketUpdates": false, "systemNotices": false}))).await,
        200,
    )
    .await;
    assert_eq!(changed, NotificationSettings { chat_messages: false, ticket_updates: false, system_notices: false });
    let got: NotificationSettings = json_of(app_send(server, Method::GET, path, &user.session, None).await, 200).await;
    assert_eq!(got, changed);
    for (what, body) in [("not a boolean", json!({"chat_messages": "no"})), ("not an object", json!([true]))] {
        assert_error(app_send(server, Method::PUT, path, &user.session, Some(body)).await, 400, "bad_request", what).await;
    }
    let got: NotificationSettings = json_of(app_send(server, Method::GET, path, &user.session, None).await, 200).await;
    assert_eq!(got, changed, "a refused update changes nothing");
    // Another user of the site still has the defaults.
    let theirs: NotificationSettings = json_of(app_send(server, Method::GET, path, &other.session, None).await, 200).await;
    assert_eq!(theirs, all_on);
    let no_session = server.http.get(format!("{}{path}", server.url)).send().await.unwrap();
    assert_error(no_session, 401, "unauthorized", "no session").await;
}

async fn an_operator_reply_reaches_each_offline_device_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let user = sign_in(server, &tenant).await;
    let devices = register_all(server, &user).await;
    let conversation = user_writes(server, &user, "Where is my parcel?").await;
    operator_replies(server, &tenant, conversation, "It left the warehouse this morning.").await;
    let (web, fcm, tma) = wait_everywhere(&devices, "It left the warehouse this morning.").await;
    // Web Push: the stand-in checked VAPID and decrypted this with the subscription's keys.
    let payload = &web[0].payload;
    assert!(payload["title"].as_str().is_some_and(|t| t.starts_with("New reply")), "{payload}");
    assert_eq!(payload["data"]["type"], "message");
    assert_eq!(payload["data"]["conversation_id"], conversation.to_string());
    assert_eq!(web[0].status, 201);
    assert_eq!(fcm[0].payload["data"]["conversation_id"], conversation.to_string());
    assert_eq!(fcm[0].payload["token"], devices.fcm);
    assert_eq!(tma[0].payload["chat_id"].to_string(), devices.chat);
    // A second reply arrives too, and the first one was pushed exactly once.
    operator_replies(server, &tenant, conversation, "It will arrive tomorrow.").await;
    wait_everywhere(&devices, "It will arrive tomorrow.").await;
    assert_eq!(pushed(&devices), 6, "each reply once to each device");
    assert!(standin().token_requests() >= 1);
    assert_eq!(standin().problems(), Vec::<String>::new());
}

async fn no_push_while_the_user_is_live_or_has_chat_messages_off(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let live = sign_in(server, &tenant).await;
    let muted = sign_in(server, &tenant).await;
    let offline = sign_in(server, &tenant).await;
    let live_devices = register_all(server, &live).await;
    let muted_devices = register_all(server, &muted).await;
    let offline_devices = register_all(server, &offline).await;
    let live_conversation = user_writes(server, &live, "Hello from the widget").await;
    let muted_conversation = user_writes(server, &muted, "Hello, notifications off").await;
    let offline_conversation = user_writes(server, &offline, "Hello, I will close the app").await;
    // Before the user opens the widget's stream, a reply is pushed to them.
    operator_replies(server, &tenant, live_conversation, "Before you came back.").await;
    wait_everywhere(&live_devices, "Before you came back.").await;
    let off = json!({"chat_messages": false});
    let _: NotificationSettings =
        json_of(app_send(server, Method::PUT, "/api/v1/app/settings/notifications", &muted.session, Some(off)).await, 200).await;
    // Now the user holds the widget's event stream of their conversation.
    let stream = server
        .http
        .get(format!("{}/api/v1/chat/events", server.url))
        .query(&[("site_key", live.site_key.clone()), ("session_id", new_session_id())])
        .query(&identity_query(&live))
        .send()
        .await
        .expect("the event stream opens");
    assert_eq!(stream.status().as_u16(), 200);
    operator_replies(server, &tenant, live_conversation, "You are watching this one.").await;
    operator_replies(server, &tenant, muted_conversation, "You turned these off.").await;
    operator_replies(server, &tenant, offline_conversation, "This one is pushed.").await;
    wait_everywhere(&offline_devices, "This one is pushed.").await;
    assert_eq!(pushed(&live_devices), 3, "nothing more for a user with an open stream");
    assert_eq!(pushed(&muted_devices), 0, "nothing for a user with chat messages off");
    drop(stream);
}

async fn a_gone_device_is_removed(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let user = sign_in(server, &tenant).await;
    let devices = Devices { web: standin().subscribe(), fcm: fcm_token(), chat: chat_id() };
    let web = register_ok(server, &user, "web", devices.web.json.clone()).await;
    let fcm = register_ok(server, &user, "mobile", json!(devices.fcm)).await;
    let tma = register_ok(server, &user, "tma", json!(push_standin::init_data(&devices.chat))).await;
    // The push services say: this subscription (410), this token (404 UNREGISTERED), this chat (403 blocked) are gone.
    standin().gone(&devices.web.endpoint);
    standin().gone(&devices.fcm);
    standin().gone(&devices.chat);
    let conversation = user_writes(server, &user, "Anyone there?").await;
    operator_replies(server, &tenant, conversation, "Yes, we are here.").await;
    assert_eq!(standin().wait_for(&devices.web.endpoint, 1, PUSH_WAIT, |_| true).await[0].status, 410);
    assert_eq!(standin().wait_for(&devices.fcm, 1, PUSH_WAIT, |_| true).await[0].status, 404);
    assert_eq!(standin().wait_for(&devices.chat, 1, PUSH_WAIT, |_| true).await[0].status, 403);
    // The devices are removed (the owner's DELETE finds nothing), and a next reply tries them no more.
    for id in [web, fcm, tma] {
        let deadline = std::time::Instant::now() + PUSH_WAIT;
        while delete_device(server, &user, id).await.status().as_u16() != 404 {
            assert!(std::time::Instant::now() < deadline, "device {id} was not removed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let fresh = Devices { web: standin().subscribe(), fcm: fcm_token(), chat: chat_id() };
    register_ok(server, &user, "web", fresh.web.json.clone()).await;
    register_ok(server, &user, "mobile", json!(fresh.fcm)).await;
    register_ok(server, &user, "tma", json!(push_standin::init_data(&fresh.chat))).await;
    operator_replies(server, &tenant, conversation, "Still here.").await;
    wait_everywhere(&fresh, "Still here.").await;
    assert_eq!(pushed(&devices), 3, "the gone devices got one try each");
}

/// How many files of the server's D1 databases hold `needle`.
fn d1_files_containing(server: &Server, needle: &str) -> usize {
    fn walk(dir: &std::path::Path, in_d1: bool, needle: &[u8], found: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let in_d1 = in_d1 || entry.file_name() == "d1";
            if path.is_dir() {
                walk(&path, in_d1, needle, found);
            } else if in_d1 && std::fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)) {
                *found += 1;
            }
        }
    }
    let mut found = 0;
    walk(&server.persist_dir(), false, needle.as_bytes(), &mut found);
    found
}

async fn diagnostics_are_stored_without_pii_and_capped(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let user = sign_in(server, &tenant).await;
    let path = "/api/v1/app/diagnostics";
    let marker = unique("diag");
    let report = json!({
        "app_version": "2.3.0",
        "os": "Android 15",
        "marker": marker,
        "email": format!("{marker}-email@example.com"),
        "device": {"model": "Pixel 9", "name": format!("{marker}-name"), "ip": "10.1.2.3", "push_token": format!("{marker}-token")},
        "events": [{"kind": "crash", "user": {"phone": format!("{marker}-phone")}, "password": format!("{marker}-password")}],
    });
    let answer = app_send(server, Method::POST, path, &user.session, Some(report)).await;
    assert_eq!(answer.status().as_u16(), 204);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d1_files_containing(server, &format!("\"marker\":\"{marker}\"")) == 0 {
        assert!(std::time::Instant::now() < deadline, "the report reached D1");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for pii in ["email", "name", "token", "phone", "password"] {
        assert_eq!(d1_files_containing(server, &format!("{marker}-{pii}")), 0, "the {pii} field was dropped");
    }
    let big = json!({"blob": "x".repeat(17 * 1024)});
    assert_error(app_send(server, Method::POST, path, &user.session, Some(big)).await, 413, "payload_too_large", "over 16 KiB").await;
    // A user keeps the newest MAX_DIAGNOSTICS_PER_USER reports (20): the
    // first of these 20 more is deleted, the 20 stay, another user's stay.
    let other = sign_in(server, &tenant).await;
    let answer = app_send(server, Method::POST, path, &other.session, Some(json!({"marker": format!("{marker}-other")}))).await;
    assert_eq!(answer.status().as_u16(), 204);
    for n in 0..MAX_DIAGNOSTICS_PER_USER {
        let answer = app_send(server, Method::POST, path, &user.session, Some(json!({"marker": format!("{marker}-{n}")}))).await;
        assert_eq!(answer.status().as_u16(), 204, "report {n}");
    }
    #[derive(serde::Deserialize)]
    struct Report {
        data: String,
    }
    let kept: Vec<Report> = server.d1_rows(&format!("SELECT data FROM diagnostics WHERE data LIKE '%{marker}%' ORDER BY id"));
    let kept: Vec<String> =
        kept.into_iter().map(|r| serde_json::from_str::<Value>(&r.data).unwrap()["marker"].as_str().unwrap().to_string()).collect();
    let mut expected = vec![format!("{marker}-other")];
    expected.extend((0..MAX_DIAGNOSTICS_PER_USER).map(|n| format!("{marker}-{n}")));
    assert_eq!(kept, expected, "the first report went, the newest 20 and the other user's stay");
    let mut deep = json!(1);
    for _ in 0..20 {
        deep = json!({"a": deep});
    }
    assert_error(app_send(server, Method::POST, path, &user.session, Some(deep)).await, 422, "validation_error", "20 levels").await;
    assert_error(app_send(server, Method::POST, path, &user.session, Some(json!("text"))).await, 400, "bad_request", "not an object").await;
    let no_session = server.http.post(format!("{}{path}", server.url)).json(&json!({})).send().await.unwrap();
    assert_error(no_session, 401, "unauthorized", "no session").await;
}

async fn a_ticket_change_reaches_the_users_devices_once(server: &'static Server) {
    let tenant = signup(server, &IPS).await;
    let user = sign_in(server, &tenant).await;
    let devices = register_all(server, &user).await;
    let conversation = user_writes(server, &user, "My parcel never came").await;
    let ticket: Value = json_of(
        post(server, "/v1/tickets", tenant.token(), json!({"subject": "Parcel never came", "conversation_id": conversation})).await,
        201,
    )
    .await;
    let id = ticket["id"].as_i64().expect("a ticket id");
    let changed = send(server, Method::PATCH, &format!("/v1/tickets/{id}"), tenant.token(), Some(json!({"status": "in_progress"}))).await;
    assert_eq!(changed.status().as_u16(), 200);
    let (web, fcm, _) = wait_everywhere(&devices, "Parcel never came").await;
    assert_eq!(web[0].payload["data"]["type"], "ticket");
    assert_eq!(web[0].payload["data"]["ticket_id"], id.to_string());
    assert_eq!(fcm[0].payload["data"]["status"], "in_progress");
    assert_eq!(pushed(&devices), 3, "one push per device for the one change");
    assert_eq!(standin().problems(), Vec::<String>::new());
}
