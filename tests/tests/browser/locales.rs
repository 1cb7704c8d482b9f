//! Browser tests of the widget's languages (issue 15): the script tag's
//! `data-locale` and `EdgeChat('setLocale', …)` switch every text the widget
//! writes, the chosen language goes with each message as `lang`, and Arabic
//! lays the panel out right to left.

use std::time::Duration;

use edgechat_shared::texts::Lang;
use edgechat_tests::browser::{site_page, Browser};
use edgechat_tests::*;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.161");

/// `return <expr>` evaluated with `r`, the widget's shadow root.
fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root').shadowRoot; return {expr};")
}

/// Records the JSON body of every `POST …/chat/stream` the page sends in
/// `window.__ecStreamBodies`, by wrapping the page's `fetch`.
const RECORD_STREAM_BODIES: &str = "window.__ecStreamBodies = []; const original = window.fetch; \
    window.fetch = function (input, init) { \
      const isRequest = input instanceof Request; \
      if (String(isRequest ? input.url : input).includes('/chat/stream')) \
        (isRequest ? input.clone().text() : Promise.resolve(String(init && init.body))).then(t => window.__ecStreamBodies.push(t)); \
      return original.apply(this, arguments); }; return true;";

/// The texts a visitor sees on the open panel, in the panel's language.
const TEXTS: &str = "[r.querySelector('.ec-panel').lang, r.querySelector('.ec-panel').getAttribute('aria-label'), \
    r.querySelector('.ec-composer .ec-input').placeholder, r.querySelector('.ec-composer .ec-send').innerText, \
    r.querySelector('.ec-close').getAttribute('aria-label')]";

pub async fn locales_data_locale_and_set_locale_switch_the_texts_and_the_lang_goes_with_each_message(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-locales")).await;
    browser.client.goto(&format!("{}&locale=fr-CA", site_page(&server.url, tenant.site_key()).await)).await.unwrap();
    browser.eval(RECORD_STREAM_BODIES).await;
    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    browser.widget_element(".ec-composer .ec-input", WAIT).await;
    assert_eq!(
        browser.eval(&in_widget(TEXTS)).await,
        json!(["fr", "Discussion", "Écrivez votre message…", "Envoyer", "Fermer la discussion"]),
        "data-locale=\"fr-CA\" is French"
    );

    // The site's knowledge base is empty: the answer is "not sure" and offers a person.
    browser.widget_element(".ec-composer .ec-input", WAIT).await.send_keys("Livrez-vous au Canada ?").await.unwrap();
    browser.widget_element(".ec-composer .ec-send", WAIT).await.click().await.unwrap();
    let answered = "r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing')";
    browser.wait_until(&in_widget(answered), WAIT).await;
    let bodies = browser.eval("return window.__ecStreamBodies;").await;
    let sent: serde_json::Value = serde_json::from_str(bodies[0].as_str().expect("one stream request")).unwrap();
    assert_eq!(sent["lang"], "fr", "the chosen language goes with the message: {sent}");
    let offer = browser.widget_element(".ec-handoff", WAIT).await;
    assert_eq!(offer.text().await.unwrap(), "Parler à une personne");
    browser.screenshot(&run_dir("browser").join("widget-fr.png")).await;

    // setLocale switches every text at once, while the panel is open.
    browser.eval("EdgeChat('setLocale', 'de'); return true;").await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').lang === 'de'"), WAIT).await;
    assert_eq!(browser.eval(&in_widget(TEXTS)).await, json!(["de", "Chat", "Nachricht eingeben…", "Senden", "Chat schließen"]));
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-handoff').innerText")).await, "Mit einer Person sprechen");
    browser.eval("EdgeChat('setLocale', 'es-MX'); return true;").await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').lang === 'es'"), WAIT).await;
    assert_eq!(browser.eval(&in_widget(TEXTS)).await, json!(["es", "Chat", "Escribe tu mensaje…", "Enviar", "Cerrar el chat"]));
    // A language the widget does not have changes nothing.
    browser.eval("EdgeChat('setLocale', 'pt-BR'); return true;").await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-panel').lang")).await, "es");

    browser.widget_element(".ec-composer .ec-input", WAIT).await.send_keys("¿Envían a Canadá?").await.unwrap();
    browser.widget_element(".ec-composer .ec-send", WAIT).await.click().await.unwrap();
    browser.wait_until("return window.__ecStreamBodies.length === 2;", WAIT).await;
    let bodies = browser.eval("return window.__ecStreamBodies;").await;
    let sent: serde_json::Value = serde_json::from_str(bodies[1].as_str().unwrap()).unwrap();
    assert_eq!(sent["lang"], "es", "{sent}");

    // The server's own texts follow `lang`: the French question's "not
    // sure" answer is the French one.
    let first_answer = browser.eval(&in_widget("r.querySelector('.ec-msg.ec-ai:not(.ec-greeting)').innerText")).await;
    browser.close().await;
    let first_answer = first_answer.as_str().unwrap_or_default();
    assert!(
        first_answer.contains(Lang::Fr.texts().not_sure.split('\u{a0}').next().unwrap_or_default()),
        "the answer to a French question is French: {first_answer:?}"
    );
}

/// The x coordinate of the centre of the widget element `css`.
fn centre_x(css: &str) -> String {
    in_widget(&format!("(b => b.left + b.width / 2)(r.querySelector('{css}').getBoundingClientRect())"))
}

async fn x_of(browser: &Browser, css: &str) -> f64 {
    browser.eval(&centre_x(css)).await.as_f64().unwrap_or_else(|| panic!("{css} is shown"))
}

pub async fn locales_arabic_lays_the_panel_out_right_to_left(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-rtl")).await;
    browser.client.goto(&format!("{}&locale=de", site_page(&server.url, tenant.site_key()).await)).await.unwrap();
    browser.widget_element(".ec-launcher", WAIT).await;
    // Called before the widget loads: queued, and it wins over data-locale.
    browser.eval("EdgeChat('setLocale', 'ar'); return true;").await;
    browser.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    browser.widget_element(".ec-composer .ec-input", WAIT).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-greeting') !== null"), WAIT).await;
    let panel = browser.eval(&in_widget("[r.querySelector('.ec-panel').lang, r.querySelector('.ec-panel').dir]")).await;
    assert_eq!(panel, json!(["ar", "rtl"]));
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-composer .ec-send').innerText")).await, "إرسال");

    // Mirrored: the close button left of the title, send left of the box,
    // the assistant's greeting on the right.
    let (close, title) = (x_of(&browser, ".ec-close").await, x_of(&browser, ".ec-title").await);
    let (send, input) = (x_of(&browser, ".ec-composer .ec-send").await, x_of(&browser, ".ec-composer .ec-input").await);
    let (greeting, messages) = (x_of(&browser, ".ec-greeting").await, x_of(&browser, ".ec-messages").await);
    assert!(
        close < title && send < input && greeting > messages,
        "RTL: close {close} title {title} send {send} input {input} greeting {greeting} list {messages}"
    );
    browser.screenshot(&run_dir("browser").join("widget-rtl.png")).await;

    browser.eval("EdgeChat('setLocale', 'en'); return true;").await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dir === 'ltr'"), WAIT).await;
    let (close, title) = (x_of(&browser, ".ec-close").await, x_of(&browser, ".ec-title").await);
    let (send, input) = (x_of(&browser, ".ec-composer .ec-send").await, x_of(&browser, ".ec-composer .ec-input").await);
    let (greeting, messages) = (x_of(&browser, ".ec-greeting").await, x_of(&browser, ".ec-messages").await);
    assert!(
        close > title && send > input && greeting < messages,
        "LTR: close {close} title {title} send {send} input {input} greeting {greeting} list {messages}"
    );
    browser.close().await;
}
