//! Scan: walk the content roots and list the Markdown pages (and, for `--out`, every other file).
//!
//! Hidden and VCS folders are skipped, as are the output tree and the local store when they lie
//! inside a content root. Symbolic links are not followed: a linked page could point anywhere,
//! and rewriting it in place would replace the link. Order is sorted, so runs are deterministic.

use std::collections::BTreeSet;
use std::path::PathBuf;

use walkdir::WalkDir;

use crate::config::Config;
use crate::error::ConfigError;
use crate::fs::rel;

#[derive(Debug, Default)]
pub struct Scanned {
    /// Markdown pages matching include and not exclude.
    pub pages: Vec<PathBuf>,
    /// Every other regular file of the content roots (for mirroring into `--out`).
    pub others: Vec<PathBuf>,
}

/// Walk the content roots. `only` (absolute paths) narrows the run to those files or folders;
/// `skip` lists folders never to enter.
pub fn scan(config: &Config, only: &[PathBuf], skip: &[PathBuf]) -> Result<Scanned, ConfigError> {
    let mut pages = BTreeSet::new();
    let mut others = BTreeSet::new();
    for content in &config.content {
        if !content.is_dir() {
            return Err(ConfigError::Path {
                path: content.clone(),
                message: "content folder does not exist (check `content` in imglift.yaml)".into(),
            });
        }
        let walker = WalkDir::new(content)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
                let skipped = e.file_type().is_dir() && skip.iter().any(|s| e.path() == s);
                !hidden && !skipped
            });
        for entry in walker.filter_map(Result::ok) {
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.into_path();
            if !only.is_empty() && !only.iter().any(|o| path.starts_with(o)) {
                continue;
            }
            // Globs may be written relative to the root or to the content folder.
            let rel_root = rel(&config.root, &path);
            let rel_content = rel(content, &path);
            let matches =
                |set: &globset::GlobSet| set.is_match(&rel_root) || set.is_match(&rel_content);
            if matches(&config.include) && !matches(&config.exclude) {
                pages.insert(path);
            } else {
                others.insert(path);
            }
        }
    }
    others.retain(|p| !pages.contains(p));
    Ok(Scanned {
        pages: pages.into_iter().collect(),
        others: others.into_iter().collect(),
    })
}
