//! Run a command on a real pseudo-terminal, as a person at a terminal runs it, and read back what
//! the terminal shows.
//!
//! stdin, stdout and stderr of the child are all the terminal's slave side; everything the child
//! writes is read from the master side and fed to a terminal emulator (`vt100`), so a test sees
//! the final screen (bars that were cleared are gone, lines that were overwritten are
//! overwritten) as well as the raw bytes. Every run has a deadline: a program that freezes is
//! killed and the test fails with what the terminal showed until then, instead of hanging.

#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use rustix::termios::{tcsetwinsize, Winsize};

/// The terminal's size: tall enough that nothing a test prints scrolls off the screen.
pub const ROWS: u16 = 2000;
pub const COLS: u16 = 500;

/// What a run on the terminal left behind.
pub struct PtyRun {
    pub code: Option<i32>,
    /// Every byte the child wrote to the terminal (stdout and stderr interleaved).
    pub raw: Vec<u8>,
    /// The screen at the end, one string per line, trailing blank lines removed.
    pub screen: Vec<String>,
}

impl PtyRun {
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The last line with text on the screen.
    pub fn last_line(&self) -> &str {
        self.screen.last().map_or("", String::as_str)
    }

    /// No line of the final screen is one of these bars (`hashing [===>   ] 3/7`).
    #[track_caller]
    pub fn assert_no_bar_left(&self, bars: &[&str]) {
        let left = self.screen.iter().find(|l| {
            let l = l.trim_start();
            bars.iter()
                .any(|b| l.starts_with(&format!("{b} [")) && l.contains('/'))
        });
        assert!(
            left.is_none(),
            "a bar was left on the screen: {left:?}\n{}",
            self.dump()
        );
    }

    pub fn dump(&self) -> String {
        format!(
            "exit: {:?}\n--- screen ---\n{}\n--- raw (first 4000 characters) ---\n{:?}",
            self.code,
            self.screen.join("\n"),
            self.raw_text().chars().take(4000).collect::<String>()
        )
    }
}

/// Run `cmd` with a pseudo-terminal as its stdin, stdout and stderr; kill it and panic if it has
/// not exited after `deadline`.
#[track_caller]
pub fn run(cmd: &mut Command, deadline: Duration) -> PtyRun {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("open a pseudo-terminal");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc_o_noctty())
        .open(name.to_str().expect("a UTF-8 terminal name"))
        .expect("open the terminal's slave side");
    tcsetwinsize(
        &slave,
        Winsize {
            ws_row: ROWS,
            ws_col: COLS,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .expect("set the terminal size");
    cmd.stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave);
    let mut child = cmd.spawn().expect("start the command on the terminal");
    // The parent's copies of the slave side must be closed, or the master never sees the end.
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());

    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let mut reader = File::from(master);
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        // Linux answers EIO once every slave side is closed; others answer 0.
        while let Ok(n @ 1..) = reader.read(&mut buf) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });

    let mut raw = Vec::new();
    let started = Instant::now();
    let status = loop {
        while let Ok(chunk) = rx.try_recv() {
            raw.extend_from_slice(&chunk);
        }
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Drain what is left once the child is gone (bounded, in case a grandchild holds the tty).
    let drain_until = Instant::now() + Duration::from_secs(5);
    while let Ok(chunk) = rx.recv_timeout(drain_until.saturating_duration_since(Instant::now())) {
        raw.extend_from_slice(&chunk);
    }
    let run = PtyRun {
        code: status.and_then(|s| s.code()),
        screen: screen(&raw),
        raw,
    };
    assert!(
        status.is_some(),
        "the command froze on a terminal: still running after {deadline:?}, killed\n{}",
        run.dump()
    );
    run
}

/// The lines `cmd` prints with pipes instead of a terminal, in the order a terminal shows them:
/// stderr's diagnostics, then stdout, then the summary (stderr's last line).
pub fn piped_lines(cmd: &mut Command) -> Vec<String> {
    let out = cmd.output().expect("run the command with pipes");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let mut lines: Vec<String> = stderr.lines().map(String::from).collect();
    let summary = lines.pop().expect("a summary line on stderr");
    lines.extend(stdout.lines().map(String::from));
    lines.push(summary);
    lines
}

/// Lines as two runs can be compared: without trailing spaces (a screen does not show them)
/// and without the elapsed time that ends a summary (`imglift sync: … (0.12s)`).
pub fn comparable(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l.trim_end())
        .map(|l| match l.rfind(" (") {
            Some(i) if l.starts_with("imglift ") && l.ends_with("s)") => l[..i].to_string(),
            _ => l.to_string(),
        })
        .collect()
}

/// The screen a terminal of `ROWS` × `COLS` shows after these bytes.
pub fn screen(raw: &[u8]) -> Vec<String> {
    let size = |n: u16| std::num::NonZeroU16::new(n).expect("a terminal size above zero");
    let mut parser = vt100::Parser::new(size(ROWS), size(COLS), 0);
    parser.process(raw);
    let mut lines: Vec<String> = parser
        .screen()
        .rows(0, COLS)
        .map(|l| l.trim_end().to_string())
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

fn libc_o_noctty() -> i32 {
    rustix::fs::OFlags::NOCTTY.bits() as i32
}
