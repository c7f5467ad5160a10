//! The local-folder target: objects are files under a folder, at their key.
//!
//! It needs no account, which makes it the embedded default and the demo's target; it is also
//! the natural choice when the folder is synced or served by other means. Each file is written to
//! a temporary name in its final folder and renamed, then read back and hashed to confirm; one
//! filesystem sync at the end makes them all durable before the manifest names them.

use std::path::PathBuf;

use super::{Object, Probe, Target, TargetError};

pub struct DirTarget {
    dir: PathBuf,
}

impl DirTarget {
    pub fn new(dir: PathBuf) -> DirTarget {
        DirTarget { dir }
    }

    fn path_of(&self, key: &str) -> PathBuf {
        key.split('/').fold(self.dir.clone(), |p, seg| p.join(seg))
    }
}

fn hash_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

impl Target for DirTarget {
    fn describe(&self) -> String {
        format!("folder {}", self.dir.display())
    }

    fn probe(&self, obj: &Object) -> Result<Probe, TargetError> {
        let path = self.path_of(obj.key);
        match hash_file(&path) {
            Ok(h) if h == obj.hash => Ok(Probe::Same),
            Ok(_) => Ok(Probe::Different),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Probe::Absent),
            Err(e) => Err(TargetError::Failed(format!("{}: {e}", path.display()))),
        }
    }

    fn flush(&self) -> Result<(), TargetError> {
        let failed =
            |e: std::io::Error| TargetError::Failed(format!("{}: {e}", self.dir.display()));
        match std::fs::File::open(&self.dir) {
            Ok(dir) => rustix::fs::syncfs(&dir).map_err(|e| failed(e.into())),
            // Nothing was ever written there.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(failed(e)),
        }
    }

    fn put(&self, obj: &Object) -> Result<(), TargetError> {
        let failed = |what: &str, e: std::io::Error| TargetError::Failed(format!("{what}: {e}"));
        let bytes =
            std::fs::read(obj.path).map_err(|e| failed(&obj.path.display().to_string(), e))?;
        if blake3::hash(&bytes).to_hex().as_str() != obj.hash {
            return Err(TargetError::Failed(format!(
                "{} changed while imglift was running; run it again",
                obj.path.display()
            )));
        }
        let dest = self.path_of(obj.key);
        let shown = dest.display().to_string();
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| failed(&shown, e))?;
        }
        // Durability for all objects at once comes from `flush`: one filesystem sync instead
        // of one per image.
        crate::rewrite::write_replace(&dest, &bytes).map_err(|e| failed(&shown, e))?;
        match hash_file(&dest) {
            Ok(h) if h == obj.hash => Ok(()),
            Ok(_) => Err(TargetError::Failed(format!(
                "{shown}: bytes differ after writing"
            ))),
            Err(e) => Err(failed(&shown, e)),
        }
    }
}
