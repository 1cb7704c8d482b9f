//! The cryptography `jsonwebtoken` signs and verifies with: its
//! `CryptoProvider` extension point, with only the algorithms EdgeChat
//! uses, from the RustCrypto crates.
//!
//! | Algorithm (RFC 7518) | Used by | Sign | Verify |
//! |---|---|---|---|
//! | HS256 | access tokens (`auth::jwt`), identity tokens (`auth::app_session`) | yes | yes |
//!
//! Any other algorithm is `InvalidAlgorithm`: FCM's RS256 grant and the
//! VAPID JWT's ES256 are signed by WebCrypto (`push::fcm`, `push::web`),
//! which needs no JWT library's signer. The crate's own `rust_crypto` provider
//! compiles every algorithm (RSA, P-384, Ed25519), which put about 300 KB of
//! code into the wasm (issue 16: the worker's upload).
//!
//! Every use of `jsonwebtoken` goes through [`encode`] and [`decode`],
//! which install this provider first (`worker/clippy.toml` refuses direct
//! calls of `jsonwebtoken::encode` and `decode`).

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, TokenData, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// EdgeChat's provider: HS256.
static PROVIDER: CryptoProvider =
    CryptoProvider { signer_factory: signer, verifier_factory: verifier, jwk_utils: JwkUtils::new_unimplemented() };

/// Makes [`PROVIDER`] the process's provider (once; later calls do nothing).
fn install() {
    // `Err` means it is installed already: only this module installs one.
    let _ = PROVIDER.install_default();
}

/// `jsonwebtoken::encode` with [`PROVIDER`]: the compact JWT of `claims`
/// under `header`, signed with `key`. Errors: an algorithm this provider
/// lacks, or a key of the wrong kind (`InvalidAlgorithm`, `InvalidKeyFormat`).
pub fn encode<T: Serialize>(header: &Header, claims: &T, key: &EncodingKey) -> Result<String> {
    install();
    #[allow(clippy::disallowed_methods)] // the one call: worker/clippy.toml
    jsonwebtoken::encode(header, claims, key)
}

/// `jsonwebtoken::decode` with [`PROVIDER`]: the checked claims of `token`,
/// by `validation`'s rules (its algorithms, `exp`, leeway).
pub fn decode<T: DeserializeOwned>(token: &str, key: &DecodingKey, validation: &Validation) -> Result<TokenData<T>> {
    install();
    #[allow(clippy::disallowed_methods)] // the one call: worker/clippy.toml
    jsonwebtoken::decode(token, key, validation)
}

fn unsupported() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

fn wrong_key() -> Error {
    ErrorKind::InvalidKeyFormat.into()
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256::keyed(key.try_get_hmac_secret()?)?)),
        _ => Err(unsupported()),
    }
}

fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(Hs256::keyed(key.try_get_hmac_secret()?)?)),
        _ => Err(unsupported()),
    }
}

/// HS256 (RFC 7518 §3.2): HMAC-SHA-256; verified in constant time.
struct Hs256(HmacSha256);

impl Hs256 {
    /// HMAC keyed with `secret` (the key of an encoding or decoding key).
    fn keyed(secret: &[u8]) -> Result<Hs256> {
        HmacSha256::new_from_slice(secret).map(Hs256).map_err(|_| wrong_key())
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        Ok(self.0.clone().chain_update(message).finalize().into_bytes().to_vec())
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        self.0.clone().chain_update(message).verify_slice(tag).map_err(signature::Error::from_source)
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
    struct Claims {
        sub: String,
        exp: u64,
    }

    fn claims() -> Claims {
        Claims { sub: "7".into(), exp: jsonwebtoken::get_current_timestamp() + 60 }
    }

    #[test]
    fn hs256_round_trips_and_a_wrong_secret_fails() {
        let token = encode(&Header::new(Algorithm::HS256), &claims(), &EncodingKey::from_secret(b"secret-one")).unwrap();
        let validation = Validation::new(Algorithm::HS256);
        assert_eq!(decode::<Claims>(&token, &DecodingKey::from_secret(b"secret-one"), &validation).unwrap().claims.sub, "7");
        let wrong = decode::<Claims>(&token, &DecodingKey::from_secret(b"secret-two"), &validation).unwrap_err();
        assert_eq!(*wrong.kind(), ErrorKind::InvalidSignature);
    }

    #[test]
    fn other_algorithms_and_mismatched_keys_are_refused() {
        let hmac = EncodingKey::from_secret(b"secret-one");
        for algorithm in
            [Algorithm::HS384, Algorithm::HS512, Algorithm::ES256, Algorithm::ES384, Algorithm::PS256, Algorithm::EdDSA, Algorithm::RS256]
        {
            assert!(encode(&Header::new(algorithm), &claims(), &hmac).is_err(), "{algorithm:?}");
        }
        for algorithm in [Algorithm::ES256, Algorithm::RS256] {
            assert!(encode(&Header::new(algorithm), &claims(), &hmac).is_err(), "{algorithm:?} with an HMAC secret");
        }
        let token = encode(&Header::new(Algorithm::HS256), &claims(), &hmac).unwrap();
        let refused = decode::<Claims>(&token, &DecodingKey::from_secret(b"secret-one"), &Validation::new(Algorithm::HS512));
        assert!(refused.is_err(), "a validation asking another algorithm");
        // An HS256 token checked with a public EC key (HMAC keyed by public
        // bytes: the classic confusion) is refused, whatever the validation allows.
        let ec =
            DecodingKey::from_ec_components("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")
                .unwrap();
        let mut both = Validation::new(Algorithm::HS256);
        both.algorithms = vec![Algorithm::HS256, Algorithm::ES256];
        assert!(decode::<Claims>(&token, &ec, &both).is_err(), "an EC key never verifies HMAC");
    }
}
