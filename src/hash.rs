//! Hash: check that each distinct local file is an image by its bytes, then blake3 it, in
//! parallel (rayon).
//!
//! A local stat cache (path, size, mtime → hash and type), kept beside the manifest and never
//! committed, means an unchanged file is not read again. The cache is only an accelerator: a
//! missing or unreadable cache costs reads, never correctness.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rayon::prelude::*;

use crate::config::Config;
use crate::fs::{escape, rel, unescape};
use crate::pages::Page;
use crate::progress::Progress;
use crate::report::{Diagnostic, Severity};
use crate::resolve::Resolved;

/// A local image, identified by its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFile {
    pub path: PathBuf,
    /// Path relative to the site root, `/`-separated.
    pub rel: String,
    pub size: u64,
    /// blake3, lowercase hex.
    pub hash: String,
    pub mime: String,
}

/// Why a file will not be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotImage,
    TooLarge { size: u64, limit: u64 },
    Io(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotImage => write!(f, "is not an image by its content"),
            Refusal::TooLarge { size, limit } => {
                write!(f, "is {size} bytes, over the limit of {limit} (max_size)")
            }
            Refusal::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl Refusal {
    /// The diagnostic kind of a reference to a refused file.
    pub fn kind(&self) -> &'static str {
        match self {
            Refusal::NotImage => "not_image",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Io(_) => "unreadable",
        }
    }
}

/// The image type of these bytes, or `None` if they are not an image we upload.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if let Some(kind) = infer::get(bytes) {
        if kind.matcher_type() == infer::MatcherType::Image {
            return Some(kind.mime_type());
        }
        return None;
    }
    is_svg(bytes).then_some("image/svg+xml")
}

/// SVG is text: after an optional BOM, XML declaration, comments and doctype, the first element
/// must be `<svg`.
fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let Ok(text) =
        std::str::from_utf8(head).or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
    else {
        return false;
    };
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("<?") {
            let Some(end) = r.find("?>") else {
                return false;
            };
            rest = r[end + 2..].trim_start();
        } else if let Some(r) = rest.strip_prefix("<!--") {
            let Some(end) = r.find("-->") else {
                return false;
            };
            rest = r[end + 3..].trim_start();
        } else if let Some(r) = rest.strip_prefix("<!") {
            let Some(end) = r.find('>') else { return false };
            rest = r[end + 1..].trim_start();
        } else {
            return rest.starts_with("<svg")
                && rest[4..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/');
        }
    }
}

/// Sniff a file from its first bytes, without hashing it (for `check`).
pub fn sniff_file(path: &Path, limit: u64) -> Result<&'static str, Refusal> {
    let meta = std::fs::metadata(path).map_err(|e| Refusal::Io(e.to_string()))?;
    if meta.len() > limit {
        return Err(Refusal::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| Refusal::Io(e.to_string()))?;
    sniff(&head).ok_or(Refusal::NotImage)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheEntry {
    size: u64,
    mtime_ns: u128,
    hash: String,
    mime: String,
}

/// (path, size, mtime) → (hash, type), for files already hashed on this machine.
#[derive(Debug, Default)]
pub struct StatCache {
    entries: HashMap<String, CacheEntry>,
    changed: bool,
}

impl StatCache {
    /// Load the cache; a missing or damaged file just means an empty cache.
    pub fn load(path: &Path) -> StatCache {
        let Ok(text) = std::fs::read_to_string(path) else {
            return StatCache::default();
        };
        let mut entries = HashMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            if let [rel, size, mtime, hash, mime] = f[..] {
                if let (Ok(size), Ok(mtime_ns)) = (size.parse(), mtime.parse()) {
                    entries.insert(
                        unescape(rel),
                        CacheEntry {
                            size,
                            mtime_ns,
                            hash: hash.to_string(),
                            mime: mime.to_string(),
                        },
                    );
                }
            }
        }
        StatCache {
            entries,
            changed: false,
        }
    }

    /// Write the cache if anything changed (atomically; failure is only a lost speed-up).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        let mut rows: Vec<_> = self.entries.iter().collect();
        rows.sort_by(|a, b| a.0.cmp(b.0));
        let mut text = String::from("# imglift stat cache: not to be committed\n");
        for (rel, e) in rows {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                escape(rel),
                e.size,
                e.mtime_ns,
                e.hash,
                e.mime
            ));
        }
        crate::fs::write_replace(path, text.as_bytes())
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// What the hash stage hands on: every distinct local image the pages reference, hashed; an
/// error at each reference to a file that is refused; and the stat cache to save once the run's
/// results are recorded.
pub struct Hashed {
    pub images: Vec<ImageFile>,
    pub problems: Vec<Diagnostic>,
    pub cache: StatCache,
}

/// The hash stage of `sync`: each distinct local file the pages reference, once, with a
/// progress bar on a terminal.
pub fn hash_referenced(pages: &[Page], config: &Config) -> Hashed {
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for (_, resolved) in pages.iter().flat_map(|p| &p.refs) {
        if let Resolved::Local(p) = resolved {
            files
                .entry(p.clone())
                .or_insert_with(|| rel(&config.root, p));
        }
    }
    let files: Vec<(PathBuf, String)> = files.into_iter().collect();
    let mut cache = StatCache::load(&config.cache_file);
    let hashed = {
        let bar = Progress::new(files.len(), "hashing");
        hash_all(&files, config.max_size, &mut cache, &|| bar.inc())
    };
    let mut images = Vec::new();
    let mut refused: BTreeMap<PathBuf, Refusal> = BTreeMap::new();
    for ((path, _), result) in files.iter().zip(hashed) {
        match result {
            Ok(img) => images.push(img),
            Err(why) => {
                refused.insert(path.clone(), why);
            }
        }
    }
    let mut problems = Vec::new();
    for page in pages {
        for (r, resolved) in &page.refs {
            let Resolved::Local(p) = resolved else {
                continue;
            };
            if let Some(why) = refused.get(p) {
                problems.push(page.diag(
                    r.span.start,
                    Severity::Error,
                    why.kind(),
                    format!("`{}`: {} {why}; not uploaded", r.dest, rel(&config.root, p)),
                ));
            }
        }
    }
    Hashed {
        images,
        problems,
        cache,
    }
}

/// Sniff and hash each file in parallel. Results are in the order of `files`.
pub fn hash_all(
    files: &[(PathBuf, String)],
    limit: u64,
    cache: &mut StatCache,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Result<ImageFile, Refusal>> {
    let results: Vec<(Result<ImageFile, Refusal>, Option<CacheEntry>)> = files
        .par_iter()
        .map(|(path, rel)| {
            let r = hash_one(path, rel, limit, &cache.entries);
            on_done();
            r
        })
        .collect();
    results
        .into_iter()
        .zip(files)
        .map(|((result, fresh), (_, rel))| {
            if let Some(entry) = fresh {
                cache.entries.insert(rel.clone(), entry);
                cache.changed = true;
            }
            result
        })
        .collect()
}

fn hash_one(
    path: &Path,
    rel: &str,
    limit: u64,
    cache: &HashMap<String, CacheEntry>,
) -> (Result<ImageFile, Refusal>, Option<CacheEntry>) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return (Err(Refusal::Io(e.to_string())), None),
    };
    let size = meta.len();
    if size > limit {
        return (Err(Refusal::TooLarge { size, limit }), None);
    }
    let mtime = mtime_ns(&meta);
    let image = |hash: String, mime: String| ImageFile {
        path: path.to_path_buf(),
        rel: rel.to_string(),
        size,
        hash,
        mime,
    };
    if let Some(e) = cache.get(rel) {
        if e.size == size && e.mtime_ns == mtime && mtime != 0 {
            return (Ok(image(e.hash.clone(), e.mime.clone())), None);
        }
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return (Err(Refusal::Io(e.to_string())), None),
    };
    let Some(mime) = sniff(&bytes) else {
        return (Err(Refusal::NotImage), None);
    };
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let entry = CacheEntry {
        size: bytes.len() as u64,
        mtime_ns: mtime,
        hash: hash.clone(),
        mime: mime.to_string(),
    };
    (Ok(image(hash, mime.to_string())), Some(entry))
}
