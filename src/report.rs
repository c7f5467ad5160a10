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
    /// A stable machine-readable name: `broken`, `refused`, `not_image`, `too_large`, `svg_script`,
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
            printable(&self.file),
            self.line,
            self.col,
            printable(&self.message)
        )
    }

    /// [`Diagnostic::human`] with the severity in colour (red error, yellow warning).
    pub fn coloured(&self) -> String {
        let (sev, code) = match self.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        format!(
            "{}:{}:{}: \x1b[{code}m{sev}\x1b[0m: {}",
            self.file, self.line, self.col, self.message
        )
    }

    fn annotation(&self) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        format!(
            "::{sev} file={},line={},col={}::{}",
            escape_property(&self.file),
            self.line,
            self.col,
            escape_data(&self.message)
        )
    }
}

/// Text for one line of output: control characters (a newline in a file name) are shown
/// escaped, so that no name can start a line of its own (a CI log reads `::error …` at the start
/// of any line as a command).
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A workflow command's message, escaped as GitHub's toolkit does: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`file=…`), escaped as GitHub's toolkit does: as a
/// message, and also `:` and `,`, so that a file name cannot end the properties or add one.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
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
    /// Local files with the same object as another one (same key): sent once.
    pub duplicates: usize,
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
    /// `--dry-run`: where the objects would go (a folder or a bucket).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// `--dry-run --diff`: print the diff rather than one line per page.
    #[serde(skip)]
    pub show_diff: bool,
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
    /// `--repair`: objects uploaded again from their source before the URLs were checked.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repaired: Vec<ObjectLine>,
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
        // Colour only on a terminal, and not with NO_COLOR or TERM=dumb.
        let colour = !crate::progress::plain();
        for d in problems.into_iter().chain(warnings) {
            if colour {
                writeln!(err, "{}", d.coloured())?;
            } else {
                writeln!(err, "{}", d.human())?;
            }
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
        let summary = self.summary();
        match summary.split_once(": ") {
            Some((head, rest)) if colour => {
                // Green when all went well, yellow with warnings, red with errors.
                let code = if !self.problems.is_empty() || self.counts.failed > 0 {
                    "1;31"
                } else if !self.warnings.is_empty() {
                    "1;33"
                } else {
                    "1;32"
                };
                writeln!(err, "\x1b[{code}m{head}:\x1b[0m {rest}")?
            }
            _ => writeln!(err, "{summary}")?,
        }
        Ok(())
    }

    fn print_human(&self, out: &mut dyn Write) -> std::io::Result<()> {
        if let Some(v) = &self.verified {
            for o in &v.repaired {
                writeln!(out, "repaired {} -> {}", printable(&o.source), o.url)?;
            }
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
            let sending: Vec<&ObjectLine> = self
                .objects
                .iter()
                .filter(|o| o.action != "reuse")
                .collect();
            if sending.is_empty() && self.changes.is_empty() {
                writeln!(out, "nothing to upload or rewrite")?;
                return Ok(());
            }
            if !self.target.is_empty() {
                writeln!(
                    out,
                    "plan for {} (dry run: nothing is sent or written)",
                    self.target
                )?;
            }
            for o in sending {
                writeln!(
                    out,
                    "would {} {} ({}) as {}",
                    o.action,
                    o.source,
                    human_bytes(o.size),
                    o.key
                )?;
            }
            if self.show_diff {
                write!(out, "{}", self.diff)?;
            } else {
                let width = self.changes.iter().map(|c| c.file.len()).max().unwrap_or(0);
                for c in &self.changes {
                    writeln!(
                        out,
                        " {:width$} | {}",
                        c.file,
                        count(c.rewrites.len(), "reference", "references")
                    )?;
                }
                if !self.changes.is_empty() {
                    writeln!(out, "(the full diff: add --diff)")?;
                }
            }
        } else {
            for o in self.objects.iter().filter(|o| o.action != "reuse") {
                writeln!(out, "{} {} -> {}", o.action, printable(&o.source), o.url)?;
            }
            for c in &self.changes {
                writeln!(
                    out,
                    "rewrote {} ({})",
                    printable(&c.file),
                    count(c.rewrites.len(), "reference", "references")
                )?;
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

    /// The last line, like cargo's and rclone's: what was done, counts that add up, sizes for
    /// people, and "would" in a dry run.
    pub fn summary(&self) -> String {
        let c = &self.counts;
        let secs = self.elapsed_ms as f64 / 1000.0;
        let findings = self.findings();
        match self.command {
            CommandName::Check => format!(
                "imglift check: {}, {} to lift{findings} ({secs:.2}s)",
                count(c.pages, "page", "pages"),
                count(self.pending.len(), "local reference", "local references"),
            ),
            CommandName::Verify => {
                let v = self.verified.clone().unwrap_or_default();
                let repaired = match v.repaired.len() {
                    0 => String::new(),
                    n => format!(" after {} repaired", count(n, "object", "objects")),
                };
                format!(
                    "imglift verify: {} ({} in {}): {} ok, {} failed{repaired}; {} read ({secs:.2}s)",
                    count(v.urls.len(), "URL", "URLs"),
                    count(c.references, "reference", "references"),
                    count(c.pages, "page", "pages"),
                    v.ok,
                    v.failed,
                    human_bytes(v.bytes)
                )
            }
            CommandName::Sync => {
                let (would, rewritten, uploaded) = if self.dry_run {
                    (" --dry-run", "would be rewritten", "to upload")
                } else {
                    ("", "rewritten", "uploaded")
                };
                let mut images = vec![
                    format!(
                        "{} {uploaded} ({})",
                        c.uploaded,
                        human_bytes(c.bytes_uploaded)
                    ),
                    format!("{} already stored", c.reused),
                ];
                if c.duplicates > 0 {
                    images.push(count(c.duplicates, "duplicate", "duplicates"));
                }
                let rest = c
                    .local_images
                    .saturating_sub(c.uploaded + c.reused + c.failed + c.duplicates);
                if rest > 0 {
                    images.push(format!("{rest} not uploadable"));
                }
                if !self.dry_run || c.failed > 0 {
                    images.push(format!("{} failed", c.failed));
                }
                format!(
                    "imglift sync{would}: {}, {} {rewritten} in {}; {}: {}{findings} ({secs:.2}s)",
                    count(c.pages, "page", "pages"),
                    count(c.rewritten, "reference", "references"),
                    count(c.pages_changed, "page", "pages"),
                    count(c.local_images, "image", "images"),
                    images.join(", "),
                )
            }
        }
    }

    /// `; 2 errors, 1 warning`, or nothing when there are none.
    fn findings(&self) -> String {
        let mut parts = Vec::new();
        if !self.problems.is_empty() {
            parts.push(count(self.problems.len(), "error", "errors"));
        }
        if !self.warnings.is_empty() {
            parts.push(count(self.warnings.len(), "warning", "warnings"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("; {}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod annotation_tests {
    use super::*;

    fn diag(file: &str, message: &str) -> Diagnostic {
        Diagnostic {
            line: 3,
            col: 5,
            ..file_error(file, "broken", message.to_string())
        }
    }

    #[test]
    fn annotation_properties_and_message_are_escaped_as_github_documents() {
        let d = diag(
            "evil\n::error file=README.md,line=1::X.md",
            "50% off\r\nnext",
        );
        assert_eq!(
            d.annotation(),
            "::error file=evil%0A%3A%3Aerror file=README.md%2Cline=1%3A%3AX.md,line=3,col=5\
             ::50%25 off%0D%0Anext"
        );
        let d = diag("e,line=99,col=7::Y.md", "m");
        assert_eq!(
            d.annotation(),
            "::error file=e%2Cline=99%2Ccol=7%3A%3AY.md,line=3,col=5::m"
        );
    }

    #[test]
    fn a_human_line_never_splits_on_a_name() {
        let d = diag("evil\n::error file=README.md::X.md", "a\tb");
        assert_eq!(d.human().lines().count(), 1, "{}", d.human());
        assert!(d.human().starts_with("evil\\n::error"), "{}", d.human());
        assert_eq!(printable("caf\u{e9} #=.md"), "caf\u{e9} #=.md");
    }
}

/// `1 page`, `2 pages`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A size for people: `512 B`, `1.5 KiB`, `46.0 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn sizes_and_plurals_read_like_a_person_wrote_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(48_278_423), "46.0 MiB");
        assert_eq!(count(1, "page", "pages"), "1 page");
        assert_eq!(count(0, "page", "pages"), "0 pages");
    }

    #[test]
    fn a_dry_run_says_would_and_the_image_counts_add_up() {
        let mut r = Report {
            dry_run: true,
            ..Report::default()
        };
        r.counts = Counts {
            pages: 1,
            pages_changed: 1,
            rewritten: 3,
            local_images: 4,
            uploaded: 2,
            reused: 1,
            duplicates: 1,
            bytes_uploaded: 2048,
            ..Counts::default()
        };
        let s = r.summary();
        assert!(
            s.starts_with("imglift sync --dry-run: 1 page, 3 references would be rewritten in 1 page; 4 images: 2 to upload (2.0 KiB), 1 already stored, 1 duplicate ("),
            "{s}"
        );
        assert!(!s.contains("uploaded"), "{s}");
        r.dry_run = false;
        let s = r.summary();
        assert!(
            s.contains("2 uploaded (2.0 KiB), 1 already stored, 1 duplicate, 0 failed ("),
            "{s}"
        );
    }
}
