//! The page's JavaScript API (`EdgeChat(…)`, README "JavaScript API") on a
//! site owner's page: calls queued before `loader.js` arrives, the panel
//! commands with the launcher's ARIA state, and the events a page listens to.

use std::time::Duration;

use edgechat_tests::browser::{api_page, Browser};
use edgechat_tests::*;

use super::{in_widget, operator_post};

const WAIT: Duration = Duration::from_secs(20);

/// The names of the events the page recorded so far, in order.
const EVENT_NAMES_JS: &str = "return ecEvents.map(e => e.name);";

/// `true` while the panel's container is shown.
const PANEL_OPEN: &str = "!r.getElementById('ec-panel').hidden";

/// The launcher's `aria-expanded`, `aria-label` and whether it is displayed.
const LAUNCHER_JS: &str = "const b = document.querySelector('edgechat-root').shadowRoot.querySelector('.ec-launcher'); \
    return [b.getAttribute('aria-expanded'), b.getAttribute('aria-label'), b.getClientRects().length > 0];";

/// Waits until the page's recorded event names are `names`.
async fn wait_for_events(browser: &Browser, names: &[&str]) {
    let expected = serde_json::json!(names).to_string();
    browser.wait_until(&format!("return JSON.stringify(ecEvents.map(e => e.name)) === {expected:?};"), WAIT).await;
}

/// Opens the API page of the demo site in a new browser (`#open` queues an open).
async fn open_api_page(server: &Server, profile: &str, fragment: &str) -> Browser {
    let browser = Browser::start(&run_dir("browser").join(profile)).await;
    let page = api_page(&server.url, DEMO_SITE_KEY).await;
    browser.client.goto(&format!("{page}{fragment}")).await.unwrap();
    browser
}

pub async fn js_api_calls_queued_before_the_loader_run_in_order_and_open_loads_the_widget(server: &Server) {
    let browser = open_api_page(server, "chromium-profile-api-queue", "#open").await;
    // The page queued on('ready'), on('open'), …, then open, before the loader came.
    wait_for_events(&browser, &["ready", "open"]).await;
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, true, "the queued open shows the panel");
    browser.widget_element(".ec-input", WAIT).await;
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["true", "Chat", true]));
    assert_eq!(
        browser.eval(&in_widget("r.activeElement !== null && r.getElementById('ec-panel').contains(r.activeElement)")).await,
        true,
        "focus moved into the panel"
    );
    // A handler added after `ready` is called at once.
    browser.eval("EdgeChat('on', 'ready', () => { window.lateReady = true; }); return true;").await;
    assert_eq!(browser.eval("return window.lateReady === true;").await, true);
    browser.close().await;
}

pub async fn js_api_open_close_toggle_show_hide_change_the_panel_and_fire_their_events(server: &Server) {
    let browser = open_api_page(server, "chromium-profile-api-commands", "").await;
    wait_for_events(&browser, &["ready"]).await;
    let controls = browser.eval(&in_widget("r.querySelector('.ec-launcher').getAttribute('aria-controls')")).await;
    assert_eq!(controls, "ec-panel", "the launcher controls the panel's container");
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["false", "Chat", true]));
    assert_eq!(browser.eval("return performance.getEntriesByType('resource').some(e => e.name.includes('/widget/'));").await, false);

    browser.eval("EdgeChat('open'); return true;").await;
    wait_for_events(&browser, &["ready", "open"]).await;
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, true);
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["true", "Chat", true]));
    browser.eval("EdgeChat('open'); return true;").await;

    browser.eval("EdgeChat('close'); return true;").await;
    wait_for_events(&browser, &["ready", "open", "close"]).await;
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, false);
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["false", "Chat", true]));

    browser.eval("EdgeChat('toggle'); return true;").await;
    wait_for_events(&browser, &["ready", "open", "close", "open"]).await;
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, true);
    browser.eval("EdgeChat('toggle'); return true;").await;
    wait_for_events(&browser, &["ready", "open", "close", "open", "close"]).await;
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, false);

    // hide takes the launcher and an open panel off the page; show brings the launcher back.
    browser.eval("EdgeChat('open'); return true;").await;
    wait_for_events(&browser, &["ready", "open", "close", "open", "close", "open"]).await;
    browser.eval("EdgeChat('hide'); return true;").await;
    wait_for_events(&browser, &["ready", "open", "close", "open", "close", "open", "close"]).await;
    assert_eq!(browser.eval(LAUNCHER_JS).await[2], false, "hidden launcher");
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, false);
    browser.eval("EdgeChat('show'); return true;").await;
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["false", "Chat", true]));
    assert_eq!(browser.eval(&in_widget(PANEL_OPEN)).await, false, "show does not open the panel");

    // off removes a handler; setLocale names the launcher in that language.
    browser.eval("window.opened = 0; window.countOpen = () => opened++; EdgeChat('on', 'open', countOpen); EdgeChat('off', 'open', countOpen); return true;").await;
    browser.eval("EdgeChat('setLocale', 'fr'); return true;").await;
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["false", "Discussion", true]));

    // The launcher by keyboard: Esc in the panel closes it and focus returns to the launcher.
    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    let input = browser.widget_element(".ec-input", WAIT).await;
    browser.wait_until(&in_widget(PANEL_OPEN), WAIT).await;
    assert_eq!(browser.eval(LAUNCHER_JS).await, serde_json::json!(["true", "Discussion", true]));
    assert_eq!(browser.eval("return window.opened;").await, 0, "a removed handler is not called");
    input.send_keys("\u{e00c}").await.unwrap();
    browser.wait_until(&in_widget(&format!("!({PANEL_OPEN})")), WAIT).await;
    assert_eq!(
        browser.eval(&in_widget("r.activeElement === r.querySelector('.ec-launcher')")).await,
        true,
        "focus is back on the launcher"
    );
    let names = browser.eval(EVENT_NAMES_JS).await;
    assert_eq!(names.as_array().unwrap().iter().rev().take(2).collect::<Vec<_>>(), ["close", "open"], "{names}");
    // Its focus ring is drawn (keyboard focus).
    let outline = browser.eval(&in_widget("getComputedStyle(r.querySelector('.ec-launcher')).outlineStyle")).await;
    assert_eq!(outline, "solid");
    browser.close().await;
}

pub async fn js_api_sent_message_and_unread_events_follow_the_conversation(server: &Server) {
    let browser = open_api_page(server, "chromium-profile-api-events", "#open").await;
    wait_for_events(&browser, &["ready", "open"]).await;
    browser.widget_element(".ec-input", WAIT).await.send_keys("Where do I find my site key?").await.unwrap();
    browser.widget_element(".ec-send", WAIT).await.click().await.unwrap();
    browser.wait_until("return ecEvents.some(e => e.name === 'message');", WAIT).await;
    // Once the live channel is open too (it carries the stored answer again), still one event.
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true' && !r.querySelector('.ec-typing')"), WAIT).await;
    let sent = browser.eval("return ecEvents.filter(e => e.name === 'sent').map(e => e.detail);").await;
    assert_eq!(sent, serde_json::json!([{"content": "Where do I find my site key?"}]));
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let history: serde_json::Value = server
        .get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={}", session.as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    let stored = &history["messages"][1];
    let answers = browser.eval("return ecEvents.filter(e => e.name === 'message').map(e => e.detail);").await;
    let expected = serde_json::json!([{"role": "ai", "content": stored["content"], "seq": stored["seq"], "author_name": null}]);
    assert_eq!(answers, expected, "the answer is one message event, as stored");
    assert_eq!(browser.eval("return ecEvents.some(e => e.name === 'unread');").await, false, "nothing unread while open");

    // With the panel closed, an operator's reply is a message and counts as unread.
    let id = history["conversation_id"].as_i64().expect("conversation id");
    browser.eval("EdgeChat('close'); return true;").await;
    let token = server.demo_token().await;
    operator_post(server, &token, "/v1/chat/messages/send", serde_json::json!({"conversation_id": id, "content": "Settings, then Sites."}))
        .await;
    browser.wait_until("return ecEvents.some(e => e.name === 'unread');", WAIT).await;
    let tail = browser.eval("return ecEvents.slice(-3);").await;
    assert_eq!(tail[0]["name"], "close");
    assert_eq!(tail[1]["name"], "message");
    assert_eq!(tail[1]["detail"]["role"], "operator");
    assert_eq!(tail[1]["detail"]["content"], "Settings, then Sites.");
    assert_eq!(tail[1]["detail"]["author_name"], "Demo Owner");
    assert_eq!(tail[1]["detail"]["seq"], stored["seq"].as_i64().unwrap() + 1);
    assert_eq!(tail[2], serde_json::json!({"name": "unread", "detail": 1}));
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-badge').innerText")).await, "1");

    // Opening reads them: unread is 0 again.
    browser.eval("EdgeChat('open'); return true;").await;
    browser.wait_until("return ecEvents.at(-1).name === 'open';", WAIT).await;
    let tail = browser.eval("return ecEvents.slice(-2);").await;
    assert_eq!(tail[0], serde_json::json!({"name": "unread", "detail": 0}));
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-badge').hidden")).await, true);
    browser.close().await;
}
