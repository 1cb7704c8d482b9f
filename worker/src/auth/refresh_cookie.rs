//! The refresh token in a cookie, for the operator console (issue 11,
//! "Sign-in"): the console keeps its access token in memory only and its
//! refresh token in [`REFRESH_COOKIE`], which page scripts cannot read
//! (`HttpOnly`), which only travels over HTTPS (`Secure`), never with a
//! request another site starts (`SameSite=Strict`), and only to `/auth/*`.
//!
//! A request that *uses* the cookie must also come from the worker's own
//! origin ([`check_same_origin`]): `SameSite=Strict` already keeps the
//! cookie off cross-site requests, and the origin check also refuses
//! same-site pages of another origin (a sibling subdomain) and browsers
//! without `SameSite` (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin
//! With Standard Headers" and "Fetch Metadata").

use axum::http::header::{COOKIE, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponseParts, ResponseParts};
use cookie::{time::Duration, Cookie, SameSite};
use edgechat_shared::api::auth::{REFRESH_COOKIE, REFRESH_TOKEN_SECONDS};

use crate::error::{ApiError, ApiResult};

/// The path the cookie is sent to: the `/auth/*` routes only.
const PATH: &str = "/auth";

/// `Set-Cookie` of the refresh cookie holding `token`, or clearing it: the
/// answer part of a route that gives or ends a cookie session.
#[derive(Debug)]
pub struct SetCookie(Option<HeaderValue>);

impl SetCookie {
    /// No `Set-Cookie`: the client holds its refresh token in the body.
    pub fn none() -> Self {
        SetCookie(None)
    }

    /// `ec_refresh=<token>; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=2592000`.
    pub fn token(token: &str) -> Self {
        SetCookie::of(token, Duration::seconds(REFRESH_TOKEN_SECONDS))
    }

    /// `ec_refresh=; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=0`:
    /// the browser drops the cookie (RFC 6265 §5.2.2).
    pub fn clear() -> Self {
        SetCookie::of("", Duration::ZERO)
    }

    fn of(value: &str, max_age: Duration) -> Self {
        let cookie = Cookie::build((REFRESH_COOKIE, value))
            .http_only(true)
            .secure(true)
            .same_site(SameSite::Strict)
            .path(PATH)
            .max_age(max_age)
            .build();
        SetCookie(HeaderValue::from_str(&cookie.to_string()).ok())
    }
}

impl IntoResponseParts for SetCookie {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        if let Some(value) = self.0 {
            res.headers_mut().append(SET_COOKIE, value);
        }
        Ok(res)
    }
}

/// The refresh token of the request's [`REFRESH_COOKIE`] cookie, if it has
/// a non-empty one (every `Cookie` header is read).
///
/// A `Cookie` header is `name=value` pairs joined by `; ` (RFC 6265 §4.2.1,
/// read as §5.4 builds it: split at every `;`, names and values trimmed),
/// as `cookie::Cookie::split_parse` read it. Its parser also reads the
/// attributes of a `Set-Cookie` (`Expires` dates through `time`'s format
/// parser), which a request never carries: 12 KB of the worker's gzip
/// (issue 16). `headers`' typed `Cookie` keeps a quoted `;` inside a value,
/// so an earlier cookie with a stray `"` would hide this one.
pub fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, value)| name.trim() == REFRESH_COOKIE && !value.trim().is_empty())
        .map(|(_, value)| value.trim().to_string())
}

/// Refuses a request that would use or set the refresh cookie unless it
/// comes from `own_origin`, the worker's origin (`https://chat.example.com`):
/// its `Origin` must be `own_origin` or its `Sec-Fetch-Site` `same-origin`,
/// and neither may name anything else.
///
/// Errors: 403 `forbidden`.
pub fn check_same_origin(own_origin: &str, headers: &HeaderMap) -> ApiResult<()> {
    // A header that is not text is kept as "", which names no origin.
    let origin = headers.get(ORIGIN).map(|v| v.to_str().unwrap_or_default());
    let fetch_site = headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or_default());
    same_origin(own_origin, origin, fetch_site)
        .map_err(|why| ApiError::forbidden(format!("The refresh cookie is only used from this server's own origin, {own_origin}: {why}")))
}

/// [`check_same_origin`]'s rule, on the header values: `Err` says why not.
fn same_origin(own_origin: &str, origin: Option<&str>, fetch_site: Option<&str>) -> Result<(), String> {
    if let Some(origin) = origin.filter(|o| !o.eq_ignore_ascii_case(own_origin)) {
        return Err(format!("this request comes from {origin}"));
    }
    if let Some(site) = fetch_site.filter(|s| *s != "same-origin") {
        return Err(format!("the browser says this request is {site} (Sec-Fetch-Site)"));
    }
    if origin.is_none() && fetch_site.is_none() {
        return Err("this request names no Origin".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://chat.example.com";

    #[test]
    fn the_cookie_has_exactly_the_console_attributes() {
        let set = |c: SetCookie| c.0.expect("a header").to_str().expect("ASCII").to_string();
        assert_eq!(set(SetCookie::token("abc")), "ec_refresh=abc; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=2592000");
        assert_eq!(set(SetCookie::clear()), "ec_refresh=; HttpOnly; SameSite=Strict; Secure; Path=/auth; Max-Age=0");
        assert!(SetCookie::none().0.is_none());
    }

    #[test]
    fn the_token_is_read_from_any_cookie_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(token(&headers), None);
        headers.append(COOKIE, HeaderValue::from_static("theme=dark; ec_refresh="));
        assert_eq!(token(&headers), None, "an empty cookie is no token");
        headers.append(COOKIE, HeaderValue::from_static("a=1; ec_refresh=f00d; b=2"));
        assert_eq!(token(&headers).as_deref(), Some("f00d"));
        // A stray quote in another cookie hides nothing; a look-alike name is not it.
        let mut quoted = HeaderMap::new();
        quoted.append(COOKIE, HeaderValue::from_static("a=\"x; x_ec_refresh=bad; ec_refresh = beef ; b=2"));
        assert_eq!(token(&quoted).as_deref(), Some("beef"));
    }

    #[test]
    fn only_the_own_origin_passes() {
        assert!(same_origin(OWN, Some(OWN), None).is_ok());
        assert!(same_origin(OWN, Some("HTTPS://CHAT.EXAMPLE.COM"), None).is_ok());
        assert!(same_origin(OWN, None, Some("same-origin")).is_ok());
        assert!(same_origin(OWN, Some(OWN), Some("same-origin")).is_ok());
        for (origin, site) in [
            (Some("https://evil.example"), None),
            (Some("https://evil.example"), Some("same-origin")),
            (Some("null"), None),
            (Some("http://chat.example.com"), None),
            (Some("https://chat.example.com:8443"), None),
            (None, Some("cross-site")),
            (None, Some("same-site")),
            (None, Some("none")),
            (Some(OWN), Some("cross-site")),
            (None, None),
        ] {
            assert!(same_origin(OWN, origin, site).is_err(), "{origin:?} {site:?}");
        }
    }
}
