//! `imglift sync`: upload what is new, rewrite what is confirmed — the pipeline of DESIGN.md,
//! one call per stage.
//!
//! The order is what keeps the promises: an object is confirmed before its manifest entry is
//! written, and the manifest before any page points at the object; a page is written whole or
//! not at all. A crash between two steps leaves a state the next run finishes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;

use crate::config::{Broken, Config};
use crate::error::Error;
use crate::extract;
use crate::fs::rel;
use crate::hash;
use crate::manifest::{Manifest, ManifestError};
use crate::output;
use crate::pages::{self, Loaded};
use crate::plan::{self, Plan};
use crate::report::{file_warning, CommandName, Diagnostic, PageChange, Report};
use crate::rewrite;
use crate::store::{OpenError, Store};
use crate::upload::{self, Outcome};

#[derive(Debug, Default, Clone)]
pub struct SyncOptions {
    /// Files or folders that narrow the run (absolute or relative to the current folder).
    pub paths: Vec<PathBuf>,
    /// Write rewritten pages (and copies of every other file) here instead of in place.
    pub out: Option<PathBuf>,
    pub dry_run: bool,
    /// `--strict` / `--lenient`: how a broken reference counts (default: a warning).
    pub broken: Option<Broken>,
}

pub fn sync(
    config: &Config,
    cwd: &Path,
    opts: &SyncOptions,
    connect: &dyn Fn() -> Result<Box<dyn Store>, OpenError>,
) -> Result<Report, Error> {
    let started = Instant::now();
    let only = pages::narrow(cwd, &opts.paths)?;
    let out = output::out_dir(cwd, opts.out.as_deref(), config)?;
    // While the pages are read: temporary files a killed run left in the out tree and the
    // store, the manifest and the stat cache.
    let started_at = std::time::SystemTime::now();
    let (side, loaded) = std::thread::scope(|s| {
        let side = s.spawn(|| {
            if !opts.dry_run {
                clean_stale_temps(config, out.as_deref(), started_at);
            }
            let manifest = Manifest::load(&config.manifest);
            (manifest, hash::StatCache::load(&config.cache_file))
        });
        // With `--out` every page is written again: the text of the first 8 MiB of pages is
        // kept rather than read twice.
        let keep = if out.is_some() { 8 << 20 } else { 0 };
        let skip = pages::skip_dirs(config, out.as_deref());
        let loaded = pages::load_keeping(config, &only, &skip, keep);
        let side = side.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        (side, loaded)
    });
    let ((manifest, stat_cache), loaded) = (side, loaded);
    let (mut manifest, mut loaded) = (manifest?, loaded?);
    if !opts.dry_run {
        for temp in std::mem::take(&mut loaded.temps) {
            crate::fs::remove_if_older(&temp, started_at);
        }
    }
    let mut report = Report {
        dry_run: opts.dry_run,
        ..Report::new(CommandName::Sync, std::mem::take(&mut loaded.problems))
    };
    let broken = config.broken_severity(opts.broken, Broken::Warn);
    report.add(pages::reference_problems(config, &loaded.pages, broken));
    report.counts.references = loaded.pages.iter().map(|p| p.refs.len()).sum();

    // New images go to the store while the rest are still being hashed (see `upload::Early`).
    let early = upload::Early::start(config, &manifest, &loaded.pages, opts.dry_run, connect);
    let mut hashed = hash::hash_referenced(&loaded.pages, config, early.as_ref(), stat_cache);
    report.problems.extend(hashed.problems);
    report.counts.local_images = hashed.images.len();
    let plan = plan::plan_run(hashed.images, config, &manifest);
    report.counts.duplicates = plan.by_path.len().saturating_sub(plan.items.len());
    report.add(plan.diagnostics(config));
    report.add(plan.refused_references(&loaded.pages));
    let uploaded = upload::execute(&plan, config, opts.dry_run, connect, early)?;
    upload::report_outcomes(&plan, &uploaded, opts.dry_run, &mut report);

    // A failed upload may come from a stat-cache entry that no longer matches the file (its
    // upload found other bytes): forget it, so that the next run hashes the file again.
    for (item, outcome) in plan.items.iter().zip(&uploaded.outcomes) {
        if matches!(outcome, Outcome::Failed(_)) {
            hashed.cache.forget(&item.image.rel);
        }
    }
    if !opts.dry_run {
        // The manifest first: a page may point at an object only once the manifest knows it.
        manifest.record(&plan, &uploaded.outcomes);
        save_state(config, &mut manifest, &hashed.cache, &mut report)?;
    }
    let tree = out.as_deref().map(output::OutTree::new);
    let left_local = rewrite_pages(
        config,
        &mut loaded,
        &plan,
        &uploaded.outcomes,
        opts,
        tree.as_ref(),
        &mut report,
    );
    if let (Some(out), false) = (&tree, opts.dry_run) {
        // A narrowed run does not see every page that may reference an image: it keeps them all.
        let lifted = match opts.paths.is_empty() {
            true => output::lifted_images(&loaded, &plan, &uploaded.outcomes, &left_local),
            false => Default::default(),
        };
        let mirrored = output::mirror_others(config, &loaded, out, &lifted);
        report.problems.extend(mirrored.problems);
        // Only what an earlier run put there and the sources no longer have (or now lift).
        let files = crate::prune::files_of_run(config, &loaded, &mirrored.left_out);
        let (pruned, problems) = crate::prune::prune(out.root(), &files, !opts.paths.is_empty());
        report.pruned = pruned;
        report.add(problems);
    }
    if opts.dry_run {
        report.target = target_name(config);
    }
    report.counts.pages = loaded.pages.len();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// Remove the temporary files a killed run left in the folders a run writes: the out tree, the
/// store folder and the manifest's folder (not below it). Those in the content roots are
/// found by the page scan (`Loaded::temps`).
fn clean_stale_temps(config: &Config, out: Option<&Path>, started: std::time::SystemTime) {
    let mut dirs: Vec<PathBuf> = out.map(Path::to_path_buf).into_iter().collect();
    if let crate::config::TargetConfig::Dir(store) = &config.target {
        dirs.push(store.clone());
    }
    crate::fs::remove_stale_temps(&dirs, started);
    if let Ok(entries) = std::fs::read_dir(config.manifest.parent().unwrap_or(Path::new("."))) {
        for entry in entries.flatten() {
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if is_file && crate::fs::is_own_temp(&entry.file_name()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Where the objects go, as a person names it: the folder or the bucket.
fn target_name(config: &Config) -> String {
    match &config.target {
        crate::config::TargetConfig::Dir(d) => format!("folder {}", rel(&config.root, d)),
        crate::config::TargetConfig::S3(s) if s.prefix.is_empty() => {
            format!("bucket `{}` at {}", s.bucket, s.endpoint)
        }
        crate::config::TargetConfig::S3(s) => {
            format!(
                "bucket `{}` (prefix `{}/`) at {}",
                s.bucket, s.prefix, s.endpoint
            )
        }
    }
}

/// Save the manifest (a failure stops the run: no page may point at an unrecorded object) and
/// the stat cache (a failure only costs the next run some reads).
fn save_state(
    config: &Config,
    manifest: &mut Manifest,
    cache: &hash::StatCache,
    report: &mut Report,
) -> Result<(), ManifestError> {
    manifest
        .save(&config.manifest)
        .map_err(|source| ManifestError::Write {
            path: config.manifest.clone(),
            source,
        })?;
    if let Err(e) = cache.save(&config.cache_file) {
        report.warnings.push(file_warning(
            &rel(&config.root, &config.cache_file),
            "unreadable",
            format!("cannot write the stat cache ({e}); the next run hashes again"),
        ));
    }
    Ok(())
}

/// The rewrite and output stages for every page: the new text, the diff of a dry run, and the
/// write in place or into the out tree. Returns the pages (by index) left as they were, whose
/// local references still need their images.
///
/// Pages are read again, rewritten and written into the out tree on all cores, a chunk of pages
/// at a time (so that only a chunk's new texts are held at once); the report takes the results
/// in page order, and in place the pages are written in that order, in batches (one flush to
/// disk for many pages).
fn rewrite_pages(
    config: &Config,
    loaded: &mut Loaded,
    plan: &Plan,
    outcomes: &[Outcome],
    opts: &SyncOptions,
    out: Option<&output::OutTree>,
    report: &mut Report,
) -> HashSet<usize> {
    const CHUNK: usize = 256;
    let extract_opts = extract::Options {
        front_matter: config.front_matter.clone(),
    };
    let mut in_place = (out.is_none() && !opts.dry_run).then(|| output::InPlace::new(&config.root));
    let job = PageJob {
        config,
        plan,
        outcomes,
        extract_opts: &extract_opts,
        dry_run: opts.dry_run,
        out: out.filter(|_| !opts.dry_run),
        in_place: in_place.is_some(),
    };
    let mut left_local = HashSet::default();
    for (chunk_index, chunk) in loaded.pages.chunks_mut(CHUNK).enumerate() {
        let done: Vec<Rewritten> = chunk.par_iter_mut().map(|page| job.run(page)).collect();
        for (offset, (page, done)) in chunk.iter().zip(done).enumerate() {
            report.problems.extend(done.problems);
            if done.left_local {
                left_local.insert(chunk_index * CHUNK + offset);
            }
            if let Some(rewrites) = done.rewrites {
                report.counts.pages_changed += 1;
                report.counts.rewritten += rewrites.len();
                report.diff.push_str(&done.diff);
                report.changes.push(PageChange {
                    file: page.rel.clone(),
                    rewrites,
                });
            }
            if let (Some(in_place), Some(text)) = (&mut in_place, &done.text) {
                report.problems.extend(in_place.write(page, text));
            }
        }
    }
    if let Some(in_place) = in_place {
        report.problems.extend(in_place.finish());
    }
    left_local
}

/// What the rewrite of every page needs to know.
struct PageJob<'a> {
    config: &'a Config,
    plan: &'a Plan,
    outcomes: &'a [Outcome],
    extract_opts: &'a extract::Options,
    dry_run: bool,
    /// Where pages are written (not in a dry run).
    out: Option<&'a output::OutTree>,
    /// Whether pages are written in place (their new text is handed back for that).
    in_place: bool,
}

/// What became of one page.
#[derive(Default)]
struct Rewritten {
    problems: Vec<Diagnostic>,
    /// The page was left as it was: its local references still need their images.
    left_local: bool,
    /// The references rewritten, if the page changes.
    rewrites: Option<Vec<crate::report::Rewrite>>,
    /// The unified diff of a dry run.
    diff: String,
    /// The new text, to be written in place.
    text: Option<String>,
}

impl PageJob<'_> {
    /// Read the page again, rewrite it, and write it into the out tree (or hand the new text
    /// back for the in-place batch); the text is let go again before returning.
    fn run(&self, page: &mut pages::Page) -> Rewritten {
        let mut done = Rewritten::default();
        // The text was let go after extraction: read it again, only where it is needed, and
        // refuse a page that changed since it was read.
        let needed = self.out.is_some() || has_edit(page, self.plan, self.outcomes);
        if !needed {
            return done;
        }
        if let Err(why) = page.reload() {
            let message = match why {
                pages::Reload::Changed => {
                    "changed while imglift was running; left as it is (run imglift again)".into()
                }
                pages::Reload::Io(e) => format!("cannot read again: {e}; left as it is"),
            };
            done.problems
                .push(crate::report::file_error(&page.rel, "changed", message));
            done.left_local = true;
            return done;
        }
        let edit = rewrite::page_edit(page, self.plan, self.outcomes, self.extract_opts)
            .unwrap_or_else(|d| {
                done.problems.push(d);
                done.left_local = true;
                None
            });
        let mut new_text = None;
        if let Some(edit) = edit {
            if self.dry_run {
                done.diff = similar::TextDiff::from_lines(&page.text, &edit.text)
                    .unified_diff()
                    .header(&format!("a/{}", page.rel), &format!("b/{}", page.rel))
                    .to_string();
            }
            done.rewrites = Some(edit.rewrites);
            new_text = Some(edit.text);
        }
        if self.in_place {
            done.text = new_text;
        } else if let Some(out) = self.out {
            let written = output::write_page(page, new_text.as_deref(), &self.config.root, out);
            if let Some(problem) = written {
                done.problems.push(problem);
                done.left_local = true;
            }
        }
        page.release();
        done
    }
}

/// Whether some reference of the page points at a confirmed object (so the page is rewritten).
fn has_edit(page: &pages::Page, plan: &Plan, outcomes: &[Outcome]) -> bool {
    page.refs.iter().any(|(_, resolved)| match resolved {
        crate::resolve::Resolved::Local(p) => plan
            .by_path
            .get(p)
            .is_some_and(|&i| outcomes[i].confirmed()),
        _ => false,
    })
}
