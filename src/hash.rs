//! Hash: check that each distinct local file is an image by its bytes, then blake3 it, in
//! parallel (rayon) on every core. For an S3 target the MD5 that each PUT carries
//! (`Content-MD5`) is computed in the same pass over the bytes already read, so the upload
//! stage does not hash a second time.
//!
//! A local stat cache (path, size, mtime → hash and type), kept beside the manifest and never
//! committed, means an unchanged file is not read again. The cache is only an accelerator: a
//! missing or unreadable cache costs reads, never correctness.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::config::{Config, TargetConfig};
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
    /// MD5 of the same bytes, when the store wants it (S3's `Content-MD5`).
    pub md5: Option<[u8; 16]>,
}

/// Why a file will not be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotImage,
    TooLarge {
        size: u64,
        limit: u64,
    },
    /// An SVG that can run script where it is served.
    Script(&'static str),
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
            Refusal::Script(what) => write!(
                f,
                "is an SVG with {what}, which would run on the image domain; remove it, or set \
                 `allow_svg_scripts: true` if you trust it"
            ),
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
            Refusal::Script(_) => "svg_script",
        }
    }
}

/// The image type of these bytes, or `None` if they are not an image we upload.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    // SVG first: `infer` calls an SVG with an XML declaration or a leading comment (as Inkscape,
    // Illustrator, draw.io and matplotlib write them) XML or HTML text.
    if is_svg(bytes) {
        return Some("image/svg+xml");
    }
    crate::sniff::raster_type(bytes)
}

/// An SVG that could run script on the image domain is refused unless the config allows it
/// (`allow_svg_scripts`). The bytes are read again (without following links) and must be the
/// ones hashed, so what is checked is what is uploaded.
pub fn svg_allowed(path: &Path, hash: Option<&str>, allow: bool) -> Result<(), Refusal> {
    if allow {
        return Ok(());
    }
    let bytes = crate::fs::read_checked(path).map_err(|e| Refusal::Io(e.to_string()))?;
    if hash.is_some_and(|h| blake3::hash(&bytes).to_hex().as_str() != h) {
        return Err(Refusal::Io(
            "it changed while imglift was running; run it again".into(),
        ));
    }
    match crate::sniff::svg_script(&String::from_utf8_lossy(&bytes)) {
        Some(what) => Err(Refusal::Script(what)),
        None => Ok(()),
    }
}

/// SVG is text: after an optional BOM, XML declaration, comments and doctype, the first element
/// must be `<svg`.
fn is_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    // UTF-16 with its BOM (some Windows tools save SVGs so).
    let utf16 = |unit: fn([u8; 2]) -> u16| {
        let units = head[2..].chunks_exact(2).map(|c| unit([c[0], c[1]]));
        char::decode_utf16(units)
            .map_while(Result::ok)
            .collect::<String>()
    };
    let decoded;
    let text = match head {
        [0xFF, 0xFE, ..] => {
            decoded = utf16(u16::from_le_bytes);
            decoded.as_str()
        }
        [0xFE, 0xFF, ..] => {
            decoded = utf16(u16::from_be_bytes);
            decoded.as_str()
        }
        _ => match std::str::from_utf8(head)
            .or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
        {
            Ok(text) => text,
            Err(_) => return false,
        },
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
            let Some(end) = declaration_end(r) else {
                return false;
            };
            rest = r[end + 1..].trim_start();
        } else {
            return rest.starts_with("<svg")
                && rest[4..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/');
        }
    }
}

/// The `>` that closes a `<!DOCTYPE …>`, past quoted strings and an internal subset
/// (`[ <!ENTITY ns_svg "…"> ]`, as Illustrator writes).
fn declaration_end(text: &str) -> Option<usize> {
    let mut quote = None;
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '>') if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Sniff a file from its first bytes, without hashing it (for `check`).
pub fn sniff_file(path: &Path, limit: u64) -> Result<&'static str, Refusal> {
    let (file, meta) = crate::fs::open_checked(path).map_err(|e| Refusal::Io(e.to_string()))?;
    if meta.len() > limit {
        return Err(Refusal::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    // The whole file: an image's dimensions may come after its metadata.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Refusal::Io(e.to_string()))?;
    sniff(&bytes).ok_or(Refusal::NotImage)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct CacheEntry {
    size: u64,
    mtime_ns: u128,
    /// Change time and inode (see `fs::change_identity`): a file replaced by other bytes of the
    /// same size with its mtime restored still has another ctime.
    ctime_ns: i128,
    inode: u64,
    hash: String,
    mime: String,
    md5: Option<[u8; 16]>,
}

/// (path, size, mtime) → (hash, type, MD5), for files already hashed on this machine.
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
        let mut entries = HashMap::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            // A line that is not exactly what `save` writes is dropped: the file is hashed again.
            if let Some((rel, entry)) = parse_cache_line(line) {
                entries.insert(rel, entry);
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
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                escape(rel),
                e.size,
                e.mtime_ns,
                e.ctime_ns,
                e.inode,
                e.hash,
                e.mime,
                e.md5.map_or_else(|| "-".to_string(), |m| hex_md5(&m)),
            ));
        }
        crate::fs::write_replace(path, text.as_bytes())
    }
}

impl StatCache {
    /// Forget what is known about a file (its upload found other bytes than the cached hash),
    /// so that the next run hashes it again.
    pub fn forget(&mut self, rel: &str) {
        if self.entries.remove(rel).is_some() {
            self.changed = true;
        }
    }
}

/// One line of the cache file: path, size, mtime, ctime, inode, blake3 (64 hex digits), type,
/// and MD5 (32 hex digits, or `-` when the file was hashed for a store that does not want it;
/// lines written before the MD5 column end after the type).
fn parse_cache_line(line: &str) -> Option<(String, CacheEntry)> {
    let f: Vec<&str> = line.split('\t').collect();
    let (rel, size, mtime, ctime, inode, hash, mime, md5) = match f[..] {
        [rel, size, mtime, ctime, inode, hash, mime] => {
            (rel, size, mtime, ctime, inode, hash, mime, "-")
        }
        [rel, size, mtime, ctime, inode, hash, mime, md5] => {
            (rel, size, mtime, ctime, inode, hash, mime, md5)
        }
        _ => return None,
    };
    let md5 = match md5 {
        "-" => None,
        hex => Some(parse_md5(hex)?),
    };
    let valid_hash = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid_hash || !mime.starts_with("image/") {
        return None;
    }
    let entry = CacheEntry {
        size: size.parse().ok()?,
        mtime_ns: mtime.parse().ok()?,
        ctime_ns: ctime.parse().ok()?,
        inode: inode.parse().ok()?,
        hash: hash.to_ascii_lowercase(),
        mime: mime.to_string(),
        md5,
    };
    Some((unescape(rel), entry))
}

/// An MD5 as 32 lowercase hex digits.
pub fn hex_md5(md5: &[u8; 16]) -> String {
    md5.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_md5(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
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
/// progress bar on a terminal. With `early`, each file read is offered to the upload stage
/// with its bytes as soon as it is hashed (on the upload's threads), so that uploads overlap
/// hashing and every file is read once.
pub fn hash_referenced(
    pages: &[Page],
    config: &Config,
    early: Option<&crate::upload::Early>,
    mut cache: StatCache,
) -> Hashed {
    let files = referenced_files(pages, config);
    let want_md5 = matches!(config.target, TargetConfig::S3(_));
    let hashed = {
        let bar = Progress::new(files.len(), "hashing");
        match early {
            Some(early) => early.pool().install(|| {
                let offer = |img: &ImageFile, bytes: bytes::Bytes| early.offer(img, bytes);
                hash_all_then(
                    &files,
                    config.max_size,
                    want_md5,
                    &mut cache,
                    &|| bar.inc(),
                    &offer,
                )
            }),
            None => hash_all(&files, config.max_size, want_md5, &mut cache, &|| bar.inc()),
        }
    };
    let mut images = Vec::new();
    let mut refused: BTreeMap<PathBuf, Refusal> = BTreeMap::new();
    for ((path, _), result) in files.iter().zip(hashed) {
        let result = result.and_then(|img| {
            if img.mime == "image/svg+xml" {
                svg_allowed(path, Some(&img.hash), config.allow_svg_scripts)?;
            }
            Ok(img)
        });
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

/// Each distinct local file the pages reference, once, with its path relative to the root, in
/// path order.
pub fn referenced_files(pages: &[Page], config: &Config) -> Vec<(PathBuf, String)> {
    let mut files: Vec<&Path> = pages
        .iter()
        .flat_map(|p| &p.refs)
        .filter_map(|(_, resolved)| match resolved {
            Resolved::Local(p) => Some(p.as_path()),
            _ => None,
        })
        .collect();
    files.sort_unstable();
    files.dedup();
    files
        .into_iter()
        .map(|p| (p.to_path_buf(), rel(&config.root, p)))
        .collect()
}

/// Sniff and hash each file in parallel (and MD5 it too when `want_md5`). Results are in the
/// order of `files`.
pub fn hash_all(
    files: &[(PathBuf, String)],
    limit: u64,
    want_md5: bool,
    cache: &mut StatCache,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Result<ImageFile, Refusal>> {
    hash_all_then(files, limit, want_md5, cache, on_done, &|_, _| {})
}

/// [`hash_all`], handing each image read (not one known from the stat cache) to `then` with
/// its bytes, on the thread that read it.
pub fn hash_all_then(
    files: &[(PathBuf, String)],
    limit: u64,
    want_md5: bool,
    cache: &mut StatCache,
    on_done: &(dyn Fn() + Sync),
    then: &(dyn Fn(&ImageFile, bytes::Bytes) + Sync),
) -> Vec<Result<ImageFile, Refusal>> {
    let results: Vec<(Result<ImageFile, Refusal>, Option<CacheEntry>)> = files
        .par_iter()
        .map(|(path, rel)| {
            let r = hash_one(path, rel, limit, want_md5, &cache.entries, then);
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
    want_md5: bool,
    cache: &HashMap<String, CacheEntry>,
    then: &(dyn Fn(&ImageFile, bytes::Bytes) + Sync),
) -> (Result<ImageFile, Refusal>, Option<CacheEntry>) {
    // Opened once, without following links, checked to be the regular file resolve found
    // inside the root: what is hashed is what the store gets (it checks the hash again).
    let (mut file, meta) = match crate::fs::open_checked(path) {
        Ok(opened) => opened,
        Err(e) => return (Err(Refusal::Io(e.to_string())), None),
    };
    let size = meta.len();
    if size > limit {
        return (Err(Refusal::TooLarge { size, limit }), None);
    }
    let mtime = mtime_ns(&meta);
    let image = |hash: String, mime: String, md5: Option<[u8; 16]>| ImageFile {
        path: path.to_path_buf(),
        rel: rel.to_string(),
        size,
        hash,
        mime,
        md5,
    };
    let (ctime_ns, inode) = crate::fs::change_identity(&meta);
    if let Some(e) = cache.get(rel) {
        let same = e.size == size && e.mtime_ns == mtime && e.ctime_ns == ctime_ns;
        // An entry without the MD5 a store wants is read again, once, to add it.
        let complete = !want_md5 || e.md5.is_some();
        if same && complete && e.inode == inode && mtime != 0 {
            return (Ok(image(e.hash.clone(), e.mime.clone(), e.md5)), None);
        }
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if let Err(e) = file.read_to_end(&mut bytes) {
        return (Err(Refusal::Io(e.to_string())), None);
    }
    let Some(mime) = sniff(&bytes) else {
        return (Err(Refusal::NotImage), None);
    };
    // Both digests from the bytes read once, while they are still in the cache.
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let md5 = want_md5.then(|| md5::compute(&bytes).0);
    let entry = CacheEntry {
        size: bytes.len() as u64,
        mtime_ns: mtime,
        ctime_ns,
        inode,
        hash: hash.clone(),
        mime: mime.to_string(),
        md5,
    };
    let img = image(hash, mime.to_string(), md5);
    then(&img, bytes::Bytes::from(bytes));
    (Ok(img), Some(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, SystemTime};

    fn fixture(rel: &str) -> Vec<u8> {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(rel),
        )
        .unwrap()
    }

    fn png() -> Vec<u8> {
        fixture("hugo/static/img/diagram.png")
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Write `bytes` to `path` and set its mtime.
    fn write(path: &Path, bytes: &[u8], mtime: SystemTime) {
        std::fs::write(path, bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
    }

    fn hex(bytes: &[u8]) -> String {
        blake3::hash(bytes).to_hex().to_string()
    }

    fn hash1(
        path: &Path,
        rel: &str,
        limit: u64,
        cache: &mut StatCache,
    ) -> Result<ImageFile, Refusal> {
        let files = [(path.to_path_buf(), rel.to_string())];
        hash_all(&files, limit, false, cache, &|| {}).pop().unwrap()
    }

    #[test]
    fn sniffs_each_image_type_from_real_files() {
        for (rel, mime) in [
            ("hugo/static/img/diagram.png", "image/png"),
            ("hugo/static/img/photo.jpg", "image/jpeg"),
            ("hugo/static/img/a.gif", "image/gif"),
            ("hugo/static/img/a.webp", "image/webp"),
            ("hugo/static/img/icon.svg", "image/svg+xml"),
            ("zola/content/blog/post/route.svg", "image/svg+xml"),
        ] {
            assert_eq!(sniff(&fixture(rel)), Some(mime), "{rel}");
        }
    }

    #[test]
    fn svg_is_recognised_after_bom_whitespace_and_doctype() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        for text in [
            format!("\u{feff}{svg}"),
            format!("\n  \t{svg}"),
            format!("<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x.dtd\">\n{svg}"),
            "<svg>".to_string(),
            "<svg\n width=\"1\">".to_string(),
        ] {
            assert_eq!(sniff(text.as_bytes()), Some("image/svg+xml"), "{text}");
        }
    }

    /// What Inkscape and Illustrator write: an XML declaration, then a comment.
    #[test]
    fn svg_is_recognised_after_a_doctype_with_an_internal_subset_and_in_utf16() {
        let illustrator = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
            <!-- Generator: Adobe Illustrator 24.0.0 -->\n\
            <!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\" [\n\
            \t<!ENTITY ns_svg \"http://www.w3.org/2000/svg\">\n\
            \t<!ENTITY ns_xlink \"http://www.w3.org/1999/xlink\">\n\
            ]>\n<svg version=\"1.1\" xmlns=\"&ns_svg;\"></svg>\n";
        assert_eq!(sniff(illustrator.as_bytes()), Some("image/svg+xml"));
        let svg = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(svg.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(svg.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(sniff(&le), Some("image/svg+xml"));
        assert_eq!(sniff(&be), Some("image/svg+xml"));
        // An internal subset that never closes, and UTF-16 HTML, are not SVGs.
        assert_eq!(sniff(b"<!DOCTYPE svg [ <!ENTITY a \"b\"> <svg/>"), None);
        let html: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "<html><svg/></html>"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        assert_eq!(sniff(&html), None);
    }

    #[test]
    fn svg_is_recognised_after_xml_declaration_and_comments() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        for text in [
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}"),
            format!("<!-- Created with Inkscape -->\n{svg}"),
            format!("\u{feff}<?xml version=\"1.0\"?>\n<!-- a -->\n<!DOCTYPE svg>\n{svg}"),
        ] {
            assert_eq!(sniff(text.as_bytes()), Some("image/svg+xml"), "{text}");
        }
    }

    #[test]
    fn text_and_other_formats_are_not_images() {
        for text in [
            "",
            "hello, this is not a PNG\n",
            "# A Markdown page\n![a](b.png)\n",
            "<!DOCTYPE html><html><body><svg></svg></body></html>",
            "<svgfoo/>",
            "<!-- an unclosed comment <svg>",
            "<?xml version=\"1.0\"?><root><svg/></root>",
            "%PDF-1.4\n%\u{e2}\u{e3}\n",
            "{\"svg\": true}",
        ] {
            assert_eq!(sniff(text.as_bytes()), None, "{text:?}");
        }
        // A zip archive (e.g. an .docx renamed .png).
        assert_eq!(
            sniff(b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of the zip"),
            None
        );
    }

    #[test]
    fn a_text_file_named_png_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.png");
        std::fs::write(&path, "I am text, not a PNG").unwrap();
        assert_eq!(sniff_file(&path, 1 << 20), Err(Refusal::NotImage));
        let mut cache = StatCache::default();
        assert_eq!(
            hash1(&path, "fake.png", 1 << 20, &mut cache),
            Err(Refusal::NotImage)
        );
        // A real PNG under any name is fine.
        let renamed = dir.path().join("picture.txt");
        std::fs::write(&renamed, png()).unwrap();
        assert_eq!(sniff_file(&renamed, 1 << 20), Ok("image/png"));
    }

    #[test]
    fn files_over_the_size_limit_are_refused_at_the_limit_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let bytes = png();
        let size = bytes.len() as u64;
        std::fs::write(&path, &bytes).unwrap();
        let too_large = Refusal::TooLarge {
            size,
            limit: size - 1,
        };
        assert_eq!(sniff_file(&path, size - 1), Err(too_large.clone()));
        assert_eq!(sniff_file(&path, size), Ok("image/png"));
        let mut cache = StatCache::default();
        assert_eq!(hash1(&path, "a.png", size - 1, &mut cache), Err(too_large));
        let ok = hash1(&path, "a.png", size, &mut cache).unwrap();
        assert_eq!(ok.size, size);
    }

    #[test]
    fn missing_file_is_an_io_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.png");
        assert!(matches!(sniff_file(&path, 1 << 20), Err(Refusal::Io(_))));
        let mut cache = StatCache::default();
        assert!(matches!(
            hash1(&path, "gone.png", 1 << 20, &mut cache),
            Err(Refusal::Io(_))
        ));
    }

    #[test]
    fn hash_all_keeps_the_order_and_reports_each_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut want = Vec::new();
        for rel in [
            "hugo/static/img/diagram.png",
            "hugo/static/img/photo.jpg",
            "hugo/static/img/a.gif",
            "hugo/static/img/a.webp",
            "hugo/static/img/icon.svg",
            "hugo/static/img/terminal.jpg",
        ] {
            let bytes = fixture(rel);
            let name = rel.rsplit('/').next().unwrap();
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            files.push((path, format!("static/img/{name}")));
            want.push((hex(&bytes), bytes.len() as u64));
        }
        let done = AtomicUsize::new(0);
        let mut cache = StatCache::default();
        let got = hash_all(&files, 1 << 20, false, &mut cache, &|| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), files.len());
        assert_eq!(got.len(), files.len());
        for ((result, (path, rel)), (hash, size)) in got.into_iter().zip(&files).zip(want) {
            let image = result.unwrap();
            assert_eq!(&image.path, path);
            assert_eq!(&image.rel, rel);
            assert_eq!(image.hash, hash, "{rel}");
            assert_eq!(image.size, size, "{rel}");
        }
    }

    /// `a.png` in `dir`, hashed once into a new cache.
    fn hashed_png(dir: &Path) -> (PathBuf, Vec<u8>, StatCache, ImageFile) {
        let path = dir.join("a.png");
        let original = png();
        write(&path, &original, at(1_700_000_000));
        let mut cache = StatCache::default();
        let first = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        (path, original, cache, first)
    }

    #[test]
    fn unchanged_file_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (path, original, mut cache, first) = hashed_png(dir.path());
        assert_eq!(first.hash, hex(&original));
        assert_eq!(first.mime, "image/png");

        // The file untouched: only a cache hit can give the hash the cache holds.
        let planted = "c".repeat(64);
        cache.entries.get_mut("a.png").unwrap().hash = planted.clone();
        let second = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        assert_eq!(second.hash, planted);
        assert_eq!(second.mime, "image/png");
    }

    #[test]
    fn same_size_and_restored_mtime_with_other_bytes_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (path, original, mut cache, first) = hashed_png(dir.path());

        // Other bytes, same size, the old mtime set back: the change time (and, for a file
        // replaced by a rename, the inode) still tells them apart.
        let mut changed = original.clone();
        *changed.last_mut().unwrap() ^= 0xff;
        let other = dir.path().join("b.png");
        write(&other, &changed, at(1_700_000_000));
        std::fs::rename(&other, &path).unwrap();
        let got = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        if cfg!(unix) {
            assert_eq!(got.hash, hex(&changed));
            assert_ne!(got.hash, first.hash);
        }
        // In place, same inode: the change time alone.
        *changed.last_mut().unwrap() ^= 0x0f;
        write(&path, &changed, at(1_700_000_000));
        let got = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        if cfg!(unix) {
            assert_eq!(got.hash, hex(&changed));
        }
    }

    #[test]
    fn changed_mtime_or_size_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let original = png();
        write(&path, &original, at(1_700_000_000));
        let mut cache = StatCache::default();
        hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();

        // Same size, new mtime.
        let mut changed = original.clone();
        *changed.last_mut().unwrap() ^= 0xff;
        write(&path, &changed, at(1_700_000_001));
        let got = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        assert_eq!(got.hash, hex(&changed));

        // Same mtime, other size.
        let mut longer = changed.clone();
        longer.extend_from_slice(b"trailing");
        write(&path, &longer, at(1_700_000_001));
        let got = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        assert_eq!(got.hash, hex(&longer));
        assert_eq!(got.size, longer.len() as u64);

        // Replaced by text: refused, not served from the cache.
        write(&path, b"now it is text", at(1_700_000_002));
        assert_eq!(
            hash1(&path, "a.png", 1 << 20, &mut cache),
            Err(Refusal::NotImage)
        );
    }

    #[test]
    fn cache_survives_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my pic.png");
        let cache_file = dir.path().join(".imglift-cache");
        write(&path, &png(), at(1_700_000_000));
        let rel = "static/img/my pic\t.png";
        let mut cache = StatCache::default();
        hash1(&path, rel, 1 << 20, &mut cache).unwrap();
        let planted = "d".repeat(64);
        cache.entries.get_mut(rel).unwrap().hash = planted.clone();
        cache.changed = true;
        cache.save(&cache_file).unwrap();
        assert!(cache_file.is_file());

        let mut loaded = StatCache::load(&cache_file);
        let got = hash1(&path, rel, 1 << 20, &mut loaded).unwrap();
        assert_eq!(got.hash, planted, "the loaded cache was not used");
        assert_eq!(got.mime, "image/png");
    }

    /// For an S3 target the MD5 comes from the read that the blake3 came from, and is kept in
    /// the cache; an entry without it (written for a folder target, or before the MD5 column)
    /// is read once more to add it.
    #[test]
    fn the_md5_a_store_wants_is_hashed_with_the_blake3_and_cached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let cache_file = dir.path().join(".imglift-cache");
        write(&path, &png(), at(1_700_000_000));
        let files = [(path.clone(), "a.png".to_string())];
        let hash = |want_md5: bool, cache: &mut StatCache| {
            hash_all(&files, 1 << 20, want_md5, cache, &|| {})
                .pop()
                .unwrap()
                .unwrap()
        };
        let mut cache = StatCache::default();
        assert_eq!(hash(false, &mut cache).md5, None);
        // Planted: only a read of the file gives the real blake3 back.
        let planted = "e".repeat(64);
        cache.entries.get_mut("a.png").unwrap().hash = planted.clone();
        assert_eq!(hash(false, &mut cache).hash, planted);
        let with_md5 = hash(true, &mut cache);
        assert_eq!(
            with_md5.hash,
            hex(&png()),
            "an entry without MD5 is read again"
        );
        assert_eq!(with_md5.md5, Some(md5::compute(png()).0));

        cache.save(&cache_file).unwrap();
        let saved = std::fs::read_to_string(&cache_file).unwrap();
        assert!(
            saved.contains(&format!("{:x}", md5::compute(png()))),
            "{saved}"
        );
        let mut loaded = StatCache::load(&cache_file);
        loaded.entries.get_mut("a.png").unwrap().hash = planted.clone();
        let from_cache = hash(true, &mut loaded);
        assert_eq!(
            from_cache.hash, planted,
            "the complete entry is used without a read"
        );
        assert_eq!(from_cache.md5, with_md5.md5);

        // A line in the format before the MD5 column still loads, without an MD5.
        let old: String = saved
            .lines()
            .map(|l| match l.rsplit_once('\t') {
                Some((head, _)) if !l.starts_with('#') => format!("{head}\n"),
                _ => format!("{l}\n"),
            })
            .collect();
        std::fs::write(&cache_file, old).unwrap();
        let mut old = StatCache::load(&cache_file);
        assert_eq!(old.entries["a.png"].md5, None);
        old.entries.get_mut("a.png").unwrap().hash = planted.clone();
        assert_eq!(
            hash(false, &mut old).hash,
            planted,
            "an old line is still a hit"
        );
    }

    #[test]
    fn bad_cache_lines_are_dropped_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let cache_file = dir.path().join(".imglift-cache");
        write(&path, &png(), at(1_700_000_000));
        let mut cache = StatCache::default();
        hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        cache.changed = true;
        cache.save(&cache_file).unwrap();
        let good = std::fs::read_to_string(&cache_file).unwrap();
        let real = hex(&png());
        // A short hash (it used to panic on `{hash:16}`), a non-hex one, a type that is not an
        // image: each line is dropped and the file hashed again.
        for bad in ["abc".to_string(), "z".repeat(64), real.clone()] {
            let text = good.replace(&real, &bad);
            let text = if bad == real {
                text.replace("image/png", "text/html")
            } else {
                text
            };
            std::fs::write(&cache_file, &text).unwrap();
            let mut loaded = StatCache::load(&cache_file);
            assert!(loaded.entries.is_empty(), "{text}");
            let got = hash1(&path, "a.png", 1 << 20, &mut loaded).unwrap();
            assert_eq!(got.hash, real);
        }
    }

    #[test]
    fn missing_or_damaged_cache_only_costs_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        write(&path, &png(), at(1_700_000_000));
        let cache_file = dir.path().join(".imglift-cache");
        for text in [
            None,
            Some("garbage\n\u{0}\u{1}"),
            Some("a.png\tnot-a-size\t1700000000000000000\tdeadbeef\timage/png\n"),
            Some("a.png\t1\t2\n"),
        ] {
            if let Some(text) = text {
                std::fs::write(&cache_file, text).unwrap();
            }
            let mut cache = StatCache::load(&cache_file);
            let got = hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
            assert_eq!(got.hash, hex(&png()), "{text:?}");
        }
    }

    #[test]
    fn an_unchanged_cache_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache_file = dir.path().join(".imglift-cache");
        StatCache::default().save(&cache_file).unwrap();
        assert!(!cache_file.exists());
        // Nor after a run served entirely from the cache.
        let path = dir.path().join("a.png");
        write(&path, &png(), at(1_700_000_000));
        let mut cache = StatCache::default();
        hash1(&path, "a.png", 1 << 20, &mut cache).unwrap();
        cache.save(&cache_file).unwrap();
        let mut loaded = StatCache::load(&cache_file);
        std::fs::remove_file(&cache_file).unwrap();
        hash1(&path, "a.png", 1 << 20, &mut loaded).unwrap();
        loaded.save(&cache_file).unwrap();
        assert!(!cache_file.exists());
    }
}
