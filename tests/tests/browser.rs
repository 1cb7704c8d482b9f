//! Browser tests: the demo page in headless Chromium against the real
//! worker on `wrangler dev`, used the way a visitor uses it.

use std::time::Duration;

use edgechat_tests::browser::Browser;
use edgechat_tests::*;

fn main() {
    let server = Server::start("browser");
    run_trials(
        server,
        vec![
            trial(
                "visitor_asks_sees_the_streamed_answer_and_the_history_after_reload",
                server,
                visitor_asks_sees_the_streamed_answer_and_the_history_after_reload,
            ),
            trial(
                "operator_reply_typing_and_takeover_appear_live_and_the_badge_counts_while_closed",
                server,
                operator_reply_typing_and_takeover_appear_live_and_the_badge_counts_while_closed,
            ),
        ],
    )
}

/// The `.ec-msg` texts in the panel, in order, as `role: text`.
const MESSAGES_JS: &str = "const r = document.querySelector('edgechat-root').shadowRoot; \
    return Array.from(r.querySelectorAll('.ec-msg:not(.ec-greeting)')).map(m => m.dataset.role + ': ' + m.innerText.trim());";

async fn visitor_asks_sees_the_streamed_answer_and_the_history_after_reload(server: &Server) {
    let out = run_dir("browser");
    let browser = Browser::start(&out.join("chromium-profile")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    let launcher = browser.widget_element(".ec-launcher", Duration::from_secs(10)).await;

    // Before any interaction: no API call, no widget download, no storage.
    let before = browser
        .eval("return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/') || n.includes('/widget/'));")
        .await;
    assert_eq!(before, serde_json::json!([]), "the loader fetched nothing before the click");
    assert_eq!(browser.eval("return localStorage.length;").await, 0);

    launcher.click().await.unwrap();
    let input = browser.widget_element(".ec-input", Duration::from_secs(20)).await;
    browser
        .wait_until(
            "return document.querySelector('edgechat-root').shadowRoot.querySelector('.ec-greeting')?.innerText.includes('How can we help') === true;",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(browser.eval("return localStorage.length;").await, 0, "opening the panel writes no storage");

    // Host-page CSS (button { background: hotpink !important }) does not reach the widget.
    let send = browser.widget_element(".ec-send", Duration::from_secs(5)).await;
    let background = send.css_value("background-color").await.unwrap();
    assert_ne!(background, "rgb(255, 105, 180)", "host CSS leaked into the widget");

    input.send_keys("How do I install the widget on my website?").await.unwrap();
    send.click().await.unwrap();
    browser
        .wait_until(
            &format!("{}; return m.length === 2 && m[1].includes('Paste one script tag') && m[1].includes('How do I install the EdgeChat widget');",
                MESSAGES_JS.replace("return Array", "const m = Array")),
            Duration::from_secs(20),
        )
        .await;
    let messages = browser.eval(MESSAGES_JS).await;
    assert_eq!(messages[0], "visitor: How do I install the widget on my website?");
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    assert!(session.as_str().is_some_and(|s| s.starts_with("sess_")), "{session}");
    browser.screenshot(&out.join("widget-answer.png")).await;

    // The answer is text, never HTML: the article's literal <script> tag shows as text.
    let scripts_in_widget = browser
        .eval("return document.querySelector('edgechat-root').shadowRoot.querySelectorAll('.ec-messages script').length;")
        .await;
    assert_eq!(scripts_in_widget, 0);

    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser
        .wait_until(
            &format!("{}; return m.length === 2;", MESSAGES_JS.replace("return Array", "const m = Array")),
            Duration::from_secs(20),
        )
        .await;
    let after_reload = browser.eval(MESSAGES_JS).await;
    assert_eq!(after_reload, messages, "the history is shown again after a reload");
    browser.screenshot(&out.join("widget-history.png")).await;
    browser.close().await;
}

/// `return <expr>` evaluated inside the widget's shadow root `r`.
fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root').shadowRoot; return {expr};")
}

async fn operator_post(server: &Server, token: &str, path: &str, body: serde_json::Value) {
    let response = server.authed(reqwest::Method::POST, path, token).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "POST {path}: {}", response.status());
}

async fn operator_reply_typing_and_takeover_appear_live_and_the_badge_counts_while_closed(server: &Server) {
    let out = run_dir("browser");
    let browser = Browser::start(&out.join("chromium-profile-live")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    let input = browser.widget_element(".ec-input", Duration::from_secs(20)).await;
    input.send_keys("Where do I find my site key?").await.unwrap();
    browser.widget_element(".ec-send", Duration::from_secs(5)).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing')"), Duration::from_secs(20)).await;

    // The operator finds the conversation through the visitor's session.
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let session = session.as_str().expect("a session after the first message").to_string();
    let history: serde_json::Value = server
        .get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}"))
        .await
        .json()
        .await
        .unwrap();
    let id = history["conversation_id"].as_i64().expect("conversation id");
    let token = server.demo_token().await;
    // Typing is live-only (never replayed): wait until the widget's channel is open.
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), Duration::from_secs(10)).await;

    operator_post(server, &token, &format!("/v1/chat/conversations/{id}/typing"), serde_json::json!({"typing": true})).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-typing-notice')?.innerText.includes('Demo Owner is typing') === true"), Duration::from_secs(10)).await;
    operator_post(server, &token, &format!("/v1/chat/conversations/{id}/typing"), serde_json::json!({"typing": false})).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-typing-notice') === null"), Duration::from_secs(10)).await;

    operator_post(server, &token, &format!("/v1/chat/conversations/{id}/takeover"), serde_json::json!({})).await;
    browser.wait_until(&in_widget("Array.from(r.querySelectorAll('.ec-notice')).some(n => n.innerText.includes('Demo Owner joined'))"), Duration::from_secs(10)).await;

    operator_post(server, &token, "/v1/chat/messages/send", serde_json::json!({"conversation_id": id, "content": "Hello from a human <b>operator</b>"})).await;
    browser
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('Demo Owner') && m.innerText.includes('Hello from a human <b>operator</b>'))"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(browser.eval(&in_widget("r.querySelectorAll('.ec-msg.ec-operator b').length")).await, 0, "operator text is never HTML");
    browser.screenshot(&out.join("widget-operator-live.png")).await;

    // A returning visitor with the panel closed: the launcher counts operator replies.
    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await;
    // Whenever the loader connects, it replays the operator messages after the
    // last one the visitor saw, so no wait for the connection is needed.
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-badge').hidden")).await, true, "nothing unread yet");
    for text in ["Are you still there?", "I can also help by email."] {
        operator_post(server, &token, "/v1/chat/messages/send", serde_json::json!({"conversation_id": id, "content": text})).await;
    }
    browser.wait_until(&in_widget("!r.querySelector('.ec-badge').hidden && r.querySelector('.ec-badge').innerText === '2'"), Duration::from_secs(10)).await;
    browser.screenshot(&out.join("widget-unread-badge.png")).await;
    browser.widget_element(".ec-launcher", Duration::from_secs(5)).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelector('.ec-badge').hidden && Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('help by email'))"), Duration::from_secs(20)).await;
    browser.close().await;
}
