//! The manifest `imglift.lock`: which objects are in the store, committed next to the site.
//!
//! Plain text, one object per line, sorted by key, tab-separated
//! (`key  blake3  size  content-type  source  first-upload-date`), so it diffs and merges well.
//! Tabs, newlines and backslashes inside a field are escaped. It is written atomically, and an
//! entry is added only after its upload was confirmed. Losing it costs requests, not correctness.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use crate::fs::{escape, unescape};
use crate::plan::Plan;
use crate::upload::Outcome;

/// The manifest cannot be read, parsed or written: the run stops before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("manifest {}:{line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: cannot write the manifest: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

const HEADER: &str =
    "# imglift.lock: objects already in the store. Written by imglift; commit it.\n\
# key\tblake3\tsize\tcontent-type\tsource\tuploaded\n";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub hash: String,
    pub size: u64,
    pub mime: String,
    /// The first source path (relative to the root) that produced this object.
    pub source: String,
    /// Date of the first upload, `YYYY-MM-DD`.
    pub date: String,
}

#[derive(Debug, Default, Clone)]
pub struct Manifest {
    entries: BTreeMap<String, Entry>,
    /// Keys this run inserted or changed: on save they win over what is on disk.
    recorded: BTreeSet<String>,
    changed: bool,
}

impl Manifest {
    /// Record every object the upload stage confirmed (a run's outcomes, in plan order). An
    /// entry keeps the first source path of an object whose bytes did not change.
    pub fn record(&mut self, plan: &Plan, outcomes: &[Outcome]) {
        for (item, outcome) in plan.items.iter().zip(outcomes) {
            if !outcome.confirmed() {
                continue;
            }
            let source = self
                .get(&item.key)
                .filter(|e| e.hash == item.image.hash)
                .map_or_else(|| item.image.rel.clone(), |e| e.source.clone());
            self.insert(
                item.key.clone(),
                Entry {
                    hash: item.image.hash.clone(),
                    size: item.image.size,
                    mime: item.image.mime.clone(),
                    source,
                    date: item.date.clone(),
                },
            );
        }
    }

    /// Read the manifest; a missing file is an empty manifest, a damaged one an error with its line.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(source) => {
                return Err(ManifestError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mut entries = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |message: String| ManifestError::Parse {
                path: path.to_path_buf(),
                line: n + 1,
                message,
            };
            if ["<<<<<<<", "=======", ">>>>>>>"]
                .iter()
                .any(|m| line.starts_with(m))
            {
                return Err(bad("unresolved merge conflict marker".into()));
            }
            let f: Vec<&str> = line.split('\t').collect();
            let [key, hash, size, mime, source, date] = f[..] else {
                return Err(bad(format!(
                    "expected 6 tab-separated fields, found {}",
                    f.len()
                )));
            };
            let size = size
                .parse()
                .map_err(|_| bad(format!("size `{size}` is not a number")))?;
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("`{hash}` is not a blake3 hash")));
            }
            if !is_date(date) {
                return Err(bad(format!(
                    "upload date `{date}` is not a date (YYYY-MM-DD)"
                )));
            }
            entries.insert(
                unescape(key),
                Entry {
                    hash: hash.to_string(),
                    size,
                    mime: mime.to_string(),
                    source: unescape(source),
                    date: date.to_string(),
                },
            );
        }
        Ok(Manifest {
            entries,
            recorded: BTreeSet::new(),
            changed: false,
        })
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// The first-upload date recorded for each source path, so a dated key stays the same.
    pub fn dates_by_source(&self) -> HashMap<&str, &str> {
        let mut dates: HashMap<&str, &str> = HashMap::with_capacity(self.entries.len());
        for e in self.entries.values() {
            let date = dates.entry(e.source.as_str()).or_insert(e.date.as_str());
            if e.date.as_str() < *date {
                *date = e.date.as_str();
            }
        }
        dates
    }

    pub fn insert(&mut self, key: String, entry: Entry) {
        if self.entries.get(&key) != Some(&entry) {
            self.recorded.insert(key.clone());
            self.entries.insert(key, entry);
            self.changed = true;
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    pub fn render(&self) -> String {
        let mut text = String::from(HEADER);
        for (key, e) in &self.entries {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\n",
                escape(key),
                e.hash,
                e.size,
                e.mime,
                escape(&e.source),
                e.date
            ));
        }
        text
    }

    /// Write atomically, only if something changed. What is on disk is merged in first: an
    /// entry another run recorded since this one loaded the manifest is kept (this run's own
    /// entries win for the same key), so two runs never lose each other's objects.
    pub fn save(&mut self, path: &Path) -> std::io::Result<bool> {
        if !self.changed {
            return Ok(false);
        }
        let on_disk = Manifest::load(path).map_err(|e| match e {
            ManifestError::Read { source, .. } => source,
            other => std::io::Error::other(other.to_string()),
        })?;
        for (key, entry) in on_disk.entries {
            if !self.recorded.contains(&key) {
                self.entries.insert(key, entry);
            }
        }
        crate::fs::write_atomic(path, self.render().as_bytes())?;
        self.changed = false;
        Ok(true)
    }
}

/// `YYYY-MM-DD` with a month and a day that can exist.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) {
        return false;
    }
    if !digits(8..10) {
        return false;
    }
    let month: u32 = s[5..7].parse().unwrap_or(0);
    let day: u32 = s[8..10].parse().unwrap_or(0);
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_awkward_names_and_stays_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        let mut m = Manifest::default();
        for key in ["b/tab\there.png", "a/back\\slash.png", "c/new\nline.png"] {
            m.insert(
                key.to_string(),
                Entry {
                    hash: "0".repeat(64),
                    size: 3,
                    mime: "image/png".into(),
                    source: format!("content/{key}"),
                    date: "2026-11-29".into(),
                },
            );
        }
        assert!(m.save(&path).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let keys: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(keys.len(), 3);
        assert!(keys[0].starts_with("a/back\\\\slash.png\t"));
        let loaded = Manifest::load(&path).unwrap();
        assert_eq!(
            loaded.get("c/new\nline.png").unwrap().source,
            "content/c/new\nline.png"
        );
        assert_eq!(loaded.len(), 3);
    }

    fn entry(source: &str) -> Entry {
        Entry {
            hash: "a".repeat(64),
            size: 3,
            mime: "image/png".into(),
            source: source.into(),
            date: "2026-11-29".into(),
        }
    }

    #[test]
    fn keys_that_look_like_comments_or_conflict_markers_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        let keys = [
            "=======.png",
            "#c.png",
            "<<<<<<<.png",
            ">>>>>>> x.png",
            "\\#d.png",
        ];
        let mut m = Manifest::default();
        for key in keys {
            m.insert(key.to_string(), entry(&format!("content/{key}")));
        }
        m.save(&path).unwrap();
        let loaded = Manifest::load(&path).unwrap();
        assert_eq!(loaded.len(), keys.len());
        for key in keys {
            assert_eq!(loaded.get(key).unwrap().source, format!("content/{key}"));
        }
    }

    #[test]
    fn a_date_that_is_not_one_is_an_error_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        // Each of these breaks one rule only (`+1` parses as a number, so only the digit check
        // refuses it).
        for date in [
            "X",
            "20é4-01-01",
            "2026-13-01",
            "2026-01-1",
            "",
            "2026/01-01",
            "2026-01/01",
            "20x6-01-01",
            "2026-+1-01",
            "2026-01-+1",
            "2026-00-01",
            "2026-01-00",
            "2026-01-32",
        ] {
            let line = format!("a.png\t{}\t3\timage/png\ta.png\t{date}\n", "0".repeat(64));
            std::fs::write(&path, format!("# x\n{line}")).unwrap();
            let err = Manifest::load(&path).unwrap_err().to_string();
            assert!(
                err.contains("imglift.lock:2") && err.contains("date"),
                "{err}"
            );
        }
    }

    #[test]
    fn save_keeps_what_another_run_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        let mut first = Manifest::load(&path).unwrap();
        let mut second = Manifest::load(&path).unwrap();
        first.insert("a.png".into(), entry("a.png"));
        second.insert("b.png".into(), entry("b.png"));
        first.save(&path).unwrap();
        second.save(&path).unwrap();
        let merged = Manifest::load(&path).unwrap();
        assert!(merged.get("a.png").is_some() && merged.get("b.png").is_some());
        assert_eq!(merged.len(), 2);
    }

    #[test]
    fn conflict_marker_is_an_error_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        std::fs::write(&path, "# x\n<<<<<<< HEAD\n").unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(err.contains("imglift.lock:2"), "{err}");
    }

    #[test]
    fn a_hash_that_is_not_blake3_is_an_error_at_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        for hash in ["g".repeat(64), "a".repeat(63), "a".repeat(65)] {
            let line = format!("a.png\t{hash}\t3\timage/png\ta.png\t2026-11-29\n");
            std::fs::write(&path, format!("# x\n{line}")).unwrap();
            let err = Manifest::load(&path).unwrap_err().to_string();
            assert!(
                err.contains("imglift.lock:2") && err.contains("not a blake3 hash"),
                "{err}"
            );
        }
        let line = format!(
            "a.png\t{}\t3\timage/png\ta.png\t2026-12-31\n",
            "aF09".repeat(16)
        );
        std::fs::write(&path, line).unwrap();
        assert_eq!(Manifest::load(&path).unwrap().len(), 1);
    }

    #[test]
    fn a_manifest_that_cannot_be_read_is_an_error_not_an_empty_one() {
        // Taken as empty, the next save would drop every object it lists.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("imglift.lock");
        std::fs::write(&path, b"a.png\t\xff\xfe\n").unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(
            err.starts_with("cannot read ") && err.contains("imglift.lock"),
            "{err}"
        );
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(err.starts_with("cannot read "), "{err}");
        assert_eq!(
            Manifest::load(&dir.path().join("none.lock")).unwrap().len(),
            0
        );
    }

    #[test]
    fn a_source_keeps_its_earliest_upload_date() {
        let mut m = Manifest::default();
        let dated = |source: &str, date: &str| Entry {
            date: date.into(),
            ..entry(source)
        };
        // Keys sort before the entry with the earlier date for one source, after for the other.
        m.insert("1.png".into(), dated("a.png", "2026-03-01"));
        m.insert("2.png".into(), dated("a.png", "2025-01-15"));
        m.insert("3.png".into(), dated("b.png", "2024-06-30"));
        m.insert("4.png".into(), dated("b.png", "2026-02-01"));
        let dates = m.dates_by_source();
        assert_eq!(dates.get("a.png"), Some(&"2025-01-15"));
        assert_eq!(dates.get("b.png"), Some(&"2024-06-30"));
        assert_eq!(dates.len(), 2);
    }

    #[test]
    fn record_keeps_confirmed_objects_and_the_first_source_of_unchanged_bytes() {
        use crate::hash::ImageFile;
        use crate::plan::{Action, Plan, Planned};
        use crate::upload::Outcome;
        let planned = |key: &str, rel: &str, hash: char| Planned {
            image: ImageFile {
                path: rel.into(),
                rel: rel.into(),
                size: 7,
                hash: hash.to_string().repeat(64),
                mime: "image/gif".into(),
                md5: None,
            },
            key: key.into(),
            url: format!("https://i.example/{key}"),
            date: "2026-11-29".into(),
            action: Action::Upload,
        };
        let mut m = Manifest::default();
        m.insert(
            "same.gif".into(),
            Entry {
                source: "first.gif".into(),
                ..entry("x")
            },
        );
        m.insert(
            "other.gif".into(),
            Entry {
                source: "old.gif".into(),
                ..entry("x")
            },
        );
        let plan = Plan {
            items: vec![
                planned("new.gif", "new.gif", 'b'),
                planned("same.gif", "second.gif", 'a'),
                planned("other.gif", "new-bytes.gif", 'c'),
                planned("failed.gif", "failed.gif", 'd'),
                planned("skipped.gif", "skipped.gif", 'e'),
            ],
            ..Plan::default()
        };
        let outcomes = [
            Outcome::Uploaded,
            Outcome::Reused,
            Outcome::Overwritten,
            Outcome::Failed("503".into()),
            Outcome::Skipped,
        ];
        m.record(&plan, &outcomes);
        let got: Vec<(&str, &str, &str)> = m
            .iter()
            .map(|(k, e)| (k.as_str(), e.source.as_str(), &e.hash[..1]))
            .collect();
        assert_eq!(
            got,
            [
                ("new.gif", "new.gif", "b"),
                ("other.gif", "new-bytes.gif", "c"),
                ("same.gif", "first.gif", "a"),
            ]
        );
        let new = m.get("new.gif").unwrap();
        assert_eq!(
            (new.size, new.mime.as_str(), new.date.as_str()),
            (7, "image/gif", "2026-11-29")
        );
    }
}
