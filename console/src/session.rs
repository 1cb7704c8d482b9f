//! The signed-in operator: login, silent refresh, logout.
//!
//! Login asks for the refresh token as a cookie (`"refresh_cookie": true`):
//! the worker sets `ec_refresh` `HttpOnly; Secure; SameSite=Strict;
//! Path=/auth`, so no script (ours included) can read it, and answers only
//! the 15-minute access JWT, kept in memory ([`crate::api`]). The console
//! refreshes a minute before the JWT expires, on a 401, and on start (a
//! reload keeps the person signed in). Refreshes never overlap: a rotated
//! refresh token presented twice would revoke the whole session (RFC 9700
//! §4.14.2), so within a tab one refresh is shared by every caller, and
//! across tabs the Web Locks API (where the browser has it) serialises them.

use std::cell::RefCell;

use edgechat_shared::api::auth::{Account, LoginRequest, Operator, OperatorRole, TokenResponse};
use futures::future::{FutureExt, LocalBoxFuture, Shared};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, ApiResult};

/// Seconds before the access token's expiry when the console refreshes it.
const REFRESH_MARGIN_SECONDS: i64 = 60;

/// The signed-in operator and their account.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    /// The operator.
    pub user: Operator,
    /// Their account.
    pub account: Account,
}

impl Signed {
    /// `true` for owners and admins: they manage sites, the knowledge base, proactive rules and the team.
    pub fn is_admin(&self) -> bool {
        matches!(self.user.role, OperatorRole::Owner | OperatorRole::Admin)
    }
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Trying the refresh cookie after a (re)load.
    Starting,
    /// Nobody is signed in.
    SignedOut,
    /// Signed in.
    SignedIn(Signed),
}

/// The session, provided as context by [`crate::App`].
#[derive(Clone, Copy)]
pub struct Session {
    /// Where the session stands.
    pub state: RwSignal<State>,
}

impl Session {
    /// The session of the app (panics outside [`crate::App`]).
    pub fn get() -> Session {
        expect_context::<Session>()
    }

    /// The signed-in operator, if any.
    pub fn signed(&self) -> Option<Signed> {
        match self.state.get() {
            State::SignedIn(signed) => Some(signed),
            _ => None,
        }
    }
}

/// A refresh under way, awaited by every caller that needs one.
type SharedRefresh = Shared<LocalBoxFuture<'static, Result<(), api::ApiError>>>;

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
    /// The refresh under way, shared by every caller that needs one.
    static REFRESHING: RefCell<Option<SharedRefresh>> = const { RefCell::new(None) };
    /// The pending silent-refresh timer.
    static TIMER: RefCell<Option<i32>> = const { RefCell::new(None) };
}

/// Creates the session (state [`State::Starting`]) and tries the refresh cookie.
pub fn start() -> Session {
    let session = Session { state: RwSignal::new(State::Starting) };
    SESSION.with_borrow_mut(|s| *s = Some(session));
    leptos::task::spawn_local(async move {
        if refresh().await.is_err() {
            signed_out();
        }
    });
    session
}

fn set_state(state: State) {
    if let Some(session) = SESSION.with_borrow(|s| *s) {
        session.state.set(state);
    }
}

/// Takes the tokens of a login or refresh: the JWT into memory, the
/// operator into the session, and the next silent refresh on the clock.
fn accept(tokens: TokenResponse) {
    api::set_access_token(Some(tokens.access_token));
    schedule(tokens.expires_in);
    let signed = Signed { user: tokens.user, account: tokens.account };
    if let Some(session) = SESSION.with_borrow(|s| *s) {
        if session.state.get_untracked() != State::SignedIn(signed.clone()) {
            session.state.set(State::SignedIn(signed));
        }
    }
}

fn schedule(expires_in: i64) {
    let Some(window) = web_sys::window() else { return };
    if let Some(old) = TIMER.with_borrow_mut(Option::take) {
        window.clear_timeout_with_handle(old);
    }
    let delay_ms = ((expires_in - REFRESH_MARGIN_SECONDS).max(5) * 1000) as i32;
    let callback = Closure::once_into_js(|| {
        leptos::task::spawn_local(async {
            if refresh().await.is_err() {
                signed_out();
            }
        })
    });
    if let Ok(handle) = window.set_timeout_with_callback_and_timeout_and_arguments_0(callback.unchecked_ref(), delay_ms) {
        TIMER.with_borrow_mut(|t| *t = Some(handle));
    }
}

/// Logs in with `email` and `password`; the refresh token comes back as a cookie.
pub async fn login(email: String, password: String) -> ApiResult<()> {
    let request = LoginRequest { email, password, refresh_cookie: true };
    let tokens: TokenResponse = api::post_anonymous("/auth/login", &request).await?;
    accept(tokens);
    Ok(())
}

/// Exchanges the refresh cookie for a new access token (and a rotated
/// cookie). Concurrent callers share one request.
pub async fn refresh() -> Result<(), api::ApiError> {
    let shared = REFRESHING.with_borrow_mut(|current| current.get_or_insert_with(|| refresh_serialised().boxed_local().shared()).clone());
    let result = shared.await;
    REFRESHING.with_borrow_mut(|current| *current = None);
    result
}

/// One refresh, holding the `edgechat-refresh` Web Lock while it runs so
/// that two tabs never present the same cookie.
async fn refresh_serialised() -> Result<(), api::ApiError> {
    // `navigator.locks.request(name, callback)`, read through Reflect: web-sys
    // marks the Web Locks API unstable.
    let navigator = web_sys::window().map(|w| JsValue::from(w.navigator()));
    let locks = navigator.and_then(|n| js_sys::Reflect::get(&n, &"locks".into()).ok()).filter(|l| l.is_object());
    let request =
        locks.as_ref().and_then(|l| js_sys::Reflect::get(l, &"request".into()).ok()).and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let (Some(locks), Some(request)) = (locks, request) else {
        return refresh_once().await;
    };
    let (sender, receiver) = futures::channel::oneshot::channel();
    let sender = RefCell::new(Some(sender));
    // The lock is held until the promise the callback returns settles.
    let callback = Closure::once_into_js(move |_lock: JsValue| -> js_sys::Promise {
        wasm_bindgen_futures::future_to_promise(async move {
            let result = refresh_once().await;
            if let Some(sender) = sender.borrow_mut().take() {
                let _ = sender.send(result);
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    if let Ok(promise) = request.call2(&locks, &"edgechat-refresh".into(), &callback) {
        let _ = JsFuture::from(js_sys::Promise::from(promise)).await;
    }
    receiver.await.unwrap_or_else(|_| refresh_once_blocking_error())
}

fn refresh_once_blocking_error() -> Result<(), api::ApiError> {
    Err(api::ApiError { status: 0, code: "client".into(), message: "The session could not be refreshed.".into() })
}

async fn refresh_once() -> Result<(), api::ApiError> {
    let tokens: TokenResponse = api::post_anonymous("/auth/refresh", &api::EMPTY).await?;
    accept(tokens);
    Ok(())
}

/// Forgets the access token and shows the login.
pub fn signed_out() {
    api::set_access_token(None);
    if let (Some(window), Some(handle)) = (web_sys::window(), TIMER.with_borrow_mut(Option::take)) {
        window.clear_timeout_with_handle(handle);
    }
    crate::live::stop();
    set_state(State::SignedOut);
}

/// Logs out: the worker revokes the refresh token and clears its cookie.
pub async fn logout() {
    let _: ApiResult<serde::de::IgnoredAny> = api::post_anonymous("/auth/logout", &api::EMPTY).await;
    signed_out();
}

/// Updates the signed-in operator after a profile change.
pub fn set_user(user: Operator) {
    if let Some(session) = SESSION.with_borrow(|s| *s) {
        session.state.update(|state| {
            if let State::SignedIn(signed) = state {
                signed.user = user;
            }
        });
    }
}
