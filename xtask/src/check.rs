//! The checks `cargo xtask test` runs around the tests: formatting and lints
//! first (they fail in seconds), and last that the run left the git checkout
//! as clean as it found it (every generated file is git-ignored, the npm lock
//! is not rewritten).

use std::collections::BTreeSet;
use std::process::Command;

use crate::{output, root, run, Result};

/// `cargo fmt --all --check` (widths from `rustfmt.toml`).
pub fn fmt() -> Result<()> {
    eprintln!("xtask: cargo fmt --all --check");
    run(Command::new("cargo").args(["fmt", "--all", "--check"]).current_dir(root()))
        .map_err(|e| format!("{e}: run `cargo fmt --all` and commit the result").into())
}

/// The crates shipped as wasm, and their sources.
const WASM_CRATES: &[(&str, &str)] =
    &[("edgechat-worker", "worker/src"), ("edgechat-widget", "widget/src"), ("edgechat-shared", "shared/src")];

/// `cargo clippy --workspace --all-targets -- -D warnings` (STYLE.md:
/// warnings fail the tests). The host run covers the wasm crates, which
/// compile for the host too, as long as none of their code is compiled for
/// one target only; when some is (`cfg(target_arch …)` and the like), the
/// wasm crates are linted again for `wasm32-unknown-unknown`. That second run
/// checks every dependency again (7 minutes here), and on code without such
/// parts it reported exactly the host run's warnings, so it is skipped then.
pub fn clippy() -> Result<()> {
    eprintln!("xtask: cargo clippy --workspace --all-targets -- -D warnings");
    run(Command::new("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]).current_dir(root()))?;
    let mut target_specific = Vec::new();
    for (_, dir) in WASM_CRATES {
        target_specific.extend(files_with_target_cfg(&root().join(dir))?);
    }
    if target_specific.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: cargo clippy --target wasm32-unknown-unknown (target-specific code in {})", target_specific.join(", "));
    let mut cmd = Command::new("cargo");
    cmd.args(["clippy", "--target", "wasm32-unknown-unknown"]);
    for (krate, _) in WASM_CRATES {
        cmd.args(["-p", krate]);
    }
    run(cmd.args(["--", "-D", "warnings"]).current_dir(root()))
}

/// The `.rs` files under `dir` whose code depends on the target (see [`has_target_cfg`]).
fn files_with_target_cfg(dir: &std::path::Path) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(files_with_target_cfg(&path)?);
        } else if path.extension().is_some_and(|e| e == "rs") && has_target_cfg(&std::fs::read_to_string(&path)?) {
            found.push(path.strip_prefix(root()).unwrap_or(&path).display().to_string());
        }
    }
    Ok(found)
}

/// Whether Rust source `text` has a `cfg` on the target (`target_arch`,
/// `target_family`, `target_os`, `wasm`), so that a host build skips or
/// replaces some of its code.
pub fn has_target_cfg(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .any(|line| line.contains("cfg") && ["target_arch", "target_family", "target_os", "wasm"].iter().any(|key| line.contains(key)))
}

/// What `git status --porcelain` reports now, or `None` outside a git checkout
/// (e.g. an unpacked source archive), where the cleanliness check is skipped.
pub fn git_status() -> Option<String> {
    output(Command::new("git").args(["status", "--porcelain", "--untracked-files=all"]).current_dir(root()))
}

/// Fails, naming the files, when `after` (a `git status --porcelain` taken at
/// the end of a run) reports files that `before` (taken at its start) did not:
/// a generated file missing from `.gitignore`, or a tracked file the run
/// rewrote (such as `package-lock.json`). In a fresh clone (CI) `before` is
/// empty, so the checkout must end clean; a developer's own uncommitted
/// changes, present before the run, are left out.
pub fn left_clean(before: &str, after: &str) -> Result<()> {
    let new = new_entries(before, after);
    if new.is_empty() {
        return Ok(());
    }
    Err(format!(
        "the run changed the git checkout (git status --porcelain):\n  {}\n\
         git-ignore generated files in .gitignore; never rewrite tracked files",
        new.join("\n  ")
    )
    .into())
}

/// The lines of `after` that are not in `before`, in `after`'s order.
pub fn new_entries(before: &str, after: &str) -> Vec<String> {
    let known: BTreeSet<&str> = before.lines().collect();
    after.lines().filter(|line| !line.trim().is_empty() && !known.contains(line)).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_specific_code_is_spotted_and_comments_are_not() {
        assert!(has_target_cfg("#[cfg(target_arch = \"wasm32\")]\nfn now() {}"));
        assert!(has_target_cfg("    if cfg!(target_family = \"wasm\") {"));
        assert!(has_target_cfg("#[cfg_attr(not(target_os = \"unknown\"), allow(dead_code))]"));
        assert!(!has_target_cfg("#[cfg(test)]\nmod tests {}"));
        assert!(!has_target_cfg("// cfg(target_arch) is not used here\nfn f() {}"));
    }

    #[test]
    fn a_clean_run_of_a_clean_checkout_passes() {
        assert!(left_clean("", "").is_ok());
    }

    #[test]
    fn a_rewritten_lock_and_an_unignored_output_are_named() {
        let err = left_clean("", " M package-lock.json\n?? worker/pkg/index.js\n").unwrap_err().to_string();
        assert!(err.contains(" M package-lock.json"), "{err}");
        assert!(err.contains("?? worker/pkg/index.js"), "{err}");
    }

    #[test]
    fn changes_present_before_the_run_are_not_blamed_on_it() {
        let before = " M README.md\n?? notes.txt\n";
        assert!(left_clean(before, before).is_ok());
        assert_eq!(new_entries(before, " M README.md\n?? notes.txt\n?? public/x.js\n"), vec!["?? public/x.js".to_string()]);
    }

    #[test]
    fn a_file_staged_differently_counts_as_new() {
        assert_eq!(new_entries(" M a.rs\n", "MM a.rs\n"), vec!["MM a.rs".to_string()]);
    }
}
