//! Browser test of the console's Ratings and Complaints views (issue 14):
//! a signed-in user's CSAT shows in the average, distribution and comments;
//! their complaint is listed and marked handled with a note.

use std::time::Duration;

use edgechat_tests::app::{app_login, app_send};
use edgechat_tests::browser::Browser;
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.153");

pub async fn ratings_and_complaints_show_in_the_console_and_complaints_are_handled(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let secret = tenant.site.identity_secret.clone().expect("the owner sees the identity secret");
    let session = app_login(server, &IPS, tenant.site_key(), &secret, "rater").await;
    let started: Value =
        json_of(app_send(server, Method::POST, "/api/v1/app/conversations", &session, Some(json!({"body": "Card declined"}))).await, 201)
            .await;
    let conversation = started["id"].as_i64().expect("a conversation id");
    let rated = app_send(
        server,
        Method::POST,
        "/api/v1/app/csat",
        &session,
        Some(json!({"stars": 4, "comment": "Quick and kind", "conversation_id": conversation})),
    )
    .await;
    assert_eq!(rated.status().as_u16(), 201);
    let filed = app_send(
        server,
        Method::POST,
        "/api/v1/app/complaints",
        &session,
        Some(json!({"category": "funds", "description": "I was charged twice for one order", "chat_id": conversation})),
    )
    .await;
    let complaint: Value = json_of(filed, 201).await;
    let complaint_id = complaint["id"].as_i64().expect("a complaint id");

    let browser = Browser::start(&run_dir("browser").join("chromium-feedback-views")).await;
    browser.resize(1280, 900).await;
    browser.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    browser.client.goto(&format!("{}/app/ratings", server.url)).await.unwrap();
    browser.wait_until("return document.querySelector('.rating-average')?.dataset.average?.startsWith('4') === true;", WAIT).await;
    browser.wait_until("return document.querySelector('.rating-comments')?.innerText.includes('Quick and kind') === true;", WAIT).await;

    browser.client.goto(&format!("{}/app/complaints", server.url)).await.unwrap();
    let row = format!("li.complaint[data-id='{complaint_id}']");
    browser.wait_until(&format!("return document.querySelector(\"{row}\")?.innerText.includes('charged twice') === true;"), WAIT).await;
    browser.element(&format!("{row} input[name=note]"), WAIT).await.send_keys("Refunded the second charge").await.unwrap();
    browser.button("Mark handled", WAIT).await.click().await.unwrap();
    browser.wait_until(&format!("return document.querySelector(\"{row}\")?.dataset.status === 'handled';"), WAIT).await;
    let listed: Value = json_of(get(server, "/v1/complaints?status=handled", tenant.token()).await, 200).await;
    assert!(listed.to_string().contains("Refunded the second charge"), "the note is stored: {listed}");
    browser.close().await;
}
