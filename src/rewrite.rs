//! Rewrite: splice new URLs into the recorded byte spans, check the result, write atomically.
//!
//! Only destination bytes change. Each URL is escaped for the context it lands in (a Markdown
//! destination, an HTML attribute, a shortcode parameter, a YAML or TOML string). Before a page
//! is written, it is extracted again: every edited reference must read back as its new URL and
//! every other reference as before, or the page is left as it was. Writes go to a temporary file
//! in the same folder, keep the original's permissions, and are renamed into place.

use std::io::Write;
use std::ops::Range;
use std::path::Path;

use crate::extract::{self, Context};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Range<usize>,
    pub url: String,
    pub context: Context,
}

/// The URL as it must be written in `context`. URLs from `plan::public_url` are already
/// percent-encoded; this guards the base URL's characters too.
pub fn escape_for(url: &str, context: Context) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match (context, c) {
            (_, ' ') => out.push_str("%20"),
            (Context::Markdown, '(' | ')' | '<' | '>' | '\\') => {
                out.push('\\');
                out.push(c);
            }
            (Context::MarkdownAngle, '<' | '>' | '\\') => {
                out.push('\\');
                out.push(c);
            }
            (Context::Html { .. }, '&') => out.push_str("&amp;"),
            (Context::Html { .. }, '"') => out.push_str("&quot;"),
            (Context::Html { .. }, '\'') => out.push_str("&#39;"),
            (Context::Html { quote: None }, '<' | '>' | '=' | '`') => {
                out.push_str(&format!("&#{};", c as u32))
            }
            (Context::Html { .. }, ',') => out.push_str("%2C"),
            (
                Context::Shortcode { .. }
                | Context::Yaml { quote: Some('"') }
                | Context::Toml { quote: '"' },
                '"' | '\\',
            ) => out.push_str(&format!("%{:02X}", c as u32)),
            (Context::Shortcode { .. }, '`') => out.push_str("%60"),
            (Context::Yaml { quote: Some('\'') }, '\'') => out.push_str("''"),
            (Context::Toml { quote: '\'' }, '\'') => out.push_str("%27"),
            (Context::Yaml { quote: None }, '#') => out.push_str("%23"),
            _ => out.push(c),
        }
    }
    out
}

/// Replace each edit's span with its escaped URL. Edits must be sorted and not overlap.
pub fn splice(text: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + edits.len() * 64);
    let mut at = 0;
    for e in edits {
        out.push_str(&text[at..e.span.start]);
        out.push_str(&escape_for(&e.url, e.context));
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Check by extracting again that `new` is `old` with exactly these destinations replaced.
pub fn verify(old: &str, new: &str, edits: &[Edit], opts: &extract::Options) -> Result<(), String> {
    let before = extract::extract(old, opts).refs;
    let after = extract::extract(new, opts).refs;
    let mut shift: isize = 0;
    let mut edit_iter = edits.iter().peekable();
    let mut expected: Vec<(usize, String)> = Vec::with_capacity(before.len());
    for r in &before {
        while edit_iter
            .peek()
            .is_some_and(|e| e.span.end <= r.span.start && e.span != r.span)
        {
            let e = edit_iter.next().expect("peeked");
            shift += escape_for(&e.url, e.context).len() as isize - e.span.len() as isize;
        }
        let start = (r.span.start as isize + shift) as usize;
        match edit_iter.peek() {
            Some(e) if e.span == r.span => {
                expected.push((start, e.url.clone()));
                shift += escape_for(&e.url, e.context).len() as isize - e.span.len() as isize;
                edit_iter.next();
            }
            _ => expected.push((start, r.dest.clone())),
        }
    }
    if edit_iter.next().is_some() {
        return Err("an edit does not match any reference".into());
    }
    let found: Vec<(usize, String)> = after
        .iter()
        .map(|r| (r.span.start, r.dest.clone()))
        .collect();
    if found != expected {
        let diff = expected
            .iter()
            .zip(found.iter().chain(std::iter::repeat(&(0, String::new()))))
            .find(|(a, b)| a != b)
            .map(|(a, b)| {
                format!(
                    "expected `{}` at byte {}, found `{}` at byte {}",
                    a.1, a.0, b.1, b.0
                )
            })
            .unwrap_or_else(|| {
                format!(
                    "{} references expected, {} found",
                    expected.len(),
                    found.len()
                )
            });
        return Err(diff);
    }
    Ok(())
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
