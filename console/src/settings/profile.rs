//! Settings → Profile: the signed-in operator's name, avatar and time zone
//! (`GET /auth/me`, `PATCH /auth/profile`) and password
//! (`POST /auth/change-password`).
//!
//! A password change ends the operator's other sessions and refuses every
//! access token issued before, this tab's too; the server keeps this tab's
//! refresh cookie, so the console refreshes at once and stays signed in.

use edgechat_shared::api::auth::{ChangePasswordRequest, MeResponse, Operator, ProfileUpdate};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use super::{carried_note, carry_note, drop_carried_note};
use crate::session::{self, Session, State};
use crate::{api, ui};

/// The profile page: who the operator is, their profile, their password.
#[component]
pub fn Profile() -> impl IntoView {
    let signed = Session::get().state.with_untracked(|state| match state {
        State::SignedIn(signed) => Some(signed.clone()),
        _ => None,
    });
    let account = signed.as_ref().map(|s| s.account.name.clone()).unwrap_or_default();
    let user = signed.map(|s| s.user);
    view! {
        <div class="settings-page profile">
            <header class="settings-head"><h1>"Profile"</h1></header>
            {user.clone().map(|user| view! {
                <dl class="details">
                    <dt>"Email"</dt><dd>{user.email}</dd>
                    <dt>"Role"</dt><dd>{user.role.as_str()}</dd>
                    <dt>"Account"</dt><dd>{account}</dd>
                </dl>
            })}
            <ProfileForm user=user />
            <PasswordForm />
        </div>
    }
}

/// `data-form="profile"`: display name, avatar URL and time zone.
#[component]
fn ProfileForm(user: Option<Operator>) -> impl IntoView {
    let display_name = RwSignal::new(String::new());
    let avatar_url = RwSignal::new(String::new());
    let timezone = RwSignal::new(String::new());
    let fill = move |user: &Operator| {
        display_name.set(user.display_name.clone());
        avatar_url.set(user.avatar_url.clone().unwrap_or_default());
        timezone.set(user.timezone.clone());
    };
    if let Some(user) = &user {
        fill(user);
    }
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(carried_note());
    let busy = RwSignal::new(false);
    // The session's copy may be older than the server's.
    leptos::task::spawn_local(async move {
        match api::get::<MeResponse>("/auth/me").await {
            Ok(me) => fill(&me.user),
            Err(err) => error.set(Some(err.message)),
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let update = ProfileUpdate {
            display_name: Some(display_name.get_untracked().trim().to_string()),
            // `""` removes the avatar.
            avatar_url: Some(avatar_url.get_untracked().trim().to_string()),
            timezone: Some(timezone.get_untracked().trim().to_string()),
        };
        busy.set(true);
        error.set(None);
        note.set(None);
        leptos::task::spawn_local(async move {
            match api::patch::<Operator>("/auth/profile", &update).await {
                Ok(user) => {
                    fill(&user);
                    carry_note(note, "Profile saved.".into());
                    session::set_user(user);
                    drop_carried_note();
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    let zones = time_zones();
    view! {
        <form class="card profile-form" data-form="profile" on:submit=submit>
            <h2>"Your profile"</h2>
            <label>"Display name" <input type="text" name="display_name" required maxlength="120" autocomplete="name" bind:value=display_name /></label>
            <p class="hint">"Visitors see it on your messages."</p>
            <label>"Avatar URL" <input type="url" name="avatar_url" placeholder="https://" bind:value=avatar_url /></label>
            <div class="inline-fields">
                <label class="grow">"Time zone"
                    <input type="text" name="timezone" list="time-zones" required placeholder="Europe/Paris" bind:value=timezone />
                </label>
                <button type="button" on:click=move |_| if let Some(zone) = browser_time_zone() { timezone.set(zone) }>"Use this browser's time zone"</button>
            </div>
            <datalist id="time-zones">{zones.into_iter().map(|zone| view! { <option value=zone></option> }).collect_view()}</datalist>
            <ui::ErrorNote error=error />
            <ui::OkNote note=note />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Save profile"</button>
            </div>
        </form>
    }
}

/// `data-form="password"`: the current password, the new one twice.
#[component]
fn PasswordForm() -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        note.set(None);
        if new.get_untracked() != again.get_untracked() {
            error.set(Some("The two new passwords differ: type the same one twice.".into()));
            return;
        }
        // No refresh_token: the server keeps this tab's refresh cookie.
        let request =
            ChangePasswordRequest { current_password: current.get_untracked(), new_password: new.get_untracked(), refresh_token: None };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match api::post::<serde::de::IgnoredAny>("/auth/change-password", &request).await {
                Ok(_) => {
                    for field in [current, new, again] {
                        field.set(String::new());
                    }
                    // Access tokens issued before the change are refused from now on.
                    match session::refresh().await {
                        Ok(()) => note.set(Some("Password changed. Your other sessions are signed out.".into())),
                        Err(_) => session::signed_out(),
                    }
                }
                Err(err) => error.set(Some(err.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card password-form" data-form="password" on:submit=submit>
            <h2>"Password"</h2>
            <label>"Current password" <input type="password" name="current_password" required autocomplete="current-password" bind:value=current /></label>
            <label>"New password" <input type="password" name="new_password" required minlength="8" autocomplete="new-password" bind:value=new /></label>
            <label>"New password again" <input type="password" name="new_password_again" required minlength="8" autocomplete="new-password" bind:value=again /></label>
            <p class="hint">"At least 8 characters. Changing it signs you out everywhere else."</p>
            <ui::ErrorNote error=error />
            <ui::OkNote note=note />
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || busy.get()>"Change password"</button>
            </div>
        </form>
    }
}

/// The IANA time zones the browser knows (`Intl.supportedValuesOf("timeZone")`), for suggestions.
fn time_zones() -> Vec<String> {
    let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok();
    let supported = intl.as_ref().and_then(|i| js_sys::Reflect::get(i, &"supportedValuesOf".into()).ok());
    let Some(supported) = supported.and_then(|f| f.dyn_into::<js_sys::Function>().ok()) else { return Vec::new() };
    supported
        .call1(&intl.unwrap_or(JsValue::UNDEFINED), &"timeZone".into())
        .ok()
        .map(|zones| js_sys::Array::from(&zones).iter().filter_map(|z| z.as_string()).collect())
        .unwrap_or_default()
}

/// This browser's time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
fn browser_time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok().and_then(|z| z.as_string())
}
