//! Browser tests of the widget for a signed-in user (seed 003, issue 14):
//! the page calls `EdgeChat('login', {token})` with the identity JWT its
//! backend minted; the widget shows "Your requests", starts one from the
//! site's topics, shows an operator's reply live, asks for a rating once
//! the conversation is closed and stores it, shows a ticket made of it with
//! its timeline, and `EdgeChat('logout')` brings back the
//! anonymous widget.
//!
//! Hooks the widget offers: `.ec-request[data-conversation]` /
//! `.ec-ticket[data-ticket]` rows with `.ec-unread`, `.ec-new-request`,
//! the topic pickers `.ec-topic` / `.ec-subtopic`, `.ec-body`, `.ec-start`,
//! the open conversation `.ec-conversation[data-conversation][data-state]`,
//! `.ec-back`, and the rating form `.ec-rating`.

use std::time::Duration;

use edgechat_tests::app::{app_login, app_send, identity_token};
use edgechat_tests::browser::{site_page, Browser};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::json;

use super::{in_widget, send_and_wait, MESSAGES_JS};

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.152");

/// `true` once the panel's `.ec-msg` texts include `text`.
fn shows_message(text: &str) -> String {
    format!("{}; return m.some(t => t.includes({}));", MESSAGES_JS.replace("return Array", "const m = Array"), json!(text))
}

/// Sets a `<select>` of the widget to `value` as a user would.
fn choose(css: &str, value: &str) -> String {
    format!(
        "const s = document.querySelector('edgechat-root').shadowRoot.querySelector({}); s.value = {}; s.dispatchEvent(new Event('change'));",
        json!(css),
        json!(value)
    )
}

pub async fn app_user_sees_requests_starts_one_from_a_topic_gets_a_live_reply_and_logs_out(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let reasons = json!({"request_reasons": [{"main": "Payments", "subs": ["Refund", "Card declined"]}, {"main": "Delivery"}]});
    assert_eq!(
        send(server, Method::PATCH, &format!("/v1/sites/{}", tenant.site.id), tenant.token(), Some(reasons)).await.status().as_u16(),
        200
    );
    let sub = format!("shopper-{}", new_message_id());
    // An earlier request, made from the site's app.
    let session = app_login(server, &IPS, tenant.site_key(), &secret, &sub).await;
    let earlier =
        app_send(server, Method::POST, "/api/v1/app/conversations", &session, Some(json!({"body": "Where is parcel 5512?"}))).await;
    assert_eq!(earlier.status().as_u16(), 201);

    let browser = Browser::start(&run_dir("browser").join("chromium-profile-app")).await;
    browser.client.goto(&site_page(&server.url, tenant.site_key()).await).await.unwrap();
    let launcher = browser.widget_element(".ec-launcher", Duration::from_secs(10)).await;
    browser.eval(&format!("EdgeChat('login', {{token: {}}});", json!(identity_token(&secret, &sub, None, None)))).await;
    launcher.click().await.unwrap();

    // "Your requests" lists the earlier one (titled by its last message, the assistant's answer).
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-request[data-conversation]').length === 1"), WAIT).await;
    browser.widget_element(".ec-request[data-conversation]", WAIT).await.click().await.unwrap();
    browser.wait_until(&shows_message("Where is parcel 5512?"), WAIT).await;
    browser.widget_element(".ec-back", WAIT).await.click().await.unwrap();
    assert_eq!(browser.eval("return localStorage.length;").await, 0, "the session token is not stored");

    // A new request from a topic.
    browser.widget_element(".ec-new-request", WAIT).await.click().await.unwrap();
    browser.widget_element(".ec-topic", WAIT).await;
    browser.eval(&choose(".ec-topic", "Payments")).await;
    browser.widget_element(".ec-subtopic", WAIT).await;
    browser.eval(&choose(".ec-subtopic", "Card declined")).await;
    browser.widget_element(".ec-body", WAIT).await.send_keys("I was charged twice").await.unwrap();
    browser.widget_element(".ec-start", WAIT).await.click().await.unwrap();
    browser.wait_until(&shows_message("I was charged twice"), WAIT).await;
    let id = browser.eval(&in_widget("Number(r.querySelector('.ec-conversation').dataset.conversation)")).await.as_i64().expect("an id");

    // Operators see the topic; their reply shows live.
    let detail: serde_json::Value = json_of(get(server, &format!("/v1/chat/conversations/{id}"), tenant.token()).await, 200).await;
    assert!(detail.to_string().contains("Card declined"), "operators see the topic: {detail}");
    let sent = post(server, "/v1/chat/messages/send", tenant.token(), json!({"conversation_id": id, "content": "Refund on its way"})).await;
    assert_eq!(sent.status().as_u16(), 201);
    browser.wait_until(&shows_message("Refund on its way"), WAIT).await;

    // The operator closes it: the widget asks for a rating.
    act(server, tenant.token(), id, "close", json!({})).await;
    browser
        .wait_until(&in_widget("r.querySelector('.ec-conversation')?.dataset.state === 'closed' && !!r.querySelector('.ec-rating')"), WAIT)
        .await;

    // The user rates it: the rating is stored once.
    browser.widget_element(".ec-rating [data-score='4']", WAIT).await.click().await.unwrap();
    browser.widget_element(".ec-submit-rating", WAIT).await.click().await.unwrap();
    // Once stored, the form gives way (the conversation counts as rated).
    browser.wait_until(&in_widget("!r.querySelector('.ec-conversation .ec-rating')"), WAIT).await;
    let polled: serde_json::Value =
        json_of(app_send(server, Method::GET, &format!("/api/v1/app/conversations/{id}/poll"), &session, None).await, 200).await;
    assert_eq!(polled["rated"], json!(true), "the widget's rating is stored");

    // An operator makes a ticket of it and resolves it with a note.
    let ticket: serde_json::Value =
        json_of(post(server, "/v1/tickets", tenant.token(), json!({"subject": "Double charge", "conversation_id": id})).await, 201).await;
    let ticket_id = ticket["id"].as_i64().expect("a ticket id");
    let resolved = send(
        server,
        Method::PATCH,
        &format!("/v1/tickets/{ticket_id}"),
        tenant.token(),
        Some(json!({"status": "resolved", "note": "Refunded"})),
    )
    .await;
    assert_eq!(resolved.status().as_u16(), 200);

    // Back to the list: both requests and the ticket, whose timeline shows the change and asks for a rating.
    browser.widget_element(".ec-back", WAIT).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-request[data-conversation]').length === 2"), WAIT).await;
    browser.wait_until(&in_widget(&format!("!!r.querySelector('.ec-ticket[data-ticket=\"{ticket_id}\"]')")), WAIT).await;
    browser.widget_element(&format!(".ec-ticket[data-ticket='{ticket_id}']"), WAIT).await.click().await.unwrap();
    browser
        .wait_until(
            &in_widget("!!r.querySelector('.ec-timeline li[data-to=\"resolved\"]') && !!r.querySelector('.ec-ticket-view .ec-rating')"),
            WAIT,
        )
        .await;
    let reference = ticket["reference"].as_str().expect("a reference").to_string();
    let title = browser.eval(&in_widget("r.querySelector('.ec-ticket-view .ec-form-title').innerText")).await;
    assert!(title.as_str().is_some_and(|t| t.contains(&reference) && t.contains("Double charge")), "{title}");
    browser.widget_element(".ec-back", WAIT).await.click().await.unwrap();
    browser.wait_until(&in_widget("r.querySelectorAll('.ec-request[data-conversation]').length === 2"), WAIT).await;
    let topic_row = browser.eval(&in_widget(&format!("r.querySelector('.ec-request[data-conversation=\"{id}\"]').innerText"))).await;
    assert!(topic_row.as_str().is_some_and(|t| t.contains("Payments · Card declined") && t.contains("Closed")), "{topic_row}");

    // Logout: the session ends and the anonymous widget works again.
    browser.eval("EdgeChat('logout');").await;
    browser.wait_until(&in_widget("!r.querySelector('.ec-app') && !!r.querySelector('.ec-greeting')"), WAIT).await;
    let me = app_send(server, Method::GET, "/api/v1/app/conversations", &session, None).await;
    assert_eq!(me.status().as_u16(), 200, "another session of the user lives on");
    send_and_wait(&browser, "How do I install the widget on my website?", 1).await;
    browser.close().await;
}

/// A page that signs its user in after the visitor opened the chat: the
/// anonymous widget (which has no requests panel, issue 15) hands over to
/// the `app` build, which shows the user's requests in the same panel,
/// without a page reload.
pub async fn a_login_after_the_chat_opened_loads_the_requests_panel(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let sub = format!("late-{}", new_message_id());
    let browser = Browser::start(&run_dir("browser").join("chromium-profile-app-late")).await;
    browser.client.goto(&site_page(&server.url, tenant.site_key()).await).await.unwrap();
    browser.widget_element(".ec-launcher", Duration::from_secs(10)).await.click().await.unwrap();
    send_and_wait(&browser, "How do I install the widget on my website?", 1).await;
    let modules = "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.wasm')).map(n => n.includes('edgechat-app-'));";
    assert_eq!(browser.eval(modules).await, json!([false]), "an anonymous visitor loads only the anonymous build");

    browser.eval(&format!("EdgeChat('login', {{token: {}}});", json!(identity_token(&secret, &sub, None, None)))).await;
    browser.wait_until(&in_widget("!!r.querySelector('.ec-app .ec-new-request')"), WAIT).await;
    assert_eq!(browser.eval(modules).await, json!([false, true]), "the app build is imported on login");
    assert_eq!(browser.eval(&in_widget("r.querySelectorAll('.ec-panel').length")).await, 1, "one panel, not two");
    browser.close().await;
}
