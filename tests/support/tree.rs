//! Snapshots of a folder (every file with its bytes, mtime, mode and link target) and
//! comparisons that name each difference: what a run must not have changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One file as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    pub bytes: Vec<u8>,
    pub mtime: SystemTime,
    pub mode: u32,
    /// Target of a symbolic link (then `bytes` is empty).
    pub link: Option<PathBuf>,
}

/// Files under a folder, by relative path.
pub type Tree = BTreeMap<PathBuf, FileState>;

/// Every file under `dir` (nothing if it does not exist), keyed by its path relative to `dir`.
pub fn snapshot(dir: &Path) -> Tree {
    let mut tree = Tree::new();
    if dir.exists() {
        walk(dir, dir, &mut tree);
    }
    tree
}

fn walk(base: &Path, dir: &Path, tree: &mut Tree) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = path.symlink_metadata().unwrap();
        let rel = path.strip_prefix(base).unwrap().to_path_buf();
        if meta.is_dir() {
            walk(base, &path, tree);
            continue;
        }
        let link = meta
            .file_type()
            .is_symlink()
            .then(|| std::fs::read_link(&path).unwrap());
        let bytes = if link.is_some() {
            Vec::new()
        } else {
            std::fs::read(&path).unwrap()
        };
        tree.insert(
            rel,
            FileState {
                bytes,
                mtime: meta.modified().unwrap(),
                mode: mode(&meta),
                link,
            },
        );
    }
}

#[cfg(unix)]
fn mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode(_meta: &std::fs::Metadata) -> u32 {
    0
}

/// Assert two snapshots are the same (bytes, and mtimes when `mtimes`), naming each difference.
#[track_caller]
pub fn assert_same_tree(before: &Tree, after: &Tree, mtimes: bool, what: &str) {
    let mut diffs = Vec::new();
    for (path, a) in before {
        match after.get(path) {
            None => diffs.push(format!("removed: {}", path.display())),
            Some(b) if a.bytes != b.bytes || a.link != b.link => {
                diffs.push(format!("content changed: {}", path.display()))
            }
            Some(b) if mtimes && a.mtime != b.mtime => {
                diffs.push(format!("rewritten (mtime changed): {}", path.display()))
            }
            Some(b) if a.mode != b.mode => diffs.push(format!(
                "mode changed: {} ({:o} -> {:o})",
                path.display(),
                a.mode,
                b.mode
            )),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        diffs.push(format!("new file: {}", path.display()));
    }
    assert!(diffs.is_empty(), "{what}:\n  {}", diffs.join("\n  "));
}

/// Assert that every file of `before` is still in `after` with the same bytes (mtimes, modes and
/// new files aside).
#[track_caller]
pub fn assert_bytes_kept<'a>(
    before: impl IntoIterator<Item = (&'a PathBuf, &'a FileState)>,
    after: &Tree,
) {
    for (path, state) in before {
        let now = after
            .get(path)
            .unwrap_or_else(|| panic!("{} was removed", path.display()));
        assert_same_bytes(&state.bytes, &now.bytes, &path.display().to_string());
    }
}

/// Assert two byte strings are equal, showing where they first differ.
#[track_caller]
pub fn assert_same_bytes(a: &[u8], b: &[u8], what: &str) {
    if a == b {
        return;
    }
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let show = |s: &[u8]| {
        let from = at.saturating_sub(40);
        let to = (at + 40).min(s.len());
        format!("{:?}", String::from_utf8_lossy(&s[from.min(to)..to]))
    };
    panic!(
        "{what}: bytes differ at offset {at} (lengths {} and {})\n  expected: …{}…\n  actual:   …{}…",
        a.len(),
        b.len(),
        show(a),
        show(b)
    );
}
