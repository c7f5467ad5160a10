//! The local-folder target: objects are files under a folder, at their key.
//!
//! It needs no account, which makes it the embedded default and the demo's store; it is also
//! the natural choice when the folder is synced or served by other means. Each file is written to
//! a temporary name in its final folder and renamed, then read back and hashed to confirm; one
//! filesystem sync at the end makes them all durable before the manifest names them.

use std::path::PathBuf;
use std::sync::Mutex;

use super::{Object, Probe, Store, StoreError};

pub struct DirStore {
    dir: PathBuf,
    /// What `put` wrote, for platforms where `flush` makes each file durable by itself.
    written: Mutex<Vec<PathBuf>>,
}

impl DirStore {
    pub fn new(dir: PathBuf) -> DirStore {
        DirStore {
            dir,
            written: Mutex::new(Vec::new()),
        }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        key.split('/').fold(self.dir.clone(), |p, seg| p.join(seg))
    }
}

fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(crate::fs::open_regular(path)?.0)?;
    Ok(hasher.finalize().to_hex().to_string())
}

impl Store for DirStore {
    fn describe(&self) -> String {
        format!("folder {}", self.dir.display())
    }

    fn probe(&self, obj: &Object) -> Result<Probe, StoreError> {
        let path = self.path_of(obj.key);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            // Not an object imglift wrote: `put` replaces the link itself.
            return Ok(Probe::Different);
        }
        match hash_file(&path) {
            Ok(h) if h == obj.hash => Ok(Probe::Same),
            Ok(_) => Ok(Probe::Different),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Probe::Absent),
            Err(e) => Err(StoreError::Failed(format!("{}: {e}", path.display()))),
        }
    }

    fn still_there(&self, obj: &Object) -> Option<bool> {
        let meta = std::fs::metadata(self.path_of(obj.key));
        Some(meta.is_ok_and(|m| m.is_file() && m.len() == obj.size))
    }

    fn flush(&self) -> Result<(), StoreError> {
        let written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        crate::fs::sync_tree(&self.dir, &written)
            .map_err(|e| StoreError::Failed(format!("{}: {e}", self.dir.display())))
    }

    fn put(&self, obj: &Object) -> Result<(), StoreError> {
        let failed = |what: &str, e: std::io::Error| StoreError::Failed(format!("{what}: {e}"));
        let bytes = crate::fs::read_checked(obj.path)
            .map_err(|e| failed(&obj.path.display().to_string(), e))?;
        if blake3::hash(&bytes).to_hex().as_str() != obj.hash {
            return Err(StoreError::Failed(format!(
                "{} changed while imglift was running; run it again",
                obj.path.display()
            )));
        }
        let dest = self.path_of(obj.key);
        let shown = dest.display().to_string();
        if let Some(parent) = dest.parent() {
            // The store folder itself may be a link its owner made; nothing below it may be.
            std::fs::create_dir_all(&self.dir).map_err(|e| failed(&shown, e))?;
            crate::fs::create_dirs_beneath(&self.dir, parent).map_err(|e| failed(&shown, e))?;
        }
        // Durability for all objects at once comes from `flush`: one filesystem sync instead
        // of one per image.
        crate::fs::write_replace(&dest, &bytes).map_err(|e| failed(&shown, e))?;
        if let Ok(mut written) = self.written.lock() {
            written.push(dest.clone());
        }
        match hash_file(&dest) {
            Ok(h) if h == obj.hash => Ok(()),
            Ok(_) => Err(StoreError::Failed(format!(
                "{shown}: bytes differ after writing"
            ))),
            Err(e) => Err(failed(&shown, e)),
        }
    }
}
