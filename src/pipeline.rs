//! The pipeline: scan → extract → resolve → hash → plan → upload → rewrite → report, in order.
//!
//! This is the only place the stages are sequenced. The order is what keeps the promises: an
//! object is confirmed before its manifest entry is written, and the manifest before any page
//! points at the object; a page is written whole (temp file and rename) or not at all. A crash
//! between two steps leaves a state the next run finishes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::{Config, TargetConfig};
use crate::error::ConfigError;
use crate::extract::{self, LineIndex, Reference};
use crate::hash::{self, StatCache};
use crate::manifest::{Entry, Manifest};
use crate::plan::{self, Action, Plan, PlanInput};
use crate::progress::Progress;
use crate::report::{Diagnostic, ObjectLine, PageChange, Report, Rewrite, Severity};
use crate::resolve::{self, Resolved};
use crate::rewrite::{self, Edit};
use crate::scan::{self, rel};
use crate::target::Target;
use crate::upload::{self, Outcome};

#[derive(Debug, Default, Clone)]
pub struct SyncOptions {
    /// Files or folders that narrow the run (absolute or relative to the current folder).
    pub paths: Vec<PathBuf>,
    /// Write rewritten pages (and copies of every other file) here instead of in place.
    pub out: Option<PathBuf>,
    pub dry_run: bool,
}

/// A page read and extracted.
struct Page {
    path: PathBuf,
    rel: String,
    text: String,
    lines: LineIndex,
    refs: Vec<(Reference, Resolved)>,
}

impl Page {
    fn diag(
        &self,
        offset: usize,
        severity: Severity,
        kind: &'static str,
        message: String,
    ) -> Diagnostic {
        let (line, col) = self.lines.locate(&self.text, offset);
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

struct Loaded {
    pages: Vec<Page>,
    /// Pages that could not be read as text: copied as they are with `--out`.
    unreadable: Vec<PathBuf>,
    others: Vec<PathBuf>,
    problems: Vec<Diagnostic>,
}

fn narrow(cwd: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, ConfigError> {
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
fn load(config: &Config, only: &[PathBuf], skip: &[PathBuf]) -> Result<Loaded, ConfigError> {
    let scanned = scan::scan(config, only, skip)?;
    let opts = extract::Options {
        front_matter: config.front_matter.clone(),
    };
    let mut loaded = Loaded {
        pages: Vec::new(),
        unreadable: Vec::new(),
        others: scanned.others,
        problems: Vec::new(),
    };
    for path in scanned.pages {
        let rel = rel(&config.root, &path);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                loaded
                    .problems
                    .push(file_diag(&rel, "unreadable", format!("cannot read: {e}")));
                loaded.unreadable.push(path);
                continue;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..at]).into_owned();
                let (line, col) = LineIndex::new(&prefix).locate(&prefix, at);
                loaded.problems.push(Diagnostic {
                    file: rel,
                    line,
                    col,
                    severity: Severity::Error,
                    kind: "unreadable",
                    message: "not valid UTF-8 text; page left as it is".into(),
                });
                loaded.unreadable.push(path);
                continue;
            }
        };
        let extracted = extract::extract(&text, &opts);
        let mut page = Page {
            lines: LineIndex::new(&text),
            refs: Vec::with_capacity(extracted.refs.len()),
            path,
            rel,
            text,
        };
        for p in extracted.problems {
            let d = page.diag(p.offset, Severity::Warning, "unparsed", p.message);
            loaded.problems.push(d);
        }
        for r in extracted.refs {
            let resolved = resolve::resolve(&r.dest, &page.path, config);
            page.refs.push((r, resolved));
        }
        loaded.pages.push(page);
    }
    Ok(loaded)
}

fn file_diag(file: &str, kind: &'static str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_string(),
        line: 1,
        col: 1,
        severity: Severity::Error,
        kind,
        message,
    }
}

fn file_warning(file: &str, kind: &'static str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        ..file_diag(file, kind, message)
    }
}

/// Diagnostics for references that cannot be lifted (missing or refused), in page order.
fn reference_problems(pages: &[Page]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for page in pages {
        for (r, resolved) in &page.refs {
            let d = match resolved {
                Resolved::Missing { hint } => page.diag(
                    r.span.start,
                    Severity::Error,
                    "broken",
                    match hint {
                        Some(h) => format!(
                            "image `{}` not found (did you mean `{h}`? names are case-sensitive)",
                            r.dest
                        ),
                        None => format!("image `{}` not found", r.dest),
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

fn skip_dirs(config: &Config, out: Option<&Path>) -> Vec<PathBuf> {
    let mut skip = Vec::new();
    if let TargetConfig::Dir(d) = &config.target {
        skip.push(
            d.canonicalize()
                .unwrap_or_else(|_| resolve::lexical_normalize(d)),
        );
    }
    if let Some(o) = out {
        skip.push(
            o.canonicalize()
                .unwrap_or_else(|_| resolve::lexical_normalize(o)),
        );
    }
    skip
}

/// `imglift check`: the offline gate. Lists every local reference `sync` would rewrite and every
/// broken or refused one; reads only the first bytes of each image.
pub fn check(config: &Config, cwd: &Path, paths: &[PathBuf]) -> Result<Report, ConfigError> {
    let started = Instant::now();
    let only = narrow(cwd, paths)?;
    let loaded = load(config, &only, &skip_dirs(config, None))?;
    let mut report = Report::new("check", loaded.problems);
    report.problems.extend(reference_problems(&loaded.pages));
    let mut sniffed: BTreeMap<PathBuf, Result<&'static str, hash::Refusal>> = BTreeMap::new();
    for page in &loaded.pages {
        report.counts.references += page.refs.len();
        for (r, resolved) in &page.refs {
            let Resolved::Local(path) = resolved else {
                continue;
            };
            let sniff = sniffed
                .entry(path.clone())
                .or_insert_with(|| hash::sniff_file(path, config.max_size));
            match sniff {
                Ok(_) => report.pending.push(page.diag(
                    r.span.start,
                    Severity::Error,
                    "pending",
                    format!(
                        "local image `{}` is not lifted yet; run `imglift sync`",
                        r.dest
                    ),
                )),
                Err(why) => report.problems.push(page.diag(
                    r.span.start,
                    Severity::Error,
                    why_kind(why),
                    format!(
                        "`{}`: {} {why}; not uploaded",
                        r.dest,
                        rel(&config.root, path)
                    ),
                )),
            }
        }
    }
    report.counts.pages = loaded.pages.len();
    report.counts.local_images = sniffed.len();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

fn why_kind(why: &hash::Refusal) -> &'static str {
    match why {
        hash::Refusal::NotImage => "not_image",
        hash::Refusal::TooLarge { .. } => "too_large",
        hash::Refusal::Io(_) => "unreadable",
    }
}

fn today() -> String {
    humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10].to_string()
}

fn key_prefix(config: &Config) -> &str {
    match &config.target {
        TargetConfig::S3(s3) => &s3.prefix,
        TargetConfig::Dir(_) => "",
    }
}

/// `imglift sync`: upload what is new, rewrite what is confirmed.
pub fn sync(
    config: &Config,
    cwd: &Path,
    opts: &SyncOptions,
    connect: &dyn Fn() -> Result<Box<dyn Target>, ConfigError>,
) -> Result<Report, ConfigError> {
    let started = Instant::now();
    let only = narrow(cwd, &opts.paths)?;
    let out_dir = match &opts.out {
        Some(o) => {
            let o = resolve::lexical_normalize(&cwd.join(o));
            let inside_content = config.content.iter().any(|c| c.starts_with(&o));
            if inside_content || o == config.root {
                return Err(ConfigError::Path {
                    path: o,
                    message: "--out must not be the site root or contain a content folder".into(),
                });
            }
            Some(o)
        }
        None => None,
    };
    let mut manifest = Manifest::load(&config.manifest)?;
    let mut loaded = load(config, &only, &skip_dirs(config, out_dir.as_deref()))?;
    let mut report = Report {
        dry_run: opts.dry_run,
        ..Report::new("sync", std::mem::take(&mut loaded.problems))
    };
    report.problems.extend(reference_problems(&loaded.pages));

    // Hash each distinct local file once.
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for page in &loaded.pages {
        report.counts.references += page.refs.len();
        for (_, resolved) in &page.refs {
            if let Resolved::Local(p) = resolved {
                files
                    .entry(p.clone())
                    .or_insert_with(|| rel(&config.root, p));
            }
        }
    }
    let files: Vec<(PathBuf, String)> = files.into_iter().collect();
    let mut cache = StatCache::load(&config.cache_file);
    let hashed = {
        let bar = Progress::new(files.len(), "hashing");
        hash::hash_all(&files, config.max_size, &mut cache, &|| bar.inc())
    };
    let mut images = Vec::new();
    let mut refused: BTreeMap<PathBuf, hash::Refusal> = BTreeMap::new();
    for ((path, _), result) in files.iter().zip(hashed) {
        match result {
            Ok(img) => images.push(img),
            Err(why) => {
                refused.insert(path.clone(), why);
            }
        }
    }
    report.counts.local_images = images.len();
    for page in &loaded.pages {
        for (r, resolved) in &page.refs {
            if let Resolved::Local(p) = resolved {
                if let Some(why) = refused.get(p) {
                    report.problems.push(page.diag(
                        r.span.start,
                        Severity::Error,
                        why_kind(why),
                        format!("`{}`: {} {why}; not uploaded", r.dest, rel(&config.root, p)),
                    ));
                }
            }
        }
    }

    let today = today();
    let plan = plan::plan(
        images,
        &PlanInput {
            template: &config.key,
            manifest: &manifest,
            public_url: &config.public_url,
            prefix: key_prefix(config),
            today: &today,
        },
    );
    plan_diagnostics(&plan, config, &mut report);

    // The store is contacted (and credentials needed) only when something must be sent: a
    // dry run, or a run whose images the manifest already knows, works without them.
    let to_send = plan
        .items
        .iter()
        .filter(|p| matches!(p.action, Action::Upload | Action::Overwrite { .. }))
        .count();
    let mut target_name = String::new();
    let outcomes: Vec<Outcome> = if opts.dry_run || to_send == 0 {
        plan.items
            .iter()
            .map(|p| match p.action {
                Action::Collided => Outcome::Skipped,
                Action::Reuse => Outcome::Reused,
                _ => Outcome::Uploaded,
            })
            .collect()
    } else {
        let target = connect()?;
        target_name = target.describe();
        let bar = Progress::new(to_send, "uploading");
        upload::run(
            target.as_ref(),
            &plan.items,
            &config.cache_control,
            config.concurrency,
            &|| bar.inc(),
        )
    };

    for (item, outcome) in plan.items.iter().zip(&outcomes) {
        let action = match outcome {
            Outcome::Uploaded
                if opts.dry_run && matches!(item.action, Action::Overwrite { .. }) =>
            {
                "overwrite"
            }
            Outcome::Uploaded => "upload",
            Outcome::Overwritten => "overwrite",
            Outcome::Present => "present",
            Outcome::Reused => "reuse",
            Outcome::Skipped => continue,
            Outcome::Failed(_) => "failed",
        };
        match outcome {
            Outcome::Uploaded | Outcome::Overwritten => {
                report.counts.uploaded += 1;
                report.counts.bytes_uploaded += item.image.size;
            }
            Outcome::Present | Outcome::Reused => report.counts.reused += 1,
            Outcome::Failed(why) => {
                report.counts.failed += 1;
                report.problems.push(file_diag(
                    &item.image.rel,
                    "upload_failed",
                    format!(
                        "upload to {target_name} as `{}` failed: {why}; its references stay local",
                        item.key
                    ),
                ));
            }
            Outcome::Skipped => {}
        }
        report.objects.push(ObjectLine {
            key: item.key.clone(),
            source: item.image.rel.clone(),
            size: item.image.size,
            action,
            url: item.url.clone(),
        });
        if !opts.dry_run && outcome.confirmed() {
            manifest.insert(
                item.key.clone(),
                Entry {
                    hash: item.image.hash.clone(),
                    size: item.image.size,
                    mime: item.image.mime.clone(),
                    source: manifest
                        .get(&item.key)
                        .filter(|e| e.hash == item.image.hash)
                        .map_or_else(|| item.image.rel.clone(), |e| e.source.clone()),
                    date: item.date.clone(),
                },
            );
        }
    }

    if !opts.dry_run {
        // The manifest first: a page may point at an object only once the manifest knows it.
        manifest
            .save(&config.manifest)
            .map_err(|e| ConfigError::Path {
                path: config.manifest.clone(),
                message: format!("cannot write the manifest: {e}"),
            })?;
        if let Err(e) = cache.save(&config.cache_file) {
            report.warnings.push(file_warning(
                &rel(&config.root, &config.cache_file),
                "unreadable",
                format!("cannot write the stat cache ({e}); the next run hashes again"),
            ));
        }
    }

    let extract_opts = extract::Options {
        front_matter: config.front_matter.clone(),
    };
    for page in &loaded.pages {
        let mut edits = Vec::new();
        let mut rewrites = Vec::new();
        for (r, resolved) in &page.refs {
            let Resolved::Local(p) = resolved else {
                continue;
            };
            let Some(&i) = plan.by_path.get(p) else {
                continue;
            };
            if !outcomes[i].confirmed() {
                continue;
            }
            let url = plan::reference_url(&plan.items[i].url, &r.dest);
            let (line, col) = page.lines.locate(&page.text, r.span.start);
            rewrites.push(Rewrite {
                line,
                col,
                from: r.dest.clone(),
                to: url.clone(),
            });
            edits.push(Edit {
                span: r.span.clone(),
                url,
                context: r.context,
            });
        }
        let new_text = if edits.is_empty() {
            None
        } else {
            let new = rewrite::splice(&page.text, &edits);
            if let Err(why) = rewrite::verify(&page.text, &new, &edits, &extract_opts) {
                report.problems.push(page.diag(
                    edits[0].span.start,
                    Severity::Error,
                    "unparsed",
                    format!("rewrite did not read back as expected ({why}); page left as it is"),
                ));
                None
            } else {
                Some(new)
            }
        };
        if let Some(new) = &new_text {
            report.counts.pages_changed += 1;
            report.counts.rewritten += rewrites.len();
            if opts.dry_run {
                report.diff.push_str(
                    &similar::TextDiff::from_lines(&page.text, new)
                        .unified_diff()
                        .header(&format!("a/{}", page.rel), &format!("b/{}", page.rel))
                        .to_string(),
                );
            }
            report.changes.push(PageChange {
                file: page.rel.clone(),
                rewrites,
            });
        }
        if opts.dry_run {
            continue;
        }
        let written = match &out_dir {
            Some(out) => {
                let dest = out.join(&page.rel);
                let bytes = new_text.as_deref().unwrap_or(&page.text).as_bytes();
                write_if_changed(&dest, bytes)
            }
            None => match &new_text {
                Some(new) => rewrite::write_atomic(&page.path, new.as_bytes()),
                None => Ok(()),
            },
        };
        if let Err(e) = written {
            report.problems.push(file_diag(
                &page.rel,
                "unreadable",
                format!("cannot write: {e}"),
            ));
        }
    }
    if let (Some(out), false) = (&out_dir, opts.dry_run) {
        // imglift's own files are not part of the site the generator builds.
        let own = [
            Some(&config.manifest),
            Some(&config.cache_file),
            config.config_file.as_ref(),
        ];
        let others = loaded.others.iter().filter(|p| !own.contains(&Some(*p)));
        for path in others.chain(&loaded.unreadable) {
            let dest = out.join(rel(&config.root, path));
            if let Err(e) = mirror_file(path, &dest) {
                report.problems.push(file_diag(
                    &rel(&config.root, path),
                    "unreadable",
                    format!("cannot copy to {}: {e}", dest.display()),
                ));
            }
        }
    }
    report.counts.pages = loaded.pages.len();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

fn plan_diagnostics(plan: &Plan, config: &Config, report: &mut Report) {
    for c in &plan.collisions {
        report.problems.push(file_diag(
            &c.second,
            "collision",
            format!(
                "`{}` and `{}` are different files that map to the same key `{}`; neither is uploaded (add {{hash}} or {{path}} to `key`)",
                c.first, c.second, c.key
            ),
        ));
    }
    for (path, why) in &plan.invalid {
        report
            .problems
            .push(file_diag(&rel(&config.root, path), "refused", why.clone()));
    }
    for item in &plan.items {
        if let Action::Overwrite { old_hash } = &item.action {
            report.warnings.push(file_warning(
                &item.image.rel,
                "overwrite",
                format!(
                    "`{}` changed (was {}…): the object is overwritten in place and CDN caches may serve the old picture; a key with {{hash}} avoids this",
                    item.key,
                    &old_hash[..12]
                ),
            ));
        }
    }
}

fn write_if_changed(dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(dest).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    rewrite::write_replace(dest, bytes)
}

/// Copy a file into the output tree unless a copy with the same size and time is there.
fn mirror_file(src: &Path, dest: &Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(src)?;
    if let Ok(existing) = std::fs::metadata(dest) {
        if existing.len() == meta.len() && existing.modified().ok() == meta.modified().ok() {
            return Ok(());
        }
    }
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(src, dest)?;
    if let Ok(mtime) = meta.modified() {
        std::fs::File::options()
            .write(true)
            .open(dest)?
            .set_modified(mtime)?;
    }
    Ok(())
}

/// A page reference that already points at the public URL (what `imglift verify` opens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiftedRef {
    /// The page, relative to the root.
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The destination as a renderer sees it (escapes decoded), fragment included.
    pub url: String,
}

/// The pages read for `verify`: their lifted references in page order, how many pages were
/// read, and the problems met reading them (unreadable pages, unparsed spots).
#[derive(Debug, Default)]
pub struct LiftedPages {
    pub refs: Vec<LiftedRef>,
    pub pages: usize,
    pub problems: Vec<Diagnostic>,
}

/// Every reference that points at the public URL ([`Resolved::Lifted`]) in the pages, narrowed
/// by `paths` as `check` is. Reads only the pages: no image is opened, nothing is written.
pub fn lifted_references(
    config: &Config,
    cwd: &Path,
    paths: &[PathBuf],
) -> Result<LiftedPages, ConfigError> {
    let only = narrow(cwd, paths)?;
    let loaded = load(config, &only, &skip_dirs(config, None))?;
    let mut out = LiftedPages {
        pages: loaded.pages.len(),
        problems: loaded.problems,
        ..LiftedPages::default()
    };
    for page in &loaded.pages {
        for (r, resolved) in &page.refs {
            if *resolved != Resolved::Lifted {
                continue;
            }
            let (line, col) = page.lines.locate(&page.text, r.span.start);
            out.refs.push(LiftedRef {
                file: page.rel.clone(),
                line,
                col,
                url: r.dest.trim().to_string(),
            });
        }
    }
    Ok(out)
}
