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
use std::sync::Mutex;

use percent_encoding::percent_decode_str;
use rustc_hash::FxHashMap as HashMap;
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

/// Strip `?query` and `#fragment`, percent-decode, and classify (one destination; a run
/// resolves many through one [`Resolver`]).
pub fn resolve(dest: &str, page: &Path, config: &Config) -> Resolved {
    Resolver::new(config).resolve(dest, page)
}

/// Resolves the destinations of a run. It remembers the real path of each folder it looked in,
/// so that a folder's links are followed once per run, not once per reference: a site of
/// 1,000 page bundles asked the filesystem for a `readlink` of every folder of every path
/// otherwise. Shared by the threads that load pages.
pub struct Resolver<'a> {
    config: &'a Config,
    /// Folder (lexically normal, inside the root) → its real path, `None` if it has none.
    dirs: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
}

impl<'a> Resolver<'a> {
    pub fn new(config: &'a Config) -> Resolver<'a> {
        Resolver {
            config,
            dirs: Mutex::new(HashMap::default()),
        }
    }

    /// Strip `?query` and `#fragment`, percent-decode, and classify.
    pub fn resolve(&self, dest: &str, page: &Path) -> Resolved {
        resolve_with(dest, page, self.config, &|path| self.real_file(path))
    }

    /// The real path of an existing file at `path` (lexically normal, inside the root) and its
    /// metadata (links followed), or `None` if nothing is there (a dangling link included). A
    /// file that is itself a link is resolved in full; otherwise its real path is its folder's
    /// (known from an earlier lookup, or found now) and its name.
    fn real_file(&self, path: &Path) -> Option<(PathBuf, std::fs::Metadata)> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if meta.file_type().is_symlink() {
            return Some((path.canonicalize().ok()?, std::fs::metadata(path).ok()?));
        }
        let real = self.real_dir(path.parent()?)?.join(path.file_name()?);
        Some((real, meta))
    }

    /// The real path of the folder `dir`: its parent's real path and its name, unless it is a
    /// link (then resolved in full). The root is real already; anything not below it (which
    /// lookup never asks for) is resolved in full.
    fn real_dir(&self, dir: &Path) -> Option<PathBuf> {
        let root = &self.config.root;
        if dir == root {
            return Some(root.clone());
        }
        if let Some(known) = self.known(dir) {
            return known;
        }
        let real = match (dir.parent(), dir.file_name()) {
            (Some(parent), Some(name)) if dir.starts_with(root) => {
                match std::fs::symlink_metadata(dir) {
                    Ok(m) if m.file_type().is_symlink() => dir.canonicalize().ok(),
                    Ok(_) => self.real_dir(parent).map(|p| p.join(name)),
                    Err(_) => None,
                }
            }
            _ => dir.canonicalize().ok(),
        };
        self.dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(dir.to_path_buf(), real.clone());
        real
    }

    fn known(&self, dir: &Path) -> Option<Option<PathBuf>> {
        let dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        dirs.get(dir).cloned()
    }
}

/// [`Resolver::resolve`], with `real_file` telling where an existing file really is.
fn resolve_with(
    dest: &str,
    page: &Path,
    config: &Config,
    real_file: &dyn Fn(&Path) -> Option<(PathBuf, std::fs::Metadata)>,
) -> Resolved {
    // Only CommonMark's whitespace: `![a](\u{a0}a.png)` points at a file whose name starts
    // with a no-break space (a broken image in the original), not at `a.png`.
    let dest = dest.trim_matches([' ', '\t', '\n', '\r', '\x0c']);
    let (site_absolute, rest) = match not_local(dest, config) {
        Ok(local) => local,
        Err(resolved) => return resolved,
    };
    let decoded = match decode(&rest) {
        Ok(d) => d,
        Err(refused) => return refused,
    };
    let candidates = candidates(site_absolute, &decoded, page, config);
    let found = lookup(&candidates, &decoded, config, real_file);
    match (&found, &config.hugo) {
        (Resolved::Missing { .. }, Some(hugo)) if site_absolute && hugo.path_to_lower => {
            // Hugo serves `content/Blog/My-Post/a.png` at `/blog/my-post/a.png`.
            let inner = decoded.trim_start_matches('/');
            let served: Vec<PathBuf> = config
                .content
                .iter()
                .filter_map(|c| crate::hugo::lowercased_match(c, inner))
                .collect();
            if served.is_empty() {
                found
            } else {
                lookup(&served, &decoded, config, real_file)
            }
        }
        _ => found,
    }
}

/// Where a local destination is looked for, in order.
fn candidates(site_absolute: bool, decoded: &str, page: &Path, config: &Config) -> Vec<PathBuf> {
    // Hugo's figure shortcode and image render hook also look in `assets/`.
    let assets = config
        .hugo
        .as_ref()
        .map(|h| &h.assets)
        .filter(|a| !config.static_dirs.contains(a));
    if site_absolute {
        let inner = decoded.trim_start_matches('/');
        config
            .static_dirs
            .iter()
            .chain(assets)
            .chain(config.content.iter())
            .chain(std::iter::once(&config.root))
            .map(|base| base.join(inner))
            .collect()
    } else {
        let dir = page.parent().unwrap_or(&config.root);
        std::iter::once(dir.join(decoded))
            .chain(assets.map(|a| a.join(decoded)))
            .collect()
    }
}

/// The files inside the root that [`resolve`] looked for, for a "not found" message.
pub fn searched(dest: &str, page: &Path, config: &Config) -> Vec<PathBuf> {
    let Ok((site_absolute, rest)) = not_local(dest.trim(), config) else {
        return Vec::new();
    };
    let Ok(decoded) = decode(&rest) else {
        return Vec::new();
    };
    candidates(site_absolute, &decoded, page, config)
        .iter()
        .map(|c| lexical_normalize(c))
        .filter(|c| c.starts_with(&config.root))
        .collect()
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
fn lookup(
    candidates: &[PathBuf],
    decoded: &str,
    config: &Config,
    real_file: &dyn Fn(&Path) -> Option<(PathBuf, std::fs::Metadata)>,
) -> Resolved {
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
            let Some((real, meta)) = real_file(&spelling) else {
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::{Overrides, RawConfig};

    const PUBLIC: &str = "https://img.example.com";

    /// A site at `<tmp>/site` (so `<tmp>/secret.png` lies just outside the root):
    /// a page bundle, a `static` folder, and files that only exist in content or in the root.
    struct Site {
        _tmp: tempfile::TempDir,
        outside: PathBuf,
        config: Config,
        /// `content/posts/trip/index.md`
        page: PathBuf,
    }

    impl Site {
        fn new() -> Site {
            let tmp = tempfile::tempdir().unwrap();
            let outside = tmp.path().join("secret.png");
            std::fs::write(&outside, b"not yours").unwrap();
            let site = tmp.path().join("site");
            for (rel, body) in [
                ("content/posts/trip/index.md", "![b](beach.png)\n"),
                ("content/posts/trip/beach.png", "bundle"),
                ("content/posts/trip/my pic.png", "spaced"),
                ("static/img/a.png", "static a"),
                ("static/img/photo.jpg", "photo"),
                ("static/img/both.png", "static both"),
                ("content/img/both.png", "content both"),
                ("content/img/mid.png", "content mid"),
                ("img/mid.png", "root mid"),
                ("img/root-only.png", "root only"),
            ] {
                let path = site.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, body).unwrap();
            }
            let file = site.join("imglift.yaml");
            let raw = RawConfig {
                public_url: Some(PUBLIC.into()),
                ..RawConfig::default()
            };
            let config =
                Config::resolve(raw, Some(&file), &Overrides::default(), &|_| None).unwrap();
            let page = config.root.join("content/posts/trip/index.md");
            Site {
                _tmp: tmp,
                outside,
                config,
                page,
            }
        }

        fn resolve(&self, dest: &str) -> Resolved {
            resolve(dest, &self.page, &self.config)
        }

        /// The canonical path of a file under the root, as `Resolved::Local` carries it.
        fn local(&self, rel: &str) -> Resolved {
            Resolved::Local(self.config.root.join(rel).canonicalize().unwrap())
        }

        fn write(&self, rel: &str, body: &str) -> PathBuf {
            let path = self.config.root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, body).unwrap();
            path
        }
    }

    #[test]
    fn a_scheme_starts_with_a_letter_and_holds_only_scheme_characters() {
        assert_eq!(scheme("https://x.png"), Some("https"));
        assert_eq!(scheme("C:/x.png"), Some("C"));
        assert_eq!(scheme("1x:y.png"), None);
        assert_eq!(scheme("my pic:1.png"), None);
        assert_eq!(scheme("plain.png"), None);
    }

    #[test]
    fn searched_lists_where_a_missing_file_was_looked_for_inside_the_root() {
        let s = Site::new();
        let root = &s.config.root;
        assert_eq!(
            searched("gone.png", &s.page, &s.config),
            [root.join("content/posts/trip/gone.png")]
        );
        assert_eq!(
            searched("/img/gone.png", &s.page, &s.config),
            [
                root.join("static/img/gone.png"),
                root.join("content/img/gone.png"),
                root.join("img/gone.png"),
            ]
        );
        assert!(searched("../../../../gone.png", &s.page, &s.config).is_empty());
    }

    #[track_caller]
    fn assert_refused(got: Resolved, dest: &str) {
        assert!(
            matches!(got, Resolved::Refused { .. }),
            "`{dest}` should be refused, got {got:?}"
        );
    }

    #[test]
    fn page_relative_paths_resolve_against_the_page_folder() {
        let s = Site::new();
        let beach = s.local("content/posts/trip/beach.png");
        assert_eq!(s.resolve("beach.png"), beach);
        assert_eq!(s.resolve("./beach.png"), beach);
        assert_eq!(s.resolve("../trip/beach.png"), beach);
        // `..` that stays inside the root is fine.
        assert_eq!(
            s.resolve("../../../static/img/a.png"),
            s.local("static/img/a.png")
        );
        // Relative to the page, not to the root or static.
        assert!(matches!(s.resolve("img/a.png"), Resolved::Missing { .. }));
    }

    #[test]
    fn only_commonmark_whitespace_is_trimmed_from_a_destination() {
        let s = Site::new();
        let beach = s.local("content/posts/trip/beach.png");
        assert_eq!(s.resolve(" beach.png\t"), beach);
        for dest in ["\u{a0}beach.png", "beach.png\u{a0}", "\u{2003}beach.png"] {
            assert!(
                matches!(resolve(dest, &s.page, &s.config), Resolved::Missing { .. }),
                "{dest:?}"
            );
        }
    }

    #[test]
    fn site_absolute_looks_in_static_then_content_then_root() {
        let s = Site::new();
        assert_eq!(s.resolve("/img/a.png"), s.local("static/img/a.png"));
        // In static and content: static wins.
        assert_eq!(s.resolve("/img/both.png"), s.local("static/img/both.png"));
        // In content and root: content wins.
        assert_eq!(s.resolve("/img/mid.png"), s.local("content/img/mid.png"));
        assert_eq!(
            s.resolve("/img/root-only.png"),
            s.local("img/root-only.png")
        );
        assert!(matches!(
            s.resolve("/img/nowhere.png"),
            Resolved::Missing { .. }
        ));
    }

    #[test]
    fn dot_dot_leaving_the_root_is_refused_even_when_the_file_exists() {
        let s = Site::new();
        assert!(s.outside.is_file());
        for dest in [
            "../../../../secret.png",
            "../../../../site/../secret.png",
            "/../../secret.png",
            "/img/../../../secret.png",
        ] {
            assert_refused(s.resolve(dest), dest);
        }
    }

    #[test]
    fn percent_encoded_dot_dot_is_refused() {
        let s = Site::new();
        for dest in [
            "%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.png",
            "%2E%2E/%2E%2E/%2E%2E/%2E%2E/secret.png",
            "..%2f..%2f..%2f..%2fsecret.png",
            "..%2F..%2F..%2F..%2Fsecret.png",
            "/%2e%2e/%2e%2e/secret.png",
            "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.png",
        ] {
            assert_refused(s.resolve(dest), dest);
        }
    }

    #[test]
    fn backslashes_and_nul_are_refused() {
        let s = Site::new();
        for dest in [
            "..\\..\\..\\..\\secret.png",
            "..%5c..%5c..%5c..%5csecret.png",
            "beach.png%00.txt",
        ] {
            assert_refused(s.resolve(dest), dest);
        }
    }

    #[test]
    fn absolute_filesystem_paths_never_reach_the_file() {
        let s = Site::new();
        // `/etc/passwd` is site-absolute: looked up under the site, where it does not exist.
        assert!(matches!(s.resolve("/etc/passwd"), Resolved::Missing { .. }));
        // The absolute path of a real file outside the root, written as a destination.
        let abs = s.outside.to_str().unwrap().to_string();
        assert!(abs.starts_with('/'));
        let got = s.resolve(&abs);
        assert!(matches!(got, Resolved::Missing { .. }), "{got:?}");
        // Windows drive paths are refused outright.
        assert_refused(s.resolve("C:/Windows/win.ini"), "C:/Windows/win.ini");
        assert_refused(s.resolve("c:\\secret.png"), "c:\\secret.png");
    }

    #[test]
    fn file_urls_are_refused_and_never_read() {
        let s = Site::new();
        let inside = s.config.root.join("static/img/a.png");
        for dest in [
            format!("file://{}", s.outside.display()),
            format!("file://{}", inside.display()),
            format!("FILE://{}", inside.display()),
            "file:beach.png".to_string(),
        ] {
            assert_refused(s.resolve(&dest), &dest);
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlink_to_outside_the_root_is_refused() {
        let s = Site::new();
        let link = s.config.root.join("static/img/evil.png");
        std::os::unix::fs::symlink(&s.outside, &link).unwrap();
        assert_refused(s.resolve("/img/evil.png"), "/img/evil.png");
        // A relative link from the page bundle, and a linked folder.
        std::os::unix::fs::symlink("../../../../secret.png", s.page.with_file_name("e.png"))
            .unwrap();
        assert_refused(s.resolve("e.png"), "e.png");
        std::os::unix::fs::symlink(s.outside.parent().unwrap(), s.config.root.join("static/up"))
            .unwrap();
        assert_refused(s.resolve("/up/secret.png"), "/up/secret.png");
    }

    #[cfg(unix)]
    #[test]
    fn one_resolver_still_checks_each_linked_file_and_folder_after_it_knows_the_folder() {
        let s = Site::new();
        let resolver = Resolver::new(&s.config);
        // `static/img` is known to the resolver from here on.
        assert_eq!(
            resolver.resolve("/img/a.png", &s.page),
            s.local("static/img/a.png")
        );
        // A file of that folder that is a link out of the root is still refused.
        std::os::unix::fs::symlink(&s.outside, s.config.root.join("static/img/out.png")).unwrap();
        assert_refused(resolver.resolve("/img/out.png", &s.page), "/img/out.png");
        // A linked folder inside the root gives the real path of each file through it; one
        // out of the root refuses every file through it.
        std::os::unix::fs::symlink("../content/img", s.config.root.join("static/alias")).unwrap();
        std::os::unix::fs::symlink(s.outside.parent().unwrap(), s.config.root.join("static/up"))
            .unwrap();
        for _ in 0..2 {
            assert_eq!(
                resolver.resolve("/alias/mid.png", &s.page),
                s.local("content/img/mid.png")
            );
            assert_eq!(
                resolver.resolve("/alias/both.png", &s.page),
                s.local("content/img/both.png")
            );
            assert_refused(
                resolver.resolve("/up/secret.png", &s.page),
                "/up/secret.png",
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlink_inside_the_root_is_followed() {
        let s = Site::new();
        std::os::unix::fs::symlink(
            "../../content/img/mid.png",
            s.config.root.join("static/img/alias.png"),
        )
        .unwrap();
        assert_eq!(s.resolve("/img/alias.png"), s.local("content/img/mid.png"));
    }

    #[test]
    fn a_folder_is_not_a_file() {
        let s = Site::new();
        assert_refused(s.resolve("/img"), "/img");
        assert_refused(s.resolve("../trip"), "../trip");
    }

    #[test]
    fn nfc_in_the_page_finds_an_nfd_file_and_vice_versa() {
        let s = Site::new();
        // Stored NFD (as macOS writes it), referenced NFC.
        let nfd_file = s.write("static/img/cre\u{300}me.png", "creme");
        assert_eq!(
            s.resolve("/img/cr\u{e8}me.png"),
            Resolved::Local(nfd_file.canonicalize().unwrap())
        );
        // Stored NFC, referenced NFD, also percent-encoded.
        let nfc_file = s.write("content/posts/trip/caf\u{e9}.png", "cafe");
        let want = Resolved::Local(nfc_file.canonicalize().unwrap());
        assert_eq!(s.resolve("cafe\u{301}.png"), want);
        assert_eq!(s.resolve("cafe%CC%81.png"), want);
        assert_eq!(s.resolve("caf%C3%A9.png"), want);
    }

    #[test]
    fn query_and_fragment_are_stripped_for_lookup() {
        let s = Site::new();
        let a = s.local("static/img/a.png");
        assert_eq!(s.resolve("/img/a.png?v=2"), a);
        assert_eq!(s.resolve("/img/a.png#frag"), a);
        assert_eq!(s.resolve("/img/a.png?w=100#x"), a);
        assert_eq!(
            s.resolve("beach.png?raw=true"),
            s.local("content/posts/trip/beach.png")
        );
        // Only the part before `?`/`#` is a path: an encoded `?` is part of the name.
        assert!(matches!(
            s.resolve("/img/a.png%3Fv=2"),
            Resolved::Missing { .. }
        ));
    }

    #[test]
    fn percent_escapes_are_decoded() {
        let s = Site::new();
        let pic = s.local("content/posts/trip/my pic.png");
        assert_eq!(s.resolve("my%20pic.png"), pic);
        assert_eq!(s.resolve("my pic.png"), pic);
        assert_eq!(
            s.resolve("%62each.png"),
            s.local("content/posts/trip/beach.png")
        );
        assert_refused(s.resolve("%ff%fe.png"), "%ff%fe.png");
    }

    #[test]
    fn remote_urls_data_uris_and_anchors_are_left_alone() {
        let s = Site::new();
        for dest in [
            "https://example.org/a.png",
            "HTTP://example.org/img/a.png",
            "//cdn.example.com/img/a.png",
            "data:image/png;base64,iVBORw0KGgo=",
            "mailto:someone@example.org",
            "#top",
            "?v=1",
            "",
            "   ",
            "{{ page.image }}",
            "{{< param cover >}}",
            "{% link img/a.png %}",
        ] {
            assert_eq!(s.resolve(dest), Resolved::Ignored, "`{dest}`");
        }
    }

    #[test]
    fn the_public_url_is_recognised_as_already_lifted() {
        let s = Site::new();
        assert_eq!(
            s.resolve("https://img.example.com/0123456789abcdef/a.png"),
            Resolved::Lifted
        );
        assert_eq!(s.resolve("https://img.example.com"), Resolved::Lifted);
        // A host that only starts with the same letters is someone else's.
        assert_eq!(
            s.resolve("https://img.example.com.evil.org/a.png"),
            Resolved::Ignored
        );
        assert_eq!(
            s.resolve("https://img.example.community/a.png"),
            Resolved::Ignored
        );
    }

    #[test]
    fn jekyll_baseurl_prefix_is_site_absolute() {
        let s = Site::new();
        let a = s.local("static/img/a.png");
        assert_eq!(s.resolve("{{ site.baseurl }}/img/a.png"), a);
        assert_eq!(s.resolve("{{site.baseurl}}/img/a.png"), a);
        assert_eq!(s.resolve("{{ \"/img/a.png\" | relative_url }}"), a);
        assert_eq!(s.resolve("{{ 'img/a.png' | absolute_url }}"), a);
        // Not page-relative: the bundle's file is not found through the prefix.
        assert!(matches!(
            s.resolve("{{ site.baseurl }}/beach.png"),
            Resolved::Missing { .. }
        ));
        // The prefix does not open a way out of the root.
        assert_refused(
            s.resolve("{{ site.baseurl }}/../../secret.png"),
            "{{ site.baseurl }}/../../secret.png",
        );
    }

    #[test]
    fn missing_file_with_other_case_gets_a_hint() {
        let s = Site::new();
        assert_eq!(
            s.resolve("/img/Photo.JPG"),
            Resolved::Missing {
                hint: Some("static/img/photo.jpg".into())
            }
        );
        assert_eq!(
            s.resolve("BEACH.png"),
            Resolved::Missing {
                hint: Some("content/posts/trip/beach.png".into())
            }
        );
        assert_eq!(
            s.resolve("/img/chart.png"),
            Resolved::Missing { hint: None }
        );
    }

    #[test]
    fn a_hint_never_names_a_file_outside_the_root() {
        let s = Site::new();
        // `/../SECRET.png` is inside the root through `static` and `content` (missing there),
        // and outside through the root itself, next to `secret.png`: the hint must not point
        // there (it shows the absolute path of a file the run may not touch).
        match s.resolve("/../SECRET.png") {
            Resolved::Missing { hint } => assert_eq!(hint, None),
            other => assert!(matches!(other, Resolved::Refused { .. }), "{other:?}"),
        }
    }
}
