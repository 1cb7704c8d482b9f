//! The widget on a page with the strict Content Security Policy the README
//! gives site owners (no inline script or style; scripts, connections and
//! images only from the worker): it works and the browser reports no
//! violation.

use std::time::Duration;

use edgechat_tests::browser::{csp_page, Browser};
use edgechat_tests::*;

use super::in_widget;

const WAIT: Duration = Duration::from_secs(20);

pub async fn csp_strict_page_chats_with_no_policy_violation(server: &Server) {
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-csp")).await;
    browser.client.goto(&csp_page(&server.url, DEMO_SITE_KEY).await).await.unwrap();
    // The page's own script (allowed by 'self') ran before the loader and saw it ready.
    browser.wait_until("return window.ecEvents?.some(e => e.name === 'ready') === true;", WAIT).await;

    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    browser.widget_element(".ec-input", WAIT).await.send_keys("How do I install the widget on my website?").await.unwrap();
    browser.widget_element(".ec-send", WAIT).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing') && r.querySelector('.ec-msg.ec-ai:not(.ec-greeting)').innerText.includes('Paste one script tag')"),
            WAIT,
        )
        .await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), WAIT).await;
    browser.screenshot(&run_dir("browser").join("widget-strict-csp.png")).await;
    let violations = browser.eval("return cspViolations;").await;
    assert_eq!(violations, serde_json::json!([]), "Content Security Policy violations");
    browser.close().await;
}
