//! `cargo xtask fuzz --minutes N`: the long run of the property tests of
//! every parser of untrusted input (issue 16, "Hostile input").
//!
//! The targets are the tests of `edgechat-shared`'s `fuzz` integration test
//! (`shared/tests/fuzz/`) and of the worker's `props` modules (the LLM
//! stream reader). `cargo xtask test` runs each for a few hundred cases;
//! here each gets an equal share of the N minutes (what a quick target
//! leaves goes to the next ones):
//!
//! - a shared target runs once with `FUZZ_SECONDS` = its share: it repeats
//!   batches of fresh random cases until the time is spent and prints
//!   `fuzz <name>: <cases> cases, no failure`;
//! - a worker target (`proptest!`) runs again and again with
//!   `PROPTEST_CASES` grown to fill what is left of its share.
//!
//! Prints one line per target, `<target>: <cases> cases, no failure` or
//! `<target>: FAILED …` with the end of its output (proptest's shrunk
//! input), and fails when any target failed.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::{root, run, Result};

/// A property target: its cargo package and test binary arguments.
struct Target {
    /// `cargo test` arguments selecting the binary, e.g. `["-p", "edgechat-shared", "--test", "fuzz"]`.
    binary: &'static [&'static str],
    /// The test's full name in that binary.
    name: String,
    /// Time-bounded in-process (`FUZZ_SECONDS`) rather than by `PROPTEST_CASES`.
    timed: bool,
}

const SHARED: &[&str] = &["-p", "edgechat-shared", "--test", "fuzz"];
const WORKER: &[&str] = &["-p", "edgechat-worker", "--lib"];

/// Tests of the worker crate that are property targets (module path prefix).
const WORKER_PROPS: &str = "responder::llm::props::";

/// Runs every target for its share of `minutes`.
///
/// Errors: a target failed (its output is printed), or `cargo` failed to
/// build or list the tests.
pub fn fuzz(minutes: f64) -> Result<()> {
    for binary in [SHARED, WORKER] {
        run(Command::new("cargo").arg("test").args(binary).arg("--no-run").current_dir(root()))?;
    }
    let mut targets = Vec::new();
    for (binary, prefix, timed) in [(SHARED, "", true), (WORKER, WORKER_PROPS, false)] {
        let listed = cargo_test(binary, &["--list"], &[])?.1;
        for line in listed.lines() {
            if let Some(name) = line.strip_suffix(": test").filter(|name| name.starts_with(prefix)) {
                targets.push(Target { binary, name: name.to_string(), timed });
            }
        }
    }
    if targets.is_empty() {
        return Err("no fuzz targets found".into());
    }
    let deadline = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let mut failed = Vec::new();
    println!("== cargo xtask fuzz --minutes {minutes}: {} targets ==", targets.len());
    for (n, target) in targets.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / (targets.len() - n) as u32;
        let started = Instant::now();
        let outcome = if target.timed { timed(target, share) } else { by_cases(target, share) };
        let took = started.elapsed().as_secs_f64();
        match outcome {
            Ok(None) => println!("{}: deterministic, passed ({took:.0} s)", target.name),
            Ok(Some(cases)) => println!("{}: {cases} cases, no failure ({took:.0} s)", target.name),
            Err(output) => {
                let tail: Vec<&str> = output.lines().rev().take(25).collect();
                println!("{}: FAILED ({took:.0} s)\n{}", target.name, tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
                failed.push(target.name.clone());
            }
        }
    }
    if failed.is_empty() {
        println!("fuzz: all {} targets, no failure", targets.len());
        Ok(())
    } else {
        Err(format!("fuzz: {} target(s) failed: {}", failed.len(), failed.join(", ")).into())
    }
}

/// `cargo test <binary> -- <args>` with `env`: whether it passed, and its output.
fn cargo_test(binary: &[&str], args: &[&str], env: &[(&str, String)]) -> Result<(bool, String)> {
    let mut cmd = Command::new("cargo");
    cmd.args(["test", "-q"]).args(binary).arg("--").args(args).current_dir(root());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((out.status.success(), text))
}

/// A shared target, run once for `share`: the cases it reports (`None`
/// for a test that is no property: it runs once).
fn timed(target: &Target, share: Duration) -> std::result::Result<Option<u64>, String> {
    let args = ["--exact", target.name.as_str(), "--nocapture"];
    let env = [("FUZZ_SECONDS", format!("{:.1}", share.as_secs_f64()))];
    let (passed, output) = cargo_test(target.binary, &args, &env).map_err(|e| e.to_string())?;
    if !passed {
        return Err(output);
    }
    // `fuzz <name>: <cases> cases, no failure`.
    Ok(output.lines().find_map(|line| line.strip_prefix("fuzz ")?.split(": ").nth(1)?.split(' ').next()?.parse().ok()))
}

/// A worker target, run with `PROPTEST_CASES` grown until `share` is spent:
/// the cases run in all.
fn by_cases(target: &Target, share: Duration) -> std::result::Result<Option<u64>, String> {
    let started = Instant::now();
    let (mut cases, mut total) = (256u64, 0u64);
    loop {
        let run_started = Instant::now();
        let args = ["--exact", target.name.as_str()];
        let (passed, output) = cargo_test(target.binary, &args, &[("PROPTEST_CASES", cases.to_string())]).map_err(|e| e.to_string())?;
        if !passed {
            return Err(format!("after {total} passing cases:\n{output}"));
        }
        total += cases;
        let left = share.saturating_sub(started.elapsed());
        let took = run_started.elapsed().max(Duration::from_millis(100));
        if left < took {
            return Ok(Some(total));
        }
        // Aim at what is left, at most 8× the last run.
        cases = ((cases as f64 * left.as_secs_f64() / took.as_secs_f64()) as u64).clamp(1, cases * 8);
    }
}
