//! The circuit breaker around the AI upstream (issue 14; seed 003's
//! `/ready` and "502 service_unavailable — circuit open") against a real
//! `wrangler dev` and the OpenAI stand-in (`edgechat_tests::openai_mock`,
//! which counts the requests it gets): three upstream failures open it,
//! `/ready` answers 503 naming it, the next question is offered a person
//! without calling the upstream (and a non-streaming reply is 502), a probe
//! after the cool-down that fails opens it again, one that succeeds closes it.
//! A site's own upstream trips only its own breaker, which `/ready` ignores.
//!
//! Its own binary and server: the breaker of the deployment's upstream is
//! shared by every conversation of a server (that is what `/ready`
//! reports), so taking that upstream down would fail the answers of the
//! `ai` binary's trials running beside it.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use edgechat_shared::api::handoff::HandoffResponse;
use edgechat_shared::api::health::Readiness;
use edgechat_shared::api::history::HistoryResponse;
use edgechat_shared::api::sites::Site;
use edgechat_shared::api::stream::StreamEvent;
use edgechat_shared::api::{Mode, Role};
use edgechat_tests::http::{assert_error, json_of, unique};
use edgechat_tests::openai_mock::{MockOpenAi, ANSWER_PIECES};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

/// `AI_BREAKER_COOLDOWN_SECONDS` of this server: long enough for the steps
/// that run while the breaker is open, short enough to await twice.
const COOLDOWN: Duration = Duration::from_secs(5);
/// The deployment's `OPENAI_MODEL`: a stand-in model the test takes down and brings back.
const DEPLOYMENT_MODEL: &str = "switch:breaker-deployment";
/// Longest wait for anything the server does on its own, beyond the cool-down.
const WAIT: Duration = Duration::from_secs(15);

static MOCK: OnceLock<MockOpenAi> = OnceLock::new();

fn mock() -> &'static MockOpenAi {
    MOCK.get().expect("the stand-in started in main")
}

fn main() {
    let mock = MOCK.get_or_init(MockOpenAi::start);
    let cooldown = COOLDOWN.as_secs().to_string();
    let server = Server::start_with(
        "ai_breaker",
        &[
            ("AI_TIMEOUT_MS", "1500"),
            ("OPENAI_BASE_URL", &mock.url),
            ("OPENAI_API_KEY", "sk-deployment-key"),
            ("OPENAI_MODEL", DEPLOYMENT_MODEL),
            ("AI_BREAKER_COOLDOWN_SECONDS", &cooldown),
            ("AI_ALLOW_LOCAL", "true"),
        ],
    );
    // One trial: the deployment's breaker is one shared state, and the
    // steps below are its life in order.
    run_trials(server, trials![server; three_failures_open_the_breaker_questions_go_to_a_person_and_it_closes_after_the_cool_down])
}

/// A new site of the demo account with `responder` settings.
async fn site_with(server: &Server, token: &str, responder: Value) -> Site {
    let response = server
        .authed(Method::POST, "/v1/sites", token)
        .json(&json!({"name": unique("Breaker site"), "responder": responder}))
        .send()
        .await
        .expect("POST /v1/sites");
    json_of(response, 201).await
}

/// `GET /ready`: the status and the body.
async fn ready(server: &Server) -> (u16, Readiness) {
    let response = server.get("/ready").await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a readiness body"))
}

/// Asks a question as a new visitor of `site`; answers the visitor's session and the stream.
async fn ask(server: &Server, site: &Site) -> (String, Streamed) {
    let session = new_session_id();
    let streamed = server.stream(&visitor_request(&site.site_key, &session, "How do I install the widget on my website?")).await;
    assert_eq!(streamed.status, 200);
    (session, streamed)
}

/// Asserts the stream ended with the error event that offers a person, with no chunk before it.
fn assert_offered_a_person(streamed: &Streamed, what: &str) {
    match streamed.events.last().map(|(_, e)| e) {
        Some(StreamEvent::Error { message, handoff_offered: true }) => assert!(message.contains("person"), "{what}: {message}"),
        other => panic!("{what}: expected an error event offering a person, got {other:?}"),
    }
    assert_eq!(streamed.chunk_count(), 0, "{what}: nothing from a model");
}

/// Polls `/ready` every 100 ms until its breaker check is `state`; panics
/// after the cool-down and [`WAIT`]. Answers the last status and body.
async fn await_breaker(server: &Server, state: &str) -> (u16, Readiness) {
    let started = Instant::now();
    loop {
        let (status, body) = ready(server).await;
        if body.checks.ai_breaker == state {
            return (status, body);
        }
        assert!(started.elapsed() < COOLDOWN + WAIT, "the breaker did not become {state}: {body:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn three_failures_open_the_breaker_questions_go_to_a_person_and_it_closes_after_the_cool_down(server: &'static Server) {
    let token = server.demo_token().await;
    let (status, body) = ready(server).await;
    assert_eq!((status, body.status.as_deref(), body.checks.ai_breaker.as_str()), (200, Some("ready"), "closed"));

    // A site's own failing upstream opens its own breaker only.
    let own_model = unique("http-500:own");
    let own = site_with(server, &token, json!({"kind": "openai", "base_url": mock().url, "api_key": "sk-own", "model": own_model})).await;
    for _ in 0..3 {
        assert_offered_a_person(&ask(server, &own).await.1, "the site's failing upstream");
    }
    assert_eq!(mock().requests_for(&own_model).len(), 3);
    assert_offered_a_person(&ask(server, &own).await.1, "the site's open breaker");
    assert_eq!(mock().requests_for(&own_model).len(), 3, "the site's open breaker skips its upstream");
    let (status, body) = ready(server).await;
    assert_eq!((status, body.checks.ai_breaker.as_str()), (200, "closed"), "a site's own upstream is not the deployment's");

    // The deployment's upstream answers, then fails three times.
    let site = site_with(server, &token, json!({"kind": "openai"})).await;
    assert_eq!(ask(server, &site).await.1.answer(), ANSWER_PIECES.concat());
    let calls = || mock().requests_for(DEPLOYMENT_MODEL).len();
    let answered = calls();
    mock().set_down(DEPLOYMENT_MODEL, true);
    for _ in 0..3 {
        assert_offered_a_person(&ask(server, &site).await.1, "the failing deployment upstream");
    }
    assert_eq!(calls(), answered + 3);
    let (status, body) = ready(server).await;
    assert_eq!(status, 503, "{body:?}");
    assert_eq!((body.error.as_deref(), body.checks.database.as_str(), body.checks.ai_breaker.as_str()), (Some("not_ready"), "ok", "open"));
    assert!(body.message.as_deref().is_some_and(|m| m.contains("breaker")), "the message names the part that is down: {body:?}");

    // Open: the next question is offered a person without asking the
    // upstream, and the visitor can take the offer.
    let (session, streamed) = ask(server, &site).await;
    assert_offered_a_person(&streamed, "the open breaker");
    assert_eq!(calls(), answered + 3, "the open breaker does not call the upstream");
    let history: HistoryResponse =
        json_of(server.get(&format!("/api/v1/chat/history?site_key={}&session_id={session}", site.site_key)).await, 200).await;
    assert_eq!(history.messages.iter().map(|m| m.role).collect::<Vec<_>>(), [Role::Visitor], "the question is kept");
    let response = server
        .http
        .post(format!("{}/api/v1/chat/handoff", server.url))
        .header("cf-connecting-ip", visitor_ip(&session))
        .json(&json!({"site_key": site.site_key, "session_id": session}))
        .send()
        .await
        .expect("POST /handoff");
    let handoff: HandoffResponse = json_of(response, 200).await;
    assert_eq!(handoff.mode, Mode::Operator, "handed to a person");

    // A non-streaming route that needs the model answers 502 at once.
    let visitor_token = new_session_id();
    let ip = visitor_ip(&visitor_token);
    let created = server
        .http
        .post(format!("{}/api/v1/chat/conversations?site_key={}", server.url, site.site_key))
        .header("cf-connecting-ip", &ip)
        .json(&json!({"visitor_token": visitor_token, "name": "Ada", "email": "ada@example.com", "message": "Hello?"}))
        .send()
        .await
        .expect("POST /conversations");
    let _: Value = json_of(created, 201).await;
    let reply = server
        .http
        .post(format!("{}/api/v1/chat/conversations/{visitor_token}/messages?site_key={}", server.url, site.site_key))
        .header("cf-connecting-ip", &ip)
        .json(&json!({"message": "Anyone there?"}))
        .send()
        .await
        .expect("POST reply");
    assert_error(reply, 502, "service_unavailable", "a reply while the breaker is open").await;
    assert_eq!(calls(), answered + 3, "neither asked the upstream");

    // After the cool-down one probe goes through; it fails: open again.
    let (status, _) = await_breaker(server, "half_open").await;
    assert_eq!(status, 200, "half-open is ready: the next question tries the model");
    assert_offered_a_person(&ask(server, &site).await.1, "the failed probe");
    assert_eq!(calls(), answered + 4, "one probe");
    assert_eq!(ready(server).await.0, 503, "a failed probe opens the breaker again");

    // The upstream recovers; after the next cool-down the probe succeeds and closes it.
    mock().set_down(DEPLOYMENT_MODEL, false);
    await_breaker(server, "half_open").await;
    assert_eq!(ask(server, &site).await.1.answer(), ANSWER_PIECES.concat(), "the probe is answered by the model");
    assert_eq!(calls(), answered + 5);
    let (status, body) = ready(server).await;
    assert_eq!((status, body.checks.ai_breaker.as_str()), (200, "closed"), "a success closes the breaker");
    assert_eq!(ask(server, &site).await.1.answer(), ANSWER_PIECES.concat());
    assert_eq!(calls(), answered + 6);
}
