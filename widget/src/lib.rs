//! `edgechat-widget`: the chat panel, compiled to wasm. Its DOM is written
//! by hand on Leptos's reactive graph (`dom.rs`, for the 100 KB budget); the
//! signed-in users' panel (feature `app`, a second build) uses Leptos views.
//!
//! `loader.js` imports this module when the panel first opens and calls
//! [`mount`] with its open Shadow DOM root, so host-page CSS cannot reach
//! the panel and the panel's CSS cannot leak out; events and closing go back
//! to the page through [`host`].

mod api;
#[cfg(feature = "app")]
mod app;
mod components;
mod dom;
pub mod host;
mod i18n;
mod live;
mod session;
mod upload;
mod wire;

use std::cell::RefCell;

use edgechat_shared::api::visitor::IdentityQuery;
#[cfg(feature = "app")]
use leptos::prelude::*;
use reactive_graph::owner::Owner;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, HtmlElement, ShadowRoot};

/// The widget's stylesheet (`widget/style.css`, minified by `cargo xtask
/// build`: `EDGECHAT_WIDGET_CSS` in `.cargo/config.toml`), adopted by the
/// shadow root.
const STYLE: &str = include_str!(env!("EDGECHAT_WIDGET_CSS"));

/// A command of the host page, `EdgeChat(name, …)`.
#[derive(Debug, Clone, PartialEq)]
enum Command {
    /// `EdgeChat('identify', {user_id, email, name, user_hash})`: the page's logged-in user.
    Identify(IdentityQuery),
    /// `EdgeChat('reset')`: the user logged out; start a fresh session.
    Reset,
    /// `EdgeChat('login', {token})`: the identity JWT the page's backend
    /// minted (seed 003); the widget shows the user's requests.
    Login(String),
    /// `EdgeChat('logout')`: ends the app session; back to the anonymous widget.
    Logout,
    /// `EdgeChat('setLocale', 'fr')`: the widget's language (`en`, `fr`,
    /// `de`, `es`, `ar`; a region such as `fr-CA` counts as its language).
    SetLocale(String),
}

impl Command {
    /// The command of one queued call (the `arguments` of an `EdgeChat(…)` call).
    fn parse(call: &JsValue) -> Option<Command> {
        let call = js_sys::Array::from(call);
        match call.get(0).as_string()?.as_str() {
            "identify" => Some(Command::Identify(identity_of(&call.get(1)))),
            "reset" => Some(Command::Reset),
            "login" => {
                let token = js_sys::Reflect::get(&call.get(1), &JsValue::from_str("token")).ok()?.as_string()?;
                Some(Command::Login(token))
            }
            "logout" => Some(Command::Logout),
            "setLocale" => Some(Command::SetLocale(call.get(1).as_string()?)),
            _ => None,
        }
    }
}

/// The identity fields of an `identify` object; a numeric `user_id` is taken as its decimal text.
fn identity_of(value: &JsValue) -> IdentityQuery {
    let field = |name: &str| {
        let v = js_sys::Reflect::get(value, &JsValue::from_str(name)).ok()?;
        // A number is written by JavaScript (`String(n)`), not by Rust's float formatting.
        v.as_string().or_else(|| js_sys::Number::from(v.as_f64()?).to_string_with_radix(10).ok().map(String::from))
    };
    IdentityQuery { user_id: field("user_id"), user_hash: field("user_hash"), email: field("email"), name: field("name") }
}

/// The mounted panel: where it lives and who it talks as.
struct Mounted {
    container: HtmlElement,
    api: api::Api,
    /// The identity JWT of `EdgeChat('login', …)` while the user is signed in.
    login: Option<String>,
    /// The drawn chat panel's DOM owner (effects, listeners), if any.
    view: Option<Owner>,
}

thread_local! {
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
}

impl Mounted {
    /// Applies a command; `true` when the panel must start over (another
    /// user, or none: the stored session was reset).
    fn apply(&mut self, command: Command) -> bool {
        let before = self.api.identity.user_id.clone();
        let reset = command == Command::Reset;
        match command {
            Command::Login(token) => {
                #[cfg(feature = "app")]
                app::sign_out();
                self.login = Some(token);
                return true;
            }
            Command::Logout => {
                #[cfg(feature = "app")]
                app::sign_out();
                return self.login.take().is_some();
            }
            Command::SetLocale(code) => {
                i18n::set_locale(&code);
                return false;
            }
            Command::Identify(identity) => self.api.identity = identity,
            Command::Reset => {
                self.api.identity = IdentityQuery::default();
                session::reset(&self.api.site_key);
            }
        }
        session::follow_identity(&self.api.site_key, self.api.identity.user_id.as_deref());
        reset || before != self.api.identity.user_id
    }

    /// (Re)draws the panel for the current identity and session.
    fn draw(&mut self) {
        if let Some(view) = self.view.take() {
            view.cleanup();
        }
        live::close();
        self.container.set_text_content(None);
        let (api, panel) = (self.api.clone(), self.container.clone());
        if let Some(jwt) = self.login.clone() {
            // The signed-in user's requests live in the `app` build, a second
            // module the loader imports on the first `login` (issue 15:
            // 35 KB gzip that anonymous visitors never download).
            #[cfg(feature = "app")]
            leptos::mount::mount_to(self.container.clone(), move || {
                view! { <components::requests::RequestsPanel api=api.clone() jwt=jwt.clone() panel=panel.clone() /> }
            })
            .forget();
            #[cfg(not(feature = "app"))]
            {
                let _ = jwt;
                host::upgrade();
            }
            return;
        }
        // The panel's state (signals) belongs to `state`, kept for the page's
        // life: the last panel's tasks (a streaming answer, a pending
        // upload) may still write to or read its signals after a redraw, and
        // a disposed signal read is a trap. Its DOM's effects and listeners
        // belong to `view`, cleaned up on the next draw.
        let state = Owner::new();
        let view = state.child();
        state.with(|| components::chat::chat_panel(panel, api, &view));
        self.view = Some(view);
        std::mem::forget(state);
    }
}

/// Mounts the chat panel into `container` (an element inside `shadow_root`).
///
/// - `site_key`: the site's public key from the script tag's `data-site-key`.
/// - `api_base`: origin of the EdgeChat worker, e.g. `https://chat.example.com`.
/// - `commands`: the loader's array of the page's widget commands so far
///   (the `arguments` of each `EdgeChat('identify' | 'reset' | 'login' |
///   'logout' | 'setLocale', …)` call): applied in order, then the array's
///   `push` is taken over so that later calls apply at once (a reset or
///   another user redraws the panel on a fresh session; `login` draws the
///   signed-in user's requests, `logout` the anonymous chat again,
///   `setLocale` switches its texts at once).
/// - `host`: the loader's `{emit(name, detail), close(), locale}`, kept for
///   [`host`]'s functions.
///
/// Errors: a JavaScript exception when the stylesheet cannot be adopted.
#[wasm_bindgen]
pub fn mount(
    shadow_root: ShadowRoot,
    container: HtmlElement,
    site_key: String,
    api_base: String,
    commands: JsValue,
    host: host::Host,
) -> Result<(), JsValue> {
    host::set(host);
    // Effects run as tasks on the browser's microtask queue.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let sheet = CssStyleSheet::new()?;
    sheet.replace_sync(STYLE)?;
    // The loader's sheet stays first; a module mounted before this one (the
    // anonymous build, before `login`) leaves its sheets, which go.
    let sheets = shadow_root.adopted_style_sheets();
    sheets.set_length(1);
    sheets.push(&sheet);
    shadow_root.set_adopted_style_sheets(&sheets);
    i18n::start(i18n::initial(host::locale()));
    let mut mounted =
        Mounted { container, api: api::Api { base: api_base, site_key, identity: IdentityQuery::default() }, login: None, view: None };
    let queue = js_sys::Array::from(&commands);
    for call in queue.iter() {
        if let Some(command) = Command::parse(&call) {
            mounted.apply(command);
        }
    }
    session::follow_identity(&mounted.api.site_key, mounted.api.identity.user_id.as_deref());
    mounted.draw();
    MOUNTED.with_borrow_mut(|m| *m = Some(mounted));
    let push = Closure::<dyn Fn(JsValue)>::new(|call: JsValue| {
        let Some(command) = Command::parse(&call) else { return };
        MOUNTED.with_borrow_mut(|mounted| {
            if let Some(mounted) = mounted.as_mut() {
                if mounted.apply(command) {
                    mounted.draw();
                }
            }
        });
    });
    js_sys::Reflect::set(&commands, &JsValue::from_str("push"), push.as_ref())?;
    // The page may call `EdgeChat(…)` as long as it lives.
    push.forget();
    Ok(())
}
