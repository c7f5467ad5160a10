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

/// A path relative to the site root as a path: its bytes kept (two names that differ only in
/// bytes that are not UTF-8 stay two names), for joining onto the `--out` folder.
pub fn rel_path<'a>(root: &Path, path: &'a Path) -> &'a Path {
    path.strip_prefix(root).unwrap_or(path)
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

/// Escape a field for a tab-separated line. A field that starts with a character the state
/// files give meaning to at the start of a line (`#` a comment, `<`, `=`, `>` a merge-conflict
/// marker) gets a backslash before it, so that it reads back as itself.
pub fn escape(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r");
    if escaped.starts_with(['#', '<', '=', '>']) {
        format!("\\{escaped}")
    } else {
        escaped
    }
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

fn refused(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{} {why}", path.display()),
    )
}

/// Open a file to read it, the one way imglift opens an image or a page: without following a
/// link at its last component, without blocking on a FIFO, and only if it is a regular file.
/// `path` must be a real path (no links, as resolve gives it); the handle is then checked to be
/// the file that is at `path` now, so a folder swapped for a link while imglift runs is caught
/// too. Everything read from the handle is from inside the folder `path` names.
pub fn open_checked(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    if let Some(opened) = open_without_links(path) {
        return opened;
    }
    let (file, meta) = open_regular(path)?;
    let moved = || refused(path, "was replaced by a link while imglift was running");
    if path.canonicalize()? != path {
        return Err(moved());
    }
    if !same_file(&meta, &std::fs::metadata(path)?) {
        return Err(moved());
    }
    Ok((file, meta))
}

/// [`open_checked`] in one call where the kernel can refuse a link at any component of the
/// path (Linux `openat2` with `RESOLVE_NO_SYMLINKS`): `path` is a real path, so a link anywhere
/// in it now was put there since. `None` where that call is not available (an older kernel, a
/// sandbox that forbids it): then the caller looks at the path itself.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_without_links(path: &Path) -> Option<std::io::Result<(std::fs::File, std::fs::Metadata)>> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    use std::sync::atomic::{AtomicBool, Ordering};
    static UNAVAILABLE: AtomicBool = AtomicBool::new(false);
    if UNAVAILABLE.load(Ordering::Relaxed) {
        return None;
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let opened = rustix::fs::openat2(
        rustix::fs::CWD,
        path,
        flags,
        Mode::empty(),
        ResolveFlags::NO_SYMLINKS,
    );
    let file = match opened {
        Ok(fd) => std::fs::File::from(fd),
        Err(rustix::io::Errno::LOOP) => {
            return Some(Err(refused(
                path,
                "is a symbolic link, or a folder on its path was replaced by one",
            )))
        }
        Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => {
            UNAVAILABLE.store(true, Ordering::Relaxed);
            return None;
        }
        // A path the call does not take (a NUL byte): the caller's way says why.
        Err(rustix::io::Errno::INVAL) => return None,
        Err(e) => return Some(Err(e.into())),
    };
    let meta = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => return Some(Err(e)),
    };
    if !meta.is_file() {
        return Some(Err(refused(
            path,
            "is not a regular file (a FIFO, device or socket)",
        )));
    }
    Some(Ok((file, meta)))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_without_links(_path: &Path) -> Option<std::io::Result<(std::fs::File, std::fs::Metadata)>> {
    None
}

/// Open a file to read it without following a link at its last component and without
/// blocking on a FIFO; only a regular file is accepted.
pub fn open_regular(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    let file = open_no_follow(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused(
            path,
            "is not a regular file (a FIFO, device or socket)",
        ));
    }
    Ok((file, meta))
}

/// All the bytes of a file opened by [`open_regular`] (for pages, whose folders may be reached
/// through a link the configuration names).
pub fn read_regular(path: &Path) -> std::io::Result<Vec<u8>> {
    let (file, meta) = open_regular(path)?;
    read_all(file, &meta)
}

/// All the bytes of a file opened by [`open_checked`].
pub fn read_checked(path: &Path) -> std::io::Result<Vec<u8>> {
    let (file, meta) = open_checked(path)?;
    read_all(file, &meta)
}

/// Every byte left in `file`, the buffer sized by the metadata already at hand (`File`'s own
/// `read_to_end` asks the kernel for the size and position again).
fn read_all(file: std::fs::File, meta: &std::fs::Metadata) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => Ok(std::fs::File::from(fd)),
        Err(rustix::io::Errno::LOOP) => Err(refused(path, "is a symbolic link")),
        Err(e) => Err(e.into()),
    }
}

/// Elsewhere: look before opening (a narrower window, closed by the identity check after).
#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> std::io::Result<std::fs::File> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(refused(path, "is a symbolic link"));
    }
    if !meta.is_file() {
        return Err(refused(path, "is not a regular file"));
    }
    std::fs::File::open(path)
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// Create the folder `dir` and its parents below `base` (which must exist), never through a
/// link: a link or a file where a folder should be is an error, so nothing is written outside
/// `base` by following a link committed (or swapped in) below it.
pub fn create_dirs_beneath(base: &Path, dir: &Path) -> std::io::Result<()> {
    let Ok(below) = dir.strip_prefix(base) else {
        return Err(refused(dir, &format!("is not inside {}", base.display())));
    };
    let mut at = base.to_path_buf();
    for part in below.components() {
        let Component::Normal(name) = part else {
            return Err(refused(dir, "is not a plain path"));
        };
        at.push(name);
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(refused(
                    &at,
                    "is a symbolic link; imglift does not write through links",
                ))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(refused(&at, "is not a folder")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::create_dir(&at) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !std::fs::symlink_metadata(&at)?.is_dir() {
                        return Err(refused(&at, "is not a folder"));
                    }
                }
                Err(e) => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Make the folder `at`, whose parent exists and is no link. `Ok(true)` when it was made now,
/// `Ok(false)` when a folder was there already; a link or a file there is an error (`mkdir`
/// does not follow a link, so nothing is made through one).
pub fn make_dir_no_follow(at: &Path) -> std::io::Result<bool> {
    match std::fs::create_dir(at) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::symlink_metadata(at)?;
            if meta.file_type().is_symlink() {
                Err(refused(
                    at,
                    "is a symbolic link; imglift does not write through links",
                ))
            } else if meta.is_dir() {
                Ok(false)
            } else {
                Err(refused(at, "is not a folder"))
            }
        }
        Err(e) => Err(e),
    }
}

/// Copy what is left to read of `src` to `dest` through a temporary file in the same folder and
/// a rename (so a link at `dest` is replaced, never followed), with this modification time.
pub fn copy_replace(
    src: &mut std::fs::File,
    dest: &Path,
    mtime: Option<std::time::SystemTime>,
) -> std::io::Result<()> {
    let mut tmp = temp_beside(dest)?;
    std::io::copy(src, tmp.as_file_mut())?;
    if let Ok(meta) = src.metadata() {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    if let Some(mtime) = mtime {
        tmp.as_file().set_modified(mtime)?;
    }
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// Whether two metadata describe the same file (the same inode on the same device where the
/// platform tells; elsewhere, the same size and modification time).
pub fn is_same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    same_file(a, b)
}

/// How [`share_replace`] put a file in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// A copy-on-write clone: its own file that shares the source's blocks until either changes.
    Reflinked,
    /// A hard link: the source's own file under a second name.
    Linked,
    /// A plain copy (another filesystem, or links refused).
    Copied,
}

/// Put the bytes of `src` (opened by [`open_regular`] at `src_path`, `meta` its metadata) at
/// `dest` without copying them where the filesystem allows: a reflink (copy-on-write clone)
/// where it can make one, else a hard link, else a copy. Whatever is used, the new file is made
/// under a temporary name beside `dest` and renamed over it, so a file or link already at
/// `dest` is replaced, never written through. A hard link is kept only if it is the very file
/// that was opened (a source swapped for a link meanwhile is copied from the handle instead).
///
/// A hard link is the source itself: a later writer must replace the file (as imglift does),
/// not write into it, or the source changes too.
pub fn share_replace(
    src_path: &Path,
    src: &mut std::fs::File,
    meta: &std::fs::Metadata,
    dest: &Path,
) -> std::io::Result<Shared> {
    if let Some(tmp) = reflink_beside(src, meta, dest) {
        tmp.persist(dest).map_err(|e| e.error)?;
        return Ok(Shared::Reflinked);
    }
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let linked = tempfile::Builder::new()
        .prefix(".imglift-")
        .suffix(".tmp")
        .make_in(dir, |p| std::fs::hard_link(src_path, p));
    if let Ok(link) = linked {
        let same = std::fs::symlink_metadata(link.path())
            .is_ok_and(|m| m.is_file() && same_file(&m, meta));
        if same {
            link.persist(dest).map_err(|e| e.error)?;
            return Ok(Shared::Linked);
        }
        // Dropping the link removes it; the handle's bytes are copied below.
    }
    copy_replace(src, dest, meta.modified().ok())?;
    Ok(Shared::Copied)
}

/// A reflink of `src` in a temporary file beside `dest`, with the source's permissions and
/// modification time; `None` where the filesystem cannot make one (then it is not tried again
/// on that device in this process).
#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(any(target_arch = "sparc", target_arch = "sparc64"))
))]
fn reflink_beside(
    src: &std::fs::File,
    meta: &std::fs::Metadata,
    dest: &Path,
) -> Option<tempfile::NamedTempFile> {
    use std::os::unix::fs::MetadataExt;
    use std::sync::Mutex;
    // (source device, destination device) pairs where a clone failed: most filesystems (ext4,
    // tmpfs) make none, and each failed try costs a temporary file.
    static REFUSED: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());
    let dir = dest.parent().filter(|p| !p.as_os_str().is_empty())?;
    let devices = (meta.dev(), std::fs::metadata(dir).ok()?.dev());
    if REFUSED.lock().map_or(true, |d| d.contains(&devices)) {
        return None;
    }
    let tmp = temp_beside(dest).ok()?;
    if rustix::fs::ioctl_ficlone(tmp.as_file(), src).is_err() {
        if let Ok(mut d) = REFUSED.lock() {
            d.push(devices);
        }
        return None;
    }
    tmp.as_file().set_permissions(meta.permissions()).ok()?;
    if let Ok(mtime) = meta.modified() {
        tmp.as_file().set_modified(mtime).ok()?;
    }
    Some(tmp)
}

#[cfg(not(all(
    any(target_os = "linux", target_os = "android"),
    not(any(target_arch = "sparc", target_arch = "sparc64"))
)))]
fn reflink_beside(
    _src: &std::fs::File,
    _meta: &std::fs::Metadata,
    _dest: &Path,
) -> Option<tempfile::NamedTempFile> {
    None
}

/// Write `bytes` to `path` through a temporary file in the same folder and a rename, keeping the
/// permissions of the file it replaces, and flushed to disk before the rename: for pages, the
/// manifest and stored objects, which must survive a crash whole.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, true)
}

/// Like [`write_atomic`], but the file is replaced only if it still holds the bytes read
/// before (`expected`, their blake3): checked after the new bytes are on disk, just before the
/// rename, so that an edit made meanwhile is kept. `Ok(false)` when the file changed and was
/// left as it is.
pub fn write_atomic_if_unchanged(
    path: &Path,
    bytes: &[u8],
    expected: &[u8; 32],
) -> std::io::Result<bool> {
    let tmp = temp_with(path, bytes, true)?;
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    if hasher.finalize().as_bytes() != expected {
        return Ok(false);
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(true)
}

/// Like [`write_atomic`] but without waiting for the disk: for files that a later run
/// regenerates (the `--out` tree, the stat cache). A reader still never sees a torn file.
pub fn write_replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via_temp(path, bytes, false)
}

/// Like [`write_replace`], for a file in a folder this run made (so nothing is there to keep
/// the permissions of): a new file with the default permissions, renamed into place whole.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    default_permissions(tmp.as_file())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn write_via_temp(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let tmp = temp_with(path, bytes, durable)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Whether a file name is one of imglift's own temporary files (`.imglift-XXXXXX.tmp`).
pub fn is_own_temp(name: &std::ffi::OsStr) -> bool {
    let name = name.as_encoded_bytes();
    name.starts_with(b".imglift-") && name.ends_with(b".tmp") && name.len() > 13
}

/// Remove imglift's own temporary files older than `before` under each of `dirs` (a run killed
/// between writing one and renaming it leaves it behind). Only regular files matching the
/// pattern are touched; hidden folders are not entered. Returns how many were removed.
pub fn remove_stale_temps(dirs: &[PathBuf], before: std::time::SystemTime) -> usize {
    let mut removed = 0;
    for dir in dirs {
        let walk = walkdir::WalkDir::new(dir)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| {
                e.depth() == 0
                    || !e.file_type().is_dir()
                    || !e.file_name().as_encoded_bytes().starts_with(b".")
            });
        for entry in walk.flatten() {
            if entry.file_type().is_file()
                && is_own_temp(entry.file_name())
                && remove_if_older(entry.path(), before)
            {
                removed += 1;
            }
        }
    }
    removed
}

/// Remove a file last modified before `before` (not one a run that started since is writing).
pub fn remove_if_older(path: &Path, before: std::time::SystemTime) -> bool {
    let old = std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t < before);
    old && std::fs::remove_file(path).is_ok()
}

/// An empty temporary file in `path`'s folder, named as imglift's own (`.imglift-*.tmp`, which
/// a later run may clean up after a crash).
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".imglift-")
        .suffix(".tmp")
        .tempfile_in(dir)
}

/// A temporary file beside `path` holding `bytes`, with the permissions of `path`.
fn temp_with(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<tempfile::NamedTempFile> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => tmp.as_file().set_permissions(meta.permissions())?,
        _ => default_permissions(tmp.as_file())?,
    }
    if durable {
        tmp.as_file().sync_all()?;
    }
    Ok(tmp)
}

/// What tells a file's content apart beyond its size and modification time: the change time
/// (which no one can set back by hand) and the inode, where the platform has them; `(0, 0)`
/// elsewhere, where the stat cache then relies on size and mtime alone.
#[cfg(unix)]
pub fn change_identity(meta: &std::fs::Metadata) -> (i128, u64) {
    use std::os::unix::fs::MetadataExt;
    (
        i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        meta.ino(),
    )
}

#[cfg(not(unix))]
pub fn change_identity(_meta: &std::fs::Metadata) -> (i128, u64) {
    (0, 0)
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

/// How many files, and how many bytes, a [`ReplaceBatch`] holds before it is written: bounds the
/// temporary files open at once and the unflushed bytes, while one flush serves many files.
pub const BATCH_FILES: usize = 256;
pub const BATCH_BYTES: u64 = 32 << 20;

/// Whole-file replacements made durable together instead of one flush each. [`add`] writes the
/// new bytes to a temporary file beside the file; [`flush`] makes every temporary file of the
/// batch durable at once (one `syncfs` per filesystem on Linux; elsewhere each file was flushed
/// as it was written), then replaces each file that still holds the bytes it had when it was
/// read; [`finish`] makes the renames durable. A crash at any moment leaves each file either old
/// or new, whole, and at most some temporary files (`.imglift-*.tmp`) that the next run removes.
/// Between writing and renaming only paths are held, never the bytes; `T` tells the caller which
/// outcome is whose.
///
/// [`add`]: ReplaceBatch::add
/// [`flush`]: ReplaceBatch::flush
/// [`finish`]: ReplaceBatch::finish
pub struct ReplaceBatch<T> {
    pending: Vec<PendingReplace<T>>,
    bytes: u64,
    /// Folders with a rename not known to be durable yet.
    renamed_in: std::collections::BTreeSet<PathBuf>,
}

struct PendingReplace<T> {
    path: PathBuf,
    temp: tempfile::TempPath,
    expected: [u8; 32],
    tag: T,
}

/// What became of one file of a [`ReplaceBatch`].
#[derive(Debug)]
pub enum Replaced {
    /// It holds the new bytes.
    Done,
    /// It changed since it was read, and was left as it is.
    Changed,
    /// It could not be replaced, and holds its old bytes.
    Failed(std::io::Error),
}

/// Each file of a flushed batch, with what became of it, in the order they were added.
pub type Outcomes<T> = Vec<(T, Replaced)>;

/// Whether flushing a batch is one call per filesystem (then each file is not flushed alone).
const SYNCFS: bool = cfg!(any(target_os = "linux", target_os = "android"));

impl<T> Default for ReplaceBatch<T> {
    fn default() -> Self {
        ReplaceBatch {
            pending: Vec::new(),
            bytes: 0,
            renamed_in: std::collections::BTreeSet::new(),
        }
    }
}

impl<T> ReplaceBatch<T> {
    /// Write `bytes` to a temporary file beside `path`, to replace `path` at the next
    /// [`flush`](ReplaceBatch::flush) if it still holds the bytes whose blake3 is `expected`.
    /// An error means nothing is pending for this file (and no temporary file is left).
    pub fn add(
        &mut self,
        path: &Path,
        bytes: &[u8],
        expected: &[u8; 32],
        tag: T,
    ) -> std::io::Result<()> {
        let temp = temp_with(path, bytes, !SYNCFS)?.into_temp_path();
        self.bytes += bytes.len() as u64;
        self.pending.push(PendingReplace {
            path: path.to_path_buf(),
            temp,
            expected: *expected,
            tag,
        });
        Ok(())
    }

    /// Whether the batch holds enough to be flushed now.
    pub fn is_full(&self) -> bool {
        self.pending.len() >= BATCH_FILES || self.bytes >= BATCH_BYTES
    }

    /// Make the pending temporary files durable, then replace each file that did not change
    /// since it was read. One file's failure does not stop the others; if the flush itself
    /// fails, no file is replaced.
    pub fn flush(&mut self) -> Outcomes<T> {
        let pending = std::mem::take(&mut self.pending);
        self.bytes = 0;
        if pending.is_empty() {
            return Vec::new();
        }
        let folders: std::collections::BTreeSet<&Path> =
            pending.iter().map(|p| parent_folder(&p.path)).collect();
        if let Err(e) = sync_folders(folders) {
            return pending
                .into_iter()
                .map(|p| {
                    let e = std::io::Error::new(e.kind(), format!("flushing to disk: {e}"));
                    (p.tag, Replaced::Failed(e))
                })
                .collect();
        }
        test_stop_at("before-renames");
        let half = pending.len() / 2;
        let mut outcomes = Vec::with_capacity(pending.len());
        for (i, p) in pending.into_iter().enumerate() {
            if i == half {
                test_stop_at("mid-renames");
            }
            let outcome = match holds(&p.path, &p.expected) {
                // The temporary file is removed when `p.temp` is dropped.
                Ok(false) => Replaced::Changed,
                Err(e) => Replaced::Failed(e),
                Ok(true) => match p.temp.persist(&p.path) {
                    Ok(()) => {
                        self.renamed_in.insert(parent_folder(&p.path).to_path_buf());
                        Replaced::Done
                    }
                    Err(e) => Replaced::Failed(e.error),
                },
            };
            outcomes.push((p.tag, outcome));
        }
        outcomes
    }

    /// Flush what is pending, then make every rename durable. The error, if any, names the
    /// folder whose renames may not survive a power cut (the files themselves are whole).
    pub fn finish(mut self) -> (Outcomes<T>, Option<(PathBuf, std::io::Error)>) {
        let outcomes = self.flush();
        let renamed = std::mem::take(&mut self.renamed_in);
        let failed = renamed.iter().next().cloned();
        let error = sync_folders(renamed.iter().map(PathBuf::as_path))
            .err()
            .and_then(|e| failed.map(|f| (f, e)));
        (outcomes, error)
    }
}

/// Whether the file at `path` holds the bytes whose blake3 is `expected`.
fn holds(path: &Path, expected: &[u8; 32]) -> std::io::Result<bool> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().as_bytes() == expected)
}

fn parent_folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Make durable what was written in these folders: the files' bytes and the folders' entries.
/// Linux: one `syncfs` per filesystem they are on.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn sync_folders<'a>(folders: impl IntoIterator<Item = &'a Path>) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut done = Vec::new();
    for folder in folders {
        let handle = std::fs::File::open(folder)?;
        let dev = handle.metadata()?.dev();
        if !done.contains(&dev) {
            rustix::fs::syncfs(&handle)?;
            done.push(dev);
        }
    }
    Ok(())
}

/// Elsewhere on Unix the files were flushed as they were written: flush each folder's entries.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn sync_folders<'a>(folders: impl IntoIterator<Item = &'a Path>) -> std::io::Result<()> {
    for folder in folders {
        std::fs::File::open(folder)?.sync_all()?;
    }
    Ok(())
}

/// Windows: the files were flushed as they were written, and NTFS journals the renames; a
/// folder cannot be opened as a file to flush it.
#[cfg(not(unix))]
fn sync_folders<'a>(_folders: impl IntoIterator<Item = &'a Path>) -> std::io::Result<()> {
    Ok(())
}

/// Debug builds only, for the kill tests: when `IMGLIFT_TEST_STOP_AT` names this point, the
/// process stops itself (SIGSTOP) there, so that a test can kill it at exactly that moment.
#[cfg(all(unix, debug_assertions))]
fn test_stop_at(point: &str) {
    if std::env::var_os("IMGLIFT_TEST_STOP_AT").is_some_and(|v| v == point) {
        use rustix::process::{getpid, kill_process, Signal};
        let _ = kill_process(getpid(), Signal::STOP);
    }
}

#[cfg(not(all(unix, debug_assertions)))]
fn test_stop_at(_point: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn open_checked_refuses_a_real_path_whose_folder_was_swapped_for_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("img")).unwrap();
        std::fs::create_dir_all(root.join("elsewhere")).unwrap();
        std::fs::write(root.join("img/a.png"), "inside").unwrap();
        std::fs::write(root.join("elsewhere/a.png"), "outside").unwrap();
        let real = root.join("img/a.png");
        let (mut file, _) = open_checked(&real).unwrap();
        let mut read = String::new();
        std::io::Read::read_to_string(&mut file, &mut read).unwrap();
        assert_eq!(read, "inside");
        // The folder resolve found is now a link to another folder.
        std::fs::rename(root.join("img"), root.join("img.old")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("img")).unwrap();
        let err = open_checked(&real).unwrap_err();
        assert!(err.to_string().contains("link"), "{err}");
        assert!(read_checked(&real).is_err());
        // A link at the file itself is refused too.
        std::fs::remove_file(root.join("img")).unwrap();
        std::fs::rename(root.join("img.old"), root.join("img")).unwrap();
        std::fs::rename(&real, root.join("img/b.png")).unwrap();
        std::os::unix::fs::symlink(root.join("img/b.png"), &real).unwrap();
        assert!(open_checked(&real).is_err());
        assert_eq!(read_checked(&root.join("img/b.png")).unwrap(), b"inside");
    }

    #[cfg(unix)]
    #[test]
    fn make_dir_no_follow_makes_once_and_refuses_a_link_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let at = dir.path().join("a");
        assert!(make_dir_no_follow(&at).unwrap(), "made now");
        assert!(!make_dir_no_follow(&at).unwrap(), "there already");
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("link")).unwrap();
        let err = make_dir_no_follow(&dir.path().join("link")).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        std::fs::write(dir.path().join("file"), "x").unwrap();
        assert!(make_dir_no_follow(&dir.path().join("file")).is_err());
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_file_edited_since_it_was_read_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("a.md");
        std::fs::write(&page, "read at scan time\n").unwrap();
        // Edited by someone else after the scan.
        std::fs::write(&page, "edited meanwhile\n").unwrap();
        let digest = |b: &[u8]| *blake3::hash(b).as_bytes();
        let replaced =
            write_atomic_if_unchanged(&page, b"rewritten\n", &digest(b"read at scan time\n"))
                .unwrap();
        assert!(!replaced);
        assert_eq!(std::fs::read(&page).unwrap(), b"edited meanwhile\n");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a temporary file was left behind");
        // Unchanged: replaced.
        assert!(
            write_atomic_if_unchanged(&page, b"rewritten\n", &digest(b"edited meanwhile\n"))
                .unwrap()
        );
        assert_eq!(std::fs::read(&page).unwrap(), b"rewritten\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_shared_file_replaces_a_link_at_dest_and_a_later_write_leaves_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.txt");
        let victim = dir.path().join("victim.txt");
        std::fs::write(&src, "source\n").unwrap();
        std::fs::write(&victim, "victim\n").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let dest = out.join("a.txt");
        std::os::unix::fs::symlink(&victim, &dest).unwrap();
        let (mut file, meta) = open_regular(&src).unwrap();
        let how = share_replace(&src, &mut file, &meta, &dest).unwrap();
        // One filesystem: a clone or a link, never a copy of the bytes.
        assert_ne!(how, Shared::Copied);
        assert!(std::fs::symlink_metadata(&dest).unwrap().is_file());
        assert_eq!(std::fs::read(&dest).unwrap(), b"source\n");
        assert_eq!(std::fs::read(&victim).unwrap(), b"victim\n");
        // Written the way imglift writes the out tree: the source keeps its bytes.
        write_replace(&dest, b"rewritten\n").unwrap();
        assert_eq!(std::fs::read(&src).unwrap(), b"source\n");
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert_eq!(left.len(), 1, "a temporary file was left behind");
    }

    #[test]
    fn a_batch_replaces_what_did_not_change_and_only_that() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let digest = |b: &[u8]| *blake3::hash(b).as_bytes();
        for name in ["a.md", "edited.md", "deleted.md", "z.md"] {
            std::fs::write(path(name), format!("{name} as read\n")).unwrap();
        }
        let mut batch = ReplaceBatch::default();
        for name in ["a.md", "edited.md", "deleted.md", "z.md"] {
            let read = format!("{name} as read\n");
            let new = format!("{name} rewritten\n");
            batch
                .add(&path(name), new.as_bytes(), &digest(read.as_bytes()), name)
                .unwrap();
        }
        // Someone edits one page and deletes another between the read and the rename.
        std::fs::write(path("edited.md"), "edited meanwhile\n").unwrap();
        std::fs::remove_file(path("deleted.md")).unwrap();
        let (outcomes, unflushed) = batch.finish();
        assert!(unflushed.is_none());
        let outcomes: Vec<(&str, &str)> = outcomes
            .into_iter()
            .map(|(name, outcome)| match outcome {
                Replaced::Done => (name, "done"),
                Replaced::Changed => (name, "changed"),
                Replaced::Failed(_) => (name, "failed"),
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                ("a.md", "done"),
                ("edited.md", "changed"),
                ("deleted.md", "failed"),
                ("z.md", "done"),
            ]
        );
        assert_eq!(std::fs::read(path("a.md")).unwrap(), b"a.md rewritten\n");
        assert_eq!(std::fs::read(path("z.md")).unwrap(), b"z.md rewritten\n");
        assert_eq!(
            std::fs::read(path("edited.md")).unwrap(),
            b"edited meanwhile\n"
        );
        assert!(!path("deleted.md").exists());
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["a.md", "edited.md", "z.md"],
            "a temporary file was left"
        );
    }

    #[test]
    fn field_escapes_round_trip_and_guard_the_line_start() {
        for field in [
            "#c.png",
            "=======.png",
            "<<<<<<< x",
            ">a",
            "a#b",
            "\\#x",
            "t\tn\nr\r",
        ] {
            let escaped = escape(field);
            assert!(!escaped.starts_with(['#', '<', '=', '>']), "{escaped}");
            assert!(!escaped.contains(['\t', '\n', '\r']), "{escaped}");
            assert_eq!(unescape(&escaped), field);
        }
    }

    #[test]
    fn only_own_temp_names_match() {
        for (name, own) in [
            (".imglift-a1B2c3.tmp", true),
            (".imglift-.tmp", false),
            ("imglift-a1B2c3.tmp", false),
            (".imglift-run.lock", false),
            (".imglift-cache", false),
            (".imglift-a1B2c3.tmp.md", false),
        ] {
            assert_eq!(is_own_temp(std::ffi::OsStr::new(name)), own, "{name}");
        }
    }
}
