//! Browser tests of Settings → Integrations in the console (issue 13): an
//! API key created there works from another client until it is revoked
//! there. Screenshots land in `target/test-runs/browser/integrations/`.
//!
//! Hooks the console offers: the create form `[data-form=api-key-create]`
//! (inputs `name`, checkboxes `read`/`write`), the secret box
//! `[data-form=api-key-secret] code[data-secret]`, key rows
//! `li.api-key[data-id]`, and the webhooks section `section.webhooks`.

use std::path::PathBuf;
use std::time::Duration;

use edgechat_shared::api::integrations::ApiKey;
use edgechat_tests::browser::Browser;
use edgechat_tests::*;

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.94");

fn shots() -> PathBuf {
    let dir = run_dir("browser").join("integrations");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// `GET /v1/chat/conversations` with `key` as the bearer: the status.
async fn use_key(server: &Server, key: &str) -> u16 {
    get(server, "/v1/chat/conversations", key).await.status().as_u16()
}

/// Accepts the `window.confirm` the last click opened and answers its text.
async fn accept_confirm(browser: &Browser) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(text) = browser.client.get_alert_text().await {
            browser.client.accept_alert().await.expect("the confirm is accepted");
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "no confirm within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn integrations_an_api_key_created_in_the_console_works_until_revoked_there(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let browser = Browser::start(&run_dir("browser").join("chromium-integrations-keys")).await;
    browser.resize(1280, 900).await;
    browser.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    browser.button("Settings", WAIT).await.click().await.unwrap();
    browser.button("Integrations", WAIT).await.click().await.unwrap();
    browser.wait_until("return location.pathname === '/app/settings/integrations';", WAIT).await;
    // The webhooks part loads without an error, whether or not this server has the webhook routes.
    browser
        .wait_until(
            "const s = document.querySelector('section.webhooks'); return !!s && (s.innerText.includes('not available') \
             || s.innerText.includes('Add endpoint')) && !s.querySelector('.error');",
            WAIT,
        )
        .await;
    browser.wait_until("return document.body.innerText.includes('No API key yet.');", WAIT).await;

    browser.button("Create API key", WAIT).await.click().await.unwrap();
    browser.element("[data-form=api-key-create] input[name=name]", WAIT).await.send_keys("CRM sync").await.unwrap();
    browser.element("[data-form=api-key-create] input[name=write]", WAIT).await.click().await.unwrap();
    browser.button("Create key", WAIT).await.click().await.unwrap();
    let secret = browser.element("[data-form=api-key-secret] code[data-secret]", WAIT).await.text().await.unwrap();
    assert!(secret.starts_with("eck_") && secret.len() == 44, "the console shows the secret: {secret:?}");
    browser.screenshot(&shots().join("new-key.png")).await;

    let listed: Vec<ApiKey> = json_of(get(server, "/v1/api-keys", tenant.token()).await, 200).await;
    let [created] = listed.as_slice() else { panic!("one key: {listed:?}") };
    assert_eq!((created.name.as_str(), created.created_by), ("CRM sync", tenant.id()));
    assert!(secret.starts_with(&created.prefix));
    let row = format!("li.api-key[data-id='{}']", created.id);
    let shown = browser.element(&row, WAIT).await.text().await.unwrap();
    assert!(shown.contains("CRM sync") && shown.contains(&created.prefix) && shown.contains("read, write"), "{shown}");

    assert_eq!(use_key(server, &secret).await, 200, "the key works from another client");

    // Once dismissed, the secret is nowhere in the page, even after a reload.
    browser.button("Done", WAIT).await.click().await.unwrap();
    let gone = format!("return !document.body.innerHTML.includes({secret:?});");
    browser.wait_until(&gone, WAIT).await;
    browser.client.refresh().await.unwrap();
    browser.wait_until(&format!("return document.querySelector(\"{row}\")?.innerText.includes('last used') === true;"), WAIT).await;
    assert_eq!(browser.eval(&gone).await, serde_json::json!(true), "no secret after a reload");
    let shown = browser.element(&row, WAIT).await.text().await.unwrap();
    assert!(!shown.contains("never"), "the row shows when the key was last used: {shown}");

    browser.element(&format!("{row} button.danger"), WAIT).await.click().await.unwrap();
    let question = accept_confirm(&browser).await;
    assert!(question.contains("CRM sync"), "the confirm names the key: {question}");
    browser.wait_until(&format!("return document.querySelector(\"{row}\") === null;"), WAIT).await;
    browser.wait_until("return document.body.innerText.includes('was revoked');", WAIT).await;
    browser.screenshot(&shots().join("revoked.png")).await;
    assert_eq!(use_key(server, &secret).await, 401, "the revoked key is refused at once");
    browser.close().await;
}
