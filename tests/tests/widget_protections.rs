//! Integration tests of the visitor feedback routes and the widget API's
//! protections (issue 5) over HTTP against a real `wrangler dev`:
//! `POST /api/v1/chat/email`, `/contact`, `/rate`, `/rate/comment`,
//! `GET /api/v1/chat/block-status`; rate limits per site key and client IP
//! (`CF-Connecting-IP`, fixed clock-minute windows); a site's allowed origins
//! and the CORS preflights that honour them.
//!
//! Trials run in parallel against one server, so each signs up its own
//! account and site, brings its own visitors, and sends every widget request
//! from its own client address (`172.17.x.y`; `/auth` requests from
//! `172.16.x.y`), so that no two trials share a rate-limit bucket.

use edgechat_shared::api::config::WidgetConfig;
use edgechat_shared::api::contact::{ContactRequest, EmailRequest, Saved};
use edgechat_shared::api::conversations::{Block, Visitor};
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::rating::{RateCommentRequest, RateRequest, RateResponse, MAX_RATING_COMMENT_CHARS};
use edgechat_shared::api::sites::Site;
use edgechat_shared::api::stream::StreamEvent;
use edgechat_shared::api::visitor::{BlockStatus, VisitorQuery};
use edgechat_tests::visitor_stream::EventStream;
use edgechat_tests::*;
use reqwest::{Method, RequestBuilder};
use serde::Serialize;
use serde_json::{json, Value};

fn main() {
    let server = Server::start("widget_protections");
    run_trials(
        server,
        trials![server;
            // POST /api/v1/chat/email
            email_is_saved_and_shown_to_operators,
            email_before_the_first_message_creates_the_visitor,
            email_refuses_an_invalid_address,
            // POST /api/v1/chat/contact
            contact_saves_email_phone_and_name_and_operators_see_email_and_name,
            contact_with_a_phone_only_is_saved,
            contact_without_email_or_phone_is_422,
            contact_with_a_phone_not_in_e164_is_422,
            contact_with_a_phone_no_numbering_plan_assigns_is_422,
            contact_with_an_invalid_email_is_422,
            contact_with_a_blank_name_is_422,
            // POST /api/v1/chat/rate
            rating_a_conversation_answers_the_rating_id,
            rating_twice_answers_duplicate_and_keeps_the_first_rating,
            rating_refuses_a_score_outside_1_to_5,
            rating_before_the_first_message_is_404,
            // POST /api/v1/chat/rate/comment
            a_comment_on_a_rating_is_saved,
            a_comment_before_a_rating_is_404,
            a_comment_must_be_1_to_2000_characters,
            // GET /api/v1/chat/block-status
            block_status_of_a_visitor_not_blocked_is_false,
            a_blocked_visitor_gets_block_status_true_and_403_blocked_elsewhere,
        a_blocked_visitors_open_live_stream_ends_at_once,
            // a session the worker remembers (issue 16: one D1 round trip)
            a_remembered_session_is_checked_again_when_its_site_visitor_or_conversation_changes,
            // every feedback route
            an_unknown_site_key_is_404_on_every_feedback_route,
            a_malformed_session_id_is_422_on_every_feedback_route,
            // rate limits per site key and client IP
            config_allows_60_requests_a_minute_then_429_with_retry_after,
            stream_allows_20_messages_a_minute_then_429_with_retry_after,
            each_write_route_has_its_own_budget,
            block_status_allows_60_requests_a_minute_then_429_apart_from_history,
            another_ip_or_another_site_is_not_limited,
            validation_errors_are_not_counted,
            // allowed origins
            an_empty_origin_list_allows_any_origin,
            an_origin_not_listed_is_403_on_config,
            an_exactly_listed_origin_is_allowed_and_echoed,
            a_subdomain_of_a_wildcard_origin_is_allowed_and_echoed,
            the_apex_of_a_wildcard_origin_is_403,
            a_request_without_origin_is_allowed,
            stream_and_feedback_routes_refuse_an_origin_not_listed,
            stream_and_feedback_routes_allow_a_listed_origin_and_echo_it,
            a_non_ascii_origin_is_refused_by_a_listing_site_and_never_echoed,
            // CORS preflights
            a_preflight_from_an_allowed_origin_is_204_with_cors_headers,
            a_preflight_from_another_origin_is_403_without_cors_headers,
            a_preflight_without_a_site_key_is_204_and_the_request_is_checked,
            // identity verification on a shared browser (issue 10, hole 4)
            a_second_verified_user_on_one_session_gets_their_own_visitor_and_conversation,
            a_request_without_identity_on_a_verified_session_is_a_fresh_anonymous_visitor,
            // GET /api/v1/chat/pending-proactive (issue 10, hole 5)
            pending_proactive_refuses_a_url_over_2048_characters_with_422,
        ],
    )
}

// ---------------------------------------------------------------- helpers

/// The allowed origins of the contract's examples.
const SHOP: &str = "https://shop.example.com";
const WILDCARD: &str = "https://*.example.org";
const EVIL: &str = "https://evil.test";

/// The `Access-Control-Allow-Origin` header, when answered.
fn allow_origin(response: &reqwest::Response) -> Option<String> {
    header(response, "access-control-allow-origin")
}

// ------------------------------------------------ operator side

/// Client addresses no other `/auth` request uses (`172.16.x.y`).
static AUTH_IPS: IpPool = IpPool::new("172.16");
/// Client addresses no other widget request uses (`172.17.x.y`).
static WIDGET_IPS: IpPool = IpPool::new("172.17");

async fn visitor_of(server: &Server, tenant: &Tenant, conversation_id: i64) -> Visitor {
    summary(server, tenant.token(), conversation_id).await.visitor.expect("a visitor conversation has a visitor")
}

/// Sets the site's allowed origins as its owner.
async fn set_origins(server: &Server, tenant: &Tenant, origins: &[&str]) {
    let path = format!("/v1/sites/{}", tenant.site.id);
    let response = server.authed(Method::PATCH, &path, tenant.token()).json(&json!({ "allowed_origins": origins })).send().await.unwrap();
    let site: Site = json_of(response, 200).await;
    assert_eq!(site.allowed_origins, origins);
}

/// A tenant whose site allows the contract's example origins only.
async fn restricted_tenant(server: &Server) -> Tenant {
    let tenant = signup(server, &AUTH_IPS).await;
    set_origins(server, &tenant, &[SHOP, WILDCARD]).await;
    tenant
}

// ------------------------------------------------ visitor side

/// A request to the widget API from client address `ip`.
fn widget_from(server: &Server, method: Method, path: &str, ip: &str) -> RequestBuilder {
    server.http.request(method, format!("{}{path}", server.url)).header("CF-Connecting-IP", ip)
}

/// A request to the widget API from a client address no other request uses.
fn widget(server: &Server, method: Method, path: &str) -> RequestBuilder {
    widget_from(server, method, path, &WIDGET_IPS.next())
}

async fn post_json(server: &Server, path: &str, body: &impl Serialize) -> reqwest::Response {
    widget(server, Method::POST, path).json(body).send().await.unwrap_or_else(|e| panic!("{path} reaches the server: {e}"))
}

async fn get_query(server: &Server, path: &str, query: &impl Serialize) -> reqwest::Response {
    widget(server, Method::GET, path).query(query).send().await.unwrap_or_else(|e| panic!("{path} reaches the server: {e}"))
}

fn email_request(site_key: &str, session_id: &str, email: &str) -> EmailRequest {
    EmailRequest { site_key: site_key.into(), session_id: session_id.into(), email: email.into() }
}

fn contact_request(site_key: &str, session_id: &str, email: Option<&str>, phone: Option<&str>, name: Option<&str>) -> ContactRequest {
    ContactRequest {
        site_key: site_key.into(),
        session_id: session_id.into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        name: name.map(Into::into),
    }
}

fn rate_request(site_key: &str, session_id: &str, score: i64) -> RateRequest {
    RateRequest { site_key: site_key.into(), session_id: session_id.into(), score }
}

fn comment_request(site_key: &str, session_id: &str, comment: &str) -> RateCommentRequest {
    RateCommentRequest { site_key: site_key.into(), session_id: session_id.into(), comment: comment.into() }
}

fn visitor_query(site_key: &str, session_id: &str) -> VisitorQuery {
    VisitorQuery { site_key: site_key.into(), session_id: session_id.into() }
}

async fn email(server: &Server, site_key: &str, session_id: &str, address: &str) -> reqwest::Response {
    post_json(server, "/api/v1/chat/email", &email_request(site_key, session_id, address)).await
}

async fn contact(server: &Server, request: &ContactRequest) -> reqwest::Response {
    post_json(server, "/api/v1/chat/contact", request).await
}

async fn rate(server: &Server, site_key: &str, session_id: &str, score: i64) -> reqwest::Response {
    post_json(server, "/api/v1/chat/rate", &rate_request(site_key, session_id, score)).await
}

async fn comment(server: &Server, site_key: &str, session_id: &str, text: &str) -> reqwest::Response {
    post_json(server, "/api/v1/chat/rate/comment", &comment_request(site_key, session_id, text)).await
}

async fn block_status(server: &Server, site_key: &str, session_id: &str) -> reqwest::Response {
    get_query(server, "/api/v1/chat/block-status", &visitor_query(site_key, session_id)).await
}

async fn history(server: &Server, site_key: &str, session_id: &str) -> reqwest::Response {
    get_query(server, "/api/v1/chat/history", &visitor_query(site_key, session_id)).await
}

/// `POST /api/v1/chat/stream` from a fresh client address, not read as SSE.
async fn stream_raw(server: &Server, site_key: &str, session_id: &str, message: &str) -> reqwest::Response {
    post_json(server, "/api/v1/chat/stream", &visitor_request(site_key, session_id, message)).await
}

/// The visitor sends a message (through [`Server::stream`]); answers the conversation id.
async fn say(server: &Server, site_key: &str, session_id: &str, message: &str) -> i64 {
    let streamed = server.stream(&visitor_request(site_key, session_id, message)).await;
    assert_eq!(streamed.status, 200, "{message}: {streamed:?}");
    streamed.done().conversation_id
}

/// A new visitor of `site_key` says hello: answers its session and conversation id.
async fn new_conversation(server: &Server, site_key: &str) -> (String, i64) {
    let session = new_session_id();
    let id = say(server, site_key, &session, "Hello, can someone look at my order?").await;
    (session, id)
}

async fn assert_saved(response: reqwest::Response, message: &str) {
    let saved: Saved = json_of(response, 200).await;
    assert_eq!(saved, Saved { success: true, message: message.into() });
}

/// Rates the visitor's conversation; asserts a new (not duplicate) rating and answers its id.
async fn rate_ok(server: &Server, site_key: &str, session_id: &str, score: i64) -> i64 {
    let answer: Value = json_of(rate(server, site_key, session_id, score).await, 200).await;
    let id = answer["id"].as_i64().unwrap_or_else(|| panic!("a new rating answers its id: {answer}"));
    assert_eq!(answer, json!({"success": true, "id": id, "duplicate": false}));
    id
}

async fn assert_block_status(server: &Server, site_key: &str, session_id: &str, blocked: bool) {
    let status: BlockStatus = json_of(block_status(server, site_key, session_id).await, 200).await;
    assert_eq!(status, BlockStatus { success: true, blocked });
}

// ------------------------------------------------ rate-limit bursts

// ---------------------------------------------------------------- POST /api/v1/chat/email

async fn email_is_saved_and_shown_to_operators(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    assert_eq!(visitor_of(server, &tenant, id).await.email, None);
    assert_saved(email(server, tenant.site_key(), &session, "jane.visitor@example.com").await, "Email saved").await;
    assert_eq!(visitor_of(server, &tenant, id).await.email.as_deref(), Some("jane.visitor@example.com"));
}

async fn email_before_the_first_message_creates_the_visitor(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    assert_saved(email(server, tenant.site_key(), &session, "early.bird@example.com").await, "Email saved").await;
    let id = say(server, tenant.site_key(), &session, "I left my email first").await;
    let visitor = visitor_of(server, &tenant, id).await;
    assert_eq!(visitor.email.as_deref(), Some("early.bird@example.com"), "the visitor the email created is the one who wrote");
}

async fn email_refuses_an_invalid_address(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    for address in ["not-an-email", "jane@", "@example.com", "jane doe@example.com", ""] {
        let refused = assert_error(email(server, tenant.site_key(), &session, address).await, 422, "validation_error", address).await;
        assert!(refused.message.to_lowercase().contains("email"), "{address:?}: the message should name the email: {:?}", refused.message);
    }
    let refused =
        assert_error(email(server, tenant.site_key(), &session, "not-an-email").await, 422, "validation_error", "not-an-email").await;
    assert!(refused.message.contains("Invalid email address"), "{:?}", refused.message);
    assert_eq!(visitor_of(server, &tenant, id).await.email, None, "no refused email was stored");
}

// ---------------------------------------------------------------- POST /api/v1/chat/contact

async fn contact_saves_email_phone_and_name_and_operators_see_email_and_name(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    let request = contact_request(tenant.site_key(), &session, Some("jane@example.com"), Some("+14155550123"), Some("Jane Visitor"));
    assert_saved(contact(server, &request).await, "Contact saved").await;
    let visitor = visitor_of(server, &tenant, id).await;
    assert_eq!((visitor.email.as_deref(), visitor.name.as_deref()), (Some("jane@example.com"), Some("Jane Visitor")));
}

async fn contact_with_a_phone_only_is_saved(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    let request = contact_request(tenant.site_key(), &session, None, Some("+14155550123"), Some("Phone Person"));
    assert_saved(contact(server, &request).await, "Contact saved").await;
    let visitor = visitor_of(server, &tenant, id).await;
    assert_eq!((visitor.email.as_deref(), visitor.name.as_deref()), (None, Some("Phone Person")));
    // And before the first message: the contact creates the visitor.
    let early = new_session_id();
    let request = contact_request(tenant.site_key(), &early, None, Some("+442071838750"), Some("Early Caller"));
    assert_saved(contact(server, &request).await, "Contact saved").await;
    let id = say(server, tenant.site_key(), &early, "I gave my number first").await;
    assert_eq!(visitor_of(server, &tenant, id).await.name.as_deref(), Some("Early Caller"));
}

/// Asserts each contact body answers 422 and nothing of it reached the visitor.
async fn assert_contact_refused(server: &Server, tenant: &Tenant, session: &str, conversation_id: i64, bodies: &[ContactRequest]) {
    for body in bodies {
        let what = serde_json::to_string(body).unwrap();
        assert_error(contact(server, body).await, 422, "validation_error", &what).await;
    }
    let visitor = visitor_of(server, tenant, conversation_id).await;
    assert_eq!((visitor.email, visitor.name), (None, None), "no refused contact was stored (session {session})");
}

async fn contact_without_email_or_phone_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    let bodies = [
        contact_request(tenant.site_key(), &session, None, None, None),
        contact_request(tenant.site_key(), &session, None, None, Some("Nameless Contact")),
        contact_request(tenant.site_key(), &session, Some(""), Some(""), Some("Empty Fields")),
    ];
    assert_contact_refused(server, &tenant, &session, id, &bodies).await;
}

async fn contact_with_a_phone_not_in_e164_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    let bodies: Vec<ContactRequest> = ["555-0123", "+1", "+0123", "14155550123", "+1 415 555 0123"]
        .into_iter()
        .map(|phone| contact_request(tenant.site_key(), &session, Some("jane@example.com"), Some(phone), Some("Jane")))
        .collect();
    assert_contact_refused(server, &tenant, &session, id, &bodies).await;
}

/// E.164 in form, but no numbering plan assigns them: libphonenumber's
/// metadata, which the worker reads from its static assets.
async fn contact_with_a_phone_no_numbering_plan_assigns_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    // No North American area code starts with 1; no country has code 999; a UK number is longer.
    let bodies: Vec<ContactRequest> = ["+11235550123", "+99912345678", "+4420123"]
        .into_iter()
        .map(|phone| contact_request(tenant.site_key(), &session, Some("jane@example.com"), Some(phone), Some("Jane")))
        .collect();
    assert_contact_refused(server, &tenant, &session, id, &bodies).await;
}

async fn contact_with_an_invalid_email_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    let bodies: Vec<ContactRequest> = ["not-an-email", "jane@", "@example.com"]
        .into_iter()
        .map(|address| contact_request(tenant.site_key(), &session, Some(address), Some("+14155550123"), Some("Jane")))
        .collect();
    assert_contact_refused(server, &tenant, &session, id, &bodies).await;
}

async fn contact_with_a_blank_name_is_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    let bodies = [
        contact_request(tenant.site_key(), &session, Some("jane@example.com"), None, Some("  ")),
        contact_request(tenant.site_key(), &session, None, Some("+14155550123"), Some(" \t ")),
    ];
    assert_contact_refused(server, &tenant, &session, id, &bodies).await;
}

// ---------------------------------------------------------------- POST /api/v1/chat/rate

async fn rating_a_conversation_answers_the_rating_id(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    let id = rate_ok(server, tenant.site_key(), &session, 4).await;
    assert!(id > 0, "rating id {id}");
    let (other, _) = new_conversation(server, tenant.site_key()).await;
    let other_id = rate_ok(server, tenant.site_key(), &other, 4).await;
    assert_ne!(other_id, id, "each conversation has its own rating");
}

async fn rating_twice_answers_duplicate_and_keeps_the_first_rating(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    rate_ok(server, tenant.site_key(), &session, 5).await;
    for score in [1, 5] {
        let again: Value = json_of(rate(server, tenant.site_key(), &session, score).await, 200).await;
        assert_eq!(again, json!({"success": true, "id": null, "duplicate": true}), "a second rating with score {score}");
    }
    let typed: RateResponse = json_of(rate(server, tenant.site_key(), &session, 2).await, 200).await;
    assert_eq!(typed, RateResponse { success: true, id: None, duplicate: true });
    assert_saved(comment(server, tenant.site_key(), &session, "Quick and helpful").await, "Comment saved").await;
}

async fn rating_refuses_a_score_outside_1_to_5(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    for score in [0, 6, -1] {
        assert_error(rate(server, tenant.site_key(), &session, score).await, 422, "validation_error", &format!("score {score}")).await;
    }
    rate_ok(server, tenant.site_key(), &session, 1).await;
    let (other, _) = new_conversation(server, tenant.site_key()).await;
    rate_ok(server, tenant.site_key(), &other, 5).await;
}

async fn rating_before_the_first_message_is_404(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    assert_error(rate(server, tenant.site_key(), &session, 5).await, 404, "not_found", "a session that never wrote").await;
    assert_saved(email(server, tenant.site_key(), &session, "rater@example.com").await, "Email saved").await;
    assert_error(rate(server, tenant.site_key(), &session, 5).await, 404, "not_found", "a visitor without a conversation").await;
    say(server, tenant.site_key(), &session, "Now I have a question").await;
    rate_ok(server, tenant.site_key(), &session, 5).await;
}

// ---------------------------------------------------------------- POST /api/v1/chat/rate/comment

async fn a_comment_on_a_rating_is_saved(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    rate_ok(server, tenant.site_key(), &session, 3).await;
    assert_saved(comment(server, tenant.site_key(), &session, "Good answer, a bit slow.").await, "Comment saved").await;
}

async fn a_comment_before_a_rating_is_404(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let fresh = new_session_id();
    assert_error(comment(server, tenant.site_key(), &fresh, "Nice").await, 404, "not_found", "a session that never wrote").await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    assert_error(comment(server, tenant.site_key(), &session, "Nice").await, 404, "not_found", "a conversation not rated yet").await;
    rate_ok(server, tenant.site_key(), &session, 4).await;
    assert_saved(comment(server, tenant.site_key(), &session, "Nice").await, "Comment saved").await;
}

async fn a_comment_must_be_1_to_2000_characters(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    rate_ok(server, tenant.site_key(), &session, 2).await;
    for text in [String::new(), "   \n\t ".into(), "a".repeat(MAX_RATING_COMMENT_CHARS + 1)] {
        let what = format!("a comment of {} characters", text.chars().count());
        assert_error(comment(server, tenant.site_key(), &session, &text).await, 422, "validation_error", &what).await;
    }
    assert_saved(comment(server, tenant.site_key(), &session, &"é".repeat(MAX_RATING_COMMENT_CHARS)).await, "Comment saved").await;
}

// ---------------------------------------------------------------- GET /api/v1/chat/block-status

async fn block_status_of_a_visitor_not_blocked_is_false(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    assert_block_status(server, tenant.site_key(), &new_session_id(), false).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    assert_block_status(server, tenant.site_key(), &session, false).await;
}

async fn a_blocked_visitor_gets_block_status_true_and_403_blocked_elsewhere(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, id) = new_conversation(server, key).await;
    let (bystander, _) = new_conversation(server, key).await;
    assert_block_status(server, key, &session, false).await;
    let visitor = visitor_of(server, &tenant, id).await;
    let block_path = format!("/v1/chat/users/{}/block", visitor.id);
    let response = server.authed(Method::POST, &block_path, tenant.token()).json(&json!({"reason": "spam"})).send().await.unwrap();
    let _: Block = json_of(response, 200).await;

    assert_block_status(server, key, &session, true).await;
    assert_error(stream_raw(server, key, &session, "Let me in").await, 403, "blocked", "stream").await;
    assert_error(history(server, key, &session).await, 403, "blocked", "history").await;
    assert_error(email(server, key, &session, "blocked@example.com").await, 403, "blocked", "email").await;
    assert_error(rate(server, key, &session, 1).await, 403, "blocked", "rate").await;
    assert_eq!(visitor_of(server, &tenant, id).await.email, None, "a blocked visitor's email is not stored");
    assert_block_status(server, key, &bystander, false).await;
    rate_ok(server, key, &bystander, 5).await;

    assert_eq!(server.authed(Method::DELETE, &block_path, tenant.token()).send().await.unwrap().status(), 204);
    assert_block_status(server, key, &session, false).await;
    assert_saved(email(server, key, &session, "unblocked@example.com").await, "Email saved").await;
    rate_ok(server, key, &session, 4).await;
}

/// A visitor's open live stream ends when an operator blocks them, at once
/// (well within one heartbeat, which would end it too), and does not open
/// again; a bystander's stream of the same site goes on.
async fn a_blocked_visitors_open_live_stream_ends_at_once(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, id) = new_conversation(server, key).await;
    let (bystander, bystander_id) = new_conversation(server, key).await;
    let mut stream = EventStream::open(server, key, &session, 0).await;
    let mut other = EventStream::open(server, key, &bystander, 0).await;
    let visitor = visitor_of(server, &tenant, id).await;
    let block_path = format!("/v1/chat/users/{}/block", visitor.id);
    let response = server.authed(Method::POST, &block_path, tenant.token()).json(&json!({})).send().await.unwrap();
    let _: Block = json_of(response, 200).await;
    stream.ends_within(std::time::Duration::from_secs(5)).await;
    let reopened = widget(server, Method::GET, "/api/v1/chat/events").query(&[("site_key", key), ("session_id", session.as_str())]);
    assert_error(reopened.send().await.unwrap(), 403, "blocked", "the stream reopened").await;
    // The bystander's stream still carries the operators' replies.
    let reply = server
        .authed(Method::POST, "/v1/chat/messages/send", tenant.token())
        .json(&json!({"conversation_id": bystander_id, "content": "Still here for you"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 201);
    // (After the replay of the bystander's own first message and its answer.)
    while !matches!(other.event().await, LiveEvent::Message { message, .. } if message.content == "Still here for you") {}
}

// ------------------------------------------------ a session the worker remembers

/// `POST /api/v1/chat/stream` from a page of `origin`, read to its end.
async fn say_from(server: &Server, site_key: &str, session_id: &str, message: &str, origin: &str) -> Streamed {
    let request = widget(server, Method::POST, "/api/v1/chat/stream").header("origin", origin);
    Streamed::read(request.json(&visitor_request(site_key, session_id, message)).send().await.unwrap(), std::time::Instant::now()).await
}

/// The contents of the messages of the session's conversation, oldest first.
async fn history_contents(server: &Server, site_key: &str, session_id: &str) -> Vec<String> {
    let history: HistoryResponse = json_of(history(server, site_key, session_id).await, 200).await;
    history.messages.into_iter().map(|m| m.content).collect()
}

/// The worker remembers what its checked read found for an anonymous
/// session (the site, the visitor, its newest conversation), so the
/// session's next messages skip that read; the Room's write checks that
/// all of it still holds. A change between two messages is honoured at
/// once, with nothing stored: the site's allowed origins (any update of
/// the site, whose message is then stored once), a block, a deleted
/// conversation.
async fn a_remembered_session_is_checked_again_when_its_site_visitor_or_conversation_changes(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, id) = new_conversation(server, key).await;
    let (bystander, _) = new_conversation(server, key).await;
    assert_eq!(say(server, key, &session, "A second question").await, id, "the session's conversation goes on");
    let before = history_contents(server, key, &session).await;
    assert_eq!(before.len(), 4, "two messages and their answers: {before:?}");

    // The site now allows one origin: a page elsewhere is refused at once.
    set_origins(server, &tenant, &[SHOP]).await;
    let refused = say_from(server, key, &session, "From elsewhere", EVIL).await;
    assert_eq!(refused.status, 403, "a message from an origin the site no longer allows: {refused:?}");
    assert_eq!(history_contents(server, key, &session).await, before, "nothing from the refused origin was stored");
    let allowed = say_from(server, key, &session, "From the shop", SHOP).await;
    assert_eq!((allowed.status, allowed.done().conversation_id), (200, id), "{allowed:?}");
    assert_eq!(history_contents(server, key, &session).await.len(), 6);

    // Any other change of the site: the write refuses the remembered site,
    // and the message is checked in full and stored once.
    let path = format!("/v1/sites/{}", tenant.site.id);
    let response = server.authed(Method::PATCH, &path, tenant.token()).json(&json!({ "greeting": "Welcome back" })).send().await.unwrap();
    let _: Site = json_of(response, 200).await;
    assert_eq!(say(server, key, &session, "After the greeting changed").await, id);
    let contents = history_contents(server, key, &session).await;
    assert_eq!(contents.iter().filter(|c| *c == "After the greeting changed").count(), 1, "stored once: {contents:?}");
    assert_eq!(contents.len(), 8);

    // Blocked: refused at once, nothing stored; the bystander goes on.
    let visitor = visitor_of(server, &tenant, id).await;
    let block_path = format!("/v1/chat/users/{}/block", visitor.id);
    let response = server.authed(Method::POST, &block_path, tenant.token()).json(&json!({"reason": "spam"})).send().await.unwrap();
    let _: Block = json_of(response, 200).await;
    assert_error(stream_raw(server, key, &session, "Still here").await, 403, "blocked", "stream of a blocked visitor").await;
    say(server, key, &bystander, "Another question").await;
    assert_eq!(server.authed(Method::DELETE, &block_path, tenant.token()).send().await.unwrap().status(), 204);
    let contents = history_contents(server, key, &session).await;
    assert_eq!(contents.len(), 8, "nothing from the blocked visitor was stored: {contents:?}");
    assert_eq!(say(server, key, &session, "Unblocked now").await, id);
    assert_eq!(history_contents(server, key, &session).await.len(), 10);

    // The conversation is deleted: the next message starts a new one.
    let path = format!("/v1/chat/conversations/{id}?scope=for_everyone");
    assert_eq!(server.authed(Method::DELETE, &path, tenant.token()).send().await.unwrap().status(), 204);
    let next = say(server, key, &session, "Back again").await;
    assert_ne!(next, id, "a deleted conversation takes no more messages");
    assert_eq!(history_contents(server, key, &session).await.first().map(String::as_str), Some("Back again"));
    assert_eq!(say(server, key, &session, "And once more").await, next);
}

// ---------------------------------------------------------------- every feedback route

/// Each feedback route with a body (or query) made of `site_key` and `session_id`.
async fn feedback_answers(server: &Server, site_key: &str, session_id: &str) -> Vec<(&'static str, reqwest::Response)> {
    vec![
        ("email", email(server, site_key, session_id, "jane@example.com").await),
        (
            "contact",
            contact(server, &contact_request(site_key, session_id, Some("jane@example.com"), Some("+14155550123"), Some("Jane"))).await,
        ),
        ("rate", rate(server, site_key, session_id, 5).await),
        ("rate/comment", comment(server, site_key, session_id, "Thanks").await),
        ("block-status", block_status(server, site_key, session_id).await),
    ]
}

async fn an_unknown_site_key_is_404_on_every_feedback_route(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    for (route, response) in feedback_answers(server, "sk_nobody_has_this_key", &session).await {
        assert_error(response, 404, "not_found", route).await;
    }
}

async fn a_malformed_session_id_is_422_on_every_feedback_route(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    for session in ["x", "sess_0123456789abcdef<script>", ""] {
        for (route, response) in feedback_answers(server, tenant.site_key(), session).await {
            assert_error(response, 422, "validation_error", &format!("{route} with session_id {session:?}")).await;
        }
    }
}

// ---------------------------------------------------------------- rate limits

fn config_from<'a>(server: &'a Server, site_key: &'a str) -> impl Fn(&str) -> RequestBuilder + 'a {
    move |ip| widget_from(server, Method::GET, "/api/v1/chat/config", ip).query(&[("site_key", site_key)])
}

async fn config_allows_60_requests_a_minute_then_429_with_retry_after(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let config = config_from(server, tenant.site_key());
    let (ip, over) = burst(&WIDGET_IPS, 20, &[(60, 200, &config)], &config).await;
    assert_rate_limited(over, &format!("the 61st config request in a minute from {ip}")).await;
    assert_rate_limited(config(&ip).send().await.unwrap(), "the 62nd config request").await;
}

async fn stream_allows_20_messages_a_minute_then_429_with_retry_after(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    // Each message from a new visitor: the budget is the client address's, not the session's.
    let message = |ip: &str| {
        widget_from(server, Method::POST, "/api/v1/chat/stream", ip).json(&visitor_request(key, &new_session_id(), "Where is my order?"))
    };
    let (ip, over) = burst(&WIDGET_IPS, 30, &[(20, 200, &message)], &message).await;
    assert_rate_limited(over, &format!("the 21st message in a minute from {ip}")).await;
    let (session, _) = new_conversation(server, key).await;
    let from_ip = widget_from(server, Method::POST, "/api/v1/chat/stream", &ip).json(&visitor_request(key, &session, "And again?"));
    assert_rate_limited(from_ip.send().await.unwrap(), "a known visitor's message from the limited address").await;
    let history: HistoryResponse = json_of(history(server, key, &session).await, 200).await;
    assert_eq!(history.messages.len(), 2, "the refused message was not stored: {:?}", history.messages);
}

async fn each_write_route_has_its_own_budget(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, _) = new_conversation(server, key).await;
    let email_from =
        |ip: &str| widget_from(server, Method::POST, "/api/v1/chat/email", ip).json(&email_request(key, &session, "busy@example.com"));
    let (ip, over) = burst(&WIDGET_IPS, 25, &[(20, 200, &email_from)], &email_from).await;
    assert_rate_limited(over, "the 21st email in a minute").await;
    let contact = contact_request(key, &session, None, Some("+14155550123"), None);
    let response = widget_from(server, Method::POST, "/api/v1/chat/contact", &ip).json(&contact).send().await.unwrap();
    assert_saved(response, "Contact saved").await;
    let response = widget_from(server, Method::POST, "/api/v1/chat/rate", &ip).json(&rate_request(key, &session, 4)).send().await.unwrap();
    let _: RateResponse = json_of(response, 200).await;
    let response = widget_from(server, Method::POST, "/api/v1/chat/stream", &ip)
        .json(&visitor_request(key, &session, "Still there?"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a message: {}", response.text().await.unwrap_or_default());
    assert_rate_limited(email_from(&ip).send().await.unwrap(), "email is still limited").await;
}

async fn block_status_allows_60_requests_a_minute_then_429_apart_from_history(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, _) = new_conversation(server, key).await;
    let status_from = |ip: &str| widget_from(server, Method::GET, "/api/v1/chat/block-status", ip).query(&visitor_query(key, &session));
    let (ip, over) = burst(&WIDGET_IPS, 20, &[(60, 200, &status_from)], &status_from).await;
    assert_rate_limited(over, "the 61st block-status request in a minute").await;
    let response = widget_from(server, Method::GET, "/api/v1/chat/history", &ip).query(&visitor_query(key, &session)).send().await.unwrap();
    let _: HistoryResponse = json_of(response, 200).await;
}

async fn another_ip_or_another_site_is_not_limited(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let other = signup(server, &AUTH_IPS).await;
    let config = config_from(server, tenant.site_key());
    let (ip, over) = burst(&WIDGET_IPS, 25, &[(60, 200, &config)], &config).await;
    assert_rate_limited(over, "the 61st config request in a minute").await;
    let elsewhere: WidgetConfig = json_of(config(&WIDGET_IPS.next()).send().await.unwrap(), 200).await;
    assert_eq!(elsewhere.site_key, tenant.site_key(), "the same site from another address");
    let other_site: WidgetConfig = json_of(config_from(server, other.site_key())(&ip).send().await.unwrap(), 200).await;
    assert_eq!(other_site.site_key, other.site_key(), "another site from the limited address");
    assert_rate_limited(config(&ip).send().await.unwrap(), "the limited address and site").await;
}

async fn validation_errors_are_not_counted(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (session, _) = new_conversation(server, key).await;
    let bad = |ip: &str| widget_from(server, Method::POST, "/api/v1/chat/email", ip).json(&email_request(key, &session, "not-an-email"));
    let good =
        |ip: &str| widget_from(server, Method::POST, "/api/v1/chat/email", ip).json(&email_request(key, &session, "good@example.com"));
    let (_, over) = burst(&WIDGET_IPS, 30, &[(25, 422, &bad), (20, 200, &good)], &good).await;
    assert_rate_limited(over, "the 21st valid email after 25 refused ones").await;
}

// ---------------------------------------------------------------- allowed origins

/// `GET /api/v1/chat/config` of `site_key` with `Origin: origin`.
async fn config_with_origin(server: &Server, site_key: &str, origin: Option<&str>) -> reqwest::Response {
    let mut request = widget(server, Method::GET, "/api/v1/chat/config").query(&[("site_key", site_key)]);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

/// Asserts `origin` may use the site's widget: 200 and the origin echoed.
async fn assert_origin_allowed(server: &Server, tenant: &Tenant, origin: &str) {
    let response = config_with_origin(server, tenant.site_key(), Some(origin)).await;
    let allowed = allow_origin(&response);
    let config: WidgetConfig = json_of(response, 200).await;
    assert_eq!(config.site_key, tenant.site_key());
    assert_eq!(allowed.as_deref(), Some(origin), "Access-Control-Allow-Origin for {origin}");
}

async fn assert_origin_refused(server: &Server, tenant: &Tenant, origin: &str) {
    assert_error(config_with_origin(server, tenant.site_key(), Some(origin)).await, 403, "origin_not_allowed", origin).await;
}

async fn an_empty_origin_list_allows_any_origin(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    assert!(tenant.site.allowed_origins.is_empty(), "a new site allows any origin: {:?}", tenant.site.allowed_origins);
    for origin in [EVIL, "https://customer.example", "http://localhost:8080"] {
        let response = config_with_origin(server, tenant.site_key(), Some(origin)).await;
        let allowed = allow_origin(&response);
        let _: WidgetConfig = json_of(response, 200).await;
        assert!(allowed.as_deref() == Some(origin) || allowed.as_deref() == Some("*"), "{origin}: Access-Control-Allow-Origin {allowed:?}");
    }
    set_origins(server, &tenant, &[SHOP]).await;
    assert_origin_refused(server, &tenant, EVIL).await;
    set_origins(server, &tenant, &[]).await;
    let response = config_with_origin(server, tenant.site_key(), Some(EVIL)).await;
    assert_eq!(response.status(), 200, "an emptied list allows any origin again: {}", response.text().await.unwrap_or_default());
}

async fn an_origin_not_listed_is_403_on_config(server: &Server) {
    let tenant = restricted_tenant(server).await;
    for origin in [EVIL, "http://shop.example.com", "https://shop.example.com.evil.test", "https://a.example.org.evil.test"] {
        assert_origin_refused(server, &tenant, origin).await;
    }
    assert_origin_allowed(server, &tenant, SHOP).await;
}

async fn an_exactly_listed_origin_is_allowed_and_echoed(server: &Server) {
    let tenant = restricted_tenant(server).await;
    assert_origin_allowed(server, &tenant, SHOP).await;
}

async fn a_subdomain_of_a_wildcard_origin_is_allowed_and_echoed(server: &Server) {
    let tenant = restricted_tenant(server).await;
    for origin in ["https://a.example.org", "https://help-desk.example.org"] {
        assert_origin_allowed(server, &tenant, origin).await;
    }
}

async fn the_apex_of_a_wildcard_origin_is_403(server: &Server) {
    let tenant = restricted_tenant(server).await;
    for origin in ["https://example.org", "https://badexample.org"] {
        assert_origin_refused(server, &tenant, origin).await;
    }
}

async fn a_request_without_origin_is_allowed(server: &Server) {
    let tenant = restricted_tenant(server).await;
    let config: WidgetConfig = json_of(config_with_origin(server, tenant.site_key(), None).await, 200).await;
    assert_eq!(config.site_key, tenant.site_key());
    let (session, _) = new_conversation(server, tenant.site_key()).await;
    assert_block_status(server, tenant.site_key(), &session, false).await;
    assert_saved(email(server, tenant.site_key(), &session, "server@example.com").await, "Email saved").await;
}

/// Stream and every feedback route of one visitor, in that order, from `origin`.
async fn routes_with_origin(server: &Server, site_key: &str, session: &str, origin: &str) -> Vec<(&'static str, reqwest::Response)> {
    let post = |path: &str, body: Value| widget(server, Method::POST, path).header("origin", origin).json(&body).send();
    let contact = contact_request(site_key, session, Some("origin@example.com"), None, Some("Origin Tester"));
    vec![
        ("stream", post("/api/v1/chat/stream", json!(visitor_request(site_key, session, "From a page"))).await.unwrap()),
        ("email", post("/api/v1/chat/email", json!(email_request(site_key, session, "origin@example.com"))).await.unwrap()),
        ("contact", post("/api/v1/chat/contact", json!(contact)).await.unwrap()),
        ("rate", post("/api/v1/chat/rate", json!(rate_request(site_key, session, 5))).await.unwrap()),
        ("rate/comment", post("/api/v1/chat/rate/comment", json!(comment_request(site_key, session, "From a page"))).await.unwrap()),
        (
            "block-status",
            widget(server, Method::GET, "/api/v1/chat/block-status")
                .header("origin", origin)
                .query(&visitor_query(site_key, session))
                .send()
                .await
                .unwrap(),
        ),
    ]
}

async fn stream_and_feedback_routes_refuse_an_origin_not_listed(server: &Server) {
    let tenant = restricted_tenant(server).await;
    let (session, id) = new_conversation(server, tenant.site_key()).await;
    for origin in [EVIL, "https://example.org"] {
        for (route, response) in routes_with_origin(server, tenant.site_key(), &session, origin).await {
            assert_error(response, 403, "origin_not_allowed", &format!("{route} from {origin}")).await;
        }
    }
    let visitor = visitor_of(server, &tenant, id).await;
    assert_eq!((visitor.email, visitor.name), (None, None), "nothing from a refused origin was stored");
    let history: HistoryResponse = json_of(history(server, tenant.site_key(), &session).await, 200).await;
    assert_eq!(history.messages.len(), 2, "the refused message was not stored: {:?}", history.messages);
    rate_ok(server, tenant.site_key(), &session, 3).await;
}

async fn stream_and_feedback_routes_allow_a_listed_origin_and_echo_it(server: &Server) {
    let tenant = restricted_tenant(server).await;
    for origin in [SHOP, "https://a.example.org"] {
        let (session, id) = new_conversation(server, tenant.site_key()).await;
        for (route, response) in routes_with_origin(server, tenant.site_key(), &session, origin).await {
            let allowed = allow_origin(&response);
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, 200, "{route} from {origin}: {body}");
            assert_eq!(allowed.as_deref(), Some(origin), "{route} from {origin}: Access-Control-Allow-Origin");
        }
        let visitor = visitor_of(server, &tenant, id).await;
        assert_eq!((visitor.email.as_deref(), visitor.name.as_deref()), (Some("origin@example.com"), Some("Origin Tester")));
    }
}

/// The two streaming routes (whose Room stream the worker hands back to the
/// runtime untouched) with an `Origin` that is not ASCII, as no browser
/// sends it: a site with allowed origins refuses it (403), a site without
/// answers and does not echo it, and the isolate lives on.
async fn a_non_ascii_origin_is_refused_by_a_listing_site_and_never_echoed(server: &Server) {
    let origin = reqwest::header::HeaderValue::from_bytes("https://\u{e9}t\u{e9}.example".as_bytes()).unwrap();
    let stream = |site_key: &str, session: &str| {
        widget(server, Method::POST, "/api/v1/chat/stream")
            .header("origin", origin.clone())
            .json(&visitor_request(site_key, session, "From a page with an odd origin"))
            .send()
    };
    let events = |site_key: &str, session: &str| {
        widget(server, Method::GET, "/api/v1/chat/events").header("origin", origin.clone()).query(&visitor_query(site_key, session)).send()
    };
    let restricted = restricted_tenant(server).await;
    let (session, _) = new_conversation(server, restricted.site_key()).await;
    assert_error(stream(restricted.site_key(), &session).await.unwrap(), 403, "origin_not_allowed", "stream").await;
    assert_error(events(restricted.site_key(), &session).await.unwrap(), 403, "origin_not_allowed", "events").await;
    let open = signup(server, &AUTH_IPS).await;
    let session = new_session_id();
    let answered = stream(open.site_key(), &session).await.unwrap();
    assert_eq!((answered.status().as_u16(), allow_origin(&answered)), (200, None), "stream on a site allowing any origin");
    let answered = Streamed::read(answered, std::time::Instant::now()).await;
    assert!(!answered.answer().is_empty() && answered.done().seq == 1, "the answer streamed to its end");
    let live = events(open.site_key(), &session).await.unwrap();
    assert_eq!((live.status().as_u16(), allow_origin(&live)), (200, None), "events on a site allowing any origin");
    drop(live);
    let history: HistoryResponse = json_of(history(server, open.site_key(), &session).await, 200).await;
    assert_eq!(history.messages.len(), 2, "the question and its answer are stored, and the worker still answers");
}

// ---------------------------------------------------------------- CORS preflights

async fn preflight(server: &Server, query: Option<&str>, origin: &str) -> reqwest::Response {
    let mut request = widget(server, Method::OPTIONS, "/api/v1/chat/stream")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type");
    if let Some(site_key) = query {
        request = request.query(&[("site_key", site_key)]);
    }
    request.send().await.unwrap()
}

async fn a_preflight_from_an_allowed_origin_is_204_with_cors_headers(server: &Server) {
    let tenant = restricted_tenant(server).await;
    for origin in [SHOP, "https://a.example.org"] {
        let response = preflight(server, Some(tenant.site_key()), origin).await;
        assert_eq!(response.status(), 204, "preflight from {origin}");
        assert_eq!(allow_origin(&response).as_deref(), Some(origin), "preflight from {origin}");
        let methods = response.headers().get("access-control-allow-methods").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert!(methods.split(',').any(|m| m.trim().eq_ignore_ascii_case("POST")), "preflight from {origin}: allowed methods {methods:?}");
    }
}

async fn a_preflight_from_another_origin_is_403_without_cors_headers(server: &Server) {
    let tenant = restricted_tenant(server).await;
    for origin in [EVIL, "https://example.org"] {
        let response = preflight(server, Some(tenant.site_key()), origin).await;
        assert_eq!(allow_origin(&response), None, "a refused preflight from {origin} must not allow it");
        assert_error(response, 403, "origin_not_allowed", &format!("preflight from {origin}")).await;
    }
}

async fn a_preflight_without_a_site_key_is_204_and_the_request_is_checked(server: &Server) {
    let tenant = restricted_tenant(server).await;
    let response = preflight(server, None, EVIL).await;
    assert_eq!(response.status(), 204, "a preflight that names no site");
    let session = new_session_id();
    let request = widget(server, Method::POST, "/api/v1/chat/stream").header("origin", EVIL).json(&visitor_request(
        tenant.site_key(),
        &session,
        "hi",
    ));
    assert_error(request.send().await.unwrap(), 403, "origin_not_allowed", "the request after the preflight").await;
}

// ---------------------------------------------------------------- identity verification on a shared browser

/// A logged-in user of the tenant's site: the identity query its pages send,
/// with `user_hash = HMAC-SHA256(site secret, user_id)` in hex as the site's
/// server computes it (README, "Identity verification").
struct User {
    email: String,
    name: &'static str,
    query: Vec<(&'static str, String)>,
}

fn user(tenant: &Tenant, name: &'static str) -> User {
    use hmac::Mac;
    let user_id = unique(&name.to_lowercase());
    let secret = tenant.site.identity_secret.as_deref().expect("owners see the identity secret");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(user_id.as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let email = format!("{user_id}@example.com");
    let query = vec![("user_id", user_id), ("user_hash", hash), ("email", email.clone()), ("name", name.to_string())];
    User { email, name, query }
}

/// `POST /api/v1/chat/stream` as `user` (none: anonymous); answers the conversation of its `done` event.
async fn say_as(server: &Server, site_key: &str, session_id: &str, message: &str, user: Option<&User>) -> i64 {
    let mut request = widget(server, Method::POST, "/api/v1/chat/stream").json(&visitor_request(site_key, session_id, message));
    if let Some(user) = user {
        request = request.query(&user.query);
    }
    let response = request.send().await.expect("the stream reaches the server");
    assert_eq!(response.status(), 200, "{message}");
    let body = response.text().await.expect("the stream reads to its end");
    let mut parser = edgechat_shared::sse::Parser::new();
    let done = parser.push(body.as_bytes()).into_iter().find_map(|frame| match serde_json::from_str(&frame.data) {
        Ok(StreamEvent::Done { meta }) => Some(meta.conversation_id),
        _ => None,
    });
    done.unwrap_or_else(|| panic!("{message}: the stream ends with done: {body}"))
}

/// `GET /api/v1/chat/history` of `session_id` as `user` (none: anonymous).
async fn history_as(server: &Server, site_key: &str, session_id: &str, user: Option<&User>) -> HistoryResponse {
    let mut request = widget(server, Method::GET, "/api/v1/chat/history").query(&visitor_query(site_key, session_id));
    if let Some(user) = user {
        request = request.query(&user.query);
    }
    json_of(request.send().await.unwrap(), 200).await
}

fn contents(history: &HistoryResponse) -> Vec<&str> {
    history.messages.iter().map(|m| m.content.as_str()).collect()
}

/// Asserts operators see conversation `id` as `user`'s, verified.
async fn assert_belongs_to(server: &Server, tenant: &Tenant, id: i64, user: &User) -> Visitor {
    let visitor = visitor_of(server, tenant, id).await;
    assert_eq!(
        (visitor.email.as_deref(), visitor.name.as_deref(), visitor.verified),
        (Some(user.email.as_str()), Some(user.name), true),
        "conversation {id} as operators see it"
    );
    visitor
}

async fn a_second_verified_user_on_one_session_gets_their_own_visitor_and_conversation(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let (alice, bob) = (user(&tenant, "Alice"), user(&tenant, "Bob"));
    // Alice uses the shared browser, logged in, then Bob logs in on the same browser and session.
    let session = new_session_id();
    let alices = say_as(server, key, &session, "My parcel 4471 to 12 Rose Lane has not arrived", Some(&alice)).await;

    let bob_sees = history_as(server, key, &session, Some(&bob)).await;
    assert!(bob_sees.messages.is_empty(), "Bob must see none of Alice's messages: {:?}", contents(&bob_sees));
    assert_eq!(bob_sees.conversation_id, None, "Bob has no conversation yet");
    let bobs = say_as(server, key, &session, "Hello, this is Bob", Some(&bob)).await;
    assert_ne!(bobs, alices, "Bob gets his own conversation");
    let bob_sees = history_as(server, key, &session, Some(&bob)).await;
    assert!(!contents(&bob_sees).iter().any(|c| c.contains("4471")), "{:?}", contents(&bob_sees));

    // Alice's conversation is still Alice's, as operators and as she sees it.
    let alice_visitor = assert_belongs_to(server, &tenant, alices, &alice).await;
    let bob_visitor = assert_belongs_to(server, &tenant, bobs, &bob).await;
    assert_ne!(alice_visitor.id, bob_visitor.id, "two visitors");
    let alice_sees = history_as(server, key, &new_session_id(), Some(&alice)).await;
    assert_eq!(alice_sees.conversation_id, Some(alices));
    assert!(contents(&alice_sees).iter().any(|c| c.contains("4471")), "{:?}", contents(&alice_sees));
    assert!(!contents(&alice_sees).iter().any(|c| c.contains("Bob")), "{:?}", contents(&alice_sees));
}

/// Decided rule: a request without identity never reaches a verified
/// user's visitor, whatever the session; it is the session's anonymous
/// visitor, a fresh one once the session's visitor was verified.
async fn a_request_without_identity_on_a_verified_session_is_a_fresh_anonymous_visitor(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let key = tenant.site_key();
    let alice = user(&tenant, "Alice");
    let session = new_session_id();
    // Anonymous first, then Alice logs in: her session's conversation becomes hers (Intercom-style identify).
    let before_login = say_as(server, key, &session, "Do you ship to Norway?", None).await;
    let alices = say_as(server, key, &session, "My card ending 0042 was charged twice", Some(&alice)).await;
    assert_eq!(alices, before_login, "the anonymous session is upgraded to its first verified user");
    assert_belongs_to(server, &tenant, alices, &alice).await;

    // Alice logs out; whoever holds the browser next calls without identity.
    let next_person = history_as(server, key, &session, None).await;
    assert!(next_person.messages.is_empty(), "the next person must see none of Alice's messages: {:?}", contents(&next_person));
    assert_eq!(next_person.conversation_id, None);
    let theirs = say_as(server, key, &session, "Who was here before me?", None).await;
    assert_ne!(theirs, alices, "a fresh anonymous conversation");
    assert!(!visitor_of(server, &tenant, theirs).await.verified);

    assert_belongs_to(server, &tenant, alices, &alice).await;
    let alice_sees = contents(&history_as(server, key, &session, Some(&alice)).await).join("\n");
    assert!(alice_sees.contains("0042") && !alice_sees.contains("before me"), "{alice_sees}");
}

// ---------------------------------------------------------------- GET /api/v1/chat/pending-proactive

/// `GET /api/v1/chat/pending-proactive` of `site_key` on a page `url` of `chars` characters.
async fn pending_on_a_page_of(server: &Server, site_key: &str, chars: usize) -> reqwest::Response {
    let url = format!("https://shop.example.com/{}", "a".repeat(chars - 25));
    get_query(server, "/api/v1/chat/pending-proactive", &[("site_key", site_key), ("url", url.as_str())]).await
}

async fn pending_proactive_refuses_a_url_over_2048_characters_with_422(server: &Server) {
    let tenant = signup(server, &AUTH_IPS).await;
    let answer: Value = json_of(pending_on_a_page_of(server, tenant.site_key(), 2048).await, 200).await;
    assert_eq!(answer["success"], true, "{answer}");
    let error =
        assert_error(pending_on_a_page_of(server, tenant.site_key(), 2049).await, 422, "validation_error", "a url of 2,049 characters")
            .await;
    assert!(error.message.contains("2048"), "{}", error.message);
    assert_error(pending_on_a_page_of(server, tenant.site_key(), 10_000).await, 422, "validation_error", "a url of 10,000 characters")
        .await;
}
