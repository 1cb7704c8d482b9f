//! Browser tests of team messaging in the console (issue 12, seed 002):
//! staff DMs between two operators' browsers, participants, editing and
//! reacting (seen by the visitor's widget), forwarding, message search that
//! opens the conversation at the hit, mute and archive, and attaching
//! files. Each trial signs up its own account. Screenshots land in
//! `target/test-runs/browser/team/`.
//!
//! Hooks the console offers: rows `li.row[data-conversation][data-kind]
//! [data-muted][data-archived]`, messages `article.msg[data-message]
//! [data-seq][data-edited]` (`.target` when opened from search), reaction
//! chips `.chip[data-emoji][aria-pressed]`, quick reactions
//! `button[data-quick]`, forms `[data-form=new-conversation|forward|
//! rename-conversation]` with `[data-operator]`/`[data-conversation]`
//! labels, participants `li[data-participant]`, the search box
//! `#message-search` and its results `li.result[data-message]`, the
//! composer's `input.file` behind the "Attach a file" button.

use std::path::PathBuf;
use std::time::Duration;

use edgechat_tests::browser::{site_page, Browser};
use edgechat_tests::*;
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.92");

/// A 1×1 PNG.
const PNG_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

fn shots() -> PathBuf {
    let dir = run_dir("browser").join("team");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

async fn browser(name: &str) -> Browser {
    let browser = Browser::start(&run_dir("browser").join(format!("chromium-team-{name}"))).await;
    browser.resize(1280, 800).await;
    browser
}

/// `return <expr>` inside the widget's shadow root `r`.
fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root')?.shadowRoot; if (!r) return null; return {expr};")
}

/// A JSON call as `token`; panics unless it answers `status`.
async fn call(server: &Server, method: Method, path: &str, token: &str, body: Option<Value>, status: u16) -> Value {
    let mut request = server.authed(method.clone(), path, token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let got = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Invites an agent named `name` into the tenant's account: its email, id and token.
async fn teammate(server: &Server, tenant: &Tenant, name: &str) -> (String, i64, String) {
    let email = format!("{}@example.com", unique("mate"));
    let body = json!({"email": email, "display_name": name, "role": "agent", "password": PASSWORD});
    let user = call(server, Method::POST, "/v1/users", tenant.token(), Some(body), 201).await;
    let token = server.login(&email, PASSWORD).await.access_token;
    (email, user["id"].as_i64().expect("user id"), token)
}

/// The conversation id in the console's address, once it shows one.
async fn open_id(browser: &Browser) -> i64 {
    browser.wait_until("return location.pathname.startsWith('/app/conversations/');", WAIT).await;
    let path = browser.eval("return location.pathname;").await;
    path.as_str().and_then(|p| p.rsplit('/').next()).and_then(|id| id.parse().ok()).expect("a conversation id in the path")
}

/// Types `text` in the composer and sends it with Enter.
async fn reply(browser: &Browser, text: &str) {
    browser.element("textarea#reply", WAIT).await.send_keys(&format!("{text}\u{E007}")).await.unwrap();
}

/// Waits for a message of the open conversation whose text includes `text`.
async fn message_shows(browser: &Browser, text: &str) {
    browser
        .wait_until(
            &format!("return Array.from(document.querySelectorAll('article.msg')).some(m => m.innerText.includes({text:?}));"),
            WAIT,
        )
        .await;
}

/// The visitor asks `text` on the tenant's site; the operator opens the
/// conversation in the console and takes it over. Answers its id.
async fn visitor_conversation(server: &Server, tenant: &Tenant, operator: &Browser, visitor: &Browser, text: &str) -> i64 {
    let page = site_page(&server.url, tenant.site_key()).await;
    visitor.client.goto(&page).await.unwrap();
    visitor.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    visitor.widget_element(".ec-composer .ec-input", WAIT).await.send_keys(text).await.unwrap();
    visitor.widget_element(".ec-composer .ec-send", WAIT).await.click().await.unwrap();
    operator.wait_until("return document.querySelector('li.row[data-kind=visitor]') !== null;", WAIT).await;
    operator.element("li.row[data-kind=visitor] a", WAIT).await.click().await.unwrap();
    let id = open_id(operator).await;
    operator.button("Take over", WAIT).await.click().await.unwrap();
    operator.button("Hand back to AI", WAIT).await;
    visitor.wait_until(&in_widget("r.querySelector('.ec-panel').dataset.live === 'true'"), WAIT).await;
    id
}

pub async fn team_dm_started_in_the_console_reaches_the_teammate_live_who_answers(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let (sam_email, sam_id, _) = teammate(server, &tenant, "Sam Agent").await;
    let owner = browser("dm-owner").await;
    owner.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    let sam = browser("dm-sam").await;
    sam.console_sign_in(&server.url, &sam_email, PASSWORD).await;

    owner.button("New conversation", WAIT).await.click().await.unwrap();
    // The dialog focuses its first field.
    owner.wait_until("return document.activeElement?.closest('[role=dialog]') !== null;", WAIT).await;
    owner.element(&format!("[data-form=new-conversation] [data-operator=\"{sam_id}\"] input"), WAIT).await.click().await.unwrap();
    owner.screenshot(&shots().join("new-conversation.png")).await;
    owner.button("Start conversation", WAIT).await.click().await.unwrap();
    let id = open_id(&owner).await;
    reply(&owner, "Can you check ticket 881?").await;
    message_shows(&owner, "ticket 881").await;

    // Sam sees it arrive live, as a team conversation named after the owner.
    let row = format!("li.row[data-conversation=\"{id}\"]");
    sam.wait_until(&format!("return document.querySelector('{row}')?.dataset.kind === 'internal';"), WAIT).await;
    sam.wait_until(&format!("return document.querySelector('{row} .who')?.innerText.includes('Olivia Owner') === true;"), WAIT).await;
    sam.wait_until(&format!("return document.querySelector('{row} .badge') !== null;"), WAIT).await;
    sam.element(&format!("{row} a"), WAIT).await.click().await.unwrap();
    message_shows(&sam, "ticket 881").await;
    reply(&sam, "On it, refund sent").await;
    owner
        .wait_until(
            "return Array.from(document.querySelectorAll('article.msg')).some(m => m.innerText.includes('Sam Agent') && m.innerText.includes('refund sent'));",
            WAIT,
        )
        .await;
    owner.screenshot(&shots().join("dm.png")).await;

    // Starting the DM again opens the same conversation (one per pair).
    owner.button("Inbox", WAIT).await.click().await.unwrap();
    owner.button("New conversation", WAIT).await.click().await.unwrap();
    owner.element(&format!("[data-form=new-conversation] [data-operator=\"{sam_id}\"] input"), WAIT).await.click().await.unwrap();
    owner.button("Start conversation", WAIT).await.click().await.unwrap();
    assert_eq!(open_id(&owner).await, id, "the staff DM is unique per pair");
    sam.close().await;
    owner.close().await;
}

pub async fn team_participants_are_added_and_removed_in_the_panel(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let (_, sam_id, sam_token) = teammate(server, &tenant, "Sam Agent").await;
    let (_, tia_id, tia_token) = teammate(server, &tenant, "Tia Agent").await;
    let body = json!({"kind": "internal", "participant_ids": [sam_id], "name": "Launch plan"});
    let group = call(server, Method::POST, "/v1/chat/conversations", tenant.token(), Some(body), 201).await;
    let id = group["id"].as_i64().unwrap();
    let path = format!("/v1/chat/conversations/{id}");
    call(server, Method::GET, &path, &tia_token, None, 404).await;

    let owner = browser("participants").await;
    owner.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    owner.client.goto(&format!("{}/app/conversations/{id}", server.url)).await.unwrap();
    owner.wait_until("return document.querySelectorAll('.participants li[data-participant]').length === 2;", WAIT).await;
    assert_eq!(owner.eval("return document.querySelector('.conversation-head h1').innerText.includes('Launch plan');").await, true);
    assert_eq!(owner.eval("return document.querySelector('#visitor-panel dl') === null;").await, true, "no visitor details");

    owner.element(&format!(".participants select[name=add-participant] option[value=\"{tia_id}\"]"), WAIT).await.click().await.unwrap();
    owner.button("Add", WAIT).await.click().await.unwrap();
    owner.wait_until(&format!("return document.querySelector('.participants li[data-participant=\"{tia_id}\"]') !== null;"), WAIT).await;
    call(server, Method::GET, &path, &tia_token, None, 200).await;

    owner.element(&format!(".participants li[data-participant=\"{sam_id}\"] button"), WAIT).await.click().await.unwrap();
    owner.wait_until(&format!("return document.querySelector('.participants li[data-participant=\"{sam_id}\"]') === null;"), WAIT).await;
    call(server, Method::GET, &path, &sam_token, None, 404).await;
    owner.screenshot(&shots().join("participants.png")).await;

    // A change made elsewhere shows live.
    call(server, Method::POST, &format!("{path}/participants"), &tia_token, Some(json!({"user_ids": [sam_id]})), 200).await;
    owner.wait_until(&format!("return document.querySelector('.participants li[data-participant=\"{sam_id}\"]') !== null;"), WAIT).await;
    owner.close().await;
}

pub async fn team_edit_and_reactions_reach_the_visitor_and_a_message_is_forwarded(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let (_, sam_id, _) = teammate(server, &tenant, "Sam Agent").await;
    let dm = call(
        server,
        Method::POST,
        "/v1/chat/conversations",
        tenant.token(),
        Some(json!({"kind": "internal", "participant_ids": [sam_id]})),
        201,
    )
    .await;
    let dm = dm["id"].as_i64().unwrap();
    let operator = browser("edit-operator").await;
    operator.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    let visitor = browser("edit-visitor").await;
    let id = visitor_conversation(server, &tenant, &operator, &visitor, "When are you open?").await;

    reply(&operator, "We are open 9 to 5").await;
    visitor
        .wait_until(&in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('9 to 5'))"), WAIT)
        .await;
    let mine = "article.msg.operator[data-role=operator]";
    operator.element(&format!("{mine} .msg-actions"), WAIT).await;
    let edit = operator
        .client
        .find(fantoccini::Locator::XPath("//article[contains(@class,'operator')]//button[normalize-space(.)='Edit']"))
        .await
        .unwrap();
    edit.click().await.unwrap();
    let box_ = operator.element(&format!("{mine} textarea.edit-box"), WAIT).await;
    assert_eq!(
        operator.eval("return document.activeElement?.classList.contains('edit-box') === true;").await,
        true,
        "the editor has focus"
    );
    // Esc cancels.
    box_.send_keys("\u{E00C}").await.unwrap();
    operator.wait_until(&format!("return document.querySelector('{mine} textarea.edit-box') === null;"), WAIT).await;
    edit.click().await.unwrap();
    let box_ = operator.element(&format!("{mine} textarea.edit-box"), WAIT).await;
    box_.clear().await.unwrap();
    box_.send_keys("We are open 9 to 6\u{E007}").await.unwrap();
    operator.wait_until(&format!("return document.querySelector('{mine}')?.dataset.edited === 'true';"), WAIT).await;
    operator
        .wait_until(
            &format!(
                "const m = document.querySelector('{mine}'); return m.innerText.includes('9 to 6') && m.querySelector('.edited') !== null;"
            ),
            WAIT,
        )
        .await;
    // The visitor's open widget updates in place and says "edited".
    visitor
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('9 to 6') && m.innerText.includes('edited') && !m.innerText.includes('9 to 5'))"),
            WAIT,
        )
        .await;
    visitor.screenshot(&shots().join("widget-edited.png")).await;

    // React: a chip with its count, pressed for me; again takes it back.
    operator.element(&format!("{mine} button[data-quick='👍']"), WAIT).await.click().await.unwrap();
    let chip = format!("{mine} .chip[data-emoji='👍']");
    operator
        .wait_until(&format!("const c = document.querySelector(\"{chip}\"); return c !== null && c.getAttribute('aria-pressed') === 'true' && c.innerText.includes('1');"), WAIT)
        .await;
    operator.screenshot(&shots().join("reaction.png")).await;
    let messages = call(server, Method::GET, &format!("/v1/chat/conversations/{id}/messages"), tenant.token(), None, 200).await;
    let reacted =
        messages["messages"].as_array().unwrap().iter().find(|m| m["content"] == "We are open 9 to 6").expect("the edited message").clone();
    assert_eq!(reacted["reactions"], json!([{"emoji": "👍", "count": 1, "mine": true}]));
    operator.element(&chip, WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return document.querySelector(\"{chip}\") === null;"), WAIT).await;

    // Forward it to the DM.
    let forward = operator
        .client
        .find(fantoccini::Locator::XPath("//article[contains(@class,'operator')]//button[normalize-space(.)='Forward']"))
        .await
        .unwrap();
    forward.click().await.unwrap();
    operator.element(&format!("[data-form=forward] [data-conversation=\"{dm}\"] input"), WAIT).await.click().await.unwrap();
    operator.element("[data-form=forward] button[type=submit]", WAIT).await.click().await.unwrap();
    operator.wait_until("return document.querySelector('.ok')?.innerText.includes('Forwarded to 1 conversation') === true;", WAIT).await;
    let copied = call(server, Method::GET, &format!("/v1/chat/conversations/{dm}/messages"), tenant.token(), None, 200).await;
    let copy = copied["messages"].as_array().unwrap().last().expect("the forwarded copy").clone();
    assert_eq!(copy["content"], "We are open 9 to 6");
    assert_eq!(copy["forwarded_from"]["conversation_id"], id);
    operator.client.goto(&format!("{}/app/conversations/{dm}", server.url)).await.unwrap();
    operator
        .wait_until("return Array.from(document.querySelectorAll('article.msg .forwarded')).some(f => f.innerText === 'Forwarded');", WAIT)
        .await;
    visitor.close().await;
    operator.close().await;
}

pub async fn team_search_opens_the_conversation_at_the_message_and_html_stays_text(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let word: String = format!("zebra{}", unique("w")).chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    let body = json!({"kind": "visitor", "site_id": tenant.site.id, "email": format!("{}@example.com", unique("ann")), "name": "Ann",
        "content": format!("Read our <b>refund</b> policy, code {word}")});
    let created = call(server, Method::POST, "/v1/chat/conversations", tenant.token(), Some(body), 201).await;
    let id = created["id"].as_i64().unwrap();
    // Enough newer messages that the hit is not on the newest page.
    for n in 0..52 {
        let body = json!({"conversation_id": id, "content": format!("Follow-up number {n}")});
        call(server, Method::POST, "/v1/chat/messages/send", tenant.token(), Some(body), 201).await;
    }
    let operator = browser("search").await;
    operator.console_sign_in(&server.url, tenant.email(), PASSWORD).await;

    // A bad query: the API's words.
    let search = operator.element("#message-search", WAIT).await;
    search.send_keys("\"zebra\u{E007}").await.unwrap();
    operator.wait_until("return (document.querySelector('.search-results .error')?.innerText.length ?? 0) > 0;", WAIT).await;

    search.clear().await.unwrap();
    search.send_keys(&format!("{word}\u{E007}")).await.unwrap();
    operator.wait_until("return document.querySelector('.search-results li.result') !== null;", WAIT).await;
    let result = "document.querySelector('.search-results li.result')";
    assert_eq!(operator.eval(&format!("return {result}.dataset.conversation;")).await, id.to_string());
    assert_eq!(operator.eval(&format!("return {result}.querySelector('.snippet mark')?.textContent;")).await, word.as_str());
    assert_eq!(operator.eval(&format!("return {result}.querySelector('.snippet').textContent.includes('<b>refund</b>');")).await, true);
    assert_eq!(operator.eval(&format!("return {result}.querySelectorAll('.snippet b').length;")).await, 0, "message text is never HTML");
    operator.screenshot(&shots().join("search.png")).await;
    let message_id = operator.eval(&format!("return {result}.dataset.message;")).await;
    let message_id = message_id.as_str().unwrap().to_string();
    operator.element(".search-results li.result a", WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return location.search === '?message={message_id}';"), WAIT).await;
    let target = format!("document.querySelector('article.msg.target[data-message=\"{message_id}\"]')");
    operator.wait_until(&format!("return {target} !== null;"), WAIT).await;
    operator
        .wait_until(
            &format!("const m = {target}.getBoundingClientRect(), l = document.querySelector('.messages').getBoundingClientRect(); return m.top >= l.top - 1 && m.bottom <= l.bottom + 1;"),
            WAIT,
        )
        .await;
    assert_eq!(operator.eval(&format!("return {target}.innerText.includes('<b>refund</b>');")).await, true);
    operator.screenshot(&shots().join("search-opened.png")).await;
    operator.close().await;
}

pub async fn team_mute_and_archive_behave_and_a_visitor_message_brings_it_back(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let operator = browser("archive-operator").await;
    operator.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    let visitor = browser("archive-visitor").await;
    let id = visitor_conversation(server, &tenant, &operator, &visitor, "Is my order shipped?").await;
    let row = format!("li.row[data-conversation=\"{id}\"]");

    // The toolbar is busy while the take-over above is in flight: a disabled button ignores the click.
    operator
        .wait_until("return [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Mute' && !b.disabled);", WAIT)
        .await;
    operator.button("Mute", WAIT).await.click().await.unwrap();
    operator.button("Unmute", WAIT).await;
    operator
        .wait_until(
            &format!(
                "return document.querySelector('{row}')?.dataset.muted === 'true' && document.querySelector('{row} .muted-icon') !== null;"
            ),
            WAIT,
        )
        .await;
    assert_eq!(call(server, Method::GET, &format!("/v1/chat/conversations/{id}"), tenant.token(), None, 200).await["muted"], true);

    operator.button("Archive", WAIT).await.click().await.unwrap();
    operator.button("Unarchive", WAIT).await;
    operator.wait_until(&format!("return document.querySelector('{row}') === null;"), WAIT).await;
    operator.element(".filters input[name=archived]", WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return document.querySelector('{row}')?.dataset.archived === 'true';"), WAIT).await;
    operator.screenshot(&shots().join("archived.png")).await;
    operator.element(".filters input[name=archived]", WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return document.querySelector('{row}') === null;"), WAIT).await;

    // A new visitor message brings it back to the default list, live.
    visitor.widget_element(".ec-composer .ec-input", WAIT).await.send_keys("Hello again?").await.unwrap();
    visitor.widget_element(".ec-composer .ec-send", WAIT).await.click().await.unwrap();
    message_shows(&operator, "Hello again?").await;
    operator.wait_until(&format!("return document.querySelector('{row}')?.dataset.archived === 'false';"), WAIT).await;

    // The team filter leaves visitor conversations out.
    operator.element(".filters select[name=kind] option[value=internal]", WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return document.querySelector('{row}') === null;"), WAIT).await;
    visitor.close().await;
    operator.close().await;
}

/// Puts a file named `name` of type `declared` with the base64 `bytes` in the composer's file input.
fn choose_file_js(name: &str, declared: &str, base64: &str) -> String {
    format!(
        "const input = document.querySelector('.composer input.file'); \
         const bytes = Uint8Array.from(atob('{base64}'), c => c.charCodeAt(0)); const dt = new DataTransfer(); \
         dt.items.add(new File([bytes], '{name}', {{ type: '{declared}' }})); input.files = dt.files; \
         input.dispatchEvent(new Event('change', {{ bubbles: true }})); return true;"
    )
}

pub async fn team_an_attached_image_shows_in_console_and_widget_and_a_refused_file_says_why(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let operator = browser("attach-operator").await;
    operator.console_sign_in(&server.url, tenant.email(), PASSWORD).await;
    let visitor = browser("attach-visitor").await;
    visitor_conversation(server, &tenant, &operator, &visitor, "My screen shows an error").await;
    let attach = operator.client.find(fantoccini::Locator::Css("button[aria-label='Attach a file']")).await.expect("an attach button");
    assert_eq!(attach.text().await.unwrap(), "📎");

    // An HTML page named like an image is refused with the API's words.
    let html = "PCFkb2N0eXBlIGh0bWw+PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==";
    operator.eval(&choose_file_js("evil.png", "image/png", html)).await;
    operator.wait_until("return (document.querySelector('.conversation > .error')?.innerText.length ?? 0) > 0;", WAIT).await;
    assert_eq!(operator.eval("return document.querySelector('article.msg.operator img') === null;").await, true);

    operator.element("textarea#reply", WAIT).await.send_keys("Like this one?").await.unwrap();
    operator.eval(&choose_file_js("screen.png", "image/png", PNG_BASE64)).await;
    operator
        .wait_until(
            "return Array.from(document.querySelectorAll('article.msg.operator img')).some(i => i.complete && i.naturalWidth === 1);",
            WAIT,
        )
        .await;
    message_shows(&operator, "Like this one?").await;
    visitor
        .wait_until(
            &in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-operator img')).some(i => i.complete && i.naturalWidth === 1)"),
            WAIT,
        )
        .await;
    operator.screenshot(&shots().join("attachment.png")).await;
    visitor.screenshot(&shots().join("widget-attachment.png")).await;
    visitor.close().await;
    operator.close().await;
}
