//! Web Push (RFC 8030) to a browser's push subscription: the payload
//! encrypted with `aes128gcm` (RFC 8291 "Message Encryption for Web Push"
//! over RFC 8188 "Encrypted Content-Encoding for HTTP"), the request signed
//! with VAPID (RFC 8292, an ES256 JWT).
//!
//! The elliptic-curve and AES work is the runtime's WebCrypto
//! (`worker/js/webpush.js`: P-256 ECDH with a fresh key pair, AES-128-GCM,
//! ES256); this module composes it: the HKDF steps (`hkdf`/`sha2`), the
//! record layout and the JWT. The RustCrypto crates that did that work
//! (`p256`, `ecdsa`, `aes-gcm`) were about 40 KB of the worker's gzip
//! (issue 16). The `web-push` and `ece` crates need OpenSSL and do not build
//! for wasm32.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hkdf::Hkdf;
use js_sys::Uint8Array;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

#[wasm_bindgen(module = "/js/webpush.js")]
extern "C" {
    #[wasm_bindgen(js_name = checkP256Point, catch)]
    async fn check_p256_point(point: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = ecdhP256, catch)]
    async fn ecdh_p256(ua_public: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = aes128gcmSeal, catch)]
    async fn aes128gcm_seal(key: &[u8], nonce: &[u8], plaintext: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = p256PublicKey, catch)]
    async fn p256_public_key(scalar: &[u8]) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = es256Sign, catch)]
    async fn es256_sign(scalar: &[u8], message: &[u8]) -> Result<JsValue, JsValue>;
}

/// The bytes of a WebCrypto call's `Uint8Array`, or the message of its rejection.
fn bytes(result: Result<JsValue, JsValue>) -> Result<Vec<u8>, String> {
    match result {
        Ok(value) => Ok(Uint8Array::new(&value).to_vec()),
        Err(error) => Err(js_sys::Error::from(error).message().into()),
    }
}

/// Record size announced in the `aes128gcm` header (RFC 8188 §2.1); one
/// record carries the whole payload (RFC 8291 §4: push services accept at
/// least 4096 bytes).
pub const RECORD_SIZE: u32 = 4096;
/// Largest plaintext sent: one record less its padding delimiter and the 16-byte tag,
/// and the 86-byte header (RFC 8291 §4: 3993 bytes of payload).
pub const MAX_PLAINTEXT: usize = 3993;
/// Life of a VAPID JWT, in seconds (RFC 8292 §2: at most 24 hours).
const VAPID_SECONDS: i64 = 12 * 3600;

/// A browser's push subscription (`PushSubscription.toJSON()`): where to
/// post and the keys that encrypt for it.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub endpoint: url::Url,
    /// The user agent's P-256 public key (`keys.p256dh`), the 65-byte
    /// uncompressed point; [`Subscription::checked`] checks it is on the curve.
    pub p256dh: [u8; 65],
    /// The authentication secret (`keys.auth`, 16 bytes).
    pub auth: [u8; 16],
}

#[derive(Deserialize)]
struct SubscriptionJson {
    endpoint: String,
    keys: KeysJson,
}

#[derive(Deserialize)]
struct KeysJson {
    p256dh: String,
    auth: String,
}

fn base64url(value: &str) -> Result<Vec<u8>, String> {
    B64URL.decode(value.trim().trim_end_matches('=')).map_err(|_| "is not base64url".to_string())
}

impl Subscription {
    /// Parses and checks a subscription's JSON: an `https` endpoint (`http`
    /// only on a loopback host when `allow_local`, for tests), `p256dh` an
    /// uncompressed point of 65 bytes, `auth` 16 bytes (RFC 8291 §3). That
    /// the point is on P-256 is [`Subscription::checked`]'s part (and the
    /// ECDH's, which refuses any other).
    ///
    /// Errors: why it was refused, in words for a 422.
    pub fn parse(json: &str, allow_local: bool) -> Result<Subscription, String> {
        let raw: SubscriptionJson = serde_json::from_str(json)
            .map_err(|_| "token must be a Web Push subscription: {endpoint, keys: {p256dh, auth}}".to_string())?;
        if let Some(problem) = crate::webhooks::url_problem(&raw.endpoint, allow_local) {
            return Err(format!("the subscription's endpoint is refused: {problem}"));
        }
        let endpoint = url::Url::parse(raw.endpoint.trim()).map_err(|_| "the subscription's endpoint is not a URL".to_string())?;
        let p256dh: [u8; 65] = base64url(&raw.keys.p256dh)
            .map_err(|e| format!("keys.p256dh {e}"))?
            .try_into()
            .ok()
            .filter(|point: &[u8; 65]| point[0] == 4)
            .ok_or_else(|| "keys.p256dh must be an uncompressed P-256 public key (65 bytes)".to_string())?;
        let auth: [u8; 16] = base64url(&raw.keys.auth)
            .map_err(|e| format!("keys.auth {e}"))?
            .try_into()
            .map_err(|_| "keys.auth must be 16 bytes".to_string())?;
        Ok(Subscription { endpoint, p256dh, auth })
    }

    /// [`Subscription::parse`], then the runtime's check that `p256dh` is a
    /// point on P-256 (a device registered with another point could never
    /// be sent to).
    pub async fn checked(json: &str, allow_local: bool) -> Result<Subscription, String> {
        let subscription = Subscription::parse(json, allow_local)?;
        if check_p256_point(&subscription.p256dh).await.is_err() {
            return Err("keys.p256dh is not a P-256 point".into());
        }
        Ok(subscription)
    }

    /// The canonical JSON of a subscription [`Subscription::checked`]
    /// accepts, `{"endpoint","keys":{"p256dh","auth"}}` (base64url without
    /// padding), so that the same subscription sent twice is one device.
    pub async fn canonical(json: &str, allow_local: bool) -> Result<String, String> {
        let subscription = Subscription::checked(json, allow_local).await?;
        Ok(serde_json::json!({
            "endpoint": subscription.endpoint.as_str(),
            "keys": {"p256dh": B64URL.encode(subscription.p256dh), "auth": B64URL.encode(subscription.auth)}
        })
        .to_string())
    }
}

/// The content-encryption key and nonce of RFC 8291 §3.4 and RFC 8188
/// §2.2–2.3, from the ECDH secret of the user agent's key `ua_public` and
/// the application server's one-time key `as_public` (65-byte points), the
/// subscription's `auth` secret and the record's `salt`.
pub fn content_keys(
    ecdh_secret: &[u8],
    auth: &[u8; 16],
    ua_public: &[u8; 65],
    as_public: &[u8; 65],
    salt: &[u8; 16],
) -> ([u8; 16], [u8; 12]) {
    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" ‖ 0 ‖ ua_public ‖ as_public, 32)
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh_secret).expand(&key_info, &mut ikm).expect("32 bytes is a valid HKDF-SHA-256 length");
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).expect("16 bytes is a valid HKDF-SHA-256 length");
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).expect("12 bytes is a valid HKDF-SHA-256 length");
    (cek, nonce)
}

/// The last (and only) record's plaintext: the payload, then the delimiter
/// 0x02, no padding (RFC 8188 §2).
pub fn record(plaintext: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(2);
    record
}

/// The request body: the `aes128gcm` header `salt ‖ rs ‖ idlen ‖ keyid`
/// (the server's public key as the key id, RFC 8291 §4), then the sealed record.
pub fn body(salt: &[u8; 16], as_public: &[u8; 65], sealed: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(86 + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public);
    body.extend_from_slice(sealed);
    body
}

/// Why [`encrypt`] made no body.
#[derive(Debug, PartialEq)]
pub enum EncryptError {
    /// For good: the payload is over [`MAX_PLAINTEXT`] bytes, or `p256dh`
    /// is not a point on P-256; sending again cannot help.
    Refused(String),
    /// The runtime's WebCrypto failed: worth another attempt.
    Failed(String),
}

/// Encrypts `plaintext` for `subscription` (RFC 8291 §3.4, one `aes128gcm`
/// record of RFC 8188) with a fresh one-time key pair and a random 16-byte
/// salt from the runtime: answers the request body.
///
/// Errors: [`EncryptError`].
pub async fn encrypt(plaintext: &[u8], subscription: &Subscription) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::Refused(format!("push payload over {MAX_PLAINTEXT} bytes")));
    }
    let agreed = match bytes(ecdh_p256(&subscription.p256dh).await) {
        Ok(agreed) => agreed,
        // Told apart only on failure, so a push imports the point once.
        Err(_) if check_p256_point(&subscription.p256dh).await.is_err() => {
            return Err(EncryptError::Refused("keys.p256dh is not a P-256 point".into()))
        }
        Err(why) => return Err(EncryptError::Failed(format!("ECDH: {why}"))),
    };
    let (Some(secret), Some(as_public)) = (agreed.get(..32), agreed.get(32..).and_then(|p| <&[u8; 65]>::try_from(p).ok())) else {
        return Err(EncryptError::Failed(format!("the runtime's ECDH answered {} bytes, not 97", agreed.len())));
    };
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the Workers runtime provides crypto.getRandomValues");
    let (cek, nonce) = content_keys(secret, &subscription.auth, &subscription.p256dh, as_public, &salt);
    let sealed =
        bytes(aes128gcm_seal(&cek, &nonce, &record(plaintext)).await).map_err(|why| EncryptError::Failed(format!("AES-GCM: {why}")))?;
    Ok(body(&salt, as_public, &sealed))
}

/// The application server's VAPID key (RFC 8292 §3.2): the P-256 private
/// key from the secret `VAPID_PRIVATE_KEY` (base64url of its 32-byte
/// scalar, as `web-push generate-vapid-keys` prints it), its public point,
/// and the contact `VAPID_SUBJECT` (`mailto:` or `https:`).
#[derive(Clone)]
pub struct Vapid {
    scalar: [u8; 32],
    public: [u8; 65],
    subject: String,
}

#[derive(Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

/// The JWS header of every VAPID JWT (RFC 8292 §2: ES256).
const VAPID_HEADER: &str = r#"{"typ":"JWT","alg":"ES256"}"#;

/// The JWS signing input of a VAPID JWT (RFC 7515 §7.1 compact form:
/// `BASE64URL(header) . BASE64URL(claims)`): `aud` the push endpoint's
/// origin, `exp` 12 hours after `now` (Unix seconds), `sub` the contact.
pub fn vapid_signing_input(endpoint: &url::Url, subject: &str, now: i64) -> String {
    let audience = endpoint.origin().ascii_serialization();
    let claims = VapidClaims { aud: &audience, exp: now + VAPID_SECONDS, sub: subject };
    let claims = serde_json::to_vec(&claims).expect("the claims serialise");
    format!("{}.{}", B64URL.encode(VAPID_HEADER), B64URL.encode(claims))
}

impl Vapid {
    /// The key from its base64url scalar; `None` when it is not one (over
    /// 32 bytes or under 24, zero, or not below the group order: the runtime
    /// refuses it). A scalar of 24 to 31 bytes (leading zero bytes left out)
    /// is read as the 32-byte big-endian number it is, as `p256`'s
    /// `SecretKey::from_slice` read it.
    pub async fn new(private_key: &str, subject: &str) -> Option<Vapid> {
        let given = base64url(private_key).ok().filter(|b| (24..=32).contains(&b.len()))?;
        let mut scalar = [0u8; 32];
        scalar[32 - given.len()..].copy_from_slice(&given);
        let public: [u8; 65] = bytes(p256_public_key(&scalar).await).ok()?.try_into().ok()?;
        Some(Vapid { scalar, public, subject: subject.trim().to_string() })
    }

    /// The public key browsers pass to `pushManager.subscribe` as
    /// `applicationServerKey`: base64url (no padding) of the 65-byte
    /// uncompressed point.
    pub fn public_key(&self) -> String {
        B64URL.encode(self.public)
    }

    /// The `Authorization` header of a push to `endpoint` at `now` (Unix
    /// seconds): `vapid t=<ES256 JWT>, k=<public key>` (RFC 8292 §3), the
    /// JWT of [`vapid_signing_input`] signed by the runtime.
    pub async fn authorization(&self, endpoint: &url::Url, now: i64) -> Result<String, String> {
        let input = vapid_signing_input(endpoint, &self.subject, now);
        let signature = bytes(es256_sign(&self.scalar, input.as_bytes()).await)?;
        Ok(format!("vapid t={input}.{}, k={}", B64URL.encode(signature), self.public_key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::{Aead, KeyInit};
    use p256::elliptic_curve::sec1::ToEncodedPoint;

    /// RFC 8291, Appendix A: the worked example's inputs and its encrypted
    /// body, with the ECDH and AES-GCM that WebCrypto does in the worker
    /// done here by the RustCrypto crates (dev-dependencies only).
    #[test]
    fn encrypts_rfc_8291_appendix_a() {
        let plaintext = b"When I grow up, I want to be a watermelon";
        let as_private = p256::SecretKey::from_slice(&base64url("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw").unwrap()).unwrap();
        let ua_public = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let auth = "BTBZMqHH6r4Tts7J_aSIgg";
        let salt: [u8; 16] = base64url("DGv6ra1nlYgDCS1FRnbzlw").unwrap().try_into().unwrap();
        let json = format!(
            r#"{{"endpoint":"https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV","keys":{{"p256dh":"{ua_public}","auth":"{auth}"}}}}"#
        );
        let subscription = Subscription::parse(&json, false).unwrap();
        let ua_key = p256::PublicKey::from_sec1_bytes(&subscription.p256dh).unwrap();
        let secret = p256::ecdh::diffie_hellman(as_private.to_nonzero_scalar(), ua_key.as_affine());
        let as_public: [u8; 65] = as_private.public_key().to_encoded_point(false).as_bytes().try_into().unwrap();
        let (cek, nonce) = content_keys(secret.raw_secret_bytes(), &subscription.auth, &subscription.p256dh, &as_public, &salt);
        let sealed = aes_gcm::Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), record(plaintext).as_slice())
            .unwrap();
        let expected = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
        assert_eq!(B64URL.encode(body(&salt, &as_public, &sealed)), expected);
    }

    #[test]
    fn subscriptions_are_checked() {
        let good_key = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let point = base64url(good_key).unwrap();
        // The same key compressed (0x02/0x03 ‖ x, 33 bytes), and 65 bytes that do not start with 0x04.
        let compressed = B64URL.encode([&[2u8][..], &point[1..33]].concat());
        let hybrid = B64URL.encode([&[3u8][..], &point[1..]].concat());
        let sub = |endpoint: &str, p256dh: &str, auth: &str| {
            format!(r#"{{"endpoint":"{endpoint}","keys":{{"p256dh":"{p256dh}","auth":"{auth}"}}}}"#)
        };
        assert!(Subscription::parse(&sub("https://fcm.googleapis.com/fcm/send/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_ok());
        assert!(Subscription::parse(&sub("http://push.example.net/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("http://127.0.0.1:9/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("http://127.0.0.1:9/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), true).is_ok());
        assert!(Subscription::parse(&sub("https://10.0.0.1/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), true).is_err());
        assert!(Subscription::parse(&sub("https://push.example.net/x", "BCVx", "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("https://push.example.net/x", &compressed, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("https://push.example.net/x", &hybrid, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("https://push.example.net/x", good_key, "BTBZMqHH6r4Tts7J"), false).is_err());
        assert!(Subscription::parse("{}", false).is_err());
    }

    /// The VAPID JWT's signing input: an ES256 header and the claims of
    /// RFC 8292 §2 (the signature is the runtime's: the push stand-in of
    /// the integration tests verifies it).
    #[test]
    fn the_vapid_jwt_is_es256_for_the_endpoint_origin() {
        let endpoint = url::Url::parse("https://push.example.net:8443/push/abc").unwrap();
        let input = vapid_signing_input(&endpoint, "mailto:ops@example.com", 1_700_000_000);
        let (header, claims) = input.split_once('.').unwrap();
        let decode = |part: &str| serde_json::from_slice::<serde_json::Value>(&B64URL.decode(part).unwrap()).unwrap();
        assert_eq!(decode(header), serde_json::json!({"typ": "JWT", "alg": "ES256"}));
        assert_eq!(
            decode(claims),
            serde_json::json!({"aud": "https://push.example.net:8443", "exp": 1_700_000_000 + 12 * 3600, "sub": "mailto:ops@example.com"})
        );
    }
}
