//! Device telemetry of a signed-in app user (seed 003, "Diagnostics":
//! `POST /api/v1/app/diagnostics`, "no PII", 204): any JSON object up to
//! [`MAX_DIAGNOSTICS_BYTES`], stored without the fields [`scrub`] drops,
//! kept [`DIAGNOSTICS_RETENTION_DAYS`] days.

use serde_json::Value;

/// Largest accepted diagnostics body, in bytes (413 over it).
pub const MAX_DIAGNOSTICS_BYTES: usize = 16 * 1024;
/// Deepest accepted nesting of objects and arrays (422 deeper).
pub const MAX_DIAGNOSTICS_DEPTH: usize = 16;
/// How long diagnostics are kept, in days.
pub const DIAGNOSTICS_RETENTION_DAYS: i64 = 30;
/// The newest reports kept per user; a new one deletes the oldest past it.
/// Without it one user, at 30 writes a minute of up to 16 KiB each, could
/// store some 20 GiB in the 30 days reports are kept, in the deployment's
/// one D1 database (10 GB at most, Cloudflare D1 limits).
pub const MAX_DIAGNOSTICS_PER_USER: usize = 20;

/// Field names that carry personal data, compared after lowercasing and
/// removing `_`, `-` and `.` (so `e-mail`, `phoneNumber`, `ip_address`,
/// `accessToken` match). A field whose normalized name equals one of these,
/// or ends with one of [`PII_SUFFIXES`], is dropped with its whole value.
const PII_NAMES: &[&str] = &[
    "email",
    "mail",
    "phone",
    "phonenumber",
    "mobile",
    "tel",
    "name",
    "firstname",
    "lastname",
    "fullname",
    "username",
    "displayname",
    "ip",
    "ipaddress",
    "ipv4",
    "ipv6",
    "remoteaddr",
    "address",
    "street",
    "postcode",
    "zip",
    "zipcode",
    "token",
    "password",
    "passwd",
    "pass",
    "secret",
    "authorization",
    "auth",
    "cookie",
    "session",
    "sessionid",
    "ssn",
    "birthday",
    "birthdate",
    "dob",
    "iban",
    "card",
    "cardnumber",
    "creditcard",
    "cvv",
    "latitude",
    "longitude",
    "lat",
    "lng",
    "lon",
    "location",
    "geo",
    "imei",
    "idfa",
    "gaid",
    "advertisingid",
    "userid",
    "user",
];

/// Name endings that mark personal data (`contactEmail`, `refreshToken`,
/// `clientIp`, `apiKey`, …).
const PII_SUFFIXES: &[&str] = &["email", "phone", "token", "password", "secret", "ip", "ipaddress", "apikey", "cookie", "name"];

/// Whether a field named `key` carries personal data (see [`PII_NAMES`]).
pub fn is_pii_field(key: &str) -> bool {
    let normalized: String = key.chars().filter(|c| !matches!(c, '_' | '-' | '.' | ' ')).flat_map(char::to_lowercase).collect();
    PII_NAMES.contains(&normalized.as_str()) || PII_SUFFIXES.iter().any(|s| normalized.ends_with(s))
}

/// Drops every object field that carries personal data ([`is_pii_field`]),
/// at any depth (inside arrays too). Answers how many were dropped.
pub fn scrub(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let before = map.len();
            map.retain(|key, _| !is_pii_field(key));
            let mut dropped = before - map.len();
            for nested in map.values_mut() {
                dropped += scrub(nested);
            }
            dropped
        }
        Value::Array(items) => items.iter_mut().map(scrub).sum(),
        _ => 0,
    }
}

/// The nesting depth of `value` (a scalar is 0, `{}` is 1).
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pii_fields_are_dropped_at_any_depth() {
        let mut body = json!({
            "os": "iOS 18.1",
            "app_version": "2.3.0",
            "email": "a@b.c",
            "user": {"id": 7, "Phone-Number": "+4412", "prefs": {"theme": "dark", "accessToken": "xyz"}},
            "events": [{"kind": "crash", "ip": "10.0.0.1", "stack": "…"}, {"clientIp": "1.2.3.4", "ms": 12}],
            "device": {"model": "Pixel 9", "name": "Ann's phone", "battery": 0.5, "PASSWORD": "x"},
            "network": {"type": "wifi", "ip_address": "::1"},
        });
        let dropped = scrub(&mut body);
        assert_eq!(
            body,
            json!({
                "os": "iOS 18.1",
                "app_version": "2.3.0",
                "events": [{"kind": "crash", "stack": "…"}, {"ms": 12}],
                "device": {"model": "Pixel 9", "battery": 0.5},
                "network": {"type": "wifi"},
            })
        );
        assert_eq!(dropped, 7);
    }

    #[test]
    fn harmless_names_stay() {
        for key in ["os", "model", "locale", "app_version", "battery", "screen_width", "timezone", "crash_count", "ms"] {
            assert!(!is_pii_field(key), "{key}");
        }
        for key in ["e-mail", "E_MAIL", "firstName", "refresh_token", "apiKey", "sessionId", "lat", "IMEI"] {
            assert!(is_pii_field(key), "{key}");
        }
    }

    #[test]
    fn depth_counts_nesting() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": [{"b": 1}]})), 3);
    }
}
