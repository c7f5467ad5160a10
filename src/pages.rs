//! Pages: the scan, extract and resolve stages for a whole run. Every page of the content roots
//! is read once, its references extracted with their byte spans and resolved to local files;
//! what cannot be read as text is kept aside so that `--out` still copies it.
//!
//! Nothing here opens an image or writes a file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::config::{Config, TargetConfig};
use crate::error::ConfigError;
use crate::extract::{self, LineIndex, Reference};
use crate::fs::{lexical_normalize, rel};
use crate::report::{file_error, Diagnostic, Severity};
use crate::resolve::{self, Resolved};
use crate::scan;

/// A page read and extracted. Its text is not kept once its references are extracted (memory
/// follows the largest page, not the site): [`Page::reload`] reads it again for the rewrite,
/// and refuses a page that changed since.
pub struct Page {
    pub path: PathBuf,
    pub rel: String,
    /// The text while the page is being worked on (at load, and between `reload` and
    /// `release`); empty otherwise.
    pub text: String,
    pub lines: LineIndex,
    pub refs: Vec<(Reference, Resolved)>,
    /// blake3 of the bytes that were read.
    digest: [u8; 32],
    /// (offset, (line, column)) of each reference, sorted, for messages without the text.
    positions: Vec<(usize, (usize, usize))>,
}

/// A page changed on disk since it was read: its spans no longer fit.
#[derive(Debug)]
pub enum Reload {
    Changed,
    Io(std::io::Error),
}

impl Page {
    /// 1-based (line, column) of a byte offset: from the text while it is held, else from the
    /// positions kept for the references.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        if !self.text.is_empty() {
            return self.lines.locate(&self.text, offset);
        }
        match self.positions.binary_search_by_key(&offset, |(o, _)| *o) {
            Ok(i) => self.positions[i].1,
            Err(_) => (1, 1),
        }
    }

    /// Read the text again, as it was when the page was loaded; `Reload::Changed` if it was
    /// edited since.
    pub fn reload(&mut self) -> Result<(), Reload> {
        if !self.text.is_empty() {
            return Ok(());
        }
        let bytes = std::fs::read(&self.path).map_err(Reload::Io)?;
        if *blake3::hash(&bytes).as_bytes() != self.digest {
            return Err(Reload::Changed);
        }
        self.text = String::from_utf8(bytes).map_err(|_| Reload::Changed)?;
        self.lines = LineIndex::new(&self.text);
        Ok(())
    }

    /// blake3 of the bytes that were read.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Let go of the text (after the rewrite and write of this page).
    pub fn release(&mut self) {
        self.text = String::new();
        self.lines = LineIndex::new("");
    }

    pub fn diag(
        &self,
        offset: usize,
        severity: Severity,
        kind: &'static str,
        message: String,
    ) -> Diagnostic {
        let (line, col) = self.locate(offset);
        Diagnostic {
            file: self.rel.clone(),
            line,
            col,
            severity,
            kind,
            message,
        }
    }
}

/// Every page of a run, and what could not be read as one.
pub struct Loaded {
    pub pages: Vec<Page>,
    /// Pages that could not be read as text: copied as they are with `--out`.
    pub unreadable: Vec<PathBuf>,
    pub others: Vec<PathBuf>,
    /// imglift's own temporary files in the content roots (see [`scan::Scanned::temps`]).
    pub temps: Vec<PathBuf>,
    pub problems: Vec<Diagnostic>,
}

/// The PATH arguments of a command, as absolute paths (each must exist).
pub fn narrow(cwd: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, ConfigError> {
    paths
        .iter()
        .map(|p| {
            let abs = cwd.join(p);
            abs.canonicalize().map_err(|e| ConfigError::Path {
                path: abs.clone(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// Scan, read, extract and resolve every page.
///
/// A PATH argument outside the site root is an error; one that holds no page is a warning
/// naming it (a pre-commit hook may pass a staged README outside the content folders).
pub fn load(config: &Config, only: &[PathBuf], skip: &[PathBuf]) -> Result<Loaded, ConfigError> {
    load_keeping(config, only, skip, 0)
}

/// [`load`], keeping the text of pages (as they come) up to `budget` bytes in all, so that
/// [`Page::reload`] need not read them again (`sync --out`, which writes every page into the
/// out tree and never over the page it read). Memory still follows the largest page once the
/// budget is spent.
pub fn load_keeping(
    config: &Config,
    only: &[PathBuf],
    skip: &[PathBuf],
    budget: usize,
) -> Result<Loaded, ConfigError> {
    if let Some(outside) = only.iter().find(|p| !p.starts_with(&config.root)) {
        return Err(ConfigError::Path {
            path: outside.clone(),
            message: format!(
                "is outside the site root {}; give pages or folders of the site",
                config.root.display()
            ),
        });
    }
    let scanned = scan::scan(config, only, skip)?;
    let jekyll = matches!(
        crate::commands::init::detect(&config.root),
        Some((crate::cli::Generator::Jekyll, _))
    );
    let opts = extract::Options {
        front_matter: config.front_matter.clone(),
    };
    let mut loaded = Loaded {
        pages: Vec::with_capacity(scanned.pages.len()),
        unreadable: Vec::new(),
        others: scanned.others,
        temps: scanned.temps,
        problems: Vec::new(),
    };
    // Pages are read, extracted and resolved on all cores; the results keep the scan's order.
    let resolver = resolve::Resolver::new(config);
    let kept = AtomicUsize::new(0);
    let read: Vec<_> = scanned
        .pages
        .into_par_iter()
        .map(|path| {
            let mut read = read_page(config, &resolver, &opts, jekyll, path);
            if let Ok((page, _)) = &mut read {
                let len = page.text.len();
                if kept.fetch_add(len, Ordering::Relaxed) + len > budget {
                    kept.fetch_sub(len, Ordering::Relaxed);
                    page.release();
                }
            }
            read
        })
        .collect();
    for result in read {
        match result {
            Ok((page, problems)) => {
                loaded.problems.extend(problems);
                loaded.pages.push(page);
            }
            Err((path, problem)) => {
                loaded.problems.push(problem);
                loaded.unreadable.push(path);
            }
        }
    }
    let unmatched = unmatched_paths(config, only, &loaded);
    loaded.problems.extend(unmatched);
    Ok(loaded)
}

/// Read, extract and resolve one page, with its references and their positions (and its text,
/// which the caller lets go); or, for a page that cannot be read as text, why.
fn read_page(
    config: &Config,
    resolver: &resolve::Resolver,
    opts: &extract::Options,
    jekyll: bool,
    path: PathBuf,
) -> Result<(Page, Vec<Diagnostic>), (PathBuf, Diagnostic)> {
    let rel = rel(&config.root, &path);
    let bytes = match crate::fs::read_regular(&path) {
        Ok(b) => b,
        Err(e) => {
            return Err((
                path,
                file_error(&rel, "unreadable", format!("cannot read: {e}")),
            ))
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let prefix = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
            let (line, col) = LineIndex::new(&prefix).locate(&prefix, at);
            let problem = Diagnostic {
                file: rel,
                line,
                col,
                severity: Severity::Error,
                kind: "unreadable",
                message: "not valid UTF-8 text; page left as it is".into(),
            };
            return Err((path, problem));
        }
    };
    let extracted = extract::extract(&text, opts);
    let mut page = Page {
        lines: LineIndex::new(&text),
        refs: Vec::with_capacity(extracted.refs.len()),
        digest: *blake3::hash(text.as_bytes()).as_bytes(),
        positions: Vec::new(),
        path,
        rel,
        text,
    };
    let mut problems = Vec::new();
    for p in extracted.problems {
        problems.push(page.diag(p.offset, Severity::Warning, "unparsed", p.message));
    }
    for r in extracted.refs {
        let resolved = if ignored(config, &page.text, &r) {
            Resolved::Ignored
        } else {
            resolver.resolve(&r.dest, &page.path)
        };
        page.refs.push((r, resolved));
    }
    problems.extend(heading_warnings(&page, &extracted.headings));
    if jekyll {
        problems.extend(kramdown_warnings(&page, &extracted.indented_html));
    }
    let mut starts: Vec<usize> = page.refs.iter().map(|(r, _)| r.span.start).collect();
    starts.sort_unstable();
    starts.dedup();
    page.positions = starts
        .into_iter()
        .map(|o| (o, page.lines.locate(&page.text, o)))
        .collect();
    Ok((page, problems))
}

/// A warning for each PATH argument under which no page was read.
fn unmatched_paths(config: &Config, only: &[PathBuf], loaded: &Loaded) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for path in only {
        let holds_page = loaded
            .pages
            .iter()
            .map(|p| &p.path)
            .chain(&loaded.unreadable)
            .any(|p| p.starts_with(path));
        if !holds_page {
            let content: Vec<String> = config
                .content
                .iter()
                .map(|c| rel(&config.root, c))
                .collect();
            out.push(Diagnostic {
                severity: Severity::Warning,
                ..file_error(
                    &rel(&config.root, path),
                    "unmatched",
                    format!(
                        "matches no page (pages are the files under {} that `include` matches \
                         and `exclude` does not); nothing done for it",
                        content.join(", ")
                    ),
                )
            });
        }
    }
    out
}

/// A warning at the first image to be lifted in each heading without an explicit id: Hugo
/// derives the heading's id from its text, destination included, so the rewrite would change
/// the anchor and break links to it.
fn heading_warnings(page: &Page, headings: &[extract::HeadingWithImage]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for h in headings {
        let first_local = page.refs.iter().find(|(r, resolved)| {
            h.span.start <= r.span.start
                && r.span.end <= h.span.end
                && matches!(resolved, Resolved::Local(_))
        });
        if let Some((r, _)) = first_local {
            let id = if h.id.is_empty() { "an-id" } else { &h.id };
            out.push(page.diag(
                r.span.start,
                Severity::Warning,
                "heading_id",
                format!(
                    "image `{}` is in a heading: Hugo makes the heading's id from its text, \
                     this destination included, so lifting it changes the anchor and breaks links \
                     to it; pin the id by ending the heading with `{{#{id}}}`",
                    r.dest
                ),
            ));
        }
    }
    out
}

/// A warning at each `<img>` that Jekyll's kramdown shows but CommonMark reads as code: it is
/// indented (four spaces or a tab) right after an HTML block, e.g. inside a `<div>` after a
/// blank line, so imglift leaves it local.
fn kramdown_warnings(page: &Page, offsets: &[usize]) -> Vec<Diagnostic> {
    offsets
        .iter()
        .map(|&o| {
            page.diag(
                o,
                Severity::Warning,
                "kramdown_html",
                concat!(
                    "`<img>` indented inside an HTML block: Jekyll's kramdown shows it as HTML, ",
                    "but to CommonMark it is a code block, so it is not lifted and stays local; ",
                    "remove the indentation (or the blank line before it) to have it lifted"
                )
                .to_string(),
            )
        })
        .collect()
}

/// The inline marker that silences the references of its line and of the next line.
pub const IGNORE_MARKER: &str = "imglift-ignore";

/// A reference the author asked imglift to leave alone: its destination (as written) matches
/// an `ignore:` glob, or its line or the line before carries the marker `imglift-ignore`
/// (`<!-- imglift-ignore -->` in Markdown, `# imglift-ignore` in YAML front matter).
fn ignored(config: &Config, text: &str, r: &Reference) -> bool {
    let dest = r.dest.trim();
    if config.ignore.is_match(dest) {
        return true;
    }
    let start = r.span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    if text[line_start..line_end].contains(IGNORE_MARKER) {
        return true;
    }
    if line_start == 0 {
        return false;
    }
    let prev_start = text[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
    text[prev_start..line_start].contains(IGNORE_MARKER)
}

/// Diagnostics for references that cannot be lifted (missing or refused), in page order. A
/// missing image is reported with `broken` severity (the command's choice); a refused one is
/// always an error.
pub fn reference_problems(config: &Config, pages: &[Page], broken: Severity) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut by_name = None;
    for page in pages {
        for (r, resolved) in &page.refs {
            let d = match resolved {
                Resolved::Missing { hint } => page.diag(
                    r.span.start,
                    broken,
                    "broken",
                    match hint {
                        Some(h) => format!(
                            "image `{}` not found (did you mean `{h}`? names are case-sensitive)",
                            r.dest
                        ),
                        None => not_found(config, page, &r.dest, &mut by_name),
                    },
                ),
                Resolved::Refused { reason } => page.diag(
                    r.span.start,
                    Severity::Error,
                    "refused",
                    format!("image `{}` refused: {reason}; not uploaded", r.dest),
                ),
                _ => continue,
            };
            out.push(d);
        }
    }
    out
}

/// "not found", the files looked for, and a file of the same name elsewhere in the content and
/// static folders ("moved or renamed?"). The folders are listed once per run, on first need.
fn not_found(
    config: &Config,
    page: &Page,
    dest: &str,
    by_name: &mut Option<std::collections::BTreeMap<std::ffi::OsString, PathBuf>>,
) -> String {
    let searched = resolve::searched(dest, &page.path, config);
    let mut msg = format!("image `{dest}` not found");
    if !searched.is_empty() {
        let list: Vec<String> = searched.iter().map(|p| rel(&config.root, p)).collect();
        msg.push_str(&format!(" (looked for {})", list.join(", ")));
    }
    let name = searched.first().and_then(|p| p.file_name());
    let index = by_name.get_or_insert_with(|| image_names(config));
    if let Some(other) = name.and_then(|n| index.get(n)) {
        msg.push_str(&format!("; moved to `{}`?", rel(&config.root, other)));
    } else if let Some(renamed) = renamed(config, &searched, index) {
        msg.push_str(&format!("; renamed to `{renamed}`?"));
    }
    msg
}

/// A file that has the bytes the manifest recorded for a source of this name that is gone:
/// the image was renamed (or moved and renamed). Only files of the recorded size are hashed.
fn renamed(
    config: &Config,
    searched: &[PathBuf],
    index: &std::collections::BTreeMap<std::ffi::OsString, PathBuf>,
) -> Option<String> {
    let manifest = crate::manifest::Manifest::load(&config.manifest).ok()?;
    let wanted: Vec<String> = searched.iter().map(|p| rel(&config.root, p)).collect();
    let name = searched.first()?.file_name()?;
    let gone = |e: &&crate::manifest::Entry| !config.root.join(&e.source).exists();
    // The source the reference names, else one of the same file name elsewhere.
    let entry = manifest
        .iter()
        .map(|(_, e)| e)
        .filter(gone)
        .find(|e| wanted.contains(&e.source))
        .or_else(|| {
            manifest
                .iter()
                .map(|(_, e)| e)
                .filter(gone)
                .find(|e| Path::new(&e.source).file_name() == Some(name))
        })?;
    index.values().find_map(|path| {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if !meta.is_file() || meta.len() != entry.size {
            return None;
        }
        let bytes = crate::fs::read_checked(path).ok()?;
        (blake3::hash(&bytes).to_hex().as_str() == entry.hash).then(|| rel(&config.root, path))
    })
}

/// Every file under the content and static folders by file name (the first in walk order),
/// hidden folders, the local store, the out tree and `exclude` left out.
fn image_names(config: &Config) -> std::collections::BTreeMap<std::ffi::OsString, PathBuf> {
    let skip = skip_dirs(config, None);
    let mut names = std::collections::BTreeMap::new();
    let roots = config.static_dirs.iter().chain(&config.content);
    for root in roots {
        let walk = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
                !hidden && !skip.iter().any(|s| e.path().starts_with(s))
            });
        for entry in walk.filter_map(Result::ok) {
            let excluded = || config.exclude.is_match(rel(&config.root, entry.path()));
            if entry.file_type().is_file() && !excluded() {
                names
                    .entry(entry.file_name().to_os_string())
                    .or_insert_with(|| entry.path().to_path_buf());
            }
        }
    }
    names
}

/// Folders no scan may enter: the local store and the output tree.
pub fn skip_dirs(config: &Config, out: Option<&Path>) -> Vec<PathBuf> {
    let mut skip = Vec::new();
    if let TargetConfig::Dir(d) = &config.target {
        skip.push(d.canonicalize().unwrap_or_else(|_| lexical_normalize(d)));
    }
    if let Some(o) = out {
        skip.push(o.canonicalize().unwrap_or_else(|_| lexical_normalize(o)));
    }
    skip
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Overrides, RawConfig};

    fn site(page: &str) -> (tempfile::TempDir, Config) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("content")).unwrap();
        std::fs::write(tmp.path().join("content/a.md"), page).unwrap();
        std::fs::write(tmp.path().join("content/a.png"), "x").unwrap();
        let raw = RawConfig {
            public_url: Some("https://img.example.com".into()),
            ..RawConfig::default()
        };
        let file = tmp.path().join("imglift.yaml");
        let config = Config::resolve(raw, Some(&file), &Overrides::default(), &|_| None).unwrap();
        (tmp, config)
    }

    #[test]
    fn a_loaded_page_keeps_positions_not_text_and_reloads_only_if_unchanged() {
        let page = "# é\n\nsee ![a](a.png)\n";
        let (tmp, config) = site(page);
        let mut loaded = load(&config, &[], &[]).unwrap();
        let p = &mut loaded.pages[0];
        assert!(p.text.is_empty(), "the text was kept after extraction");
        let start = p.refs[0].0.span.start;
        assert_eq!(p.locate(start), (3, 10));
        p.reload().unwrap();
        assert_eq!(p.text, page);
        assert_eq!(p.locate(start), (3, 10));
        p.release();

        // Edited after the scan: not read back as the page the spans belong to.
        std::fs::write(tmp.path().join("content/a.md"), "edited\n").unwrap();
        assert!(matches!(p.reload(), Err(Reload::Changed)));
        assert!(p.text.is_empty());
    }

    #[test]
    fn load_keeping_keeps_text_up_to_its_budget_and_the_rest_is_read_again() {
        let (tmp, config) = site("![a](a.png)\n");
        std::fs::write(tmp.path().join("content/b.md"), "![b](a.png) and more\n").unwrap();
        let mut loaded = load_keeping(&config, &[], &[], 12).unwrap();
        let [a, b] = &mut loaded.pages[..] else {
            panic!("two pages expected")
        };
        assert_eq!(
            a.text, "![a](a.png)\n",
            "a page that fits the budget is kept"
        );
        assert!(
            b.text.is_empty(),
            "one that does not is let go: {:?}",
            b.text
        );
        assert_eq!(b.locate(b.refs[0].0.span.start), (1, 6));
        b.reload().unwrap();
        assert_eq!(b.text, "![b](a.png) and more\n");
        // Nothing kept without a budget.
        let loaded = load(&config, &[], &[]).unwrap();
        assert!(loaded.pages.iter().all(|p| p.text.is_empty()));
    }
}
