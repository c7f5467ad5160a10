//! Output: write the rewritten pages, in place or into the `--out` tree, and mirror every other
//! file of the content roots into that tree so that the site generator can build from it.
//!
//! In place, a page is replaced whole (temp file and rename, flushed first) or not at all. The
//! out tree costs nothing for what did not change: a page without edits and every other file is
//! a reflink or a hard link of its source where the filesystem allows (a copy elsewhere), an
//! image that every page referencing it now takes from the store is left out (unless
//! `out_keep_lifted`), and a file already there is kept. Every write into the out tree is a new
//! file renamed into place, so a linked file is never written through and the sources never
//! change. imglift's own files (config, manifest, stat cache) are never mirrored. Nothing here
//! decides what a page says: that is the rewrite stage's.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::config::{real_path, Config};
use crate::error::ConfigError;
use crate::fs::{lexical_normalize, rel, rel_path};
use crate::pages::{Loaded, Page};
use crate::plan::Plan;
use crate::report::{file_error, Diagnostic};
use crate::resolve::Resolved;
use crate::upload::Outcome;

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

/// The `--out` folder of a run, and the folders below it that the run has made or checked, so
/// that each is made (or checked not to be a link) once, not once per file; a folder the run
/// made holds only what the run put there, so no file is looked for before one is written
/// into it. Shared by the threads that write pages.
pub struct OutTree {
    root: PathBuf,
    /// Folder → whether this run made it.
    dirs: Mutex<HashMap<PathBuf, bool>>,
}

impl OutTree {
    pub fn new(root: &Path) -> OutTree {
        OutTree {
            root: root.to_path_buf(),
            dirs: Mutex::new(HashMap::default()),
        }
    }

    /// The out folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Make the folder of `dest` (a file below the out folder) and its parents, never through a
    /// link: a link or a file where a folder should be is an error, so nothing is written
    /// outside the out folder by following a link committed (or swapped in) below it. Returns
    /// whether this run made that folder.
    fn folder_of(&self, dest: &Path) -> std::io::Result<bool> {
        let plain = dest.strip_prefix(&self.root).is_ok_and(|below| {
            below
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)))
        });
        match dest.parent() {
            Some(dir) if plain => self.folder(dir),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "{} is not a plain path inside {}",
                    dest.display(),
                    self.root.display()
                ),
            )),
        }
    }

    /// [`OutTree::folder_of`] for a folder at or below the out folder.
    fn folder(&self, dir: &Path) -> std::io::Result<bool> {
        if let Some(&made) = self.lock().get(dir) {
            return Ok(made);
        }
        let made = match dir.parent() {
            Some(parent) if dir != self.root => {
                self.folder(parent)?;
                crate::fs::make_dir_no_follow(dir)?
            }
            // The out folder itself is a real path (`out_dir`), made with its parents.
            _ => match crate::fs::make_dir_no_follow(dir) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::create_dir_all(dir)?;
                    true
                }
                made => made?,
            },
        };
        self.lock().insert(dir.to_path_buf(), made);
        Ok(made)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, bool>> {
        self.dirs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Write one page into the out tree: its new text, or, without edits, a link to the page
/// itself (written from the text read if the file on disk is no longer that page).
pub fn write_page(
    page: &Page,
    new_text: Option<&str>,
    root: &Path,
    out: &OutTree,
) -> Option<Diagnostic> {
    let dest = out.root.join(rel_path(root, &page.path));
    let written = match new_text {
        Some(new) => write_if_changed(out, &dest, new.as_bytes()),
        // The page as it was read, linked where that works; written from the text read if the
        // file on disk is no longer that page.
        None => mirror_file(&page.path, out, &dest, Some(page.digest()))
            .or_else(|_| write_if_changed(out, &dest, page.text.as_bytes())),
    };
    written
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

/// The images the out tree can do without: every reference to each, in every page of the run,
/// was rewritten to its confirmed object. An image referenced by a page that was left as it is
/// (`left_local`, by page index), or whose upload failed, is not among them; nor is any image
/// while a page could not be read (what it references is unknown).
pub fn lifted_images(
    loaded: &Loaded,
    plan: &Plan,
    outcomes: &[Outcome],
    left_local: &HashSet<usize>,
) -> HashSet<PathBuf> {
    let mut lifted = HashSet::default();
    if !loaded.unreadable.is_empty() {
        return lifted;
    }
    let mut kept = HashSet::default();
    for (i, page) in loaded.pages.iter().enumerate() {
        for (_, resolved) in &page.refs {
            let Resolved::Local(path) = resolved else {
                continue;
            };
            let confirmed = plan
                .by_path
                .get(path)
                .is_some_and(|&item| outcomes[item].confirmed());
            if confirmed && !left_local.contains(&i) {
                lifted.insert(path.clone());
            } else {
                kept.insert(path.clone());
            }
        }
    }
    lifted.retain(|p| !kept.contains(p));
    lifted
}

/// What [`mirror_others`] did: the problems, and the lifted images it left out of the tree.
pub struct Mirrored {
    pub problems: Vec<Diagnostic>,
    pub left_out: HashSet<PathBuf>,
}

/// Mirror every file of the content roots that is not a page (and every page that could not be
/// read) into the out tree, except the `lifted` images that no other mirrored file names.
pub fn mirror_others(
    config: &Config,
    loaded: &Loaded,
    out: &OutTree,
    lifted: &HashSet<PathBuf>,
) -> Mirrored {
    // imglift's own files are not part of the site the generator builds.
    let own = [
        Some(&config.manifest),
        Some(&config.cache_file),
        config.config_file.as_ref(),
    ];
    let others: Vec<&PathBuf> = loaded
        .others
        .iter()
        .filter(|p| !own.contains(&Some(*p)))
        .chain(&loaded.unreadable)
        .collect();
    let left_out = match config.out_keep_lifted {
        true => HashSet::default(),
        false => left_out(&others, lifted),
    };
    // On all cores: each file is its own link or copy.
    let problems = others
        .into_par_iter()
        .filter(|p| !left_out.contains(*p))
        .filter_map(|path| {
            let dest = out.root.join(rel_path(&config.root, path));
            mirror_file(path, out, &dest, None).err().map(|e| {
                file_error(
                    &rel(&config.root, path),
                    "unreadable",
                    format!("cannot copy to {}: {e}", dest.display()),
                )
            })
        })
        .collect();
    Mirrored { problems, left_out }
}

/// What a URL path escapes in a file name.
const URL_NAME: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The lifted images among `files` that none of the other files names: a layout, a stylesheet
/// or an excluded page that names an image by its file name would still need the local copy.
/// A file is searched when it is not an image (by its first bytes) and not over 8 MB.
fn left_out(files: &[&PathBuf], lifted: &HashSet<PathBuf>) -> HashSet<PathBuf> {
    use std::io::Read;
    const LIMIT: u64 = 8 * 1024 * 1024;
    let candidates: Vec<&PathBuf> = files
        .iter()
        .copied()
        .filter(|p| lifted.contains(*p))
        .collect();
    if candidates.is_empty() {
        return HashSet::default();
    }
    // Each name as written, and percent-encoded as a URL would spell it.
    let mut needles: Vec<(Vec<u8>, usize)> = Vec::new();
    for (i, path) in candidates.iter().enumerate() {
        let Some(name) = path.file_name() else {
            continue;
        };
        let raw = name.as_encoded_bytes().to_vec();
        let encoded = percent_encoding::percent_encode(&raw, URL_NAME).to_string();
        if encoded.as_bytes() != raw.as_slice() {
            needles.push((encoded.into_bytes(), i));
        }
        needles.push((raw, i));
    }
    let Ok(names) = aho_corasick::AhoCorasick::new(needles.iter().map(|(n, _)| n)) else {
        // No search, no proof: keep every copy.
        return HashSet::default();
    };
    let mut named = vec![false; candidates.len()];
    for path in files.iter().filter(|p| !lifted.contains(**p)) {
        let Ok((mut file, meta)) = crate::fs::open_regular(path) else {
            continue;
        };
        if meta.len() > LIMIT {
            continue;
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        let mut head = [0u8; 512];
        let Ok(n) = file.read(&mut head) else {
            continue;
        };
        let head = &head[..n];
        if head.contains(&0) || crate::sniff::raster_type(head).is_some() {
            continue;
        }
        bytes.extend_from_slice(head);
        if file.read_to_end(&mut bytes).is_err() {
            continue;
        }
        for found in names.find_overlapping_iter(&bytes) {
            named[needles[found.pattern().as_usize()].1] = true;
        }
    }
    candidates
        .into_iter()
        .zip(named)
        .filter(|(_, named)| !named)
        .map(|(path, _)| path.clone())
        .collect()
}

/// Write a file of the out tree unless it already holds these bytes. No folder below `out` may
/// be a link (an error for that file); a link where the file goes is replaced, not written
/// through.
fn write_if_changed(out: &OutTree, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if out.folder_of(dest)? {
        return crate::fs::write_new(dest, bytes);
    }
    if crate::fs::read_regular(dest).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    crate::fs::write_replace(dest, bytes)
}

/// Put a file into the out tree unless it is already there (the same file, or a copy with the
/// same size and time), as a reflink, a hard link or a copy (`fs::share_replace`). The source
/// is opened without following links (a file swapped for a link while imglift runs is not
/// mirrored); with `digest`, it must still hold those bytes (a page as it was read). The new
/// file is renamed over `dest`, so a file or link at `dest` is replaced, never written through.
fn mirror_file(
    src: &Path,
    out: &OutTree,
    dest: &Path,
    digest: Option<&[u8; 32]>,
) -> std::io::Result<()> {
    let (mut file, meta) = crate::fs::open_regular(src)?;
    if let Some(digest) = digest {
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(&mut file)?;
        if hasher.finalize().as_bytes() != digest {
            return Err(std::io::Error::other("changed since it was read"));
        }
        std::io::Seek::rewind(&mut file)?;
    }
    let made = out.folder_of(dest)?;
    if let Some(existing) = (!made)
        .then(|| std::fs::symlink_metadata(dest).ok())
        .flatten()
    {
        let copy = existing.len() == meta.len() && existing.modified().ok() == meta.modified().ok();
        if existing.is_file() && (crate::fs::is_same_file(&existing, &meta) || copy) {
            return Ok(());
        }
    }
    crate::fs::share_replace(src, &mut file, &meta, dest)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_out_tree_makes_each_folder_and_replaces_what_a_kept_folder_holds() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let out = dir.path().join("build");
        let tree = OutTree::new(&out);
        let page = out.join("content/posts/a.md");
        assert!(tree.folder_of(&page).unwrap(), "made by this run");
        write_if_changed(&tree, &page, b"new\n").unwrap();
        assert_eq!(std::fs::read(&page).unwrap(), b"new\n");

        // A later run keeps the folders and replaces a link where a file goes.
        let victim = elsewhere.path().join("victim.md");
        std::fs::write(&victim, "keep me\n").unwrap();
        std::fs::remove_file(&page).unwrap();
        std::os::unix::fs::symlink(&victim, &page).unwrap();
        let again = OutTree::new(&out);
        assert!(!again.folder_of(&page).unwrap(), "there already");
        write_if_changed(&again, &page, b"new\n").unwrap();
        assert!(std::fs::symlink_metadata(&page).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");

        // A linked folder below the out folder receives nothing.
        std::os::unix::fs::symlink(elsewhere.path(), out.join("content/linked")).unwrap();
        let inside = out.join("content/linked/sub/b.md");
        assert!(write_if_changed(&again, &inside, b"x").is_err());
        assert!(!elsewhere.path().join("sub").exists());
        // Nor does a path that leaves the out folder.
        assert!(again.folder_of(&out.join("../b.md")).is_err());
    }
}
