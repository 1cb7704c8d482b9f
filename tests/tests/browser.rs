//! Browser tests: the demo page in headless Chromium against the real
//! worker on `wrangler dev`, used the way a visitor uses it.

use std::time::Duration;

use edgechat_tests::browser::Browser;
use edgechat_tests::*;

fn main() {
    let server = Server::start("browser");
    run_trials(
        server,
        vec![trial(
            "visitor_asks_sees_the_streamed_answer_and_the_history_after_reload",
            server,
            visitor_asks_sees_the_streamed_answer_and_the_history_after_reload,
        )],
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
