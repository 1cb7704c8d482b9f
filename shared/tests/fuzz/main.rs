//! Property tests ("fuzzing" on the stable toolchain, with `proptest`) of
//! every parser of untrusted input in `edgechat-shared` (issue 16, "Hostile
//! input"): the SSE parser, the Markdown parser, chat ids and ticket
//! references, upload sniffing, the proactive URL matcher and the JSON
//! bodies of every public route. Each property says: no panic, bounded time
//! and memory, and the answer a caller relies on.
//!
//! Every property is one `#[test]` run through [`run`]: `cargo test -p
//! edgechat-shared --test fuzz` (part of `cargo xtask test`) runs
//! [`CI_CASES`] cases of each; `PROPTEST_CASES=N` changes that, and
//! `FUZZ_SECONDS=S` runs batches of cases until `S` seconds are spent
//! (`cargo xtask fuzz --minutes N` gives each property its share). Each
//! prints `fuzz <name>: <cases> cases, no failure`, or panics with the
//! shrunk failing input. Crashers found are kept as named regression tests
//! next to their property.

mod chat_id;
mod json;
mod markdown;
mod proactive;
mod sse;
mod timing;
mod upload;

use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseResult, TestRunner};

/// Cases of each property in a plain `cargo test` (CI): the whole suite
/// stays well under a minute on a loaded 2-core machine.
pub const CI_CASES: u32 = 256;

/// Runs property `name`: `test` on values of `strategy`, [`CI_CASES`] times
/// (or `PROPTEST_CASES`), or in batches until `FUZZ_SECONDS` have passed.
/// Prints the number of cases run; panics with the shrunk input on failure.
pub fn run<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> TestCaseResult) {
    run_with(name, CI_CASES, strategy, test);
}

/// [`run`] with `ci_cases` instead of [`CI_CASES`], for properties whose
/// cases are large (a megabyte each).
pub fn run_with<S: Strategy>(name: &str, ci_cases: u32, strategy: S, test: impl Fn(S::Value) -> TestCaseResult) {
    let env = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<f64>().ok());
    let batch = env("PROPTEST_CASES").map_or(ci_cases, |n| n as u32).max(1);
    let deadline = env("FUZZ_SECONDS").map(|s| Instant::now() + Duration::from_secs_f64(s));
    let started = Instant::now();
    let mut total: u64 = 0;
    loop {
        // A fresh random seed per batch; failures are kept as named tests, not files.
        let config = Config { cases: batch, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new(config);
        if let Err(failure) = runner.run(&strategy, &test) {
            panic!("fuzz {name}: FAILED after {total} passing cases: {failure}");
        }
        total += u64::from(batch);
        if deadline.is_none_or(|deadline| Instant::now() >= deadline) {
            break;
        }
    }
    println!("fuzz {name}: {total} cases, no failure ({:.1} s)", started.elapsed().as_secs_f64());
}
