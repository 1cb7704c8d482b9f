//! Browser test of the XSS corpus (issue 16, `edgechat_tests::xss`): every
//! field a visitor or an operator sets and another person sees gets the
//! corpus's payloads through the real APIs, and the widget (a visitor on
//! a site's page) and the console (the owner) show each as its text, with
//! no script run (`window.__xss` stays undefined), no element or attribute
//! made from a payload ([`HOSTILE_JS`]), and names with a bidi override
//! (U+202E) isolated so they cannot reorder the sentence around them.
//! Screenshots land in `target/test-runs/browser/xss/`.
//!
//! The fields: visitor messages, names and emails (`/api/v1/chat/stream`,
//! `/api/v1/chat/contact`), operator messages and display names
//! (`/v1/chat/messages/send`, sign-up, `/v1/users`), the greeting
//! (`PATCH /v1/sites/{id}`), a proactive message, knowledge-base article
//! titles and bodies (cited as sources of the AI's answer), ticket subjects.

use std::path::PathBuf;
use std::time::Duration;

use edgechat_tests::browser::{site_page, Browser};
use edgechat_tests::xss::{collapse, js_string, markdown_text, Payload, CORPUS, HOSTILE_JS, RTL};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.171");

/// The main visitor's email: a valid address (RFC 5321 quoted local part) that is also markup.
const HOSTILE_EMAIL: &str = "\"<svg/onload=window.__xss=31>\"@example.com";

fn shots() -> PathBuf {
    let dir = run_dir("browser").join("xss");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// A JSON call as `token`; panics unless it answers `status`.
async fn call(server: &Server, method: Method, path: &str, token: &str, body: Value, status: u16) -> Value {
    let response = send(server, method.clone(), path, token, Some(body)).await;
    let got = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A visitor's widget-API POST of `body` to `path` from `ip`; answers the body text.
async fn visitor_post(server: &Server, path: &str, ip: &str, body: &Value) -> String {
    let response = server
        .http
        .post(format!("{}{path}", server.url))
        .header("cf-connecting-ip", ip)
        .json(body)
        .send()
        .await
        .expect("the widget API answers");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "POST {path}: {status} {text}");
    text
}

/// The visitor of `session` says `message` (from `ip`: the main visitor's
/// two dozen messages come from several addresses, as from a phone moving
/// between networks, to stay under the per-address write limit).
async fn visitor_says(server: &Server, site_key: &str, session: &str, message: &str, ip: &str) {
    let body = serde_json::to_value(visitor_request(site_key, session, message)).unwrap();
    let sse = visitor_post(server, "/api/v1/chat/stream", ip, &body).await;
    assert!(sse.contains("\"done\""), "the stream ends with done: {sse}");
}

/// Evaluates [`HOSTILE_JS`] on the page and asserts it found nothing.
async fn assert_nothing_ran(browser: &Browser, page: &str) {
    let found = browser.eval(HOSTILE_JS).await;
    assert_eq!(found, json!([]), "{page}: a payload became markup or ran");
}

/// JavaScript: the text content of `element` (an expression), `null` without one.
fn text_of(element: &str) -> String {
    format!("(({element})?.textContent ?? null)")
}

/// True when `shown` (an element's text content) is `payload` as text, white
/// space aside: its characters, or what the messages' Markdown renderer
/// shows of them.
fn shows_as_text(shown: &Value, payload: &str) -> bool {
    let shown = collapse(shown.as_str().unwrap_or_default());
    shown == collapse(payload) || shown == markdown_text(payload)
}

/// The texts in `shown` (a JSON list) that show `payload` as text.
fn any_shows(shown: &Value, payload: &str) -> bool {
    shown.as_array().is_some_and(|all| all.iter().any(|s| shows_as_text(s, payload)))
}

/// JavaScript defining `leftOf(el, needle)`: the left edge, in px, of the
/// first character of `needle` in the text under `el`, as laid out.
const LEFT_OF_JS: &str = "const leftOf = (el, needle) => { const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT); let n; \
    while ((n = w.nextNode())) { const i = n.data.indexOf(needle); if (i >= 0) { const r = document.createRange(); \
    r.setStart(n, i); r.setEnd(n, i + 1); return r.getBoundingClientRect().left; } } return null; };";

/// JavaScript: true when, in `element`, "is typing" is laid out left of
/// the "…" after it: the sentence reads left to right, not reversed by a
/// bidi override in the name before it.
fn reads_left_to_right(element: &str) -> String {
    format!("{LEFT_OF_JS} const el = {element}; const a = leftOf(el, 'is typing'), b = leftOf(el, '…'); return a !== null && b !== null && a < b;")
}

pub async fn xss_corpus_shows_as_text_in_the_widget_and_the_console_and_runs_no_script(server: &Server) {
    assert!(CORPUS.len() >= 16 && CORPUS.iter().all(|p| p.text.chars().count() <= 120));
    // The owner's display name is the RTL payload; an agent's is markup.
    let owner = Owner { tag: "xss", name: RTL.text, account: "Xss", site: "Xss shop" };
    let tenant = signup_as(server, &IPS, &owner).await;
    let (site, key, token) = (tenant.site.id, tenant.site_key().to_string(), tenant.token().to_string());
    let agent_name = CORPUS[0].text;
    let agent_email = format!("{}@example.com", unique("xss-agent"));
    let invite = json!({"email": agent_email, "display_name": agent_name, "role": "agent", "password": PASSWORD});
    call(server, Method::POST, "/v1/users", &token, invite, 201).await;
    let agent = server.login(&agent_email, PASSWORD).await.access_token;

    // Site settings a visitor sees: the greeting and a proactive message.
    let greeting = CORPUS[10].text;
    call(server, Method::PATCH, &format!("/v1/sites/{site}"), &token, json!({"greeting": greeting}), 200).await;
    let nudge = CORPUS[12].text;
    let rule = json!({"message": nudge, "url_match": "*", "delay_seconds": 0});
    call(server, Method::POST, &format!("/v1/sites/{site}/proactive"), &token, rule, 201).await;

    // Articles whose titles and bodies are payloads, cited by the AI's answer.
    let articles: Vec<(&Payload, &Payload)> = vec![(&CORPUS[1], &CORPUS[0]), (&CORPUS[4], &CORPUS[5]), (&CORPUS[19], &CORPUS[2])];
    for (title, body) in &articles {
        let body = format!("The warranty lasts two years for every product. {}", body.text);
        let title = format!("Warranty {}", title.text);
        call(server, Method::POST, &format!("/v1/sites/{site}/articles"), &token, json!({"title": title, "body": body}), 201).await;
    }

    // Every payload as another visitor's name (each visitor from their own address).
    let mut named = Vec::new();
    for payload in CORPUS {
        let session = new_session_id();
        let ip = visitor_ip(&session);
        visitor_says(server, &key, &session, "Hello", &ip).await;
        let contact =
            json!({"site_key": key, "session_id": session, "name": payload.text, "email": format!("{}@example.com", unique("v"))});
        visitor_post(server, "/api/v1/chat/contact", &ip, &contact).await;
        named.push(session);
    }

    // The main visitor: RTL name, hostile email, asks the knowledge base, then
    // an agent takes over and both sides send every payload.
    let session = new_session_id();
    let ip = visitor_ip(&session);
    visitor_says(server, &key, &session, "How long is the warranty?", &ip).await;
    let contact = json!({"site_key": key, "session_id": session, "name": RTL.text, "email": HOSTILE_EMAIL});
    visitor_post(server, "/api/v1/chat/contact", &ip, &contact).await;
    let history: Value = server.get(&format!("/api/v1/chat/history?site_key={key}&session_id={session}")).await.json().await.unwrap();
    let id = history["conversation_id"].as_i64().expect("a conversation");
    let cited: Vec<String> = history["messages"][1]["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("the answer cites its sources: {history}"))
        .iter()
        .map(|s| s["title"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !cited.is_empty() && cited.iter().all(|t| articles.iter().any(|(title, _)| *t == format!("Warranty {}", title.text))),
        "{cited:?}"
    );
    call(server, Method::POST, &format!("/v1/chat/conversations/{id}/takeover"), &agent, json!({}), 200).await;
    call(server, Method::POST, "/v1/chat/messages/send", &agent, json!({"conversation_id": id, "content": "Hi, I can help."}), 201).await;
    for payload in CORPUS {
        visitor_says(server, &key, &session, payload.text, &IPS.next()).await;
        call(server, Method::POST, "/v1/chat/messages/send", &token, json!({"conversation_id": id, "content": payload.text}), 201).await;
    }

    // Ticket subjects.
    let mut tickets = Vec::new();
    for payload in CORPUS {
        let made = call(server, Method::POST, "/v1/tickets", &token, json!({"subject": payload.text, "site_id": site}), 201).await;
        tickets.push((made["id"].as_i64().expect("a ticket id"), payload.text));
    }

    widget_shows_text(server, &key, &session, id, &token, &agent, greeting, nudge, agent_name, &cited).await;
    console_shows_text(server, &tenant, &session, id, &named, &tickets, &cited).await;
}

/// The main visitor's widget on the site's page.
#[allow(clippy::too_many_arguments)]
async fn widget_shows_text(
    server: &Server,
    key: &str,
    session: &str,
    id: i64,
    token: &str,
    agent: &str,
    greeting: &str,
    nudge: &str,
    agent_name: &str,
    cited: &[String],
) {
    let w = |expr: &str| format!("const r = document.querySelector('edgechat-root')?.shadowRoot; if (!r) return null; return {expr};");
    let browser = Browser::start(&run_dir("browser").join("chromium-xss-widget")).await;
    browser.client.goto(&site_page(&server.url, key).await).await.unwrap();
    browser.eval(&format!("localStorage.setItem('edgechat:{key}:session', {}); return true;", js_string(session))).await;
    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", WAIT).await;

    // The proactive message, before the panel opens.
    browser.wait_until(&w("r.querySelector('.ec-nudge')?.hidden === false"), WAIT).await;
    let shown = browser.eval(&w(&text_of("r.querySelector('.ec-nudge')"))).await;
    assert!(shows_as_text(&shown, nudge), "nudge: {shown}");
    assert_nothing_ran(&browser, "widget with the nudge").await;

    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    let operator = "Array.from(r.querySelectorAll('.ec-msg.ec-operator'))";
    browser.wait_until(&w(&format!("{operator}.length === {}", CORPUS.len() + 1)), WAIT).await;
    browser.screenshot(&shots().join("widget.png")).await;

    let shown = browser.eval(&w(&text_of("r.querySelector('.ec-greeting .ec-text')"))).await;
    assert!(shows_as_text(&shown, greeting), "greeting: {shown}");

    // The AI's answer quotes an article body; its sources are the cited titles.
    let answer = "r.querySelector('.ec-msg.ec-ai:not(.ec-greeting)')";
    let sources = browser.eval(&w(&format!("Array.from({answer}.querySelectorAll('.ec-sources li')).map(li => li.textContent)"))).await;
    assert_eq!(sources, json!(cited), "the sources show the articles' titles as text");
    let answer_text = browser.eval(&w(&text_of(answer))).await;
    assert!(answer_text.as_str().unwrap_or_default().contains("two years"), "{answer_text}");

    // Each visitor message as its characters, each operator message as its Markdown text.
    let visitor_texts = browser.eval(&w("Array.from(r.querySelectorAll('.ec-msg.ec-visitor .ec-text')).map(t => t.textContent)")).await;
    let operator_texts = browser.eval(&w(&format!("{operator}.map(m => m.querySelector('.ec-text').textContent)"))).await;
    let authors = browser.eval(&w(&format!("{operator}.map(m => m.querySelector('.ec-author')?.textContent)"))).await;
    for (n, payload) in CORPUS.iter().enumerate() {
        assert!(shows_as_text(&visitor_texts[n + 1], payload.text), "visitor message {:?}: {}", payload.name, visitor_texts[n + 1]);
        assert!(shows_as_text(&operator_texts[n + 1], payload.text), "operator message {:?}: {}", payload.name, operator_texts[n + 1]);
        assert_eq!(authors[n + 1], RTL.text, "the owner's name as text");
    }
    assert_eq!(authors[0], agent_name, "the agent's name as text");
    // The agent hands back and takes over again while the visitor watches: "… joined".
    call(server, Method::POST, &format!("/v1/chat/conversations/{id}/handback"), agent, json!({}), 200).await;
    call(server, Method::POST, &format!("/v1/chat/conversations/{id}/takeover"), agent, json!({}), 200).await;
    browser.wait_until(&w("Array.from(r.querySelectorAll('.ec-notice')).some(n => n.textContent.includes('joined'))"), WAIT).await;
    let joined = browser
        .eval(&w("Array.from(r.querySelectorAll('.ec-notice')).map(n => n.textContent).find(t => t.includes('joined')) ?? null"))
        .await;
    assert_eq!(joined, json!(format!("\u{2068}{agent_name}\u{2069} joined the conversation")), "the name isolated in the sentence");
    assert_nothing_ran(&browser, "widget with the conversation").await;

    // The owner's RTL name in the typing notice: isolated, the sentence reads on.
    call(server, Method::POST, &format!("/v1/chat/conversations/{id}/typing"), token, json!({"typing": true}), 204).await;
    browser.wait_until(&w("r.querySelector('.ec-typing-notice') !== null"), WAIT).await;
    let typing = browser.eval(&w("r.querySelector('.ec-typing-notice').textContent")).await;
    assert_eq!(typing, json!(format!("\u{2068}{}\u{2069} is typing…", RTL.text)));
    let notice = "document.querySelector('edgechat-root').shadowRoot.querySelector('.ec-typing-notice')";
    assert_eq!(browser.eval(&reads_left_to_right(notice)).await, true, "a U+202E in the name reversed the typing notice");
    browser.screenshot(&shots().join("widget-typing.png")).await;
    assert_nothing_ran(&browser, "widget at the end").await;
    browser.close().await;
}

/// The owner's console: the inbox, the main conversation, tickets, articles, proactive messages.
async fn console_shows_text(
    server: &Server,
    tenant: &Tenant,
    session: &str,
    id: i64,
    named: &[String],
    tickets: &[(i64, &str)],
    cited: &[String],
) {
    let browser = Browser::start(&run_dir("browser").join("chromium-xss-console")).await;
    browser.resize(1280, 900).await;
    browser.console_sign_in(&server.url, tenant.email(), PASSWORD).await;

    // The inbox: every visitor's name as text, isolated in its row.
    browser.wait_until(&format!("return document.querySelectorAll('li.row').length >= {};", named.len() + 1), WAIT).await;
    let names = browser.eval("return Array.from(document.querySelectorAll('li.row .who bdi')).map(b => b.textContent);").await;
    let names: Vec<&str> = names.as_array().expect("names").iter().filter_map(Value::as_str).collect();
    for payload in CORPUS {
        assert!(names.contains(&payload.text), "inbox row of {:?} shows {names:?}", payload.name);
    }
    browser.screenshot(&shots().join("console-inbox.png")).await;
    assert_nothing_ran(&browser, "console inbox").await;

    // The main conversation.
    browser.client.goto(&format!("{}/app/conversations/{id}", server.url)).await.unwrap();
    browser.wait_until(&format!("return document.querySelectorAll('article.msg.operator').length === {};", CORPUS.len() + 1), WAIT).await;
    let head = browser.eval("return document.querySelector('.conversation-head h1 bdi')?.textContent ?? null;").await;
    assert_eq!(head, RTL.text, "the visitor's name isolated in the heading");
    let panel = browser.eval("return document.querySelector('#visitor-panel')?.textContent ?? '';").await;
    assert!(panel.as_str().unwrap_or_default().contains(HOSTILE_EMAIL), "the email as text: {panel}");
    let visitor_texts =
        browser.eval("return Array.from(document.querySelectorAll('article.msg.visitor .text')).map(t => t.textContent);").await;
    let operator_texts =
        browser.eval("return Array.from(document.querySelectorAll('article.msg.operator .text')).map(t => t.textContent);").await;
    let authors =
        browser.eval("return Array.from(document.querySelectorAll('article.msg.operator .author')).map(a => a.textContent);").await;
    for payload in CORPUS {
        assert!(any_shows(&visitor_texts, payload.text), "visitor message {:?} not as text in {visitor_texts}", payload.name);
        assert!(any_shows(&operator_texts, payload.text), "operator message {:?} not as text in {operator_texts}", payload.name);
    }
    let authors: Vec<&str> = authors.as_array().expect("authors").iter().filter_map(Value::as_str).collect();
    assert!(authors.contains(&CORPUS[0].text) && authors.iter().all(|a| [RTL.text, CORPUS[0].text].contains(a)), "{authors:?}");
    let sources =
        browser.eval("return Array.from(document.querySelectorAll('article.msg.ai .sources li')).map(li => li.textContent);").await;
    assert_eq!(sources, json!(cited), "the AI's sources as text");
    assert_nothing_ran(&browser, "console conversation").await;

    // The visitor types: their RTL name is isolated in the notice.
    let typing = json!({"site_key": tenant.site_key(), "session_id": session, "typing": true});
    visitor_post(server, "/api/v1/chat/typing", &visitor_ip(session), &typing).await;
    browser.wait_until("return document.querySelector('.messages .typing') !== null;", WAIT).await;
    let typing = browser.eval("return document.querySelector('.messages .typing bdi')?.textContent ?? null;").await;
    assert_eq!(typing, RTL.text, "the visitor's name isolated in the typing notice");
    assert_eq!(
        browser.eval(&reads_left_to_right("document.querySelector('.messages .typing')")).await,
        true,
        "a U+202E in the name reversed the typing notice"
    );
    browser.screenshot(&shots().join("console-conversation.png")).await;

    // Ticket subjects.
    browser.client.goto(&format!("{}/app/tickets", server.url)).await.unwrap();
    let (last, _) = tickets.last().expect("tickets");
    browser.wait_until(&format!("return document.querySelector(\"li[data-ticket='{last}']\") !== null;"), WAIT).await;
    for (ticket, subject) in tickets {
        let shown = browser.eval(&format!("return {};", text_of(&format!("document.querySelector(\"li[data-ticket='{ticket}']\")")))).await;
        assert!(shown.as_str().is_some_and(|s| s.contains(&collapse(subject))), "ticket {ticket} shows {shown}, not {subject:?}");
    }
    browser.screenshot(&shots().join("console-tickets.png")).await;
    assert_nothing_ran(&browser, "console tickets").await;

    // Article titles and bodies, and the proactive message, in Settings.
    browser.client.goto(&format!("{}/app/settings/kb", server.url)).await.unwrap();
    browser.wait_until("return document.querySelectorAll('li.article').length === 3;", WAIT).await;
    let titles = browser.eval("return Array.from(document.querySelectorAll('li.article .title')).map(t => t.textContent);").await;
    for title in cited {
        assert!(titles.as_array().unwrap().contains(&json!(title)), "article title {title:?} in {titles}");
    }
    assert_nothing_ran(&browser, "console knowledge base").await;
    browser.client.goto(&format!("{}/app/settings/proactive", server.url)).await.unwrap();
    browser.wait_until("return document.querySelector('p.message') !== null;", WAIT).await;
    let shown = browser.eval(&format!("return {};", text_of("document.querySelector('p.message')"))).await;
    assert!(shows_as_text(&shown, CORPUS[12].text), "proactive message: {shown}");
    assert_nothing_ran(&browser, "console proactive messages").await;
    browser.close().await;
}
