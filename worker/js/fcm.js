// The signature of the FCM grant JWT (worker/src/push/fcm.rs): RS256
// (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3) by the runtime's
// WebCrypto, with the service account's PKCS#8 PEM key.

// The RS256 signature of `message` (bytes) under `pkcs8Pem`
// (`-----BEGIN PRIVATE KEY-----`); rejects a key that is not PKCS#8 RSA.
export async function signRs256(pkcs8Pem, message) {
  // A copy: wasm-bindgen passes a view into the wasm memory, which a memory
  // growth by another request during the `await` below would detach.
  message = message.slice();
  const base64 = pkcs8Pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  const der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign(algorithm, key, message));
}
