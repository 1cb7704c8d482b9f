//! Browser tests of the widget's accessibility (issue 15, WCAG 2.2 AA and
//! the W3C ARIA Authoring Practices dialog pattern): axe-core finds no
//! violation in the widget's shadow root, closed, open and with a full
//! conversation; a keyboard alone opens the chat, sends, rates and closes;
//! the composer grows with Shift+Enter, sends on Enter and takes a pasted
//! image.

use std::time::Duration;

use edgechat_tests::browser::Browser;
use edgechat_tests::*;
use fantoccini::key::Key;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

/// `return <expr>` evaluated with `r`, the widget's shadow root.
fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root').shadowRoot; return {expr};")
}

/// Asserts that axe-core finds no violation in the widget in `state`.
async fn assert_no_violation(browser: &Browser, state: &str) {
    let violations = browser.axe_violations().await;
    assert!(violations.is_empty(), "axe-core violations {state}:\n{}", violations.join("\n"));
}

/// The visitor's conversation id, found through their session.
async fn conversation_id(server: &Server, browser: &Browser) -> i64 {
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let session = session.as_str().expect("a session after the first message").to_string();
    let history: serde_json::Value =
        server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}")).await.json().await.unwrap();
    history["conversation_id"].as_i64().expect("conversation id")
}

async fn operator_post(server: &Server, path: &str, body: serde_json::Value) {
    let token = server.demo_token().await;
    let response = server.authed(reqwest::Method::POST, path, &token).json(&body).send().await.unwrap();
    assert!(response.status().is_success(), "POST {path}: {}", response.status());
}

pub async fn a11y_axe_finds_no_violation_closed_open_and_with_a_full_conversation(server: &Server) {
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-axe")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", WAIT).await;
    assert_no_violation(&browser, "with the panel closed").await;

    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelector('.ec-greeting') !== null"), WAIT).await;
    let dialog = browser.eval(&in_widget("[r.querySelector('.ec-panel').getAttribute('role'), r.querySelector('.ec-panel').getAttribute('aria-label'), r.querySelector('.ec-messages').getAttribute('role'), r.querySelector('.ec-messages').getAttribute('aria-live')]")).await;
    assert_eq!(dialog, json!(["dialog", "Chat", "log", "polite"]));
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-panel').hasAttribute('aria-modal')")).await, false, "not modal on a desktop");
    assert_no_violation(&browser, "with the panel open").await;

    // A streamed answer is busy while it streams and done (announced) once complete.
    browser.widget_element(".ec-composer .ec-input", WAIT).await.send_keys("How do I install the widget on my website?").await.unwrap();
    browser.widget_element(".ec-composer .ec-send", WAIT).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing')"),
            WAIT,
        )
        .await;
    browser.wait_until(&in_widget("r.querySelector('.ec-msg.ec-ai:not(.ec-greeting)').getAttribute('aria-busy') === 'false'"), WAIT).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), WAIT).await;
    let id = conversation_id(server, &browser).await;
    operator_post(server, "/v1/chat/messages/send", json!({"conversation_id": id, "content": "Happy to help, **Jane**."})).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-msg.ec-operator') !== null"), WAIT).await;
    operator_post(server, &format!("/v1/chat/conversations/{id}/close"), json!({})).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-rating .ec-star') !== null"), WAIT).await;
    let stars = browser.eval(&in_widget("Array.from(r.querySelectorAll('.ec-star')).map(s => s.getAttribute('aria-label'))")).await;
    assert_eq!(stars, json!(["1 of 5 stars", "2 of 5 stars", "3 of 5 stars", "4 of 5 stars", "5 of 5 stars"]));
    assert_no_violation(&browser, "with an answer, an operator reply and the rating form").await;
    browser.screenshot(&run_dir("browser").join("widget-a11y-conversation.png")).await;
    browser.close().await;
}

/// The element focused inside the widget: its classes, or `null`.
const FOCUSED: &str =
    "const r = document.querySelector('edgechat-root')?.shadowRoot; return r?.activeElement ? r.activeElement.className : null;";

/// Presses Tab (Shift+Tab when `backwards`) until the widget's focused
/// element has class `class`, at most `most` times.
async fn tab_to(browser: &Browser, class: &str, most: usize, backwards: bool) -> bool {
    for _ in 0..most {
        if browser.eval(FOCUSED).await.as_str().is_some_and(|c| c.split(' ').any(|c| c == class)) {
            return true;
        }
        if backwards {
            browser.press_shifted(Key::Tab.into()).await;
        } else {
            browser.press(&[Key::Tab.into()]).await;
        }
    }
    browser.eval(FOCUSED).await.as_str().is_some_and(|c| c.split(' ').any(|c| c == class))
}

pub async fn a11y_keyboard_alone_opens_the_chat_sends_rates_and_closes_it(server: &Server) {
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-keyboard")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", WAIT).await;
    // What the launcher and the loader do (focus into the panel on open, Esc
    // closes and gives the focus back) is checked here too; it is listed, not
    // stopped at, so the widget's own part is checked whatever the loader does.
    let mut loader = Vec::new();

    assert!(tab_to(&browser, "ec-launcher", 5, false).await, "Tab reaches the launcher");
    browser.press(&[Key::Enter.into()]).await;
    browser
        .wait_until(&in_widget("r.querySelector('.ec-panel') !== null && !r.querySelector('.ec-panel').parentElement.hidden"), WAIT)
        .await;
    let composer_focused =
        "return document.querySelector('edgechat-root').shadowRoot.activeElement?.matches('.ec-composer .ec-input') === true;";
    if browser.eval(composer_focused).await != json!(true) {
        loader.push("the focus is not in the composer after opening");
        // The panel comes before the launcher: Shift+Tab reaches the composer.
        for _ in 0..3 {
            if browser.eval(composer_focused).await == json!(true) {
                break;
            }
            browser.press_shifted(Key::Tab.into()).await;
        }
    }
    assert_eq!(browser.eval(composer_focused).await, json!(true), "the keyboard reaches the composer");

    browser.type_keys("Where is my data stored?").await;
    browser.press(&[Key::Enter.into()]).await;
    browser
        .wait_until(
            &in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing')"),
            WAIT,
        )
        .await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), WAIT).await;
    let id = conversation_id(server, &browser).await;
    operator_post(server, &format!("/v1/chat/conversations/{id}/close"), json!({})).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-rating .ec-star') !== null"), WAIT).await;

    // The rating form is above the composer: Shift+Tab reaches its last star, 5.
    assert!(tab_to(&browser, "ec-star", 10, true).await, "Shift+Tab reaches the stars");
    browser.press_shifted(Key::Tab.into()).await;
    browser.press(&[Key::Enter.into()]).await;
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-star.ec-on').length === 4"), WAIT).await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-star[data-score=\"4\"]').getAttribute('aria-pressed')")).await, "true");
    assert!(tab_to(&browser, "ec-comment", 5, false).await, "Tab reaches the comment");
    browser.type_keys("Clear, thanks").await;
    assert!(tab_to(&browser, "ec-submit-rating", 3, false).await, "Tab reaches Send rating");
    browser.press(&[Key::Enter.into()]).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-thanks') !== null"), WAIT).await;
    let token = server.demo_token().await;
    let ratings: serde_json::Value = server.authed(reqwest::Method::GET, "/v1/ratings", &token).send().await.unwrap().json().await.unwrap();
    let rated = ratings["comments"].as_array().unwrap().iter().find(|c| c["conversation_id"] == id).cloned();
    assert_eq!(rated.map(|c| (c["stars"].clone(), c["comment"].clone())), Some((json!(4), json!("Clear, thanks"))), "{ratings}");

    browser.press(&[Key::Escape.into()]).await;
    let closed =
        in_widget("r.querySelector('.ec-panel').parentElement.hidden && r.activeElement?.classList.contains('ec-launcher') === true");
    if browser.eval(&closed).await != json!(true) {
        loader.push("Esc does not close the panel and put the focus back on the launcher");
    }
    browser.close().await;
    assert!(loader.is_empty(), "the loader's part of the dialog pattern (helper L's branch): {loader:?}");
}

pub async fn a11y_composer_grows_sends_on_enter_not_on_shift_enter_and_takes_a_pasted_image(server: &Server) {
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-composer")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    let input = browser.widget_element(".ec-composer .ec-input", WAIT).await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-composer .ec-input').tagName")).await, "TEXTAREA");
    input.click().await.unwrap();
    let height = in_widget("r.querySelector('.ec-composer .ec-input').getBoundingClientRect().height");
    let one_line = browser.eval(&height).await.as_f64().unwrap();
    browser.type_keys("First line").await;
    browser.press_shifted(Key::Enter.into()).await;
    browser.type_keys("second line").await;
    browser.press_shifted(Key::Enter.into()).await;
    browser.type_keys("third line").await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-composer .ec-input').value")).await, "First line\nsecond line\nthird line");
    let three_lines = browser.eval(&height).await.as_f64().unwrap();
    assert!(three_lines > one_line * 1.8, "the box grows: {one_line} → {three_lines}");
    assert_eq!(browser.eval(&in_widget("r.querySelectorAll('.ec-msg.ec-visitor').length")).await, 0, "Shift+Enter does not send");
    for _ in 0..6 {
        browser.press_shifted(Key::Enter.into()).await;
        browser.type_keys("more").await;
    }
    let nine_lines = browser.eval(&height).await.as_f64().unwrap();
    assert!(nine_lines < one_line * 3.5, "the box stops growing at about five lines: {one_line} → {nine_lines}");

    // An Enter that ends an IME composition does not send.
    browser
        .eval(&in_widget(
            "r.querySelector('.ec-composer .ec-input').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', isComposing: true, bubbles: true, cancelable: true}))",
        ))
        .await;
    assert_eq!(browser.eval(&in_widget("r.querySelectorAll('.ec-msg.ec-visitor').length")).await, 0, "composing Enter does not send");

    browser.press(&[Key::Enter.into()]).await;
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-msg.ec-visitor').length === 1"), WAIT).await;
    assert_eq!(
        browser
            .eval(&in_widget(
                "r.querySelector('.ec-msg.ec-visitor .ec-text').textContent.startsWith('First line\\nsecond line\\nthird line')"
            ))
            .await,
        true,
        "the lines are sent as typed"
    );
    browser.wait_until(&in_widget("r.querySelector('.ec-composer .ec-input').value === ''"), WAIT).await;
    browser.wait_until(&in_widget("!r.querySelector('.ec-composer .ec-send').disabled"), WAIT).await;

    // A pasted image is attached like a chosen file: preview, upload, sent with the next message.
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    browser
        .eval(&in_widget(&format!(
            "(() => {{ const bytes = Uint8Array.from(atob('{png}'), c => c.charCodeAt(0)); const dt = new DataTransfer(); \
             dt.items.add(new File([bytes], 'pasted.png', {{type: 'image/png'}})); \
             return r.querySelector('.ec-composer .ec-input').dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true, cancelable: true}})); }})()"
        )))
        .await;
    browser.wait_until(&in_widget("r.querySelector('.ec-preview') !== null && r.querySelector('.ec-progress').value === 100"), WAIT).await;
    browser.widget_element(".ec-composer .ec-send", WAIT).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelector('.ec-msg.ec-visitor img.ec-image') !== null"), WAIT).await;
    browser.close().await;
}
