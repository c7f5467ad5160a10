//! The terminal display: progress bars for the slow stages (hashing, uploading, verifying) and
//! the one way to write on stderr while a bar may be shown.
//!
//! Bars are drawn on stderr only when it is a terminal and the user did not ask for plain output
//! (`NO_COLOR`, `TERM=dumb`): in CI logs, pipes and tests they do not exist at all. Every line
//! imglift writes on stderr goes through [`Stderr`] or [`note`], which hide the bars for the
//! moment of the write, so a bar and a diagnostic never draw over each other and never wait on
//! each other: nothing holds the stderr lock for longer than one write, and the bar is the only
//! owner of the terminal while it is shown.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether stderr gets plain lines only: not a terminal, or `NO_COLOR` / `TERM=dumb` set.
pub fn plain() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    no_color || dumb || !std::io::stderr().is_terminal()
}

/// The display every bar of this process is part of.
fn display() -> &'static MultiProgress {
    static DISPLAY: OnceLock<MultiProgress> = OnceLock::new();
    DISPLAY.get_or_init(|| {
        let target = if plain() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        MultiProgress::with_draw_target(target)
    })
}

/// A progress bar for one stage; absent when nothing is to be drawn. Dropping it clears it.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(len: usize, label: &'static str) -> Progress {
        if len == 0 || plain() {
            return Progress { bar: None };
        }
        let style = ProgressStyle::with_template("{prefix:>9} [{bar:30}] {pos}/{len} {elapsed}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = display().add(ProgressBar::new(len as u64).with_style(style));
        bar.set_prefix(label);
        Progress { bar: Some(bar) }
    }

    pub fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
            display().remove(bar);
        }
    }
}

/// Write one line on stderr now, above any bar that is shown (a live note such as a retry).
pub fn note(line: &str) {
    display().suspend(|| {
        let _ = writeln!(std::io::stderr(), "{line}");
    });
}

/// stderr for the report: each write hides the bars for its moment and takes the stderr lock
/// only for that write.
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        display().suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
