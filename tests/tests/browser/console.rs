//! Browser tests of the operator console (`/app/`): an operator in one
//! Chromium session, a visitor on a site owner's page in another, both
//! against the real worker. Each trial signs up its own account, so the
//! trials run in parallel without sharing a conversation, a greeting or a
//! knowledge base. Screenshots land in `target/test-runs/browser/console/`.

use std::path::PathBuf;
use std::time::Duration;

use edgechat_shared::api::auth::AccessClaims;
use edgechat_tests::browser::{site_page, Browser};
use edgechat_tests::*;

/// Screenshot sizes of issue 11: a laptop and a phone.
const DESKTOP: (u32, u32) = (1280, 800);
const PHONE: (u32, u32) = (390, 844);

const WAIT: Duration = Duration::from_secs(20);

static IPS: IpPool = IpPool::new("10.91");

fn shots() -> PathBuf {
    let dir = run_dir("browser").join("console");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// A browser with its own profile (cookies, storage) named `name`.
async fn browser(name: &str) -> Browser {
    Browser::start(&run_dir("browser").join(format!("chromium-console-{name}"))).await
}

/// Opens the console and signs in through its form.
async fn sign_in(browser: &Browser, server: &Server, email: &str, password: &str) {
    browser.console_sign_in(&server.url, email, password).await;
}

/// `return <expr>` inside the widget's shadow root `r`.
fn in_widget(expr: &str) -> String {
    format!("const r = document.querySelector('edgechat-root')?.shadowRoot; if (!r) return null; return {expr};")
}

/// The visitor opens the widget on `page` and sends `text`.
async fn visitor_asks(visitor: &Browser, page: &str, text: &str) {
    visitor.client.goto(page).await.unwrap();
    visitor.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    visitor.widget_element(".ec-composer .ec-input", WAIT).await.send_keys(text).await.unwrap();
    visitor.widget_element(".ec-send", WAIT).await.click().await.unwrap();
}

/// The id of the first conversation row of the console's list, once one shows.
async fn first_row(operator: &Browser) -> i64 {
    operator.wait_until("return document.querySelector('li.row[data-conversation]') !== null;", WAIT).await;
    let id = operator.eval("return document.querySelector('li.row[data-conversation]').dataset.conversation;").await;
    id.as_str().and_then(|s| s.parse().ok()).expect("a conversation id on the row")
}

pub async fn operator_answers_a_live_visitor_who_sees_it_and_the_operator_sees_read(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let operator = browser("operator").await;
    operator.resize(DESKTOP.0, DESKTOP.1).await;
    sign_in(&operator, server, tenant.email(), PASSWORD).await;
    let empty = operator.eval("return document.querySelectorAll('li.row').length;").await;
    assert_eq!(empty, 0, "a new account's inbox is empty");

    // The visitor asks on the site owner's page; the conversation appears without a reload.
    let visitor = browser("visitor").await;
    let page = site_page(&server.url, tenant.site_key()).await;
    let marker = operator.eval("window.__ecMarker = 1; return 1;").await;
    assert_eq!(marker, 1);
    visitor_asks(&visitor, &page, "Do you ship to Canada?").await;
    let id = first_row(&operator).await;
    assert_eq!(operator.eval("return window.__ecMarker;").await, 1, "the console did not reload");
    // Unread, with the newest message (the AI's answer) as its preview.
    operator.wait_until(&format!("return document.querySelector('li.row[data-conversation=\"{id}\"] .badge') !== null;"), WAIT).await;
    operator
        .wait_until(
            &format!(
                "return document.querySelector('li.row[data-conversation=\"{id}\"] .preview')?.innerText.startsWith('AI: ') === true;"
            ),
            WAIT,
        )
        .await;
    operator.screenshot(&shots().join("inbox-1280x800.png")).await;

    // Open it, take over, see the visitor type, reply with Enter.
    operator.element(&format!("li.row[data-conversation=\"{id}\"] a"), WAIT).await.click().await.unwrap();
    operator
        .wait_until(
            "return Array.from(document.querySelectorAll('.msg.visitor')).some(m => m.innerText.includes('Do you ship to Canada?'));",
            WAIT,
        )
        .await;
    // Reading it clears its unread badge in the list.
    operator.wait_until(&format!("return document.querySelector('li.row[data-conversation=\"{id}\"] .badge') === null;"), WAIT).await;
    operator.button("Take over", WAIT).await.click().await.unwrap();
    operator.button("Hand back to AI", WAIT).await;
    // The widget sends "typing" at most every 3 s: the visitor keeps typing until the operator sees it.
    let input = visitor.widget_element(".ec-composer .ec-input", WAIT).await;
    let deadline = std::time::Instant::now() + WAIT;
    for word in ["And", " to", " Mexico"].iter().cycle() {
        input.send_keys(word).await.unwrap();
        if operator.eval("return document.querySelector('.conversation .typing') !== null;").await == true {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the visitor's typing never showed in the console");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let reply = operator.element("textarea#reply", WAIT).await;
    reply.send_keys("Yes, we ship to Canada").await.unwrap();
    // Shift+Enter is a new line, Enter sends.
    reply.send_keys("\u{E008}\u{E007}").await.unwrap();
    reply.send_keys("in **3 days**.\u{E007}").await.unwrap();
    visitor
        .wait_until(&in_widget("Array.from(r.querySelectorAll('.ec-msg.ec-operator')).some(m => m.innerText.includes('in 3 days'))"), WAIT)
        .await;
    let bold = visitor.eval(&in_widget("r.querySelector('.ec-msg.ec-operator strong')?.innerText")).await;
    assert_eq!(bold, "3 days", "the visitor sees the operator's Markdown rendered");
    assert_eq!(operator.eval("return document.querySelector('textarea#reply').value;").await, "", "the composer empties after sending");
    let lines = operator.eval("return document.querySelector('.msg.operator .text').innerText;").await;
    assert_eq!(lines.as_str().map(|t| t.lines().count()), Some(2), "Shift+Enter made a second line: {lines}");

    // The visitor's widget is open and visible: it reads the reply, and the operator sees "read".
    operator.wait_until("return document.querySelector('.msg.operator .status[data-status=\"read\"]') !== null;", WAIT).await;
    operator.screenshot(&shots().join("conversation-1280x800.png")).await;

    // Phone size: the list and the conversation are two screens.
    operator.resize(PHONE.0, PHONE.1).await;
    operator.wait_until("return getComputedStyle(document.querySelector('.list')).display === 'none';", WAIT).await;
    operator.screenshot(&shots().join("conversation-390x844.png")).await;
    operator.element("a.back", WAIT).await.click().await.unwrap();
    operator.wait_until("return getComputedStyle(document.querySelector('.list')).display !== 'none';", WAIT).await;
    operator.screenshot(&shots().join("inbox-390x844.png")).await;
    visitor.close().await;
    operator.close().await;
}

/// The `ec_refresh` cookie the browser holds for the worker, if any.
/// WebDriver lists only the cookies the current page would send, and this
/// one is scoped to `/auth`: the browser goes to `/auth/me` to look (the
/// caller navigates on from there).
async fn refresh_cookie(browser: &Browser, server: &Server) -> Option<fantoccini::cookies::Cookie<'static>> {
    browser.client.goto(&format!("{}/auth/me", server.url)).await.expect("GET /auth/me");
    browser.client.get_all_cookies().await.expect("cookies").into_iter().find(|c| c.name() == "ec_refresh")
}

pub async fn session_survives_a_reload_refreshes_an_expired_token_and_ends_on_logout(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let operator = browser("session").await;
    sign_in(&operator, server, tenant.email(), PASSWORD).await;

    // The refresh token is a cookie scripts cannot read, sent only to /auth, only same-site.
    assert_eq!(operator.eval("return document.cookie.includes('ec_refresh');").await, false, "scripts cannot read it");
    let cookie = refresh_cookie(&operator, server).await.expect("an ec_refresh cookie after login");
    assert_eq!(cookie.http_only(), Some(true), "HttpOnly");
    assert_eq!(format!("{:?}", cookie.same_site()), "Some(Strict)", "SameSite=Strict");
    assert_eq!(cookie.secure(), Some(true), "Secure");
    assert_eq!(cookie.path(), Some("/auth"), "scoped to /auth");
    operator.client.goto(&format!("{}/app/", server.url)).await.unwrap();
    operator.element(".nav", WAIT).await;
    let stored = operator.eval("return JSON.stringify(Object.assign({}, localStorage, sessionStorage));").await;
    let stored = stored.as_str().unwrap_or_default().to_string();
    assert!(!stored.contains("eyJ") && !stored.contains(cookie.value()), "no token in web storage: {stored}");

    // A reload stays signed in (the cookie is exchanged for a new access token).
    operator.client.refresh().await.unwrap();
    operator.element(".nav", WAIT).await;
    assert_eq!(operator.eval("return document.querySelector('.login-card') === null;").await, true);

    // A cross-origin POST to the refresh route, carrying the cookie (same site,
    // another port), is refused: the cookie is not rotated.
    let before = refresh_cookie(&operator, server).await.expect("cookie").value().to_string();
    let evil = site_page(&server.url, "sk_none").await;
    operator.client.goto(&evil).await.unwrap();
    let outcome = operator
        .eval(&format!(
            "return fetch('{}/auth/refresh', {{method: 'POST', credentials: 'include', mode: 'no-cors', body: '{{}}'}}).then(() => 'sent', e => String(e));",
            server.url
        ))
        .await;
    assert_eq!(outcome, "sent");
    let after_evil = refresh_cookie(&operator, server).await.expect("cookie").value().to_string();
    assert_eq!(after_evil, before, "the cross-origin refresh rotated nothing");
    operator.client.goto(&format!("{}/app/", server.url)).await.unwrap();
    operator.element(".nav", WAIT).await;

    // An expired access token: the next call gets 401, the console refreshes
    // silently and sends it again; the person notices nothing.
    let key = jsonwebtoken::DecodingKey::from_secret(JWT_SECRET.as_bytes());
    let mut claims =
        jsonwebtoken::decode::<AccessClaims>(tenant.token(), &key, &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256))
            .expect("the signup token")
            .claims;
    (claims.iat, claims.exp) = (now() - 7200, now() - 3600);
    let expired =
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()))
            .expect("JWT");
    operator
        .eval(&format!(
            "window.__ec = {{ swapped: 0, status: 0, refreshed: 0 }}; const original = window.fetch;
             window.fetch = async (input, init) => {{
               let request = new Request(input, init);
               if (request.url.includes('/auth/refresh')) window.__ec.refreshed++;
               if (window.__ec.swapped === 0 && request.headers.get('Authorization')) {{
                 const headers = new Headers(request.headers); headers.set('Authorization', 'Bearer {expired}');
                 window.__ec.swapped = 1; request = new Request(request, {{ headers }});
                 const response = await original(request); window.__ec.status = response.status; return response;
               }}
               return original(request);
             }}; return true;"
        ))
        .await;
    operator.button("Settings", WAIT).await.click().await.unwrap();
    operator.button("Team", WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return document.body.innerText.includes({:?});", tenant.email()), WAIT).await;
    let seen = operator.eval("return window.__ec;").await;
    assert_eq!(seen["swapped"], 1, "{seen}");
    assert_eq!(seen["status"], 401, "the expired token was refused: {seen}");
    assert_eq!(seen["refreshed"], 1, "one silent refresh: {seen}");
    assert_eq!(operator.eval("return document.querySelector('.login-card') === null;").await, true);

    // Logout clears the cookie; a reload shows the login.
    operator.button("Log out", WAIT).await.click().await.unwrap();
    operator.element(".login-card", WAIT).await;
    assert!(refresh_cookie(&operator, server).await.is_none_or(|c| c.value().is_empty()), "the cookie is cleared");
    operator.client.goto(&format!("{}/app/", server.url)).await.unwrap();
    operator.element(".login-card", WAIT).await;
    let stale =
        server.http.post(format!("{}/auth/refresh", server.url)).json(&serde_json::json!({"refresh_token": before})).send().await.unwrap();
    assert_eq!(stale.status(), 401, "the logged-out refresh token is dead");
    operator.close().await;
}

/// The console's `button` whose text starts with `text` inside the element matching `css`.
async fn button_in(browser: &Browser, css_id: &str, text: &str) -> fantoccini::elements::Element {
    let xpath = format!("//*[@data-id={css_id:?}]//button[starts-with(normalize-space(.), {text:?})]");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(element) = browser.client.find(fantoccini::Locator::XPath(&xpath)).await {
            return element;
        }
        assert!(std::time::Instant::now() < deadline, "no {text:?} button in row {css_id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Picks `file` in the console's `<input type=file>` matching `css`.
async fn pick_file(browser: &Browser, css: &str, file: &std::path::Path) {
    browser.element(css, WAIT).await.send_keys(&file.display().to_string()).await.unwrap();
}

pub async fn knowledge_base_imported_in_the_console_answers_visitors_and_a_bad_line_imports_nothing(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let operator = browser("kb").await;
    operator.resize(DESKTOP.0, DESKTOP.1).await;
    sign_in(&operator, server, tenant.email(), PASSWORD).await;
    operator.client.goto(&format!("{}/app/settings/kb", server.url)).await.unwrap();
    operator.element(".login-card, .nav", WAIT).await;

    let dir = run_dir("browser").join("console");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join(format!("{}.jsonl", unique("kb-good")));
    std::fs::write(
        &good,
        "{\"id\":\"flux\",\"title\":\"Reset the flux capacitor\",\"body\":\"To reset the flux capacitor, hold the chronometer dial for ten seconds until it blinks green.\"}\n\
         {\"id\":\"warp\",\"title\":\"Warp drive warranty\",\"body\":\"The warp drive warranty lasts forty-two months from delivery.\"}\n",
    )
    .unwrap();
    pick_file(&operator, "[data-form=article-import] input[type=file]", &good).await;
    operator.element("[data-form=article-import] button[type=submit]", WAIT).await.click().await.unwrap();
    operator.wait_until("return document.querySelector('.import-result')?.dataset.imported === '2';", WAIT).await;
    operator.wait_until("return document.querySelectorAll('.article[data-id]').length === 2;", WAIT).await;
    operator.screenshot(&shots().join("knowledge-base-1280x800.png")).await;
    operator.resize(PHONE.0, PHONE.1).await;
    operator.screenshot(&shots().join("knowledge-base-390x844.png")).await;
    operator.resize(DESKTOP.0, DESKTOP.1).await;

    // The widget's next answer comes from the imported article.
    let answer = server.stream(&visitor_request(tenant.site_key(), &new_session_id(), "How do I reset the flux capacitor?")).await;
    assert!(answer.answer().contains("chronometer dial"), "answered from the import: {}", answer.answer());
    assert_eq!(answer.done().sources.first().map(|s| s.id.as_str()), Some("flux"));

    // A file with a bad second line: the console names the line, and nothing is imported.
    let bad = dir.join(format!("{}.jsonl", unique("kb-bad")));
    std::fs::write(
        &bad,
        "{\"id\":\"ok\",\"title\":\"Fine article\",\"body\":\"This one is fine on its own.\"}\n{\"id\": \"broken\", \"title\": \n\
         {\"id\":\"late\",\"title\":\"Late\",\"body\":\"Never stored.\"}\n",
    )
    .unwrap();
    pick_file(&operator, "[data-form=article-import] input[type=file]", &bad).await;
    operator.element("[data-form=article-import] button[type=submit]", WAIT).await.click().await.unwrap();
    operator
        .wait_until("return document.querySelector('[data-form=article-import] .error')?.innerText.includes('line 2') === true;", WAIT)
        .await;
    let articles: serde_json::Value =
        json_of(get(server, &format!("/v1/sites/{}/articles", tenant.site.id), tenant.token()).await, 200).await;
    let ids: Vec<&str> = articles["articles"].as_array().unwrap().iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids.len(), 2, "nothing of the bad file was stored: {ids:?}");
    assert!(!ids.contains(&"ok"), "{ids:?}");
    operator.close().await;
}

pub async fn a_greeting_edited_in_the_console_shows_in_the_widget_after_a_reload(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let visitor = browser("greeting-visitor").await;
    let page = site_page(&server.url, tenant.site_key()).await;
    visitor.client.goto(&page).await.unwrap();
    visitor.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    visitor.wait_until(&in_widget("r.querySelector('.ec-greeting') !== null"), WAIT).await;
    let greeting = "Ahoy! Ask us anything about your order.";
    let before = visitor.eval(&in_widget("r.querySelector('.ec-greeting').innerText")).await;
    assert!(!before.as_str().unwrap_or_default().contains(greeting), "{before}");

    let operator = browser("greeting-operator").await;
    sign_in(&operator, server, tenant.email(), PASSWORD).await;
    operator.client.goto(&format!("{}/app/settings/sites", server.url)).await.unwrap();
    button_in(&operator, &tenant.site.id.to_string(), "Edit").await.click().await.unwrap();
    let field = operator.element("[data-form=site-edit] textarea[name=greeting]", WAIT).await;
    field.clear().await.unwrap();
    field.send_keys(greeting).await.unwrap();
    operator.element("[data-form=site-edit] button[type=submit]", WAIT).await.click().await.unwrap();
    operator
        .wait_until(
            &format!("return document.querySelector('[data-id=\"{}\"] .greeting')?.innerText === {greeting:?};", tenant.site.id),
            WAIT,
        )
        .await;

    visitor.client.refresh().await.unwrap();
    visitor.widget_element(".ec-launcher", WAIT).await.click().await.unwrap();
    visitor.wait_until(&in_widget(&format!("r.querySelector('.ec-greeting')?.innerText.includes({greeting:?}) === true")), WAIT).await;
    visitor.close().await;
    operator.close().await;
}

pub async fn an_agent_invited_in_the_console_signs_in_but_cannot_change_sites(server: &Server) {
    let tenant = signup(server, &IPS).await;
    let operator = browser("team").await;
    sign_in(&operator, server, tenant.email(), PASSWORD).await;
    operator.client.goto(&format!("{}/app/settings/team", server.url)).await.unwrap();
    let email = format!("{}@example.com", unique("agent"));
    let form = "[data-form=operator-invite]";
    operator.element(&format!("{form} input[name=email]"), WAIT).await.send_keys(&email).await.unwrap();
    operator.element(&format!("{form} input[name=display_name]"), WAIT).await.send_keys("Alex Agent").await.unwrap();
    operator.element(&format!("{form} select[name=role] option[value=agent]"), WAIT).await.click().await.unwrap();
    operator.element(&format!("{form} input[name=password]"), WAIT).await.send_keys(PASSWORD).await.unwrap();
    operator.element(&format!("{form} button[type=submit]"), WAIT).await.click().await.unwrap();
    operator.wait_until(&format!("return document.body.innerText.includes({email:?});"), WAIT).await;

    // The last owner cannot be demoted: the API's refusal shows in words.
    let owner_row = tenant.id().to_string();
    let role = operator.element(&format!("[data-id=\"{owner_row}\"] select[name=role] option[value=agent]"), WAIT).await;
    role.click().await.unwrap();
    operator
        .element(&format!("[data-id=\"{owner_row}\"] [data-form=operator-role] button[type=submit]"), WAIT)
        .await
        .click()
        .await
        .unwrap();
    operator
        .wait_until(
            &format!("return document.querySelector('[data-id=\"{owner_row}\"] .error, .settings .error')?.innerText.length > 0;"),
            WAIT,
        )
        .await;

    operator.button("Log out", WAIT).await.click().await.unwrap();
    operator.element(".login-card", WAIT).await;
    sign_in(&operator, server, &email, PASSWORD).await;
    operator.client.goto(&format!("{}/app/settings/sites", server.url)).await.unwrap();
    operator.wait_until(&format!("return document.querySelector('[data-id=\"{}\"]') !== null;", tenant.site.id), WAIT).await;
    let controls = operator
        .eval("return Array.from(document.querySelectorAll('.settings button')).map(b => b.innerText.trim()).filter(t => /^(Edit|Delete|New site|Rotate)/.test(t));")
        .await;
    assert_eq!(controls, serde_json::json!([]), "an agent sees sites read-only");
    assert_eq!(operator.eval("return document.querySelector('[data-form=site-edit], [data-form=site-create]') === null;").await, true);
    operator.close().await;
}
