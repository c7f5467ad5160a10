//! Output: write the rewritten pages, in place or into the `--out` tree, and mirror every other
//! file of the content roots into that tree so that the site generator can build from it.
//!
//! In place, a page is replaced whole (temp file and rename, flushed first) or not at all. In the
//! out tree a file is written only when its bytes differ, and a copy is skipped when one with the
//! same size and time is there. imglift's own files (config, manifest, stat cache) are never
//! mirrored. Nothing here decides what a page says: that is the rewrite stage's.

use std::path::{Path, PathBuf};

use crate::config::{real_path, Config};
use crate::error::ConfigError;
use crate::fs::{lexical_normalize, rel, rel_path};
use crate::pages::{Loaded, Page};
use crate::report::{file_error, Diagnostic};

/// The `--out` folder as an absolute path; it must be neither the site root nor contain a
/// content folder, or the sources would be overwritten.
pub fn out_dir(
    cwd: &Path,
    out: Option<&Path>,
    config: &Config,
) -> Result<Option<PathBuf>, ConfigError> {
    let Some(out) = out else {
        return Ok(None);
    };
    // Real paths, not text: `--out` given as a link to `.` is the site root.
    let o = real_path(&lexical_normalize(&cwd.join(out)));
    let inside_content = config.content.iter().any(|c| real_path(c).starts_with(&o));
    if inside_content || o == config.root {
        return Err(ConfigError::Path {
            path: o,
            message: "--out must not be the site root or contain a content folder".into(),
        });
    }
    Ok(Some(o))
}

/// Write one page's new (or old) text into the out tree.
pub fn write_page(
    page: &Page,
    new_text: Option<&str>,
    root: &Path,
    out: &Path,
) -> Option<Diagnostic> {
    let bytes = new_text.unwrap_or(&page.text).as_bytes();
    write_if_changed(out, &out.join(rel_path(root, &page.path)), bytes)
        .err()
        .map(|e| file_error(&page.rel, "unreadable", format!("cannot write: {e}")))
}

/// The pages rewritten in place, written in batches ([`crate::fs::ReplaceBatch`]): a batch's
/// temporary files are flushed to disk together, then each page is renamed over, unless it was
/// edited since it was read (then it is left as it is, and reported).
pub struct InPlace {
    root: PathBuf,
    batch: crate::fs::ReplaceBatch<String>,
}

impl InPlace {
    pub fn new(root: &Path) -> InPlace {
        InPlace {
            root: root.to_path_buf(),
            batch: crate::fs::ReplaceBatch::default(),
        }
    }

    /// Add a page's new text to the batch, and write the batch once it is full. Returns what
    /// went wrong, for this page or any page of a batch written now.
    pub fn write(&mut self, page: &Page, new_text: &str) -> Vec<Diagnostic> {
        let added = self.batch.add(
            &page.path,
            new_text.as_bytes(),
            page.digest(),
            page.rel.clone(),
        );
        let mut problems: Vec<Diagnostic> = added
            .err()
            .map(|e| cannot_write(&page.rel, &e))
            .into_iter()
            .collect();
        if self.batch.is_full() {
            problems.extend(page_problems(self.batch.flush()));
        }
        problems
    }

    /// Write what is left, and make every rename durable.
    pub fn finish(self) -> Vec<Diagnostic> {
        let (outcomes, unflushed) = self.batch.finish();
        let mut problems = page_problems(outcomes);
        if let Some((folder, e)) = unflushed {
            problems.push(file_error(
                &rel(&self.root, &folder),
                "unreadable",
                format!("cannot flush the rewritten pages to disk: {e}"),
            ));
        }
        problems
    }
}

fn page_problems(outcomes: crate::fs::Outcomes<String>) -> Vec<Diagnostic> {
    use crate::fs::Replaced;
    outcomes
        .into_iter()
        .filter_map(|(page, outcome)| match outcome {
            Replaced::Done => None,
            Replaced::Changed => Some(file_error(
                &page,
                "changed",
                "changed while imglift was running; left as it is (run imglift again)".into(),
            )),
            Replaced::Failed(e) => Some(cannot_write(&page, &e)),
        })
        .collect()
}

fn cannot_write(page: &str, e: &std::io::Error) -> Diagnostic {
    file_error(page, "unreadable", format!("cannot write: {e}"))
}

/// Copy every file of the content roots that is not a page (and every page that could not be
/// read) into the out tree.
pub fn mirror_others(config: &Config, loaded: &Loaded, out: &Path) -> Vec<Diagnostic> {
    // imglift's own files are not part of the site the generator builds.
    let own = [
        Some(&config.manifest),
        Some(&config.cache_file),
        config.config_file.as_ref(),
    ];
    let others = loaded.others.iter().filter(|p| !own.contains(&Some(*p)));
    let mut problems = Vec::new();
    for path in others.chain(&loaded.unreadable) {
        let dest = out.join(rel_path(&config.root, path));
        if let Err(e) = mirror_file(path, out, &dest) {
            problems.push(file_error(
                &rel(&config.root, path),
                "unreadable",
                format!("cannot copy to {}: {e}", dest.display()),
            ));
        }
    }
    problems
}

/// Write a file of the out tree unless it already holds these bytes. No folder below `out` may
/// be a link (an error for that file); a link where the file goes is replaced, not written
/// through.
fn write_if_changed(out: &Path, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(out)?;
        crate::fs::create_dirs_beneath(out, parent)?;
    }
    if crate::fs::read_regular(dest).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    crate::fs::write_replace(dest, bytes)
}

/// Copy a file into the output tree unless a copy with the same size and time is there.
/// The source is opened without following links (a file swapped for a link while imglift runs
/// is not copied), and the copy goes to a temporary file renamed over `dest`, so a link at
/// `dest` is replaced, never written through.
fn mirror_file(src: &Path, out: &Path, dest: &Path) -> std::io::Result<()> {
    let (mut file, meta) = crate::fs::open_regular(src)?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(out)?;
        crate::fs::create_dirs_beneath(out, parent)?;
    }
    if let Ok(existing) = std::fs::symlink_metadata(dest) {
        if existing.is_file()
            && existing.len() == meta.len()
            && existing.modified().ok() == meta.modified().ok()
        {
            return Ok(());
        }
    }
    crate::fs::copy_replace(&mut file, dest, meta.modified().ok())
}
