//! API key secrets (issue 13): `eck_` + 40 lower-case hex digits, 160
//! random bits from the platform's CSPRNG.
//!
//! Stored only as the SHA-256 hash (hex) of the whole secret. A slow
//! password hash (PBKDF2, as for passwords) is not needed: it protects
//! guessable human secrets, while 160 random bits cannot be found from
//! their hash by any search, and a fast hash keeps the lookup of every
//! request to one indexed equality (the GitHub and Stripe token schemes
//! do the same).

use sha2::{Digest, Sha256};

use super::random_hex;

/// The start of every API key; a bearer token with it is a key, any other a JWT.
pub const PREFIX: &str = "eck_";

/// Characters of a key shown in listings (`eck_` + 8 hex digits): enough
/// to tell keys apart, far too few (32 bits) to help guess the rest.
const VISIBLE_CHARS: usize = PREFIX.len() + 8;

/// A new key: the secret, shown once, and its visible prefix.
pub struct NewSecret {
    pub key: String,
    pub prefix: String,
}

/// Draws a new secret.
pub fn generate() -> NewSecret {
    let key = format!("{PREFIX}{}", random_hex(20));
    let prefix = key[..VISIBLE_CHARS].to_string();
    NewSecret { key, prefix }
}

/// SHA-256 of a presented key, hex: what D1 stores and looks up.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether a bearer token is an API key (rather than an access JWT, whose
/// base64url header never starts with `eck_`).
pub fn is_api_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_hash_is_sha256_hex_of_the_whole_key() {
        assert_eq!(key_hash("eck_abc"), hex::encode(Sha256::digest(b"eck_abc")));
        assert_eq!(key_hash("eck_abc").len(), 64);
        assert!(is_api_key("eck_0123") && !is_api_key("eyJhbGciOiJIUzI1NiJ9.x.y"));
    }
}
