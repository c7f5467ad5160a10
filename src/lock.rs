//! The run lock: one `sync` at a time per manifest.
//!
//! `.imglift-run.lock` beside the manifest is locked with the operating system's file lock for
//! the whole run, so a crashed or killed run releases it by itself (a file left behind by a
//! `kill -9` is simply locked again), and holds the pid of the run that has it, for the message
//! a second run prints while it waits. A run that ends normally removes it.

use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file's name, beside the manifest.
pub const LOCK_FILE: &str = ".imglift-run.lock";

/// How long a run waits for another one before giving up.
const WAIT: Duration = Duration::from_secs(600);

/// Another run holds the lock, or the lock file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}: cannot lock: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another imglift run ({holder}) still holds {} after {} s; if no imglift is running, \
         try again",
        path.display(),
        WAIT.as_secs()
    )]
    Busy { path: PathBuf, holder: String },
}

/// The held lock; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct RunLock {
    file: Option<std::fs::File>,
    path: PathBuf,
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Removed while still locked: a run waiting on this file sees it is gone and opens
        // the next one (see `acquire`).
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

/// The lock file for a manifest.
pub fn lock_path(manifest: &Path) -> PathBuf {
    manifest.parent().unwrap_or(Path::new(".")).join(LOCK_FILE)
}

/// Take the lock for a run. If another run holds it, `waiting` is called once with a message
/// naming that run, and this one waits (polling, at most ten minutes) for it to finish.
pub fn acquire(manifest: &Path, waiting: &mut dyn FnMut(&str)) -> Result<RunLock, LockError> {
    let path = lock_path(manifest);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    let started = Instant::now();
    let mut told = false;
    let mut file = loop {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            // Locked, and still the file at that path (the holder did not remove it meanwhile).
            Ok(()) if same_file(&file, &path) => break file,
            Ok(()) => continue,
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                if !told {
                    waiting(&format!(
                        "waiting for another imglift run ({holder}) to finish ({})",
                        path.display()
                    ));
                    told = true;
                }
                if started.elapsed() > WAIT {
                    return Err(LockError::Busy {
                        path: path.clone(),
                        holder,
                    });
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    };
    let pid = format!("pid {}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(io)?;
    Ok(RunLock {
        file: Some(file),
        path,
    })
}

/// Whether the open file is still the one at `path`.
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => crate::fs::change_identity(&a).1 == crate::fs::change_identity(&b).1,
        _ => false,
    }
}

/// Who holds the lock, as its file says (`pid N`).
fn holder(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    let text = text.trim();
    let pid = text.strip_prefix("pid ").unwrap_or("");
    if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
        format!("pid {pid}")
    } else {
        "pid unknown".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("imglift.lock");
        let first = acquire(&manifest, &mut |m| panic!("first run waited: {m}")).unwrap();
        let said = std::sync::Mutex::new(String::new());
        std::thread::scope(|s| {
            let second = s.spawn(|| {
                acquire(&manifest, &mut |m| *said.lock().unwrap() = m.to_string()).unwrap();
            });
            // Bounded: the second run says it waits before anything else can happen.
            for _ in 0..500 {
                if !said.lock().unwrap().is_empty() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(first);
            second.join().unwrap();
        });
        let said = said.into_inner().unwrap();
        let pid = format!("pid {}", std::process::id());
        assert!(said.contains(&pid), "{said}");
    }

    #[test]
    fn a_released_lock_is_taken_again_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("imglift.lock");
        drop(acquire(&manifest, &mut |m| panic!("{m}")).unwrap());
        let again = acquire(&manifest, &mut |m| {
            panic!("waited for a released lock: {m}")
        });
        assert!(again.is_ok());
        drop(again);
        assert!(
            !lock_path(&manifest).exists(),
            "the lock file was left behind"
        );
    }

    #[test]
    fn a_lock_file_left_by_a_killed_run_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("imglift.lock");
        std::fs::write(lock_path(&manifest), "pid 999999999\n").unwrap();
        let lock = acquire(&manifest, &mut |m| panic!("waited for a dead run: {m}")).unwrap();
        let pid = std::fs::read_to_string(lock_path(&manifest)).unwrap();
        assert_eq!(pid, format!("pid {}\n", std::process::id()));
        drop(lock);
    }
}
