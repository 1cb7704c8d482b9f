// Web Push's cryptography (worker/src/push/web.rs) by the runtime's
// WebCrypto: P-256 ECDH with a fresh key pair and AES-128-GCM for the
// payload (RFC 8291 over RFC 8188), and the ES256 signature of the VAPID
// JWT (RFC 8292, RFC 7518 §3.4). The Rust side composes them (HKDF, the
// record layout, the JWT); this file holds no protocol of its own. The
// RustCrypto crates it replaces (p256, ecdsa, aes-gcm and their
// dependencies) were about 40 KB of the worker's gzip (issue 16).

const ECDH = { name: 'ECDH', namedCurve: 'P-256' };
// Every byte argument is copied on entry: wasm-bindgen passes a view into the
// wasm memory, which a memory growth by another request during an `await`
// would detach.
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256' };

// PKCS#8 (RFC 5208) of a P-256 private key (RFC 5915 ECPrivateKey, version
// 1) without the optional public key, up to the 32-byte scalar: WebCrypto
// imports a private key from PKCS#8 or a JWK only, and a JWK needs the public
// point, which the runtime computes from the scalar on import.
const PKCS8_P256_PREFIX = Uint8Array.of(
  0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01,
  0x01, 0x04, 0x20,
);

function base64urlBytes(text) {
  return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
}

// The uncompressed point (65 bytes) of `publicKey`, a P-256 public CryptoKey.
async function rawPoint(publicKey) {
  return new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
}

// Resolves when `point` (65 bytes) is an uncompressed point on P-256;
// rejects otherwise (the runtime checks it is on the curve).
export async function checkP256Point(point) {
  point = point.slice();
  await crypto.subtle.importKey('raw', point, ECDH, false, []);
}

// ECDH of a fresh P-256 key pair with the user agent's `uaPublic` (65
// bytes): the shared secret (32 bytes) followed by the fresh public key (65
// bytes), 97 bytes. The private key never leaves the runtime.
export async function ecdhP256(uaPublic) {
  uaPublic = uaPublic.slice();
  const peer = await crypto.subtle.importKey('raw', uaPublic, ECDH, false, []);
  const pair = await crypto.subtle.generateKey(ECDH, true, ['deriveBits']);
  const secret = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: peer }, pair.privateKey, 256));
  const out = new Uint8Array(97);
  out.set(secret, 0);
  out.set(await rawPoint(pair.publicKey), 32);
  return out;
}

// AES-128-GCM of `plaintext` under `key` (16 bytes) and `nonce` (12 bytes):
// the ciphertext followed by the 16-byte tag.
export async function aes128gcmSeal(key, nonce, plaintext) {
  [key, nonce, plaintext] = [key.slice(), nonce.slice(), plaintext.slice()];
  const aes = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
  return new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, aes, plaintext));
}

async function signingKey(scalar, extractable) {
  // `scalar` is copied into `pkcs8` before the first `await`.
  const pkcs8 = new Uint8Array(PKCS8_P256_PREFIX.length + 32);
  pkcs8.set(PKCS8_P256_PREFIX, 0);
  pkcs8.set(scalar, PKCS8_P256_PREFIX.length);
  return crypto.subtle.importKey('pkcs8', pkcs8, ECDSA, extractable, ['sign']);
}

// The public point (65 bytes, uncompressed) of the P-256 private key
// `scalar` (32 bytes); rejects a scalar that is no key (zero, or not below
// the group order).
export async function p256PublicKey(scalar) {
  const jwk = await crypto.subtle.exportKey('jwk', await signingKey(scalar, true));
  const point = new Uint8Array(65);
  point[0] = 4;
  point.set(base64urlBytes(jwk.x), 1);
  point.set(base64urlBytes(jwk.y), 33);
  return point;
}

// The ES256 signature of `message` by the P-256 private key `scalar`:
// `r ‖ s`, 64 bytes, as a JWS carries it (RFC 7518 §3.4).
export async function es256Sign(scalar, message) {
  message = message.slice();
  const key = await signingKey(scalar, false);
  return new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, message));
}
