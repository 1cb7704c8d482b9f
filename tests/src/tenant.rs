//! Accounts for trials that run in parallel against one server: each signs
//! up its own [`Tenant`] (an owner, an account and a first site) from a
//! fresh client address, so no two trials share data or a rate-limit bucket.

use edgechat_shared::api::auth::TokenResponse;
use edgechat_shared::api::sites::Site;
use serde_json::json;

use crate::http::{signup_from, unique, Host, IpPool};

/// The password of every owner and operator the tests create (at least the
/// 12 characters `POST /auth/signup` asks for).
pub const PASSWORD: &str = "correct horse battery";

/// Who signs up: the owner's display name, the tag of their email
/// (`<tag>-<n>-<hex>@example.com`), the account's name (made unique) and the
/// first site's name.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// Tag of the owner's unique email address.
    pub tag: &'a str,
    /// The owner's display name: the `author_name` of their messages.
    pub name: &'a str,
    /// Prefix of the account's unique name.
    pub account: &'a str,
    /// The first site's name.
    pub site: &'a str,
}

impl Owner<'static> {
    /// Olivia Owner of the account "Acme…" with the site "Acme shop".
    pub const ACME: Owner<'static> = Owner { tag: "owner", name: "Olivia Owner", account: "Acme", site: "Acme shop" };
}

/// A freshly signed-up account: its owner's email and tokens, and its first site.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The owner's login email.
    pub email: String,
    /// The owner's tokens as `POST /auth/signup` answered them.
    pub tokens: TokenResponse,
    /// The account's first site.
    pub site: Site,
}

impl Tenant {
    /// The owner's access token.
    pub fn token(&self) -> &str {
        &self.tokens.access_token
    }

    /// The owner's operator id.
    pub fn id(&self) -> i64 {
        self.tokens.user.id
    }

    /// The owner's display name, the `author_name` of their messages and events.
    pub fn name(&self) -> &str {
        &self.tokens.user.display_name
    }

    /// The owner's login email.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The first site's site key (`sk_…`).
    pub fn site_key(&self) -> &str {
        &self.site.site_key
    }
}

/// The refresh token of a sign-up, login or refresh answer to a client that
/// holds it itself (every client but the console's cookie mode).
pub trait BodyRefreshToken {
    /// The answer's `refresh_token`; panics when it has none.
    fn body_refresh_token(&self) -> &str;
}

impl BodyRefreshToken for TokenResponse {
    fn body_refresh_token(&self) -> &str {
        self.refresh_token.as_deref().expect("a client without refresh_cookie gets refresh_token in the body")
    }
}

/// Signs up [`Owner::ACME`] with [`PASSWORD`] from a fresh address of `ips`;
/// panics unless `POST /auth/signup` answers 201 with the named site.
pub async fn signup(host: &dyn Host, ips: &IpPool) -> Tenant {
    signup_as(host, ips, &Owner::ACME).await
}

/// Signs up `owner` with [`PASSWORD`] from a fresh address of `ips`; panics
/// unless `POST /auth/signup` answers 201 with the named site.
pub async fn signup_as(host: &dyn Host, ips: &IpPool, owner: &Owner<'_>) -> Tenant {
    let email = format!("{}@example.com", unique(owner.tag));
    let body = json!({
        "email": email,
        "password": PASSWORD,
        "name": owner.name,
        "account_name": unique(owner.account),
        "site_name": owner.site,
    });
    let signed = signup_from(host.client(), host.base(), &ips.next(), &body).await;
    assert_eq!(signed.site.name, owner.site);
    Tenant { email, tokens: signed.tokens, site: signed.site }
}
