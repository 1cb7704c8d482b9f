//! The site a settings page works on (knowledge base, proactive rules):
//! `?site={id}` in the URL, so the choice survives a reload and can be
//! linked to, else the account's first site. Nothing is stored in the browser.

use edgechat_shared::api::sites::SiteList;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::{api, ui};

/// The account's sites (`GET /v1/sites`, names only are used) and the one picked.
#[derive(Clone, Copy)]
pub struct SitePick {
    /// `(id, name)` of each site, oldest first.
    sites: RwSignal<Vec<(i64, String)>>,
    /// The error of loading the sites.
    error: RwSignal<Option<String>>,
    /// `true` once the sites have loaded (or failed to).
    loaded: RwSignal<bool>,
    /// The site picked: `?site=` when it is one of the account's, else the first.
    pub site: Memo<Option<i64>>,
}

impl SitePick {
    /// Loads the account's sites; the pick follows `?site=`.
    pub fn new() -> SitePick {
        let sites = RwSignal::new(Vec::<(i64, String)>::new());
        let query = use_query_map();
        let site = Memo::new(move |_| {
            let wanted = query.with(|q| q.get("site")).and_then(|s| s.parse::<i64>().ok());
            sites.with(|all| wanted.filter(|id| all.iter().any(|(s, _)| s == id)).or_else(|| all.first().map(|(id, _)| *id)))
        });
        let pick = SitePick { sites, error: RwSignal::new(None), loaded: RwSignal::new(false), site };
        leptos::task::spawn_local(async move {
            match api::get::<SiteList>("/v1/sites").await {
                Ok(list) => pick.sites.set(list.sites.into_iter().map(|s| (s.id, s.name)).collect()),
                Err(err) => pick.error.set(Some(err.message)),
            }
            pick.loaded.set(true);
        });
        pick
    }

    /// `true` when the sites have loaded and the account has none.
    pub fn none(&self) -> bool {
        self.loaded.get() && self.error.with(Option::is_none) && self.sites.with(Vec::is_empty)
    }
}

/// The site `<select>` (label "Site"); picking one puts `?site={id}` in the URL.
#[component]
pub fn SitePicker(pick: SitePick) -> impl IntoView {
    let navigate = use_navigate();
    let location = use_location();
    let on_change = move |ev| {
        let path = location.pathname.get_untracked();
        let id = event_target_value(&ev);
        navigate(&format!("{path}?site={}", api::encode(&id)), NavigateOptions { replace: true, scroll: false, ..Default::default() });
    };
    view! {
        <ui::ErrorNote error=pick.error />
        <label class="site-picker">"Site"
            <select name="site" on:change=on_change prop:value=move || pick.site.get().map(|id| id.to_string()).unwrap_or_default()>
                <For each=move || pick.sites.get() key=|(id, name)| (*id, name.clone()) let:site>
                    <option value=site.0.to_string() selected=move || pick.site.get() == Some(site.0)>{site.1.clone()}</option>
                </For>
            </select>
        </label>
        {move || pick.none().then(|| view! { <p class="empty">"This account has no site yet: create one under Sites."</p> })}
    }
}
