//! Running the built `imglift` (and other commands) and looking at what they printed.
//!
//! The binary always runs with a clean, deterministic environment, whatever the environment of
//! `cargo test`: no imglift or AWS variables (credentials, options), no GitHub Actions
//! annotations, no `RUST_BACKTRACE`, and no proxy, so that requests to a test server on
//! 127.0.0.1 go straight to it.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Remove from `cmd`'s environment what would change imglift's behaviour: `IMGLIFT_*` and
/// `AWS_*` variables, and `GITHUB_ACTIONS` (which turns on annotations).
pub fn remove_imglift_env(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("GITHUB_ACTIONS");
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("IMGLIFT_") || k.starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// The built binary in `cwd`, with stdin closed and the clean environment described above.
pub fn imglift_command(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imglift"));
    cmd.current_dir(cwd)
        .stdin(Stdio::null())
        .env_remove("RUST_BACKTRACE");
    remove_imglift_env(&mut cmd);
    for (key, _) in std::env::vars_os() {
        // http_proxy, HTTPS_PROXY, ALL_PROXY, NO_PROXY, ... in either case.
        let k = key.to_string_lossy().to_ascii_lowercase();
        if k.ends_with("_proxy") {
            cmd.env_remove(&key);
        }
    }
    cmd
}

/// Run `imglift ARGS` in `cwd` with the clean environment plus `env`, to completion.
pub fn run_imglift<S: AsRef<OsStr>>(cwd: &Path, args: &[S], env: &[(&str, &str)]) -> Run {
    let out = imglift_command(cwd)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run the imglift binary");
    Run {
        args: args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What one run printed and how it exited.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    /// `None` if the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Assert the exit code, showing everything the run printed if it is wrong, and that the
    /// process did not panic.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "`imglift {}` exited with {:?}, expected {code}\n{}",
            self.args.join(" "),
            self.code,
            self.dump()
        );
        self.expect_no_panic();
        self
    }

    #[track_caller]
    pub fn expect_no_panic(&self) -> &Run {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "imglift panicked\n{}",
            self.dump()
        );
        self
    }

    /// stdout parsed as one JSON document (fails if anything else is mixed in).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.dump()))
    }

    /// The `file:line:col` positions of the diagnostic lines in `text` (`path:L:C: ...`).
    pub fn positions(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let mut parts = l.splitn(4, ':');
                let (file, line, col) = (parts.next()?, parts.next()?, parts.next()?);
                (line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok())
                    .then(|| format!("{file}:{line}:{col}"))
            })
            .collect()
    }

    /// The diagnostic line of stderr that starts with `file:line:col:`.
    #[track_caller]
    pub fn stderr_line(&self, position: &str) -> &str {
        let prefix = format!("{position}:");
        self.stderr
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no diagnostic at {position} on stderr\n{}", self.dump()))
    }

    pub fn dump(&self) -> String {
        dump_text(&self.stdout, &self.stderr)
    }
}

/// Run a command to completion with stdin closed; panic with everything it printed if it fails.
#[track_caller]
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    if !out.status.success() {
        panic!("{what} failed ({})\n{}", out.status, dump(&out));
    }
    out
}

/// Everything a finished command printed, for a failure message.
pub fn dump(out: &Output) -> String {
    dump_text(
        &String::from_utf8_lossy(&out.stdout),
        &String::from_utf8_lossy(&out.stderr),
    )
}

fn dump_text(stdout: &str, stderr: &str) -> String {
    format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}")
}
