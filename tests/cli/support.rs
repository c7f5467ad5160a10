//! A small temp-dir builder for end-to-end tests: copy a fixture site into a fresh temporary
//! folder (or start from an empty one), add or change files, run the built `imglift` binary in
//! it, and look at what it printed and what it wrote.
//!
//! The site always lives one level below the temporary folder (`<tmp>/<name>`), so a test can put
//! files *outside* the site root (`Site::outside`) that would exist if imglift escaped the root.
//! Everything stays on the local filesystem; nothing here talks to the network.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

/// The default public URL of every fixture and of [`Site::empty`].
pub const PUBLIC_URL: &str = "https://img.example.com";

/// The fixture folder of this repository.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Bytes of a real image from the fixtures (`hugo/static/img/diagram.png` → its bytes).
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A site in its own temporary folder, deleted when dropped.
pub struct Site {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Site {
    /// A copy of `fixtures/<name>`, as `<tmp>/<name>`.
    pub fn fixture(name: &str) -> Site {
        let tmp = tempfile::tempdir().expect("create a temp dir");
        let root = tmp.path().join(name);
        copy_tree(&fixtures().join(name), &root);
        Site { tmp, root }
    }

    /// An empty site `<tmp>/site` with `content/` and `static/` folders and an `imglift.yaml`
    /// using the local-folder target `store/`. `extra_config` is appended to the config.
    pub fn empty(extra_config: &str) -> Site {
        let tmp = tempfile::tempdir().expect("create a temp dir");
        let root = tmp.path().join("site");
        std::fs::create_dir_all(root.join("content")).unwrap();
        std::fs::create_dir_all(root.join("static")).unwrap();
        let site = Site { tmp, root };
        site.write(
            "imglift.yaml",
            format!("public_url: {PUBLIC_URL}\ntarget: {{dir: store}}\n{extra_config}"),
        );
        site
    }

    /// The site root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path inside the site.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// A path in the temporary folder but *outside* the site root.
    pub fn outside(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Write a file inside the site (creating folders).
    pub fn write(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> &Site {
        write_file(&self.path(rel), bytes.as_ref());
        self
    }

    /// Write a file outside the site root (creating folders); returns its path.
    pub fn write_outside(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.outside(rel);
        write_file(&path, bytes.as_ref());
        path
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        let path = self.path(rel);
        std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn read_string(&self, rel: impl AsRef<Path>) -> String {
        let path = self.path(rel);
        String::from_utf8(self.read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.path(rel).symlink_metadata().is_ok()
    }

    /// Run `imglift ARGS` with the site root as the current folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args)
    }

    /// Run `imglift ARGS` with `<root>/<cwd>` as the current folder.
    pub fn run_in(&self, cwd: impl AsRef<Path>, args: &[&str]) -> Run {
        run_imglift(&self.path(cwd), args.iter().map(OsStr::new), &[])
    }

    /// Run `imglift ARGS` in the site root with these environment variables set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_imglift(self.root(), args.iter().map(OsStr::new), env)
    }

    /// Every file under `<root>/<rel>` (or the whole site for "."), with its bytes, mtime and
    /// mode, keyed by its path relative to that folder.
    pub fn snapshot(&self, rel: impl AsRef<Path>) -> Tree {
        snapshot(&self.path(rel))
    }
}

/// Run the built binary in `cwd` with a clean, deterministic environment (no imglift or AWS
/// variables, no GitHub Actions annotations).
pub fn run_imglift<'a>(
    cwd: &Path,
    args: impl IntoIterator<Item = &'a OsStr>,
    env: &[(&str, &str)],
) -> Run {
    let args: Vec<&OsStr> = args.into_iter().collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_imglift"));
    cmd.args(&args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .env_remove("GITHUB_ACTIONS")
        .env_remove("RUST_BACKTRACE");
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("IMGLIFT_") || k.starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().expect("run the imglift binary");
    Run {
        args: args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What one run printed and how it exited.
#[derive(Debug, Clone)]
pub struct Run {
    pub args: Vec<String>,
    /// `None` if the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Assert the exit code, showing everything the run printed if it is wrong, and that the
    /// process did not panic.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "`imglift {}` exited with {:?}, expected {code}\n{}",
            self.args.join(" "),
            self.code,
            self.dump()
        );
        self.expect_no_panic();
        self
    }

    #[track_caller]
    pub fn expect_no_panic(&self) -> &Run {
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "imglift panicked\n{}",
            self.dump()
        );
        self
    }

    /// stdout parsed as one JSON document (fails if anything else is mixed in).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.dump()))
    }

    /// The `file:line:col` positions of the diagnostic lines in `text` (`path:L:C: ...`).
    pub fn positions(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let mut parts = l.splitn(4, ':');
                let (file, line, col) = (parts.next()?, parts.next()?, parts.next()?);
                (line.parse::<usize>().is_ok() && col.parse::<usize>().is_ok())
                    .then(|| format!("{file}:{line}:{col}"))
            })
            .collect()
    }

    /// The diagnostic line of stderr that starts with `file:line:col:`.
    #[track_caller]
    pub fn stderr_line(&self, position: &str) -> &str {
        let prefix = format!("{position}:");
        self.stderr
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no diagnostic at {position} on stderr\n{}", self.dump()))
    }

    pub fn dump(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        )
    }
}

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

fn write_file(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&src, &dest);
        } else if kind.is_symlink() {
            symlink(&std::fs::read_link(&src).unwrap(), &dest);
        } else {
            std::fs::copy(&src, &dest).unwrap();
        }
    }
}

/// Create a symbolic link `link` → `target`.
pub fn symlink(target: &Path, link: &Path) {
    #[cfg(unix)]
    std::os::unix::fs::symlink(target, link).unwrap();
    #[cfg(not(unix))]
    panic!("symlinks are only tested on unix ({target:?} -> {link:?})");
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Decode `%XX` escapes (for comparing a URL's file name with a file on disk).
pub fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}
