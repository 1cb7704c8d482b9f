//! Installs what a fresh machine (rustup, Node, npm, apt) lacks, reusing what
//! is already there: the wasm32 target, the pinned `wasm-bindgen-cli` and
//! `worker-build`, the npm packages, and Chromium for browser tests.
//! A second run installs nothing.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use crate::{output, root, run, Result};

/// `worker-build` version matching the `worker` crate (TOOLCHAIN.md).
pub const WORKER_BUILD_VERSION: &str = "0.8.7";

/// Paths of the tools the build uses.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `wasm-bindgen` of exactly the version in `Cargo.lock`.
    pub wasm_bindgen: PathBuf,
    /// `worker-build`.
    pub worker_build: PathBuf,
    /// `wasm-opt` from the npm package `binaryen`.
    pub wasm_opt: PathBuf,
    /// Node ≥ 22 from the npm package `node` (wrangler needs it).
    pub node: PathBuf,
}

/// Everything `cargo xtask dev` and `build` need.
pub fn toolchain() -> Result<Tools> {
    wasm_target()?;
    let wasm_bindgen = cargo_tool("wasm-bindgen", "wasm-bindgen-cli", &pinned_wasm_bindgen()?)?;
    let worker_build = cargo_tool("worker-build", "worker-build", WORKER_BUILD_VERSION)?;
    npm_packages()?;
    let modules = root().join("node_modules");
    Ok(Tools { wasm_bindgen, worker_build, wasm_opt: modules.join(".bin/wasm-opt"), node: modules.join(".bin/node") })
}

/// rustup's `rustfmt` and `clippy` components (for `cargo xtask test`'s
/// first checks) and the wasm32 target, added when missing.
pub fn rust_components() -> Result<()> {
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if output(Command::new("cargo").args([probe, "--version"])).is_none() {
            run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    wasm_target()
}

/// The `wasm32-unknown-unknown` target and the `rust-src` component (the
/// standard library's source, which the widget and console builds compile
/// for size: [`crate::build`]'s `wasm_app`), added when missing.
pub fn wasm_target() -> Result<()> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let components = output(Command::new("rustup").args(["component", "list", "--installed"])).unwrap_or_default();
    if !components.lines().any(|l| l.trim().starts_with("rust-src")) {
        run(Command::new("rustup").args(["component", "add", "rust-src"]))?;
    }
    Ok(())
}

/// The `wasm-bindgen` version locked in `Cargo.lock`; the CLI must match it exactly.
pub fn pinned_wasm_bindgen() -> Result<String> {
    let lock = fs::read_to_string(root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// Finds `bin` of `version` on PATH or in cargo's bin folder, or installs
/// crate `krate` at that version. `--locked` is not passed: one locked
/// dependency of wasm-bindgen-cli is missing from the registry (TOOLCHAIN.md).
fn cargo_tool(bin: &str, krate: &str, version: &str) -> Result<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin");
    let candidates = [PathBuf::from(bin), cargo_bin.join(bin)];
    for candidate in &candidates {
        let reported = output(Command::new(candidate).arg("--version")).unwrap_or_default();
        if reported.split_whitespace().any(|word| word.trim_start_matches('v') == version) {
            return Ok(candidate.clone());
        }
    }
    eprintln!("xtask: installing {krate} {version} (a few minutes, once)");
    run(Command::new("cargo").args(["install", krate, "--version", version, "--force"]))?;
    Ok(cargo_bin.join(bin))
}

/// Installs exactly `package-lock.json`'s packages with `npm ci`, unless
/// `node_modules` already holds that lock (the stamp file written after the
/// last install). `npm ci` never writes the lock, so a fresh clone stays
/// clean; it fails when `package.json` and the lock disagree (then run
/// `npm install` and commit the lock). The lock holds every platform's
/// optional `workerd` packages (TOOLCHAIN.md, 2026-12 update).
fn npm_packages() -> Result<()> {
    let root = root();
    let lock = fs::read(root.join("package-lock.json"))?;
    let stamp = root.join("node_modules/.edgechat-lock");
    if fs::read(&stamp).ok().as_deref() == Some(&lock[..]) && root.join("node_modules/.bin/wrangler").exists() {
        return Ok(());
    }
    eprintln!("xtask: installing the npm packages of package-lock.json (npm ci)");
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&root))?;
    fs::write(stamp, lock)?;
    Ok(())
}

/// Chromium and its driver for the browser tests, from Debian's packages
/// when absent (TOOLCHAIN.md: a test tool's own browser download fails here).
pub fn chromium() -> Result<()> {
    let present = |p: &str| std::path::Path::new(p).exists();
    if present("/usr/bin/chromium") && present("/usr/bin/chromedriver") {
        return Ok(());
    }
    eprintln!("xtask: installing chromium and chromium-driver from apt");
    let sudo: &[&str] = if output(Command::new("id").arg("-u")).as_deref().map(str::trim) == Some("0") { &[] } else { &["sudo"] };
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        run(Command::new(all[0]).args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update", "-q"])?;
    apt(&["install", "-y", "-q", "chromium", "chromium-driver"])
}
