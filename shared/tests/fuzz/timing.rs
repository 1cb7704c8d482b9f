//! "Time bounded" as a test can check it on a shared machine: a parser is
//! linear when 4× the input takes well under 16× the time (what a quadratic
//! one takes). Time is the thread's CPU time (not wall time, which other
//! processes on a loaded machine inflate more for long runs than for short
//! ones), the best of three runs; and the sizes are
//! past the step where the working set leaves the CPU's caches (below
//! ~40 KB of Markdown or ~200 KB of SSE, doubling the input here can cost
//! 6× the time, for a linear parser too).

use std::time::Duration;

/// CPU time used by this thread so far.
#[cfg(unix)]
fn cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Elsewhere: wall time.
#[cfg(not(unix))]
fn cpu_time() -> Duration {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

/// The best of three timings of `f`.
fn best(f: &mut dyn FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let started = cpu_time();
            f();
            cpu_time().saturating_sub(started)
        })
        .min()
        .unwrap_or_default()
}

/// Asserts that `parse` of `make(n)` grows linearly from `n` to `4n`:
/// under 10× the time (linear is 4×, quadratic 16×; `n`'s time counts as
/// at least 0.5 ms). Under 5 ms at `4n` passes outright: too short to
/// measure, and fast enough.
pub fn assert_linear(what: &str, n: usize, make: impl Fn(usize) -> String, parse: impl Fn(&str)) {
    let (small, large) = (make(n), make(4 * n));
    let t_small = best(&mut || parse(&small));
    let t_large = best(&mut || parse(&large));
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(0.000_5);
    assert!(
        t_large < Duration::from_millis(5) || ratio < 10.0,
        "{what}: {} bytes took {t_small:?}, {} bytes {t_large:?} (×{ratio:.1}): not linear",
        small.len(),
        large.len()
    );
}
