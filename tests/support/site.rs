//! A site in a temporary folder: a copy of a fixture (or an empty site), files written and read
//! by their path in the site, and the binary run in it.
//!
//! The site always lives one level below the temporary folder (`<tmp>/<name>`), so a test can put
//! files *outside* the site root (`Site::outside`) that would exist if imglift escaped the root.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::run::{imglift_command, run_imglift, Run};
use super::tree::{snapshot, Tree};
use super::{fixtures, manifest_entries, PUBLIC_URL};

/// A site in its own temporary folder, deleted when dropped.
pub struct Site {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Site {
    /// A copy of `fixtures/<name>`, as `<tmp>/<name>`.
    pub fn fixture(name: &str) -> Site {
        let tmp = tempfile::tempdir().expect("create a temp dir");
        let root = fixture_copy(name, tmp.path(), name);
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
        write(&self.path(rel), bytes);
        self
    }

    /// Write a file outside the site root (creating folders); returns its path.
    pub fn write_outside(&self, rel: impl AsRef<Path>, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.outside(rel);
        write(&path, bytes);
        path
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        read(&self.path(rel))
    }

    pub fn read_string(&self, rel: impl AsRef<Path>) -> String {
        read_string(&self.path(rel))
    }

    pub fn exists(&self, rel: impl AsRef<Path>) -> bool {
        self.path(rel).symlink_metadata().is_ok()
    }

    /// The entries of the site's manifest `imglift.lock` (none if there is no manifest), as
    /// [`manifest_entries`](super::manifest_entries) splits them.
    pub fn manifest_entries(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.path("imglift.lock")).unwrap_or_default();
        manifest_entries(&text)
    }

    /// Run `imglift ARGS` with the site root as the current folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_in(".", args)
    }

    /// Run `imglift ARGS` with `<root>/<cwd>` as the current folder.
    pub fn run_in(&self, cwd: impl AsRef<Path>, args: &[&str]) -> Run {
        run_imglift(&self.path(cwd), args, &[])
    }

    /// Run `imglift ARGS` in the site root with these environment variables set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_imglift(self.root(), args, env)
    }

    /// `imglift ARGS` in the site root, with the clean environment of [`run_imglift`], not
    /// started yet (to spawn it, or to add to its environment).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = imglift_command(self.root());
        cmd.args(args);
        cmd
    }

    /// Every file under `<root>/<rel>` (or the whole site for "."), with its bytes, mtime and
    /// mode, keyed by its path relative to that folder.
    pub fn snapshot(&self, rel: impl AsRef<Path>) -> Tree {
        snapshot(&self.path(rel))
    }
}

/// A copy of `fixtures/<name>` at `<dir>/<as_name>`; returns its path.
pub fn fixture_copy(name: &str, dir: &Path, as_name: &str) -> PathBuf {
    let root = dir.join(as_name);
    copy_tree(&fixtures().join(name), &root);
    root
}

/// Copy a folder: files, folders and symbolic links (as links).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read_dir {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap();
        let (src, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&src, &dest);
        } else if kind.is_symlink() {
            symlink(&std::fs::read_link(&src).unwrap(), &dest);
        } else {
            std::fs::copy(&src, &dest)
                .unwrap_or_else(|e| panic!("copy {} to {}: {e}", src.display(), dest.display()));
        }
    }
}

/// Write a file (creating folders).
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn read_string(path: &Path) -> String {
    String::from_utf8(read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
