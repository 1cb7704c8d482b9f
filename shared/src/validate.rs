//! Field validation of the public widget API. Each function answers the
//! [`FieldError`] the route turns into 422 `validation_error` (seeds 001, 004).

use crate::error::FieldError;
use crate::limits::*;

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// A site key: 1 to 64 ASCII letters, digits or `_`/`-` (e.g. `sk_demo_edgechat`).
pub fn site_key(key: &str) -> Result<(), FieldError> {
    if key.is_empty() {
        return Err(FieldError::new("site_key", "site_key is required"));
    }
    if key.len() > 64 || !key.chars().all(is_token_char) {
        return Err(FieldError::new("site_key", "site_key is malformed"));
    }
    Ok(())
}

/// A session id: 22 to 128 ASCII letters, digits or `_`/`-`, so that it can
/// carry at least 128 random bits (ARCHITECTURE.md, security model).
pub fn session_id(id: &str) -> Result<(), FieldError> {
    if id.is_empty() {
        return Err(FieldError::new("session_id", "session_id is required"));
    }
    let n = id.chars().count();
    if !(MIN_SESSION_ID_CHARS..=MAX_SESSION_ID_CHARS).contains(&n) || !id.chars().all(is_token_char) {
        return Err(FieldError::new(
            "session_id",
            format!("session_id must be {MIN_SESSION_ID_CHARS} to {MAX_SESSION_ID_CHARS} letters, digits, '_' or '-'"),
        ));
    }
    Ok(())
}

/// A visitor message: not blank, at most [`MAX_MESSAGE_CHARS`] characters
/// (seed 004: "Message is too long (maximum 10000 characters)").
pub fn message(text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new("message", "message is required"));
    }
    if text.chars().count() > MAX_MESSAGE_CHARS {
        return Err(FieldError::new("message", format!("Message is too long (maximum {MAX_MESSAGE_CHARS} characters)")));
    }
    Ok(())
}

/// A client message id: 1 to 64 ASCII letters, digits or `_`/`-`/`.`/`:`.
pub fn message_id(id: &str) -> Result<(), FieldError> {
    let ok = !id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS && id.chars().all(|c| is_token_char(c) || c == '.' || c == ':');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new("message_id", format!("message_id must be 1 to {MAX_MESSAGE_ID_CHARS} letters, digits, '_', '-', '.' or ':'")))
    }
}

/// A language tag in the shape of BCP 47 (RFC 5646): subtags of 1 to 8
/// letters or digits joined by `-`, at most 35 characters.
pub fn lang(tag: &str) -> Result<(), FieldError> {
    let ok = !tag.is_empty()
        && tag.len() <= MAX_LANG_CHARS
        && tag.split('-').all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new("lang", "lang must be a language tag such as 'en' or 'pt-BR'"))
    }
}

/// An email address (RFC 5321/5322 syntax via the `email_address` crate), at most 254 characters.
pub fn email(address: &str) -> Result<(), FieldError> {
    if address.is_empty() {
        return Err(FieldError::new("email", "email is required"));
    }
    if address.len() > 254 || !email_address::EmailAddress::is_valid(address) {
        return Err(FieldError::new("email", "Invalid email address"));
    }
    Ok(())
}

/// The mailbox an email address reaches, for counting what is sent to it:
/// lower-cased, with a `+tag` of its local part removed (subaddressing, RFC
/// 5233: `jane+news@example.com` reaches `jane@example.com`'s mailbox at
/// the common providers).
pub fn mailbox(address: &str) -> String {
    let lower = address.trim().to_lowercase();
    match lower.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{domain}", local.split_once('+').map_or(local, |(base, _)| base)),
        None => lower,
    }
}

/// The error for a phone number that is no E.164 number or no valid one
/// (422 `validation_error` on `phone`).
pub fn phone_error() -> FieldError {
    FieldError::new("phone", "phone must be an E.164 number such as +14155550123")
}

/// A phone number in E.164 form: `+`, a country code (no leading 0) and the
/// subscriber number, at most 15 digits (ITU-T E.164). The form only: the
/// worker also checks the number against the numbering plans
/// (libphonenumber's metadata, `worker/src/phone.rs`).
pub fn e164_phone(phone: &str) -> Result<(), FieldError> {
    let digits = phone.strip_prefix('+').ok_or_else(phone_error)?;
    if digits.len() < 2 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err(phone_error());
    }
    Ok(())
}

/// `true` when `origin` (an `Origin` header, e.g. `https://shop.example.com`)
/// matches one of `patterns` (see [`origin_pattern`]): exactly, or for
/// `scheme://*.host` any subdomain of `host` with that scheme and port. An
/// empty list allows every origin.
pub fn origin_allowed(patterns: &[String], origin: &str) -> bool {
    if patterns.is_empty() {
        return true;
    }
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    patterns.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.split_once("://*.") {
            None => pattern == origin,
            Some((scheme, rest)) => origin
                .strip_prefix(&format!("{scheme}://"))
                .and_then(|host| host.strip_suffix(rest))
                .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1 && !sub.contains('/')),
        }
    })
}

/// An ISO 8601 / RFC 3339 time (`2025-01-15T10:30:00Z`, offsets allowed),
/// answered as the stored form: UTC with milliseconds (`2025-01-15T10:30:00.000Z`).
pub fn iso8601_utc(value: &str) -> Result<String, FieldError> {
    rfc3339_stored(value).ok_or_else(|| FieldError::new("since", "since must be an ISO 8601 time such as 2025-01-15T10:30:00Z"))
}

/// `value`, an RFC 3339 time (offsets allowed), in the stored form; `None`
/// when it is not one.
pub fn rfc3339_stored(value: &str) -> Option<String> {
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()?;
    stored_time(at)
}

/// `at` in the stored form of times (`2025-01-15T10:30:00.000Z`: UTC,
/// milliseconds; comparable as text, as SQLite's
/// `strftime('%Y-%m-%dT%H:%M:%fZ')` writes them); `None` when its UTC year
/// is outside 0000–9999 (`9999-12-31T23:59:59-00:01` is in year 10000 in
/// UTC: `checked_to_offset`, where `to_offset` would panic).
///
/// The fields come from `time`; they are laid out with `format!` rather
/// than a `time` format description, whose formatting and parsing engine
/// was about 30 KB of the worker's wasm for this one layout and
/// [`calendar_day`]'s (issue 16, the 1 MB upload budget).
pub fn stored_time(at: time::OffsetDateTime) -> Option<String> {
    let at = at.checked_to_offset(time::UtcOffset::UTC)?;
    (0..=9999).contains(&at.year()).then(|| {
        let (year, month, day) = (at.year(), u8::from(at.month()), at.day());
        let (hour, minute, second, milli) = (at.hour(), at.minute(), at.second(), at.millisecond());
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
    })
}

/// A calendar day written `YYYY-MM-DD` (four, two and two digits), when
/// `time` says it exists (`2026-02-30` does not).
pub fn calendar_day(value: &str) -> Option<time::Date> {
    let digits = |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let (year, rest) = value.split_once('-')?;
    let (month, day) = rest.split_once('-')?;
    if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

/// A password: 8 to 256 characters.
pub fn password(password: &str) -> Result<(), FieldError> {
    use crate::api::auth::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(FieldError::new("password", format!("password must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(FieldError::new("password", format!("password must be at most {MAX_PASSWORD_CHARS} characters")));
    }
    Ok(())
}

/// A name shown to people (operator, account, site): 1 to 120 characters, not blank.
pub fn display_name(field: &'static str, name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() || name.chars().count() > 120 {
        return Err(FieldError::new(field, format!("{field} must be 1 to 120 characters")));
    }
    Ok(())
}

/// What to add to the refusal of a URL or origin `value` that has
/// non-ASCII letters: hosts are taken in their ASCII form only (an
/// internationalised name as its `xn--` labels, the form browsers send in
/// `Origin` and `location.href`; `url`'s IDNA runs without Unicode data,
/// see `shared/Cargo.toml`). Empty for an ASCII value.
pub fn ascii_host_hint(value: &str) -> &'static str {
    if value.is_ascii() {
        ""
    } else {
        " (write an internationalised host name in its ASCII xn-- form, e.g. https://xn--bcher-kva.de for bücher.de)"
    }
}

/// An absolute `https://` URL of at most 2,048 characters, its host in
/// ASCII ([`ascii_host_hint`]).
pub fn https_url(field: &'static str, value: &str) -> Result<(), FieldError> {
    let ok = value.len() <= 2048 && url::Url::parse(value).is_ok_and(|u| u.scheme() == "https" && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(field, format!("{field} must be an https:// URL{}", ascii_host_hint(value))))
    }
}

/// The page a visitor writes from (`page_url`): an absolute `http://` or
/// `https://` URL with a host, at most [`MAX_PAGE_URL_CHARS`] characters.
pub fn page_url(value: &str) -> Result<(), FieldError> {
    let ok = value.chars().count() <= MAX_PAGE_URL_CHARS
        && url::Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new("page_url", format!("page_url must be an http:// or https:// URL of at most {MAX_PAGE_URL_CHARS} characters")))
    }
}

/// The shape of an IANA time zone name (`Europe/Paris`, `UTC`,
/// `Etc/GMT+5`): 1 to 64 ASCII letters, digits, `/`, `_`, `+` or `-`,
/// starting with a letter (so not a UTC offset such as `+05:30`, which
/// ECMA-402 also takes as a time zone). Whether the tz database has it is
/// the worker's second check (`worker/src/timezone.rs`: the runtime's own
/// tz data), so that no tz table is compiled into the wasm.
pub fn timezone(name: &str) -> Result<(), FieldError> {
    let shaped = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
    if shaped {
        Ok(())
    } else {
        Err(timezone_error())
    }
}

/// 422 `validation_error` on `timezone`: not a time zone of the tz database.
pub fn timezone_error() -> FieldError {
    FieldError::new("timezone", "timezone must be an IANA time zone such as 'Europe/Paris'")
}

/// A `#rrggbb` colour.
pub fn hex_color(color: &str) -> Result<(), FieldError> {
    let ok = color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(FieldError::new("theme_color", "theme_color must be a colour like #4f46e5"))
    }
}

/// An allowed-origin pattern: `scheme://host[:port]` with no path, where the
/// host may start with `*.` to allow every subdomain.
pub fn origin_pattern(pattern: &str) -> Result<(), FieldError> {
    let fail = || {
        FieldError::new(
            "allowed_origins",
            format!("'{pattern}' is not an origin like https://example.com or https://*.example.com{}", ascii_host_hint(pattern)),
        )
    };
    let concrete = pattern.replacen("://*.", "://wildcard.", 1);
    let url = url::Url::parse(&concrete).map_err(|_| fail())?;
    let origin_only = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && !pattern.ends_with('/')
        && url.username().is_empty();
    if origin_only && !concrete[concrete.find("://").map_or(0, |i| i + 3)..].contains('*') {
        Ok(())
    } else {
        Err(fail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "sess_0123456789abcdefABCDEF";

    /// Hosts are ASCII: an internationalised one in its `xn--` form is
    /// taken, in Unicode it is refused with a hint (the `Origin` header
    /// carries the `xn--` form, so a Unicode pattern could never match).
    #[test]
    fn a_mailbox_ignores_case_and_subaddress_tags() {
        assert_eq!(mailbox("Jane+News@Example.COM"), "jane@example.com");
        assert_eq!(mailbox("jane+a+b@example.com"), "jane@example.com");
        assert_eq!(mailbox(" jane@example.com "), "jane@example.com");
        assert_eq!(mailbox("first.last@example.com"), "first.last@example.com");
        assert_eq!(mailbox("\"a@b\"@example.com"), "\"a@b\"@example.com");
        assert_eq!(mailbox("no-at-sign"), "no-at-sign");
    }

    #[test]
    fn internationalised_hosts_are_taken_in_their_ascii_form() {
        assert!(https_url("url", "https://xn--bcher-kva.de/hook").is_ok());
        let refused = https_url("url", "https://bücher.de/hook").unwrap_err();
        assert!(refused.message.contains("https://xn--bcher-kva.de"), "{}", refused.message);
        assert!(origin_pattern("https://xn--bcher-kva.de").is_ok());
        assert!(origin_pattern("https://*.xn--bcher-kva.de").is_ok());
        assert!(origin_pattern("https://bücher.de").unwrap_err().message.contains("xn--"));
        assert!(origin_allowed(&["https://xn--bcher-kva.de".into()], "https://xn--bcher-kva.de"));
        assert!(https_url("url", "https://xn--zz.com/").is_err(), "an xn-- label that is no Punycode");
        assert_eq!(ascii_host_hint("https://example.com"), "");
    }

    #[test]
    fn session_id_needs_128_bits_of_token_characters() {
        assert!(session_id(SESSION).is_ok());
        assert!(session_id("").is_err());
        assert!(session_id("sess_short").is_err());
        assert!(session_id("sess_0123456789abcdef<script>").is_err());
        assert!(session_id(&"a".repeat(129)).is_err());
        assert!(session_id(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn message_must_not_be_blank_or_over_ten_thousand_characters() {
        assert!(message("hello").is_ok());
        assert_eq!(message("   \n").unwrap_err().field, "message");
        assert!(message(&"é".repeat(MAX_MESSAGE_CHARS)).is_ok(), "the limit counts characters, not bytes");
        let err = message(&"a".repeat(MAX_MESSAGE_CHARS + 1)).unwrap_err();
        assert_eq!(err.message, "Message is too long (maximum 10000 characters)");
    }

    #[test]
    fn site_key_and_message_id_are_token_shaped() {
        assert!(site_key("sk_demo_edgechat").is_ok());
        assert!(site_key("").is_err());
        assert!(site_key("sk demo").is_err());
        assert!(message_id("m_abc-1.2:3").is_ok());
        assert!(message_id("").is_err());
        assert!(message_id(&"m".repeat(65)).is_err());
    }

    #[test]
    fn email_password_and_names() {
        assert!(email("ann@example.com").is_ok());
        for bad in ["", "ann", "ann@", "@example.com", "ann example@x.com"] {
            assert_eq!(email(bad).unwrap_err().field, "email", "{bad}");
        }
        assert!(password("12345678").is_ok());
        assert!(password("1234567").is_err());
        assert!(password(&"p".repeat(257)).is_err());
        assert!(display_name("name", "Ann").is_ok());
        assert!(display_name("name", "  ").is_err());
    }

    #[test]
    fn timezone_must_be_in_the_tz_database() {
        assert!(timezone("Europe/Paris").is_ok());
        assert!(timezone("America/New_York").is_ok());
        assert!(timezone("UTC").is_ok());
        assert!(timezone("").is_err());
        assert!(timezone("Europe/Paris; DROP").is_err());
        assert!(timezone("Etc/GMT+5").is_ok());
        for offset in ["+0530", "+05:30", "-00", "05"] {
            assert!(timezone(offset).is_err(), "{offset} is an offset, not a tz name");
        }
        assert!(timezone(&"A".repeat(65)).is_err());
    }

    #[test]
    fn page_url_is_an_absolute_http_url_within_the_limit() {
        assert!(page_url("https://shop.example.com/cart?step=2#pay").is_ok());
        assert!(page_url("http://127.0.0.1:8787/").is_ok());
        let long = format!("https://shop.example.com/{}", "a".repeat(MAX_PAGE_URL_CHARS));
        for bad in ["", "/cart", "shop.example.com/cart", "javascript:alert(1)", "file:///etc/passwd", "ftp://example.com/", long.as_str()]
        {
            assert_eq!(page_url(bad).unwrap_err().field, "page_url", "{bad}");
        }
        let longest = format!("https://e.com/{}", "a".repeat(MAX_PAGE_URL_CHARS - 14));
        assert!(page_url(&longest).is_ok(), "{} characters", longest.len());
    }

    #[test]
    fn urls_colours_and_origins() {
        assert!(https_url("avatar_url", "https://cdn.example.com/a.png").is_ok());
        assert!(https_url("avatar_url", "http://cdn.example.com/a.png").is_err());
        assert!(https_url("avatar_url", "javascript:alert(1)").is_err());
        assert!(hex_color("#4f46E5").is_ok());
        assert!(hex_color("red").is_err());
        for ok in ["https://example.com", "http://localhost:8787", "https://*.example.com"] {
            assert!(origin_pattern(ok).is_ok(), "{ok}");
        }
        for bad in ["example.com", "https://example.com/path", "ftp://example.com", "https://exa*mple.com", "https://example.com/"] {
            assert!(origin_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_must_be_valid_e164_numbers() {
        for ok in ["+14155550123", "+442071838750", "+33142685300"] {
            assert!(e164_phone(ok).is_ok(), "{ok}");
        }
        for bad in ["", "14155550123", "+1", "+1415555012345678", "+1 415 555 0123", "+0123456789", "+1415abc0123"] {
            assert!(e164_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_match_exactly_or_by_subdomain_wildcard() {
        let patterns = vec!["https://shop.example.com".to_string(), "https://*.example.org".to_string()];
        assert!(origin_allowed(&patterns, "https://shop.example.com"));
        assert!(origin_allowed(&patterns, "https://a.example.org"));
        assert!(origin_allowed(&patterns, "https://a.b.example.org"));
        assert!(!origin_allowed(&patterns, "https://example.org"), "the wildcard is for subdomains");
        assert!(!origin_allowed(&patterns, "http://a.example.org"), "the scheme must match");
        assert!(!origin_allowed(&patterns, "https://evil-example.org"));
        assert!(!origin_allowed(&patterns, "https://shop.example.com.evil.net"));
        assert!(!origin_allowed(&patterns, "https://evil.net"));
        assert!(origin_allowed(&[], "https://anything.net"), "an empty list allows any origin");
    }

    #[test]
    fn iso8601_times_become_the_stored_utc_form() {
        assert_eq!(iso8601_utc("2025-01-15T10:30:00Z").unwrap(), "2025-01-15T10:30:00.000Z");
        assert_eq!(iso8601_utc("2025-01-15T12:30:00+02:00").unwrap(), "2025-01-15T10:30:00.000Z");
        assert!(iso8601_utc("yesterday").is_err());
        // A UTC year past 9999 is refused, not a panic.
        assert!(iso8601_utc("9999-12-31T23:59:59-00:01").is_err());
        assert_eq!(iso8601_utc("9999-12-31T23:59:59.9999Z").unwrap(), "9999-12-31T23:59:59.999Z");
        assert!(iso8601_utc("2025-01-15").is_err());
        // Padded to four, two and three digits; a UTC year before 0000 is refused too.
        assert_eq!(iso8601_utc("0001-02-03T04:05:06.007Z").unwrap(), "0001-02-03T04:05:06.007Z");
        assert!(iso8601_utc("0000-01-01T00:00:00+00:01").is_err());
    }

    #[test]
    fn calendar_days_are_four_two_and_two_digits_of_a_real_date() {
        assert_eq!(calendar_day("2026-02-28"), time::Date::from_calendar_date(2026, time::Month::February, 28).ok());
        assert_eq!(calendar_day("2024-02-29"), time::Date::from_calendar_date(2024, time::Month::February, 29).ok());
        // A sign is refused ("-2026-01-05" was year -2026 to `time`'s `[year]`,
        // a bound below every stored time), and so are full-width digits.
        let signed_or_wide = ["+2026-01-05", "-2026-01-05", "\u{ff12}\u{ff10}\u{ff12}\u{ff16}-01-05"];
        for bad in ["2026-02-29", "2026-13-01", "2026-00-10", "2026-1-05", "26-01-05", "2026-01-5", "2026-01-05T", "", "2026/01/05"]
            .into_iter()
            .chain(signed_or_wide)
        {
            assert_eq!(calendar_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn lang_accepts_bcp47_shapes_only() {
        for ok in ["en", "pt-BR", "zh-Hant-TW", "de"] {
            assert!(lang(ok).is_ok(), "{ok}");
        }
        for bad in ["", "en_US", "toolongsubtag", "en--x", "fr!"] {
            assert!(lang(bad).is_err(), "{bad}");
        }
    }
}
