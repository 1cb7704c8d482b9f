//! Integration tests of the operator API (issue 3) over HTTP against a real
//! `wrangler dev`: `/auth/*` (signup, login and its rate limits, rotating
//! refresh tokens, the console's refresh cookie and its origin check, logout,
//! profile, password change), the access-token checks
//! every operator route shares, operators (`/v1/users`, `/v1/chat/users`,
//! `/v1/chat/agents`), sites and their knowledge base (`/v1/sites…`), and
//! conversations, operator replies, takeover and visitor blocks (`/v1/chat/…`),
//! and the console's pages (`/app/`).
//!
//! Trials run in parallel against one server, so each signs up its own
//! accounts, brings its own visitors and sends every login from its own
//! `CF-Connecting-IP`; none relies on global counts or touches the demo account.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use edgechat_shared::api::auth::{
    AccessClaims, MeResponse, Operator, OperatorRole, SignupResponse, TokenResponse, REFRESH_COOKIE, REFRESH_TOKEN_SECONDS,
};
use edgechat_shared::api::config::WidgetConfig;
use edgechat_shared::api::conversations::{Block, BlockList, ConversationDetail, ConversationList, MessageList, SentMessage, Status};
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::sites::{Article, ArticleList, ImportResult, LauncherPosition, Site, SiteList};
use edgechat_shared::api::stream::StreamRequest;
use edgechat_shared::api::users::OperatorList;
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::theme;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

fn main() {
    let server = Server::start("operator_api");
    run_trials(
        server,
        trials![server;
            // Access tokens, on every operator route
            a_missing_token_is_401,
            a_garbage_token_is_401,
            an_expired_token_is_401,
            a_token_with_a_bad_signature_is_401,
            an_alg_none_token_is_401,
            bodies_that_are_not_json_objects_are_400,
            // POST /auth/signup
            signup_creates_an_owner_account_with_its_first_site,
            signup_without_names_names_the_account_after_the_owner_and_the_site_my_website,
            signup_refuses_a_bad_email_a_short_password_or_a_blank_name,
            signup_with_a_registered_email_in_any_case_is_409,
            signups_count_with_the_logins_of_their_ip_and_past_30_a_minute_create_nothing,
            // POST /auth/login
            login_answers_a_bearer_jwt_with_the_contract_claims,
            login_with_a_wrong_password_or_unknown_email_gives_the_same_401,
            login_is_rate_limited_after_10_attempts_a_minute_for_one_email,
            login_is_rate_limited_after_30_attempts_a_minute_from_one_ip,
            // POST /auth/refresh, POST /auth/logout
            refresh_rotates_the_refresh_token,
            refresh_token_reuse_revokes_the_whole_family,
            refresh_refuses_an_unknown_token,
            logout_revokes_that_refresh_token_only,
            logout_everywhere_revokes_every_refresh_and_access_token_of_the_operator,
            logout_everywhere_needs_a_refresh_token_still_in_use,
            // The console's refresh cookie (issue 11)
            login_and_signup_with_refresh_cookie_set_the_cookie_and_answer_no_refresh_token,
            refresh_with_the_cookie_rotates_it,
            refresh_cookie_moves_a_body_session_into_the_cookie,
            the_cookie_from_another_origin_is_403_and_nothing_is_rotated_or_revoked,
            the_cookie_without_origin_or_sec_fetch_site_is_403,
            refresh_cookie_asked_from_another_origin_is_403,
            body_mode_clients_get_no_cookie,
            logout_with_the_cookie_revokes_it_and_clears_it,
            change_password_keeps_the_cookies_session,
            // GET /auth/me, PATCH /auth/profile, POST /auth/change-password
            profile_update_changes_only_the_given_fields,
            profile_refuses_an_unknown_timezone_a_non_https_avatar_or_a_blank_name,
            change_password_replaces_the_password_and_revokes_other_sessions,
            change_password_refuses_a_wrong_current_password_or_a_short_new_one,
        change_password_guesses_are_limited_as_logins,
            // POST /v1/users, GET /v1/chat/users, GET /v1/chat/agents
            owner_adds_an_operator_who_can_log_in,
            adding_an_operator_refuses_invalid_fields,
            adding_an_operator_with_a_registered_email_is_409,
            invitations_past_30_a_minute_for_one_account_are_429_and_create_nothing,
            admin_adds_agents_but_not_owners,
            agent_gets_403_on_operator_management,
            operator_lists_show_the_callers_account_only,
            // PATCH /v1/users/{id}
            owner_changes_an_operators_role,
            admin_may_not_change_an_owner_or_grant_owner,
            demoting_the_last_owner_is_409,
            two_concurrent_demotions_of_the_two_owners_leave_exactly_one_owner,
            a_role_change_refuses_access_tokens_issued_before,
            // DELETE /v1/users/{id}
            deleting_an_operator_removes_them_and_their_login,
            deleting_yourself_is_409,
            two_owners_removing_each_other_at_once_leave_exactly_one_owner,
            a_removed_operators_access_token_stays_refused_after_another_operator_is_added,
            admin_may_not_delete_an_owner,
            operators_of_another_account_are_404,
            // /v1/sites
            creating_a_site_answers_a_new_key_its_snippet_and_secret,
            sites_list_holds_the_callers_account_sites_only,
            patching_a_site_updates_it_and_the_widget_config,
            site_writes_refuse_a_bad_colour_origin_or_name,
            deleting_a_site_removes_it_and_its_widget,
            rotating_the_identity_secret_answers_a_new_one,
            agent_reads_sites_without_the_secret_and_gets_403_on_writes,
            admin_manages_sites_and_sees_the_secret,
            sites_of_another_account_are_404,
            // Site theming and the widget config (issue 15)
            widget_config_answers_theme_defaults_then_each_patched_setting,
            theme_settings_that_are_not_allowed_are_422_and_store_nothing,
            custom_css_that_is_not_plain_css_is_422_naming_the_construct,
            theme_settings_of_another_accounts_site_are_404,
            widget_config_is_publicly_cacheable_for_five_minutes_and_varies_by_origin,
            widget_config_says_proactive_only_while_an_enabled_rule_exists,
            // /v1/sites/{id}/articles
            articles_are_created_read_updated_and_deleted,
            creating_an_article_without_an_id_generates_one,
            creating_an_article_with_an_existing_id_is_409,
            creating_an_article_without_a_title_or_body_is_422,
            a_created_article_is_found_by_the_widget_until_deleted,
            articles_of_another_account_are_404,
            // POST /v1/sites/{id}/articles/import
            importing_json_lines_creates_and_replaces_articles,
            an_import_with_a_bad_line_names_it_and_imports_nothing,
            an_import_with_an_article_url_that_is_not_https_names_the_line_and_imports_nothing,
            an_imported_article_is_found_by_the_widget,
            a_sites_knowledge_base_is_capped_at_1000_articles_and_4_mib_and_a_refused_import_writes_nothing,
            // GET /v1/chat/conversations…
            conversation_list_shows_the_accounts_conversations_newest_first,
            conversation_list_pages_with_a_cursor,
            conversation_list_refuses_a_limit_of_0_or_over_100,
            conversation_list_filters_by_site_status_mode_and_assignee,
            conversation_messages_come_in_seq_order_and_page_by_seq,
            marking_a_conversation_read_clears_the_callers_unread_count,
            conversation_detail_shows_the_visitors_page_and_rating,
            // POST /v1/chat/messages/send
            operator_send_stores_a_reply_the_visitor_sees,
            operator_send_with_a_repeated_message_id_stores_once,
        a_retried_send_is_broadcast_again_to_sockets_opened_since,
            operator_send_refuses_blank_or_over_10000_characters,
            a_reply_to_a_room_that_serves_its_conversation_is_refused_once_the_token_no_longer_holds,
            // takeover, handback, ai-active, close, reopen, assign
            takeover_silences_the_ai_until_handback,
            takeover_keeps_an_existing_assignee,
            ai_active_lists_open_conversations_in_ai_mode,
            closing_and_reopening_a_conversation,
            assigning_a_conversation_sets_and_clears_its_assignee,
            assigning_to_an_operator_of_another_account_is_404,
            conversations_of_another_account_are_404,
            // /v1/chat/users/{visitor_id}/block, GET /v1/chat/blocks
            blocking_a_visitor_refuses_their_chat_until_unblocked,
            visitors_of_another_account_are_404,
            // /app/ (the console's pages)
            app_redirects_to_app_slash,
            app_deep_links_answer_the_consoles_index,
        ],
    )
}

// ---------------------------------------------------------------- helpers

/// Unknown-topic knowledge base, so that an article under test is the only
/// one holding its words (FTS5 gives a term found in every article no weight).
const FILLER_KB: &str = concat!(
    r#"{"id":"opening-hours","title":"When is your support team available?","body":"Our team answers from 9:00 to 17:00 on weekdays."}"#,
    "\n",
    r#"{"id":"gift-cards","title":"Do you sell gift cards?","body":"Gift cards from 10 to 500 euros are sold in every store."}"#,
    "\n",
    r#"{"id":"invoices","title":"Where can I download my invoices?","body":"Invoices are listed as PDF files under Billing."}"#,
    "\n",
    r#"{"id":"password-reset","title":"I forgot my password","body":"Use the reset link on the login page; it is valid for one hour."}"#,
    "\n",
);

fn unique_email(tag: &str) -> String {
    format!("{}@example.com", unique(tag))
}

async fn patch(server: &Server, path: &str, token: &str, body: Value) -> reqwest::Response {
    send(server, Method::PATCH, path, token, Some(body)).await
}

async fn delete(server: &Server, path: &str, token: &str) -> reqwest::Response {
    send(server, Method::DELETE, path, token, None).await
}

async fn login_via(server: &Server, ip: &str, email: &str, password: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/auth/login", server.url))
        .header("CF-Connecting-IP", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("POST /auth/login reaches the server")
}

/// `POST /auth/login` from a client address no other login uses.
async fn login_from(server: &Server, email: &str, password: &str) -> reqwest::Response {
    login_via(server, &FRESH_IPS.next(), email, password).await
}

async fn login_ok(server: &Server, email: &str, password: &str) -> TokenResponse {
    json_of(login_from(server, email, password).await, 200).await
}

async fn refresh(server: &Server, refresh_token: &str) -> reqwest::Response {
    post_public(server, &FRESH_IPS, "/auth/refresh", &json!({ "refresh_token": refresh_token })).await
}

async fn me(server: &Server, token: &str) -> MeResponse {
    json_of(get(server, "/auth/me", token).await, 200).await
}

/// Client addresses no other login uses (`10.77.x.y`).
static FRESH_IPS: IpPool = IpPool::new("10.77");

/// An operator added to an account, logged in.
struct Member {
    email: String,
    user: Operator,
    tokens: TokenResponse,
}

impl Member {
    fn token(&self) -> &str {
        &self.tokens.access_token
    }
}

/// `POST /v1/users` as `by`, then a login of the new operator.
async fn add_operator(server: &Server, by: &str, role: OperatorRole) -> Member {
    let email = unique_email(role.as_str());
    let body = json!({"email": email, "display_name": format!("Sam {}", role.as_str()), "role": role, "password": PASSWORD});
    let user: Operator = json_of(post(server, "/v1/users", by, body).await, 201).await;
    let tokens = login_ok(server, &email, PASSWORD).await;
    Member { email, user, tokens }
}

async fn operators(server: &Server, token: &str, path: &str) -> Vec<Operator> {
    json_of::<OperatorList>(get(server, path, token).await, 200).await.users
}

async fn operator_ids(server: &Server, token: &str, path: &str) -> BTreeSet<i64> {
    operators(server, token, path).await.iter().map(|o| o.id).collect()
}

async fn role_of(server: &Server, token: &str, id: i64) -> Option<OperatorRole> {
    operators(server, token, "/v1/chat/users").await.iter().find(|o| o.id == id).map(|o| o.role)
}

async fn create_site(server: &Server, token: &str, name: &str) -> Site {
    json_of(post(server, "/v1/sites", token, json!({ "name": name })).await, 201).await
}

async fn site_ids(server: &Server, token: &str) -> Vec<i64> {
    json_of::<SiteList>(get(server, "/v1/sites", token).await, 200).await.sites.iter().map(|s| s.id).collect()
}

async fn widget_config(server: &Server, site_key: &str) -> reqwest::Response {
    server.get(&format!("/api/v1/chat/config?site_key={site_key}")).await
}

fn articles_path(site_id: i64) -> String {
    format!("/v1/sites/{site_id}/articles")
}

async fn create_article(server: &Server, token: &str, site_id: i64, id: &str, title: &str, body: &str) -> Article {
    let input = json!({"id": id, "title": title, "body": body});
    json_of(post(server, &articles_path(site_id), token, input).await, 201).await
}

async fn article_ids(server: &Server, token: &str, site_id: i64) -> Vec<String> {
    json_of::<ArticleList>(get(server, &articles_path(site_id), token).await, 200).await.articles.into_iter().map(|a| a.id).collect()
}

async fn import(server: &Server, token: &str, site_id: i64, jsonl: &str) -> reqwest::Response {
    server
        .authed(Method::POST, &format!("/v1/sites/{site_id}/articles/import"), token)
        .header("content-type", "application/x-ndjson")
        .body(jsonl.to_string())
        .send()
        .await
        .expect("import reaches the server")
}

/// A visitor message through the widget API; panics unless it is answered with `done`.
async fn ask(server: &Server, site_key: &str, session_id: &str, message: &str) -> Streamed {
    let streamed = server.stream(&visitor_request(site_key, session_id, message)).await;
    assert_eq!(streamed.status, 200, "{message}");
    streamed.done();
    streamed
}

/// A new visitor of `site_key` says hello: answers its session and conversation id.
async fn new_conversation(server: &Server, site_key: &str) -> (String, i64) {
    let session = new_session_id();
    let id = ask(server, site_key, &session, "Hello, can someone look at my order?").await.done().conversation_id;
    (session, id)
}

async fn history(server: &Server, site_key: &str, session_id: &str) -> reqwest::Response {
    server.get(&format!("/api/v1/chat/history?site_key={site_key}&session_id={session_id}")).await
}

async fn stored_history(server: &Server, site_key: &str, session_id: &str) -> HistoryResponse {
    json_of(history(server, site_key, session_id).await, 200).await
}

async fn list_conversations(server: &Server, token: &str, path: &str, query: &[(&str, String)]) -> ConversationList {
    let response = server.authed(Method::GET, path, token).query(query).send().await.expect("list reaches the server");
    json_of(response, 200).await
}

fn ids_of(list: &ConversationList) -> Vec<i64> {
    list.conversations.iter().map(|c| c.id).collect()
}

/// The conversation ids `GET /v1/chat/conversations?{filter}` lists, as a set.
async fn filtered(server: &Server, token: &str, filter: (&str, String)) -> BTreeSet<i64> {
    ids_of(&list_conversations(server, token, "/v1/chat/conversations", &[filter]).await).into_iter().collect()
}

async fn messages(server: &Server, token: &str, id: i64, query: &str) -> MessageList {
    json_of(get(server, &format!("{}{query}", conversation_path(id, "/messages")), token).await, 200).await
}

async fn operator_reply(server: &Server, token: &str, conversation_id: i64, content: &str) -> SentMessage {
    let body = json!({"conversation_id": conversation_id, "content": content});
    json_of(post(server, "/v1/chat/messages/send", token, body).await, 201).await
}

fn block_path(visitor_id: i64) -> String {
    format!("/v1/chat/users/{visitor_id}/block")
}

async fn blocked_visitor_ids(server: &Server, token: &str) -> Vec<i64> {
    json_of::<BlockList>(get(server, "/v1/chat/blocks", token).await, 200).await.blocks.iter().map(|b| b.visitor.id).collect()
}

/// The access claims of `tokens`' operator as the server signed them (token
/// version included), made valid for the next 15 minutes.
fn claims_of(tokens: &TokenResponse) -> AccessClaims {
    let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
    let mut claims =
        jsonwebtoken::decode::<AccessClaims>(&tokens.access_token, &key, &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256))
            .expect("an HS256 JWT signed with JWT_SECRET")
            .claims;
    (claims.iat, claims.exp) = (now(), now() + 900);
    claims
}

fn mint(claims: &AccessClaims, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("JWT encodes")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Read routes of every operator; each must refuse a bad token.
const PROTECTED: [&str; 7] =
    ["/auth/me", "/v1/sites", "/v1/chat/users", "/v1/chat/conversations", "/v1/chat/ai-active", "/v1/chat/blocks", "/v1/chat/agents"];

/// Asserts every [`PROTECTED`] route answers 401 `unauthorized` to `authorization`.
async fn assert_unauthorized(server: &Server, authorization: Option<&str>, what: &str) {
    for path in PROTECTED {
        let mut request = server.http.get(format!("{}{path}", server.url));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("GET reaches the server");
        assert_error(response, 401, "unauthorized", &format!("{what} on {path}")).await;
    }
}

/// Asserts `token` is accepted as `tenant`'s owner (the control of a refused variant).
async fn assert_accepted(server: &Server, token: &str, tenant: &Tenant) {
    assert_eq!(me(server, token).await.user.id, tenant.id(), "a correctly signed token is accepted");
}

/// Waits for the next wall-clock minute when fewer than `seconds` are left
/// in this one, so a burst of logins falls in one rate-limit window whether
/// the server counts per calendar minute or over a sliding minute.
async fn within_one_minute(seconds: i64) {
    let into = now() % 60;
    if into + seconds > 60 {
        tokio::time::sleep(Duration::from_secs((61 - into) as u64)).await;
    }
}

/// Asserts a 429 `rate_limited` with a `Retry-After` of 1 to 60 seconds.
async fn assert_rate_limited(response: reqwest::Response, what: &str) {
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap_or("").to_string());
    assert_error(response, 429, "rate_limited", what).await;
    let seconds: u64 =
        retry_after.as_deref().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{what}: Retry-After is {retry_after:?}"));
    assert!((1..=60).contains(&seconds), "{what}: Retry-After {seconds} should be within the minute");
}

// ---------------------------------------------------------------- access tokens

async fn a_missing_token_is_401(server: &Server) {
    assert_unauthorized(server, None, "no Authorization header").await;
    let response = server.http.post(format!("{}/v1/sites", server.url)).json(&json!({"name": "Nope"})).send().await.unwrap();
    assert_error(response, 401, "unauthorized", "POST /v1/sites without a token").await;
}

async fn a_garbage_token_is_401(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let refresh_as_bearer = format!("Bearer {}", tenant.tokens.body_refresh_token());
    let basic = format!("Basic {}", b64(format!("{}:{PASSWORD}", tenant.email).as_bytes()));
    for value in ["Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer eyJhbGciOiJIUzI1NiJ9..", &refresh_as_bearer, &basic] {
        assert_unauthorized(server, Some(value), value).await;
    }
    assert_accepted(server, tenant.token(), &tenant).await;
}

async fn an_expired_token_is_401(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let mut claims = claims_of(&tenant.tokens);
    assert_accepted(server, &mint(&claims, JWT_SECRET), &tenant).await;
    (claims.iat, claims.exp) = (now() - 7200, now() - 3600);
    assert_unauthorized(server, Some(&format!("Bearer {}", mint(&claims, JWT_SECRET))), "a token expired an hour ago").await;
}

async fn a_token_with_a_bad_signature_is_401(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let claims = claims_of(&tenant.tokens);
    assert_accepted(server, &mint(&claims, JWT_SECRET), &tenant).await;
    let foreign = mint(&claims, "not-the-server-secret-0123456789abcdef0123456789");
    assert_unauthorized(server, Some(&format!("Bearer {foreign}")), "a token signed with another secret").await;
    // The other account's claims under this token's header and signature.
    let parts: Vec<&str> = tenant.token().split('.').collect();
    assert_eq!(parts.len(), 3, "the access token is a JWS: {}", tenant.token());
    let swapped = format!("{}.{}.{}", parts[0], b64(&serde_json::to_vec(&claims_of(&other.tokens)).unwrap()), parts[2]);
    assert_unauthorized(server, Some(&format!("Bearer {swapped}")), "a token whose claims were replaced").await;
}

async fn an_alg_none_token_is_401(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let claims = b64(&serde_json::to_vec(&claims_of(&tenant.tokens)).unwrap());
    let none = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let hs256 = b64(br#"{"alg":"HS256","typ":"JWT"}"#);
    let signature = tenant.token().rsplit('.').next().unwrap().to_string();
    for token in
        [format!("{none}.{claims}."), format!("{none}.{claims}"), format!("{none}.{claims}.{signature}"), format!("{hs256}.{claims}.")]
    {
        assert_unauthorized(server, Some(&format!("Bearer {token}")), &token).await;
    }
}

async fn bodies_that_are_not_json_objects_are_400(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let site = format!("/v1/sites/{}", tenant.site.id);
    let routes = [
        (Method::POST, "/auth/signup"),
        (Method::POST, "/auth/login"),
        (Method::POST, "/auth/refresh"),
        (Method::PATCH, "/auth/profile"),
        (Method::POST, "/v1/users"),
        (Method::POST, "/v1/sites"),
        (Method::PATCH, site.as_str()),
        (Method::POST, "/v1/chat/messages/send"),
    ];
    for body in ["{not json", "[]", "\"text\""] {
        for (method, path) in &routes {
            let response = server
                .authed(method.clone(), path, tenant.token())
                .header("CF-Connecting-IP", FRESH_IPS.next())
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_error(response, 400, "bad_request", &format!("{method} {path} with {body}")).await;
        }
    }
    assert_eq!(me(server, tenant.token()).await.user, tenant.tokens.user, "no refused body changed the profile");
}

// ---------------------------------------------------------------- POST /auth/signup

async fn signup_creates_an_owner_account_with_its_first_site(server: &Server) {
    let (email, account_name) = (unique_email("signup"), unique("Acme"));
    let body =
        json!({"email": email, "password": PASSWORD, "name": "Ann Example", "account_name": account_name, "site_name": "acme.example"});
    let signed: SignupResponse = json_of(post_public(server, &FRESH_IPS, "/auth/signup", &body).await, 201).await;
    let tokens = &signed.tokens;
    assert_eq!((tokens.token_type.as_str(), tokens.expires_in), ("Bearer", 900));
    assert_eq!(
        (tokens.user.email.as_str(), tokens.user.display_name.as_str(), tokens.user.role),
        (email.as_str(), "Ann Example", OperatorRole::Owner)
    );
    assert_eq!(tokens.account.name, account_name);
    assert_eq!(signed.site.name, "acme.example");
    assert!(signed.site.site_key.starts_with("sk_"), "{}", signed.site.site_key);
    assert!(signed.site.identity_secret.as_ref().is_some_and(|s| !s.is_empty()), "the owner sees the identity secret");
    let me = me(server, &tokens.access_token).await;
    assert_eq!((me.user, me.account), (tokens.user.clone(), tokens.account.clone()));
    let sites: SiteList = json_of(get(server, "/v1/sites", &tokens.access_token).await, 200).await;
    assert_eq!(sites.sites, vec![signed.site.clone()]);
    let config: WidgetConfig = json_of(widget_config(server, &signed.site.site_key).await, 200).await;
    assert_eq!(config.name, "acme.example");
    let _: TokenResponse = json_of(refresh(server, tokens.body_refresh_token()).await, 200).await;
}

async fn signup_without_names_names_the_account_after_the_owner_and_the_site_my_website(server: &Server) {
    let body = json!({"email": unique_email("defaults"), "password": PASSWORD, "name": "Ben Default"});
    let signed: SignupResponse = json_of(post_public(server, &FRESH_IPS, "/auth/signup", &body).await, 201).await;
    assert_eq!(signed.tokens.account.name, "Ben Default");
    assert_eq!(signed.site.name, "My website");
}

async fn signup_refuses_a_bad_email_a_short_password_or_a_blank_name(server: &Server) {
    let valid = json!({"email": unique_email("refused"), "password": PASSWORD, "name": "Ann"});
    for (field, value) in [("email", "not-an-email"), ("email", ""), ("password", "1234567"), ("name", ""), ("name", "  \t ")] {
        let mut body = valid.clone();
        body[field] = json!(value);
        assert_error(post_public(server, &FRESH_IPS, "/auth/signup", &body).await, 422, "validation_error", &format!("{field} {value:?}"))
            .await;
    }
    let _: SignupResponse = json_of(post_public(server, &FRESH_IPS, "/auth/signup", &valid).await, 201).await;
}

async fn signup_with_a_registered_email_in_any_case_is_409(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    for email in [tenant.email.clone(), tenant.email.to_uppercase()] {
        let body = json!({"email": email, "password": "another password", "name": "Mallory"});
        assert_error(post_public(server, &FRESH_IPS, "/auth/signup", &body).await, 409, "conflict", &email).await;
    }
    assert_eq!(login_ok(server, &tenant.email, PASSWORD).await.user.id, tenant.id(), "the first owner keeps the email");
}

async fn signups_count_with_the_logins_of_their_ip_and_past_30_a_minute_create_nothing(server: &Server) {
    const IP: &str = "192.0.2.31";
    let signup_via = |email: &str| {
        let body = json!({"email": email, "password": PASSWORD, "name": "Sam Signup"});
        server.http.post(format!("{}/auth/signup", server.url)).header("CF-Connecting-IP", IP).json(&body).send()
    };
    within_one_minute(35).await;
    for attempt in 1..=29 {
        let response = login_via(server, IP, &unique_email("guess"), PASSWORD).await;
        assert_error(response, 401, "unauthorized", &format!("login {attempt}")).await;
    }
    let thirtieth = unique_email("thirtieth");
    let _: SignupResponse = json_of(signup_via(&thirtieth).await.expect("signup reaches the server"), 201).await;
    let refused = unique_email("refused");
    assert_rate_limited(signup_via(&refused).await.expect("signup reaches the server"), "the 31st request from one IP, a signup").await;
    assert_error(login_from(server, &refused, PASSWORD).await, 401, "unauthorized", "the refused signup's email").await;
    let _ = login_ok(server, &thirtieth, PASSWORD).await;
    let _ = signup(server, &FRESH_IPS).await;
}

// ---------------------------------------------------------------- POST /auth/login

async fn login_answers_a_bearer_jwt_with_the_contract_claims(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let tokens = login_ok(server, &tenant.email, PASSWORD).await;
    assert_eq!((tokens.token_type.as_str(), tokens.expires_in), ("Bearer", 900));
    assert_eq!((tokens.user.id, tokens.account.id), (tenant.id(), tenant.tokens.account.id));
    assert_ne!(tokens.body_refresh_token(), tenant.tokens.body_refresh_token());
    let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
    let claims =
        jsonwebtoken::decode::<AccessClaims>(&tokens.access_token, &key, &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256))
            .expect("an HS256 JWT signed with JWT_SECRET")
            .claims;
    assert_eq!((claims.sub, claims.acc, claims.role), (tenant.id().to_string(), tenant.tokens.account.id, OperatorRole::Owner));
    assert_eq!(claims.exp - claims.iat, 900);
    assert!((claims.iat - now()).abs() < 120, "iat {} is now", claims.iat);
    assert_eq!(me(server, &tokens.access_token).await.user.id, tenant.id());
}

async fn login_with_a_wrong_password_or_unknown_email_gives_the_same_401(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let wrong_password =
        assert_error(login_from(server, &tenant.email, "wrong password!").await, 401, "unauthorized", "wrong password").await;
    let unknown_email =
        assert_error(login_from(server, &unique_email("nobody"), PASSWORD).await, 401, "unauthorized", "unknown email").await;
    assert_eq!(wrong_password, unknown_email, "the answers do not tell which accounts exist");
}

async fn login_is_rate_limited_after_10_attempts_a_minute_for_one_email(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let bystander = signup(server, &FRESH_IPS).await;
    within_one_minute(15).await;
    for attempt in 1..=10 {
        let response = login_from(server, &tenant.email, "wrong password!").await;
        assert_error(response, 401, "unauthorized", &format!("attempt {attempt}")).await;
    }
    let eleventh = login_from(server, &tenant.email, PASSWORD).await;
    assert_rate_limited(eleventh, "the 11th attempt for one email, from yet another IP, with the right password").await;
    let _ = login_ok(server, &bystander.email, PASSWORD).await;
}

async fn login_is_rate_limited_after_30_attempts_a_minute_from_one_ip(server: &Server) {
    const IP: &str = "192.0.2.30";
    let tenant = signup(server, &FRESH_IPS).await;
    within_one_minute(35).await;
    for attempt in 1..=30 {
        let response = login_via(server, IP, &unique_email("guess"), PASSWORD).await;
        assert_error(response, 401, "unauthorized", &format!("attempt {attempt}")).await;
    }
    assert_rate_limited(login_via(server, IP, &tenant.email, PASSWORD).await, "the 31st attempt from one IP").await;
    let _ = login_ok(server, &tenant.email, PASSWORD).await;
}

// ---------------------------------------------------------------- POST /auth/refresh, /auth/logout

async fn refresh_rotates_the_refresh_token(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let first: TokenResponse = json_of(refresh(server, tenant.tokens.body_refresh_token()).await, 200).await;
    assert_ne!(first.body_refresh_token(), tenant.tokens.body_refresh_token());
    assert_eq!((first.user.id, first.token_type.as_str(), first.expires_in), (tenant.id(), "Bearer", 900));
    assert_eq!(me(server, &first.access_token).await.user.id, tenant.id());
    let second: TokenResponse = json_of(refresh(server, first.body_refresh_token()).await, 200).await;
    assert_ne!(second.body_refresh_token(), first.body_refresh_token());
}

async fn refresh_token_reuse_revokes_the_whole_family(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other_session = login_ok(server, &tenant.email, PASSWORD).await;
    let rotated: TokenResponse = json_of(refresh(server, tenant.tokens.body_refresh_token()).await, 200).await;
    let newest: TokenResponse = json_of(refresh(server, rotated.body_refresh_token()).await, 200).await;
    assert_error(refresh(server, rotated.body_refresh_token()).await, 401, "unauthorized", "reuse of a rotated token").await;
    assert_error(refresh(server, newest.body_refresh_token()).await, 401, "unauthorized", "the newest token of the reused family").await;
    assert_error(refresh(server, tenant.tokens.body_refresh_token()).await, 401, "unauthorized", "the oldest token of the family").await;
    let _: TokenResponse = json_of(refresh(server, other_session.body_refresh_token()).await, 200).await;
}

async fn refresh_refuses_an_unknown_token(server: &Server) {
    for token in ["not-a-refresh-token".to_string(), "f".repeat(64), new_session_id()] {
        assert_error(refresh(server, &token).await, 401, "unauthorized", &token).await;
    }
}

async fn logout_revokes_that_refresh_token_only(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other_session = login_ok(server, &tenant.email, PASSWORD).await;
    let body = json!({"refresh_token": tenant.tokens.body_refresh_token()});
    let answer: Value = json_of(post(server, "/auth/logout", tenant.token(), body).await, 200).await;
    assert_eq!(answer, json!({"success": true}));
    assert_error(refresh(server, tenant.tokens.body_refresh_token()).await, 401, "unauthorized", "a logged-out token").await;
    let _: TokenResponse = json_of(refresh(server, other_session.body_refresh_token()).await, 200).await;
}

async fn logout_everywhere_revokes_every_refresh_and_access_token_of_the_operator(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (_, conversation_id) = new_conversation(server, &tenant.site.site_key).await;
    let other_session = login_ok(server, &tenant.email, PASSWORD).await;
    let colleague = add_operator(server, tenant.token(), OperatorRole::Owner).await;
    let body = json!({"refresh_token": other_session.body_refresh_token(), "all": true});
    let answer: Value = json_of(post_public(server, &FRESH_IPS, "/auth/logout", &body).await, 200).await;
    assert_eq!(answer, json!({"success": true}));
    for (session, tokens) in [("signup", &tenant.tokens), ("login", &other_session)] {
        assert_unauthorized(server, Some(&format!("Bearer {}", tokens.access_token)), &format!("the {session} access token")).await;
        assert_error(refresh(server, tokens.body_refresh_token()).await, 401, "unauthorized", &format!("the {session} refresh token"))
            .await;
        // The send route checks the token in the batch of its own first
        // reads: refused all the same, before any fault of the body.
        let bodies = [
            json!({"conversation_id": conversation_id, "content": "After logout"}),
            json!({"conversation_id": conversation_id, "content": " "}),
            json!({"conversation_id": "not a number"}),
        ];
        for body in bodies {
            let response = send(server, Method::POST, "/v1/chat/messages/send", &tokens.access_token, Some(body.clone())).await;
            assert_error(response, 401, "unauthorized", &format!("the {session} access token sending {body}")).await;
        }
    }
    let stored = messages(server, colleague.token(), conversation_id, "").await.messages;
    assert!(stored.iter().all(|m| m.role != Role::Operator), "nothing was sent with a revoked token: {stored:?}");
    assert_eq!(me(server, colleague.token()).await.user.id, colleague.user.id, "another operator's session goes on");
    let again = login_ok(server, &tenant.email, PASSWORD).await;
    assert_eq!(me(server, &again.access_token).await.user.id, tenant.id(), "a new login works");
}

async fn logout_everywhere_needs_a_refresh_token_still_in_use(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let rotated: TokenResponse = json_of(refresh(server, tenant.tokens.body_refresh_token()).await, 200).await;
    for token in ["not-a-refresh-token".to_string(), "f".repeat(64)] {
        let response = post_public(server, &FRESH_IPS, "/auth/logout", &json!({"refresh_token": token, "all": true})).await;
        assert_error(response, 401, "unauthorized", &token).await;
    }
    assert_eq!(me(server, &rotated.access_token).await.user.id, tenant.id(), "nothing was revoked by a wrong token");
    let logged_out = json!({"refresh_token": rotated.body_refresh_token()});
    let _: Value = json_of(post_public(server, &FRESH_IPS, "/auth/logout", &logged_out).await, 200).await;
    let response =
        post_public(server, &FRESH_IPS, "/auth/logout", &json!({"refresh_token": rotated.body_refresh_token(), "all": true})).await;
    assert_error(response, 401, "unauthorized", "a refresh token already logged out").await;
    assert_eq!(me(server, &rotated.access_token).await.user.id, tenant.id(), "nothing was revoked by a logged-out token");
}

// ---------------------------------------------------------------- the console's refresh cookie

/// Where a browser says a request comes from (`Origin`, `Sec-Fetch-Site`).
#[derive(Debug, Clone, Copy)]
enum From {
    /// `Origin` of the worker itself: the console.
    Own,
    /// `Sec-Fetch-Site: same-origin` alone.
    SameOriginFetch,
    /// `Origin: https://evil.example`.
    Evil,
    /// `Sec-Fetch-Site: cross-site` alone.
    CrossSiteFetch,
    /// The worker's own `Origin`, but `Sec-Fetch-Site: cross-site`.
    OwnButCrossSite,
    /// Neither header.
    Nowhere,
}

const EVIL_ORIGIN: &str = "https://evil.example";

/// `POST {path}` from a fresh client address as a browser at `from` sends
/// it, with the `ec_refresh` cookie `cookie` when given.
fn auth_post(server: &Server, path: &str, from: From, cookie: Option<&str>) -> reqwest::RequestBuilder {
    let mut request = server.http.post(format!("{}{path}", server.url)).header("CF-Connecting-IP", FRESH_IPS.next());
    let (origin, fetch_site) = match from {
        From::Own => (Some(server.url.as_str()), None),
        From::SameOriginFetch => (None, Some("same-origin")),
        From::Evil => (Some(EVIL_ORIGIN), None),
        From::CrossSiteFetch => (None, Some("cross-site")),
        From::OwnButCrossSite => (Some(server.url.as_str()), Some("cross-site")),
        From::Nowhere => (None, None),
    };
    if let Some(origin) = origin {
        request = request.header("Origin", origin);
    }
    if let Some(site) = fetch_site {
        request = request.header("Sec-Fetch-Site", site);
    }
    if let Some(token) = cookie {
        request = request.header("Cookie", format!("{REFRESH_COOKIE}={token}"));
    }
    request
}

async fn sent(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("the request reaches the server")
}

/// The `Set-Cookie` headers of an answer.
fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all("set-cookie").iter().map(|v| v.to_str().expect("ASCII Set-Cookie").to_string()).collect()
}

/// Asserts the answer sets exactly one cookie, `ec_refresh`, with exactly the
/// console's attributes and `Max-Age` of `max_age` seconds; answers its value.
fn refresh_cookie_of(response: &reqwest::Response, max_age: i64) -> String {
    let cookies = set_cookies(response);
    let [cookie] = cookies.as_slice() else { panic!("one Set-Cookie expected, {} answered {cookies:?}", response.status()) };
    let mut parts = cookie.split(';').map(str::trim);
    let (name, value) = parts.next().and_then(|pair| pair.split_once('=')).expect("name=value");
    assert_eq!(name, REFRESH_COOKIE, "{cookie}");
    let attributes: BTreeSet<&str> = parts.collect();
    let max_age = format!("Max-Age={max_age}");
    let expected = BTreeSet::from(["HttpOnly", "Secure", "SameSite=Strict", "Path=/auth", max_age.as_str()]);
    assert_eq!(attributes, expected, "{cookie}");
    value.to_string()
}

/// Asserts a 200 token answer in cookie mode: a fresh `ec_refresh` cookie and
/// no `refresh_token` in the body. Answers the cookie's token and the body.
async fn cookie_tokens(response: reqwest::Response) -> (String, TokenResponse) {
    let cookie = refresh_cookie_of(&response, REFRESH_TOKEN_SECONDS);
    let body: Value = json_of(response, 200).await;
    assert!(body.get("refresh_token").is_none(), "no refresh_token in the body in cookie mode: {body}");
    assert!(!cookie.is_empty());
    (cookie, serde_json::from_value(body).expect("a token answer"))
}

/// Logs `email` in from the console (own origin, `refresh_cookie`): answers the cookie's token and the body.
async fn console_login(server: &Server, email: &str) -> (String, TokenResponse) {
    let body = json!({"email": email, "password": PASSWORD, "refresh_cookie": true});
    cookie_tokens(sent(auth_post(server, "/auth/login", From::Own, None).json(&body)).await).await
}

/// `POST /auth/refresh` with an empty body and the cookie `token`, as a browser at `from` sends it.
async fn cookie_refresh(server: &Server, from: From, token: &str) -> reqwest::Response {
    sent(auth_post(server, "/auth/refresh", from, Some(token))).await
}

async fn login_and_signup_with_refresh_cookie_set_the_cookie_and_answer_no_refresh_token(server: &Server) {
    let email = unique_email("console");
    let body = json!({"email": email, "password": PASSWORD, "name": "Cora Console", "refresh_cookie": true});
    let response = sent(auth_post(server, "/auth/signup", From::Own, None).json(&body)).await;
    let cookie = refresh_cookie_of(&response, REFRESH_TOKEN_SECONDS);
    let signed: Value = json_of(response, 201).await;
    assert!(signed.get("refresh_token").is_none(), "{signed}");
    let signed: SignupResponse = serde_json::from_value(signed).expect("a signup answer");
    assert_eq!(me(server, &signed.tokens.access_token).await.user.email, email);
    let (login_cookie, tokens) = console_login(server, &email).await;
    assert_ne!(login_cookie, cookie, "each login starts its own session");
    assert_eq!((tokens.user.id, tokens.token_type.as_str(), tokens.expires_in), (signed.tokens.user.id, "Bearer", 900));
    for token in [cookie, login_cookie] {
        let (_, renewed) = cookie_tokens(cookie_refresh(server, From::Own, &token).await).await;
        assert_eq!(renewed.user.id, tokens.user.id, "each cookie holds a working refresh token");
    }
}

async fn refresh_with_the_cookie_rotates_it(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (first, _) = console_login(server, &tenant.email).await;
    let (second, renewed) = cookie_tokens(cookie_refresh(server, From::Own, &first).await).await;
    assert_ne!(second, first);
    assert_eq!(me(server, &renewed.access_token).await.user.id, tenant.id());
    let with_empty_object = auth_post(server, "/auth/refresh", From::SameOriginFetch, Some(&second)).json(&json!({}));
    let (third, _) = cookie_tokens(sent(with_empty_object).await).await;
    assert_ne!(third, second);
    assert_error(cookie_refresh(server, From::Own, &first).await, 401, "unauthorized", "a rotated cookie").await;
    assert_error(cookie_refresh(server, From::Own, &third).await, 401, "unauthorized", "a reused cookie revokes its family").await;
    let _: TokenResponse = json_of(refresh(server, tenant.tokens.body_refresh_token()).await, 200).await;
}

async fn refresh_cookie_moves_a_body_session_into_the_cookie(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let body = json!({"refresh_token": tenant.tokens.body_refresh_token(), "refresh_cookie": true});
    let refused = sent(auth_post(server, "/auth/refresh", From::Evil, None).json(&body)).await;
    assert_error(refused, 403, "forbidden", "a cookie asked for from another origin").await;
    let (cookie, _) = cookie_tokens(sent(auth_post(server, "/auth/refresh", From::Own, None).json(&body)).await).await;
    let _ = cookie_tokens(cookie_refresh(server, From::Own, &cookie).await).await;
    // Last: a reused token revokes its family, the cookie's session included.
    assert_error(refresh(server, tenant.tokens.body_refresh_token()).await, 401, "unauthorized", "the body token was used up").await;
}

async fn the_cookie_from_another_origin_is_403_and_nothing_is_rotated_or_revoked(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (cookie, tokens) = console_login(server, &tenant.email).await;
    for from in [From::Evil, From::CrossSiteFetch, From::OwnButCrossSite] {
        for path in ["/auth/refresh", "/auth/logout"] {
            let response = sent(auth_post(server, path, from, Some(&cookie))).await;
            assert!(set_cookies(&response).is_empty(), "{path} from {from:?} sets no cookie");
            let refused = assert_error(response, 403, "forbidden", &format!("{path} from {from:?}")).await;
            assert!(refused.message.contains("origin"), "{path} from {from:?}: {}", refused.message);
        }
        let everywhere = auth_post(server, "/auth/logout", from, Some(&cookie)).json(&json!({"all": true}));
        assert_error(sent(everywhere).await, 403, "forbidden", &format!("logout everywhere from {from:?}")).await;
    }
    assert_eq!(me(server, &tokens.access_token).await.user.id, tenant.id(), "no session was ended");
    let (rotated, _) = cookie_tokens(cookie_refresh(server, From::Own, &cookie).await).await;
    assert_ne!(rotated, cookie, "the cookie was neither rotated nor revoked before");
}

async fn the_cookie_without_origin_or_sec_fetch_site_is_403(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (cookie, _) = console_login(server, &tenant.email).await;
    for path in ["/auth/refresh", "/auth/logout"] {
        assert_error(sent(auth_post(server, path, From::Nowhere, Some(&cookie))).await, 403, "forbidden", path).await;
    }
    let _ = cookie_tokens(cookie_refresh(server, From::SameOriginFetch, &cookie).await).await;
}

async fn refresh_cookie_asked_from_another_origin_is_403(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let login = json!({"email": tenant.email, "password": PASSWORD, "refresh_cookie": true});
    for from in [From::Evil, From::CrossSiteFetch, From::Nowhere] {
        let response = sent(auth_post(server, "/auth/login", from, None).json(&login)).await;
        assert!(set_cookies(&response).is_empty());
        assert_error(response, 403, "forbidden", &format!("login from {from:?}")).await;
    }
    let email = unique_email("csrf");
    let body = json!({"email": email, "password": PASSWORD, "name": "Mallory", "refresh_cookie": true});
    assert_error(sent(auth_post(server, "/auth/signup", From::Evil, None).json(&body)).await, 403, "forbidden", "signup").await;
    assert_error(login_from(server, &email, PASSWORD).await, 401, "unauthorized", "no account was created").await;
}

async fn body_mode_clients_get_no_cookie(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let login = json!({"email": tenant.email, "password": PASSWORD});
    let response = sent(auth_post(server, "/auth/login", From::Evil, None).json(&login)).await;
    assert!(set_cookies(&response).is_empty());
    let tokens: TokenResponse = json_of(response, 200).await;
    // Another session's cookie on the request is not used when the body names a token.
    let (cookie, _) = console_login(server, &tenant.email).await;
    let body = json!({"refresh_token": tokens.body_refresh_token()});
    let response = sent(auth_post(server, "/auth/refresh", From::Evil, Some(&cookie)).json(&body)).await;
    assert!(set_cookies(&response).is_empty());
    let renewed: TokenResponse = json_of(response, 200).await;
    assert_ne!(renewed.body_refresh_token(), tokens.body_refresh_token());
    let logout = json!({"refresh_token": renewed.body_refresh_token()});
    let response = sent(auth_post(server, "/auth/logout", From::Evil, Some(&cookie)).json(&logout)).await;
    assert!(set_cookies(&response).is_empty());
    assert_eq!(json_of::<Value>(response, 200).await, json!({"success": true}));
    assert_error(refresh(server, renewed.body_refresh_token()).await, 401, "unauthorized", "the body session ended").await;
    let _ = cookie_tokens(cookie_refresh(server, From::Own, &cookie).await).await;
}

async fn logout_with_the_cookie_revokes_it_and_clears_it(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (cookie, _) = console_login(server, &tenant.email).await;
    let (other, _) = console_login(server, &tenant.email).await;
    let response = sent(auth_post(server, "/auth/logout", From::Own, Some(&cookie))).await;
    assert_eq!(refresh_cookie_of(&response, 0), "", "the answer deletes the cookie");
    assert_eq!(json_of::<Value>(response, 200).await, json!({"success": true}));
    assert_error(cookie_refresh(server, From::Own, &cookie).await, 401, "unauthorized", "a logged-out cookie").await;
    let again = sent(auth_post(server, "/auth/logout", From::SameOriginFetch, Some(&cookie)).json(&json!({}))).await;
    assert_eq!(refresh_cookie_of(&again, 0), "", "an already revoked cookie is deleted too");
    assert_eq!(json_of::<Value>(again, 200).await, json!({"success": true}));
    let _ = cookie_tokens(cookie_refresh(server, From::Own, &other).await).await;
}

async fn change_password_keeps_the_cookies_session(server: &Server) {
    const NEW: &str = "a much better passphrase";
    let tenant = signup(server, &FRESH_IPS).await;
    let (cookie, tokens) = console_login(server, &tenant.email).await;
    let body = json!({"current_password": PASSWORD, "new_password": NEW});
    let cross = auth_post(server, "/auth/change-password", From::Evil, Some(&cookie)).bearer_auth(&tokens.access_token).json(&body);
    assert_error(sent(cross).await, 403, "forbidden", "the cookie from another origin").await;
    assert_eq!(login_ok(server, &tenant.email, PASSWORD).await.user.id, tenant.id(), "the password is unchanged");
    let own = auth_post(server, "/auth/change-password", From::Own, Some(&cookie)).bearer_auth(&tokens.access_token).json(&body);
    assert_eq!(json_of::<Value>(sent(own).await, 200).await, json!({"success": true}));
    assert_error(refresh(server, tenant.tokens.body_refresh_token()).await, 401, "unauthorized", "another session").await;
    let (_, renewed) = cookie_tokens(cookie_refresh(server, From::Own, &cookie).await).await;
    assert_eq!(me(server, &renewed.access_token).await.user.id, tenant.id(), "the cookie's session goes on");
}

// ---------------------------------------------------------------- /auth/me, /auth/profile, /auth/change-password

async fn profile_update_changes_only_the_given_fields(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let body = json!({"display_name": "Nina Support", "avatar_url": "https://cdn.example.com/nina.png", "timezone": "Europe/Paris"});
    let updated: Operator = json_of(patch(server, "/auth/profile", tenant.token(), body).await, 200).await;
    assert_eq!(updated.display_name, "Nina Support");
    assert_eq!(updated.avatar_url.as_deref(), Some("https://cdn.example.com/nina.png"));
    assert_eq!((updated.id, updated.timezone.as_str()), (tenant.id(), "Europe/Paris"));
    let again: Operator = json_of(patch(server, "/auth/profile", tenant.token(), json!({"timezone": "America/New_York"})).await, 200).await;
    assert_eq!((again.display_name.as_str(), again.avatar_url.as_deref()), ("Nina Support", Some("https://cdn.example.com/nina.png")));
    assert_eq!(again.timezone, "America/New_York");
    assert_eq!(me(server, tenant.token()).await.user, again);
    let cleared: Operator = json_of(patch(server, "/auth/profile", tenant.token(), json!({"avatar_url": ""})).await, 200).await;
    assert_eq!(cleared.avatar_url, None, "an empty avatar_url removes it");
    // The tz database's own spelling is stored (the runtime's tz data decides).
    let lower: Operator = json_of(patch(server, "/auth/profile", tenant.token(), json!({"timezone": "asia/tokyo"})).await, 200).await;
    assert_eq!(lower.timezone, "Asia/Tokyo");
    // An alias is stored as the runtime's preferred ID (a runtime that changes it shows here).
    let alias: Operator = json_of(patch(server, "/auth/profile", tenant.token(), json!({"timezone": "US/Eastern"})).await, 200).await;
    assert_eq!(alias.timezone, "America/New_York");
}

async fn profile_refuses_an_unknown_timezone_a_non_https_avatar_or_a_blank_name(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    for body in [
        json!({"timezone": "Mars/Base"}),
        // UTC offsets, which ECMA-402 takes as time zones, are no tz names.
        json!({"timezone": "+05:30"}),
        json!({"timezone": "+0530"}),
        json!({"avatar_url": "http://cdn.example.com/a.png"}),
        json!({"avatar_url": "javascript:alert(1)"}),
        json!({"display_name": "   "}),
        json!({"display_name": "Valid Name", "timezone": "Mars/Base"}),
    ] {
        assert_error(patch(server, "/auth/profile", tenant.token(), body.clone()).await, 422, "validation_error", &body.to_string()).await;
    }
    assert_eq!(me(server, tenant.token()).await.user, tenant.tokens.user, "nothing was changed");
}

async fn change_password_replaces_the_password_and_revokes_other_sessions(server: &Server) {
    const NEW: &str = "a much better passphrase";
    let tenant = signup(server, &FRESH_IPS).await;
    let kept = login_ok(server, &tenant.email, PASSWORD).await;
    let other = login_ok(server, &tenant.email, PASSWORD).await;
    let body = json!({"current_password": PASSWORD, "new_password": NEW, "refresh_token": kept.body_refresh_token()});
    let answer: Value = json_of(post(server, "/auth/change-password", &kept.access_token, body).await, 200).await;
    assert_eq!(answer, json!({"success": true}));
    assert_error(login_from(server, &tenant.email, PASSWORD).await, 401, "unauthorized", "the old password").await;
    assert_eq!(login_ok(server, &tenant.email, NEW).await.user.id, tenant.id());
    assert_error(refresh(server, tenant.tokens.body_refresh_token()).await, 401, "unauthorized", "the signup session").await;
    assert_error(refresh(server, other.body_refresh_token()).await, 401, "unauthorized", "another login session").await;
    let _: TokenResponse = json_of(refresh(server, kept.body_refresh_token()).await, 200).await;
}

async fn change_password_refuses_a_wrong_current_password_or_a_short_new_one(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    for (current, new) in [("wrong password!", "a much better passphrase"), (PASSWORD, "short12")] {
        let body = json!({"current_password": current, "new_password": new});
        assert_error(
            post(server, "/auth/change-password", tenant.token(), body).await,
            422,
            "validation_error",
            &format!("{current} -> {new}"),
        )
        .await;
    }
    assert_eq!(login_ok(server, &tenant.email, PASSWORD).await.user.id, tenant.id(), "the password is unchanged");
    let _: TokenResponse = json_of(refresh(server, tenant.tokens.body_refresh_token()).await, 200).await;
}

/// Guesses of the current password count as logins of the operator's
/// email (10 a minute): past them even the right password is 429 and
/// nothing changes.
async fn change_password_guesses_are_limited_as_logins(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let body = json!({"current_password": format!("guess number {i}"), "new_password": "a much better passphrase"});
        statuses.push(post(server, "/auth/change-password", tenant.token(), body).await.status().as_u16());
    }
    assert!(statuses.iter().all(|s| [422, 429].contains(s)), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == 422).count() <= 10, "at most 10 guesses are checked: {statuses:?}");
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    let right = json!({"current_password": PASSWORD, "new_password": "a much better passphrase"});
    assert_error(post(server, "/auth/change-password", tenant.token(), right).await, 429, "rate_limited", "the right password").await;
    // Nothing changed: the signup's session still refreshes.
    let _: TokenResponse = json_of(refresh(server, tenant.tokens.body_refresh_token()).await, 200).await;
}

// ---------------------------------------------------------------- operators

async fn owner_adds_an_operator_who_can_log_in(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let email = unique_email("agent");
    let body = json!({"email": email, "display_name": "Sam Agent", "role": "agent", "password": PASSWORD});
    let added: Operator = json_of(post(server, "/v1/users", tenant.token(), body).await, 201).await;
    assert_eq!((added.email.as_str(), added.display_name.as_str(), added.role), (email.as_str(), "Sam Agent", OperatorRole::Agent));
    let tokens = login_ok(server, &email, PASSWORD).await;
    assert_eq!((tokens.user.id, &tokens.account), (added.id, &tenant.tokens.account));
    let me = me(server, &tokens.access_token).await;
    assert_eq!((me.user.role, me.account.id), (OperatorRole::Agent, tenant.tokens.account.id));
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id(), added.id]));
}

async fn adding_an_operator_refuses_invalid_fields(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let valid = json!({"email": unique_email("agent"), "display_name": "Sam", "role": "agent", "password": PASSWORD});
    for (field, value) in [("email", "not-an-email"), ("display_name", " "), ("password", "1234567")] {
        let mut body = valid.clone();
        body[field] = json!(value);
        assert_error(post(server, "/v1/users", tenant.token(), body).await, 422, "validation_error", &format!("{field} {value:?}")).await;
    }
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id()]));
}

async fn adding_an_operator_with_a_registered_email_is_409(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    for email in [&tenant.email, &other.email, &agent.email] {
        let body = json!({"email": email, "display_name": "Copy", "role": "agent", "password": PASSWORD});
        assert_error(post(server, "/v1/users", tenant.token(), body).await, 409, "conflict", email).await;
    }
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id(), agent.user.id]));
    assert_eq!(login_ok(server, &other.email, PASSWORD).await.user.id, other.id(), "the other account's owner is untouched");
}

/// Each invitation costs a password hash, and its 409 tells whether an
/// email is taken in any account: an account may send 30 a minute, taken
/// emails included; the 31st is 429 and creates nobody. Another account
/// is not held back.
async fn invitations_past_30_a_minute_for_one_account_are_429_and_create_nothing(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let bystander = signup(server, &FRESH_IPS).await;
    within_one_minute(40).await;
    for n in 0..30 {
        let email = if n % 10 == 0 { bystander.email.clone() } else { unique_email("invited") };
        let body = json!({"email": email, "display_name": "Invited", "role": "agent", "password": PASSWORD});
        let status = post(server, "/v1/users", tenant.token(), body).await.status().as_u16();
        assert_eq!(status, if n % 10 == 0 { 409 } else { 201 }, "invitation {n}");
    }
    let refused = unique_email("refused");
    let body = json!({"email": refused, "display_name": "Refused", "role": "agent", "password": PASSWORD});
    assert_rate_limited(post(server, "/v1/users", tenant.token(), body).await, "the 31st invitation").await;
    assert_error(login_from(server, &refused, PASSWORD).await, 401, "unauthorized", "the refused invitation's email").await;
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await.len(), 28, "the owner and 27 invited");
    let _ = add_operator(server, bystander.token(), OperatorRole::Agent).await;
}

async fn admin_adds_agents_but_not_owners(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    let agent = add_operator(server, admin.token(), OperatorRole::Agent).await;
    assert_eq!(agent.tokens.account.id, tenant.tokens.account.id);
    let body = json!({"email": unique_email("owner"), "display_name": "Would-be Owner", "role": "owner", "password": PASSWORD});
    assert_error(post(server, "/v1/users", admin.token(), body).await, 403, "forbidden", "an admin adding an owner").await;
    let ids = operator_ids(server, tenant.token(), "/v1/chat/users").await;
    assert_eq!(ids, BTreeSet::from([tenant.id(), admin.user.id, agent.user.id]));
}

async fn agent_gets_403_on_operator_management(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let body = json!({"email": unique_email("agent"), "display_name": "Sam", "role": "agent", "password": PASSWORD});
    assert_error(post(server, "/v1/users", agent.token(), body).await, 403, "forbidden", "an agent adding an operator").await;
    let promote = json!({"role": "admin"});
    assert_error(
        patch(server, &format!("/v1/users/{}", agent.user.id), agent.token(), promote).await,
        403,
        "forbidden",
        "an agent promoting itself",
    )
    .await;
    let demote = json!({"role": "agent"});
    assert_error(
        patch(server, &format!("/v1/users/{}", tenant.id()), agent.token(), demote).await,
        403,
        "forbidden",
        "an agent demoting the owner",
    )
    .await;
    assert_error(
        delete(server, &format!("/v1/users/{}", tenant.id()), agent.token()).await,
        403,
        "forbidden",
        "an agent deleting the owner",
    )
    .await;
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id(), agent.user.id]));
    assert_eq!(role_of(server, tenant.token(), tenant.id()).await, Some(OperatorRole::Owner));
    assert_eq!(role_of(server, tenant.token(), agent.user.id).await, Some(OperatorRole::Agent));
}

async fn operator_lists_show_the_callers_account_only(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let other = signup(server, &FRESH_IPS).await;
    for path in ["/v1/chat/users", "/v1/chat/agents"] {
        let ours = BTreeSet::from([tenant.id(), agent.user.id]);
        assert_eq!(operator_ids(server, tenant.token(), path).await, ours, "{path} as the owner");
        assert_eq!(operator_ids(server, agent.token(), path).await, ours, "{path} as the agent");
        assert_eq!(operator_ids(server, other.token(), path).await, BTreeSet::from([other.id()]), "{path} of another account");
    }
}

// ---------------------------------------------------------------- PATCH /v1/users/{id}

async fn owner_changes_an_operators_role(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    assert_error(post(server, "/v1/sites", agent.token(), json!({"name": "Not yet"})).await, 403, "forbidden", "an agent creating a site")
        .await;
    let changed: Operator =
        json_of(patch(server, &format!("/v1/users/{}", agent.user.id), tenant.token(), json!({"role": "admin"})).await, 200).await;
    assert_eq!((changed.id, changed.role), (agent.user.id, OperatorRole::Admin));
    assert_eq!(role_of(server, tenant.token(), agent.user.id).await, Some(OperatorRole::Admin));
    let promoted = login_ok(server, &agent.email, PASSWORD).await;
    assert_eq!(promoted.user.role, OperatorRole::Admin);
    let _ = create_site(server, &promoted.access_token, "Promoted").await;
}

async fn admin_may_not_change_an_owner_or_grant_owner(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    let other_admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let path = |id: i64| format!("/v1/users/{id}");
    assert_error(
        patch(server, &path(tenant.id()), admin.token(), json!({"role": "agent"})).await,
        403,
        "forbidden",
        "an admin demoting an owner",
    )
    .await;
    assert_error(
        patch(server, &path(agent.user.id), admin.token(), json!({"role": "owner"})).await,
        403,
        "forbidden",
        "an admin granting owner",
    )
    .await;
    assert_error(
        patch(server, &path(admin.user.id), admin.token(), json!({"role": "owner"})).await,
        403,
        "forbidden",
        "an admin making itself owner",
    )
    .await;
    let changed: Operator = json_of(patch(server, &path(other_admin.user.id), admin.token(), json!({"role": "agent"})).await, 200).await;
    assert_eq!(changed.role, OperatorRole::Agent, "an admin may change a non-owner");
    for (id, role) in [
        (tenant.id(), OperatorRole::Owner),
        (admin.user.id, OperatorRole::Admin),
        (agent.user.id, OperatorRole::Agent),
        (other_admin.user.id, OperatorRole::Agent),
    ] {
        assert_eq!(role_of(server, tenant.token(), id).await, Some(role), "operator {id}");
    }
}

async fn demoting_the_last_owner_is_409(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let path = format!("/v1/users/{}", tenant.id());
    assert_error(patch(server, &path, tenant.token(), json!({"role": "admin"})).await, 409, "conflict", "demoting the only owner").await;
    assert_eq!(me(server, tenant.token()).await.user.role, OperatorRole::Owner);
    let second = add_operator(server, tenant.token(), OperatorRole::Owner).await;
    assert_eq!(second.user.role, OperatorRole::Owner);
    let demoted: Operator = json_of(patch(server, &path, tenant.token(), json!({"role": "admin"})).await, 200).await;
    assert_eq!(demoted.role, OperatorRole::Admin, "with a second owner the first may step down");
    let last = format!("/v1/users/{}", second.user.id);
    assert_error(patch(server, &last, second.token(), json!({"role": "agent"})).await, 409, "conflict", "demoting the new last owner")
        .await;
}

/// The status of each of two requests sent at once.
async fn at_once(first: reqwest::RequestBuilder, second: reqwest::RequestBuilder) -> [u16; 2] {
    let (a, b) = tokio::join!(first.send(), second.send());
    [
        a.expect("the first request reaches the server").status().as_u16(),
        b.expect("the second request reaches the server").status().as_u16(),
    ]
}

/// The owners of the account of `token`'s operator.
async fn owner_ids(server: &Server, token: &str) -> BTreeSet<i64> {
    operators(server, token, "/v1/chat/users").await.iter().filter(|o| o.role == OperatorRole::Owner).map(|o| o.id).collect()
}

async fn two_concurrent_demotions_of_the_two_owners_leave_exactly_one_owner(server: &Server) {
    // Several accounts at once, so that a check-then-write would lose at least one race.
    let rounds = (0..4).map(|_| async {
        let tenant = signup(server, &FRESH_IPS).await;
        let second = add_operator(server, tenant.token(), OperatorRole::Owner).await;
        let demote = |id: i64, by: &str| server.authed(Method::PATCH, &format!("/v1/users/{id}"), by).json(&json!({"role": "admin"}));
        let statuses = at_once(demote(second.user.id, tenant.token()), demote(tenant.id(), second.token())).await;
        assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "exactly one demotion succeeds: {statuses:?}");
        // The other is refused: the last owner (409), or a caller whose demotion revoked their token (401).
        assert!(statuses.iter().all(|s| [200, 401, 409].contains(s)), "{statuses:?}");
        let survivor = if statuses[0] == 200 { tenant.token() } else { second.token() };
        let survivor_id = if statuses[0] == 200 { tenant.id() } else { second.user.id };
        assert_eq!(owner_ids(server, survivor).await, BTreeSet::from([survivor_id]));
    });
    futures::future::join_all(rounds).await;
}

async fn a_role_change_refuses_access_tokens_issued_before(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let path = format!("/v1/users/{}", agent.user.id);
    let same: Operator = json_of(patch(server, &path, tenant.token(), json!({"role": "agent"})).await, 200).await;
    assert_eq!(same.role, OperatorRole::Agent);
    assert_eq!(me(server, agent.token()).await.user.id, agent.user.id, "setting the same role changes nothing");
    let _: Operator = json_of(patch(server, &path, tenant.token(), json!({"role": "admin"})).await, 200).await;
    assert_unauthorized(server, Some(&format!("Bearer {}", agent.token())), "a token issued before a promotion").await;
    let renewed: TokenResponse = json_of(refresh(server, agent.tokens.body_refresh_token()).await, 200).await;
    assert_eq!(me(server, &renewed.access_token).await.user.role, OperatorRole::Admin);
}

// ---------------------------------------------------------------- DELETE /v1/users/{id}

async fn two_owners_removing_each_other_at_once_leave_exactly_one_owner(server: &Server) {
    let rounds = (0..4).map(|_| async {
        let tenant = signup(server, &FRESH_IPS).await;
        let second = add_operator(server, tenant.token(), OperatorRole::Owner).await;
        let remove = |id: i64, by: &str| server.authed(Method::DELETE, &format!("/v1/users/{id}"), by);
        let statuses = at_once(remove(second.user.id, tenant.token()), remove(tenant.id(), second.token())).await;
        assert_eq!(statuses.iter().filter(|&&s| s == 204).count(), 1, "exactly one removal succeeds: {statuses:?}");
        assert!(statuses.iter().all(|s| [204, 401, 409].contains(s)), "{statuses:?}");
        let (survivor, survivor_id) = if statuses[0] == 204 { (tenant.token(), tenant.id()) } else { (second.token(), second.user.id) };
        assert_eq!(owner_ids(server, survivor).await, BTreeSet::from([survivor_id]));
    });
    futures::future::join_all(rounds).await;
}

async fn a_removed_operators_access_token_stays_refused_after_another_operator_is_added(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    assert_eq!(delete(server, &format!("/v1/users/{}", agent.user.id), tenant.token()).await.status(), 204);
    assert_unauthorized(server, Some(&format!("Bearer {}", agent.token())), "a removed operator's token").await;
    // SQLite may give the next operator the removed one's id; the old token must not become theirs.
    let next = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    assert_unauthorized(server, Some(&format!("Bearer {}", agent.token())), &format!("after operator {} was added", next.user.id)).await;
    assert_eq!(me(server, next.token()).await.user.id, next.user.id);
}

async fn deleting_an_operator_removes_them_and_their_login(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let path = format!("/v1/users/{}", agent.user.id);
    let response = delete(server, &path, tenant.token()).await;
    assert_eq!(response.status(), 204);
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id()]));
    assert_error(login_from(server, &agent.email, PASSWORD).await, 401, "unauthorized", "a deleted operator's login").await;
    assert_error(refresh(server, agent.tokens.body_refresh_token()).await, 401, "unauthorized", "a deleted operator's refresh token").await;
    assert_error(delete(server, &path, tenant.token()).await, 404, "not_found", "deleting twice").await;
}

async fn deleting_yourself_is_409(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    assert_error(delete(server, &format!("/v1/users/{}", tenant.id()), tenant.token()).await, 409, "conflict", "an owner deleting itself")
        .await;
    assert_error(delete(server, &format!("/v1/users/{}", admin.user.id), admin.token()).await, 409, "conflict", "an admin deleting itself")
        .await;
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id(), admin.user.id]));
}

async fn admin_may_not_delete_an_owner(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    assert_error(
        delete(server, &format!("/v1/users/{}", tenant.id()), admin.token()).await,
        403,
        "forbidden",
        "an admin deleting an owner",
    )
    .await;
    assert_eq!(delete(server, &format!("/v1/users/{}", agent.user.id), admin.token()).await.status(), 204, "an admin deletes an agent");
    assert_eq!(operator_ids(server, tenant.token(), "/v1/chat/users").await, BTreeSet::from([tenant.id(), admin.user.id]));
}

async fn operators_of_another_account_are_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let other = signup(server, &FRESH_IPS).await;
    for id in [agent.user.id, tenant.id()] {
        let path = format!("/v1/users/{id}");
        assert_error(patch(server, &path, other.token(), json!({"role": "admin"})).await, 404, "not_found", &format!("PATCH {path}")).await;
        assert_error(delete(server, &path, other.token()).await, 404, "not_found", &format!("DELETE {path}")).await;
    }
    assert_eq!(role_of(server, tenant.token(), agent.user.id).await, Some(OperatorRole::Agent));
    assert_eq!(role_of(server, tenant.token(), tenant.id()).await, Some(OperatorRole::Owner));
}

// ---------------------------------------------------------------- /v1/sites

async fn creating_a_site_answers_a_new_key_its_snippet_and_secret(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let site = create_site(server, tenant.token(), "Docs portal").await;
    assert_eq!(site.name, "Docs portal");
    assert!(site.site_key.starts_with("sk_") && site.site_key != tenant.site.site_key, "{}", site.site_key);
    assert!(site.embed_snippet.contains(&site.site_key) && site.embed_snippet.contains("loader.js"), "{}", site.embed_snippet);
    assert!(site.identity_secret.as_ref().is_some_and(|s| !s.is_empty()));
    assert_ne!(site.identity_secret, tenant.site.identity_secret);
    let read: Site = json_of(get(server, &format!("/v1/sites/{}", site.id), tenant.token()).await, 200).await;
    assert_eq!(read, site);
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id, site.id], "oldest first");
    let config: WidgetConfig = json_of(widget_config(server, &site.site_key).await, 200).await;
    assert_eq!((config.name.as_str(), config.site_key.as_str()), ("Docs portal", site.site_key.as_str()));
}

async fn sites_list_holds_the_callers_account_sites_only(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let second = create_site(server, other.token(), "Second").await;
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id]);
    assert_eq!(site_ids(server, other.token()).await, [other.site.id, second.id]);
    let sites: SiteList = json_of(get(server, "/v1/sites", tenant.token()).await, 200).await;
    assert!(sites.sites.iter().all(|s| s.site_key != DEMO_SITE_KEY), "the demo site belongs to the demo account");
}

async fn patching_a_site_updates_it_and_the_widget_config(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let path = format!("/v1/sites/{}", tenant.site.id);
    let body = json!({"name": "Renamed shop", "greeting": "Hello from the test!", "theme_color": "#112233"});
    let patched: Site = json_of(patch(server, &path, tenant.token(), body).await, 200).await;
    assert_eq!(
        (patched.name.as_str(), patched.greeting.as_str(), patched.theme_color.as_str()),
        ("Renamed shop", "Hello from the test!", "#112233")
    );
    assert_eq!((patched.id, &patched.site_key), (tenant.site.id, &tenant.site.site_key));
    assert_eq!(json_of::<Site>(get(server, &path, tenant.token()).await, 200).await, patched);
    let config: WidgetConfig = json_of(widget_config(server, &tenant.site.site_key).await, 200).await;
    assert_eq!(
        (config.name.as_str(), config.greeting.as_str(), config.theme_color.as_str()),
        ("Renamed shop", "Hello from the test!", "#112233")
    );
    let origins = vec!["https://shop.example.com".to_string(), "https://*.example.org".to_string()];
    let patched: Site = json_of(patch(server, &path, tenant.token(), json!({"allowed_origins": origins})).await, 200).await;
    assert_eq!(patched.allowed_origins, origins);
    assert_eq!(patched.greeting, "Hello from the test!", "absent fields stay as they are");
}

async fn site_writes_refuse_a_bad_colour_origin_or_name(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    for body in [
        json!({}),
        json!({"name": "  "}),
        json!({"name": "Shop", "theme_color": "red"}),
        json!({"name": "Shop", "allowed_origins": ["example.com"]}),
    ] {
        assert_error(post(server, "/v1/sites", tenant.token(), body.clone()).await, 422, "validation_error", &format!("POST {body}")).await;
    }
    let path = format!("/v1/sites/{}", tenant.site.id);
    for body in [json!({"name": ""}), json!({"theme_color": "red"}), json!({"allowed_origins": ["example.com"]}), json!({"greeting": " "})]
    {
        assert_error(patch(server, &path, tenant.token(), body.clone()).await, 422, "validation_error", &format!("PATCH {body}")).await;
    }
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id], "no site was created");
    assert_eq!(json_of::<Site>(get(server, &path, tenant.token()).await, 200).await, tenant.site, "the site is unchanged");
}

// ---------------------------------------------------------------- site theming (issue 15)

/// CSS with every allowed at-rule and data images, as a site owner may write it.
const BRAND_CSS: &str = "@media (max-width: 480px) { .ec-panel { inset: 0; } }\n\
    @supports (backdrop-filter: blur(4px)) { .ec-panel { backdrop-filter: blur(4px); } }\n\
    @keyframes pop { from { opacity: 0 } to { opacity: 1 } }\n\
    .ec-launcher { border-radius: 12px; background-image: url(\"data:image/png;base64,iVBORw0KGgo=\"); }";

async fn widget_config_answers_theme_defaults_then_each_patched_setting(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let config: WidgetConfig = json_of(widget_config(server, &tenant.site.site_key).await, 200).await;
    assert_eq!(config.title, tenant.site.name, "no title: the site's name");
    assert_eq!(config.avatar_url, None);
    assert_eq!(config.launcher_position, LauncherPosition::Right);
    assert_eq!((config.launcher_offset_x, config.launcher_offset_y), (20, 20));
    assert_eq!(config.custom_css, "");
    assert!(config.greetings.is_empty());
    assert_eq!(config.theme_color, "#4f46e5");
    assert_eq!((config.theme_text_color.as_str(), config.theme_ink_color.as_str()), ("#ffffff", "#4f46e5"), "indigo is dark enough");
    assert!(!config.proactive);

    let path = format!("/v1/sites/{}", tenant.site.id);
    let body = json!({
        "title": "Acme help", "avatar_url": "https://cdn.example.com/avatar.png", "launcher_position": "left",
        "launcher_offset_x": 0, "launcher_offset_y": 200, "custom_css": BRAND_CSS, "theme_color": "#ffeb3b",
        "greetings": {"fr": "Bonjour ! Comment pouvons-nous vous aider ?", "pt-br": "Olá!", "ar": "مرحبًا"},
    });
    let site: Site = json_of(patch(server, &path, tenant.token(), body).await, 200).await;
    assert_eq!((site.title.as_str(), site.avatar_url.as_deref()), ("Acme help", Some("https://cdn.example.com/avatar.png")));
    assert_eq!((site.launcher_position, site.launcher_offset_x, site.launcher_offset_y), (LauncherPosition::Left, 0, 200));
    assert_eq!(site.custom_css, BRAND_CSS, "plain CSS is stored as written");
    assert_eq!(json_of::<Site>(get(server, &path, tenant.token()).await, 200).await, site);
    let config: WidgetConfig = json_of(widget_config(server, &tenant.site.site_key).await, 200).await;
    assert_eq!((config.title.as_str(), config.avatar_url.as_deref()), ("Acme help", Some("https://cdn.example.com/avatar.png")));
    assert_eq!((config.launcher_position, config.launcher_offset_x, config.launcher_offset_y), (LauncherPosition::Left, 0, 200));
    assert_eq!(config.custom_css, BRAND_CSS);
    assert_eq!(config.greetings, site.greetings);
    assert_eq!(config.greetings.get("pt-br").map(String::as_str), Some("Olá!"));
    assert_eq!(config.greeting, tenant.site.greeting, "the default greeting stays");
    assert_eq!(config.theme_text_color, "#111827", "dark text on yellow");
    let ink = theme::Rgb::parse(&config.theme_ink_color).expect("a #rrggbb ink");
    assert!(theme::contrast_ratio(ink, theme::Rgb(255, 255, 255)) >= 4.5, "the ink {} is readable on white", config.theme_ink_color);
    assert_ne!(config.theme_ink_color, "#ffeb3b", "yellow is darkened");

    let cleared: Site =
        json_of(patch(server, &path, tenant.token(), json!({"title": "", "avatar_url": "", "custom_css": ""})).await, 200).await;
    assert_eq!((cleared.title.as_str(), cleared.avatar_url, cleared.custom_css.as_str()), ("", None, ""));
    let config: WidgetConfig = json_of(widget_config(server, &tenant.site.site_key).await, 200).await;
    assert_eq!((config.title.as_str(), config.avatar_url, config.custom_css.as_str()), (tenant.site.name.as_str(), None, ""));
    assert_eq!(config.launcher_position, LauncherPosition::Left, "absent fields stay as they are");
}

async fn theme_settings_that_are_not_allowed_are_422_and_store_nothing(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let path = format!("/v1/sites/{}", tenant.site.id);
    let many: serde_json::Map<String, Value> = (0..21).map(|i| (format!("x{i}"), json!("Hi"))).collect();
    for (body, field) in [
        (json!({"theme_color": "#12345"}), "theme_color"),
        (json!({"launcher_position": "center"}), "launcher_position"),
        (json!({"launcher_offset_x": -1}), "launcher_offset_x"),
        (json!({"launcher_offset_y": 201}), "launcher_offset_y"),
        (json!({"avatar_url": "http://cdn.example.com/a.png"}), "avatar_url"),
        (json!({"avatar_url": "javascript:alert(1)"}), "avatar_url"),
        (json!({"avatar_url": format!("https://cdn.example.com/{}", "a".repeat(2048))}), "avatar_url"),
        (json!({"title": "t".repeat(81)}), "title"),
        (json!({"greetings": {"FR": "Bonjour"}}), "greetings"),
        (json!({"greetings": {"fr_FR": "Bonjour"}}), "greetings"),
        (json!({"greetings": {"fr": "  "}}), "greetings"),
        (json!({"greetings": many}), "greetings"),
        (json!({"custom_css": "a{}".repeat(16 * 1024 / 3 + 1)}), "custom_css"),
    ] {
        let error =
            assert_error(patch(server, &path, tenant.token(), body.clone()).await, 422, "validation_error", &format!("PATCH {body}")).await;
        assert!(error.message.contains(field), "PATCH {body}: {}", error.message);
        let mut create = body.clone();
        create["name"] = json!("Themed");
        assert_error(post(server, "/v1/sites", tenant.token(), create).await, 422, "validation_error", &format!("POST {body}")).await;
    }
    assert_eq!(json_of::<Site>(get(server, &path, tenant.token()).await, 200).await, tenant.site, "the site is unchanged");
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id], "no site was created");
}

async fn custom_css_that_is_not_plain_css_is_422_naming_the_construct(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let path = format!("/v1/sites/{}", tenant.site.id);
    for (css, named) in [
        ("@import url(\"data:image/png;base64,AA\");", "@import"),
        ("@font-face { font-family: x; src: url(data:image/png;base64,AA); }", "@font-face"),
        ("@namespace svg url(http://www.w3.org/2000/svg);", "@namespace"),
        (".ec-launcher { background: url(https://evil.example/track.png) }", "https://evil.example/track.png"),
        (".ec-launcher { background: url('//evil.example/track.png') }", "//evil.example"),
        (".ec-launcher { background: image-set(\"https://evil.example/a.png\" 1x) }", "https://evil.example/a.png"),
        (".ec-panel { width: expression(alert(1)) }", "expression"),
        (".ec-panel { -moz-binding: url(data:image/png;base64,AA) }", "-moz-binding"),
        (".ec-panel { behavior: url(data:image/png;base64,AA) }", "behavior"),
        ("</style><script>alert(1)</script>", "markup"),
        (".ec-panel { content: \"broken\n\" }", "string"),
        (".ec-panel { color: red } }", "unmatched"),
    ] {
        let error =
            assert_error(patch(server, &path, tenant.token(), json!({"custom_css": css})).await, 422, "validation_error", css).await;
        assert!(error.message.contains("custom_css") && error.message.contains(named), "{css}: {}", error.message);
    }
    let site: Site = json_of(get(server, &path, tenant.token()).await, 200).await;
    assert_eq!(site.custom_css, "", "nothing was stored");
}

async fn theme_settings_of_another_accounts_site_are_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let path = format!("/v1/sites/{}", other.site.id);
    let body = json!({"title": "Hijacked", "custom_css": ".ec-panel { display: none }", "launcher_position": "left"});
    assert_error(patch(server, &path, tenant.token(), body).await, 404, "not_found", "another account's site").await;
    let config: WidgetConfig = json_of(widget_config(server, &other.site.site_key).await, 200).await;
    assert_eq!((config.title.as_str(), config.custom_css.as_str()), (other.site.name.as_str(), ""), "their widget is unchanged");
    assert_eq!(config.launcher_position, LauncherPosition::Right);
}

async fn widget_config_is_publicly_cacheable_for_five_minutes_and_varies_by_origin(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let url = format!("{}/api/v1/chat/config?site_key={}", server.url, tenant.site.site_key);
    for origin in [None, Some("https://shop.example.com")] {
        let mut request = server.http.get(&url);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let response = request.send().await.expect("GET /config");
        assert_eq!(response.status(), 200);
        let headers = response.headers();
        assert_eq!(headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("public, max-age=300"), "{origin:?}");
        let vary: Vec<&str> = headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).collect();
        assert_eq!(vary, ["Origin"], "{origin:?}: one Vary: Origin, with or without an Origin");
    }
}

async fn widget_config_says_proactive_only_while_an_enabled_rule_exists(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let proactive = || async { json_of::<WidgetConfig>(widget_config(server, &tenant.site.site_key).await, 200).await.proactive };
    assert!(!proactive().await, "no rule");
    let rules = format!("/v1/sites/{}/proactive", tenant.site.id);
    let rule: Value = json_of(post(server, &rules, tenant.token(), json!({"message": "Need help?", "enabled": false})).await, 201).await;
    assert!(!proactive().await, "a disabled rule only");
    let rule_path = format!("{rules}/{}", rule["id"]);
    json_of::<Value>(patch(server, &rule_path, tenant.token(), json!({"enabled": true})).await, 200).await;
    assert!(proactive().await, "an enabled rule");
    assert_eq!(delete(server, &rule_path, tenant.token()).await.status(), 204);
    assert!(!proactive().await, "the rule is gone");
}

async fn deleting_a_site_removes_it_and_its_widget(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let site = create_site(server, tenant.token(), "Short-lived").await;
    let path = format!("/v1/sites/{}", site.id);
    assert_eq!(delete(server, &path, tenant.token()).await.status(), 204);
    assert_error(get(server, &path, tenant.token()).await, 404, "not_found", "a deleted site").await;
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id]);
    assert_error(widget_config(server, &site.site_key).await, 404, "not_found", "the deleted site's widget").await;
    assert_error(delete(server, &path, tenant.token()).await, 404, "not_found", "deleting twice").await;
}

async fn rotating_the_identity_secret_answers_a_new_one(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let path = format!("/v1/sites/{}", tenant.site.id);
    let rotated: Site = json_of(post(server, &format!("{path}/rotate-secret"), tenant.token(), json!({})).await, 200).await;
    assert!(rotated.identity_secret.as_ref().is_some_and(|s| !s.is_empty()));
    assert_ne!(rotated.identity_secret, tenant.site.identity_secret);
    assert_eq!(rotated.site_key, tenant.site.site_key, "the public key stays");
    assert_eq!(json_of::<Site>(get(server, &path, tenant.token()).await, 200).await.identity_secret, rotated.identity_secret);
}

async fn agent_reads_sites_without_the_secret_and_gets_403_on_writes(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let (site, articles) = (format!("/v1/sites/{}", tenant.site.id), articles_path(tenant.site.id));
    let article = create_article(server, tenant.token(), tenant.site.id, "returns", "How do returns work?", "Within 30 days.").await;
    let listed: SiteList = json_of(get(server, "/v1/sites", agent.token()).await, 200).await;
    assert_eq!(listed.sites.iter().map(|s| s.id).collect::<Vec<_>>(), [tenant.site.id]);
    assert!(listed.sites.iter().all(|s| s.identity_secret.is_none()), "agents never see identity secrets");
    let read: Site = json_of(get(server, &site, agent.token()).await, 200).await;
    assert_eq!((read.identity_secret, read.site_key), (None, tenant.site.site_key.clone()));
    assert_eq!(article_ids(server, agent.token(), tenant.site.id).await, ["returns"]);
    let writes = [
        (Method::POST, "/v1/sites".to_string(), Some(json!({"name": "Agent site"}))),
        (Method::PATCH, site.clone(), Some(json!({"name": "Agent rename"}))),
        (Method::DELETE, site.clone(), None),
        (Method::POST, format!("{site}/rotate-secret"), Some(json!({}))),
        (Method::POST, articles.clone(), Some(json!({"id": "agent", "title": "Agent", "body": "Agent"}))),
        (Method::PATCH, format!("{articles}/returns"), Some(json!({"title": "Agent title"}))),
        (Method::DELETE, format!("{articles}/returns"), None),
    ];
    for (method, path, body) in writes {
        let what = format!("an agent's {method} {path}");
        assert_error(send(server, method, &path, agent.token(), body).await, 403, "forbidden", &what).await;
    }
    let jsonl = r#"{"id":"agent","title":"Agent","body":"Agent"}"#;
    assert_error(import(server, agent.token(), tenant.site.id, jsonl).await, 403, "forbidden", "an agent's import").await;
    assert_eq!(json_of::<Site>(get(server, &site, tenant.token()).await, 200).await, tenant.site, "the site is unchanged");
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id]);
    assert_eq!(json_of::<Article>(get(server, &format!("{articles}/returns"), tenant.token()).await, 200).await, article);
    assert_eq!(article_ids(server, tenant.token(), tenant.site.id).await, ["returns"]);
}

async fn admin_manages_sites_and_sees_the_secret(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    let site = create_site(server, admin.token(), "Admin's site").await;
    assert!(site.identity_secret.is_some());
    let path = format!("/v1/sites/{}", tenant.site.id);
    let patched: Site = json_of(patch(server, &path, admin.token(), json!({"greeting": "Admins were here"})).await, 200).await;
    assert_eq!(patched.greeting, "Admins were here");
    assert_eq!(json_of::<Site>(get(server, &path, admin.token()).await, 200).await.identity_secret, tenant.site.identity_secret);
    assert_eq!(site_ids(server, tenant.token()).await, [tenant.site.id, site.id]);
}

async fn sites_of_another_account_are_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let site = format!("/v1/sites/{}", tenant.site.id);
    let articles = articles_path(tenant.site.id);
    let attempts = [
        (Method::GET, site.clone(), None),
        (Method::PATCH, site.clone(), Some(json!({"name": "Stolen"}))),
        (Method::DELETE, site.clone(), None),
        (Method::POST, format!("{site}/rotate-secret"), Some(json!({}))),
        (Method::GET, articles.clone(), None),
        (Method::POST, articles.clone(), Some(json!({"id": "x", "title": "Planted", "body": "Planted"}))),
    ];
    for (method, path, body) in attempts {
        let what = format!("another account's {method} {path}");
        assert_error(send(server, method, &path, other.token(), body).await, 404, "not_found", &what).await;
    }
    let jsonl = r#"{"id":"x","title":"Planted","body":"Planted"}"#;
    assert_error(import(server, other.token(), tenant.site.id, jsonl).await, 404, "not_found", "another account's import").await;
    assert_eq!(json_of::<Site>(get(server, &site, tenant.token()).await, 200).await, tenant.site, "name and secret are unchanged");
    assert!(article_ids(server, tenant.token(), tenant.site.id).await.is_empty());
    assert_eq!(site_ids(server, other.token()).await, [other.site.id]);
}

// ---------------------------------------------------------------- /v1/sites/{id}/articles

async fn articles_are_created_read_updated_and_deleted(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let path = articles_path(tenant.site.id);
    let body = json!({"id": "returns-policy", "title": "What is your returns policy?", "body": "Return any item within 30 days.", "url": "https://shop.example.com/returns"});
    let created: Article = json_of(post(server, &path, tenant.token(), body).await, 201).await;
    assert_eq!((created.id.as_str(), created.title.as_str()), ("returns-policy", "What is your returns policy?"));
    assert_eq!(
        (created.body.as_str(), created.url.as_deref()),
        ("Return any item within 30 days.", Some("https://shop.example.com/returns"))
    );
    let one = format!("{path}/returns-policy");
    assert_eq!(article_ids(server, tenant.token(), tenant.site.id).await, ["returns-policy"]);
    assert_eq!(json_of::<Article>(get(server, &one, tenant.token()).await, 200).await, created);
    let updated: Article = json_of(patch(server, &one, tenant.token(), json!({"title": "How do returns work?"})).await, 200).await;
    assert_eq!((updated.title.as_str(), updated.body.as_str()), ("How do returns work?", "Return any item within 30 days."));
    assert_eq!(json_of::<Article>(get(server, &one, tenant.token()).await, 200).await, updated);
    assert_eq!(delete(server, &one, tenant.token()).await.status(), 204);
    assert_error(get(server, &one, tenant.token()).await, 404, "not_found", "a deleted article").await;
    assert!(article_ids(server, tenant.token(), tenant.site.id).await.is_empty());
    assert_error(delete(server, &one, tenant.token()).await, 404, "not_found", "deleting twice").await;
}

async fn creating_an_article_without_an_id_generates_one(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let body = json!({"title": "Do you ship abroad?", "body": "We ship to 40 countries."});
    let created: Article = json_of(post(server, &articles_path(tenant.site.id), tenant.token(), body).await, 201).await;
    assert!(!created.id.is_empty());
    let read: Article = json_of(get(server, &format!("{}/{}", articles_path(tenant.site.id), created.id), tenant.token()).await, 200).await;
    assert_eq!(read, created);
}

async fn creating_an_article_with_an_existing_id_is_409(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let original = create_article(server, tenant.token(), tenant.site.id, "faq-1", "Original title", "Original body").await;
    let body = json!({"id": "faq-1", "title": "Replacement", "body": "Replacement body"});
    assert_error(post(server, &articles_path(tenant.site.id), tenant.token(), body).await, 409, "conflict", "a second faq-1").await;
    let read: Article = json_of(get(server, &format!("{}/faq-1", articles_path(tenant.site.id)), tenant.token()).await, 200).await;
    assert_eq!(read, original);
}

async fn creating_an_article_without_a_title_or_body_is_422(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    for body in [
        json!({"id": "a", "body": "Body"}),
        json!({"id": "a", "title": "Title"}),
        json!({"id": "a", "title": "", "body": "Body"}),
        json!({"id": "a", "title": "Title", "body": " "}),
    ] {
        let response = post(server, &articles_path(tenant.site.id), tenant.token(), body.clone()).await;
        assert_error(response, 422, "validation_error", &body.to_string()).await;
    }
    assert!(article_ids(server, tenant.token(), tenant.site.id).await.is_empty());
}

async fn a_created_article_is_found_by_the_widget_until_deleted(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    assert_eq!(json_of::<ImportResult>(import(server, tenant.token(), tenant.site.id, FILLER_KB).await, 200).await.imported, 4);
    let title = "Do you ship parcels to Antarctica?";
    let body = "Yes: parcels to Antarctic research stations leave by sea freight every month.";
    create_article(server, tenant.token(), tenant.site.id, "ship-antarctica", title, body).await;
    let found = ask(server, &tenant.site.site_key, &new_session_id(), title).await;
    assert_eq!(found.done().sources.first().map(|s| s.id.as_str()), Some("ship-antarctica"), "{:?}", found.done().sources);
    let one = format!("{}/ship-antarctica", articles_path(tenant.site.id));
    assert_eq!(delete(server, &one, tenant.token()).await.status(), 204);
    let gone = ask(server, &tenant.site.site_key, &new_session_id(), title).await;
    assert!(gone.done().sources.iter().all(|s| s.id != "ship-antarctica"), "{:?}", gone.done().sources);
}

async fn articles_of_another_account_are_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let article = create_article(server, tenant.token(), tenant.site.id, "secret-plan", "Secret plan", "Only for us.").await;
    for site_id in [tenant.site.id, other.site.id] {
        let path = format!("{}/secret-plan", articles_path(site_id));
        assert_error(get(server, &path, other.token()).await, 404, "not_found", &format!("GET {path}")).await;
        assert_error(patch(server, &path, other.token(), json!({"title": "Mine now"})).await, 404, "not_found", &format!("PATCH {path}"))
            .await;
        assert_error(delete(server, &path, other.token()).await, 404, "not_found", &format!("DELETE {path}")).await;
    }
    let read: Article = json_of(get(server, &format!("{}/secret-plan", articles_path(tenant.site.id)), tenant.token()).await, 200).await;
    assert_eq!(read, article);
}

// ---------------------------------------------------------------- POST /v1/sites/{id}/articles/import

async fn importing_json_lines_creates_and_replaces_articles(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let imported: ImportResult = json_of(import(server, tenant.token(), tenant.site.id, FILLER_KB).await, 200).await;
    assert_eq!(imported.imported, 4);
    let mut ids = article_ids(server, tenant.token(), tenant.site.id).await;
    ids.sort();
    assert_eq!(ids, ["gift-cards", "invoices", "opening-hours", "password-reset"]);
    let replacement = r#"{"id":"gift-cards","title":"Can I buy a gift card online?","body":"Yes, in the online shop."}"#;
    assert_eq!(json_of::<ImportResult>(import(server, tenant.token(), tenant.site.id, replacement).await, 200).await.imported, 1);
    assert_eq!(article_ids(server, tenant.token(), tenant.site.id).await.len(), 4, "re-importing an id replaces it");
    let read: Article = json_of(get(server, &format!("{}/gift-cards", articles_path(tenant.site.id)), tenant.token()).await, 200).await;
    assert_eq!((read.title.as_str(), read.body.as_str()), ("Can I buy a gift card online?", "Yes, in the online shop."));
}

async fn an_import_with_a_bad_line_names_it_and_imports_nothing(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let good = FILLER_KB.lines().take(3).collect::<Vec<_>>().join("\n");
    for bad in ["{not json", r#"{"id":"no-title","body":"Body"}"#, r#"{"id":"blank-body","title":"Title","body":""}"#] {
        let jsonl = format!("{good}\n{bad}\n");
        let error = assert_error(import(server, tenant.token(), tenant.site.id, &jsonl).await, 422, "validation_error", bad).await;
        assert!(error.message.contains("line 4"), "{:?} should name line 4", error.message);
    }
    assert!(article_ids(server, tenant.token(), tenant.site.id).await.is_empty(), "nothing from a refused body is imported");
}

/// The single-article routes' check (`https://` URLs only) applies to every imported line.
async fn an_import_with_an_article_url_that_is_not_https_names_the_line_and_imports_nothing(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let good = FILLER_KB.lines().take(2).collect::<Vec<_>>().join("\n");
    for url in
        ["javascript:alert(document.cookie)", "http://shop.example.com/returns", "data:text/html,<script>alert(1)</script>", "/returns"]
    {
        let bad = json!({"id": "returns", "title": "How do I return an item?", "body": "Within 30 days.", "url": url}).to_string();
        let jsonl = format!("{good}\n\n{bad}\n");
        let error = assert_error(import(server, tenant.token(), tenant.site.id, &jsonl).await, 422, "validation_error", url).await;
        assert!(error.message.contains("line 4") && error.message.contains("https"), "{url}: {:?} should name line 4", error.message);
    }
    assert!(article_ids(server, tenant.token(), tenant.site.id).await.is_empty(), "nothing from a refused body is imported");
    let fine =
        json!({"id": "returns", "title": "How do I return an item?", "body": "Within 30 days.", "url": "https://shop.example.com/returns"});
    let no_url = json!({"id": "hours", "title": "When are you open?", "body": "9 to 5.", "url": ""});
    let imported: ImportResult = json_of(import(server, tenant.token(), tenant.site.id, &format!("{fine}\n{no_url}\n")).await, 200).await;
    assert_eq!(imported.imported, 2, "an https:// url, or \"\" for none, is imported");
}

async fn an_imported_article_is_found_by_the_widget(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let article = r#"{"id":"kayak-rental","title":"Can I rent a kayak for the weekend?","body":"Kayaks are rented from Friday noon to Monday noon."}"#;
    let jsonl = format!("{FILLER_KB}{article}\n");
    assert_eq!(json_of::<ImportResult>(import(server, tenant.token(), tenant.site.id, &jsonl).await, 200).await.imported, 5);
    let found = ask(server, &tenant.site.site_key, &new_session_id(), "Can I rent a kayak for the weekend?").await;
    assert_eq!(found.done().sources.first().map(|s| s.id.as_str()), Some("kayak-rental"), "{:?}", found.done().sources);
}

/// Every visitor question ranks the whole knowledge base in one index: a
/// site holds at most 1,000 articles and 4 MiB of titles and bodies, on
/// every route that writes one; a write past either is 422 and writes
/// nothing, and what is there keeps answering.
async fn a_sites_knowledge_base_is_capped_at_1000_articles_and_4_mib_and_a_refused_import_writes_nothing(server: &Server) {
    use edgechat_shared::limits::{MAX_ARTICLES_PER_SITE, MAX_ARTICLE_BODY_CHARS, MAX_KB_CHARS_PER_SITE};
    let tenant = signup(server, &FRESH_IPS).await;
    let (token, site) = (tenant.token(), tenant.site.id);
    let line = |id: &str, body: &str| json!({"id": id, "title": format!("About {id}"), "body": body}).to_string();
    let many: Vec<String> = (0..MAX_ARTICLES_PER_SITE).map(|i| line(&format!("a{i}"), "Short answer.")).collect();
    let imported: ImportResult = json_of(import(server, token, site, &many.join("\n")).await, 200).await;
    assert_eq!(imported.imported, MAX_ARTICLES_PER_SITE);
    let over = assert_error(import(server, token, site, &line("one-more", "Body")).await, 422, "validation_error", "article 1001").await;
    assert!(over.message.contains("1000 articles"), "{}", over.message);
    let single = post(server, &articles_path(site), token, json!({"id": "single", "title": "T", "body": "B"})).await;
    assert_error(single, 422, "validation_error", "article 1001, created alone").await;
    assert_eq!(article_ids(server, token, site).await.len(), MAX_ARTICLES_PER_SITE, "nothing past the cap");
    let replaced: ImportResult = json_of(import(server, token, site, &line("a7", "A longer answer now.")).await, 200).await;
    assert_eq!(replaced.imported, 1, "an article is replaced at the cap");
    assert_eq!(send(server, Method::DELETE, &format!("{}/a8", articles_path(site)), token, None).await.status().as_u16(), 204);
    let _: ImportResult = json_of(import(server, token, site, &line("one-more", "Body")).await, 200).await;

    // Characters: 100,000 (the longest body) at a time, in imports under the 2 MiB body cap.
    let other = signup(server, &FRESH_IPS).await;
    let (token, site) = (other.token(), other.site.id);
    let long = "x".repeat(MAX_ARTICLE_BODY_CHARS);
    let fits = MAX_KB_CHARS_PER_SITE / (MAX_ARTICLE_BODY_CHARS + 20);
    let lines: Vec<String> = (0..fits).map(|i| line(&format!("long{i}"), &long)).collect();
    for chunk in lines.chunks(14) {
        let _: ImportResult = json_of(import(server, token, site, &chunk.join("\n")).await, 200).await;
    }
    let jsonl = [line("kayaks", "Kayaks are rented from Friday noon."), line("long-last", &long)].join("\n");
    let over = assert_error(import(server, token, site, &jsonl).await, 422, "validation_error", "past 4 MiB").await;
    assert!(over.message.contains(&MAX_KB_CHARS_PER_SITE.to_string()), "{}", over.message);
    let ids = article_ids(server, token, site).await;
    assert_eq!(ids.len(), fits, "the refused import wrote nothing, not even its small article");
    // Shortening an article frees its characters: the same import then fits.
    let short = send(server, Method::PATCH, &format!("{}/long0", articles_path(site)), token, Some(json!({"body": "Short now."}))).await;
    assert_eq!(short.status().as_u16(), 200);
    let _: ImportResult = json_of(import(server, token, site, &jsonl).await, 200).await;
    let found = ask(server, &other.site.site_key, &new_session_id(), "Can I rent kayaks on Friday?").await;
    assert_eq!(found.done().sources.first().map(|s| s.id.as_str()), Some("kayaks"), "the full knowledge base still answers");
}

// ---------------------------------------------------------------- GET /v1/chat/conversations…

async fn conversation_list_shows_the_accounts_conversations_newest_first(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(new_conversation(server, &tenant.site.site_key).await.1);
    }
    let list = list_conversations(server, tenant.token(), "/v1/chat/conversations", &[]).await;
    assert_eq!(ids_of(&list), created.iter().rev().copied().collect::<Vec<_>>(), "newest activity first");
    assert_eq!(list.next_cursor, None);
    for item in &list.conversations {
        assert_eq!((item.site_id, item.status, item.mode, item.unread_count), (Some(tenant.site.id), Status::Open, Mode::Ai, 1));
        assert!(
            item.visitor.as_ref().expect("a visitor conversation").id > 0
                && !item.visitor.as_ref().expect("a visitor conversation").blocked
        );
        let last = item.last_message.as_ref().expect("a last message");
        assert_eq!((last.seq, last.role), (2, Role::Ai));
    }
    let times: Vec<&str> = list.conversations.iter().map(|c| c.last_activity_at.as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(ids_of(&list_conversations(server, other.token(), "/v1/chat/conversations", &[]).await).is_empty());
}

async fn conversation_list_pages_with_a_cursor(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(new_conversation(server, &tenant.site.site_key).await.1);
    }
    let path = "/v1/chat/conversations";
    let first = list_conversations(server, tenant.token(), path, &[("limit", "2".into())]).await;
    let cursor = first.next_cursor.clone().expect("a next_cursor while more remain");
    let second = list_conversations(server, tenant.token(), path, &[("limit", "2".into()), ("cursor", cursor)]).await;
    assert_eq!(second.next_cursor, None);
    let all: Vec<i64> = ids_of(&first).into_iter().chain(ids_of(&second)).collect();
    assert_eq!(all, created.iter().rev().copied().collect::<Vec<_>>());
}

async fn conversation_list_refuses_a_limit_of_0_or_over_100(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    for limit in ["0", "101", "1000"] {
        let response =
            server.authed(Method::GET, "/v1/chat/conversations", tenant.token()).query(&[("limit", limit)]).send().await.unwrap();
        assert_error(response, 422, "validation_error", &format!("limit={limit}")).await;
    }
    list_conversations(server, tenant.token(), "/v1/chat/conversations", &[("limit", "100".into())]).await;
}

async fn conversation_list_filters_by_site_status_mode_and_assignee(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let second_site = create_site(server, tenant.token(), "Second").await;
    let (_, plain) = new_conversation(server, &tenant.site.site_key).await;
    let (_, closed) = new_conversation(server, &second_site.site_key).await;
    let (_, taken) = new_conversation(server, &tenant.site.site_key).await;
    let (_, assigned) = new_conversation(server, &tenant.site.site_key).await;
    act(server, tenant.token(), closed, "close", json!({})).await;
    act(server, tenant.token(), taken, "takeover", json!({})).await;
    act(server, tenant.token(), assigned, "assign", json!({"assignee_id": agent.user.id})).await;
    let token = tenant.token();
    let set = |ids: &[i64]| ids.iter().copied().collect::<BTreeSet<i64>>();
    assert_eq!(filtered(server, token, ("site_id", second_site.id.to_string())).await, set(&[closed]));
    assert_eq!(filtered(server, token, ("site_id", tenant.site.id.to_string())).await, set(&[plain, taken, assigned]));
    assert_eq!(filtered(server, token, ("status", "closed".into())).await, set(&[closed]));
    assert_eq!(filtered(server, token, ("status", "open".into())).await, set(&[plain, taken, assigned]));
    assert_eq!(filtered(server, token, ("status", "snoozed".into())).await, set(&[]));
    assert_eq!(filtered(server, token, ("mode", "operator".into())).await, set(&[taken]));
    assert_eq!(filtered(server, token, ("mode", "ai".into())).await, set(&[plain, closed, assigned]));
    assert_eq!(filtered(server, token, ("assignee", "me".into())).await, set(&[taken]));
    assert_eq!(filtered(server, token, ("assignee", tenant.id().to_string())).await, set(&[taken]));
    assert_eq!(filtered(server, token, ("assignee", agent.user.id.to_string())).await, set(&[assigned]));
    assert_eq!(filtered(server, agent.token(), ("assignee", "me".into())).await, set(&[assigned]));
    assert_eq!(filtered(server, token, ("assignee", "none".into())).await, set(&[plain, closed]));
}

async fn conversation_messages_come_in_seq_order_and_page_by_seq(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (session, id) = new_conversation(server, &tenant.site.site_key).await;
    for question in ["Second question", "Third question"] {
        ask(server, &tenant.site.site_key, &session, question).await;
    }
    let read = summary(server, tenant.token(), id).await;
    assert_eq!((read.id, read.site_id, read.status, read.mode, read.assignee_id), (id, Some(tenant.site.id), Status::Open, Mode::Ai, None));
    let all = messages(server, tenant.token(), id, "").await;
    let seqs = |list: &MessageList| list.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!((seqs(&all), all.has_more), (vec![1, 2, 3, 4, 5, 6], false));
    let roles: Vec<Role> = all.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Visitor, Role::Ai, Role::Visitor, Role::Ai, Role::Visitor, Role::Ai]);
    assert_eq!(all.messages[2].content, "Second question");
    assert_eq!(read.last_message.map(|m| m.id), Some(all.messages[5].id));
    for (query, expected, has_more) in [
        ("?limit=2", vec![5, 6], true),
        ("?before_seq=5&limit=2", vec![3, 4], true),
        ("?before_seq=3&limit=2", vec![1, 2], false),
        ("?after_seq=2&limit=3", vec![3, 4, 5], true),
        ("?after_seq=4&limit=3", vec![5, 6], false),
    ] {
        let page = messages(server, tenant.token(), id, query).await;
        assert_eq!((seqs(&page), page.has_more), (expected, has_more), "{query}");
    }
}

async fn marking_a_conversation_read_clears_the_callers_unread_count(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let (session, id) = new_conversation(server, &tenant.site.site_key).await;
    ask(server, &tenant.site.site_key, &session, "Anyone there?").await;
    assert_eq!(summary(server, tenant.token(), id).await.unread_count, 2);
    assert_eq!(act(server, tenant.token(), id, "read", json!({"seq": 1})).await.unread_count, 1, "read up to the first visitor message");
    assert_eq!(act(server, tenant.token(), id, "read", json!({})).await.unread_count, 0, "{{}} reads everything");
    let list = list_conversations(server, tenant.token(), "/v1/chat/conversations", &[]).await;
    assert_eq!(list.conversations.iter().find(|c| c.id == id).map(|c| c.unread_count), Some(0));
    assert_eq!(summary(server, agent.token(), id).await.unread_count, 2, "read marks are per operator");
    ask(server, &tenant.site.site_key, &session, "One more thing").await;
    assert_eq!(summary(server, tenant.token(), id).await.unread_count, 1);
}

/// `GET /v1/chat/conversations/{id}` as the operator of `token`; panics unless 200.
async fn detail(server: &Server, token: &str, id: i64) -> ConversationDetail {
    json_of(get(server, &conversation_path(id, ""), token).await, 200).await
}

/// A visitor's `POST /api/v1/chat/{route}` of JSON `body` to the site of `site_key`; panics unless 200.
async fn visitor_post(server: &Server, site_key: &str, session_id: &str, route: &str, body: Value) {
    let mut body = body;
    body["site_key"] = json!(site_key);
    body["session_id"] = json!(session_id);
    let response = server
        .http
        .post(format!("{}/api/v1/chat/{route}", server.url))
        .header("CF-Connecting-IP", visitor_ip(session_id))
        .json(&body)
        .send()
        .await
        .expect("the widget route reaches the server");
    let _: Value = json_of(response, 200).await;
}

async fn conversation_detail_shows_the_visitors_page_and_rating(server: &Server) {
    const CART: &str = "https://shop.example.com/cart?step=2";
    const CHECKOUT: &str = "http://shop.example.com/checkout#pay";
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let session = new_session_id();
    let on = |page: Option<&str>, message: &str| StreamRequest {
        page_url: page.map(str::to_string),
        ..visitor_request(tenant.site_key(), &session, message)
    };
    let id = server.stream(&on(Some(CART), "Hello, where is my order?")).await.done().conversation_id;
    let fresh = detail(server, tenant.token(), id).await;
    let listed = list_conversations(server, tenant.token(), "/v1/chat/conversations", &[]).await;
    assert_eq!(listed.conversations, std::slice::from_ref(&fresh.summary), "the detail holds the listed summary");
    assert_eq!((fresh.page_url.as_deref(), &fresh.rating), (Some(CART), &None));
    server.stream(&on(Some(CHECKOUT), "And can I pay by card?")).await.done();
    assert_eq!(detail(server, tenant.token(), id).await.page_url.as_deref(), Some(CHECKOUT), "the newest page wins");
    server.stream(&on(None, "Thanks!")).await.done();
    assert_eq!(detail(server, tenant.token(), id).await.page_url.as_deref(), Some(CHECKOUT), "a message naming no page keeps it");
    visitor_post(server, tenant.site_key(), &session, "rate", json!({"score": 4})).await;
    let rated = detail(server, tenant.token(), id).await.rating.expect("the rating is shown");
    assert_eq!((rated.stars, rated.comment.as_deref()), (4, None));
    visitor_post(server, tenant.site_key(), &session, "rate/comment", json!({"comment": "Quick and kind"})).await;
    let wire: Value = json_of(get(server, &conversation_path(id, ""), tenant.token()).await, 200).await;
    assert_eq!(
        (wire["id"].as_i64(), wire["visitor"]["id"].as_i64()),
        (Some(id), Some(fresh.summary.visitor.as_ref().expect("a visitor conversation").id)),
        "summary fields flattened"
    );
    assert_eq!(wire["page_url"], CHECKOUT);
    assert_eq!(wire["rating"]["stars"], 4);
    assert_eq!(wire["rating"]["comment"], "Quick and kind");
    assert_eq!(wire["rating"]["created_at"], rated.created_at.as_str());
    assert!(rated.created_at.ends_with('Z'), "{}", rated.created_at);
    assert_error(get(server, &conversation_path(id, ""), other.token()).await, 404, "not_found", "another account's conversation").await;
}

// ---------------------------------------------------------------- POST /v1/chat/messages/send

async fn operator_send_stores_a_reply_the_visitor_sees(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let _: Operator =
        json_of(patch(server, "/auth/profile", tenant.token(), json!({"display_name": "Nina from Support"})).await, 200).await;
    let (session, id) = new_conversation(server, &tenant.site.site_key).await;
    let sent = operator_reply(server, tenant.token(), id, "Hi, I am Nina. Let me check your order.").await;
    assert!(!sent.duplicate);
    let message = &sent.message;
    assert_eq!((message.role, message.seq, message.author_name.as_deref()), (Role::Operator, 3, Some("Nina from Support")));
    assert_eq!(message.content, "Hi, I am Nina. Let me check your order.");
    let seen = stored_history(server, &tenant.site.site_key, &session).await;
    let last = seen.messages.last().expect("history");
    assert_eq!(
        (last.id, last.role, &last.content, &last.author_name),
        (message.id, Role::Operator, &message.content, &message.author_name)
    );
    assert_eq!(summary(server, tenant.token(), id).await.last_message.map(|m| m.id), Some(message.id));
}

async fn operator_send_with_a_repeated_message_id_stores_once(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    let body = json!({"conversation_id": id, "content": "One moment please.", "message_id": "op-1"});
    let first: SentMessage = json_of(post(server, "/v1/chat/messages/send", tenant.token(), body.clone()).await, 201).await;
    let response = post(server, "/v1/chat/messages/send", tenant.token(), body).await;
    let status = response.status().as_u16();
    assert!(status == 200 || status == 201, "a repeated send succeeds, got {status}");
    let second: SentMessage = json_of(response, status).await;
    assert!(!first.duplicate && second.duplicate);
    assert_eq!(second.message, first.message);
    let stored = messages(server, tenant.token(), id, "").await;
    assert_eq!(stored.messages.iter().filter(|m| m.role == Role::Operator).count(), 1);
}

/// A retry of a stored message is broadcast again (its first attempt's
/// Room may have stopped between the write and the broadcast): a socket
/// opened since gets the same message, and nothing is stored twice.
async fn a_retried_send_is_broadcast_again_to_sockets_opened_since(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    let body = json!({"conversation_id": id, "content": "Here is the answer.", "message_id": "op-retried"});
    let first: SentMessage = json_of(post(server, "/v1/chat/messages/send", tenant.token(), body.clone()).await, 201).await;
    let mut socket = Socket::open(server, tenant.token()).await;
    let response = post(server, "/v1/chat/messages/send", tenant.token(), body).await;
    let status = response.status().as_u16();
    let second: SentMessage = json_of(response, status).await;
    assert!(second.duplicate, "the retry finds the stored message");
    let broadcast = socket.message_of(id).await;
    assert_eq!((broadcast.id, &broadcast.content), (first.message.id, &first.message.content), "the retry's broadcast");
    let stored = messages(server, tenant.token(), id, "").await;
    assert_eq!(stored.messages.iter().filter(|m| m.role == Role::Operator).count(), 1);
}

/// A reply to a conversation whose Room already serves it (bound, its
/// file links known) is checked by the Room's own write, in one D1 round
/// trip (issue 16): the token's claims and the conversation's visibility
/// hold there, or nothing is written and the reply is refused as a checked
/// send refuses it.
async fn a_reply_to_a_room_that_serves_its_conversation_is_refused_once_the_token_no_longer_holds(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let admin = add_operator(server, tenant.token(), OperatorRole::Admin).await;
    let first = operator_reply(server, agent.token(), id, "Hello, Sam here.").await;
    assert_eq!(first.message.author_name.as_deref(), Some("Sam agent"));
    // The name is the one stored when the reply is written.
    let _: Operator = json_of(patch(server, "/auth/profile", agent.token(), json!({"display_name": "Sam Renamed"})).await, 200).await;
    let renamed = operator_reply(server, agent.token(), id, "Still me.").await;
    assert_eq!((renamed.message.author_name.as_deref(), renamed.message.seq), (Some("Sam Renamed"), first.message.seq + 1));
    let body = json!({"conversation_id": id, "content": "An admin, before a role change.", "message_id": "admin-1"});
    let admin_reply: SentMessage = json_of(post(server, "/v1/chat/messages/send", admin.token(), body).await, 201).await;
    let active = summary(server, tenant.token(), id).await.last_activity_at;

    // Another account's operator: 404, as a checked send.
    let body = json!({"conversation_id": id, "content": "Hijacked"});
    assert_error(post(server, "/v1/chat/messages/send", other.token(), body).await, 404, "not_found", "another account's operator").await;
    // A role change revokes the admin's token; a removal, the agent's.
    let demoted: Operator =
        json_of(patch(server, &format!("/v1/users/{}", admin.user.id), tenant.token(), json!({"role": "agent"})).await, 200).await;
    assert_eq!(demoted.role, OperatorRole::Agent);
    assert_eq!(delete(server, &format!("/v1/users/{}", agent.user.id), tenant.token()).await.status(), 204);
    for (member, what) in [(&admin, "a demoted admin's token"), (&agent, "a removed agent's token")] {
        let body = json!({"conversation_id": id, "content": format!("After: {what}"), "message_id": "after-1"});
        assert_error(post(server, "/v1/chat/messages/send", member.token(), body).await, 401, "unauthorized", what).await;
    }
    // Nor does a retry of a reply stored before answer it to the revoked token.
    let retry = json!({"conversation_id": id, "content": "An admin, before a role change.", "message_id": "admin-1"});
    assert_error(post(server, "/v1/chat/messages/send", admin.token(), retry).await, 401, "unauthorized", "a retry after the role change")
        .await;
    assert_eq!(summary(server, tenant.token(), id).await.last_activity_at, active, "a refused reply leaves the conversation's activity");
    let operator_ids: Vec<i64> =
        messages(server, tenant.token(), id, "").await.messages.iter().filter(|m| m.role == Role::Operator).map(|m| m.id).collect();
    assert_eq!(operator_ids, [first.message.id, renamed.message.id, admin_reply.message.id], "nothing was stored after the refusals");
    // The conversation goes on: the next reply takes the next seq.
    let next = operator_reply(server, tenant.token(), id, "The owner, still signed in.").await;
    assert_eq!(next.message.seq, admin_reply.message.seq + 1);
}

async fn operator_send_refuses_blank_or_over_10000_characters(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    for content in [String::new(), " \n\t ".into(), "a".repeat(10_001)] {
        let body = json!({"conversation_id": id, "content": content});
        let what = format!("content of {} characters", content.chars().count());
        assert_error(post(server, "/v1/chat/messages/send", tenant.token(), body).await, 422, "validation_error", &what).await;
    }
    operator_reply(server, tenant.token(), id, &"é".repeat(10_000)).await;
    let stored = messages(server, tenant.token(), id, "").await;
    assert_eq!(stored.messages.iter().filter(|m| m.role == Role::Operator).count(), 1, "only the valid reply was stored");
}

// ---------------------------------------------------------------- takeover, handback, ai-active, close, reopen, assign

async fn takeover_silences_the_ai_until_handback(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let site_key = tenant.site.site_key.clone();
    let (session, id) = new_conversation(server, &site_key).await;
    let taken = act(server, tenant.token(), id, "takeover", json!({})).await;
    assert_eq!((taken.mode, taken.assignee_id), (Mode::Operator, Some(tenant.id())));
    let silent = server.stream(&visitor_request(&site_key, &session, "Are you a real person?")).await;
    assert_eq!(silent.status, 200);
    assert_eq!(silent.chunk_count(), 0, "the AI stays silent");
    let meta = silent.done();
    assert_eq!((meta.conversation_id, meta.mode, meta.answer_id), (id, Mode::Operator, None));
    let seen = stored_history(server, &site_key, &session).await;
    assert_eq!(seen.messages.len(), 3);
    assert_eq!((seen.messages[2].role, seen.messages[2].content.as_str()), (Role::Visitor, "Are you a real person?"));
    let handed = act(server, tenant.token(), id, "handback", json!({})).await;
    assert_eq!(handed.mode, Mode::Ai);
    let answered = ask(server, &site_key, &session, "Hello again?").await;
    assert!(answered.chunk_count() >= 1);
    assert_eq!(answered.done().mode, Mode::Ai);
    assert!(answered.done().answer_id.is_some(), "the AI answers again");
}

async fn takeover_keeps_an_existing_assignee(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    act(server, tenant.token(), id, "assign", json!({"assignee_id": agent.user.id})).await;
    let taken = act(server, tenant.token(), id, "takeover", json!({})).await;
    assert_eq!((taken.mode, taken.assignee_id), (Mode::Operator, Some(agent.user.id)));
}

async fn ai_active_lists_open_conversations_in_ai_mode(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (_, ai) = new_conversation(server, &tenant.site.site_key).await;
    let (_, taken) = new_conversation(server, &tenant.site.site_key).await;
    let (_, closed) = new_conversation(server, &tenant.site.site_key).await;
    act(server, tenant.token(), taken, "takeover", json!({})).await;
    act(server, tenant.token(), closed, "close", json!({})).await;
    let active = list_conversations(server, tenant.token(), "/v1/chat/ai-active", &[]).await;
    assert_eq!(ids_of(&active), [ai]);
    act(server, tenant.token(), taken, "handback", json!({})).await;
    let active: BTreeSet<i64> = ids_of(&list_conversations(server, tenant.token(), "/v1/chat/ai-active", &[]).await).into_iter().collect();
    assert_eq!(active, BTreeSet::from([ai, taken]));
}

async fn closing_and_reopening_a_conversation(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    assert_eq!(act(server, tenant.token(), id, "close", json!({})).await.status, Status::Closed);
    assert_eq!(summary(server, tenant.token(), id).await.status, Status::Closed);
    assert_eq!(filtered(server, tenant.token(), ("status", "closed".into())).await, BTreeSet::from([id]));
    assert!(filtered(server, tenant.token(), ("status", "open".into())).await.is_empty());
    assert_eq!(act(server, tenant.token(), id, "reopen", json!({})).await.status, Status::Open);
    assert_eq!(filtered(server, tenant.token(), ("status", "open".into())).await, BTreeSet::from([id]));
}

async fn assigning_a_conversation_sets_and_clears_its_assignee(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let agent = add_operator(server, tenant.token(), OperatorRole::Agent).await;
    let (session, id) = new_conversation(server, &tenant.site.site_key).await;
    let assigned = act(server, tenant.token(), id, "assign", json!({"assignee_id": agent.user.id})).await;
    assert_eq!(assigned.assignee_id, Some(agent.user.id));
    assert_eq!(summary(server, agent.token(), id).await.assignee_id, Some(agent.user.id));
    let sent = operator_reply(server, agent.token(), id, "I'm on it.").await;
    assert_eq!(sent.message.author_name.as_deref(), Some(agent.user.display_name.as_str()));
    let seen = stored_history(server, &tenant.site.site_key, &session).await;
    assert_eq!(seen.messages.last().map(|m| m.id), Some(sent.message.id));
    let cleared = act(server, tenant.token(), id, "assign", json!({"assignee_id": null})).await;
    assert_eq!(cleared.assignee_id, None);
    assert_eq!(filtered(server, tenant.token(), ("assignee", "none".into())).await, BTreeSet::from([id]));
}

async fn assigning_to_an_operator_of_another_account_is_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    let body = json!({"assignee_id": other.id()});
    assert_error(
        post(server, &conversation_path(id, "/assign"), tenant.token(), body).await,
        404,
        "not_found",
        "another account's operator",
    )
    .await;
    assert_eq!(summary(server, tenant.token(), id).await.assignee_id, None);
}

async fn conversations_of_another_account_are_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let (_, id) = new_conversation(server, &tenant.site.site_key).await;
    let attempts = [
        (Method::GET, conversation_path(id, ""), None),
        (Method::GET, conversation_path(id, "/messages"), None),
        (Method::POST, conversation_path(id, "/read"), Some(json!({}))),
        (Method::POST, conversation_path(id, "/takeover"), Some(json!({}))),
        (Method::POST, conversation_path(id, "/handback"), Some(json!({}))),
        (Method::POST, conversation_path(id, "/close"), Some(json!({}))),
        (Method::POST, conversation_path(id, "/reopen"), Some(json!({}))),
        (Method::POST, conversation_path(id, "/assign"), Some(json!({"assignee_id": other.id()}))),
        (Method::POST, "/v1/chat/messages/send".into(), Some(json!({"conversation_id": id, "content": "Hijacked"}))),
        (Method::GET, conversation_path(i64::from(i32::MAX), ""), None),
    ];
    for (method, path, body) in attempts {
        let what = format!("another account's {method} {path}");
        assert_error(send(server, method, &path, other.token(), body).await, 404, "not_found", &what).await;
    }
    assert!(ids_of(&list_conversations(server, other.token(), "/v1/chat/conversations", &[]).await).is_empty());
    assert!(ids_of(&list_conversations(server, other.token(), "/v1/chat/ai-active", &[]).await).is_empty());
    let untouched = summary(server, tenant.token(), id).await;
    assert_eq!((untouched.status, untouched.mode, untouched.assignee_id, untouched.unread_count), (Status::Open, Mode::Ai, None, 1));
    assert_eq!(messages(server, tenant.token(), id, "").await.messages.len(), 2, "no operator message was stored");
}

// ---------------------------------------------------------------- /v1/chat/users/{visitor_id}/block, /v1/chat/blocks

async fn blocking_a_visitor_refuses_their_chat_until_unblocked(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let site_key = tenant.site.site_key.clone();
    let (session, id) = new_conversation(server, &site_key).await;
    let visitor = summary(server, tenant.token(), id).await.visitor.expect("a visitor conversation");
    let block: Block = json_of(post(server, &block_path(visitor.id), tenant.token(), json!({"reason": "spam"})).await, 200).await;
    assert_eq!((block.visitor.id, block.site_id, block.reason.as_deref()), (visitor.id, tenant.site.id, Some("spam")));
    assert_eq!(blocked_visitor_ids(server, tenant.token()).await, [visitor.id]);
    assert!(summary(server, tenant.token(), id).await.visitor.as_ref().expect("a visitor conversation").blocked);
    let refused = server.post_stream_raw(serde_json::to_string(&visitor_request(&site_key, &session, "Let me in")).unwrap()).await;
    assert_error(refused, 403, "blocked", "a blocked visitor's message").await;
    assert_error(history(server, &site_key, &session).await, 403, "blocked", "a blocked visitor's history").await;
    new_conversation(server, &site_key).await;
    assert_eq!(delete(server, &block_path(visitor.id), tenant.token()).await.status(), 204);
    assert!(blocked_visitor_ids(server, tenant.token()).await.is_empty());
    assert!(!summary(server, tenant.token(), id).await.visitor.as_ref().expect("a visitor conversation").blocked);
    ask(server, &site_key, &session, "Thanks for unblocking me").await;
    let seen = stored_history(server, &site_key, &session).await;
    assert_eq!(seen.messages.len(), 4, "the refused message was not stored: {:?}", seen.messages);
}

async fn visitors_of_another_account_are_404(server: &Server) {
    let tenant = signup(server, &FRESH_IPS).await;
    let other = signup(server, &FRESH_IPS).await;
    let (session, id) = new_conversation(server, &tenant.site.site_key).await;
    let visitor = summary(server, tenant.token(), id).await.visitor.expect("a visitor conversation");
    let path = block_path(visitor.id);
    assert_error(
        post(server, &path, other.token(), json!({"reason": "spite"})).await,
        404,
        "not_found",
        "blocking another account's visitor",
    )
    .await;
    assert!(blocked_visitor_ids(server, tenant.token()).await.is_empty());
    ask(server, &tenant.site.site_key, &session, "Still here").await;
    let _: Block = json_of(post(server, &path, tenant.token(), json!({})).await, 200).await;
    assert!(blocked_visitor_ids(server, other.token()).await.is_empty(), "another account's blocks are not listed");
    assert_error(delete(server, &path, other.token()).await, 404, "not_found", "unblocking another account's visitor").await;
    assert_eq!(blocked_visitor_ids(server, tenant.token()).await, [visitor.id]);
}

// ---------------------------------------------------------------- /app/ (the console's pages)

/// `GET /app` redirects to `/app/`: 308 from the worker, or 307 from the
/// static assets themselves once the console is built (`/app/index.html`
/// exists, and Cloudflare's `html_handling` adds the slash before the worker).
async fn app_redirects_to_app_slash(server: &Server) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let response = http.get(format!("{}/app", server.url)).send().await.expect("GET /app reaches the server");
    assert!([307, 308].contains(&response.status().as_u16()), "GET /app answers {}", response.status());
    assert_eq!(header(&response, "location").as_deref(), Some("/app/"));
}

/// `GET {path}`: status, `Cache-Control`, `Content-Type` and body.
async fn page(server: &Server, path: &str) -> (u16, Option<String>, Option<String>, String) {
    let response = server.get(path).await;
    let status = response.status().as_u16();
    let (cache, content_type) = (header(&response, "cache-control"), header(&response, "content-type"));
    (status, cache, content_type, response.text().await.expect("a body"))
}

/// Deep links of the console answer its `index.html` (SPA fallback), which
/// names its content-hashed script, wasm and stylesheet, cached for a year.
/// `cargo xtask test` builds the console before any test runs.
async fn app_deep_links_answer_the_consoles_index(server: &Server) {
    let (status, _, _, index) = page(server, "/app/index.html").await;
    assert_eq!(status, 200, "the console is built: {index}");
    assert!(index.contains("<title>EdgeChat console</title>"), "{index}");
    for path in ["/app/conversations/42", "/app/settings/sites/7/articles", "/app/"] {
        let (deep_status, cache, content_type, body) = page(server, path).await;
        assert_eq!(deep_status, 200, "{path}");
        assert_eq!(body, index, "{path} answers the console's index.html");
        assert!(content_type.as_deref().is_some_and(|t| t.starts_with("text/html")), "{path}: Content-Type {content_type:?}");
        assert_eq!(cache.as_deref(), Some("no-cache"), "{path}: a new build is seen at once");
    }
    let assets: Vec<&str> = index.split('"').filter(|part| part.starts_with("/app/assets/console-")).collect();
    assert_eq!(assets.len(), 3, "the script, the wasm and the stylesheet: {assets:?}");
    for asset in assets {
        let (status, cache, _, _) = page(server, asset).await;
        assert_eq!(status, 200, "{asset}");
        assert_eq!(cache.as_deref(), Some("public, max-age=31536000, immutable"), "{asset}");
    }
    // A missing file under /app/ is a deep link, not a file: the index again.
    let (status, _, _, body) = page(server, "/app/no-such-page").await;
    assert_eq!((status, body == index), (200, true));
}
