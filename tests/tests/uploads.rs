//! Integration tests of the upload routes and the seed-004 conversation
//! routes (issue 5) over HTTP against a real `wrangler dev`:
//! `POST /api/v1/chat/upload-image`, `/upload-file` (files in R2, allowed by
//! their magic bytes only: the name and the declared type are never
//! trusted), `GET /api/v1/chat/files/{id}` (signed, expiring URLs), files
//! attached to `POST /api/v1/chat/stream` messages; and
//! `POST /api/v1/chat/conversations`, `GET|POST
//! /api/v1/chat/conversations/{visitor_token}/messages`,
//! `GET /api/v1/chat/conversations/{visitor_token}/files/{activity_id}/{id}`;
//! and the R2 objects of a deleted site (`DELETE /v1/sites/{id}`), observed
//! in the server's `--persist-to` directory.
//!
//! Trials run in parallel against one server, so each signs up its own
//! account and site, brings its own visitors, and sends every widget request
//! from its own client address (`192.168.x.y`; `/auth` requests from
//! `192.169.x.y`), so that no two trials share a rate-limit bucket.
//!
//! The sample files are made here, as byte literals: real minimal PNG,
//! JPEG, GIF, WEBP, BMP, PDF and MP4 files, a UTF-8 text file, and
//! polyglots (HTML named `.png`, JavaScript named `.jpg`).

use std::sync::Mutex;
use std::time::Duration;

use edgechat_shared::api::conversations::{Block, ConversationList, ConversationSummary, MessageList, SentMessage, Status};
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::stream::{DoneMeta, StreamEvent, StreamRequest};
use edgechat_shared::api::token_conversations::{CreatedConversation, TokenMessage};
use edgechat_shared::api::uploads::UploadResponse;
use edgechat_shared::api::{ChatMessage, Role};
use edgechat_shared::sse;
use edgechat_tests::*;
use hmac::{Hmac, Mac};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use sha2::Sha256;

/// How long an unsent upload is kept here (`UNATTACHED_UPLOAD_SECONDS`;
/// a day in production): long past any trial's upload and send.
const UNATTACHED_SECONDS: u64 = 30;

fn main() {
    let server = Server::start_with("uploads", &[("UNATTACHED_UPLOAD_SECONDS", &UNATTACHED_SECONDS.to_string())]);
    run_trials(
        server,
        trials![server;
            // POST /api/v1/chat/upload-image: each allowed type, served back byte for byte
            upload_image_accepts_a_png_served_back_as_image_png,
            upload_image_accepts_a_jpeg_served_back_as_image_jpeg,
            upload_image_accepts_a_gif_served_back_as_image_gif,
            upload_image_accepts_a_webp_served_back_as_image_webp,
            // POST /api/v1/chat/upload-file: each allowed type, served back byte for byte
            upload_file_accepts_a_bmp_served_back_as_image_bmp,
            upload_file_accepts_a_pdf_served_back_as_application_pdf,
            upload_file_accepts_an_mp4_served_back_as_video_mp4,
            upload_file_accepts_utf8_text_served_back_as_text_plain,
            upload_file_accepts_the_four_image_types,
            // refusals
            upload_image_refuses_pdf_mp4_text_and_bmp_with_415,
            upload_image_refuses_html_named_png_declared_image_png_with_415,
            upload_image_refuses_javascript_named_jpg_declared_image_jpeg_with_415,
            upload_file_refuses_html_whatever_its_name_and_declared_type_with_415,
            upload_file_refuses_javascript_named_jpg_declared_image_jpeg_with_415,
            upload_file_refuses_javascript_named_js_with_415,
            upload_file_refuses_binary_junk_with_415,
            the_declared_type_is_ignored_the_sniffed_type_is_answered_and_served,
            a_renamed_file_whose_name_claims_another_type_is_415,
            a_file_of_10_mib_and_1_byte_is_413_on_both_routes,
            a_file_of_exactly_10_mib_is_accepted_and_served_whole,
            a_chunked_body_over_the_cap_is_413_before_it_is_read_whole_and_nothing_is_stored,
            a_missing_file_field_is_422_on_both_routes,
            one_address_sending_upload_bodies_past_20_a_minute_is_429_before_any_body_is_read,
            uploads_for_an_unknown_site_key_are_404,
            uploads_with_a_malformed_session_id_are_422,
            uploads_of_a_blocked_visitor_are_403_blocked,
            an_upload_never_sent_is_deleted_by_the_sweep_and_a_sent_one_is_kept,
            // GET /api/v1/chat/files/{id}: headers and signed URLs
            a_served_file_is_inline_with_nosniff_by_default,
            disposition_attachment_serves_the_file_as_a_download,
            a_tampered_signature_is_403,
            the_signature_of_another_upload_is_403,
            an_expired_or_extended_link_is_403,
            an_unknown_id_with_a_wrong_signature_is_403,
            // one identity secret, two purposes: no signature of one kind verifies as the other
            a_file_link_signature_presented_as_a_user_hash_is_401,
            a_user_hash_presented_as_a_file_link_signature_is_403,
            // DELETE /v1/sites/{id}: the site's files leave R2 with it
            deleting_a_site_deletes_its_files_from_r2,
            // attachments on POST /api/v1/chat/stream
            an_attachment_shows_in_history_with_a_url_that_serves_the_file,
            ten_attachments_are_accepted_and_eleven_are_422,
            an_upload_of_another_visitor_or_an_unknown_id_is_422,
            an_upload_can_be_attached_only_once,
            a_retry_of_a_message_with_attachments_replays_it_and_attaches_nothing_more,
            attachment_links_are_signed_when_read_and_survive_a_secret_rotation,
            an_empty_message_with_an_attachment_is_accepted,
            // POST /api/v1/chat/conversations (seed 004)
            creating_a_conversation_answers_201_with_a_token_and_the_auto_reply,
            creating_without_a_required_field_is_422_all_fields_required,
            creating_with_an_invalid_email_is_422_invalid_email_address,
            creating_with_a_message_over_10000_characters_is_422_too_long,
            creating_with_a_malformed_visitor_token_is_422,
            creating_twice_with_one_visitor_token_is_409,
            creating_six_conversations_a_minute_from_one_address_is_429,
            operators_see_the_name_and_email_of_a_created_conversation,
            // GET /api/v1/chat/conversations/{visitor_token}/messages
            messages_list_inbound_and_operator_replies_oldest_first_with_authors,
            ai_answers_are_outbound_and_signed_with_the_site_name,
            messages_since_lists_only_later_messages,
            messages_with_a_malformed_since_is_422,
            messages_of_an_unknown_visitor_token_or_site_is_404,
            // POST /api/v1/chat/conversations/{visitor_token}/messages
            a_reply_answers_201_and_is_listed_as_inbound,
            a_reply_blank_or_over_10000_characters_is_422,
            a_reply_reopens_a_closed_conversation,
            // GET /api/v1/chat/conversations/{visitor_token}/files/{activity_id}/{id}
            a_token_conversation_file_is_served_as_a_download_by_default,
            a_token_conversation_file_with_the_wrong_message_upload_or_visitor_is_404,
        ],
    )
}

// ---------------------------------------------------------------- sample files

/// A real 1x1 PNG (signature, IHDR, IDAT, IEND with valid CRCs), 69 bytes.
const PNG: &[u8] = b"\x89PNG\x0d\x0a\x1a\x0a\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\
    wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xdf\xc0\x00\x00\x04\x01\x01\x80\xc5*\x18]\x00\x00\x00\x00IE\
    ND\xaeB`\x82";

/// A real 1x1 baseline JPEG with a JFIF APP0 segment, 125 bytes.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00C\x00\x03\x02\x02\
    \x02\x02\x02\x03\x02\x02\x02\x03\x03\x03\x03\x04\x06\x04\x04\x04\x04\x04\x08\x06\x06\x05\x06\x09\
    \x08\x0a\x0a\x09\x08\x09\x09\x0a\x0c\x0f\x0c\x0a\x0b\x0e\x0b\x09\x09\x0d\x11\x0d\x0e\x0f\x10\x10\
    \x11\x10\x0a\x0c\x12\x13\x12\x10\x13\x0f\x10\x10\x10\xff\xc9\x00\x0b\x08\x00\x01\x00\x01\x01\x01\
    \x11\x00\xff\xcc\x00\x06\x00\x10\x10\x05\xff\xda\x00\x08\x01\x01\x00\x00?\x00\xd2\xcf \xff\xd9";

/// A real 1x1 GIF89a, 42 bytes.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\
    \x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// A real 1x1 lossy WEBP (`RIFF` size `WEBP` `VP8 `), 42 bytes.
const WEBP: &[u8] = b"RIFF\x22\x00\x00\x00WEBPVP8 \x16\x00\x00\x000\x01\x00\x9d\x01*\x01\x00\x01\x00\x0e\xc0\xfe%\xa4\x00\
    \x03p\x00\x00\x00\x00";

/// A real 1x1 24-bit BMP, 58 bytes.
const BMP: &[u8] = b"BM:\x00\x00\x00\x00\x00\x00\x006\x00\x00\x00(\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\
    \x18\x00\x00\x00\x00\x00\x04\x00\x00\x00\x13\x0b\x00\x00\x13\x0b\x00\x00\x00\x00\x00\x00\x00\x00\
    \x00\x00\x00\x00\xff\x00";

/// A real one-page PDF 1.4 (with a correct xref table), 329 bytes.
const PDF: &[u8] = b"%PDF-1.4\x0a1 0 obj\x0a<< /Type /Catalog /Pages 2 0 R >>\x0aendobj\x0a2 0 obj\x0a<< /Type /Pages\
    \x20/Kids [3 0 R] /Count 1 >>\x0aendobj\x0a3 0 obj\x0a<< /Type /Page /Parent 2 0 R /MediaBox [0 0 2\
    00 200] >>\x0aendobj\x0axref\x0a0 4\x0a0000000000 65535 f \x0a0000000009 00000 n \x0a0000000058 \
    00000 n \x0a0000000115 00000 n \x0atrailer\x0a<< /Size 4 /Root 1 0 R >>\x0astartxref\x0a186\x0a%\
    %EOF\x0a";

/// An MP4 (ISO BMFF): `ftyp` box of brand `isom`, then `free` and `mdat`, 56 bytes.
const MP4: &[u8] = b"\x00\x00\x00 ftypisom\x00\x00\x02\x00isomiso2avc1mp41\x00\x00\x00\x08free\x00\x00\x00\x10mdat\x00\
    \x01\x02\x03\x04\x05\x06\x07";

/// A plain UTF-8 text file (with a non-ASCII character).
const TXT: &[u8] = "Order #1042 arrived with a cracked lid.\nCaf\u{e9} au lait mug, 2 units.\n".as_bytes();

/// An HTML page: the polyglot of the contract, uploaded as `cat.png`.
const HTML: &[u8] = b"<!doctype html><script>alert(1)</script>";

/// A JavaScript file, uploaded as `x.jpg`.
const JS: &[u8] = b"alert(1);";

/// Binary files of no allowed type: an ELF header, a DOS executable header, control bytes.
const JUNK: [&[u8]; 3] = [
    b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00",
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00\x00\x00\x00\x00",
    b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c",
];

/// `MAX_FILE_MB` of the test server (the default, 10) in bytes.
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// A file as the visitor's browser sends it: its name and declared type, never trusted.
#[derive(Clone)]
struct Sample {
    name: &'static str,
    declared: &'static str,
    bytes: Vec<u8>,
}

fn sample(name: &'static str, declared: &'static str, bytes: &[u8]) -> Sample {
    Sample { name, declared, bytes: bytes.to_vec() }
}

/// `header` padded with zero bytes to exactly `len` bytes.
fn padded(header: &[u8], len: usize) -> Vec<u8> {
    let mut bytes = header.to_vec();
    bytes.resize(len, 0);
    bytes
}

// ---------------------------------------------------------------- helpers

const OWNER_NAME: &str = Owner::ACME.name;
const SITE_NAME: &str = Owner::ACME.site;

/// Seed 004's texts.
const AUTO_REPLY: &str = "Thanks for reaching out! We'll get back to you soon.";
const ALL_REQUIRED: &str = "Name, email, message, and visitor_token are required";
const INVALID_EMAIL: &str = "Invalid email address";
const TOO_LONG: &str = "Message is too long (maximum 10000 characters)";
const TOKEN_TAKEN: &str = "A conversation with this visitor token already exists";

/// A fresh seed-004 visitor token (35 letters, digits and `_`).
fn visitor_token() -> String {
    format!("vt_{}", &new_session_id()[5..])
}

/// Asserts a 422 `validation_error` with exactly `message`.
async fn assert_422(response: reqwest::Response, message: &str, what: &str) {
    let body = assert_error(response, 422, "validation_error", what).await;
    assert_eq!(body.message, message, "{what}");
}

// ------------------------------------------------ operator side

/// Client addresses no other `/auth` request uses (`192.169.x.y`).
static AUTH_IPS: IpPool = IpPool::new("192.169");
/// Client addresses no other widget request uses (`192.168.x.y`).
static WIDGET_IPS: IpPool = IpPool::new("192.168");

/// The site's conversations, as its operators list them.
async fn site_conversations(server: &Server, tenant: &Tenant) -> Vec<ConversationSummary> {
    let response = server
        .authed(Method::GET, "/v1/chat/conversations", tenant.token())
        .query(&[("site_id", tenant.site.id.to_string())])
        .send()
        .await
        .unwrap();
    let list: ConversationList = json_of(response, 200).await;
    list.conversations
}

/// The id of the site's conversation whose visitor has `email`.
async fn conversation_of(server: &Server, tenant: &Tenant, email: &str) -> i64 {
    let all = site_conversations(server, tenant).await;
    let found: Vec<i64> =
        all.iter().filter(|c| c.visitor.as_ref().expect("a visitor conversation").email.as_deref() == Some(email)).map(|c| c.id).collect();
    assert_eq!(found.len(), 1, "one conversation of {email} among {all:?}");
    found[0]
}

/// An operator reply through `POST /v1/chat/messages/send`.
async fn operator_reply(server: &Server, tenant: &Tenant, conversation_id: i64, text: &str) -> SentMessage {
    let body = json!({"conversation_id": conversation_id, "content": text});
    let response = server.authed(Method::POST, "/v1/chat/messages/send", tenant.token()).json(&body).send().await.unwrap();
    json_of(response, 201).await
}

async fn operator_messages(server: &Server, tenant: &Tenant, conversation_id: i64) -> Vec<ChatMessage> {
    let path = format!("/v1/chat/conversations/{conversation_id}/messages");
    let response = server.authed(Method::GET, &path, tenant.token()).query(&[("limit", "100")]).send().await.unwrap();
    let list: MessageList = json_of(response, 200).await;
    list.messages
}

async fn close(server: &Server, tenant: &Tenant, conversation_id: i64) -> ConversationSummary {
    let path = format!("/v1/chat/conversations/{conversation_id}/close");
    let response = server.authed(Method::POST, &path, tenant.token()).json(&json!({})).send().await.unwrap();
    json_of(response, 200).await
}

/// Blocks the visitor of `conversation_id` as the site's owner.
async fn block_visitor_of(server: &Server, tenant: &Tenant, conversation_id: i64) {
    let visitor = summary(server, tenant.token(), conversation_id).await.visitor.expect("a visitor conversation");
    let path = format!("/v1/chat/users/{}/block", visitor.id);
    let response = server.authed(Method::POST, &path, tenant.token()).json(&json!({"reason": "spam"})).send().await.unwrap();
    let _: Block = json_of(response, 200).await;
}

// ------------------------------------------------ visitor side

/// A request to `path` (which may carry a query) from a client address no other request uses.
fn widget(server: &Server, method: Method, path: &str) -> RequestBuilder {
    server.http.request(method, format!("{}{path}", server.url)).header("CF-Connecting-IP", WIDGET_IPS.next())
}

/// One part of a `multipart/form-data` body.
enum Part<'a> {
    Text(&'a str, &'a str),
    File { field: &'a str, file: &'a Sample },
}

/// A `multipart/form-data` body (RFC 7578): its `Content-Type` and bytes.
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("----edgechat-test-{}", &new_session_id()[5..]);
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match part {
            Part::Text(name, value) => {
                body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
            }
            Part::File { field, file } => {
                let head = format!(
                    "Content-Disposition: form-data; name=\"{field}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                    file.name, file.declared
                );
                body.extend_from_slice(head.as_bytes());
                body.extend_from_slice(&file.bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The two upload routes.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// `POST /api/v1/chat/upload-image`, file field `image`.
    Image,
    /// `POST /api/v1/chat/upload-file`, file field `file`.
    File,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Route::Image => "/api/v1/chat/upload-image",
            Route::File => "/api/v1/chat/upload-file",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Route::Image => "image",
            Route::File => "file",
        }
    }
}

async fn post_multipart(server: &Server, route: Route, parts: &[Part<'_>]) -> reqwest::Response {
    let (content_type, body) = multipart(parts);
    widget(server, Method::POST, route.path())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} reaches the server: {e}", route.path()))
}

/// Uploads `file` through `route` in its file field.
async fn upload(server: &Server, route: Route, site_key: &str, session_id: &str, file: &Sample) -> reqwest::Response {
    let parts = [Part::Text("site_key", site_key), Part::Text("session_id", session_id), Part::File { field: route.field(), file }];
    post_multipart(server, route, &parts).await
}

/// Uploads `file`; asserts 200 with the answer's shape, `content_type` sniffed, and a signed URL.
async fn upload_ok(server: &Server, route: Route, site_key: &str, session_id: &str, file: &Sample, content_type: &str) -> UploadResponse {
    let what = format!("{} ({}, declared {}) to {route:?}", file.name, file.bytes.len(), file.declared);
    let response = upload(server, route, site_key, session_id, file).await;
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    assert_eq!(status, 200, "{what}: {body}");
    let raw: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"));
    let answer: UploadResponse =
        serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{what}: not an upload answer ({e}): {body}"));
    assert_eq!(raw["success"], json!(true), "{what}: {body}");
    assert_eq!(answer.content_type, content_type, "{what}: the sniffed type");
    assert_eq!(answer.size, file.bytes.len() as i64, "{what}: size");
    assert_eq!(answer.name, file.name, "{what}: name");
    let link = SignedUrl::parse(&answer.url);
    assert_eq!(link.id, answer.id, "{what}: the URL serves this upload: {}", answer.url);
    assert!(link.exp > now(), "{what}: the URL expires in the future: {}", answer.url);
    answer
}

/// `GET {url}` where `url` is relative to the server, as upload answers give it.
async fn fetch(server: &Server, url: &str) -> reqwest::Response {
    assert!(url.starts_with('/'), "a URL relative to the worker: {url}");
    widget(server, Method::GET, url).send().await.unwrap_or_else(|e| panic!("GET {url} reaches the server: {e}"))
}

/// Asserts a served file: 200, the exact bytes, the sniffed `Content-Type`,
/// `nosniff`, and `Content-Disposition: <disposition>; filename="<filename>"`.
async fn assert_served(response: reqwest::Response, bytes: &[u8], content_type: &str, disposition: &str, filename: &str, what: &str) {
    let status = response.status().as_u16();
    let served_type = header(&response, "content-type");
    let nosniff = header(&response, "x-content-type-options");
    let served_disposition = header(&response, "content-disposition");
    let body = response.bytes().await.expect("the file reads to its end");
    assert_eq!(status, 200, "{what}: {}", String::from_utf8_lossy(&body[..body.len().min(500)]));
    assert_eq!(served_type.as_deref(), Some(content_type), "{what}: Content-Type");
    assert!(nosniff.as_deref().is_some_and(|v| v.eq_ignore_ascii_case("nosniff")), "{what}: X-Content-Type-Options is {nosniff:?}");
    let served_disposition = served_disposition.unwrap_or_else(|| panic!("{what}: no Content-Disposition"));
    let kind = served_disposition.split(';').next().unwrap_or("").trim();
    assert!(kind.eq_ignore_ascii_case(disposition), "{what}: Content-Disposition {served_disposition:?} should be {disposition}");
    assert!(
        served_disposition.contains(&format!("filename=\"{filename}\"")),
        "{what}: Content-Disposition {served_disposition:?} names {filename}"
    );
    assert_eq!(body.len(), bytes.len(), "{what}: served size");
    assert!(body.as_ref() == bytes, "{what}: the served bytes are not the uploaded ones");
}

/// A signed file URL: `/api/v1/chat/files/<id>?exp=<unix>&t=<hex>`.
#[derive(Debug, Clone)]
struct SignedUrl {
    id: i64,
    exp: i64,
    t: String,
}

impl SignedUrl {
    fn parse(url: &str) -> SignedUrl {
        let rest = url.strip_prefix("/api/v1/chat/files/").unwrap_or_else(|| panic!("a file URL: {url}"));
        let (id, query) = rest.split_once('?').unwrap_or_else(|| panic!("a signed URL has a query: {url}"));
        let id = id.parse().unwrap_or_else(|_| panic!("the upload id in {url}"));
        let value = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in {url}"))
                .to_string()
        };
        let exp = value("exp").parse().unwrap_or_else(|_| panic!("a Unix time exp in {url}"));
        let t = value("t");
        assert!(!t.is_empty() && t.chars().all(|c| c.is_ascii_hexdigit()), "t is hex in {url}");
        SignedUrl { id, exp, t }
    }

    fn url(&self) -> String {
        format!("/api/v1/chat/files/{}?exp={}&t={}", self.id, self.exp, self.t)
    }
}

/// `t` as `edgechat_shared::api::uploads::FileQuery` documents it: hex
/// `HMAC-SHA256(key, "<id>:<exp>")`, `key` the 32 bytes of HKDF-SHA256
/// (RFC 5869) with salt `"edgechat site-secret v1"`, the site secret as
/// input and info `"edgechat file-link v1"`.
fn documented_signature(secret: &str, id: i64, exp: i64) -> String {
    let mut key = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(b"edgechat site-secret v1"), secret.as_bytes())
        .expand(b"edgechat file-link v1", &mut key)
        .expect("32 bytes of HKDF-SHA256");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}:{exp}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `t` with its last hex digit changed.
fn flipped(t: &str) -> String {
    let (head, last) = t.split_at(t.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

async fn assert_forbidden(server: &Server, url: &str, what: &str) {
    assert_error(fetch(server, url).await, 403, "forbidden", &format!("{what}: {url}")).await;
}

fn message_request(site_key: &str, session_id: &str, text: &str, attachments: &[i64]) -> StreamRequest {
    StreamRequest {
        site_key: site_key.into(),
        session_id: session_id.into(),
        message: text.into(),
        lang: Some("en".into()),
        message_id: Some(new_message_id()),
        attachments: attachments.to_vec(),
        page_url: None,
    }
}

/// `POST /api/v1/chat/stream` with `attachments`, not read as SSE.
async fn send(server: &Server, site_key: &str, session_id: &str, text: &str, attachments: &[i64]) -> reqwest::Response {
    widget(server, Method::POST, "/api/v1/chat/stream")
        .json(&message_request(site_key, session_id, text, attachments))
        .send()
        .await
        .expect("POST /api/v1/chat/stream reaches the server")
}

/// A message that was sent and answered.
struct Sent {
    meta: DoneMeta,
    answer: String,
}

/// Sends a message with `attachments`; asserts 200 and a stream that ends with `done`.
async fn send_ok(server: &Server, site_key: &str, session_id: &str, text: &str, attachments: &[i64]) -> Sent {
    stream_ok(server, &message_request(site_key, session_id, text, attachments)).await
}

/// Sends `request`; asserts 200 and a stream that ends with `done`.
async fn stream_ok(server: &Server, request: &StreamRequest) -> Sent {
    let (text, attachments) = (&request.message, &request.attachments);
    let response = widget(server, Method::POST, "/api/v1/chat/stream").json(request).send().await.expect("POST /stream reaches the server");
    let status = response.status().as_u16();
    let body = response.text().await.expect("the stream reads to its end");
    assert_eq!(status, 200, "message {text:?} with attachments {attachments:?}: {body}");
    let mut parser = sse::Parser::new();
    let events: Vec<StreamEvent> = parser
        .push(body.as_bytes())
        .into_iter()
        .map(|frame| serde_json::from_str(&frame.data).unwrap_or_else(|e| panic!("SSE data is not a stream event ({e}): {}", frame.data)))
        .collect();
    let answer = events.iter().filter_map(|e| if let StreamEvent::Chunk { content } = e { Some(content.as_str()) } else { None }).collect();
    match events.last() {
        Some(StreamEvent::Done { meta }) => Sent { meta: meta.clone(), answer },
        other => panic!("message {text:?} with attachments {attachments:?}: the stream must end with done, ended with {other:?}"),
    }
}

async fn history(server: &Server, site_key: &str, session_id: &str) -> HistoryResponse {
    let response = widget(server, Method::GET, "/api/v1/chat/history")
        .query(&[("site_key", site_key), ("session_id", session_id)])
        .send()
        .await
        .unwrap();
    json_of(response, 200).await
}

fn stored(history: &HistoryResponse, message_id: i64) -> &ChatMessage {
    history.messages.iter().find(|m| m.id == message_id).unwrap_or_else(|| panic!("message {message_id} in {:?}", history.messages))
}

fn visitor_messages(history: &HistoryResponse) -> Vec<&ChatMessage> {
    history.messages.iter().filter(|m| m.role == Role::Visitor).collect()
}

/// A visitor of `site_key` says hello: answers its session and conversation id.
async fn new_conversation(server: &Server, site_key: &str) -> (String, i64) {
    let session = new_session_id();
    let sent = send_ok(server, site_key, &session, "Hello, can someone look at my order?", &[]).await;
    (session, sent.meta.conversation_id)
}

// ------------------------------------------------ seed-004 routes

fn create_body(name: &str, email: &str, message: &str, token: &str) -> Value {
    json!({"name": name, "email": email, "message": message, "visitor_token": token})
}

/// `POST /api/v1/chat/conversations?site_key=` with `body`, from a fresh address.
async fn create(server: &Server, site_key: &str, body: &Value) -> reqwest::Response {
    create_from(server, site_key, body, &WIDGET_IPS.next()).send().await.expect("POST /api/v1/chat/conversations reaches the server")
}

fn create_from(server: &Server, site_key: &str, body: &Value, ip: &str) -> RequestBuilder {
    server
        .http
        .post(format!("{}/api/v1/chat/conversations", server.url))
        .header("CF-Connecting-IP", ip)
        .query(&[("site_key", site_key)])
        .json(body)
}

/// Creates a conversation; asserts 201 with a hex token and the automatic reply.
async fn create_ok(server: &Server, site_key: &str, name: &str, email: &str, message: &str, token: &str) -> CreatedConversation {
    let created: CreatedConversation = json_of(create(server, site_key, &create_body(name, email, message, token)).await, 201).await;
    assert_eq!(created.auto_reply, AUTO_REPLY);
    let hex = &created.conversation_token;
    assert!(!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()), "conversation_token is hex: {hex:?}");
    created
}

fn messages_path(token: &str) -> String {
    format!("/api/v1/chat/conversations/{token}/messages")
}

async fn seed_messages(server: &Server, site_key: &str, token: &str, since: Option<&str>) -> reqwest::Response {
    let mut query = vec![("site_key", site_key)];
    if let Some(since) = since {
        query.push(("since", since));
    }
    widget(server, Method::GET, &messages_path(token)).query(&query).send().await.unwrap()
}

/// The visitor's messages in seed 004's shape; asserts each direction is `inbound` or `outbound`.
async fn seed_messages_ok(server: &Server, site_key: &str, token: &str, since: Option<&str>) -> Vec<TokenMessage> {
    let messages: Vec<TokenMessage> = json_of(seed_messages(server, site_key, token, since).await, 200).await;
    for m in &messages {
        assert!(m.direction == "inbound" || m.direction == "outbound", "direction of {m:?}");
        assert!(!m.timestamp.is_empty(), "timestamp of {m:?}");
    }
    messages
}

async fn reply(server: &Server, site_key: &str, token: &str, body: &Value) -> reqwest::Response {
    widget(server, Method::POST, &messages_path(token)).query(&[("site_key", site_key)]).json(body).send().await.unwrap()
}

async fn reply_ok(server: &Server, site_key: &str, token: &str, text: &str) {
    let answer: Value = json_of(reply(server, site_key, token, &json!({"message": text})).await, 201).await;
    assert_eq!(answer["status"], json!("ok"), "{answer}");
}

async fn seed_file(
    server: &Server,
    site_key: &str,
    token: &str,
    activity_id: i64,
    upload_id: i64,
    disposition: Option<&str>,
) -> reqwest::Response {
    let path = format!("/api/v1/chat/conversations/{token}/files/{activity_id}/{upload_id}");
    let mut query = vec![("site_key", site_key)];
    if let Some(disposition) = disposition {
        query.push(("disposition", disposition));
    }
    widget(server, Method::GET, &path).query(&query).send().await.unwrap()
}

// ------------------------------------------------ rate-limit bursts

// ---------------------------------------------------------------- allowed types

/// A fresh visitor uploads `file` through `route`; asserts it is accepted as
/// `content_type` and served back inline, byte for byte.
async fn assert_accepted(server: &Server, route: Route, file: Sample, content_type: &str) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let uploaded = upload_ok(server, route, tenant.site_key(), &session, &file, content_type).await;
    let what = format!("{} from {route:?}", file.name);
    assert_served(fetch(server, &uploaded.url).await, &file.bytes, content_type, "inline", file.name, &what).await;
}

/// Uploads no message holds are deleted by the bus sweep once they are
/// older than a day (here [`UNATTACHED_SECONDS`]): a file uploaded through
/// the public API and never sent stops being served; one sent is kept.
async fn an_upload_never_sent_is_deleted_by_the_sweep_and_a_sent_one_is_kept(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    let kept = upload_ok(server, Route::Image, key, &session, &sample("kept.png", "image/png", PNG), "image/png").await;
    send_ok(server, key, &session, "Here is my screenshot", &[kept.id]).await;
    let unsent = upload_ok(server, Route::Image, key, &session, &sample("unsent.png", "image/png", PNG), "image/png").await;
    assert_eq!(fetch(server, &unsent.url).await.status().as_u16(), 200, "served while young");
    // The sweep runs after each batch of the event bus: each new
    // conversation below makes events. The wait is for the file to age.
    let deadline = std::time::Instant::now() + Duration::from_secs(UNATTACHED_SECONDS * 4);
    while fetch(server, &unsent.url).await.status().as_u16() == 200 {
        assert!(std::time::Instant::now() < deadline, "the unsent upload is still served");
        tokio::time::sleep(Duration::from_secs(3)).await;
        new_conversation(server, key).await;
    }
    assert_forbidden(server, &unsent.url, "the swept upload's link").await;
    assert_eq!(fetch(server, &kept.url).await.status().as_u16(), 200, "the sent upload is kept");
}

async fn upload_image_accepts_a_png_served_back_as_image_png(server: &Server) {
    assert_accepted(server, Route::Image, sample("cat.png", "image/png", PNG), "image/png").await;
}

async fn upload_image_accepts_a_jpeg_served_back_as_image_jpeg(server: &Server) {
    assert_accepted(server, Route::Image, sample("holiday.jpg", "image/jpeg", JPEG), "image/jpeg").await;
}

async fn upload_image_accepts_a_gif_served_back_as_image_gif(server: &Server) {
    assert_accepted(server, Route::Image, sample("wave.gif", "image/gif", GIF), "image/gif").await;
}

async fn upload_image_accepts_a_webp_served_back_as_image_webp(server: &Server) {
    assert_accepted(server, Route::Image, sample("shot.webp", "image/webp", WEBP), "image/webp").await;
}

async fn upload_file_accepts_a_bmp_served_back_as_image_bmp(server: &Server) {
    assert_accepted(server, Route::File, sample("scan.bmp", "image/bmp", BMP), "image/bmp").await;
}

async fn upload_file_accepts_a_pdf_served_back_as_application_pdf(server: &Server) {
    assert_accepted(server, Route::File, sample("invoice.pdf", "application/pdf", PDF), "application/pdf").await;
}

async fn upload_file_accepts_an_mp4_served_back_as_video_mp4(server: &Server) {
    assert_accepted(server, Route::File, sample("unboxing.mp4", "video/mp4", MP4), "video/mp4").await;
}

async fn upload_file_accepts_utf8_text_served_back_as_text_plain(server: &Server) {
    assert_accepted(server, Route::File, sample("notes.txt", "text/plain", TXT), "text/plain; charset=utf-8").await;
}

async fn upload_file_accepts_the_four_image_types(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let files = [
        (sample("a.png", "image/png", PNG), "image/png"),
        (sample("b.jpg", "image/jpeg", JPEG), "image/jpeg"),
        (sample("c.gif", "image/gif", GIF), "image/gif"),
        (sample("d.webp", "image/webp", WEBP), "image/webp"),
    ];
    for (file, content_type) in files {
        let uploaded = upload_ok(server, Route::File, tenant.site_key(), &session, &file, content_type).await;
        assert_served(fetch(server, &uploaded.url).await, &file.bytes, content_type, "inline", file.name, file.name).await;
    }
}

// ---------------------------------------------------------------- refusals

async fn assert_unsupported(server: &Server, route: Route, site_key: &str, session_id: &str, file: &Sample) {
    let what = format!("{} declared {} ({} bytes) to {route:?}", file.name, file.declared, file.bytes.len());
    assert_error(upload(server, route, site_key, session_id, file).await, 415, "unsupported_media_type", &what).await;
}

async fn upload_image_refuses_pdf_mp4_text_and_bmp_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let files = [
        sample("invoice.pdf", "application/pdf", PDF),
        sample("unboxing.mp4", "video/mp4", MP4),
        sample("notes.txt", "text/plain", TXT),
        sample("scan.bmp", "image/bmp", BMP),
        // Named and declared as an allowed image: still refused.
        sample("invoice.png", "image/png", PDF),
        sample("unboxing.jpg", "image/jpeg", MP4),
        sample("notes.gif", "image/gif", TXT),
        sample("scan.webp", "image/webp", BMP),
    ];
    for file in &files {
        assert_unsupported(server, Route::Image, tenant.site_key(), &session, file).await;
    }
    // The same visitor's real image is accepted.
    upload_ok(server, Route::Image, tenant.site_key(), &session, &sample("cat.png", "image/png", PNG), "image/png").await;
}

async fn upload_image_refuses_html_named_png_declared_image_png_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    assert_unsupported(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("cat.png", "image/png", HTML)).await;
}

async fn upload_image_refuses_javascript_named_jpg_declared_image_jpeg_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    assert_unsupported(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("x.jpg", "image/jpeg", JS)).await;
}

async fn upload_file_refuses_html_whatever_its_name_and_declared_type_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    for file in [
        sample("cat.png", "image/png", HTML),
        sample("notes.txt", "text/plain", HTML),
        sample("page.html", "text/html", HTML),
        sample("upper.png", "image/png", b"<!DOCTYPE HTML><html><body onload=alert(1)></body></html>"),
        sample("svg.pdf", "application/pdf", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"),
    ] {
        assert_unsupported(server, Route::File, tenant.site_key(), &session, &file).await;
    }
}

async fn upload_file_refuses_javascript_named_jpg_declared_image_jpeg_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    assert_unsupported(server, Route::File, tenant.site_key(), &new_session_id(), &sample("x.jpg", "image/jpeg", JS)).await;
}

async fn upload_file_refuses_javascript_named_js_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    for file in [
        sample("app.js", "text/javascript", JS),
        sample("widget.mjs", "application/javascript", b"export default () => fetch('/steal?c=' + document.cookie);\n"),
    ] {
        assert_unsupported(server, Route::File, tenant.site_key(), &session, &file).await;
    }
}

async fn upload_file_refuses_binary_junk_with_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    for (n, junk) in JUNK.iter().enumerate() {
        let name = ["report.pdf", "photo.png", "notes.txt"][n];
        let declared = ["application/pdf", "image/png", "text/plain"][n];
        assert_unsupported(server, Route::File, tenant.site_key(), &session, &sample(name, declared, junk)).await;
    }
}

async fn the_declared_type_is_ignored_the_sniffed_type_is_answered_and_served(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let cases = [
        (Route::Image, sample("cat.png", "image/jpeg", PNG), "image/png"),
        (Route::Image, sample("photo.jpg", "application/octet-stream", JPEG), "image/jpeg"),
        (Route::File, sample("invoice.pdf", "image/png", PDF), "application/pdf"),
        (Route::File, sample("wave.gif", "text/plain", GIF), "image/gif"),
        (Route::File, sample("clip.mp4", "application/pdf", MP4), "video/mp4"),
        (Route::File, sample("notes.txt", "text/html", TXT), "text/plain; charset=utf-8"),
    ];
    for (route, file, content_type) in cases {
        let uploaded = upload_ok(server, route, tenant.site_key(), &session, &file, content_type).await;
        let what = format!("{} declared {}", file.name, file.declared);
        assert_served(fetch(server, &uploaded.url).await, &file.bytes, content_type, "inline", file.name, &what).await;
    }
}

async fn a_renamed_file_whose_name_claims_another_type_is_415(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let cases = [
        (Route::Image, sample("photo.jpg", "image/jpeg", PNG)),
        (Route::Image, sample("cat.png", "image/png", GIF)),
        (Route::File, sample("scan.png", "image/png", PDF)),
        (Route::File, sample("notes.txt", "text/plain", GIF)),
        (Route::File, sample("clip.pdf", "application/pdf", MP4)),
        (Route::File, sample("invoice.pdf", "application/pdf", TXT)),
    ];
    for (route, file) in &cases {
        assert_unsupported(server, *route, tenant.site_key(), &session, file).await;
    }
}

async fn a_file_of_10_mib_and_1_byte_is_413_on_both_routes(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let image = Sample { name: "huge.png", declared: "image/png", bytes: padded(PNG, MAX_FILE_BYTES + 1) };
    let what = format!("{} bytes to upload-image", image.bytes.len());
    assert_error(upload(server, Route::Image, tenant.site_key(), &session, &image).await, 413, "payload_too_large", &what).await;
    let file = Sample { name: "huge.pdf", declared: "application/pdf", bytes: padded(PDF, MAX_FILE_BYTES + 1) };
    let what = format!("{} bytes to upload-file", file.bytes.len());
    assert_error(upload(server, Route::File, tenant.site_key(), &session, &file).await, 413, "payload_too_large", &what).await;
}

async fn a_file_of_exactly_10_mib_is_accepted_and_served_whole(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let image = Sample { name: "big.png", declared: "image/png", bytes: padded(PNG, MAX_FILE_BYTES) };
    let uploaded = upload_ok(server, Route::Image, tenant.site_key(), &session, &image, "image/png").await;
    assert_served(fetch(server, &uploaded.url).await, &image.bytes, "image/png", "inline", "big.png", "a 10 MiB image").await;
}

async fn a_missing_file_field_is_422_on_both_routes(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let key = tenant.site_key();
    let png = sample("cat.png", "image/png", PNG);
    let pdf = sample("invoice.pdf", "application/pdf", PDF);
    let cases: [(Route, Vec<Part<'_>>, &str); 4] = [
        (Route::Image, vec![Part::Text("site_key", key), Part::Text("session_id", &session)], "upload-image without a file"),
        (Route::File, vec![Part::Text("site_key", key), Part::Text("session_id", &session)], "upload-file without a file"),
        (
            Route::Image,
            vec![Part::Text("site_key", key), Part::Text("session_id", &session), Part::File { field: "file", file: &png }],
            "upload-image with the image in a field named file",
        ),
        (
            Route::File,
            vec![Part::Text("site_key", key), Part::Text("session_id", &session), Part::File { field: "image", file: &pdf }],
            "upload-file with the file in a field named image",
        ),
    ];
    for (route, parts, what) in &cases {
        assert_error(post_multipart(server, *route, parts).await, 422, "validation_error", what).await;
    }
}

async fn one_address_sending_upload_bodies_past_20_a_minute_is_429_before_any_body_is_read(server: &Server) {
    // Bodies that name no site: each is read (422) until the address is over
    // its count, then refused before the body is read, whatever it names.
    // Counts are per clock minute: `burst` keeps the 21 bodies in one.
    let png = sample("p.png", "image/png", PNG);
    let (content_type, body) = multipart(&[Part::File { field: "image", file: &png }]);
    let post = |ip: &str| {
        server
            .http
            .post(format!("{}{}", server.url, Route::Image.path()))
            .header("CF-Connecting-IP", ip)
            .header("content-type", &content_type)
            .body(body.clone())
    };
    let (_, over) = burst(&WIDGET_IPS, 20, &[(20, 422, &post)], &post).await;
    assert_rate_limited(over, "the 21st upload body of the minute").await;
}

async fn uploads_for_an_unknown_site_key_are_404(server: &Server) {
    let session = new_session_id();
    let png = sample("cat.png", "image/png", PNG);
    for route in [Route::Image, Route::File] {
        let what = format!("{route:?} to an unknown site");
        assert_error(upload(server, route, "sk_nobody_has_this_key", &session, &png).await, 404, "not_found", &what).await;
    }
}

async fn uploads_with_a_malformed_session_id_are_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let png = sample("cat.png", "image/png", PNG);
    for session in ["x", "sess_0123456789abcdef<script>", ""] {
        for route in [Route::Image, Route::File] {
            let what = format!("{route:?} with session_id {session:?}");
            assert_error(upload(server, route, tenant.site_key(), session, &png).await, 422, "validation_error", &what).await;
        }
    }
}

async fn uploads_of_a_blocked_visitor_are_403_blocked(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, id) = new_conversation(server, key).await;
    let png = sample("cat.png", "image/png", PNG);
    upload_ok(server, Route::Image, key, &session, &png, "image/png").await;
    block_visitor_of(server, &tenant, id).await;
    for route in [Route::Image, Route::File] {
        assert_error(upload(server, route, key, &session, &png).await, 403, "blocked", &format!("{route:?} of a blocked visitor")).await;
    }
    let bystander = new_session_id();
    upload_ok(server, Route::Image, key, &bystander, &png, "image/png").await;
}

// ---------------------------------------------------------------- served files and signed URLs

async fn a_served_file_is_inline_with_nosniff_by_default(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let gif = sample("smile.gif", "image/gif", GIF);
    let uploaded = upload_ok(server, Route::Image, tenant.site_key(), &new_session_id(), &gif, "image/gif").await;
    assert_served(fetch(server, &uploaded.url).await, GIF, "image/gif", "inline", "smile.gif", "by default").await;
    let inline = format!("{}&disposition=inline", uploaded.url);
    assert_served(fetch(server, &inline).await, GIF, "image/gif", "inline", "smile.gif", "disposition=inline").await;
}

async fn disposition_attachment_serves_the_file_as_a_download(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let pdf = sample("invoice.pdf", "application/pdf", PDF);
    let uploaded = upload_ok(server, Route::File, tenant.site_key(), &new_session_id(), &pdf, "application/pdf").await;
    let download = format!("{}&disposition=attachment", uploaded.url);
    assert_served(fetch(server, &download).await, PDF, "application/pdf", "attachment", "invoice.pdf", "disposition=attachment").await;
}

async fn a_tampered_signature_is_403(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let uploaded =
        upload_ok(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("cat.png", "image/png", PNG), "image/png").await;
    let link = SignedUrl::parse(&uploaded.url);
    assert_served(fetch(server, &link.url()).await, PNG, "image/png", "inline", "cat.png", "the genuine link").await;
    let mut tampered = link.clone();
    tampered.t = flipped(&link.t);
    assert_forbidden(server, &tampered.url(), "a changed last digit").await;
    tampered.t = link.t[..link.t.len() - 2].to_string();
    assert_forbidden(server, &tampered.url(), "a truncated signature").await;
    tampered.t = "0".repeat(link.t.len());
    assert_forbidden(server, &tampered.url(), "a zero signature").await;
}

async fn the_signature_of_another_upload_is_403(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let first = upload_ok(server, Route::Image, tenant.site_key(), &session, &sample("a.png", "image/png", PNG), "image/png").await;
    let second = upload_ok(server, Route::Image, tenant.site_key(), &session, &sample("b.gif", "image/gif", GIF), "image/gif").await;
    let (a, b) = (SignedUrl::parse(&first.url), SignedUrl::parse(&second.url));
    assert_ne!(a.id, b.id);
    assert_served(fetch(server, &a.url()).await, PNG, "image/png", "inline", "a.png", "the first genuine link").await;
    assert_served(fetch(server, &b.url()).await, GIF, "image/gif", "inline", "b.gif", "the second genuine link").await;
    assert_forbidden(server, &SignedUrl { id: b.id, ..a.clone() }.url(), "the second id with the first's exp and t").await;
    assert_forbidden(server, &SignedUrl { id: a.id, ..b.clone() }.url(), "the first id with the second's exp and t").await;
}

async fn an_expired_or_extended_link_is_403(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let uploaded =
        upload_ok(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("cat.png", "image/png", PNG), "image/png").await;
    let link = SignedUrl::parse(&uploaded.url);
    assert_forbidden(server, &SignedUrl { exp: now() - 3600, ..link.clone() }.url(), "exp an hour ago with the genuine t").await;
    assert_forbidden(server, &SignedUrl { exp: link.exp + 3600, ..link.clone() }.url(), "exp extended with the genuine t").await;
    // A link signed for a time already past, minted with the documented scheme.
    let secret = tenant.site.identity_secret.clone().unwrap_or_default();
    assert_eq!(documented_signature(&secret, link.id, link.exp), link.t, "links are signed as FileQuery documents");
    let minted = |exp: i64| SignedUrl { id: link.id, exp, t: documented_signature(&secret, link.id, exp) };
    assert_served(fetch(server, &minted(now() + 600).url()).await, PNG, "image/png", "inline", "cat.png", "a link minted for later").await;
    assert_forbidden(server, &minted(now() - 60).url(), "a correctly signed link that expired a minute ago").await;
    assert_forbidden(server, &minted(now() - 30 * 24 * 3600).url(), "a correctly signed link that expired a month ago").await;
}

async fn an_unknown_id_with_a_wrong_signature_is_403(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let uploaded =
        upload_ok(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("cat.png", "image/png", PNG), "image/png").await;
    let link = SignedUrl::parse(&uploaded.url);
    let unknown = link.id + 1_000_000;
    assert_forbidden(server, &SignedUrl { id: unknown, ..link.clone() }.url(), "an unknown id with another file's t").await;
    let t = "ab".repeat(link.t.len() / 2);
    assert_forbidden(server, &SignedUrl { id: unknown, exp: now() + 3600, t }.url(), "an unknown id with a made-up t").await;
}

// ---------------------------------------------------------------- attachments

async fn an_attachment_shows_in_history_with_a_url_that_serves_the_file(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    let png = sample("broken-lid.png", "image/png", PNG);
    let pdf = sample("receipt.pdf", "application/pdf", PDF);
    let image = upload_ok(server, Route::Image, key, &session, &png, "image/png").await;
    let file = upload_ok(server, Route::File, key, &session, &pdf, "application/pdf").await;
    let sent = send_ok(server, key, &session, "The lid arrived broken, photo and receipt attached.", &[image.id, file.id]).await;

    let seen = history(server, key, &session).await;
    let message = stored(&seen, sent.meta.message_id);
    assert_eq!((message.role, message.content.as_str()), (Role::Visitor, "The lid arrived broken, photo and receipt attached."));
    let mut attachments = message.attachments.clone();
    attachments.sort_by_key(|a| a.id);
    let mut expected = [(&image, &png), (&file, &pdf)];
    expected.sort_by_key(|(u, _)| u.id);
    assert_eq!(attachments.len(), 2, "{attachments:?}");
    for (attachment, (uploaded, sample)) in attachments.iter().zip(expected) {
        let shown = (attachment.id, attachment.name.as_str(), attachment.content_type.as_str(), attachment.size);
        assert_eq!(shown, (uploaded.id, uploaded.name.as_str(), uploaded.content_type.as_str(), uploaded.size));
        let what = format!("history attachment {}", attachment.name);
        assert_served(fetch(server, &attachment.url).await, &sample.bytes, &uploaded.content_type, "inline", sample.name, &what).await;
    }
    let others: Vec<&ChatMessage> = seen.messages.iter().filter(|m| m.id != message.id && !m.attachments.is_empty()).collect();
    assert!(others.is_empty(), "only the visitor's message has attachments: {others:?}");
}

async fn ten_attachments_are_accepted_and_eleven_are_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    let names = ["g01.gif", "g02.gif", "g03.gif", "g04.gif", "g05.gif", "g06.gif", "g07.gif", "g08.gif", "g09.gif", "g10.gif", "g11.gif"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(upload_ok(server, Route::Image, key, &session, &sample(name, "image/gif", GIF), "image/gif").await.id);
    }
    assert_error(send(server, key, &session, "Eleven pictures", &ids).await, 422, "too_many_items", "11 attachments").await;
    assert!(history(server, key, &session).await.messages.is_empty(), "the refused message was not stored");

    let sent = send_ok(server, key, &session, "Ten pictures", &ids[..10]).await;
    let seen = history(server, key, &session).await;
    let mut attached: Vec<i64> = stored(&seen, sent.meta.message_id).attachments.iter().map(|a| a.id).collect();
    attached.sort();
    let mut expected = ids[..10].to_vec();
    expected.sort();
    assert_eq!(attached, expected, "all ten attachments are stored");
    // The refused message attached nothing: the eleventh upload is still free.
    send_ok(server, key, &session, "And the last one", &ids[10..]).await;
}

async fn an_upload_of_another_visitor_or_an_unknown_id_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let owner = new_session_id();
    let uploaded = upload_ok(server, Route::Image, key, &owner, &sample("mine.png", "image/png", PNG), "image/png").await;
    let thief = new_session_id();
    assert_error(send(server, key, &thief, "Look at this", &[uploaded.id]).await, 422, "validation_error", "another visitor's upload")
        .await;
    assert_error(
        send(server, key, &thief, "Look at this", &[uploaded.id + 1_000_000]).await,
        422,
        "validation_error",
        "an unknown upload id",
    )
    .await;
    assert!(history(server, key, &thief).await.messages.is_empty(), "the refused messages were not stored");
    // Another site's visitor with the same session id cannot take it either.
    let other = signup(server, &AUTH_IPS).await;
    let what = "an upload of the same session id on another site";
    assert_error(send(server, other.site_key(), &owner, "Look at this", &[uploaded.id]).await, 422, "validation_error", what).await;
    // The owner still can.
    let sent = send_ok(server, key, &owner, "My picture", &[uploaded.id]).await;
    let seen = history(server, key, &owner).await;
    assert_eq!(stored(&seen, sent.meta.message_id).attachments.iter().map(|a| a.id).collect::<Vec<_>>(), vec![uploaded.id]);
}

async fn an_upload_can_be_attached_only_once(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    let uploaded = upload_ok(server, Route::File, key, &session, &sample("receipt.pdf", "application/pdf", PDF), "application/pdf").await;
    let sent = send_ok(server, key, &session, "My receipt", &[uploaded.id]).await;
    assert_error(send(server, key, &session, "My receipt again", &[uploaded.id]).await, 422, "validation_error", "a reused upload").await;
    let seen = history(server, key, &session).await;
    let visitor = visitor_messages(&seen);
    assert_eq!(visitor.iter().map(|m| m.id).collect::<Vec<_>>(), vec![sent.meta.message_id], "the refused message was not stored");
    assert_eq!(visitor[0].attachments.iter().map(|a| a.id).collect::<Vec<_>>(), vec![uploaded.id]);
}

async fn a_retry_of_a_message_with_attachments_replays_it_and_attaches_nothing_more(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    let receipt = upload_ok(server, Route::File, key, &session, &sample("receipt.pdf", "application/pdf", PDF), "application/pdf").await;
    let photo = upload_ok(server, Route::Image, key, &session, &sample("photo.png", "image/png", PNG), "image/png").await;
    let request = message_request(key, &session, "My receipt", &[receipt.id]);
    let first: Sent = stream_ok(server, &request).await;
    assert!(!first.meta.replayed);
    // The same message again (a lost answer): replayed, not refused as a reused upload.
    let again = stream_ok(server, &request).await;
    assert!(again.meta.replayed, "the retry is a replay");
    assert_eq!((again.meta.message_id, again.meta.seq), (first.meta.message_id, first.meta.seq));
    // A retry naming another upload replays too, and does not take that upload.
    let other = StreamRequest { attachments: vec![photo.id], ..request.clone() };
    assert!(stream_ok(server, &other).await.meta.replayed);
    let seen = history(server, key, &session).await;
    let visitor = visitor_messages(&seen);
    assert_eq!(visitor.len(), 1, "one visitor message: {visitor:?}");
    assert_eq!(visitor[0].attachments.iter().map(|a| a.id).collect::<Vec<_>>(), vec![receipt.id]);
    // The photo is still the visitor's to attach to a new message.
    let sent = send_ok(server, key, &session, "And a photo", &[photo.id]).await;
    let seen = history(server, key, &session).await;
    assert_eq!(stored(&seen, sent.meta.message_id).attachments.iter().map(|a| a.id).collect::<Vec<_>>(), vec![photo.id]);
}

async fn attachment_links_are_signed_when_read_and_survive_a_secret_rotation(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    let png = sample("lid.png", "image/png", PNG);
    let uploaded = upload_ok(server, Route::Image, key, &session, &png, "image/png").await;
    let sent = send_ok(server, key, &session, "Broken lid", &[uploaded.id]).await;
    let before = stored(&history(server, key, &session).await, sent.meta.message_id).attachments[0].url.clone();
    assert_served(fetch(server, &before).await, &png.bytes, "image/png", "inline", png.name, "the link before the rotation").await;
    let response = server
        .http
        .post(format!("{}/v1/sites/{}/rotate-secret", server.url, tenant.site.id))
        .bearer_auth(tenant.token())
        .send()
        .await
        .expect("rotate-secret reaches the server");
    assert_eq!(response.status().as_u16(), 200);
    assert_forbidden(server, &before, "a link signed with the rotated secret").await;
    // Read again, the stored message gives a link signed with the new secret.
    let seen = history(server, key, &session).await;
    let after = stored(&seen, sent.meta.message_id).attachments[0].url.clone();
    assert_ne!(after, before);
    assert_served(fetch(server, &after).await, &png.bytes, "image/png", "inline", png.name, "the link read after the rotation").await;
    // Operators read it signed afresh too.
    let operator = operator_messages(server, &tenant, sent.meta.conversation_id).await;
    let url = &operator.iter().find(|m| m.id == sent.meta.message_id).expect("the message").attachments[0].url;
    assert_served(fetch(server, url).await, &png.bytes, "image/png", "inline", png.name, "the operator's link").await;
}

async fn an_empty_message_with_an_attachment_is_accepted(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let session = new_session_id();
    assert_error(send(server, key, &session, "", &[]).await, 422, "validation_error", "an empty message without attachments").await;
    let uploaded = upload_ok(server, Route::Image, key, &session, &sample("photo.jpg", "image/jpeg", JPEG), "image/jpeg").await;
    let sent = send_ok(server, key, &session, "", &[uploaded.id]).await;
    let seen = history(server, key, &session).await;
    let message = stored(&seen, sent.meta.message_id);
    assert_eq!((message.role, message.content.as_str()), (Role::Visitor, ""));
    assert_eq!(message.attachments.iter().map(|a| a.id).collect::<Vec<_>>(), vec![uploaded.id]);
    assert_served(fetch(server, &message.attachments[0].url).await, JPEG, "image/jpeg", "inline", "photo.jpg", "the attachment").await;
}

// ---------------------------------------------------------------- POST /api/v1/chat/conversations

async fn creating_a_conversation_answers_201_with_a_token_and_the_auto_reply(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    let response = create(server, key, &create_body("Ada Lovelace", "ada@example.com", "Where is my parcel?", &token)).await;
    let raw: Value = json_of(response, 201).await;
    assert_eq!(raw["auto_reply"], json!(AUTO_REPLY), "{raw}");
    let first = raw["conversation_token"].as_str().unwrap_or_else(|| panic!("conversation_token: {raw}")).to_string();
    assert!(!first.is_empty() && first.chars().all(|c| c.is_ascii_hexdigit()), "conversation_token is hex: {first:?}");
    let second = create_ok(server, key, "Alan Turing", "alan@example.com", "Do you ship abroad?", &visitor_token()).await;
    assert_ne!(second.conversation_token, first, "each conversation has its own token");
    let messages = seed_messages_ok(server, key, &token, None).await;
    let first_message = messages.first().unwrap_or_else(|| panic!("the initial message is stored: {messages:?}"));
    assert_eq!(
        (first_message.direction.as_str(), first_message.body.as_str(), first_message.author.as_str()),
        ("inbound", "Where is my parcel?", "Ada Lovelace")
    );
}

async fn creating_without_a_required_field_is_422_all_fields_required(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    let full = create_body("Ada Lovelace", "ada@example.com", "Where is my parcel?", &token);
    for field in ["name", "email", "message", "visitor_token"] {
        let mut missing = full.clone();
        missing.as_object_mut().unwrap().remove(field);
        assert_422(create(server, key, &missing).await, ALL_REQUIRED, &format!("without {field}")).await;
        for blank in ["", "   "] {
            let mut blanked = full.clone();
            blanked[field] = json!(blank);
            assert_422(create(server, key, &blanked).await, ALL_REQUIRED, &format!("{field} = {blank:?}")).await;
        }
    }
    assert_422(create(server, key, &json!({})).await, ALL_REQUIRED, "an empty object").await;
    // Nothing was stored: the token is still free.
    assert_error(seed_messages(server, key, &token, None).await, 404, "not_found", "no conversation yet").await;
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "Where is my parcel?", &token).await;
}

async fn creating_with_an_invalid_email_is_422_invalid_email_address(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    for email in ["not-an-email", "jane@", "@example.com", "jane doe@example.com"] {
        let body = create_body("Jane Visitor", email, "Hello", &token);
        assert_422(create(server, key, &body).await, INVALID_EMAIL, email).await;
    }
    create_ok(server, key, "Jane Visitor", "jane@example.com", "Hello", &token).await;
}

async fn creating_with_a_message_over_10000_characters_is_422_too_long(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    for message in ["a".repeat(10_001), "é".repeat(10_001)] {
        let body = create_body("Jane Visitor", "jane@example.com", &message, &token);
        assert_422(create(server, key, &body).await, TOO_LONG, &format!("{} characters", message.chars().count())).await;
    }
    let longest = "é".repeat(10_000);
    create_ok(server, key, "Jane Visitor", "jane@example.com", &longest, &token).await;
    let messages = seed_messages_ok(server, key, &token, None).await;
    assert_eq!(messages.first().map(|m| m.body.as_str()), Some(longest.as_str()), "10,000 characters are stored whole");
}

async fn creating_with_a_malformed_visitor_token_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let malformed = [
        "a".repeat(21),
        "a".repeat(129),
        "has spaces in the visitor token".into(),
        "vt_0123456789abcdef<script>".into(),
        "vt_0123456789abcdef.json".into(),
    ];
    for token in &malformed {
        let body = create_body("Jane Visitor", "jane@example.com", "Hello", token);
        assert_error(create(server, key, &body).await, 422, "validation_error", &format!("visitor_token {token:?}")).await;
    }
    for token in ["A-b_".repeat(5) + "zz", "Z9".repeat(64)] {
        assert!(token.len() == 22 || token.len() == 128);
        create_ok(server, key, "Jane Visitor", "jane@example.com", "Hello", &token).await;
    }
}

async fn creating_twice_with_one_visitor_token_is_409(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Jane Visitor", "jane@example.com", "First question", &token).await;
    let again = create(server, key, &create_body("Jane Again", "jane2@example.com", "Second question", &token)).await;
    let body = assert_error(again, 409, "conflict", "a second conversation for one visitor token").await;
    assert_eq!(body.message, TOKEN_TAKEN);
    let messages = seed_messages_ok(server, key, &token, None).await;
    let inbound: Vec<(&str, &str)> =
        messages.iter().filter(|m| m.direction == "inbound").map(|m| (m.body.as_str(), m.author.as_str())).collect();
    assert_eq!(inbound, vec![("First question", "Jane Visitor")], "the refused conversation stored nothing");
}

async fn creating_six_conversations_a_minute_from_one_address_is_429(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let fresh = |ip: &str| create_from(server, key, &create_body("Rita Rapid", "rita@example.com", "Hello?", &visitor_token()), ip);
    let last_token = Mutex::new(String::new());
    let last = |ip: &str| {
        let token = visitor_token();
        *last_token.lock().unwrap() = token.clone();
        create_from(server, key, &create_body("Rita Rapid", "rita@example.com", "Hello?", &token), ip)
    };
    let (ip, over) = burst(&WIDGET_IPS, 20, &[(5, 201, &fresh)], &last).await;
    assert_rate_limited(over, &format!("the 6th conversation in a minute from {ip}")).await;
    let refused = last_token.lock().unwrap().clone();
    assert_error(seed_messages(server, key, &refused, None).await, 404, "not_found", "the refused conversation was not created").await;
    // Another address of the same site is not limited.
    create_ok(server, key, "Rita Rapid", "rita@example.com", "Hello?", &visitor_token()).await;
}

async fn operators_see_the_name_and_email_of_a_created_conversation(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    create_ok(server, tenant.site_key(), "Grace Hopper", "grace.hopper@example.com", "My invoice is wrong", &visitor_token()).await;
    let id = conversation_of(server, &tenant, "grace.hopper@example.com").await;
    let seen = summary(server, tenant.token(), id).await;
    assert_eq!(
        (
            seen.visitor.as_ref().expect("a visitor conversation").name.as_deref(),
            seen.visitor.as_ref().expect("a visitor conversation").email.as_deref(),
            seen.status
        ),
        (Some("Grace Hopper"), Some("grace.hopper@example.com"), Status::Open)
    );
    let messages = operator_messages(server, &tenant, id).await;
    let first_visitor = messages.iter().find(|m| m.role == Role::Visitor).map(|m| m.content.as_str());
    assert_eq!(first_visitor, Some("My invoice is wrong"), "operators see the initial message: {messages:?}");
}

// ---------------------------------------------------------------- GET …/messages

async fn messages_list_inbound_and_operator_replies_oldest_first_with_authors(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    let id = conversation_of(server, &tenant, "ada@example.com").await;
    operator_reply(server, &tenant, id, "We are looking into it, Ada.").await;

    let messages = seed_messages_ok(server, key, &token, None).await;
    let first = &messages[0];
    assert_eq!((first.direction.as_str(), first.body.as_str(), first.author.as_str()), ("inbound", "My parcel is late", "Ada Lovelace"));
    let operator =
        messages.iter().position(|m| m.body == "We are looking into it, Ada.").unwrap_or_else(|| panic!("the reply in {messages:?}"));
    let reply = &messages[operator];
    assert_eq!((reply.direction.as_str(), reply.author.as_str()), ("outbound", tenant.name()));
    assert_eq!(tenant.name(), OWNER_NAME);
    assert!(operator > 0, "the reply comes after the initial message: {messages:?}");
    for pair in messages.windows(2) {
        assert!(pair[0].timestamp <= pair[1].timestamp, "oldest first: {messages:?}");
    }
    for m in &messages {
        match m.direction.as_str() {
            "inbound" => assert_eq!(m.author, "Ada Lovelace", "{m:?}"),
            _ => assert!(m.author == OWNER_NAME || m.author == SITE_NAME, "an outbound author is the operator or the site: {m:?}"),
        }
    }
}

async fn ai_answers_are_outbound_and_signed_with_the_site_name(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "Hello there", &token).await;
    // The visitor token is the visitor's widget session: the widget's next message goes to this conversation.
    let sent = send_ok(server, key, &token, "Do you ship to Canada?", &[]).await;
    assert!(sent.meta.answer_id.is_some(), "the AI answered: {:?}", sent.meta);

    let messages = seed_messages_ok(server, key, &token, None).await;
    let asked = messages.iter().position(|m| m.body == "Do you ship to Canada?").unwrap_or_else(|| panic!("the question in {messages:?}"));
    assert_eq!((messages[asked].direction.as_str(), messages[asked].author.as_str()), ("inbound", "Ada Lovelace"));
    let answer = messages.get(asked + 1).unwrap_or_else(|| panic!("the answer after the question in {messages:?}"));
    assert_eq!((answer.direction.as_str(), answer.body.as_str(), answer.author.as_str()), ("outbound", sent.answer.as_str(), SITE_NAME));
}

async fn messages_since_lists_only_later_messages(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    let id = conversation_of(server, &tenant, "ada@example.com").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    operator_reply(server, &tenant, id, "It ships today.").await;
    let all = seed_messages_ok(server, key, &token, None).await;
    assert!(all.len() >= 2, "{all:?}");

    let first = all[0].timestamp.clone();
    let after_first = seed_messages_ok(server, key, &token, Some(&first)).await;
    assert!(after_first.iter().all(|m| m.body != "My parcel is late"), "since is strictly after: {after_first:?}");
    assert!(after_first.iter().any(|m| m.body == "It ships today."), "the later reply: {after_first:?}");
    let expected: Vec<TokenMessage> = all.iter().filter(|m| m.timestamp > first).cloned().collect();
    assert_eq!(after_first, expected);

    let newest = all.last().unwrap().timestamp.clone();
    assert_eq!(seed_messages_ok(server, key, &token, Some(&newest)).await, vec![], "nothing after the newest");
    assert_eq!(seed_messages_ok(server, key, &token, Some("2000-01-01T00:00:00Z")).await, all, "everything after 2000");
    assert_eq!(seed_messages_ok(server, key, &token, Some("2999-01-01T00:00:00Z")).await, vec![], "nothing after 2999");
}

async fn messages_with_a_malformed_since_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    for since in ["yesterday", "12/01/2026", "2026-13-45T99:00:00Z"] {
        assert_error(seed_messages(server, key, &token, Some(since)).await, 422, "validation_error", &format!("since={since}")).await;
    }
    assert_eq!(
        seed_messages_ok(server, key, &token, Some("2000-01-01T00:00:00Z")).await.len(),
        seed_messages_ok(server, key, &token, None).await.len()
    );
}

async fn messages_of_an_unknown_visitor_token_or_site_is_404(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let other = signup(server, &AUTH_IPS).await;
    let token = visitor_token();
    create_ok(server, tenant.site_key(), "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    assert_error(seed_messages(server, tenant.site_key(), &visitor_token(), None).await, 404, "not_found", "an unknown visitor token")
        .await;
    assert_error(seed_messages(server, other.site_key(), &token, None).await, 404, "not_found", "a token of another site").await;
    assert_error(seed_messages(server, "sk_nobody_has_this_key", &token, None).await, 404, "not_found", "an unknown site key").await;
    assert!(!seed_messages_ok(server, tenant.site_key(), &token, None).await.is_empty());
}

// ---------------------------------------------------------------- POST …/messages

async fn a_reply_answers_201_and_is_listed_as_inbound(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    reply_ok(server, key, &token, "The order number is 1042.").await;
    let messages = seed_messages_ok(server, key, &token, None).await;
    let inbound: Vec<(&str, &str)> =
        messages.iter().filter(|m| m.direction == "inbound").map(|m| (m.body.as_str(), m.author.as_str())).collect();
    assert_eq!(inbound, vec![("My parcel is late", "Ada Lovelace"), ("The order number is 1042.", "Ada Lovelace")]);
    let id = conversation_of(server, &tenant, "ada@example.com").await;
    let seen = operator_messages(server, &tenant, id).await;
    assert!(seen.iter().any(|m| m.role == Role::Visitor && m.content == "The order number is 1042."), "operators see the reply: {seen:?}");
}

async fn a_reply_blank_or_over_10000_characters_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    let bodies = [json!({"message": ""}), json!({"message": " \n\t "}), json!({"message": "a".repeat(10_001)}), json!({})];
    for body in &bodies {
        let what = format!("reply {}", body.to_string().chars().take(60).collect::<String>());
        assert_error(reply(server, key, &token, body).await, 422, "validation_error", &what).await;
    }
    let longest = "é".repeat(10_000);
    reply_ok(server, key, &token, &longest).await;
    let messages = seed_messages_ok(server, key, &token, None).await;
    let inbound: Vec<&str> = messages.iter().filter(|m| m.direction == "inbound").map(|m| m.body.as_str()).collect();
    assert_eq!(inbound, vec!["My parcel is late", longest.as_str()], "only the valid reply was stored");
}

async fn a_reply_reopens_a_closed_conversation(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "My parcel is late", &token).await;
    let id = conversation_of(server, &tenant, "ada@example.com").await;
    assert_eq!(close(server, &tenant, id).await.status, Status::Closed);
    assert_eq!(summary(server, tenant.token(), id).await.status, Status::Closed);
    reply_ok(server, key, &token, "It still has not arrived.").await;
    assert_eq!(summary(server, tenant.token(), id).await.status, Status::Open, "the reply reopened the conversation");
    let messages = seed_messages_ok(server, key, &token, None).await;
    assert!(messages.iter().any(|m| m.body == "It still has not arrived." && m.direction == "inbound"), "{messages:?}");
}

// ---------------------------------------------------------------- GET …/files/{activity_id}/{id}

/// A seed-004 visitor whose widget session (the visitor token) sent one
/// message with `file` attached: answers the message id and the upload.
async fn message_with_file(
    server: &Server,
    site_key: &str,
    token: &str,
    route: Route,
    file: &Sample,
    content_type: &str,
) -> (i64, UploadResponse) {
    let uploaded = upload_ok(server, route, site_key, token, file, content_type).await;
    let sent = send_ok(server, site_key, token, &format!("Attached: {}", file.name), &[uploaded.id]).await;
    (sent.meta.message_id, uploaded)
}

async fn a_token_conversation_file_is_served_as_a_download_by_default(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "I will send the receipt", &token).await;
    let pdf = sample("receipt.pdf", "application/pdf", PDF);
    let (message, uploaded) = message_with_file(server, key, &token, Route::File, &pdf, "application/pdf").await;
    let served = seed_file(server, key, &token, message, uploaded.id, None).await;
    assert_served(served, PDF, "application/pdf", "attachment", "receipt.pdf", "by default").await;
    let inline = seed_file(server, key, &token, message, uploaded.id, Some("inline")).await;
    assert_served(inline, PDF, "application/pdf", "inline", "receipt.pdf", "disposition=inline").await;
    let download = seed_file(server, key, &token, message, uploaded.id, Some("attachment")).await;
    assert_served(download, PDF, "application/pdf", "attachment", "receipt.pdf", "disposition=attachment").await;
}

async fn a_token_conversation_file_with_the_wrong_message_upload_or_visitor_is_404(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let token = visitor_token();
    create_ok(server, key, "Ada Lovelace", "ada@example.com", "Two photos coming", &token).await;
    let png = sample("first.png", "image/png", PNG);
    let gif = sample("second.gif", "image/gif", GIF);
    let (m1, u1) = message_with_file(server, key, &token, Route::Image, &png, "image/png").await;
    let (m2, u2) = message_with_file(server, key, &token, Route::Image, &gif, "image/gif").await;
    let loose = upload_ok(server, Route::Image, key, &token, &sample("loose.png", "image/png", PNG), "image/png").await;
    assert_served(seed_file(server, key, &token, m1, u1.id, None).await, PNG, "image/png", "attachment", "first.png", "m1/u1").await;
    assert_served(seed_file(server, key, &token, m2, u2.id, None).await, GIF, "image/gif", "attachment", "second.gif", "m2/u2").await;

    let other = visitor_token();
    create_ok(server, key, "Eve Other", "eve@example.com", "Hello", &other).await;
    let wrong = [
        (token.as_str(), m1, u2.id, "the first message with the second upload"),
        (token.as_str(), m2, u1.id, "the second message with the first upload"),
        (token.as_str(), m1, loose.id, "an upload attached to no message"),
        (token.as_str(), m1 + 1_000_000, u1.id, "an unknown message"),
        (other.as_str(), m1, u1.id, "another visitor's token"),
    ];
    for (visitor, message, upload, what) in wrong {
        assert_error(seed_file(server, key, visitor, message, upload, None).await, 404, "not_found", what).await;
    }
    let stranger = signup(server, &AUTH_IPS).await;
    assert_error(seed_file(server, stranger.site_key(), &token, m1, u1.id, None).await, 404, "not_found", "another site's key").await;
}

// ---------------------------------------------------------------- one secret, two purposes

/// A widget request as the logged-in user `user_id` with `user_hash`.
async fn history_as(server: &Server, site_key: &str, user_id: &str, user_hash: &str) -> reqwest::Response {
    let session = new_session_id();
    let query = [("site_key", site_key), ("session_id", session.as_str()), ("user_id", user_id), ("user_hash", user_hash)];
    widget(server, Method::GET, "/api/v1/chat/history").query(&query).send().await.expect("history reaches the server")
}

async fn a_file_link_signature_presented_as_a_user_hash_is_401(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let uploaded =
        upload_ok(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("cat.png", "image/png", PNG), "image/png").await;
    let link = SignedUrl::parse(&uploaded.url);
    // Any visitor holds a file link: its t must not make them the "verified" user "<id>:<exp>".
    let forged = format!("{}:{}", link.id, link.exp);
    let what = format!("user_id {forged:?} with the link's t as user_hash");
    assert_error(history_as(server, tenant.site_key(), &forged, &link.t).await, 401, "unauthorized", &what).await;
    // That user, signed by the site's server, is verified: the refusal is the signature's kind.
    let secret = tenant.site.identity_secret.clone().expect("owners see the identity secret");
    let genuine: HistoryResponse = json_of(history_as(server, tenant.site_key(), &forged, &user_hash(&secret, &forged)).await, 200).await;
    assert!(genuine.messages.is_empty());
}

async fn a_user_hash_presented_as_a_file_link_signature_is_403(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let uploaded =
        upload_ok(server, Route::Image, tenant.site_key(), &new_session_id(), &sample("cat.png", "image/png", PNG), "image/png").await;
    let link = SignedUrl::parse(&uploaded.url);
    // A site user whose id reads "<id>:<exp>" gets that user_hash from the site's server: it must open no file.
    let secret = tenant.site.identity_secret.clone().expect("owners see the identity secret");
    let exp = now() + 3600;
    let as_link = SignedUrl { id: link.id, exp, t: user_hash(&secret, &format!("{}:{exp}", link.id)) };
    assert_forbidden(server, &as_link.url(), "a user_hash of \"<id>:<exp>\" as the link's t").await;
    assert_served(fetch(server, &link.url()).await, PNG, "image/png", "inline", "cat.png", "the genuine link").await;
}

// ---------------------------------------------------------------- R2 state

/// A text file whose bytes no other trial's files contain.
fn marked_text(name: &'static str) -> (Sample, Vec<u8>) {
    let marker = format!("marker {}", unique(name)).into_bytes();
    let mut bytes = b"Receipt for order 1042.\n".to_vec();
    bytes.extend_from_slice(&marker);
    bytes.push(b'\n');
    (Sample { name, declared: "text/plain", bytes }, marker)
}

async fn deleting_a_site_deletes_its_files_from_r2(server: &Server) {
    let (tenant, other) = (signup(server, &AUTH_IPS).await, signup(server, &AUTH_IPS).await);
    let (file, marker) = marked_text("receipt.txt");
    let (kept_file, kept_marker) = marked_text("kept.txt");
    let session = new_session_id();
    upload_ok(server, Route::File, tenant.site_key(), &session, &file, "text/plain; charset=utf-8").await;
    let attached = upload_ok(server, Route::File, tenant.site_key(), &session, &file, "text/plain; charset=utf-8").await;
    send_ok(server, tenant.site_key(), &session, "The receipt", &[attached.id]).await;
    let kept = upload_ok(server, Route::File, other.site_key(), &new_session_id(), &kept_file, "text/plain; charset=utf-8").await;
    server.assert_r2_blobs(&marker, 2, "before the delete").await;

    let response = server.authed(Method::DELETE, &format!("/v1/sites/{}", tenant.site.id), tenant.token()).send().await.unwrap();
    assert_eq!(response.status(), 204);
    server.assert_r2_blobs(&marker, 0, "the deleted site's uploads, attached or not").await;
    server.assert_r2_blobs(&kept_marker, 1, "another site's upload").await;
    assert_served(
        fetch(server, &kept.url).await,
        &kept_file.bytes,
        "text/plain; charset=utf-8",
        "inline",
        "kept.txt",
        "another site's file",
    )
    .await;
}

// ---------------------------------------------------------------- uploads read as they stream

/// An HTTP/1.1 response read off a raw connection: status and body (`None`
/// when the connection dropped after the status line and headers).
struct RawResponse {
    status: u16,
    body: Option<Vec<u8>>,
}

/// Appends what `reader` has next to `buf`; an error at the end of the connection.
async fn read_more(reader: &mut (impl tokio::io::AsyncRead + Unpin), buf: &mut Vec<u8>) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut chunk = [0u8; 8192];
    let n = reader.read(&mut chunk).await?;
    if n == 0 {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed mid-response"));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

/// Reads a response body after its head (`rest`: what was read past it).
async fn read_body(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
    mut rest: Vec<u8>,
    content_length: Option<String>,
    transfer_encoding: Option<String>,
) -> std::io::Result<Vec<u8>> {
    let body = if let Some(length) = content_length.and_then(|v| v.parse::<usize>().ok()) {
        while rest.len() < length {
            read_more(reader, &mut rest).await?;
        }
        rest[..length].to_vec()
    } else if transfer_encoding.is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        loop {
            let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
                read_more(reader, &mut rest).await?;
                continue;
            };
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..line_end]).split(';').next().unwrap_or("").trim(), 16)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            while rest.len() < line_end + 2 + size + 2 {
                read_more(reader, &mut rest).await?;
            }
            body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        Vec::new()
    };
    Ok(body)
}

/// Reads one HTTP/1.1 response (a `Content-Length` or chunked body) from `reader`.
async fn read_response(reader: &mut (impl tokio::io::AsyncRead + Unpin)) -> std::io::Result<RawResponse> {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        read_more(reader, &mut buf).await?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string())).collect();
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let rest = buf[head_end..].to_vec();
    let body = read_body(reader, rest, header("content-length"), header("transfer-encoding")).await.ok();
    Ok(RawResponse { status, body })
}

/// Sends `head` then, as HTTP/1.1 chunks, `chunk` `count` times on a raw
/// connection (no `Content-Length`) and stops there, the body left
/// unfinished and the connection open, while reading the answer. Answers
/// the response (an error when the connection closed before one), or `None`
/// when none came within `wait`.
async fn post_unfinished_chunked(
    server: &Server,
    head: String,
    chunk: Vec<u8>,
    count: usize,
    wait: Duration,
) -> Option<std::io::Result<RawResponse>> {
    use tokio::io::AsyncWriteExt;
    let address = server.url.trim_start_matches("http://").to_string();
    let connection = tokio::net::TcpStream::connect(&address).await.expect("the server accepts a connection");
    let (mut reader, mut writer) = connection.into_split();
    let sending = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let frame = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
        for _ in 0..count {
            writer.write_all(&frame).await?;
        }
        // Keep the connection open, the body unfinished, until the answer is read.
        Ok::<_, std::io::Error>(writer)
    });
    let response = tokio::time::timeout(wait, read_response(&mut reader)).await.ok();
    sending.abort();
    response
}

/// The server reads an upload as it streams in and answers 413 as soon as
/// it passes the cap: the test sends 14 MiB of a chunked body (cap: 10 MiB
/// and 64 KiB) and then nothing, the body unfinished. A server that buffers
/// the body whole first would wait for its end and never answer.
async fn a_chunked_body_over_the_cap_is_413_before_it_is_read_whole_and_nothing_is_stored(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let boundary = format!("----edgechat-test-{}", &new_session_id()[5..]);
    let parts = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"site_key\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"session_id\"\r\n\r\n{session}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.txt\"\r\nContent-Type: text/plain\r\n\r\n",
        tenant.site_key()
    );
    let head = || {
        format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nCF-Connecting-IP: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{parts}\r\n",
            Route::File.path(),
            server.url.trim_start_matches("http://"),
            WIDGET_IPS.next(),
            parts.len(),
        )
    };
    // 14 MiB of a text file in 64 KiB chunks, each full of one marker line.
    const CHUNK: usize = 64 * 1024;
    let marker = format!("marker {}\n", unique("chunked")).into_bytes();
    let chunk: Vec<u8> = marker.iter().copied().cycle().take(CHUNK).collect();
    // `wrangler dev` may reset a connection whose body still streams after
    // its answer, now and then before the answer is out: such a try is made again.
    let mut attempts = 0;
    let response = loop {
        attempts += 1;
        let answered = post_unfinished_chunked(server, head(), chunk.clone(), 14 * 16, Duration::from_secs(30))
            .await
            .expect("an answer within 30 s, before the body ends: the server must not wait to buffer it whole");
        match answered {
            // The server may close the connection while the answer's body is on its way: a cut answer is tried again.
            Ok(response) if response.body.as_deref().is_some_and(|b| !b.is_empty()) || attempts >= 3 => break response,
            Ok(_) => eprintln!("attempt {attempts}: the connection closed during the answer's body; again"),
            Err(err) if attempts < 3 => eprintln!("attempt {attempts}: the connection closed before the answer ({err}); again"),
            Err(err) => panic!("three connections closed before an answer: {err}"),
        }
    };
    let body = String::from_utf8_lossy(response.body.as_deref().unwrap_or_default()).to_string();
    assert_eq!(response.status, 413, "{body}");
    let error: edgechat_shared::error::ErrorBody =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("the error envelope ({e}): {body}"));
    assert_eq!(error.error, "payload_too_large");
    assert_eq!(server.r2_blobs_containing(&marker[..marker.len() - 1]), 0, "nothing of the refused body is in R2");
}
