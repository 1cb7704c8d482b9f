// Operators' time zones (worker/src/timezone.rs) against the IANA tz
// database the runtime carries (its ICU data, through `Intl`): no tz table
// is compiled into the worker's wasm (issue 16).

// The runtime's preferred ID of the time zone `name` (`europe/paris` is
// `Europe/Paris`; an alias may become another: `US/Eastern` is
// `America/New_York`), or `undefined` when the runtime knows no such zone.
export function canonicalTimeZone(name) {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
