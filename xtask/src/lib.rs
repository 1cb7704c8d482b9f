//! The EdgeChat build and run tooling behind `cargo xtask`, also used as a
//! library by the integration tests and benches (`edgechat-tests`) to start
//! and seed their own `wrangler dev`.

pub mod bootstrap;
pub mod build;
pub mod check;
pub mod deploy;
pub mod fuzz;
pub mod seed;
pub mod soak;
pub mod wrangler;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Any failure of a task, as a message for the terminal.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What every task answers.
pub type Result<T> = std::result::Result<T, Error>;

/// The demo site's fixed public key, printed by `cargo xtask dev` and used by `index.html`.
pub const DEMO_SITE_KEY: &str = "sk_demo_edgechat";

/// The repository root (the workspace that holds `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ has a parent").to_path_buf()
}

/// Runs `cmd` to completion, failing with its command line when it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{cmd:?} failed with {status}").into());
    }
    Ok(())
}

/// Runs `cmd` and answers its standard output, or `None` when it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
