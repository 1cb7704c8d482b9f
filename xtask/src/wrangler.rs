//! Runs the pinned `wrangler` on the Node it needs: local D1 migrations,
//! SQL execution, and `wrangler dev` servers that stop when dropped (also
//! when a test panics), each with its own port and `--persist-to` directory.

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{root, run, Result};

/// Longest wait for a new `wrangler dev` to answer `GET /health`.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A `wrangler …` command run by `node_modules/.bin/node` (Node 22, which
/// wrangler 4 requires), with metrics off.
pub fn command(args: &[&str]) -> Command {
    let root = root();
    let mut cmd = Command::new(root.join("node_modules/.bin/node"));
    cmd.arg(root.join("node_modules/wrangler/bin/wrangler.js"))
        .args(args)
        .current_dir(&root)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true");
    cmd
}

/// Applies every D1 migration in `migrations/` to the local database in `persist_dir`.
pub fn migrate(persist_dir: &Path) -> Result<()> {
    let dir = persist_dir.to_string_lossy();
    run(command(&["d1", "migrations", "apply", "DB", "--local", "--persist-to", &dir]).stdout(Stdio::null()))
}

/// Executes `sql` (one or more statements) on the local database in `persist_dir`.
///
/// Each call writes its own file (process id and a call counter), so that
/// two calls of one process never share one. While a `wrangler dev` writes
/// to the same database the two processes can lock each other out
/// (SQLITE_BUSY): only call it on a quiet server (the demo data before
/// `wrangler dev` starts, the bench between its phases), never under tests'
/// concurrent requests.
pub fn execute_sql(persist_dir: &Path, sql: &str) -> Result<()> {
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    fs::create_dir_all(persist_dir)?;
    let file = persist_dir.join(format!("seed-{}-{call}.sql", std::process::id()));
    fs::write(&file, sql)?;
    let dir = persist_dir.to_string_lossy();
    let path = file.to_string_lossy();
    let result = run(command(&["d1", "execute", "DB", "--local", "--persist-to", &dir, "--file", &path]).stdout(Stdio::null()));
    let _ = fs::remove_file(&file);
    result
}

/// A free TCP port on the loopback interface.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running `wrangler dev`, stopped (with all its workerd processes) on drop.
pub struct WranglerDev {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The `--persist-to` directory of its D1, R2 and Durable Object state.
    pub persist_dir: PathBuf,
    /// `--inspector-port`: wrangler's proxy to the worker isolate's V8
    /// inspector (Chrome DevTools Protocol at `ws://127.0.0.1:{port}/ws`).
    pub inspector_port: u16,
    log: Option<PathBuf>,
}

/// Starts of a logged `wrangler dev` that lost a port to a race (see [`WranglerDev::spawn`]).
pub const START_ATTEMPTS: u32 = 3;

impl WranglerDev {
    /// Migrates `persist_dir` and starts `wrangler dev` on a free port with
    /// `vars` (e.g. `JWT_SECRET`), its output in `persist_dir/wrangler.log`.
    pub fn start(persist_dir: &Path, vars: &[(&str, &str)]) -> Result<WranglerDev> {
        migrate(persist_dir)?;
        Self::spawn(persist_dir, free_port()?, vars, false)
    }

    /// Starts `wrangler dev` on `port` over an already migrated `persist_dir`,
    /// with `vars` given as `--var NAME:VALUE` (they win over `.dev.vars`);
    /// with `inherit_output` its output goes to this terminal.
    ///
    /// A server whose output goes to its log (tests, benches) that loses a
    /// port to another process starting at the same moment (`free_port`
    /// only finds a port that was free) starts again on fresh ports, up to
    /// [`START_ATTEMPTS`] times; its `url` then names the port it got.
    pub fn spawn(persist_dir: &Path, port: u16, vars: &[(&str, &str)], inherit_output: bool) -> Result<WranglerDev> {
        crate::build::require(&root().join("worker/build/index.js"), "run `cargo xtask build` first")?;
        Self::spawn_config(None, persist_dir, port, vars, inherit_output)
    }

    /// Starts the bench's baseline chat room (`bench/baseline/room.js`, a
    /// plain JavaScript Durable Object, see `bench/README.md`) on its own
    /// `wrangler dev`: a free port, `persist_dir` for its Durable Object
    /// state, output in `persist_dir/wrangler.log`. Answers `GET /health`.
    pub fn baseline(persist_dir: &Path) -> Result<WranglerDev> {
        let config = root().join("bench/baseline/wrangler.toml");
        crate::build::require(&config, "the baseline room is part of the repository")?;
        Self::spawn_config(Some(&config), persist_dir, free_port()?, &[], false)
    }

    /// Starts the bench's reference room in Rust (`bench/rust-room`, the
    /// baseline's routes in workers-rs) on its own `wrangler dev`, as
    /// [`WranglerDev::baseline`]; [`crate::build::rust_room`] builds it.
    pub fn rust_room(persist_dir: &Path) -> Result<WranglerDev> {
        let dir = root().join("bench/rust-room");
        crate::build::require(&dir.join("build/index.js"), "run `cargo xtask bench live` (it builds the Rust room)")?;
        Self::spawn_config(Some(&dir.join("wrangler.toml")), persist_dir, free_port()?, &[], false)
    }

    fn spawn_config(
        config: Option<&Path>,
        persist_dir: &Path,
        port: u16,
        vars: &[(&str, &str)],
        inherit_output: bool,
    ) -> Result<WranglerDev> {
        let mut port = port;
        let mut attempt = 1;
        loop {
            match Self::spawn_once(config, persist_dir, port, vars, inherit_output) {
                Err(err) if !inherit_output && attempt < START_ATTEMPTS && err.to_string().contains("Address already in use") => {
                    attempt += 1;
                    port = free_port()?;
                }
                result => return result,
            }
        }
    }

    fn spawn_once(
        config: Option<&Path>,
        persist_dir: &Path,
        port: u16,
        vars: &[(&str, &str)],
        inherit_output: bool,
    ) -> Result<WranglerDev> {
        fs::create_dir_all(persist_dir)?;
        let config = config.map(|c| c.to_string_lossy().into_owned());
        let port_arg = port.to_string();
        let inspector_port = free_port()?;
        let inspector = inspector_port.to_string();
        let dir = persist_dir.to_string_lossy().into_owned();
        let mut args = vec![
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            &port_arg,
            "--inspector-port",
            &inspector,
            "--persist-to",
            &dir,
            "--show-interactive-dev-session=false",
        ];
        if let Some(config) = &config {
            args.extend(["--config", config.as_str()]);
        }
        let var_args: Vec<String> = vars.iter().map(|(name, value)| format!("{name}:{value}")).collect();
        for var in &var_args {
            args.extend(["--var", var.as_str()]);
        }
        let mut cmd = command(&args);
        cmd.stdin(Stdio::null());
        let log = if inherit_output {
            // In the terminal's process group, so Ctrl-C stops it with `cargo xtask dev`.
            None
        } else {
            // Its own process group, so `stop` ends workerd and esbuild with it.
            cmd.process_group(0);
            // No local trace collector (wrangler's default attaches one to
            // every worker, for its local explorer; production has none):
            // it takes a tail event from every invocation, and one EdgeChat
            // request makes several (worker, Durable Objects, D1, queues),
            // CPU that the tests and the bench share (bench/README).
            cmd.env("X_LOCAL_OBSERVABILITY", "false");
            let path = persist_dir.join("wrangler.log");
            let file = fs::File::create(&path)?;
            cmd.stdout(file.try_clone()?).stderr(file);
            Some(path)
        };
        let child = cmd.spawn().map_err(|e| format!("cannot start wrangler dev: {e}"))?;
        let mut dev =
            WranglerDev { child, url: format!("http://127.0.0.1:{port}"), persist_dir: persist_dir.to_path_buf(), inspector_port, log };
        dev.wait_ready()?;
        Ok(dev)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let started = Instant::now();
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(2))).http_status_as_error(false).build(),
        );
        loop {
            if let Ok(response) = agent.get(&format!("{}/health", self.url)).call() {
                if response.status() == 200 {
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("wrangler dev exited with {status}{}", self.log_tail()).into());
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!("wrangler dev did not answer within {START_TIMEOUT:?}{}", self.log_tail()).into());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let Some(log) = &self.log else { return String::new() };
        let text = fs::read_to_string(log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!("\n--- {} (last lines) ---\n{}", log.display(), lines[lines.len().saturating_sub(40)..].join("\n"))
    }

    /// Waits for the server to exit by itself (`cargo xtask dev`).
    pub fn wait(&mut self) -> Result<()> {
        self.child.wait()?;
        Ok(())
    }

    /// Stops the server and every process it started.
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        if self.log.is_none() {
            // `cargo xtask dev`: the server shares the terminal's process group.
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

impl Drop for WranglerDev {
    fn drop(&mut self) {
        self.stop();
    }
}
