// Operators' time zones (worker/src/timezone.rs) against the IANA tz
// database the runtime carries (its ICU data, through `Intl`): no tz table
// is compiled into the worker's wasm (issue 16).

// `name` as the runtime writes it (`europe/paris` is `Europe/Paris`), or
// `undefined` when the runtime knows no such time zone.
export function canonicalTimeZone(name) {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
