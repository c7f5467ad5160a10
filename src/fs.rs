//! Filesystem helpers every stage may use: paths relative to the root, lexical normalisation,
//! tab-separated field escaping for imglift's own state files, and whole-file writes (temp file in
//! the same folder, then rename).
//!
//! This is also the one home of platform-specific filesystem calls; each sits behind `cfg` with a
//! portable fallback, so imglift builds and behaves the same on Linux, macOS and Windows. Nothing
//! here knows about pages, images or stores.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// A path relative to the site root, with `/` separators, for messages and globs.
pub fn rel(root: &Path, path: &Path) -> String {
    let r = path.strip_prefix(root).unwrap_or(path);
    let s = r.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// Resolve `.` and `..` without touching the filesystem.
pub fn lexical_normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Escape a field for a tab-separated line.
pub fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename, keeping the
/// permissions of the file it replaces, and flushed to disk before the rename: for pages, the
/// manifest and stored objects, which must survive a crash whole.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, true)
}

/// Like [`write_atomic`] but without waiting for the disk: for files that a later run
/// regenerates (the `--out` tree, the stat cache). A reader still never sees a torn file.
pub fn write_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, false)
}

fn write_via_temp(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".imglift-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    match std::fs::metadata(path) {
        Ok(meta) => tmp.as_file().set_permissions(meta.permissions())?,
        Err(_) => default_permissions(tmp.as_file())?,
    }
    if durable {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn default_permissions(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn default_permissions(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

/// Make every file written so far under `dir` durable, with one call where the platform has one
/// (Linux `syncfs`) instead of one flush per file; elsewhere each of `files` is flushed. A
/// folder that does not exist holds nothing to flush.
pub fn sync_tree(dir: &Path, files: &[PathBuf]) -> std::io::Result<()> {
    let handle = match std::fs::File::open(dir) {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    sync_filesystem(&handle, files)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn sync_filesystem(dir: &std::fs::File, _files: &[PathBuf]) -> std::io::Result<()> {
    rustix::fs::syncfs(dir).map_err(std::io::Error::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn sync_filesystem(_dir: &std::fs::File, files: &[PathBuf]) -> std::io::Result<()> {
    for file in files {
        match std::fs::File::open(file) {
            Ok(f) => f.sync_all()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
