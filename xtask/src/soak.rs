//! `cargo xtask soak --minutes N [--visitors 200] [--operators 5]`: builds,
//! then runs the load and fault suite (`tests/src/soak.rs`, bin `soak` of
//! `edgechat-tests`) against its own `wrangler dev` on loopback. The run is
//! bounded: N minutes of load (at most 60), then at most 30 s to drain.

use std::process::Command;

use crate::{bootstrap, build, root, run, Result};

/// Longest load a soak may ask for, in minutes.
pub const MAX_MINUTES: f64 = 60.0;
/// Most visitors a soak may ask for (each holds two connections).
pub const MAX_VISITORS: u32 = 1000;

/// Checks `args` (`--minutes N` required, `--visitors`, `--operators`),
/// builds, and runs the soak, which fails when a message was lost or stored
/// twice or an unexpected error happened.
pub fn soak(args: &[String]) -> Result<()> {
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let minutes: f64 = value("--minutes").ok_or("soak needs --minutes N")?.parse().map_err(|_| "--minutes takes a number of minutes")?;
    if !(minutes > 0.0 && minutes <= MAX_MINUTES) {
        return Err(format!("--minutes must be in (0, {MAX_MINUTES}]").into());
    }
    let visitors: u32 = value("--visitors").unwrap_or("200".into()).parse().map_err(|_| "--visitors takes a count")?;
    let operators: u32 = value("--operators").unwrap_or("5".into()).parse().map_err(|_| "--operators takes a count")?;
    if visitors == 0 || visitors > MAX_VISITORS || operators > 50 {
        return Err(format!("--visitors must be in 1..={MAX_VISITORS}, --operators at most 50").into());
    }
    let tools = bootstrap::toolchain()?;
    build::all(&tools)?;
    // A debug build, as the bench: the client's cost is small against the server's.
    run(Command::new("cargo")
        .args(["run", "-p", "edgechat-tests", "--bin", "soak", "--"])
        .args(["--minutes", &minutes.to_string(), "--visitors", &visitors.to_string(), "--operators", &operators.to_string()])
        .current_dir(root()))
}
