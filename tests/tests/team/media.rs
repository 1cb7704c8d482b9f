//! Operator media (issue 12, seed 002 "Media") against the real `wrangler
//! dev`: `POST /v1/chat/media/upload-url`, `PUT /v1/chat/media/{id}/upload`,
//! `POST /v1/chat/media/{id}/confirm`, `GET /v1/chat/media/{id}`,
//! `POST /v1/chat/media` and `attachments` on `POST /v1/chat/messages/send`.
//! Each trial signs up its own account; R2 state is observed in the
//! server's `--persist-to` directory (no route lists R2).

use edgechat_shared::api::conversations::{MessageList, SentMessage};
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::media::{ConfirmedMedia, MediaInfo, UploadUrl};
use edgechat_shared::api::ChatMessage;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

pub fn trials(server: &'static Server) -> Vec<Trial> {
    trials![server;
        a_presigned_upload_is_sent_as_a_message_operators_and_the_visitor_download,
        confirming_twice_answers_the_same_message_and_sends_nothing_more,
        an_upload_url_used_twice_is_refused_and_keeps_the_first_body,
        a_put_larger_than_declared_is_413_and_stores_nothing,
        html_confirmed_as_image_png_is_415_and_removed,
        png_bytes_declared_as_jpeg_are_415,
        a_bad_or_missing_token_is_403_and_changes_nothing,
        upload_url_input_is_checked,
        confirm_before_any_put_is_409,
        another_accounts_media_is_404_on_every_route,
        an_operator_attaches_a_multipart_file_on_messages_send,
        operator_send_with_another_accounts_upload_is_404_and_sends_nothing,
        a_teammates_unsent_upload_is_404_to_another_operator,
        an_attached_upload_cannot_be_attached_again,
    ]
}

/// Sign-ups of this module come from `10.93.x.y`.
static AUTH_IPS: IpPool = IpPool::new("10.93");

/// A real 1x1 PNG (signature, IHDR, IDAT, IEND with valid CRCs), 69 bytes.
const PNG: &[u8] = b"\x89PNG\x0d\x0a\x1a\x0a\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\
    wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xdf\xc0\x00\x00\x04\x01\x01\x80\xc5*\x18]\x00\x00\x00\x00IE\
    ND\xaeB`\x82";

/// `MAX_FILE_MB` of the test server (the default, 10) in bytes.
const MAX_FILE_BYTES: i64 = 10 * 1024 * 1024;

/// A PNG followed by a marker no other trial's bytes contain (still a PNG by its magic bytes).
fn marked_png(tag: &str) -> (Vec<u8>, Vec<u8>) {
    let marker = format!("marker {}", unique(tag)).into_bytes();
    let mut bytes = PNG.to_vec();
    bytes.extend_from_slice(&marker);
    (bytes, marker)
}

/// A visitor of the tenant's site says hello: answers its session and conversation id.
async fn new_conversation(server: &Server, tenant: &Tenant) -> (String, i64) {
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(tenant.site_key(), &session, "Hello, I have a question about my order")).await;
    assert_eq!(streamed.status, 200);
    (session, streamed.done().conversation_id)
}

async fn upload_url(
    server: &Server,
    token: &str,
    conversation_id: i64,
    filename: &str,
    content_type: &str,
    size: i64,
) -> reqwest::Response {
    post(
        server,
        "/v1/chat/media/upload-url",
        token,
        json!({"conversation_id": conversation_id, "filename": filename, "content_type": content_type, "size": size}),
    )
    .await
}

async fn upload_url_ok(server: &Server, token: &str, conversation_id: i64, filename: &str, content_type: &str, size: usize) -> UploadUrl {
    let url: UploadUrl = json_of(upload_url(server, token, conversation_id, filename, content_type, size as i64).await, 201).await;
    assert!(url.upload_url.starts_with(&format!("/v1/chat/media/{}/upload?token=", url.media_id)), "{url:?}");
    url
}

/// `PUT` of `bytes` to an upload URL, without any bearer.
async fn put(server: &Server, upload_url: &str, bytes: &[u8]) -> reqwest::Response {
    server.http.put(format!("{}{upload_url}", server.url)).body(bytes.to_vec()).send().await.expect("PUT reaches the server")
}

async fn confirm(server: &Server, token: &str, media_id: i64, body: Value) -> reqwest::Response {
    post(server, &format!("/v1/chat/media/{media_id}/confirm"), token, body).await
}

/// Upload URL, `PUT`, confirm: the file as a message of the tenant's owner.
async fn presigned(server: &Server, tenant: &Tenant, conversation_id: i64, bytes: &[u8], content: &str) -> ConfirmedMedia {
    let url = upload_url_ok(server, tenant.token(), conversation_id, "receipt.png", "image/png", bytes.len()).await;
    assert_eq!(put(server, &url.upload_url, bytes).await.status(), 204);
    json_of(confirm(server, tenant.token(), url.media_id, json!({"content": content})).await, 201).await
}

async fn messages(server: &Server, token: &str, conversation_id: i64) -> Vec<ChatMessage> {
    json_of::<MessageList>(get(server, &format!("/v1/chat/conversations/{conversation_id}/messages?limit=100"), token).await, 200)
        .await
        .messages
}

async fn history(server: &Server, tenant: &Tenant, session: &str) -> HistoryResponse {
    let response = server
        .http
        .get(format!("{}/api/v1/chat/history", server.url))
        .query(&[("site_key", tenant.site_key()), ("session_id", session)])
        .header("cf-connecting-ip", visitor_ip(session))
        .send()
        .await
        .unwrap();
    json_of(response, 200).await
}

/// Fetches a signed file URL without any credential; asserts the bytes and type.
async fn assert_downloads(server: &Server, url: &str, bytes: &[u8], content_type: &str, what: &str) {
    let response = server.get(url).await;
    assert_eq!(response.status(), 200, "{what}: {url}");
    assert_eq!(header(&response, "content-type").as_deref(), Some(content_type), "{what}");
    assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    assert_eq!(response.bytes().await.unwrap().as_ref(), bytes, "{what}: the bytes come back unchanged");
}

/// A multipart body of `conversation_id` and `file` named `name`.
fn multipart(conversation_id: &str, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----edgechat{}", unique("b").replace('-', ""));
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"conversation_id\"\r\n\r\n{conversation_id}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_media(server: &Server, token: &str, conversation_id: &str, name: &str, bytes: &[u8]) -> reqwest::Response {
    let (content_type, body) = multipart(conversation_id, name, bytes);
    server.authed(Method::POST, "/v1/chat/media", token).header("content-type", content_type).body(body).send().await.unwrap()
}

async fn send_message(server: &Server, token: &str, body: Value) -> reqwest::Response {
    post(server, "/v1/chat/messages/send", token, body).await
}

// ---------------------------------------------------------------- trials

async fn a_presigned_upload_is_sent_as_a_message_operators_and_the_visitor_download(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, conversation) = new_conversation(server, &tenant).await;
    let (bytes, _) = marked_png("happy");
    let confirmed = presigned(server, &tenant, conversation, &bytes, "Here is your receipt").await;
    assert_eq!(confirmed.media.content_type, "image/png");
    assert_eq!(confirmed.media.size, bytes.len() as i64);
    assert_eq!(confirmed.media.filename, "receipt.png");
    assert_eq!(confirmed.media.conversation_id, conversation);
    assert_eq!(confirmed.message.content, "Here is your receipt");
    assert_eq!(confirmed.message.author_id, Some(tenant.id()));
    let [attachment] = confirmed.message.attachments.as_slice() else { panic!("one attachment: {:?}", confirmed.message) };
    assert_eq!(
        (attachment.id, attachment.content_type.as_str(), attachment.size),
        (confirmed.media.upload_id, "image/png", bytes.len() as i64)
    );
    assert_downloads(server, &attachment.url, &bytes, "image/png", "the confirm answer's link").await;

    // Operators read it with the conversation's messages.
    let listed = messages(server, tenant.token(), conversation).await;
    let stored = listed.iter().find(|m| m.id == confirmed.message.id).expect("the message is listed");
    assert_eq!(stored.attachments.len(), 1);
    assert_downloads(server, &stored.attachments[0].url, &bytes, "image/png", "the listed message's link").await;

    // The visitor's widget sees it and downloads it with its own signed link.
    let seen = history(server, &tenant, &session).await;
    let visible = seen.messages.iter().find(|m| m.id == confirmed.message.id).expect("the visitor's history has the message");
    assert_eq!(visible.content, "Here is your receipt");
    assert_eq!(visible.attachments.len(), 1);
    assert_downloads(server, &visible.attachments[0].url, &bytes, "image/png", "the visitor's link").await;

    // GET /v1/chat/media/{id}: signed, expiring links to the same bytes.
    let info: MediaInfo = json_of(get(server, &format!("/v1/chat/media/{}", confirmed.media.id), tenant.token()).await, 200).await;
    assert_eq!((info.id, info.upload_id, info.size), (confirmed.media.id, confirmed.media.upload_id, bytes.len() as i64));
    assert!(info.cdn_url.contains("exp=") && info.cdn_url.contains("&t="), "signed: {}", info.cdn_url);
    assert!(info.expires_at.ends_with('Z') && info.expires_at.as_str() > "2020", "RFC 3339: {}", info.expires_at);
    assert_downloads(server, &info.cdn_url, &bytes, "image/png", "cdn_url").await;
    assert_downloads(server, &info.thumbnail_url, &bytes, "image/png", "thumbnail_url (the original here)").await;
    let tampered = info.cdn_url.replace("&t=", "&t=00");
    assert_eq!(server.get(&tampered).await.status(), 403, "a tampered link");
}

async fn confirming_twice_answers_the_same_message_and_sends_nothing_more(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let first = presigned(server, &tenant, conversation, PNG, "once").await;
    let before = messages(server, tenant.token(), conversation).await.len();
    let again: ConfirmedMedia = json_of(confirm(server, tenant.token(), first.media.id, json!({"content": "twice?"})).await, 201).await;
    assert_eq!(again.message.id, first.message.id, "the same message");
    assert_eq!(again.message.content, "once");
    assert_eq!(again.media.upload_id, first.media.upload_id);
    assert_eq!(messages(server, tenant.token(), conversation).await.len(), before, "no second message");
}

async fn an_upload_url_used_twice_is_refused_and_keeps_the_first_body(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let (first, _) = marked_png("first");
    let (second, second_marker) = marked_png("secnd");
    assert_eq!(first.len(), second.len());
    let url = upload_url_ok(server, tenant.token(), conversation, "a.png", "image/png", first.len()).await;
    assert_eq!(put(server, &url.upload_url, &first).await.status(), 204);
    assert_error(put(server, &url.upload_url, &second).await, 403, "forbidden", "a second PUT").await;
    server.assert_r2_blobs(&second_marker, 0, "the second body is not stored").await;
    let confirmed: ConfirmedMedia = json_of(confirm(server, tenant.token(), url.media_id, json!({})).await, 201).await;
    assert_downloads(server, &confirmed.media.cdn_url, &first, "image/png", "the first body").await;
    assert_error(put(server, &url.upload_url, &second).await, 403, "forbidden", "a PUT after confirm").await;
}

async fn a_put_larger_than_declared_is_413_and_stores_nothing(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let (bytes, marker) = marked_png("large");
    let url = upload_url_ok(server, tenant.token(), conversation, "big.png", "image/png", bytes.len() - 1).await;
    assert_error(put(server, &url.upload_url, &bytes).await, 413, "payload_too_large", "one byte over (Content-Length)").await;
    // Chunked (no Content-Length): refused while it streams in.
    let chunks = futures::stream::iter(bytes.chunks(16).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>());
    let chunked =
        server.http.put(format!("{}{}", server.url, url.upload_url)).body(reqwest::Body::wrap_stream(chunks)).send().await.unwrap();
    assert_error(chunked, 413, "payload_too_large", "one byte over (chunked)").await;
    server.assert_r2_blobs(&marker, 0, "nothing is stored").await;
    assert_error(confirm(server, tenant.token(), url.media_id, json!({})).await, 409, "conflict", "nothing to confirm").await;
    // A refused body does not use the URL up: the right size goes through.
    let fitting = &bytes[..bytes.len() - 1];
    assert_eq!(put(server, &url.upload_url, fitting).await.status(), 204);
    let confirmed: ConfirmedMedia = json_of(confirm(server, tenant.token(), url.media_id, json!({})).await, 201).await;
    assert_downloads(server, &confirmed.media.cdn_url, fitting, "image/png", "the fitting body").await;
}

async fn html_confirmed_as_image_png_is_415_and_removed(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let marker = format!("marker {}", unique("html"));
    let html = format!("<!doctype html><script>alert(1)</script><!-- {marker} -->").into_bytes();
    let before = messages(server, tenant.token(), conversation).await.len();
    let url = upload_url_ok(server, tenant.token(), conversation, "cat.png", "image/png", html.len()).await;
    assert_eq!(put(server, &url.upload_url, &html).await.status(), 204);
    server.assert_r2_blobs(marker.as_bytes(), 1, "the PUT stored the bytes").await;
    assert_error(confirm(server, tenant.token(), url.media_id, json!({})).await, 415, "unsupported_media_type", "HTML as image/png").await;
    server.assert_r2_blobs(marker.as_bytes(), 0, "the object is deleted").await;
    assert_error(get(server, &format!("/v1/chat/media/{}", url.media_id), tenant.token()).await, 404, "not_found", "GET after 415").await;
    assert_error(confirm(server, tenant.token(), url.media_id, json!({})).await, 404, "not_found", "confirm after 415").await;
    assert_error(put(server, &url.upload_url, PNG).await, 403, "forbidden", "the URL of a refused file").await;
    assert_eq!(messages(server, tenant.token(), conversation).await.len(), before, "no message");
}

async fn png_bytes_declared_as_jpeg_are_415(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let url = upload_url_ok(server, tenant.token(), conversation, "photo", "image/jpeg", PNG.len()).await;
    assert_eq!(put(server, &url.upload_url, PNG).await.status(), 204);
    assert_error(confirm(server, tenant.token(), url.media_id, json!({})).await, 415, "unsupported_media_type", "PNG declared JPEG").await;
}

async fn a_bad_or_missing_token_is_403_and_changes_nothing(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let url = upload_url_ok(server, tenant.token(), conversation, "a.png", "image/png", PNG.len()).await;
    let (path, token) = url.upload_url.split_once("?token=").unwrap();
    let mut wrong = token.to_string();
    wrong.replace_range(..1, if token.starts_with('0') { "1" } else { "0" });
    assert_error(put(server, &format!("{path}?token={wrong}"), PNG).await, 403, "forbidden", "a wrong token").await;
    assert_error(put(server, path, PNG).await, 403, "forbidden", "no token").await;
    assert_error(
        put(server, &format!("/v1/chat/media/{}/upload?token={token}", url.media_id + 1_000_000), PNG).await,
        403,
        "forbidden",
        "another id",
    )
    .await;
    assert_eq!(put(server, &url.upload_url, PNG).await.status(), 204, "the URL still works");
}

async fn upload_url_input_is_checked(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let token = tenant.token();
    for name in ["", "../etc/passwd", "a\\b.png", "a\nb.png", &"a".repeat(256)] {
        assert_error(
            upload_url(server, token, conversation, name, "image/png", 10).await,
            422,
            "validation_error",
            &format!("filename {name:?}"),
        )
        .await;
    }
    for declared in ["text/html", "image/svg+xml", "application/octet-stream", ""] {
        assert_error(upload_url(server, token, conversation, "a.png", declared, 10).await, 415, "unsupported_media_type", declared).await;
    }
    assert_error(upload_url(server, token, conversation, "a.png", "image/png", 0).await, 422, "validation_error", "size 0").await;
    assert_error(
        upload_url(server, token, conversation, "a.png", "image/png", MAX_FILE_BYTES + 1).await,
        413,
        "payload_too_large",
        "size over",
    )
    .await;
    assert_eq!(upload_url(server, token, conversation, "a.png", "image/png", MAX_FILE_BYTES).await.status(), 201, "exactly the cap");
    assert_error(upload_url(server, token, 99_999_999, "a.png", "image/png", 10).await, 404, "not_found", "unknown conversation").await;
    assert_error(post(server, "/v1/chat/media/upload-url", token, json!([1])).await, 400, "bad_request", "not an object").await;
}

async fn confirm_before_any_put_is_409(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let url = upload_url_ok(server, tenant.token(), conversation, "a.png", "image/png", PNG.len()).await;
    assert_error(confirm(server, tenant.token(), url.media_id, json!({})).await, 409, "conflict", "nothing uploaded").await;
    assert_error(get(server, &format!("/v1/chat/media/{}", url.media_id), tenant.token()).await, 404, "not_found", "not confirmed").await;
}

async fn another_accounts_media_is_404_on_every_route(server: &'static Server) {
    let (tenant, other) = (signup(server, &AUTH_IPS).await, signup(server, &AUTH_IPS).await);
    let (_, conversation) = new_conversation(server, &tenant).await;
    let confirmed = presigned(server, &tenant, conversation, PNG, "mine").await;
    let pending = upload_url_ok(server, tenant.token(), conversation, "b.png", "image/png", PNG.len()).await;
    assert_eq!(put(server, &pending.upload_url, PNG).await.status(), 204);
    for id in [confirmed.media.id, pending.media_id] {
        assert_error(get(server, &format!("/v1/chat/media/{id}"), other.token()).await, 404, "not_found", "GET another account's media")
            .await;
        assert_error(confirm(server, other.token(), id, json!({})).await, 404, "not_found", "confirm another account's media").await;
    }
    assert_error(
        upload_url(server, other.token(), conversation, "a.png", "image/png", 10).await,
        404,
        "not_found",
        "another account's conversation",
    )
    .await;
    assert_error(
        post_media(server, other.token(), &conversation.to_string(), "a.png", PNG).await,
        404,
        "not_found",
        "multipart into another account's conversation",
    )
    .await;
    // The owner's pending media is untouched: it confirms as theirs.
    let mine: ConfirmedMedia = json_of(confirm(server, tenant.token(), pending.media_id, json!({})).await, 201).await;
    assert_eq!(mine.message.author_id, Some(tenant.id()));
}

async fn an_operator_attaches_a_multipart_file_on_messages_send(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, conversation) = new_conversation(server, &tenant).await;
    let (bytes, _) = marked_png("multi");
    let media: MediaInfo = json_of(post_media(server, tenant.token(), &conversation.to_string(), "shot.png", &bytes).await, 201).await;
    assert_eq!((media.content_type.as_str(), media.size, media.filename.as_str()), ("image/png", bytes.len() as i64, "shot.png"));
    let fetched: MediaInfo = json_of(get(server, &format!("/v1/chat/media/{}", media.id), tenant.token()).await, 200).await;
    assert_eq!(fetched.upload_id, media.upload_id);
    let body = json!({"conversation_id": conversation, "content": "", "attachments": [media.upload_id]});
    let sent: SentMessage = json_of(send_message(server, tenant.token(), body).await, 201).await;
    assert_eq!(sent.message.attachments.len(), 1);
    assert_downloads(server, &sent.message.attachments[0].url, &bytes, "image/png", "the sent attachment").await;
    let seen = history(server, &tenant, &session).await;
    let visible = seen.messages.iter().find(|m| m.id == sent.message.id).expect("the visitor sees the message");
    assert_downloads(server, &visible.attachments[0].url, &bytes, "image/png", "the visitor's link").await;
    // Refusals of the multipart route.
    let html = b"<!doctype html><script>alert(1)</script>";
    assert_error(
        post_media(server, tenant.token(), &conversation.to_string(), "cat.png", html).await,
        415,
        "unsupported_media_type",
        "HTML",
    )
    .await;
    assert_error(post_media(server, tenant.token(), "x", "a.png", PNG).await, 422, "validation_error", "a bad conversation_id").await;
    // Without text and without attachments a message is still refused.
    let empty = json!({"conversation_id": conversation, "content": "", "attachments": []});
    assert_error(send_message(server, tenant.token(), empty).await, 422, "validation_error", "empty").await;
}

async fn operator_send_with_another_accounts_upload_is_404_and_sends_nothing(server: &'static Server) {
    let (tenant, other) = (signup(server, &AUTH_IPS).await, signup(server, &AUTH_IPS).await);
    let (_, conversation) = new_conversation(server, &tenant).await;
    let (_, theirs) = new_conversation(server, &other).await;
    let media: MediaInfo = json_of(post_media(server, tenant.token(), &conversation.to_string(), "a.png", PNG).await, 201).await;
    let before = messages(server, other.token(), theirs).await.len();
    let body = json!({"conversation_id": theirs, "content": "look", "attachments": [media.upload_id]});
    assert_error(send_message(server, other.token(), body).await, 404, "not_found", "another account's upload").await;
    let body = json!({"conversation_id": theirs, "content": "look", "attachments": [99_999_999]});
    assert_error(send_message(server, other.token(), body).await, 404, "not_found", "an unknown upload").await;
    assert_eq!(messages(server, other.token(), theirs).await.len(), before, "nothing sent");
    // The owner still sends it.
    let body = json!({"conversation_id": conversation, "content": "ok", "attachments": [media.upload_id]});
    assert_eq!(send_message(server, tenant.token(), body).await.status(), 201);
}

async fn a_teammates_unsent_upload_is_404_to_another_operator(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let email = format!("{}@example.com", unique("agent"));
    let password = "correct horse battery staple";
    let invite = json!({"email": email, "display_name": "Tess Teammate", "role": "agent", "password": password});
    let _: Value = json_of(post(server, "/v1/users", tenant.token(), invite).await, 201).await;
    let teammate: edgechat_shared::api::auth::TokenResponse =
        json_of(post_public(server, &AUTH_IPS, "/auth/login", &json!({"email": email, "password": password})).await, 200).await;
    // The owner uploads a file and has not sent it yet; upload ids are sequential, so a teammate could guess it.
    let media: MediaInfo = json_of(post_media(server, tenant.token(), &conversation.to_string(), "a.png", PNG).await, 201).await;
    let before = messages(server, tenant.token(), conversation).await.len();
    let body = json!({"conversation_id": conversation, "content": "mine now", "attachments": [media.upload_id]});
    assert_error(send_message(server, &teammate.access_token, body).await, 404, "not_found", "a teammate's upload").await;
    assert_eq!(messages(server, tenant.token(), conversation).await.len(), before, "nothing sent");
    let body = json!({"conversation_id": conversation, "content": "sent by its owner", "attachments": [media.upload_id]});
    assert_eq!(send_message(server, tenant.token(), body).await.status(), 201, "the owner still sends it");
}

async fn an_attached_upload_cannot_be_attached_again(server: &'static Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (_, conversation) = new_conversation(server, &tenant).await;
    let confirmed = presigned(server, &tenant, conversation, PNG, "sent").await;
    let body = json!({"conversation_id": conversation, "content": "again", "attachments": [confirmed.media.upload_id]});
    assert_error(send_message(server, tenant.token(), body).await, 422, "validation_error", "already attached").await;
    let media: MediaInfo = json_of(post_media(server, tenant.token(), &conversation.to_string(), "b.png", PNG).await, 201).await;
    let twice = json!({"conversation_id": conversation, "content": "x", "attachments": [media.upload_id, media.upload_id]});
    assert_error(send_message(server, tenant.token(), twice).await, 422, "validation_error", "listed twice").await;
    let eleven: Vec<i64> = (0..11).map(|_| media.upload_id).collect();
    let body = json!({"conversation_id": conversation, "content": "x", "attachments": eleven});
    assert_error(send_message(server, tenant.token(), body).await, 422, "too_many_items", "over 10").await;
}
