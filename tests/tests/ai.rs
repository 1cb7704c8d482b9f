//! Integration tests of the AI responders and the handoff to a person
//! (issue 6) against a real `wrangler dev`, with a local stand-in for an
//! OpenAI-compatible server that speaks the real streaming wire format
//! (`edgechat_tests::openai_mock`): a streamed answer, an HTTP error, a
//! stream cut short, malformed and error events, a slow upstream and one
//! that stalls (both past `AI_TIMEOUT_MS`), a visitor who disconnects
//! (cancelling the upstream request), a retry after a failure, the seed 004
//! non-streaming route answering 502, Workers AI without its binding, the
//! write-only site API key; then the handoff: requests for a person in four
//! languages, the low-confidence offer, and accepting it.
//!
//! Each trial makes its own site whose `responder.model` names the stand-in's
//! scenario, so trials run in parallel without sharing state.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgechat_shared::api::conversations::ConversationSummary;
use edgechat_shared::api::events::LiveEvent;
use edgechat_shared::api::handoff::HandoffResponse;
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::sites::{ArticleSearch, Site};
use edgechat_shared::api::stream::{StreamEvent, StreamRequest};
use edgechat_shared::api::token_conversations::TokenMessage;
use edgechat_shared::api::{Mode, Role};
use edgechat_shared::sse::Parser;
use edgechat_shared::texts::{AR, DE, EN, ES, FR};
use edgechat_tests::http::{assert_error, json_of, unique};
use edgechat_tests::openai_mock::{MockOpenAi, ANSWER_PIECES};
use edgechat_tests::*;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

/// `AI_TIMEOUT_MS` of this server: the wait for the model's response and
/// for each next event.
const TIMEOUT_MS: u64 = 1_500;
/// The deployment's `OPENAI_API_KEY` (a var here; a secret when deployed).
const DEPLOYMENT_KEY: &str = "sk-deployment-key";
/// The deployment's `OPENAI_MODEL`.
const DEPLOYMENT_MODEL: &str = "ok:deployment-default";
/// Longest wait for anything the server does on its own.
const WAIT: Duration = Duration::from_secs(15);

static MOCK: OnceLock<MockOpenAi> = OnceLock::new();
static TOKEN: OnceLock<String> = OnceLock::new();

fn mock() -> &'static MockOpenAi {
    MOCK.get().expect("the stand-in started in main")
}

fn main() {
    let mock = MOCK.get_or_init(MockOpenAi::start);
    let timeout = TIMEOUT_MS.to_string();
    let server = Server::start_with(
        "ai",
        &[
            ("AI_TIMEOUT_MS", &timeout),
            ("OPENAI_BASE_URL", &mock.url),
            ("OPENAI_API_KEY", DEPLOYMENT_KEY),
            ("OPENAI_MODEL", DEPLOYMENT_MODEL),
            ("AI_ALLOW_LOCAL", "true"),
        ],
    );
    TOKEN.set(runtime().block_on(server.demo_token())).expect("one login");
    let trials = trials![server;
        openai_answer_streams_the_upstream_chunks_as_they_arrive_and_cites_the_passages,
        the_prompt_holds_the_site_instructions_numbered_passages_and_the_conversation,
        a_site_without_its_own_settings_uses_the_deployment_base_url_model_and_key,
        an_http_error_ends_with_an_error_event_offering_a_person_and_keeps_the_message,
        a_stream_cut_short_is_an_error_and_no_partial_answer_is_stored,
        malformed_data_and_error_events_mid_stream_are_errors,
        a_slow_upstream_times_out_with_an_error_event,
        an_upstream_that_stalls_mid_answer_times_out,
        a_visitor_who_disconnects_cancels_the_upstream_request,
        a_retry_after_a_failure_answers_the_kept_message_once,
        a_token_conversation_reply_whose_answer_fails_is_502_and_the_message_is_kept,
        workers_ai_without_its_binding_ends_with_an_error_event_offering_a_person,
        the_site_api_key_is_write_only_and_kept_across_patches,
        a_bad_base_url_is_422,
        a_redirect_from_the_model_is_an_error_and_is_not_followed,
        article_search_ranks_as_the_responders_do_and_refuses_bad_queries,
        asking_for_a_person_in_english_french_german_and_spanish_offers_one,
        a_model_without_a_confident_passage_answers_and_offers_a_person,
        accepting_the_offer_switches_to_operator_mode_and_notifies_operators_live,
        accepting_a_person_while_the_model_writes_stops_it_and_stores_no_answer,
        an_operator_taking_over_while_the_model_writes_stops_it_and_stores_no_answer,
        handoff_before_a_first_message_is_404_and_with_a_bad_session_is_422,
        // Languages (issue 15)
        a_french_visitor_gets_the_not_sure_answer_and_the_offer_of_a_person_in_french,
        the_conversations_language_answers_messages_and_the_handoff_that_name_none,
        a_language_without_server_texts_falls_back_to_english,
        the_model_is_told_the_visitors_language_and_its_failure_notice_is_in_it,
        a_token_conversations_auto_reply_is_in_the_visitors_language,
        a_malformed_lang_on_handoff_is_422,
    ];
    run_trials(server, trials)
}

// ---------------------------------------------------------------- helpers

fn token() -> &'static str {
    TOKEN.get().expect("logged in in main")
}

/// A new site of the demo account with `responder` settings and the demo
/// knowledge base imported.
async fn site_with(server: &Server, responder: Value) -> Site {
    let response = server
        .authed(Method::POST, "/v1/sites", token())
        .json(&json!({"name": unique("AI site"), "responder": responder}))
        .send()
        .await
        .expect("POST /v1/sites");
    let site: Site = json_of(response, 201).await;
    let (url, key) = (server.url.clone(), site.site_key.clone());
    let kb = xtask::root().join("xtask/demo/kb.jsonl");
    let imported = tokio::task::spawn_blocking(move || xtask::seed::import_kb(&url, token(), &key, &kb))
        .await
        .expect("import task")
        .unwrap_or_else(|e| panic!("importing the demo knowledge base: {e}"));
    assert_eq!(imported, 12);
    site
}

/// A site answered by the stand-in's `scenario` (a unique model name).
async fn openai_site(server: &Server, scenario: &str) -> (Site, String) {
    let model = unique(&format!("{scenario}:"));
    let site = site_with(server, json!({"kind": "openai", "model": model, "base_url": mock().url, "api_key": "sk-site-key"})).await;
    (site, model)
}

fn request(site: &Site, session: &str, message: &str) -> StreamRequest {
    StreamRequest {
        site_key: site.site_key.clone(),
        session_id: session.to_string(),
        message: message.to_string(),
        lang: None,
        message_id: Some(new_message_id()),
        attachments: Vec::new(),
        page_url: None,
    }
}

async fn history(server: &Server, site: &Site, session: &str) -> HistoryResponse {
    let response = server.get(&format!("/api/v1/chat/history?site_key={}&session_id={session}", site.site_key)).await;
    json_of(response, 200).await
}

/// `POST /api/v1/chat/handoff` for the visitor of `session`, from that visitor's address.
async fn post_handoff(server: &Server, site_key: &str, session: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/v1/chat/handoff", server.url))
        .header("cf-connecting-ip", visitor_ip(session))
        .json(&json!({"site_key": site_key, "session_id": session}))
        .send()
        .await
        .expect("POST /handoff")
}

/// `POST /api/v1/chat/handoff` naming the visitor's language.
async fn post_handoff_in(server: &Server, site_key: &str, session: &str, lang: &str) -> reqwest::Response {
    server
        .http
        .post(format!("{}/api/v1/chat/handoff", server.url))
        .header("cf-connecting-ip", visitor_ip(session))
        .json(&json!({"site_key": site_key, "session_id": session, "lang": lang}))
        .send()
        .await
        .expect("POST /handoff")
}

/// [`request`] written in `lang`.
fn request_in(site: &Site, session: &str, message: &str, lang: &str) -> StreamRequest {
    StreamRequest { lang: Some(lang.to_string()), ..request(site, session, message) }
}

/// A question the demo knowledge base has no confident answer to.
const UNKNOWN_QUESTION: &str = "Quantum chromodynamics lattice gauge simulations?";

/// A `POST /api/v1/chat/stream` the test reads step by step; dropping it
/// disconnects the visitor.
struct OpenStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<axum::body::Bytes>> + Send>>,
    parser: Parser,
}

impl OpenStream {
    async fn open(server: &Server, request: &StreamRequest) -> OpenStream {
        let response = server
            .http
            .post(format!("{}/api/v1/chat/stream", server.url))
            .header("cf-connecting-ip", visitor_ip(&request.session_id))
            .json(request)
            .send()
            .await
            .expect("POST /stream");
        assert_eq!(response.status(), 200);
        OpenStream { body: Box::pin(response.bytes_stream()), parser: Parser::new() }
    }

    /// The events of the next bytes to arrive (maybe none); panics after [`WAIT`] or at the end.
    async fn next(&mut self) -> Vec<StreamEvent> {
        let bytes =
            tokio::time::timeout(WAIT, self.body.next()).await.expect("the stream goes on").expect("the body goes on").expect("bytes");
        self.parser.push(&bytes).iter().map(|f| serde_json::from_str(&f.data).expect("a stream event")).collect()
    }
}

/// The `error` event that ends `streamed`; panics when it ends otherwise.
fn error_event(streamed: &Streamed) -> (String, bool) {
    match streamed.events.last().map(|(_, e)| e) {
        Some(StreamEvent::Error { message, handoff_offered }) => (message.clone(), *handoff_offered),
        other => panic!("expected the stream to end with an error event, got {other:?} after {:?}", streamed.events),
    }
}

/// Asserts that the stream failed and offered a person, and that only the
/// visitor's message is stored.
async fn assert_failed_and_kept(server: &Server, site: &Site, request: &StreamRequest, streamed: &Streamed) {
    assert_eq!(streamed.status, 200);
    let (message, offered) = error_event(streamed);
    assert!(offered, "the error offers a person");
    assert!(message.contains("person"), "{message}");
    assert!(!streamed.events.iter().any(|(_, e)| matches!(e, StreamEvent::Done { .. })), "no done after an error");
    let stored = history(server, site, &request.session_id).await;
    let kept: Vec<(Role, &str)> = stored.messages.iter().map(|m| (m.role, m.content.as_str())).collect();
    assert_eq!(kept, [(Role::Visitor, request.message.as_str())], "the visitor message is kept, no partial answer");
}

// ---------------------------------------------------------------- the openai responder

async fn openai_answer_streams_the_upstream_chunks_as_they_arrive_and_cites_the_passages(server: &Server) {
    // The stand-in sends the first piece, then waits for the test: the first
    // chunk event must reach the visitor while the rest does not exist yet.
    let (site, model) = openai_site(server, "gated").await;
    let session = new_session_id();
    let mut stream = OpenStream::open(server, &request(&site, &session, "How do I install the widget on my website?")).await;
    let mut events: Vec<StreamEvent> = Vec::new();
    while !events.iter().any(|e| matches!(e, StreamEvent::Chunk { .. })) {
        events.extend(stream.next().await);
    }
    let chunks = |events: &[StreamEvent]| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Chunk { content } => Some(content.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(chunks(&events), [ANSWER_PIECES[0]], "the first piece is forwarded before the upstream sends the next");
    mock().release(&model);
    while !events.iter().any(|e| matches!(e, StreamEvent::Done { .. } | StreamEvent::Error { .. })) {
        events.extend(stream.next().await);
    }
    assert_eq!(chunks(&events), ANSWER_PIECES, "each upstream piece is forwarded as one chunk event, in order");
    let meta = match events.last() {
        Some(StreamEvent::Done { meta }) => meta,
        other => panic!("expected the stream to end with done, got {other:?}"),
    };
    assert_eq!(meta.sources.first().map(|s| s.id.as_str()), Some("install-widget"), "{:?}", meta.sources);
    assert!(!meta.handoff_offered);
    assert_eq!(meta.mode, Mode::Ai);
    let stored = history(server, &site, &session).await;
    let answer = stored.messages.last().expect("the answer is stored");
    assert_eq!((answer.role, answer.content.as_str()), (Role::Ai, ANSWER_PIECES.concat().as_str()));
    assert_eq!(answer.sources, meta.sources);
    let requests = mock().requests_for(&model);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body["stream"], true);
    assert_eq!(requests[0].authorization.as_deref(), Some("Bearer sk-site-key"), "the site's own key");
}

async fn the_prompt_holds_the_site_instructions_numbered_passages_and_the_conversation(server: &Server) {
    let model = unique("ok:");
    let instructions = "You are Edgy, the EdgeChat helper. Sign every answer with a wave.";
    let site = site_with(server, json!({"kind": "openai", "model": model, "base_url": mock().url, "instructions": instructions})).await;
    let session = new_session_id();
    let first = server.stream(&request(&site, &session, "How much does EdgeChat cost?")).await;
    first.done();
    let second = server.stream(&request(&site, &session, "How do I install the widget on my website?")).await;
    let meta = second.done().clone();
    let requests = mock().requests_for(&model);
    assert_eq!(requests.len(), 2);
    let messages = requests[1].messages();
    let roles: Vec<&str> = messages.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"], "{messages:?}");
    let system = &messages[0].1;
    assert!(system.starts_with(instructions), "{system}");
    assert!(system.contains("[1] How do I install the EdgeChat widget on my website?"), "{system}");
    assert!(system.contains("Paste one script tag"), "the passage text: {system}");
    assert_eq!(messages[1].1, "How much does EdgeChat cost?");
    assert_eq!(messages[2].1, first.answer(), "the earlier answer as the assistant turn");
    assert_eq!(messages[3].1, "How do I install the widget on my website?");
    assert_eq!(meta.sources[0].id, "install-widget");
    let stored = history(server, &site, &session).await;
    assert_eq!(stored.messages.len(), 4);
    assert_eq!(stored.messages[3].content, ANSWER_PIECES.concat());
    assert_eq!(stored.messages[3].sources, meta.sources, "the stored answer keeps its sources");
}

async fn a_site_without_its_own_settings_uses_the_deployment_base_url_model_and_key(server: &Server) {
    let site = site_with(server, json!({"kind": "openai"})).await;
    let before = mock().requests_for(DEPLOYMENT_MODEL).len();
    let streamed = server.stream(&request(&site, &new_session_id(), "Which browsers does the widget support?")).await;
    assert_eq!(streamed.answer(), ANSWER_PIECES.concat());
    let requests = mock().requests_for(DEPLOYMENT_MODEL);
    assert_eq!(requests.len(), before + 1, "the deployment's OPENAI_BASE_URL and OPENAI_MODEL");
    assert!(requests.iter().all(|r| r.authorization.as_deref() == Some(&*format!("Bearer {DEPLOYMENT_KEY}"))));
}

async fn an_http_error_ends_with_an_error_event_offering_a_person_and_keeps_the_message(server: &Server) {
    for scenario in ["http-500", "http-429"] {
        let (site, _) = openai_site(server, scenario).await;
        let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
        let streamed = server.stream(&request).await;
        assert_eq!(streamed.chunk_count(), 0, "{scenario}");
        assert_failed_and_kept(server, &site, &request, &streamed).await;
    }
}

/// A 3xx from the model's server is an HTTP error, never followed (it could
/// lead anywhere, a private address included).
async fn a_redirect_from_the_model_is_an_error_and_is_not_followed(server: &Server) {
    let (site, model) = openai_site(server, "redirect").await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let streamed = server.stream(&request).await;
    assert_eq!(streamed.chunk_count(), 0);
    assert_failed_and_kept(server, &site, &request, &streamed).await;
    assert_eq!(mock().requests_for(&model).len(), 1, "asked once, the redirect not followed");
}

async fn a_stream_cut_short_is_an_error_and_no_partial_answer_is_stored(server: &Server) {
    let (site, _) = openai_site(server, "cut").await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let streamed = server.stream(&request).await;
    assert_eq!(streamed.answer(), ANSWER_PIECES[..2].concat(), "what came before the cut was forwarded");
    assert_failed_and_kept(server, &site, &request, &streamed).await;
}

async fn malformed_data_and_error_events_mid_stream_are_errors(server: &Server) {
    for scenario in ["malformed", "error-event"] {
        let (site, _) = openai_site(server, scenario).await;
        let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
        let streamed = server.stream(&request).await;
        assert_eq!(streamed.answer(), ANSWER_PIECES[0], "{scenario}");
        assert_failed_and_kept(server, &site, &request, &streamed).await;
    }
}

async fn a_slow_upstream_times_out_with_an_error_event(server: &Server) {
    let (site, _) = openai_site(server, "slow").await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let streamed = server.stream(&request).await;
    let ended = streamed.events.last().map(|(t, _)| *t).expect("an event");
    assert!(ended >= Duration::from_millis(TIMEOUT_MS - 100), "not before the timeout: {ended:?}");
    assert!(ended < Duration::from_millis(TIMEOUT_MS + 5_000), "the stand-in answers after 10 s; the timeout came first: {ended:?}");
    assert_failed_and_kept(server, &site, &request, &streamed).await;
}

async fn an_upstream_that_stalls_mid_answer_times_out(server: &Server) {
    let (site, model) = openai_site(server, "stall").await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let streamed = server.stream(&request).await;
    assert_eq!(streamed.answer(), ANSWER_PIECES[0]);
    let ended = streamed.events.last().map(|(t, _)| *t).expect("an event");
    assert!(ended < Duration::from_millis(TIMEOUT_MS + 5_000), "{ended:?}");
    assert_failed_and_kept(server, &site, &request, &streamed).await;
    wait_until(|| mock().abandoned(&model), "the stalled upstream request is aborted").await;
}

/// Polls `condition` every 100 ms for up to [`WAIT`].
async fn wait_until(condition: impl Fn() -> bool, what: &str) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < WAIT, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_visitor_who_disconnects_cancels_the_upstream_request(server: &Server) {
    let (site, model) = openai_site(server, "endless").await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let mut stream = OpenStream::open(server, &request).await;
    let mut chunks = 0;
    while chunks < 2 {
        chunks += stream.next().await.iter().filter(|e| matches!(e, StreamEvent::Chunk { .. })).count();
    }
    assert!(!mock().abandoned(&model), "the upstream stream is still running while the visitor reads");
    drop(stream);
    wait_until(|| mock().abandoned(&model), "the upstream request is cancelled after the visitor left").await;
    let stored = history(server, &site, &request.session_id).await;
    let roles: Vec<Role> = stored.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Visitor], "the visitor message is kept and no partial answer stored");
}

async fn a_retry_after_a_failure_answers_the_kept_message_once(server: &Server) {
    let (site, _) = openai_site(server, "http-500").await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let failed = server.stream(&request).await;
    error_event(&failed);
    // The site owner fixes the model; the widget retries with the same message_id.
    let fixed = unique("ok:");
    let response = server
        .authed(Method::PATCH, &format!("/v1/sites/{}", site.id), token())
        .json(&json!({"responder": {"kind": "openai", "model": fixed, "base_url": mock().url}}))
        .send()
        .await
        .expect("PATCH");
    let _: Site = json_of(response, 200).await;
    // The retry carries other text under the same id: the stored message is what gets answered.
    let retry = StreamRequest { message: "talk to a human".into(), ..request.clone() };
    let retried = server.stream(&retry).await;
    let meta = retried.done();
    assert!(meta.replayed, "the message was already stored");
    let asked = mock().requests_for(&fixed).pop().expect("the fixed model was asked");
    assert_eq!(asked.messages().last().map(|(_, c)| c.as_str()), Some(request.message.as_str()));
    assert_eq!(retried.answer(), ANSWER_PIECES.concat());
    let stored = history(server, &site, &request.session_id).await;
    let roles: Vec<Role> = stored.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Visitor, Role::Ai], "one visitor message, one answer");
}

async fn a_token_conversation_reply_whose_answer_fails_is_502_and_the_message_is_kept(server: &Server) {
    let (site, _) = openai_site(server, "http-500").await;
    let visitor_token = new_session_id();
    let ip = visitor_ip(&visitor_token);
    let body = json!({"visitor_token": visitor_token, "name": "Ada", "email": "ada@example.com", "message": "Hello, how do I install the widget?"});
    let response = server
        .http
        .post(format!("{}/api/v1/chat/conversations?site_key={}", server.url, site.site_key))
        .header("cf-connecting-ip", &ip)
        .json(&body)
        .send()
        .await
        .expect("POST /conversations");
    let created: Value = json_of(response, 201).await;
    assert!(created["conversation_token"].as_str().is_some_and(|t| !t.is_empty()), "the token is not lost to the failed answer: {created}");
    let messages = format!("{}/api/v1/chat/conversations/{visitor_token}/messages?site_key={}", server.url, site.site_key);
    let response =
        server.http.post(&messages).header("cf-connecting-ip", &ip).json(&json!({"message": "Anyone?"})).send().await.expect("POST reply");
    assert_error(response, 502, "service_unavailable", "a reply whose answer fails").await;
    let response = server.http.get(&messages).header("cf-connecting-ip", &ip).send().await.expect("GET messages");
    let listed: Vec<TokenMessage> = json_of(response, 200).await;
    let kept: Vec<(&str, &str)> = listed.iter().map(|m| (m.direction.as_str(), m.body.as_str())).collect();
    assert_eq!(kept, [("inbound", "Hello, how do I install the widget?"), ("inbound", "Anyone?")], "both messages kept, no answer");
}

async fn workers_ai_without_its_binding_ends_with_an_error_event_offering_a_person(server: &Server) {
    let site = site_with(server, json!({"kind": "workers-ai"})).await;
    let request = request(&site, &new_session_id(), "How do I install the widget on my website?");
    let streamed = server.stream(&request).await;
    assert_failed_and_kept(server, &site, &request, &streamed).await;
}

async fn the_site_api_key_is_write_only_and_kept_across_patches(server: &Server) {
    let (site, model) = openai_site(server, "ok").await;
    assert!(site.responder.api_key.is_none(), "the key is never answered");
    assert!(site.responder.api_key_set);
    let path = format!("/v1/sites/{}", site.id);
    let listed: Value = json_of(server.authed(Method::GET, "/v1/sites", token()).send().await.unwrap(), 200).await;
    assert!(!listed.to_string().contains("sk-site-key"), "no listing holds the key");
    let patch = |responder: Value| server.authed(Method::PATCH, &path, token()).json(&json!({"responder": responder})).send();
    // A patch without the key keeps it.
    let patched: Site =
        json_of(patch(json!({"kind": "openai", "model": model, "base_url": mock().url, "instructions": "Be brief."})).await.unwrap(), 200)
            .await;
    assert!(patched.responder.api_key_set);
    let answered = server.stream(&request(&site, &new_session_id(), "How much does EdgeChat cost?")).await;
    answered.done();
    let last = mock().requests_for(&model).pop().expect("a request");
    assert_eq!(last.authorization.as_deref(), Some("Bearer sk-site-key"));
    // An empty key removes it: the deployment's key is used again.
    let cleared: Site =
        json_of(patch(json!({"kind": "openai", "model": model, "base_url": mock().url, "api_key": ""})).await.unwrap(), 200).await;
    assert!(!cleared.responder.api_key_set);
    server.stream(&request(&site, &new_session_id(), "How much does EdgeChat cost?")).await.done();
    let last = mock().requests_for(&model).pop().expect("a request");
    assert_eq!(last.authorization.as_deref(), Some(&*format!("Bearer {DEPLOYMENT_KEY}")));
    // The deployment's key never goes to another server, and a site key
    // does not follow a base_url moved without a new key.
    let elsewhere = mock().url.replace("127.0.0.1", "localhost");
    let _: Site =
        json_of(patch(json!({"kind": "openai", "model": model, "base_url": mock().url, "api_key": "sk-site-key"})).await.unwrap(), 200)
            .await;
    let moved: Site = json_of(patch(json!({"kind": "openai", "model": model, "base_url": elsewhere})).await.unwrap(), 200).await;
    assert!(!moved.responder.api_key_set, "moving base_url without a key drops the stored key");
    server.stream(&request(&site, &new_session_id(), "How much does EdgeChat cost?")).await.done();
    let last = mock().requests_for(&model).pop().expect("a request");
    assert_eq!(last.authorization, None, "no key is sent to a server the deployment did not name");
}

/// Every visitor question is posted to a site's `base_url` from the worker:
/// it must be a public https server, on create and on update.
async fn a_bad_base_url_is_422(server: &Server) {
    let private = [
        "https://169.254.169.254/latest",
        "https://10.0.0.7/v1",
        "https://[::ffff:127.0.0.2]/v1",
        "https://metadata.google.internal/v1",
        "https://localhost.localdomain.internal",
        "http://models.example/v1",
    ];
    let site = site_with(server, json!({"kind": "openai", "model": "ok:patched"})).await;
    for base_url in private {
        let patch = json!({"responder": {"kind": "openai", "base_url": base_url}});
        let response = server.authed(Method::PATCH, &format!("/v1/sites/{}", site.id), token()).json(&patch).send().await.unwrap();
        let error = assert_error(response, 422, "validation_error", base_url).await;
        assert!(error.message.contains("base_url"), "{}", error.message);
    }
    let kept: Value = json_of(server.authed(Method::GET, &format!("/v1/sites/{}", site.id), token()).send().await.unwrap(), 200).await;
    assert_eq!(kept["responder"]["base_url"], Value::Null, "no refused base_url was stored");
    for base_url in ["ftp://models.example", "not a url", "https://x.example/v1?key=1"].into_iter().chain(private) {
        let response = server
            .authed(Method::POST, "/v1/sites", token())
            .json(&json!({"name": "Bad", "responder": {"kind": "openai", "base_url": base_url}}))
            .send()
            .await
            .unwrap();
        let error = assert_error(response, 422, "validation_error", base_url).await;
        assert!(error.message.contains("base_url"), "{}", error.message);
    }
}

// ---------------------------------------------------------------- retrieval

async fn article_search_ranks_as_the_responders_do_and_refuses_bad_queries(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let path = format!("/v1/sites/{}/articles/search", site.id);
    let search = |query: Vec<(&'static str, String)>| server.authed(Method::GET, &path, token()).query(&query).send();
    // A misspelt, inflected question still finds its article, with the answer passage.
    let found: ArticleSearch = json_of(search(vec![("q", "instaling the widgett on my web site".into())]).await.unwrap(), 200).await;
    let best = found.hits.first().expect("a hit");
    assert_eq!(best.id, "install-widget");
    assert!(best.confident && best.confidence > 0.0 && best.score > 0.0, "{best:?}");
    assert!(best.passage.starts_with("Paste one script tag"), "{}", best.passage);
    assert!(found.hits.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    let answered = server.stream(&request(&site, &new_session_id(), "instaling the widgett on my web site")).await;
    assert_eq!(answered.done().sources[0].id, best.id, "the widget's answer cites the same article");
    // Edits reach the next search and answer at once: the cached index follows the knowledge base.
    let article = format!("/v1/sites/{}/articles/install-widget", site.id);
    let edited = json!({"body": "Add the EdgeChat snippet to your theme footer.", "url": "https://help.example.com/install"});
    let response = server.authed(Method::PATCH, &article, token()).json(&edited).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let after_edit: ArticleSearch = json_of(search(vec![("q", "instaling the widgett on my web site".into())]).await.unwrap(), 200).await;
    assert_eq!(after_edit.hits[0].passage, "Add the EdgeChat snippet to your theme footer.");
    assert_eq!(after_edit.hits[0].url.as_deref(), Some("https://help.example.com/install"));
    let response = server.authed(Method::DELETE, &article, token()).send().await.unwrap();
    assert!(response.status().is_success());
    let after_delete: ArticleSearch = json_of(search(vec![("q", "install the widget".into())]).await.unwrap(), 200).await;
    assert!(after_delete.hits.iter().all(|h| h.id != "install-widget"), "{:?}", after_delete.hits);
    let limited: ArticleSearch = json_of(search(vec![("q", "widget".into()), ("limit", "2".into())]).await.unwrap(), 200).await;
    assert!(limited.hits.len() <= 2);
    let off_topic: ArticleSearch = json_of(search(vec![("q", "Quantum chromodynamics lattice gauge".into())]).await.unwrap(), 200).await;
    assert!(off_topic.hits.iter().all(|h| !h.confident), "{:?}", off_topic.hits);
    for (query, field) in [
        (vec![("q", "   ".to_string())], "q"),
        (vec![], "q"),
        (vec![("q", "x".repeat(10_001))], "q"),
        (vec![("q", "widget".into()), ("limit", "0".into())], "limit"),
        (vec![("q", "widget".into()), ("limit", "51".into())], "limit"),
    ] {
        let error = assert_error(search(query).await.unwrap(), 422, "validation_error", field).await;
        assert!(error.message.contains(field), "{}", error.message);
    }
    let unauthenticated = server.http.get(format!("{}{path}?q=widget", server.url)).send().await.unwrap();
    assert_error(unauthenticated, 401, "unauthorized", "search without a token").await;
    let unknown = server.authed(Method::GET, "/v1/sites/999999/articles/search?q=widget", token()).send().await.unwrap();
    assert_error(unknown, 404, "not_found", "search in an unknown site").await;
}

// ---------------------------------------------------------------- handoff

async fn asking_for_a_person_in_english_french_german_and_spanish_offers_one(server: &Server) {
    let (openai, model) = openai_site(server, "ok").await;
    let kb = site_with(server, json!({"kind": "kb"})).await;
    for site in [&kb, &openai] {
        for phrase in [
            "Can I talk to a human please?",
            "Je voudrais parler à un conseiller",
            "Ich möchte mit einem Menschen sprechen",
            "Quiero hablar con una persona",
        ] {
            let streamed = server.stream(&request(site, &new_session_id(), phrase)).await;
            let meta = streamed.done();
            assert!(meta.handoff_offered, "{phrase}");
            assert!(meta.sources.is_empty(), "{phrase}: {:?}", meta.sources);
            assert!(streamed.answer().starts_with("Of course."), "{phrase}: the offer, not a \"not sure\": {}", streamed.answer());
        }
    }
    assert!(mock().requests_for(&model).is_empty(), "a request for a person never reaches the model");
}

async fn a_model_without_a_confident_passage_answers_and_offers_a_person(server: &Server) {
    let (site, model) = openai_site(server, "ok").await;
    let streamed = server.stream(&request(&site, &new_session_id(), "Quantum chromodynamics lattice gauge simulations?")).await;
    let meta = streamed.done();
    assert!(meta.handoff_offered, "low confidence offers a person");
    assert!(meta.sources.is_empty());
    let system = &mock().requests_for(&model)[0].messages()[0].1;
    assert!(system.contains("none found"), "the model is told there is no passage: {system}");
}

async fn accepting_the_offer_switches_to_operator_mode_and_notifies_operators_live(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let mut socket = Socket::open(server, token()).await;
    let session = new_session_id();
    let offer = server.stream(&request(&site, &session, "talk to a human")).await;
    let meta = offer.done().clone();
    assert!(meta.handoff_offered);
    let id = meta.conversation_id;
    let accepted: HandoffResponse = json_of(post_handoff(server, &site.site_key, &session).await, 200).await;
    assert_eq!(accepted.mode, Mode::Operator);
    let seen = socket.events_of_until(id, |e| matches!(e, LiveEvent::Handoff { .. })).await;
    assert!(seen.contains(&LiveEvent::Mode { conversation_id: id, mode: Mode::Operator, author_name: None }), "{seen:?}");
    assert_eq!(seen.last(), Some(&LiveEvent::Handoff { conversation_id: id, site_id: site.id }));
    let summary: ConversationSummary =
        json_of(server.authed(Method::GET, &format!("/v1/chat/conversations/{id}"), token()).send().await.unwrap(), 200).await;
    assert_eq!(summary.mode, Mode::Operator);
    // The AI is silent now: the next message is stored and answered by nobody.
    let next = server.stream(&request(&site, &session, "Hello? Anyone there?")).await;
    assert_eq!(next.chunk_count(), 0);
    assert_eq!(next.done().mode, Mode::Operator);
    assert_eq!(next.done().answer_id, None);
    // Accepting again changes nothing.
    let again: HandoffResponse = json_of(post_handoff(server, &site.site_key, &session).await, 200).await;
    assert_eq!(again.mode, Mode::Operator);
    let stored = history(server, &site, &session).await;
    let roles: Vec<Role> = stored.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Visitor, Role::Ai, Role::Visitor]);
}

async fn accepting_a_person_while_the_model_writes_stops_it_and_stores_no_answer(server: &Server) {
    stopping_the_model_mid_answer_stores_nothing(server, |site, session| async move {
        let _: HandoffResponse = json_of(post_handoff(server, &site.site_key, &session).await, 200).await;
    })
    .await;
}

/// An operator's takeover (seed 000) while the model writes stops it as
/// the visitor's handoff does.
async fn an_operator_taking_over_while_the_model_writes_stops_it_and_stores_no_answer(server: &Server) {
    stopping_the_model_mid_answer_stores_nothing(server, |site, session| async move {
        let id = history(server, &site, &session).await.conversation_id.expect("the visitor's conversation");
        let path = format!("/v1/chat/conversations/{id}/takeover");
        let response = server.authed(Method::POST, &path, token()).send().await.expect("POST takeover");
        assert_eq!(response.status().as_u16(), 200, "takeover");
    })
    .await;
}

/// A visitor asks a model that writes without end; once two events came,
/// `stop` (a handoff, a takeover) runs: the stream ends `done` in
/// `operator` mode, no answer is stored, and the upstream request is cancelled.
async fn stopping_the_model_mid_answer_stores_nothing<F, Fut>(server: &Server, stop: F)
where
    F: FnOnce(Site, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (site, model) = openai_site(server, "endless").await;
    let session = new_session_id();
    let mut stream = OpenStream::open(server, &request(&site, &session, "How do I install the widget on my website?")).await;
    let mut events: Vec<StreamEvent> = Vec::new();
    let mut stop = Some(stop);
    while !events.iter().any(|e| matches!(e, StreamEvent::Done { .. } | StreamEvent::Error { .. })) {
        events.extend(stream.next().await);
        if events.len() >= 2 {
            if let Some(stop) = stop.take() {
                stop(site.clone(), session.clone()).await;
            }
        }
    }
    match events.last() {
        Some(StreamEvent::Done { meta }) => assert_eq!((meta.mode, meta.answer_id), (Mode::Operator, None), "no answer is stored"),
        other => panic!("expected done in operator mode, got {other:?}"),
    }
    wait_until(|| mock().abandoned(&model), "the model's request is cancelled").await;
    let roles: Vec<Role> = history(server, &site, &session).await.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::Visitor]);
}

async fn handoff_before_a_first_message_is_404_and_with_a_bad_session_is_422(server: &Server) {
    let without_conversation = post_handoff(server, DEMO_SITE_KEY, &new_session_id()).await;
    assert_error(without_conversation, 404, "not_found", "handoff without a conversation").await;
    assert_error(post_handoff(server, DEMO_SITE_KEY, "short").await, 422, "validation_error", "handoff with a malformed session").await;
}

// ---------------------------------------------------------------- languages (issue 15)

async fn a_french_visitor_gets_the_not_sure_answer_and_the_offer_of_a_person_in_french(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let session = new_session_id();
    let unsure = server.stream(&request_in(&site, &session, "Que pensez-vous de la chromodynamique quantique ?", "fr")).await;
    assert!(unsure.done().handoff_offered);
    assert_eq!(unsure.answer(), FR.not_sure);
    let offer = server.stream(&request_in(&site, &session, "Je voudrais parler à une personne", "fr")).await;
    assert!(offer.done().handoff_offered);
    assert_eq!(offer.answer(), FR.handoff_offer);
    let stored = history(server, &site, &session).await;
    let answers: Vec<&str> = stored.messages.iter().filter(|m| m.role == Role::Ai).map(|m| m.content.as_str()).collect();
    assert_eq!(answers, [FR.not_sure, FR.handoff_offer], "the French texts are what is stored");
    let accepted: HandoffResponse = json_of(post_handoff_in(server, &site.site_key, &session, "fr-CA").await, 200).await;
    assert_eq!(accepted.message, FR.handoff_accepted, "fr-CA is French");
}

async fn the_conversations_language_answers_messages_and_the_handoff_that_name_none(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let session = new_session_id();
    server.stream(&request_in(&site, &session, "Hallo, wie installiere ich das Widget?", "de-AT")).await.done();
    let unsure = server.stream(&request(&site, &session, UNKNOWN_QUESTION)).await;
    assert_eq!(unsure.answer(), DE.not_sure, "no lang: the conversation's, German");
    let accepted: HandoffResponse = json_of(post_handoff(server, &site.site_key, &session).await, 200).await;
    assert_eq!(accepted.message, DE.handoff_accepted, "the handoff without lang is in the conversation's language");
    // A later message in another language becomes the conversation's language.
    let other = new_session_id();
    server.stream(&request_in(&site, &other, "Hola", "de")).await.done();
    let switched = server.stream(&request_in(&site, &other, UNKNOWN_QUESTION, "ar")).await;
    assert_eq!(switched.answer(), AR.not_sure);
    let accepted: HandoffResponse = json_of(post_handoff(server, &site.site_key, &other).await, 200).await;
    assert_eq!(accepted.message, AR.handoff_accepted);
    let named: HandoffResponse = json_of(post_handoff_in(server, &site.site_key, &other, "es").await, 200).await;
    assert_eq!(named.message, ES.handoff_accepted, "a lang on the handoff wins");
}

async fn a_language_without_server_texts_falls_back_to_english(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let session = new_session_id();
    let unsure = server.stream(&request_in(&site, &session, UNKNOWN_QUESTION, "pt-BR")).await;
    assert_eq!(unsure.answer(), EN.not_sure);
    let offer = server.stream(&request_in(&site, &session, "Can I talk to a human please?", "x-klingon")).await;
    assert_eq!(offer.answer(), EN.handoff_offer);
    let accepted: HandoffResponse = json_of(post_handoff(server, &site.site_key, &session).await, 200).await;
    assert_eq!(accepted.message, EN.handoff_accepted);
    let fresh = new_session_id();
    let unnamed = server.stream(&request(&site, &fresh, UNKNOWN_QUESTION)).await;
    assert_eq!(unnamed.answer(), EN.not_sure, "no lang ever: English");
}

async fn the_model_is_told_the_visitors_language_and_its_failure_notice_is_in_it(server: &Server) {
    let (site, model) = openai_site(server, "ok").await;
    server.stream(&request_in(&site, &new_session_id(), "Comment installer le widget sur mon site ?", "fr")).await.done();
    let system = &mock().requests_for(&model)[0].messages()[0].1;
    assert!(system.contains("The visitor's language is French (fr): always answer in French."), "{system}");
    let (failing, _) = openai_site(server, "http-500").await;
    let streamed = server.stream(&request_in(&failing, &new_session_id(), "¿Cómo instalo el widget?", "es-MX")).await;
    assert_eq!(error_event(&streamed), (ES.failure.to_string(), true));
}

async fn a_token_conversations_auto_reply_is_in_the_visitors_language(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let create = |lang: Option<&'static str>| {
        let site_key = site.site_key.clone();
        async move {
            let token = new_session_id();
            let mut body = json!({"name": "Ana", "email": "ana@example.com", "message": "Bonjour", "visitor_token": token});
            if let Some(lang) = lang {
                body["lang"] = json!(lang);
            }
            let response = server
                .http
                .post(format!("{}/api/v1/chat/conversations?site_key={site_key}", server.url))
                .header("cf-connecting-ip", visitor_ip(&token))
                .json(&body)
                .send()
                .await
                .expect("POST /conversations");
            json_of::<Value>(response, 201).await["auto_reply"].as_str().unwrap_or_default().to_string()
        }
    };
    assert_eq!(create(Some("fr")).await, FR.auto_reply);
    assert_eq!(create(Some("de-CH")).await, DE.auto_reply);
    assert_eq!(create(None).await, EN.auto_reply);
}

async fn a_malformed_lang_on_handoff_is_422(server: &Server) {
    let site = site_with(server, json!({"kind": "kb"})).await;
    let session = new_session_id();
    server.stream(&request(&site, &session, "Hello")).await.done();
    assert_error(post_handoff_in(server, &site.site_key, &session, "en_US").await, 422, "validation_error", "lang en_US").await;
}
