//! Password hashing: PBKDF2-HMAC-SHA256 through Web Crypto with 100,000
//! iterations (the Workers platform's limit), a random 16-byte salt per
//! password, and a constant-time comparison.
//!
//! # Format
//! Stored as `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>` (`users.password_hash`);
//! `cargo xtask` writes the demo owner's hash in the same format.

use js_sys::{Array, Uint8Array};
use subtle::ConstantTimeEq;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, Pbkdf2Params, WorkerGlobalScope};

/// PBKDF2 iterations for new hashes.
pub const ITERATIONS: u32 = 100_000;

const SCHEME: &str = "pbkdf2-sha256";

fn js_error(err: JsValue) -> worker::Error {
    worker::Error::RustError(format!("Web Crypto: {err:?}"))
}

/// PBKDF2-HMAC-SHA256 of `password` with `salt`, 32 bytes.
async fn derive(password: &str, salt: &[u8], iterations: u32) -> worker::Result<Vec<u8>> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let subtle = scope.crypto().map_err(js_error)?.subtle();
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let key_data = Uint8Array::from(password.as_bytes());
    let key: CryptoKey = JsFuture::from(subtle.import_key_with_str("raw", &key_data, "PBKDF2", false, &usages).map_err(js_error)?)
        .await
        .map_err(js_error)?
        .unchecked_into();
    let params = Pbkdf2Params::new("PBKDF2", &JsValue::from_str("SHA-256"), iterations, &Uint8Array::from(salt));
    let bits = JsFuture::from(subtle.derive_bits_with_object(&params, &key, 256).map_err(js_error)?).await.map_err(js_error)?;
    Ok(Uint8Array::new(&bits).to_vec())
}

/// Hashes a new password with a fresh salt, in the stored format.
pub async fn hash(password: &str) -> worker::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| worker::Error::RustError(e.to_string()))?;
    let derived = derive(password, &salt, ITERATIONS).await?;
    Ok(format!("{SCHEME}${ITERATIONS}${}${}", hex::encode(salt), hex::encode(derived)))
}

/// The parts of a stored hash: iterations, salt, hash. `None` when malformed.
pub fn parse(stored: &str) -> Option<(u32, Vec<u8>, Vec<u8>)> {
    let mut parts = stored.split('$');
    if parts.next()? != SCHEME {
        return None;
    }
    let iterations = parts.next()?.parse().ok().filter(|i| (1..=ITERATIONS).contains(i))?;
    let salt = hex::decode(parts.next()?).ok()?;
    let hash = hex::decode(parts.next()?).ok()?;
    (parts.next().is_none() && hash.len() == 32).then_some((iterations, salt, hash))
}

/// `true` when `password` matches the stored hash (compared in constant time).
pub async fn verify(password: &str, stored: &str) -> worker::Result<bool> {
    let Some((iterations, salt, expected)) = parse(stored) else {
        return Ok(false);
    };
    let derived = derive(password, &salt, iterations).await?;
    Ok(derived.ct_eq(&expected).into())
}

/// A well-formed hash that matches no password, verified for unknown
/// emails so that they take as long as wrong passwords.
pub const DUMMY_HASH: &str =
    "pbkdf2-sha256$100000$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hashes_parse_and_malformed_ones_do_not() {
        let (iterations, salt, hash) = parse(DUMMY_HASH).unwrap();
        assert_eq!((iterations, salt.len(), hash.len()), (100_000, 16, 32));
        assert!(parse("md5$1$00$00").is_none());
        assert!(parse("pbkdf2-sha256$100001$00$0000000000000000000000000000000000000000000000000000000000000000").is_none());
        assert!(parse("pbkdf2-sha256$100000$zz$00").is_none());
        assert!(parse("").is_none());
    }
}
