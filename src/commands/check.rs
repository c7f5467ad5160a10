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
use crate::report::{CommandName, Report, Severity};
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
) -> Result<Report, Error> {
    let started = Instant::now();
    let only = pages::narrow(cwd, paths)?;
    let loaded = pages::load(config, &only, &pages::skip_dirs(config, None))?;
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
    report.counts.pages = loaded.pages.len();
    report.counts.local_images = sniffed.len();
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}
