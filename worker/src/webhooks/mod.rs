//! Outgoing webhooks (issue 13): endpoints per account, Standard Webhooks
//! signatures, deliveries with retries and a dead-letter log.
//!
//! A delivery is one row of `webhook_deliveries` (the source of truth) and
//! a `DELIVERIES` queue message `{"delivery": id, "attempt": n}` that asks
//! for its attempt `n`. The consumer claims the attempt in D1 first, so a
//! duplicate message sends nothing; a failed attempt enqueues the next with
//! a delay (`WEBHOOK_RETRY_BASE_SECONDS` × 2^(n−1)); the last one
//! (`WEBHOOK_MAX_ATTEMPTS`) is dead-lettered. A message lost with a local
//! queue is sent again by the sweep ([`sweep`]) from the rows.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use edgechat_shared::api::integrations::DeliveryOutcome;
use futures::future::{select, Either};
use worker::{Env, MessageExt};

use crate::db::webhooks::{self as store, AttemptResult, Due};

/// How long an endpoint may take to answer (headers), per attempt.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed attempt holds its delivery against the sweep, in seconds.
const LEASE_SECONDS: i64 = 60;
/// Attempts before a delivery is dead-lettered, unless `WEBHOOK_MAX_ATTEMPTS` says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;
/// The first retry delay in seconds, unless `WEBHOOK_RETRY_BASE_SECONDS` says otherwise.
pub const DEFAULT_RETRY_BASE_SECONDS: i64 = 30;
/// Longest retry delay a queue message can carry (Cloudflare Queues: 12 hours).
const MAX_DELAY_SECONDS: i64 = 43_200;

fn var_i64(env: &Env, name: &str, default: i64) -> i64 {
    env.var(name).ok().and_then(|v| v.to_string().trim().parse().ok()).unwrap_or(default)
}

/// `WEBHOOK_MAX_ATTEMPTS` (1 to 20), default [`DEFAULT_MAX_ATTEMPTS`].
pub fn max_attempts(env: &Env) -> i64 {
    var_i64(env, "WEBHOOK_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS).clamp(1, 20)
}

/// The delay before attempt `attempt + 1` after attempt `attempt` failed:
/// `base` × 2^(attempt − 1) seconds, at most 12 hours.
pub fn retry_delay(base: i64, attempt: i64) -> i64 {
    let exponent = u32::try_from((attempt - 1).clamp(0, 20)).unwrap_or(0);
    base.max(0).saturating_mul(1 << exponent).min(MAX_DELAY_SECONDS)
}

/// Whether `WEBHOOKS_ALLOW_LOCAL = "true"`: endpoints on `http://127.0.0.1`
/// or `localhost` are allowed (local development and tests only).
pub fn allow_local(env: &Env) -> bool {
    env.var("WEBHOOKS_ALLOW_LOCAL").map(|v| v.to_string() == "true").unwrap_or(false)
}

/// A new signing secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the Workers runtime provides crypto.getRandomValues");
    format!("whsec_{}", BASE64.encode(bytes))
}

/// The `webhook-signature` header value (Standard Webhooks, "Signature
/// scheme"): `v1,` + base64 of HMAC-SHA256 over `{id}.{timestamp}.{body}`,
/// keyed by the base64-decoded part of `secret` after `whsec_`; signed by
/// the scheme's reference crate. `None` when the secret is not base64.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    standardwebhooks::Webhook::new(secret).ok()?.sign(id, timestamp, body.as_bytes()).ok()
}

/// Why a webhook URL is refused (the 422 message), or `None` when it is
/// fine: `https` only, no userinfo, and no host that is an IP literal in a
/// private (RFC 1918), loopback, link-local, CGNAT (RFC 6598), reserved,
/// test or benchmarking range, nor an IPv6 literal outside global unicast
/// ([`public_v6`]), nor `localhost`, `*.local` (RFC 6762) or `*.internal`
/// — unless `allow_local`, which allows `http` and `https` to `127.0.0.1`,
/// `[::1]` and `localhost` (nothing else private). A defence against SSRF:
/// deliveries come from the worker. Names are not resolved here: on
/// Cloudflare a Worker's `fetch` leaves from the edge and cannot reach the
/// operator's private networks whatever a name resolves to.
pub fn url_problem(raw: &str, allow_local: bool) -> Option<String> {
    let Ok(url) = url::Url::parse(raw.trim()) else {
        return Some(format!("url must be an absolute https URL{}", edgechat_shared::validate::ascii_host_hint(raw)));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Some("url must not contain a user name or password".into());
    }
    let host = match url.host() {
        Some(host) => host,
        None => return Some("url must name a host".into()),
    };
    let local = match &host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    };
    if allow_local && local && matches!(url.scheme(), "http" | "https") {
        return None;
    }
    if url.scheme() != "https" {
        return Some("url must use https".into());
    }
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local") || d.ends_with(".internal") || !d.contains('.') {
                return Some(format!("url host {d} is not a public name"));
            }
        }
        url::Host::Ipv4(ip) => {
            if !public_v4(ip) {
                return Some(format!("url host {ip} is a private, loopback or reserved address"));
            }
        }
        url::Host::Ipv6(ip) => {
            if !public_v6(ip) {
                return Some(format!("url host [{ip}] is a private, loopback or reserved address"));
            }
        }
    }
    None
}

fn public_v4(ip: std::net::Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || o[0] == 0
        || o[0] >= 240 // reserved 240.0.0.0/4 (RFC 1112), broadcast included
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // CGNAT 100.64.0.0/10, RFC 6598
        || (o[0] == 192 && o[1] == 0 && (o[2] == 0 || o[2] == 2)) // IETF protocol 192.0.0.0/24, TEST-NET-1 (RFC 6890, 5737)
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15, RFC 2544
        || (o[0] == 198 && o[1] == 51 && o[2] == 100) // TEST-NET-2, RFC 5737
        || (o[0] == 203 && o[1] == 0 && o[2] == 113)) // TEST-NET-3, RFC 5737
}

/// Whether `ip` is a global unicast IPv6 address: inside 2000::/3 (RFC
/// 4291), and not 6to4 2002::/16 (RFC 3056, which embeds any IPv4
/// address), the IETF protocol block 2001::/23 (Teredo 2001::/32 among
/// them) nor documentation 2001:db8::/32 (RFC 3849). Everything outside
/// 2000::/3 — loopback, unspecified, IPv4-mapped and -compatible, NAT64
/// 64:ff9b::/96, unique-local, link- and site-local, multicast — is refused.
fn public_v6(ip: std::net::Ipv6Addr) -> bool {
    let s = ip.segments();
    (s[0] & 0xe000) == 0x2000 && s[0] != 0x2002 && !(s[0] == 0x2001 && (s[1] < 0x0200 || s[1] == 0x0db8))
}

/// Queues' `sendBatch` takes at most 100 messages (Cloudflare Queues limits).
const SEND_BATCH_MAX: usize = 100;

/// Enqueues attempts `due` on `DELIVERIES`, in order, [`SEND_BATCH_MAX`]
/// at a time.
pub async fn enqueue(env: &Env, due: &[Due]) -> worker::Result<()> {
    if due.is_empty() {
        return Ok(());
    }
    let queue = env.queue("DELIVERIES")?;
    for chunk in due.chunks(SEND_BATCH_MAX) {
        queue.send_batch(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Enqueues again every pending delivery overdue by `stale_seconds`.
pub async fn sweep(env: &Env, stale_seconds: i64) -> worker::Result<()> {
    let db = crate::db::database(env)?;
    let due = store::stale(&db, stale_seconds).await?;
    enqueue(env, &due).await
}

/// Consumes the `DELIVERIES` queue: one HTTP `POST` per message.
pub async fn consume(batch: worker::MessageBatch<serde_json::Value>, env: &Env) -> worker::Result<()> {
    let db = crate::db::database(env)?;
    let base = var_i64(env, "WEBHOOK_RETRY_BASE_SECONDS", DEFAULT_RETRY_BASE_SECONDS);
    let attempts = batch.messages()?.into_iter().map(|message| {
        let db = &db;
        async move {
            let Ok(due) = serde_json::from_value::<Due>(message.body().clone()) else {
                worker::console_error!("dropping a malformed DELIVERIES message");
                message.ack();
                return;
            };
            match deliver(env, db, due, base).await {
                Ok(()) => message.ack(),
                Err(e) => {
                    worker::console_error!("delivery {} attempt {} failed to run: {e}", due.delivery, due.attempt);
                    message.retry();
                }
            }
        }
    });
    futures::future::join_all(attempts).await;
    crate::events::sweep(env).await;
    Ok(())
}

/// Makes attempt `due`: claims it (nothing when the delivery is done, its
/// endpoint disabled or deleted, or the attempt made already), `POST`s the
/// event, logs the result and enqueues the next attempt after a failure.
async fn deliver(env: &Env, db: &worker::D1Database, due: Due, base: i64) -> worker::Result<()> {
    let Some(claimed) = store::claim(db, due, LEASE_SECONDS).await? else { return Ok(()) };
    let Some(body) = claimed.body else {
        // Not rendered (cannot happen: events are rendered before fan-out).
        return Ok(());
    };
    let (status_code, latency_ms, error) = post(&claimed.url, &claimed.secret, &claimed.event_id, &body).await;
    let succeeded = status_code.is_some_and(|s| (200..300).contains(&s));
    let last = due.attempt >= claimed.max_attempts;
    let outcome = match (succeeded, last) {
        (true, _) => DeliveryOutcome::Succeeded,
        (false, false) => DeliveryOutcome::Failed,
        (false, true) => DeliveryOutcome::Dead,
    };
    let delay = retry_delay(base, due.attempt);
    let error = error.or_else(|| (!succeeded).then(|| format!("HTTP {}", status_code.unwrap_or_default())));
    store::record(db, due, claimed.endpoint_id, &AttemptResult { outcome, status_code, latency_ms, error }, delay).await?;
    if outcome == DeliveryOutcome::Failed {
        let next = Due { delivery: due.delivery, attempt: due.attempt + 1 };
        let message = worker::MessageBuilder::new(next).delay_seconds(u32::try_from(delay).unwrap_or(0)).build();
        env.queue("DELIVERIES")?.send(message).await?;
    }
    Ok(())
}

/// `POST`s `body` to `url` with the Standard Webhooks headers; answers the
/// status (if any answer came), the latency in ms and the network error or
/// timeout.
async fn post(url: &str, secret: &str, id: &str, body: &str) -> (Option<u16>, Option<u32>, Option<String>) {
    let timestamp = crate::auth::now_secs();
    let Some(signature) = sign(secret, id, timestamp, body) else { return (None, None, Some("the endpoint's secret is malformed".into())) };
    let headers = worker::Headers::new();
    let set = [
        ("content-type", "application/json".to_string()),
        ("webhook-id", id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signature),
        ("user-agent", "EdgeChat-Webhooks/1".to_string()),
    ];
    for (name, value) in set {
        if let Err(e) = headers.set(name, &value) {
            return (None, None, Some(e.to_string()));
        }
    }
    // A redirect is not followed (it could lead anywhere the URL rules refuse): a 3xx is a failure.
    let request = match crate::runtime_stream::post_request(url, &headers, &body.into(), false) {
        Ok(request) => request,
        Err(e) => return (None, None, Some(e.to_string())),
    };
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let started = js_sys::Date::now();
    let fetch = worker::Fetch::Request(request);
    let sent = Box::pin(fetch.send_with_signal(&signal));
    let timeout = Box::pin(worker::Delay::from(TIMEOUT));
    let answer = select(sent, timeout).await;
    let latency = Some((js_sys::Date::now() - started).max(0.0) as u32);
    match answer {
        Either::Left((Ok(response), _)) => (Some(response.status_code()), latency, None),
        Either::Left((Err(e), _)) => (None, latency, Some(format!("network error: {e}"))),
        Either::Right(_) => {
            controller.abort();
            (None, latency, Some(format!("timed out after {} s", TIMEOUT.as_secs())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_reach_private_networks_are_refused() {
        for bad in [
            "http://example.com/hook",
            "https://user:pw@example.com/",
            "https://10.0.0.1/",
            "https://172.16.5.4/",
            "https://192.168.1.1/",
            "https://127.0.0.1/",
            "https://169.254.169.254/latest",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://[::7f00:1]/",
            "https://[64:ff9b::a9fe:a9fe]/",
            "https://[2002:a00:1::]/",
            "https://[2001:0:4136:e378::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://198.18.0.1/",
            "https://240.0.0.1/",
            "https://192.0.0.8/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://LOCALHOST./",
            "https://localhost/",
            "https://printer.local/",
            "https://db.internal/",
            "not a url",
        ] {
            assert!(url_problem(bad, false).is_some(), "{bad} must be refused");
        }
        for good in ["https://example.com/hook", "https://8.8.8.8/x", "https://[2606:4700::1111]/"] {
            assert_eq!(url_problem(good, false), None, "{good}");
        }
    }

    #[test]
    fn local_endpoints_only_when_allowed() {
        assert!(url_problem("http://127.0.0.1:8080/hook", false).is_some());
        assert_eq!(url_problem("http://127.0.0.1:8080/hook", true), None);
        assert_eq!(url_problem("http://localhost:8080/hook", true), None);
        assert!(url_problem("http://10.0.0.1/hook", true).is_some(), "only loopback is allowed locally");
    }

    #[test]
    fn retry_delays_double() {
        assert_eq!((1..=5).map(|n| retry_delay(30, n)).collect::<Vec<_>>(), vec![30, 60, 120, 240, 480]);
        assert_eq!(retry_delay(30, 30), MAX_DELAY_SECONDS);
        assert_eq!(retry_delay(0, 3), 0);
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference tests.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let sig = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, r#"{"test": 2432232314}"#).unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
