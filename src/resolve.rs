//! Resolve: turn a destination into a local file inside the site root, or say why not.
//!
//! Remote URLs, data URIs, fragments and already-lifted URLs are left alone. A local destination
//! is percent-decoded, stripped of `?query` and `#fragment`, and looked up relative to the page
//! (page bundles) or, when site-absolute, in each `static` folder, then each content root, then
//! the root; Jekyll's `{{ site.baseurl }}` prefix and `{{ "/x" | relative_url }}` count as
//! site-absolute. NFC and NFD spellings
//! are both tried. Anything that leaves the root — lexically or through a symlink — is refused.
//! This module only looks at paths; whether the bytes are an image is checked by `hash`.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use unicode_normalization::UnicodeNormalization;

use crate::config::Config;
use crate::fs::lexical_normalize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A file inside the root (canonical path).
    Local(PathBuf),
    /// Not ours to touch: a remote URL, a data URI, an anchor, a template expression.
    Ignored,
    /// Already points at the public URL.
    Lifted,
    /// The file does not exist.
    Missing { hint: Option<String> },
    /// Refused for safety or because it cannot be a local image.
    Refused { reason: String },
}

/// Strip `?query` and `#fragment`, percent-decode, and classify.
pub fn resolve(dest: &str, page: &Path, config: &Config) -> Resolved {
    let dest = dest.trim();
    let (site_absolute, rest) = match not_local(dest, config) {
        Ok(local) => local,
        Err(resolved) => return resolved,
    };
    let decoded = match decode(&rest) {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let candidates: Vec<PathBuf> = if site_absolute {
        let inner = decoded.trim_start_matches('/');
        config
            .static_dirs
            .iter()
            .chain(config.content.iter())
            .chain(std::iter::once(&config.root))
            .map(|base| base.join(inner))
            .collect()
    } else {
        let dir = page.parent().unwrap_or(&config.root);
        vec![dir.join(&decoded)]
    };
    lookup(&candidates, &decoded, config)
}

/// A destination that is not a local path: empty, a fragment, the public URL, a template, a
/// remote URL or a scheme. Otherwise whether the path is site-absolute, and the path itself
/// (a Jekyll `{{ site.baseurl }}` prefix removed).
fn not_local(dest: &str, config: &Config) -> Result<(bool, String), Resolved> {
    if dest.is_empty() || dest.starts_with('#') || dest.starts_with('?') {
        return Err(Resolved::Ignored);
    }
    if dest.starts_with(&config.public_url)
        && matches!(
            dest.as_bytes().get(config.public_url.len()),
            None | Some(b'/')
        )
    {
        return Err(Resolved::Lifted);
    }
    let liquid = crate::extract::liquid_site_path(dest).filter(|(_, used)| *used == dest.len());
    let (site_absolute, rest) = match liquid {
        Some((path, _)) => (true, path),
        None => (dest.starts_with('/'), dest.to_string()),
    };
    if rest.contains("{{") || rest.contains("{%") || rest.starts_with("//") {
        return Err(Resolved::Ignored);
    }
    if let Some(scheme) = scheme(&rest) {
        return Err(match scheme.to_ascii_lowercase().as_str() {
            "file" => Resolved::Refused {
                reason: "file: URLs point outside the site; use a path relative to the page".into(),
            },
            s if s.len() == 1 => Resolved::Refused {
                reason: "an absolute filesystem path; use a path relative to the page or the site"
                    .into(),
            },
            _ => Resolved::Ignored,
        });
    }
    Ok((site_absolute, rest))
}

/// The path part of a destination, percent-decoded; refused when it does not decode to text or
/// holds a NUL byte or a backslash.
fn decode(rest: &str) -> Result<String, Resolved> {
    let path_part = rest.split(['?', '#']).next().unwrap_or("");
    let decoded = match percent_decode_str(path_part).decode_utf8() {
        Ok(d) => d.into_owned(),
        Err(_) => {
            return Err(Resolved::Refused {
                reason: "percent-encoding does not decode to UTF-8".into(),
            })
        }
    };
    if decoded.contains('\0') || decoded.contains('\\') {
        return Err(Resolved::Refused {
            reason: "the path contains a NUL byte or a backslash".into(),
        });
    }
    Ok(decoded)
}

/// The first candidate that exists inside the root, in each of its spellings; a link out of the
/// root or a special file is refused; a miss gets a hint found inside the root only.
fn lookup(candidates: &[PathBuf], decoded: &str, config: &Config) -> Resolved {
    let inside: Vec<PathBuf> = candidates
        .iter()
        .map(|c| lexical_normalize(c))
        .filter(|c| c.starts_with(&config.root))
        .collect();
    if inside.is_empty() {
        return Resolved::Refused {
            reason: format!("`{decoded}` leaves the site root"),
        };
    }
    for normal in &inside {
        for spelling in spellings(normal) {
            let Ok(meta) = std::fs::metadata(&spelling) else {
                continue;
            };
            let Ok(real) = spelling.canonicalize() else {
                continue;
            };
            if !real.starts_with(&config.root) {
                return Resolved::Refused {
                    reason: format!("`{decoded}` is a link to a file outside the site root"),
                };
            }
            if !meta.is_file() {
                return Resolved::Refused {
                    reason: format!("`{decoded}` is not a regular file"),
                };
            }
            return Resolved::Local(real);
        }
    }
    // Only places inside the root are searched for a hint: a name outside must not leak.
    let hint = inside
        .iter()
        .find_map(|c| case_insensitive_match(c, &config.root));
    Resolved::Missing { hint }
}

/// The URL scheme, if the destination has one (`https:`, `data:`, `C:`).
fn scheme(dest: &str) -> Option<&str> {
    let colon = dest.find(':')?;
    let s = &dest[..colon];
    let valid = s.chars().next()?.is_ascii_alphabetic()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some(s)
}

/// The path as written, then its NFC and NFD forms (macOS writes NFD names).
fn spellings(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    if let Some(s) = path.to_str() {
        if !s.is_ascii() {
            for alt in [s.nfc().collect::<String>(), s.nfd().collect::<String>()] {
                let alt = PathBuf::from(alt);
                if !out.contains(&alt) {
                    out.push(alt);
                }
            }
        }
    }
    out
}

/// A file in the same folder whose name differs only in case, shown as a hint.
fn case_insensitive_match(path: &Path, root: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?.to_lowercase();
    let dir = path.parent()?;
    let entries = std::fs::read_dir(dir).ok()?;
    entries.filter_map(Result::ok).find_map(|e| {
        let other = e.file_name();
        let other = other.to_str()?;
        (other.to_lowercase() == name && other != path.file_name()?.to_str()?)
            .then(|| crate::fs::rel(root, &e.path()))
    })
}
