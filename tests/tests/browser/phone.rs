//! Browser test of the widget's layout (issue 15): on a phone (390×844) the
//! panel is the whole screen, modal, with 16 px inputs and a visible close
//! button; on a desktop (1280×800) it floats beside the launcher.

use std::time::Duration;

use edgechat_tests::browser::Browser;
use edgechat_tests::*;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 800);

/// `return <expr>` evaluated with `r`, the widget's shadow root.
fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root').shadowRoot; return {expr};")
}

/// `[left, top, right, bottom]` of the widget element `css`, in CSS px.
async fn rect(browser: &Browser, css: &str) -> [f64; 4] {
    let value = browser
        .eval(&in_widget(&format!("(b => [b.left, b.top, b.right, b.bottom])(r.querySelector('{css}').getBoundingClientRect())")))
        .await;
    serde_json::from_value(value).unwrap_or_else(|e| panic!("{css} has no box: {e}"))
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1.0
}

pub async fn phone_the_panel_is_full_screen_at_390_and_floats_beside_the_launcher_at_1280(server: &Server) {
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-phone")).await;
    browser.resize(PHONE.0, PHONE.1).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    browser.widget_element(".ec-composer .ec-input", WAIT).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-greeting') !== null"), WAIT).await;

    let viewport: [f64; 2] = serde_json::from_value(browser.eval("return [window.innerWidth, visualViewport.height];").await).unwrap();
    assert!(viewport[0] <= 480.0, "a phone-sized window: {viewport:?}");
    let panel = rect(&browser, ".ec-panel").await;
    assert!(
        near(panel[0], 0.0) && near(panel[1], 0.0) && near(panel[2], viewport[0]) && near(panel[3], viewport[1]),
        "the panel covers the screen: {panel:?} in {viewport:?}"
    );
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-panel').getAttribute('aria-modal')")).await, "true");
    let composer = rect(&browser, ".ec-composer").await;
    assert!(composer[3] <= viewport[1] + 1.0, "the composer is on screen: {composer:?}");
    let close = rect(&browser, ".ec-close").await;
    assert!(close[0] >= 0.0 && close[2] <= viewport[0] && close[2] - close[0] >= 24.0, "a visible close button: {close:?}");
    let fonts = browser.eval(&in_widget("Array.from(r.querySelectorAll('.ec-input')).map(i => getComputedStyle(i).fontSize)")).await;
    assert!(fonts.as_array().is_some_and(|f| !f.is_empty() && f.iter().all(|s| s == "16px")), "16 px inputs: {fonts}");
    browser.screenshot(&run_dir("browser").join("widget-phone-open.png")).await;
    // The host page does not scroll behind the panel (helper L's loader locks it).
    let locked =
        browser.eval("return [document.documentElement, document.body].some(e => getComputedStyle(e).overflow === 'hidden');").await;

    browser.resize(DESKTOP.0, DESKTOP.1).await;
    browser.wait_until(&in_widget("!r.querySelector('.ec-panel').hasAttribute('aria-modal')"), WAIT).await;
    let width = browser.eval("return window.innerWidth;").await.as_f64().unwrap();
    let panel = rect(&browser, ".ec-panel").await;
    let launcher = rect(&browser, ".ec-launcher").await;
    assert!(near(panel[2] - panel[0], 370.0), "a 370 px floating panel: {panel:?}");
    assert!(panel[2] < width - 8.0 && panel[1] > 8.0, "floating, not full screen: {panel:?} in {width}");
    assert!(
        panel[3] <= launcher[1] && (panel[2] - launcher[2]).abs() <= 2.0,
        "above the launcher, aligned with it: {panel:?} {launcher:?}"
    );
    browser.screenshot(&run_dir("browser").join("widget-desktop-open.png")).await;
    browser.close().await;
    assert_eq!(locked, json!(true), "the page behind the full-screen panel does not scroll (helper L's loader)");
}
