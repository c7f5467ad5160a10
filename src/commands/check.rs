//! `imglift check`: the offline gate for pre-commit and CI. Lists every local reference `sync`
//! would rewrite and every broken or refused one; reads only the first bytes of each image and
//! writes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::{Broken, Config};
use crate::error::Error;
use crate::fs::rel;
use crate::hash;
use crate::pages;
use crate::report::{file_error, CommandName, Diagnostic, Report, Severity};
use crate::resolve::Resolved;

/// `imglift check`: the offline gate. Lists every local reference `sync` would rewrite and every
/// broken or refused one; reads only the first bytes of each image.
///
/// A broken reference is an error unless `broken` (`--lenient`) or the config says otherwise.
pub fn check(
    config: &Config,
    cwd: &Path,
    paths: &[PathBuf],
    broken: Option<Broken>,
    skip_non_pages: bool,
) -> Result<Report, Error> {
    let started = Instant::now();
    let only = pages::narrow(cwd, paths)?;
    let mut loaded = pages::load(config, &only, &pages::skip_dirs(config, None))?;
    if !skip_non_pages {
        // Each such PATH is an error below; the load's warning would say it twice.
        loaded.problems.retain(|d| d.kind != "unmatched");
    }
    let mut report = Report::new(CommandName::Check, loaded.problems);
    let broken = config.broken_severity(broken, Broken::Error);
    report.add(pages::reference_problems(config, &loaded.pages, broken));
    let mut sniffed: BTreeMap<PathBuf, Result<&'static str, hash::Refusal>> = BTreeMap::new();
    for page in &loaded.pages {
        report.counts.references += page.refs.len();
        for (r, resolved) in &page.refs {
            let Resolved::Local(path) = resolved else {
                continue;
            };
            let sniff = sniffed.entry(path.clone()).or_insert_with(|| {
                let mime = hash::sniff_file(path, config.max_size)?;
                if mime == "image/svg+xml" {
                    hash::svg_allowed(path, None, config.allow_svg_scripts)?;
                }
                Ok(mime)
            });
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
                    why.kind(),
                    format!(
                        "`{}`: {} {why}; not uploaded",
                        r.dest,
                        rel(&config.root, path)
                    ),
                )),
            }
        }
    }
    if !skip_non_pages || only.is_empty() {
        report
            .problems
            .extend(unseen(config, &only, &loaded.pages, &loaded.unreadable));
    }
    report.counts.pages = loaded.pages.len();
    report.counts.local_images = sniffed.len();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// A gate that saw nothing must say so: an error when no page was read at all, and one for each
/// PATH argument under which no page was read (outside the content roots, excluded, hidden, or
/// in the store), since that file was not checked.
fn unseen(
    config: &Config,
    only: &[PathBuf],
    pages: &[pages::Page],
    unreadable: &[PathBuf],
) -> Vec<Diagnostic> {
    let read: Vec<&PathBuf> = pages.iter().map(|p| &p.path).chain(unreadable).collect();
    let mut out = Vec::new();
    for path in only {
        if !read.iter().any(|p| p.starts_with(path)) {
            out.push(file_error(
                &rel(&config.root, path),
                "not_scanned",
                "no page here is read by imglift (outside the content roots, excluded by \
                 include/exclude, hidden, or inside the store); not checked"
                    .into(),
            ));
        }
    }
    if read.is_empty() && out.is_empty() {
        let config_file = config.config_file.as_deref().unwrap_or(&config.root);
        out.push(file_error(
            &rel(&config.root, config_file),
            "no_pages",
            "no page found in the content roots with these include/exclude globs; \
             nothing was checked"
                .into(),
        ));
    }
    out
}
