//! Web Push (RFC 8030) to a browser's push subscription: the payload
//! encrypted with `aes128gcm` (RFC 8291 "Message Encryption for Web Push"
//! over RFC 8188 "Encrypted Content-Encoding for HTTP"), the request signed
//! with VAPID (RFC 8292, an ES256 JWT). Built from the RustCrypto crates
//! (`p256` ECDH, `hkdf`/`sha2`, `aes-gcm`) and `jsonwebtoken`: the
//! `web-push` and `ece` crates need OpenSSL and do not build for wasm32.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use p256::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

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
    /// The user agent's P-256 public key (`keys.p256dh`, 65 bytes uncompressed).
    pub p256dh: PublicKey,
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
    /// only on a loopback host when `allow_local`, for tests), `p256dh` a
    /// P-256 point of 65 bytes, `auth` 16 bytes (RFC 8291 §3).
    ///
    /// Errors: why it was refused, in words for a 422.
    pub fn parse(json: &str, allow_local: bool) -> Result<Subscription, String> {
        let raw: SubscriptionJson = serde_json::from_str(json)
            .map_err(|_| "token must be a Web Push subscription: {endpoint, keys: {p256dh, auth}}".to_string())?;
        if let Some(problem) = crate::webhooks::url_problem(&raw.endpoint, allow_local) {
            return Err(format!("the subscription's endpoint is refused: {problem}"));
        }
        let endpoint = url::Url::parse(raw.endpoint.trim()).map_err(|_| "the subscription's endpoint is not a URL".to_string())?;
        let p256dh = base64url(&raw.keys.p256dh).map_err(|e| format!("keys.p256dh {e}"))?;
        if p256dh.len() != 65 || p256dh[0] != 4 {
            return Err("keys.p256dh must be an uncompressed P-256 public key (65 bytes)".into());
        }
        let p256dh = PublicKey::from_sec1_bytes(&p256dh).map_err(|_| "keys.p256dh is not a P-256 point".to_string())?;
        let auth: [u8; 16] = base64url(&raw.keys.auth)
            .map_err(|e| format!("keys.auth {e}"))?
            .try_into()
            .map_err(|_| "keys.auth must be 16 bytes".to_string())?;
        Ok(Subscription { endpoint, p256dh, auth })
    }

    /// The canonical JSON of a subscription [`Subscription::parse`]
    /// accepts, `{"endpoint","keys":{"p256dh","auth"}}` (base64url without
    /// padding), so that the same subscription sent twice is one device.
    pub fn canonical(json: &str, allow_local: bool) -> Result<String, String> {
        let subscription = Subscription::parse(json, allow_local)?;
        Ok(serde_json::json!({
            "endpoint": subscription.endpoint.as_str(),
            "keys": {
                "p256dh": B64URL.encode(subscription.p256dh.to_encoded_point(false).as_bytes()),
                "auth": B64URL.encode(subscription.auth),
            }
        })
        .to_string())
    }
}

/// Encrypts `plaintext` for `subscription` (RFC 8291 §3.4, one `aes128gcm`
/// record of RFC 8188) with the application server's one-time key pair
/// `server_key` and a random 16-byte `salt`: answers the request body,
/// `salt ‖ rs ‖ idlen ‖ keyid (the server's public key) ‖ ciphertext`.
pub fn encrypt(plaintext: &[u8], subscription: &Subscription, server_key: &SecretKey, salt: [u8; 16]) -> Result<Vec<u8>, String> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(format!("push payload over {MAX_PLAINTEXT} bytes"));
    }
    let ua_public = subscription.p256dh.to_encoded_point(false);
    let as_public = server_key.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(server_key.to_nonzero_scalar(), subscription.p256dh.as_affine());
    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" ‖ 0 ‖ ua_public ‖ as_public, 32)
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_public.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(&subscription.auth), shared.raw_secret_bytes()).expand(&key_info, &mut ikm).map_err(|e| e.to_string())?;
    // RFC 8188 §2.2 and §2.3: the content-encryption key and the nonce.
    let prk = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|e| e.to_string())?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|e| e.to_string())?;
    // The last (and only) record: the plaintext, then the delimiter 0x02, no padding.
    let mut record = plaintext.to_vec();
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|e| e.to_string())?;
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), record.as_slice()).map_err(|e| e.to_string())?;
    let mut body = Vec::with_capacity(86 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The application server's VAPID key (RFC 8292 §3.2): the P-256 private
/// key from the secret `VAPID_PRIVATE_KEY` (base64url of its 32-byte
/// scalar, as `web-push generate-vapid-keys` prints it) and the contact
/// `VAPID_SUBJECT` (`mailto:` or `https:`).
#[derive(Clone)]
pub struct Vapid {
    key: SecretKey,
    subject: String,
}

#[derive(Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: i64,
    sub: &'a str,
}

impl Vapid {
    /// The key from its base64url scalar; `None` when it is not one.
    pub fn new(private_key: &str, subject: &str) -> Option<Vapid> {
        let bytes = base64url(private_key).ok()?;
        let key = SecretKey::from_slice(&bytes).ok()?;
        Some(Vapid { key, subject: subject.trim().to_string() })
    }

    /// The public key browsers pass to `pushManager.subscribe` as
    /// `applicationServerKey`: base64url (no padding) of the 65-byte
    /// uncompressed point.
    pub fn public_key(&self) -> String {
        B64URL.encode(self.key.public_key().to_encoded_point(false).as_bytes())
    }

    /// The `Authorization` header of a push to `endpoint` at `now` (Unix
    /// seconds): `vapid t=<ES256 JWT>, k=<public key>` (RFC 8292 §3), the
    /// JWT's `aud` the endpoint's origin, `exp` 12 hours ahead, `sub` the contact.
    pub fn authorization(&self, endpoint: &url::Url, now: i64) -> Result<String, String> {
        let audience = endpoint.origin().ascii_serialization();
        let claims = VapidClaims { aud: &audience, exp: now + VAPID_SECONDS, sub: &self.subject };
        let der = self.key.to_pkcs8_der().map_err(|e| e.to_string())?;
        let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes());
        let jwt = crate::auth::jwt_crypto::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &claims, &key)
            .map_err(|e| e.to_string())?;
        Ok(format!("vapid t={jwt}, k={}", self.public_key()))
    }
}

/// A fresh one-time key pair and salt for [`encrypt`], from the Workers
/// runtime's `crypto.getRandomValues`.
pub fn fresh_key_and_salt() -> (SecretKey, [u8; 16]) {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).expect("the Workers runtime provides crypto.getRandomValues");
    loop {
        let mut scalar = [0u8; 32];
        getrandom::getrandom(&mut scalar).expect("the Workers runtime provides crypto.getRandomValues");
        // A scalar of zero or above the group order (probability ~2^-32) is drawn again.
        if let Ok(key) = SecretKey::from_slice(&scalar) {
            return (key, salt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8291, Appendix A: the worked example's inputs and its encrypted body.
    #[test]
    fn encrypts_rfc_8291_appendix_a() {
        let plaintext = b"When I grow up, I want to be a watermelon";
        let as_private = base64url("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw").unwrap();
        let ua_public = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let auth = "BTBZMqHH6r4Tts7J_aSIgg";
        let salt: [u8; 16] = base64url("DGv6ra1nlYgDCS1FRnbzlw").unwrap().try_into().unwrap();
        let json = format!(
            r#"{{"endpoint":"https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV","keys":{{"p256dh":"{ua_public}","auth":"{auth}"}}}}"#
        );
        let subscription = Subscription::parse(&json, false).unwrap();
        let server_key = SecretKey::from_slice(&as_private).unwrap();
        let body = encrypt(plaintext, &subscription, &server_key, salt).unwrap();
        let expected = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
        assert_eq!(B64URL.encode(&body), expected);
    }

    #[test]
    fn subscriptions_are_checked() {
        let good_key = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
        let sub = |endpoint: &str, p256dh: &str, auth: &str| {
            format!(r#"{{"endpoint":"{endpoint}","keys":{{"p256dh":"{p256dh}","auth":"{auth}"}}}}"#)
        };
        assert!(Subscription::parse(&sub("https://fcm.googleapis.com/fcm/send/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_ok());
        assert!(Subscription::parse(&sub("http://push.example.net/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("http://127.0.0.1:9/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("http://127.0.0.1:9/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), true).is_ok());
        assert!(Subscription::parse(&sub("https://10.0.0.1/x", good_key, "BTBZMqHH6r4Tts7J_aSIgg"), true).is_err());
        assert!(Subscription::parse(&sub("https://push.example.net/x", "BCVx", "BTBZMqHH6r4Tts7J_aSIgg"), false).is_err());
        assert!(Subscription::parse(&sub("https://push.example.net/x", good_key, "BTBZMqHH6r4Tts7J"), false).is_err());
        assert!(Subscription::parse("{}", false).is_err());
    }

    #[test]
    fn vapid_header_is_an_es256_jwt_for_the_endpoint_origin() {
        let vapid = Vapid::new("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw", "mailto:ops@example.com").unwrap();
        let endpoint = url::Url::parse("https://push.example.net:8443/push/abc").unwrap();
        let header = vapid.authorization(&endpoint, 1_700_000_000).unwrap();
        let (jwt, key) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(key, vapid.public_key());
        let point = base64url(key).unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_ec_components(&B64URL.encode(&point[1..33]), &B64URL.encode(&point[33..])).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&["https://push.example.net:8443"]);
        validation.validate_exp = false;
        let claims = crate::auth::jwt_crypto::decode::<serde_json::Value>(jwt, &decoding, &validation).unwrap().claims;
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        assert_eq!(claims["exp"], 1_700_000_000 + 12 * 3600);
    }
}
