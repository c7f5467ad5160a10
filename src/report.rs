//! Report: the one place results are printed.
//!
//! The result goes to stdout, as lines for people or as one JSON document (`--format json`);
//! diagnostics (`file:line:col: error: …`) and the summary go to stderr, and also as GitHub
//! Actions annotations when `GITHUB_ACTIONS=true`. The report also decides the exit code.

use std::io::Write;

use serde::Serialize;

use crate::error::Exit;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A finding about one place: a page position, an image file, or the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub severity: Severity,
    /// A stable machine-readable name: `broken`, `refused`, `not_image`, `too_large`,
    /// `collision`, `upload_failed`, `unreadable`, `unparsed`, `overwrite`, `pending`;
    /// `verify` adds `unreachable`, `http_status`, `wrong_type`, `wrong_bytes`.
    pub kind: &'static str,
    pub message: String,
}

impl Diagnostic {
    pub fn human(&self) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "{}:{}:{}: {sev}: {}",
            self.file, self.line, self.col, self.message
        )
    }

    fn annotation(&self) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // Workflow commands need `%`, CR and LF escaped in the message.
        let msg = self
            .message
            .replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A");
        format!(
            "::{sev} file={},line={},col={}::{msg}",
            self.file, self.line, self.col
        )
    }
}

/// An error about a whole file (an image, a page that cannot be written), at its first line.
pub fn file_error(file: &str, kind: &'static str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: 1,
        col: 1,
        severity: Severity::Error,
        kind,
        message,
    }
}

/// A warning about a whole file.
pub fn file_warning(file: &str, kind: &'static str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        ..file_error(file, kind, message)
    }
}

/// The command a report is for (it decides the summary line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandName {
    #[default]
    Sync,
    Check,
    Verify,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    pub line: usize,
    pub col: usize,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageChange {
    pub file: String,
    pub rewrites: Vec<Rewrite>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectLine {
    pub key: String,
    pub source: String,
    pub size: u64,
    /// `upload`, `overwrite`, `present`, `reuse`, `failed` (dry run: what would happen).
    pub action: &'static str,
    pub url: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub pages: usize,
    pub pages_changed: usize,
    pub references: usize,
    pub rewritten: usize,
    pub local_images: usize,
    pub uploaded: usize,
    pub reused: usize,
    pub failed: usize,
    pub bytes_uploaded: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    pub command: CommandName,
    pub dry_run: bool,
    pub counts: Counts,
    pub changes: Vec<PageChange>,
    pub objects: Vec<ObjectLine>,
    pub problems: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
    /// `check`: local references that `sync` would rewrite.
    pub pending: Vec<Diagnostic>,
    /// `verify`: what each public URL answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Verified>,
    /// `--out`: files an earlier run put into the out tree that the sources no longer have,
    /// removed (relative to the out folder).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pruned: Vec<String>,
    /// `--dry-run`: the unified diff of every page that would change.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
    pub elapsed_ms: u128,
}

/// The result of `imglift verify`: one entry per public URL, in URL order.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Verified {
    pub ok: usize,
    pub failed: usize,
    pub bytes: u64,
    pub urls: Vec<UrlCheck>,
}

/// What one public URL answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UrlCheck {
    pub url: String,
    /// The object key, when the manifest knows the URL.
    pub key: Option<String>,
    /// HTTP status of the last answer (none if there was no answer).
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub ok: bool,
    /// Why the URL failed (`None` when ok).
    pub problem: Option<String>,
    /// `file:line:col` of every page reference to this URL.
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
}

impl Report {
    /// A report for `command` that starts with these diagnostics, errors and warnings apart.
    pub fn new(command: CommandName, diagnostics: Vec<Diagnostic>) -> Report {
        let (problems, warnings) = diagnostics
            .into_iter()
            .partition(|d| d.severity == Severity::Error);
        Report {
            command,
            problems,
            warnings,
            ..Report::default()
        }
    }

    /// Add diagnostics, errors to `problems` and warnings to `warnings`, in order.
    pub fn add(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for d in diagnostics {
            match d.severity {
                Severity::Error => self.problems.push(d),
                Severity::Warning => self.warnings.push(d),
            }
        }
    }

    pub fn exit(&self) -> Exit {
        if self.counts.failed > 0 {
            Exit::UploadFailed
        } else if !self.problems.is_empty() || !self.pending.is_empty() {
            Exit::Findings
        } else {
            Exit::Success
        }
    }

    /// Print the result on `out` and the diagnostics and summary on `err`.
    pub fn print(
        &self,
        format: Format,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> std::io::Result<()> {
        let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
        // Errors first, each group sorted by file, then line and column (stable: a page's
        // diagnostics at one position keep their order).
        let mut problems: Vec<&Diagnostic> = self.problems.iter().collect();
        let mut warnings: Vec<&Diagnostic> = self.warnings.iter().collect();
        for list in [&mut problems, &mut warnings] {
            list.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        }
        for d in problems.into_iter().chain(warnings) {
            writeln!(err, "{}", d.human())?;
            if github {
                writeln!(err, "{}", d.annotation())?;
            }
        }
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)?;
            }
            Format::Human => self.print_human(out)?,
        }
        if github {
            for d in &self.pending {
                writeln!(err, "{}", d.annotation())?;
            }
        }
        writeln!(err, "{}", self.summary())?;
        Ok(())
    }

    fn print_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(v) = &self.verified {
            for u in &v.urls {
                match &u.problem {
                    None => writeln!(out, "ok {}", u.url)?,
                    Some(why) => writeln!(out, "failed {}: {why}", u.url)?,
                }
            }
            return Ok(());
        }
        for d in &self.pending {
            writeln!(out, "{}", d.human())?;
        }
        if self.dry_run {
            for o in self.objects.iter().filter(|o| o.action != "reuse") {
                writeln!(
                    out,
                    "would {} {} ({} bytes) as {}",
                    o.action, o.source, o.size, o.key
                )?;
            }
            write!(out, "{}", self.diff)?;
        } else {
            for o in self.objects.iter().filter(|o| o.action != "reuse") {
                writeln!(out, "{} {} -> {}", o.action, o.source, o.url)?;
            }
            for c in &self.changes {
                writeln!(out, "rewrote {} ({} references)", c.file, c.rewrites.len())?;
            }
            for f in &self.pruned {
                writeln!(
                    out,
                    "removed {f} from the out folder (gone from the sources)"
                )?;
            }
        }
        Ok(())
    }

    /// `, N warnings` for the summary line, or nothing without warnings.
    fn warning_count(&self) -> String {
        match self.warnings.len() {
            0 => String::new(),
            1 => ", 1 warning".into(),
            n => format!(", {n} warnings"),
        }
    }

    pub fn summary(&self) -> String {
        let c = &self.counts;
        let secs = self.elapsed_ms as f64 / 1000.0;
        match self.command {
            CommandName::Check => format!(
                "imglift check: {} pages, {} local references to lift, {} problems{} ({secs:.2}s)",
                c.pages,
                self.pending.len(),
                self.problems.len(),
                self.warning_count()
            ),
            CommandName::Verify => {
                let v = self.verified.clone().unwrap_or_default();
                format!(
                    "imglift verify: {} URLs ({} references in {} pages): {} ok, {} failed; {} bytes read ({secs:.2}s)",
                    v.urls.len(),
                    c.references,
                    c.pages,
                    v.ok,
                    v.failed,
                    v.bytes
                )
            }
            CommandName::Sync => format!(
                "imglift sync{}: {} pages, {} rewritten in {} pages; {} images: {} uploaded ({} bytes), {} already stored, {} failed; {} problems{} ({secs:.2}s)",
                if self.dry_run { " --dry-run" } else { "" },
                c.pages,
                c.rewritten,
                c.pages_changed,
                c.local_images,
                c.uploaded,
                c.bytes_uploaded,
                c.reused,
                c.failed,
                self.problems.len(),
                self.warning_count()
            ),
        }
    }
}
