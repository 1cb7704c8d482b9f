//! Live tokens: the single-use tokens of `GET /v1/messaging/token` (seed
//! 002) that open an operator WebSocket, so the access JWT never appears in a URL.
//!
//! A token authenticates itself: it names its account, operator, the
//! operator's token version, its expiry and the expiry of the access JWT it
//! was issued for (the socket it opens closes then), and carries an HMAC-SHA256 of
//! them with a key derived from `JWT_SECRET` for this one purpose
//! ([`Purpose::LiveToken`]: HKDF,
//! RFC 5869), so no access JWT signature verifies as a live token or the
//! other way round. The worker refuses a forged or expired token before it
//! touches any Durable Object; the account's Inbox then enforces single use
//! (a ledger of used nonces, kept until they expire) and refuses tokens of
//! an operator whose sessions ended after the token was issued. An alarm
//! sweeps both ledgers, so nothing piles up.
//!
//! # Format
//! `<account id>.<user id>.<token version>.<expires at, Unix seconds>.<session ends at, Unix seconds>.<nonce: 32 hex>.<HMAC: 64 hex>`,
//! the HMAC taken over everything before its dot.

use edgechat_shared::api::events::{MessagingToken, WS_TOKEN_SECONDS};
use serde::{Deserialize, Serialize};
use worker::{ListOptions, Storage};

use crate::auth::signing::Purpose;

/// The HKDF `info` of the live-token key: domain separation from every other use of `JWT_SECRET`.
/// Hex digits of a nonce (128 random bits).
const NONCE_HEX: usize = 32;
/// Ledger entries one sweep deletes at most; a sweep that hits it runs again at once.
const SWEEP_BATCH: usize = 512;
/// Keys of one `delete_multiple` call (the storage API's limit).
const DELETE_BATCH: usize = 128;

/// What a valid live token says. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveToken {
    /// The account whose Inbox the token opens.
    pub account_id: i64,
    /// The operator; their socket is tagged `user:<id>`.
    pub user_id: i64,
    /// The operator's token version at issue (`users.token_version`).
    pub version: i64,
    /// Refused from this second on.
    pub expires_at: i64,
    /// When the access JWT the token was issued for expires: the socket it
    /// opens closes (4002, `SESSION_EXPIRED_CLOSE`) at the first event from then on, so no
    /// socket outlives the credential that opened it (a logout, a revoked
    /// refresh token or a removal that could not reach the Inbox end it by then).
    /// Absent from a connect of an earlier version: 0, which opens nothing.
    #[serde(default)]
    pub session_ends_at: i64,
    /// 128 random bits, hex: what the single-use ledger remembers.
    pub nonce: String,
}

/// A decimal id, version or time as written in a token: ASCII digits only, no sign.
fn number(part: &str) -> Option<i64> {
    (!part.is_empty() && part.len() <= 18 && part.bytes().all(|b| b.is_ascii_digit())).then(|| part.parse().ok()).flatten()
}

impl LiveToken {
    /// A new token for operator `user_id` of `account_id` at `version`, valid
    /// [`WS_TOKEN_SECONDS`] from `now` (Unix seconds), for an access JWT that
    /// expires at `session_ends_at`; `nonce` is 128 random bits in hex.
    pub fn new(account_id: i64, user_id: i64, version: i64, now: i64, session_ends_at: i64, nonce: String) -> LiveToken {
        LiveToken { account_id, user_id, version, expires_at: now + WS_TOKEN_SECONDS, session_ends_at, nonce }
    }

    /// The signed token, in the format of the module documentation.
    pub fn sign(&self, jwt_secret: &str) -> String {
        let payload =
            format!("{}.{}.{}.{}.{}.{}", self.account_id, self.user_id, self.version, self.expires_at, self.session_ends_at, self.nonce);
        format!("{payload}.{}", Purpose::LiveToken.sign(jwt_secret, payload.as_bytes()))
    }

    /// The answer of `GET /v1/messaging/token` for this token.
    pub fn to_messaging_token(&self, jwt_secret: &str) -> MessagingToken {
        let token = self.sign(jwt_secret);
        MessagingToken { url: format!("/v1/chat/live?token={token}"), token, expires_in: WS_TOKEN_SECONDS }
    }

    /// The token `token` says, when its HMAC is right (compared in constant
    /// time) and it has not expired at `now` (Unix seconds); `None` otherwise.
    pub fn verify(token: &str, jwt_secret: &str, now: i64) -> Option<LiveToken> {
        let (payload, signature) = token.rsplit_once('.')?;
        if !Purpose::LiveToken.verify(jwt_secret, payload.as_bytes(), signature) {
            return None;
        }
        let parts: Vec<&str> = payload.split('.').collect();
        let [account, user, version, expires_at, session_ends_at, nonce] = parts[..] else { return None };
        let token = LiveToken {
            account_id: number(account)?,
            user_id: number(user)?,
            version: number(version)?,
            expires_at: number(expires_at)?,
            session_ends_at: number(session_ends_at)?,
            nonce: nonce.to_string(),
        };
        let nonce_ok = token.nonce.len() == NONCE_HEX && token.nonce.bytes().all(|b| b.is_ascii_hexdigit());
        (nonce_ok && now < token.expires_at).then_some(token)
    }
}

/// The ledger key of a used token: ordered by expiry, so a sweep lists the expired ones first.
fn used_key(token: &LiveToken) -> String {
    format!("used:{:012}:{}", token.expires_at, token.nonce)
}

/// The ledger key of the lowest token version an operator's live tokens must carry.
fn floor_key(user_id: i64) -> String {
    format!("floor:{user_id}")
}

/// The lowest token version an operator's live tokens must carry (`None`:
/// no token is accepted), until the last token issued before has expired.
/// Times are Unix seconds.
#[derive(Debug, Serialize, Deserialize)]
struct VersionFloor {
    version: Option<i64>,
    until: i64,
}

/// Spends `token` in the Inbox's ledger at `now` (Unix seconds): `false`
/// when it was spent before, has expired, or its operator's sessions ended
/// after it was issued. Single use holds under concurrency because nothing
/// but storage is awaited between the read and the write (the object's
/// input gate stays closed).
pub async fn redeem(storage: &Storage, token: &LiveToken, now: i64) -> worker::Result<bool> {
    if token.expires_at <= now {
        return Ok(false);
    }
    let key = used_key(token);
    if storage.get::<i64>(&key).await?.is_some() {
        return Ok(false);
    }
    if let Some(floor) = storage.get::<VersionFloor>(&floor_key(token.user_id)).await? {
        if floor.version.is_none_or(|version| token.version < version) {
            return Ok(false);
        }
    }
    storage.put(&key, token.expires_at).await?;
    schedule_sweep(storage).await?;
    Ok(true)
}

/// Refuses from now on every live token of `user_id` below `version`
/// (every one for `None`: a removed operator), until the last such token has
/// expired. A floor only ever rises: ends of sessions that arrive out of
/// order never lower it.
pub async fn raise_floor(storage: &Storage, user_id: i64, version: Option<i64>, now: i64) -> worker::Result<()> {
    let key = floor_key(user_id);
    let mut floor = VersionFloor { version, until: now + WS_TOKEN_SECONDS };
    if let Some(old) = storage.get::<VersionFloor>(&key).await? {
        floor.version = match (old.version, floor.version) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        floor.until = floor.until.max(old.until);
    }
    storage.put(&key, floor).await?;
    schedule_sweep(storage).await
}

/// Sets the sweep alarm, unless one is set, for when the newest ledger entry has expired.
async fn schedule_sweep(storage: &Storage) -> worker::Result<()> {
    if storage.get_alarm().await?.is_none() {
        storage.set_alarm((WS_TOKEN_SECONDS + 1) * 1000).await?;
    }
    Ok(())
}

/// The keys `options` lists.
async fn keys(storage: &Storage, options: ListOptions<'_>) -> worker::Result<Vec<String>> {
    Ok(storage.list_with_options(options).await?.keys().into_iter().filter_map(|key| key.ok()?.as_string()).collect())
}

/// Deletes the ledger entries that expired before `now` (Unix seconds), at
/// most [`SWEEP_BATCH`] of each kind, and sets the alarm again while entries are left.
pub async fn sweep(storage: &Storage, now: i64) -> worker::Result<()> {
    let used_end = format!("used:{now:012}");
    let mut expired = keys(storage, ListOptions::new().start("used:").end(&used_end).limit(SWEEP_BATCH)).await?;
    let more_expired = expired.len() == SWEEP_BATCH;
    for key in keys(storage, ListOptions::new().prefix("floor:").limit(SWEEP_BATCH)).await? {
        if storage.get::<VersionFloor>(&key).await?.is_some_and(|floor| floor.until < now) {
            expired.push(key);
        }
    }
    for batch in expired.chunks(DELETE_BATCH) {
        storage.delete_multiple(batch.to_vec()).await?;
    }
    if more_expired {
        storage.set_alarm(0).await?;
    } else if !keys(storage, ListOptions::new().prefix("used:").limit(1)).await?.is_empty()
        || !keys(storage, ListOptions::new().prefix("floor:").limit(1)).await?.is_empty()
    {
        storage.set_alarm((WS_TOKEN_SECONDS + 1) * 1000).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const NOW: i64 = 1_800_000_000;

    fn token() -> LiveToken {
        LiveToken::new(7, 42, 3_141_592, NOW, NOW + 900, "00112233445566778899aabbccddeeff".into())
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let signed = token().sign(SECRET);
        assert!(signed.starts_with("7.42.3141592.1800000060.1800000900.00112233445566778899aabbccddeeff."), "{signed}");
        assert_eq!(LiveToken::verify(&signed, SECRET, NOW), Some(token()));
        assert_eq!(LiveToken::verify(&signed, SECRET, NOW + WS_TOKEN_SECONDS - 1), Some(token()));
        assert_eq!(LiveToken::verify(&signed, SECRET, NOW + WS_TOKEN_SECONDS), None, "expired");
    }

    #[test]
    fn a_token_with_any_part_changed_or_another_key_is_refused() {
        let signed = token().sign(SECRET);
        assert_eq!(LiveToken::verify(&signed, "another-secret-another-secret-xx", NOW), None);
        let parts: Vec<&str> = signed.split('.').collect();
        for (i, forged) in ["8", "43", "3141593", "1800009999", "1800099999", "ffffffffffffffffffffffffffffffff"].iter().enumerate() {
            let mut changed = parts.clone();
            changed[i] = forged;
            assert_eq!(LiveToken::verify(&changed.join("."), SECRET, NOW), None, "part {i} changed");
        }
        let mut flipped = signed.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(LiveToken::verify(&String::from_utf8(flipped).unwrap(), SECRET, NOW), None, "signature changed");
        for garbage in ["", "garbage", "7.deadbeef", &signed[..signed.len() - 2], &format!("{signed}.00")] {
            assert_eq!(LiveToken::verify(garbage, SECRET, NOW), None, "{garbage:?}");
        }
    }

    #[test]
    fn only_canonical_parts_are_signed() {
        for odd in [
            LiveToken { account_id: 7, nonce: "short".into(), ..token() },
            LiveToken { account_id: 7, nonce: "00112233445566778899aabbccddeefg".into(), ..token() },
        ] {
            assert_eq!(LiveToken::verify(&odd.sign(SECRET), SECRET, NOW), None, "{odd:?}");
        }
        let negative = LiveToken { user_id: -1, ..token() };
        assert_eq!(LiveToken::verify(&negative.sign(SECRET), SECRET, NOW), None, "a sign is not a digit");
    }

    #[test]
    fn the_key_is_not_the_jwt_secret() {
        let mut plain = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        plain.update(b"7.42.3141592.1800000060.1800000900.00112233445566778899aabbccddeeff");
        let with_secret =
            format!("7.42.3141592.1800000060.1800000900.00112233445566778899aabbccddeeff.{}", hex::encode(plain.finalize().into_bytes()));
        assert_eq!(LiveToken::verify(&with_secret, SECRET, NOW), None, "a MAC made with JWT_SECRET itself does not verify");
    }
}
