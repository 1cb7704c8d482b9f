//! Every HMAC the worker makes goes through this module, with a named
//! [`Purpose`], so that no signature of one kind ever verifies as another
//! (ARCHITECTURE.md, security model; issue 10, hole 3). The secret is a
//! site's identity secret, or for [`Purpose::LiveToken`] the deployment's
//! `JWT_SECRET` (whose HS256 use for access tokens is `jsonwebtoken`'s, keyed
//! by the secret itself: the derived key never equals it).
//!
//! - [`Purpose::VisitorIdentity`]: `user_hash = HMAC-SHA256(secret, user_id)`,
//!   the public scheme site owners' servers compute (Intercom, Crisp and
//!   Chatwoot use the same). It is keyed by the secret itself and must
//!   never change.
//! - Every other purpose is keyed by its own key derived from the secret
//!   with HKDF-SHA256 (RFC 5869): `PRK = HMAC-SHA256(salt = "edgechat
//!   site-secret v1", IKM = secret)`, then `Expand(PRK, info = the purpose's
//!   label)`. The secret is only ever the *message* of an HMAC keyed by a
//!   constant there, never its key, so no `user_hash` a site's server
//!   computes — whatever user ids it signs — equals a derived key or a
//!   signature made with one, and the other way round.

use edgechat_shared::api::uploads::FILE_URL_SECONDS;
use edgechat_shared::upload::signed_payload;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HKDF salt of every derived key (RFC 5869, section 3.1: a fixed,
/// application-specific salt).
const DERIVATION_SALT: &[u8] = b"edgechat site-secret v1";

/// What a signature made with a site's identity secret is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A logged-in visitor's `user_hash` over their `user_id` (the public
    /// scheme, keyed by the secret itself).
    VisitorIdentity,
    /// A file link's `t` over `"<upload id>:<expiry unix seconds>"`
    /// ([`edgechat_shared::upload::signed_payload`]), keyed by the HKDF key
    /// of info `"edgechat file-link v1"`.
    FileLink,
    /// A file link of an internal conversation (no site, so no site secret):
    /// keyed by the HKDF key of `JWT_SECRET` with info `"edgechat internal
    /// file-link v1"`, a key used for nothing else (issue 12).
    InternalFileLink,
    /// The key of the identity JWTs (HS256) a site's backend mints for the
    /// app's sign-in (`POST /api/v1/app/session`, seed 003): the HKDF key of
    /// info `"edgechat identity-token v1"` as lower-case hex
    /// ([`identity_token_key`]). Not the secret itself: a `user_hash` is an
    /// HMAC keyed by the secret, so a site whose user ids users choose would
    /// otherwise sign a forged JWT for them (`header.payload` as a user id,
    /// the hash as its signature).
    IdentityToken,
    /// An operator's single-use live WebSocket token
    /// (`crate::inbox::tokens`), keyed by the HKDF key of `JWT_SECRET` with
    /// info `"edgechat live token v1"`.
    LiveToken,
}

impl Purpose {
    /// The HKDF `info` of the purpose's derived key; `None` for the public
    /// `user_hash` scheme, keyed by the secret itself.
    fn label(self) -> Option<&'static [u8]> {
        match self {
            Purpose::VisitorIdentity => None,
            Purpose::FileLink => Some(b"edgechat file-link v1"),
            Purpose::IdentityToken => Some(b"edgechat identity-token v1"),
            Purpose::LiveToken => Some(b"edgechat live token v1"),
            Purpose::InternalFileLink => Some(b"edgechat internal file-link v1"),
        }
    }

    /// The HMAC key of this purpose for `secret`: 32 derived bytes, or the
    /// secret's bytes for [`Purpose::VisitorIdentity`].
    fn key(self, secret: &str) -> Vec<u8> {
        match self.label() {
            None => secret.as_bytes().to_vec(),
            Some(info) => {
                let mut key = vec![0u8; 32];
                Hkdf::<Sha256>::new(Some(DERIVATION_SALT), secret.as_bytes())
                    .expand(info, &mut key)
                    .expect("32 bytes is a valid HKDF-SHA256 output length");
                key
            }
        }
    }

    fn mac(self, secret: &str, message: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key(secret)).expect("HMAC takes any key length");
        mac.update(message);
        mac
    }

    /// The signature of `message` for this purpose: HMAC-SHA256 in
    /// lower-case hex (64 characters).
    pub fn sign(self, secret: &str, message: &[u8]) -> String {
        hex::encode(self.mac(secret, message).finalize().into_bytes())
    }

    /// `true` when `signature` (hex, either case) is this purpose's signature
    /// of `message`; compared in constant time. Anything else, malformed hex
    /// included, is `false`.
    pub fn verify(self, secret: &str, message: &[u8], signature: &str) -> bool {
        match hex::decode(signature) {
            Ok(claimed) => self.mac(secret, message).verify_slice(&claimed).is_ok(),
            Err(_) => false,
        }
    }
}

/// The identity token key of a site whose identity secret is `secret`: the
/// 32 bytes of [`Purpose::IdentityToken`]'s HKDF key in lower-case hex (64
/// characters), whose UTF-8 bytes key the HS256 identity JWTs. Shown beside
/// the secret (`identity_token_key` of a site); rotating the secret changes it.
pub fn identity_token_key(secret: &str) -> String {
    hex::encode(Purpose::IdentityToken.key(secret))
}

/// The signed URL of upload `upload_id` for a site whose identity secret is
/// `site_secret`, valid [`FILE_URL_SECONDS`] from `now` (Unix seconds):
/// `/api/v1/chat/files/<id>?exp=<now + 30 days>&t=<hex>`, `t` signed for
/// [`Purpose::FileLink`] over [`signed_payload`] (`"<id>:<exp>"`). Checked
/// by `GET /api/v1/chat/files/{id}`; rotating the secret ends every link.
pub fn file_url(site_secret: &str, upload_id: i64, now: i64) -> String {
    signed_file_url(Purpose::FileLink, site_secret, upload_id, now)
}

/// [`file_url`] signed for `purpose` ([`Purpose::FileLink`] with a site's
/// secret, [`Purpose::InternalFileLink`] with `JWT_SECRET` for files of
/// conversations without a site).
pub fn signed_file_url(purpose: Purpose, secret: &str, upload_id: i64, now: i64) -> String {
    let expires = now + FILE_URL_SECONDS;
    let t = purpose.sign(secret, signed_payload(upload_id, expires).as_bytes());
    format!("/api/v1/chat/files/{upload_id}?exp={expires}&t={t}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "5f2b0c6e8a1d4f7b9c3e2a1d0f8b7c6e5d4c3b2a19080706050403020100ffee";

    /// What a site owner's server computes, written out independently.
    fn public_user_hash(secret: &str, user_id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(user_id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn the_public_user_hash_scheme_is_unchanged() {
        let hash = Purpose::VisitorIdentity.sign(SECRET, b"42");
        assert_eq!(hash, public_user_hash(SECRET, "42"));
        assert!(Purpose::VisitorIdentity.verify(SECRET, b"42", &hash));
        assert!(Purpose::VisitorIdentity.verify(SECRET, b"42", &hash.to_uppercase()), "hex in either case");
        assert!(!Purpose::VisitorIdentity.verify(SECRET, b"43", &hash));
        assert!(!Purpose::VisitorIdentity.verify("another secret", b"42", &hash));
        assert!(!Purpose::VisitorIdentity.verify(SECRET, b"42", "not hex"));
        assert!(!Purpose::VisitorIdentity.verify(SECRET, b"42", &hash[..62]), "a truncated signature");
    }

    #[test]
    fn a_file_link_signature_never_verifies_as_a_user_hash_nor_the_reverse() {
        let payload = signed_payload(7, 1_900_000_000);
        let link = Purpose::FileLink.sign(SECRET, payload.as_bytes());
        assert!(Purpose::FileLink.verify(SECRET, payload.as_bytes(), &link));
        assert!(!Purpose::VisitorIdentity.verify(SECRET, payload.as_bytes(), &link), "a link's t as the user_hash of \"<id>:<exp>\"");
        let hash = public_user_hash(SECRET, &payload);
        assert!(!Purpose::FileLink.verify(SECRET, payload.as_bytes(), &hash), "a user_hash of \"<id>:<exp>\" as a link's t");
    }

    #[test]
    fn no_user_id_hashes_to_the_file_link_key() {
        // A user whose id is the derivation's salt or label gets a user_hash
        // the site's server computed; neither is the file-link key.
        let key = hex::encode(Purpose::FileLink.key(SECRET));
        for user_id in ["edgechat site-secret v1", "edgechat file-link v1", "edgechat file-link v1\u{1}"] {
            assert_ne!(public_user_hash(SECRET, user_id), key, "{user_id:?}");
        }
    }

    /// The identity token key is the documented derivation (README,
    /// "Signing users in"), written out independently, and neither the
    /// secret nor a `user_hash` of the derivation's salt or label.
    #[test]
    fn the_identity_token_key_is_hkdf_of_the_secret_and_no_user_hash() {
        let prk =
            Hmac::<Sha256>::new_from_slice(b"edgechat site-secret v1").unwrap().chain_update(SECRET.as_bytes()).finalize().into_bytes();
        let okm = Hmac::<Sha256>::new_from_slice(&prk).unwrap().chain_update(b"edgechat identity-token v1\x01").finalize().into_bytes();
        let key = identity_token_key(SECRET);
        assert_eq!(key, hex::encode(okm));
        assert_ne!(key, SECRET);
        assert_ne!(key, identity_token_key("another secret"));
        for user_id in ["edgechat site-secret v1", "edgechat identity-token v1", "edgechat identity-token v1\u{1}"] {
            assert_ne!(public_user_hash(SECRET, user_id), key, "{user_id:?}");
        }
    }

    #[test]
    fn a_file_url_is_signed_for_file_links_for_30_days() {
        let url = file_url(SECRET, 7, 1_800_000_000);
        let exp = 1_800_000_000 + 30 * 24 * 3600;
        let t = url.strip_prefix(&format!("/api/v1/chat/files/7?exp={exp}&t=")).unwrap_or_else(|| panic!("{url}"));
        assert!(Purpose::FileLink.verify(SECRET, format!("7:{exp}").as_bytes(), t));
        assert!(!Purpose::VisitorIdentity.verify(SECRET, format!("7:{exp}").as_bytes(), t));
    }

    #[test]
    fn an_internal_file_link_is_not_a_site_file_link_nor_a_live_token() {
        let payload = signed_payload(7, 1_900_000_000);
        let internal = Purpose::InternalFileLink.sign(SECRET, payload.as_bytes());
        assert!(Purpose::InternalFileLink.verify(SECRET, payload.as_bytes(), &internal));
        assert!(!Purpose::FileLink.verify(SECRET, payload.as_bytes(), &internal));
        assert!(!Purpose::LiveToken.verify(SECRET, payload.as_bytes(), &internal));
        assert_ne!(Purpose::InternalFileLink.key(SECRET), SECRET.as_bytes().to_vec(), "never the JWT key itself");
    }

    #[test]
    fn the_file_link_key_is_hkdf_sha256_of_the_secret() {
        // RFC 5869 written out with HMAC: PRK = HMAC(salt, IKM); OKM = HMAC(PRK, info || 0x01).
        let mut prk = Hmac::<Sha256>::new_from_slice(DERIVATION_SALT).unwrap();
        prk.update(SECRET.as_bytes());
        let prk = prk.finalize().into_bytes();
        let mut okm = Hmac::<Sha256>::new_from_slice(&prk).unwrap();
        okm.update(b"edgechat file-link v1\x01");
        assert_eq!(Purpose::FileLink.key(SECRET), okm.finalize().into_bytes().to_vec());
    }
}
