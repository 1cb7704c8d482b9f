//! Headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromedriver`, TOOLCHAIN.md), for browser tests of the widget and the
//! operator console, and a site owner's page ([`site_page`]) that embeds
//! the widget of any site key the way the README says.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A chromedriver process and a WebDriver session on it; both end on drop.
pub struct Browser {
    driver: Child,
    /// The WebDriver session.
    pub client: Client,
}

/// Chromium flags for this closed machine (TOOLCHAIN.md, "Browsers").
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--window-size=1280,900",
];

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium session
    /// with a fresh profile in `profile_dir`.
    pub async fn start(profile_dir: &std::path::Path) -> Browser {
        let port = xtask::wrangler::free_port().expect("a free port");
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (cargo xtask test installs it)");
        let _ = std::fs::remove_dir_all(profile_dir);
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile_dir.display()));
        let capabilities = json!({
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args }
        });
        let capabilities = capabilities.as_object().unwrap().clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities.clone());
            match builder.connect(&format!("http://127.0.0.1:{port}")).await {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => panic!("no WebDriver session: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        Browser { driver, client }
    }

    /// The shadow-DOM element matching `css` inside the widget's host
    /// (`<edgechat-root>`), waiting up to `timeout` for it to appear.
    pub async fn widget_element(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(host) = self.client.find(Locator::Css("edgechat-root")).await {
                if let Ok(root) = host.shadow_root().await {
                    if let Ok(element) = root.find(Locator::Css(css)).await {
                        return element;
                    }
                }
            }
            assert!(Instant::now() < deadline, "widget element {css} did not appear within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page element matching `css`, waiting up to `timeout` for it to appear.
    pub async fn element(&self, css: &str, timeout: Duration) -> Element {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            assert!(Instant::now() < deadline, "element {css} did not appear within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The button (or link) whose text is `text`, waiting up to `timeout`.
    pub async fn button(&self, text: &str, timeout: Duration) -> Element {
        let xpath = format!("//*[self::button or self::a][normalize-space(.)={text:?}]");
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(element) = self.client.find(Locator::XPath(&xpath)).await {
                return element;
            }
            assert!(Instant::now() < deadline, "no button {text:?} within {timeout:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens the operator console of the worker at `base` and signs in through
    /// its form; returns once the inbox shows and its live socket is open.
    pub async fn console_sign_in(&self, base: &str, email: &str, password: &str) {
        let wait = Duration::from_secs(20);
        self.client.goto(&format!("{base}/app/")).await.expect("the console loads");
        self.element(".login-card input[name=email]", wait).await.send_keys(email).await.expect("email typed");
        self.element(".login-card input[name=password]", wait).await.send_keys(password).await.expect("password typed");
        self.button("Sign in", wait).await.click().await.expect("sign in clicked");
        self.element(".nav", wait).await;
        self.wait_until("return document.querySelector('.live-dot.on') !== null;", wait).await;
    }

    /// Presses and releases `keys` one after another on the focused element,
    /// as a keyboard does (WebDriver key actions; `fantoccini::key::Key` for
    /// Tab, Enter, Escape…).
    pub async fn press(&self, keys: &[char]) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut actions = KeyActions::new("keyboard".into());
        for &key in keys {
            actions = actions.then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
        }
        self.client.perform_actions(actions).await.expect("keys pressed");
    }

    /// Types `text` into the focused element, key by key.
    pub async fn type_keys(&self, text: &str) {
        self.press(&text.chars().collect::<Vec<_>>()).await;
    }

    /// Presses Shift+`key` (e.g. Shift+Enter, Shift+Tab).
    pub async fn press_shifted(&self, key: char) {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        use fantoccini::key::Key;
        let shift: char = Key::Shift.into();
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: shift })
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key })
            .then(KeyAction::Up { value: shift });
        self.client.perform_actions(actions).await.expect("keys pressed");
    }

    /// Runs axe-core (`node_modules/axe-core/axe.min.js`, injected into the
    /// page) on the widget's host `<edgechat-root>` and its shadow root with
    /// the WCAG 2.0/2.1/2.2 A and AA rules; answers each violation as `rule
    /// (impact): help — failing nodes`.
    pub async fn axe_violations(&self) -> Vec<String> {
        let source = std::fs::read_to_string(xtask::root().join("node_modules/axe-core/axe.min.js"))
            .expect("axe-core is installed (package.json devDependencies)");
        self.eval(&format!("{source}\nreturn typeof axe;")).await;
        let run = "const done = arguments[arguments.length - 1]; \
            axe.run(document.querySelector('edgechat-root'), {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}}) \
              .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' + \
                v.nodes.map(n => JSON.stringify(n.target) + ' ' + n.failureSummary).join(' | '))), e => done(['axe failed: ' + e]));";
        let result = self.client.execute_async(run, vec![]).await.expect("axe runs");
        serde_json::from_value(result).expect("a list of violations")
    }

    /// Resizes the window to `width` × `height` CSS pixels.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("window resized");
    }

    /// Evaluates `script` (a function body) and answers its result.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("script failed ({e}): {script}"))
    }

    /// Polls `script` until it answers `true`, up to `timeout`.
    pub async fn wait_until(&self, script: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.eval(script).await != json!(true) {
            assert!(Instant::now() < deadline, "not true within {timeout:?}: {script}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(path, png).expect("screenshot written");
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

/// The URL of a site owner's page (on another origin than the worker)
/// embedding `{worker}/loader.js` with `site_key`, served by a small local
/// server started once per test binary. Add `&locale=fr` to the URL for a
/// script tag with `data-locale="fr"`.
pub async fn site_page(worker: &str, site_key: &str) -> String {
    format!("{}/site?worker={worker}&key={site_key}", site_server().await)
}

/// [`site_page`] whose own script (`/site.js`, before the loader) does what
/// the README's "JavaScript API" snippet does: installs the `EdgeChat`
/// queue before `loader.js` arrives, and queues an `on` for every event,
/// recording each in `window.ecEvents` as `{name, detail}`; with the URL
/// fragment `#open` it also queues `EdgeChat('open')`. It records Content
/// Security Policy violations in `window.cspViolations` as
/// `"<directive> <blocked URI> <sample> at <element>.<class>"`.
pub async fn api_page(worker: &str, site_key: &str) -> String {
    format!("{}/api-site?worker={worker}&key={site_key}", site_server().await)
}

/// [`api_page`] served with the strict Content Security Policy the README
/// gives site owners: scripts only from the page's origin and the worker
/// (plus wasm compilation), connections and images only to the worker,
/// styles only from the page's origin, no inline script or style.
pub async fn csp_page(worker: &str, site_key: &str) -> String {
    format!("{}/csp-site?worker={worker}&key={site_key}", site_server().await)
}

/// The page's own script of [`api_page`] and [`csp_page`].
const SITE_JS: &str = "window.ecEvents = []; window.cspViolations = [];\n\
    document.addEventListener('securitypolicyviolation', (e) => { const t = e.composedPath()[0]; \
    cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample} at ${t.nodeName || t}${t.className ? '.' + t.className : ''}`); });\n\
    window.EdgeChat = window.EdgeChat || function () { (EdgeChat.q = EdgeChat.q || []).push(arguments); };\n\
    ['ready', 'open', 'close', 'message', 'sent', 'unread'].forEach((name) => EdgeChat('on', name, (detail) => ecEvents.push({ name, detail })));\n\
    if (location.hash === '#open') EdgeChat('open');\n";

/// The base URL of the local server of the site pages, started once.
async fn site_server() -> String {
    use axum::extract::Query;
    use axum::response::{Html, IntoResponse};
    use std::collections::HashMap;
    use tokio::sync::OnceCell;
    static BASE: OnceCell<String> = OnceCell::const_new();
    type Params = Query<HashMap<String, String>>;
    /// The page embedding the worker's loader; `script` comes before it.
    fn page(q: &HashMap<String, String>, script: &str) -> String {
        let attr = |k: &str| q.get(k).map(|v| v.replace(['"', '<', '>', '&'], "")).unwrap_or_default();
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>A site with EdgeChat</title><link rel=\"icon\" href=\"data:,\"></head><body><h1>Our shop</h1>{script}\
             <script src=\"{}/loader.js\" data-site-key=\"{}\"{} async></script></body></html>",
            attr("worker"),
            attr("key"),
            q.get("locale").map(|_| format!(" data-locale=\"{}\"", attr("locale"))).unwrap_or_default()
        )
    }
    let site_js = "<script src=\"/site.js\"></script>";
    BASE.get_or_init(|| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
        let app = axum::Router::new()
            .route("/site", axum::routing::get(|Query(q): Params| async move { Html(page(&q, "")) }))
            .route("/api-site", axum::routing::get(move |Query(q): Params| async move { Html(page(&q, site_js)) }))
            .route(
                "/csp-site",
                axum::routing::get(move |Query(q): Params| async move {
                    let worker = q.get("worker").cloned().unwrap_or_default();
                    let csp = format!(
                        "script-src 'self' {worker} 'wasm-unsafe-eval'; connect-src {worker}; img-src {worker} data:; style-src 'self'"
                    );
                    ([("content-security-policy", csp)], Html(page(&q, site_js))).into_response()
                }),
            )
            .route("/site.js", axum::routing::get(|| async { ([("content-type", "text/javascript")], SITE_JS) }));
        crate::runtime().spawn(async move { axum::serve(listener, app).await.expect("the site page serves") });
        base
    })
    .await
    .clone()
}
