//! Browser tests: the demo page in headless Chromium against the real
//! worker on `wrangler dev`, used the way a visitor uses it; and the
//! operator console (`console`), used the way an operator uses it.

#[path = "browser/a11y.rs"]
mod a11y;
#[path = "browser/app.rs"]
mod app;
#[path = "browser/console.rs"]
mod console;
#[path = "browser/csp.rs"]
mod csp;
#[path = "browser/integrations.rs"]
mod integrations;
#[path = "browser/js_api.rs"]
mod js_api;
#[path = "browser/locales.rs"]
mod locales;
#[path = "browser/phone.rs"]
mod phone;
#[path = "browser/ratings.rs"]
mod ratings;
#[path = "browser/team.rs"]
mod team;
#[path = "browser/tickets.rs"]
mod tickets;
#[path = "browser/xss.rs"]
mod xss;

use a11y::{
    a11y_axe_finds_no_violation_closed_open_and_with_a_full_conversation,
    a11y_composer_grows_sends_on_enter_not_on_shift_enter_and_takes_a_pasted_image,
    a11y_keyboard_alone_opens_the_chat_sends_rates_and_closes_it,
};
use app::{
    a_login_after_the_chat_opened_loads_the_requests_panel, app_user_sees_requests_starts_one_from_a_topic_gets_a_live_reply_and_logs_out,
};
use console::{
    a_greeting_edited_in_the_console_shows_in_the_widget_after_a_reload, an_agent_invited_in_the_console_signs_in_but_cannot_change_sites,
    knowledge_base_imported_in_the_console_answers_visitors_and_a_bad_line_imports_nothing,
    operator_answers_a_live_visitor_who_sees_it_and_the_operator_sees_read,
    session_survives_a_reload_refreshes_an_expired_token_and_ends_on_logout,
};

use csp::csp_strict_page_chats_with_no_policy_violation;
use integrations::integrations_an_api_key_created_in_the_console_works_until_revoked_there;
use js_api::{
    js_api_calls_queued_before_the_loader_run_in_order_and_open_loads_the_widget,
    js_api_open_close_toggle_show_hide_change_the_panel_and_fire_their_events,
    js_api_sent_message_and_unread_events_follow_the_conversation,
};
use locales::{
    locales_arabic_lays_the_panel_out_right_to_left,
    locales_data_locale_and_set_locale_switch_the_texts_and_the_lang_goes_with_each_message,
};
use phone::phone_the_panel_is_full_screen_at_390_and_floats_beside_the_launcher_at_1280;
use ratings::ratings_and_complaints_show_in_the_console_and_complaints_are_handled;

use team::{
    team_an_attached_image_shows_in_console_and_widget_and_a_refused_file_says_why,
    team_dm_started_in_the_console_reaches_the_teammate_live_who_answers,
    team_edit_and_reactions_reach_the_visitor_and_a_message_is_forwarded,
    team_mute_and_archive_behave_and_a_visitor_message_brings_it_back, team_participants_are_added_and_removed_in_the_panel,
    team_search_opens_the_conversation_at_the_message_and_html_stays_text,
};

use tickets::tickets_made_from_a_conversation_in_the_console_change_status_with_a_note;
use xss::xss_corpus_shows_as_text_in_the_widget_and_the_console_and_runs_no_script;

use std::time::Duration;

use edgechat_tests::browser::Browser;
use edgechat_tests::*;

fn main() {
    let server = Server::start("browser");
    run_trials(
        server,
        trials![server;
            visitor_asks_sees_the_streamed_answer_and_the_history_after_reload,
            operator_reply_typing_and_takeover_appear_live_and_the_badge_counts_while_closed,
            visitor_leaves_an_email_after_the_first_answer_and_operators_see_it,
            closed_conversation_offers_a_star_rating_and_records_one,
            blocked_visitor_sees_a_notice_and_cannot_send,
            proactive_nudge_appears_after_its_delay_and_opens_the_chat,
            visitor_attaches_an_image_with_preview_and_a_refused_file_shows_why,
            markdown_in_operator_replies_renders_safely,
            visitor_who_asks_for_a_person_accepts_the_offer_and_the_conversation_goes_to_operators,
            reset_and_another_user_start_a_fresh_session_on_a_shared_browser,
            operator_answers_a_live_visitor_who_sees_it_and_the_operator_sees_read,
            session_survives_a_reload_refreshes_an_expired_token_and_ends_on_logout,
            knowledge_base_imported_in_the_console_answers_visitors_and_a_bad_line_imports_nothing,
            a_greeting_edited_in_the_console_shows_in_the_widget_after_a_reload,
            an_agent_invited_in_the_console_signs_in_but_cannot_change_sites,
            team_dm_started_in_the_console_reaches_the_teammate_live_who_answers,
            team_participants_are_added_and_removed_in_the_panel,
            team_edit_and_reactions_reach_the_visitor_and_a_message_is_forwarded,
            team_search_opens_the_conversation_at_the_message_and_html_stays_text,
            team_mute_and_archive_behave_and_a_visitor_message_brings_it_back,
            team_an_attached_image_shows_in_console_and_widget_and_a_refused_file_says_why,
            integrations_an_api_key_created_in_the_console_works_until_revoked_there,
            tickets_made_from_a_conversation_in_the_console_change_status_with_a_note,
            app_user_sees_requests_starts_one_from_a_topic_gets_a_live_reply_and_logs_out,
            a_login_after_the_chat_opened_loads_the_requests_panel,
            ratings_and_complaints_show_in_the_console_and_complaints_are_handled,
            js_api_calls_queued_before_the_loader_run_in_order_and_open_loads_the_widget,
            js_api_open_close_toggle_show_hide_change_the_panel_and_fire_their_events,
            js_api_sent_message_and_unread_events_follow_the_conversation,
            csp_strict_page_chats_with_no_policy_violation,
            a11y_axe_finds_no_violation_closed_open_and_with_a_full_conversation,
            a11y_keyboard_alone_opens_the_chat_sends_rates_and_closes_it,
            a11y_composer_grows_sends_on_enter_not_on_shift_enter_and_takes_a_pasted_image,
            locales_data_locale_and_set_locale_switch_the_texts_and_the_lang_goes_with_each_message,
            locales_arabic_lays_the_panel_out_right_to_left,
            phone_the_panel_is_full_screen_at_390_and_floats_beside_the_launcher_at_1280,
            xss_corpus_shows_as_text_in_the_widget_and_the_console_and_runs_no_script,
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

    // Before any interaction: no widget download, no API call but the
    // site's config and the proactive poll, no storage.
    let before = browser
        .eval("return performance.getEntriesByType('resource').map(e => e.name).filter(n => (n.includes('/api/') && !n.includes('/pending-proactive') && !n.includes('/chat/config?')) || n.includes('/widget/'));")
        .await;
    assert_eq!(before, serde_json::json!([]), "the loader fetched nothing but the config and nudges before the click");
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
    let scripts_in_widget =
        browser.eval("return document.querySelector('edgechat-root').shadowRoot.querySelectorAll('.ec-messages script').length;").await;
    assert_eq!(scripts_in_widget, 0);

    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser
        .wait_until(&format!("{}; return m.length === 2;", MESSAGES_JS.replace("return Array", "const m = Array")), Duration::from_secs(20))
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
    browser
        .wait_until(
            &in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing')"),
            Duration::from_secs(20),
        )
        .await;

    // The operator finds the conversation through the visitor's session.
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let session = session.as_str().expect("a session after the first message").to_string();
    let history: serde_json::Value =
        server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}")).await.json().await.unwrap();
    let id = history["conversation_id"].as_i64().expect("conversation id");
    let token = server.demo_token().await;
    // Typing is live-only (never replayed): wait until the widget's channel is open.
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), Duration::from_secs(10)).await;

    operator_post(server, &token, &format!("/v1/chat/conversations/{id}/typing"), serde_json::json!({"typing": true})).await;
    browser
        .wait_until(
            &in_widget("r.querySelector('.ec-typing-notice')?.innerText.replace(/[\\u2068\\u2069]/g, '').includes('Demo Owner is typing') === true"),
            Duration::from_secs(10),
        )
        .await;
    operator_post(server, &token, &format!("/v1/chat/conversations/{id}/typing"), serde_json::json!({"typing": false})).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-typing-notice') === null"), Duration::from_secs(10)).await;

    operator_post(server, &token, &format!("/v1/chat/conversations/{id}/takeover"), serde_json::json!({})).await;
    browser
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-notice')).some(n => n.innerText.replace(/[\\u2068\\u2069]/g, '').includes('Demo Owner joined'))"),
            Duration::from_secs(10),
        )
        .await;

    operator_post(
        server,
        &token,
        "/v1/chat/messages/send",
        serde_json::json!({"conversation_id": id, "content": "Hello from a human <b>operator</b>"}),
    )
    .await;
    browser
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('Demo Owner') && m.innerText.includes('Hello from a human <b>operator</b>'))"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(browser.eval(&in_widget("r.querySelectorAll('.ec-msg.ec-operator b').length")).await, 0, "operator text is never HTML");
    browser.screenshot(&out.join("widget-operator-live.png")).await;

    // With the panel closed, the launcher counts operator replies.
    browser.widget_element(".ec-close", Duration::from_secs(5)).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.getElementById('ec-panel').hidden"), Duration::from_secs(5)).await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-badge').hidden")).await, true, "nothing unread yet");
    for text in ["Are you still there?", "I can also help by email."] {
        operator_post(server, &token, "/v1/chat/messages/send", serde_json::json!({"conversation_id": id, "content": text})).await;
    }
    browser
        .wait_until(
            &in_widget("!r.querySelector('.ec-badge').hidden && r.querySelector('.ec-badge').innerText === '2'"),
            Duration::from_secs(10),
        )
        .await;
    browser.screenshot(&out.join("widget-unread-badge.png")).await;
    browser.widget_element(".ec-launcher", Duration::from_secs(5)).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelector('.ec-badge').hidden && Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('help by email'))"), Duration::from_secs(20)).await;
    browser.close().await;
}

/// Opens the demo page in a new browser, asks `question`, waits for the
/// answer, and answers the browser, the visitor's session and conversation id.
async fn visitor_with_a_conversation(server: &Server, profile: &str, question: &str) -> (Browser, String, i64) {
    let browser = Browser::start(&run_dir("browser").join(profile)).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser.widget_element(".ec-input", Duration::from_secs(20)).await.send_keys(question).await.unwrap();
    browser.widget_element(".ec-send", Duration::from_secs(5)).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1 && !r.querySelector('.ec-typing')"),
            Duration::from_secs(20),
        )
        .await;
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let session = session.as_str().expect("a session after the first message").to_string();
    let history: serde_json::Value =
        server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}")).await.json().await.unwrap();
    let id = history["conversation_id"].as_i64().expect("conversation id");
    (browser, session, id)
}

async fn conversation(server: &Server, token: &str, id: i64) -> serde_json::Value {
    server.authed(reqwest::Method::GET, &format!("/v1/chat/conversations/{id}"), token).send().await.unwrap().json().await.unwrap()
}

async fn visitor_leaves_an_email_after_the_first_answer_and_operators_see_it(server: &Server) {
    let (browser, _, id) = visitor_with_a_conversation(server, "chromium-profile-email", "How much does EdgeChat cost?").await;
    browser.widget_element(".ec-contact .ec-email", Duration::from_secs(10)).await.send_keys("jane@example.com").await.unwrap();
    browser.widget_element(".ec-contact .ec-name", Duration::from_secs(5)).await.send_keys("Jane").await.unwrap();
    let phone = browser.widget_element(".ec-contact .ec-phone", Duration::from_secs(5)).await;
    phone.send_keys("555-0123").await.unwrap();
    browser.widget_element(".ec-contact .ec-save", Duration::from_secs(5)).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("r.querySelector('.ec-contact .ec-form-error')?.innerText.includes('E.164') === true"),
            Duration::from_secs(10),
        )
        .await;
    phone.clear().await.unwrap();
    phone.send_keys("+14155550123").await.unwrap();
    browser.widget_element(".ec-contact .ec-save", Duration::from_secs(5)).await.click().await.unwrap();
    browser
        .wait_until(&in_widget("!r.querySelector('.ec-contact') && Array.from(r.querySelectorAll('.ec-notice')).some(n => n.innerText.includes('jane@example.com'))"), Duration::from_secs(10))
        .await;
    browser.screenshot(&run_dir("browser").join("widget-email-captured.png")).await;
    let token = server.demo_token().await;
    let summary = conversation(server, &token, id).await;
    assert_eq!(summary["visitor"]["email"], "jane@example.com");
    assert_eq!(summary["visitor"]["name"], "Jane");
    browser.close().await;
}

async fn closed_conversation_offers_a_star_rating_and_records_one(server: &Server) {
    let (browser, session, id) = visitor_with_a_conversation(server, "chromium-profile-rating", "Where is my data stored?").await;
    browser.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), Duration::from_secs(10)).await;
    let token = server.demo_token().await;
    let response = server.authed(reqwest::Method::POST, &format!("/v1/chat/conversations/{id}/close"), &token).send().await.unwrap();
    assert!(response.status().is_success());
    browser.widget_element(".ec-rating .ec-star[data-score='4']", Duration::from_secs(10)).await.click().await.unwrap();
    assert_eq!(browser.eval(&in_widget("r.querySelectorAll('.ec-star.ec-on').length")).await, 4);
    browser.widget_element(".ec-rating .ec-comment", Duration::from_secs(5)).await.send_keys("Quick and clear").await.unwrap();
    browser.widget_element(".ec-rating .ec-submit-rating", Duration::from_secs(5)).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("r.querySelector('.ec-thanks')?.innerText.includes('Thanks for your feedback') === true"),
            Duration::from_secs(10),
        )
        .await;
    browser.screenshot(&run_dir("browser").join("widget-rating.png")).await;
    // One rating per conversation: the widget's was recorded, a second is a duplicate.
    let again: serde_json::Value = server
        .http
        .post(format!("{}/api/v1/chat/rate", server.url))
        .json(&serde_json::json!({"site_key": DEMO_SITE_KEY, "session_id": session, "score": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["duplicate"], true, "{again}");
    browser.close().await;
}

async fn blocked_visitor_sees_a_notice_and_cannot_send(server: &Server) {
    let (browser, _, id) = visitor_with_a_conversation(server, "chromium-profile-blocked", "Which browsers are supported?").await;
    let token = server.demo_token().await;
    let visitor = conversation(server, &token, id).await["visitor"]["id"].as_i64().expect("visitor id");
    let response = server.authed(reqwest::Method::POST, &format!("/v1/chat/users/{visitor}/block"), &token).send().await.unwrap();
    assert!(response.status().is_success());
    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("r.querySelector('.ec-blocked')?.innerText.includes('can no longer send') === true"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-send').disabled")).await, true, "sending is disabled");
    browser.screenshot(&run_dir("browser").join("widget-blocked.png")).await;
    browser.close().await;
}

/// Chooses a file in the widget's file input, as the browser's file picker
/// would: `name`, MIME type `declared`, contents from base64.
fn choose_file_js(name: &str, declared: &str, base64: &str) -> String {
    format!(
        "const r = document.querySelector('edgechat-root').shadowRoot; const input = r.querySelector('.ec-file'); \
         const bytes = Uint8Array.from(atob('{base64}'), c => c.charCodeAt(0)); const dt = new DataTransfer(); \
         dt.items.add(new File([bytes], '{name}', {{ type: '{declared}' }})); input.files = dt.files; \
         input.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
    )
}

/// A 1×1 PNG.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async fn visitor_attaches_an_image_with_preview_and_a_refused_file_shows_why(server: &Server) {
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-upload")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser.widget_element(".ec-attach", Duration::from_secs(20)).await;

    // An HTML page named like an image is refused, with the reason shown.
    let html = "PCFkb2N0eXBlIGh0bWw+PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==";
    browser.eval(&choose_file_js("evil.png", "image/png", html)).await;
    browser.wait_until(&in_widget("r.querySelector('.ec-upload-error')?.innerText.length > 0"), Duration::from_secs(10)).await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-preview') === null")).await, true, "no preview for a refused file");

    // A real image: preview, progress to 100 %, then sent with the next message.
    browser.eval(&choose_file_js("screenshot.png", "image/png", PNG_BASE64)).await;
    browser
        .wait_until(
            &in_widget("r.querySelector('.ec-preview') !== null && r.querySelector('.ec-progress').value === 100"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-upload-error') === null")).await, true);
    browser.screenshot(&run_dir("browser").join("widget-upload-preview.png")).await;
    browser.widget_element(".ec-input", Duration::from_secs(5)).await.send_keys("Here is a screenshot of the problem").await.unwrap();
    browser.widget_element(".ec-send", Duration::from_secs(5)).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-visitor img.ec-image')).some(i => i.complete && i.naturalWidth === 1)"),
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(browser.eval(&in_widget("r.querySelector('.ec-preview') === null")).await, true, "the preview is cleared once sent");

    // The stored message carries the attachment, served from R2.
    let session = browser.eval("return localStorage.getItem('edgechat:sk_demo_edgechat:session');").await;
    let session = session.as_str().unwrap().to_string();
    let history: serde_json::Value =
        server.get(&format!("/api/v1/chat/history?site_key={DEMO_SITE_KEY}&session_id={session}")).await.json().await.unwrap();
    let attachment = &history["messages"][0]["attachments"][0];
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["name"], "screenshot.png");
    let served = server.get(attachment["url"].as_str().unwrap()).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    browser.screenshot(&run_dir("browser").join("widget-upload-sent.png")).await;
    browser.close().await;
}

async fn proactive_nudge_appears_after_its_delay_and_opens_the_chat(server: &Server) {
    let token = server.demo_token().await;
    let sites: serde_json::Value = server.authed(reqwest::Method::GET, "/v1/sites", &token).send().await.unwrap().json().await.unwrap();
    let site_id = sites["sites"].as_array().unwrap().iter().find(|s| s["site_key"] == DEMO_SITE_KEY).unwrap()["id"].as_i64().unwrap();
    let rule = serde_json::json!({"message": "Questions about pricing? We are here.", "url_match": "*nudge-test*", "delay_seconds": 3});
    let response =
        server.authed(reqwest::Method::POST, &format!("/v1/sites/{site_id}/proactive"), &token).json(&rule).send().await.unwrap();
    assert_eq!(response.status(), 201);

    let browser = Browser::start(&run_dir("browser").join("chromium-profile-nudge")).await;
    let opened = std::time::Instant::now();
    browser.client.goto(&format!("{}/?nudge-test", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await;
    browser.wait_until(&in_widget("!r.querySelector('.ec-nudge').hidden"), Duration::from_secs(15)).await;
    assert!(opened.elapsed() >= Duration::from_secs(3), "the nudge waits for its delay, came after {:?}", opened.elapsed());
    let text = browser.eval(&in_widget("r.querySelector('.ec-nudge').innerText")).await;
    assert_eq!(text, "Questions about pricing? We are here.");
    assert_eq!(browser.eval("return localStorage.length + document.cookie.length;").await, 0, "nothing stored before interaction");
    browser.screenshot(&run_dir("browser").join("widget-nudge.png")).await;

    browser.widget_element(".ec-nudge", Duration::from_secs(5)).await.click().await.unwrap();
    browser.widget_element(".ec-input", Duration::from_secs(20)).await;
    browser
        .wait_until(
            &in_widget("r.querySelector('.ec-nudge').hidden && !r.querySelector('.ec-panel').parentElement.hidden"),
            Duration::from_secs(10),
        )
        .await;
    browser.close().await;
}

async fn markdown_in_operator_replies_renders_safely(server: &Server) {
    let (browser, _, id) =
        visitor_with_a_conversation(server, "chromium-profile-markdown", "How do I change the colour of the chat widget?").await;
    let token = server.demo_token().await;
    let reply = "**Bold** and _italic_ and `code`\n\n- one\n- two\n\n\
        <img src=x onerror=\"window.__pwned=1\"> [docs](https://example.com/docs) [bad](javascript:alert(1))";
    operator_post(server, &token, "/v1/chat/messages/send", serde_json::json!({"conversation_id": id, "content": reply})).await;
    let bubble = "r.querySelector('.ec-msg.ec-operator')";
    browser.wait_until(&in_widget(&format!("{bubble}?.querySelector('strong')?.textContent === 'Bold'")), Duration::from_secs(10)).await;
    let check = |expr: &str| in_widget(&format!("{bubble}.{expr}"));
    assert_eq!(browser.eval(&check("querySelector('em')?.textContent")).await, "italic");
    assert_eq!(browser.eval(&check("querySelector('code')?.textContent")).await, "code");
    assert_eq!(browser.eval(&check("querySelectorAll('ul > li').length")).await, 2);
    // Raw HTML is shown as its characters and never runs.
    assert_eq!(browser.eval(&check("querySelectorAll('img').length")).await, 0, "no <img> in the bubble");
    assert_eq!(browser.eval(&check("textContent.includes('<img src=x onerror=')")).await, true);
    assert_eq!(browser.eval("return typeof window.__pwned;").await, "undefined");
    // Links open in a new tab without opener or referrer; javascript: is text.
    let docs = "querySelector('a[href=\"https://example.com/docs\"]')";
    assert_eq!(browser.eval(&check(&format!("{docs}?.textContent"))).await, "docs");
    assert_eq!(browser.eval(&check(&format!("{docs}.target"))).await, "_blank");
    assert_eq!(browser.eval(&check(&format!("{docs}.getAttribute('rel')"))).await, "noopener noreferrer nofollow");
    assert_eq!(browser.eval(&check("textContent.includes('bad')")).await, true, "the unsafe link's text stays");
    let script_links = "Array.from(r.querySelectorAll('a')).filter(a => (a.getAttribute('href') || '').trim().toLowerCase().startsWith('javascript:')).length";
    assert_eq!(browser.eval(&in_widget(script_links)).await, 0, "no javascript: link");
    browser.screenshot(&run_dir("browser").join("widget-markdown.png")).await;
    browser.close().await;
}

async fn visitor_who_asks_for_a_person_accepts_the_offer_and_the_conversation_goes_to_operators(server: &Server) {
    let (browser, _session, id) = visitor_with_a_conversation(server, "handoff-profile", "Je voudrais parler à un humain").await;
    let offer = browser.eval(&in_widget("r.querySelector('.ec-msg.ec-ai:not(.ec-greeting)').innerText")).await;
    assert!(offer.as_str().is_some_and(|t| t.contains("connect you with a person")), "{offer}");
    let button = browser.widget_element(".ec-handoff", Duration::from_secs(10)).await;
    assert_eq!(button.text().await.unwrap(), "Talk to a person");
    let token = server.demo_token().await;
    assert_eq!(conversation(server, &token, id).await["mode"], "ai", "nothing changes before the visitor accepts");
    button.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-notice')).some(n => n.innerText.includes('A person from our team will reply')) && !r.querySelector('.ec-handoff')"),
            Duration::from_secs(10),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notices = browser
        .eval(&in_widget("Array.from(r.querySelectorAll('.ec-notice')).filter(n => n.innerText.includes('A person from our team')).length"))
        .await;
    assert_eq!(notices, 1, "one notice, whether the live event or the answer came first");
    assert_eq!(conversation(server, &token, id).await["mode"], "operator");
    browser.screenshot(&run_dir("browser").join("widget-handoff.png")).await;
    browser.close().await;
}

/// `EdgeChat('identify', …)` for `user_id` of the demo site, with the
/// `user_hash` its server would compute from the site's identity secret.
async fn identify_script(server: &Server, user_id: &str, name: &str) -> String {
    use hmac::Mac;
    let token = server.demo_token().await;
    let sites: serde_json::Value = server.authed(reqwest::Method::GET, "/v1/sites", &token).send().await.unwrap().json().await.unwrap();
    let site = sites["sites"].as_array().unwrap().iter().find(|s| s["site_key"] == DEMO_SITE_KEY).expect("the demo site").clone();
    let secret = site["identity_secret"].as_str().expect("owners see the secret");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(user_id.as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let identity = serde_json::json!({"user_id": user_id, "user_hash": hash, "name": name, "email": format!("{user_id}@example.com")});
    format!("EdgeChat('identify', {identity});")
}

const SESSION_JS: &str = "return localStorage.getItem('edgechat:sk_demo_edgechat:session');";

/// Sends `text` from the open panel and waits for the `answers`-th answer.
async fn send_and_wait(browser: &Browser, text: &str, answers: usize) {
    browser.widget_element(".ec-input", Duration::from_secs(20)).await.send_keys(text).await.unwrap();
    browser.widget_element(".ec-send", Duration::from_secs(5)).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget(&format!(
                "r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === {answers} && !r.querySelector('.ec-typing')"
            )),
            Duration::from_secs(20),
        )
        .await;
}

/// The panel's messages joined in one text.
async fn panel_text(browser: &Browser) -> String {
    browser
        .eval(MESSAGES_JS)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn reset_and_another_user_start_a_fresh_session_on_a_shared_browser(server: &Server) {
    let alice = format!("alice-{}", new_message_id());
    let bob = format!("bob-{}", new_message_id());
    let (as_alice, as_bob) = (identify_script(server, &alice, "Alice").await, identify_script(server, &bob, "Bob").await);
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-reset")).await;
    browser.client.goto(&format!("{}/", server.url)).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await;

    // Alice, logged in, writes.
    browser.eval(&as_alice).await;
    browser.widget_element(".ec-launcher", Duration::from_secs(5)).await.click().await.unwrap();
    send_and_wait(&browser, "My parcel 4471 has not arrived", 1).await;
    let alices_session = browser.eval(SESSION_JS).await;
    assert!(alices_session.as_str().is_some_and(|s| s.starts_with("sess_")), "{alices_session}");

    // She logs out: the page calls reset; the panel starts over, empty, with no session.
    browser.eval("EdgeChat('reset');").await;
    browser
        .wait_until(&format!("{}; return m.length === 0;", MESSAGES_JS.replace("return Array", "const m = Array")), Duration::from_secs(10))
        .await;
    assert_eq!(browser.eval(SESSION_JS).await, serde_json::Value::Null, "reset forgets the session");

    // Bob logs in on the same browser: his own, fresh conversation.
    browser.eval(&as_bob).await;
    send_and_wait(&browser, "Hello, this is Bob", 1).await;
    let bobs_session = browser.eval(SESSION_JS).await;
    assert!(bobs_session.as_str().is_some() && bobs_session != alices_session, "a fresh session for Bob: {bobs_session}");
    let seen_by_bob = panel_text(&browser).await;
    assert!(seen_by_bob.contains("this is Bob") && !seen_by_bob.contains("4471"), "{seen_by_bob}");

    // Alice comes back on a new page load without a reset in between: the
    // widget sees another user than its session's and starts a fresh one;
    // her conversation comes back through her identity.
    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await;
    browser.eval(&as_alice).await;
    browser.widget_element(".ec-launcher", Duration::from_secs(5)).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-msg.ec-ai:not(.ec-greeting)').length === 1"), Duration::from_secs(20)).await;
    let seen_by_alice = panel_text(&browser).await;
    assert!(seen_by_alice.contains("4471") && !seen_by_alice.contains("Bob"), "{seen_by_alice}");
    assert_ne!(browser.eval(SESSION_JS).await, bobs_session, "Bob's session is not Alice's");

    // The next page load names nobody (logged out, no reset called): a fresh anonymous panel.
    browser.client.refresh().await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    browser.widget_element(".ec-input", Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(panel_text(&browser).await, "", "nobody logged in sees no one's conversation");
    assert_eq!(browser.eval(SESSION_JS).await, serde_json::Value::Null);
    browser.close().await;
}
