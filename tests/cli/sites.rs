//! What `fixtures/README.md` promises for each fixture site, as data, and the check of the first
//! promise: after a rewrite, a page differs from the original only in the destinations that were
//! lifted, and each new destination is the public URL of an object holding exactly the bytes of
//! the image it replaced.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{assert_same_bytes, percent_decode, Site, Tree, PUBLIC_URL};

/// One destination that `sync` must lift.
#[derive(Debug, Clone)]
pub struct Lift {
    /// 1-based line on which the destination starts.
    pub line: usize,
    /// The destination bytes as written in the page (the whole span that is replaced).
    pub dest: &'static str,
    /// The image file it resolves to, relative to the site root (as spelled on disk).
    pub source: &'static str,
    /// The object's file name, as the URL must carry it (decoded; NFC).
    pub name: String,
}

pub fn lift(line: usize, dest: &'static str, source: &'static str) -> Lift {
    let name = source.rsplit('/').next().unwrap().to_string();
    Lift {
        line,
        dest,
        source,
        name,
    }
}

impl Lift {
    pub fn named(mut self, name: &str) -> Lift {
        self.name = name.to_string();
        self
    }
}

#[derive(Debug, Clone)]
pub struct PageSpec {
    pub page: &'static str,
    pub lifts: Vec<Lift>,
}

#[derive(Debug, Clone)]
pub struct SiteSpec {
    pub name: &'static str,
    /// The local-folder target, relative to the root.
    pub store: &'static str,
    /// Pages with references to lift (in order of position).
    pub pages: Vec<PageSpec>,
    /// Pages that must not change at all.
    pub untouched: Vec<&'static str>,
    /// (page, "line:col", destination) of every broken reference.
    pub broken: Vec<(&'static str, &'static str, &'static str)>,
    /// Distinct objects uploaded by the first sync.
    pub objects: usize,
    /// Exit code of `sync` and `check`.
    pub exit: i32,
}

impl SiteSpec {
    pub fn page(&self, page: &str) -> &PageSpec {
        self.pages.iter().find(|p| p.page == page).unwrap()
    }

    pub fn references(&self) -> usize {
        self.pages.iter().map(|p| p.lifts.len()).sum()
    }

    pub fn sources(&self) -> BTreeSet<&'static str> {
        self.pages
            .iter()
            .flat_map(|p| p.lifts.iter().map(|l| l.source))
            .collect()
    }
}

pub fn hugo() -> SiteSpec {
    SiteSpec {
        name: "hugo",
        store: ".imglift-store",
        pages: vec![
            PageSpec {
                page: "content/posts/hello.md",
                lifts: vec![
                    lift(6, "/img/diagram.png", "static/img/diagram.png"),
                    lift(14, "/img/diagram.png", "static/img/diagram.png"),
                    lift(26, "/img/photo.jpg", "static/img/photo.jpg"),
                    lift(30, "/img/icon.svg", "static/img/icon.svg"),
                    lift(32, "/img/a.gif", "static/img/a.gif"),
                    lift(35, "/img/a.webp", "static/img/a.webp"),
                    lift(35, "/img/a@2x.webp", "static/img/a@2x.webp"),
                    lift(36, "/img/a.gif", "static/img/a.gif"),
                    lift(41, "/img/my pic.png", "static/img/my pic.png"),
                    lift(41, "/img/my%20pic.png", "static/img/my pic.png"),
                    lift(43, "/img/caf\u{e9}.png", "static/img/caf\u{e9}.png"),
                    // NFC in the page, NFD on disk; the key uses the NFC name.
                    lift(45, "/img/cr\u{e8}me.png", "static/img/cre\u{300}me.png")
                        .named("cr\u{e8}me.png"),
                    lift(47, "/img/diagram.png?v=2", "static/img/diagram.png"),
                ],
            },
            PageSpec {
                page: "content/posts/trip/index.md",
                lifts: vec![
                    lift(5, "cover.jpg", "content/posts/trip/cover.jpg"),
                    lift(12, "beach.png", "content/posts/trip/beach.png"),
                    lift(20, "harbour.jpg", "content/posts/trip/harbour.jpg"),
                    lift(22, "harbour.jpg", "content/posts/trip/harbour.jpg"),
                    lift(26, "sunset.png", "content/posts/trip/sunset.png"),
                    lift(32, "hat.gif", "content/posts/trip/hat.gif"),
                    lift(34, "logo.png", "content/posts/trip/logo.png"),
                ],
            },
            PageSpec {
                page: "content/posts/unicode.md",
                lifts: vec![
                    lift(5, "/img/unicode-cover.png", "static/img/unicode-cover.png"),
                    lift(11, "/img/unicode-table.png", "static/img/unicode-table.png"),
                    lift(13, "/img/unicode-table.png", "static/img/unicode-table.png"),
                ],
            },
            PageSpec {
                page: "content/posts/windows.md",
                lifts: vec![
                    lift(5, "/img/terminal.jpg", "static/img/terminal.jpg"),
                    lift(
                        11,
                        "/img/windows-dialog.png",
                        "static/img/windows-dialog.png",
                    ),
                    lift(20, "/img/crlf-diff.png", "static/img/crlf-diff.png"),
                ],
            },
        ],
        untouched: vec!["content/_index.md"],
        broken: vec![
            ("content/posts/hello.md", "53:22", "/img/chart-2019.png"),
            ("content/posts/hello.md", "55:18", "/img/Photo.JPG"),
        ],
        objects: 20,
        // Broken references are warnings for `sync` (errors for `check`).
        exit: 0,
    }
}

pub fn zola() -> SiteSpec {
    SiteSpec {
        name: "zola",
        store: ".imglift-store",
        pages: vec![
            PageSpec {
                page: "content/blog/notes.md",
                lifts: vec![
                    lift(6, "/img/notes-cover.jpg", "static/img/notes-cover.jpg"),
                    lift(12, "/img/tide-chart.png", "static/img/tide-chart.png"),
                ],
            },
            PageSpec {
                page: "content/blog/post/index.md",
                lifts: vec![
                    lift(7, "cover.png", "content/blog/post/cover.png"),
                    lift(14, "lighthouse.jpg", "content/blog/post/lighthouse.jpg"),
                    lift(18, "route.svg", "content/blog/post/route.svg"),
                ],
            },
        ],
        untouched: vec!["content/blog/_index.md"],
        broken: vec![],
        objects: 5,
        exit: 0,
    }
}

pub fn jekyll() -> SiteSpec {
    SiteSpec {
        name: "jekyll",
        store: ".imglift-store",
        pages: vec![
            PageSpec {
                page: "_posts/2024-01-02-first.md",
                lifts: vec![
                    lift(6, "/assets/img/cover.png", "assets/img/cover.png"),
                    lift(
                        14,
                        "{{ site.baseurl }}/assets/img/a.png",
                        "assets/img/a.png",
                    ),
                    lift(18, "{{site.baseurl}}/assets/img/b.png", "assets/img/b.png"),
                    lift(
                        22,
                        "{{ site.baseurl }}/assets/img/c.png",
                        "assets/img/c.png",
                    ),
                ],
            },
            PageSpec {
                page: "_posts/2024-02-14-images-in-jekyll.md",
                lifts: vec![lift(
                    19,
                    "{{ site.baseurl }}/assets/img/d.jpg",
                    "assets/img/d.jpg",
                )],
            },
        ],
        untouched: vec![],
        broken: vec![(
            "_posts/2024-02-14-images-in-jekyll.md",
            "27:15",
            "{{ site.baseurl }}/assets/img/floor-plan.png",
        )],
        objects: 5,
        exit: 0,
    }
}

pub fn demo() -> SiteSpec {
    SiteSpec {
        name: "demo",
        store: "public-images",
        pages: vec![
            PageSpec {
                page: "content/posts/desk-setup.md",
                lifts: vec![
                    lift(5, "/images/desk.webp", "static/images/desk.webp"),
                    lift(
                        11,
                        "/images/cable-diagram.svg",
                        "static/images/cable-diagram.svg",
                    ),
                    lift(14, "/images/desk.webp", "static/images/desk.webp"),
                ],
            },
            PageSpec {
                page: "content/posts/hello-world.md",
                lifts: vec![
                    lift(4, "/images/hero.jpg", "static/images/hero.jpg"),
                    lift(7, "/images/avatar.png", "static/images/avatar.png"),
                ],
            },
            PageSpec {
                page: "content/posts/sourdough/index.md",
                lifts: vec![
                    lift(5, "loaf.jpg", "content/posts/sourdough/loaf.jpg"),
                    lift(11, "starter.gif", "content/posts/sourdough/starter.gif"),
                    lift(15, "crumb.png", "content/posts/sourdough/crumb.png"),
                ],
            },
        ],
        untouched: vec![],
        broken: vec![],
        objects: 7,
        exit: 0,
    }
}

pub fn all() -> Vec<SiteSpec> {
    vec![hugo(), zola(), jekyll(), demo()]
}

/// Byte offset of the start of 1-based `line`.
pub fn line_start(text: &[u8], line: usize) -> usize {
    if line == 1 {
        return 0;
    }
    text.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
        .unwrap_or_else(|| panic!("the page has no line {line}"))
}

/// (line, column) of a byte offset, both 1-based. The column counts characters, as imglift's
/// diagnostics do (`LineIndex::locate`: "as editors do"); on ASCII lines it is the byte column
/// that fixtures/README.md gives.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let line = text[..offset].iter().filter(|b| **b == b'\n').count() + 1;
    let start = line_start(text, line);
    let col = String::from_utf8_lossy(&text[start..offset])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Where each lift's destination starts in the original page (byte offsets, in order).
#[track_caller]
pub fn offsets(old: &[u8], page: &str, lifts: &[Lift]) -> Vec<usize> {
    let mut from = 0;
    let mut out = Vec::new();
    for l in lifts {
        let start = line_start(old, l.line).max(from);
        let pos = find(&old[start..], l.dest.as_bytes())
            .map(|p| p + start)
            .unwrap_or_else(|| panic!("{page}: `{}` not found from line {}", l.dest, l.line));
        let (line, _) = line_col(old, pos);
        assert_eq!(
            line, l.line,
            "{page}: `{}` expected on line {}, found on line {line}",
            l.dest, l.line
        );
        out.push(pos);
        from = pos + l.dest.len();
    }
    out
}

/// `file:line:col` of every lift of a page, in order.
pub fn positions(old: &[u8], page: &str, lifts: &[Lift]) -> Vec<String> {
    offsets(old, page, lifts)
        .into_iter()
        .map(|o| {
            let (l, c) = line_col(old, o);
            format!("{page}:{l}:{c}")
        })
        .collect()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A lifted destination found in a rewritten page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifted {
    /// The object key (`<16 hex>/<name>`), decoded.
    pub key: String,
    /// The URL exactly as written in the page.
    pub url: String,
}

/// The first promise, checked by walking the old and new page side by side: every byte outside
/// the lifted destinations is identical, and each lifted destination is now
/// `PUBLIC_URL/<16 hex>/<name>`, where the object at that key in `store` has exactly the bytes
/// of the source image (read from `site`). Returns the keys and URLs, in page order.
#[track_caller]
pub fn assert_only_destinations_changed(
    site: &Path,
    store: &Path,
    page: &str,
    old: &[u8],
    new: &[u8],
    lifts: &[Lift],
) -> Vec<Lifted> {
    let starts = offsets(old, page, lifts);
    let prefix = format!("{PUBLIC_URL}/");
    let (mut o, mut n) = (0usize, 0usize);
    let mut found = Vec::new();
    for (l, &pos) in lifts.iter().zip(&starts) {
        let gap = pos - o;
        assert!(
            n + gap <= new.len(),
            "{page}: the rewritten page is too short before line {}",
            l.line
        );
        assert_same_bytes(
            &old[o..pos],
            &new[n..n + gap],
            &format!("{page}: bytes before line {} `{}`", l.line, l.dest),
        );
        n += gap;
        let rest = &new[n..];
        assert!(
            rest.starts_with(prefix.as_bytes()),
            "{page}:{}: `{}` was not replaced by a {PUBLIC_URL} URL; found {:?}",
            l.line,
            l.dest,
            String::from_utf8_lossy(&rest[..rest.len().min(80)])
        );
        let url_len = prefix.len()
            + rest[prefix.len()..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || b"-._~%/@".contains(b)))
                .unwrap_or(rest.len() - prefix.len());
        let url = std::str::from_utf8(&rest[..url_len]).unwrap().to_string();
        let path = &url[prefix.len()..];
        let (hex, name) = path
            .split_once('/')
            .unwrap_or_else(|| panic!("{page}:{}: URL `{url}` has no key folder", l.line));
        assert!(
            hex.len() == 16
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{page}:{}: URL `{url}` does not start with 16 lowercase hex digits",
            l.line
        );
        let name = String::from_utf8(percent_decode(name)).unwrap();
        assert_eq!(
            name, l.name,
            "{page}:{}: URL `{url}` does not carry the image's name",
            l.line
        );
        let object = store.join(hex).join(&name);
        let stored = std::fs::read(&object).unwrap_or_else(|e| {
            panic!(
                "{page}:{}: URL `{url}` points at {}, which is not in the store: {e}",
                l.line,
                object.display()
            )
        });
        let source = std::fs::read(site.join(l.source)).unwrap();
        assert!(
            stored == source,
            "{page}:{}: object {hex}/{name} does not hold the bytes of {}",
            l.line,
            l.source
        );
        found.push(Lifted {
            key: format!("{hex}/{name}"),
            url,
        });
        o = pos + l.dest.len();
        n += url_len;
    }
    assert_same_bytes(
        &old[o..],
        &new[n.min(new.len())..],
        &format!("{page}: bytes after the last lifted destination"),
    );
    found
}

/// [`assert_only_destinations_changed`] for `page` of `site` now against its bytes in the
/// snapshot `before`, with the store `<root>/<store>`.
#[track_caller]
pub fn assert_lifted_since(
    site: &Site,
    store: &str,
    before: &Tree,
    page: &str,
    lifts: &[Lift],
) -> Vec<Lifted> {
    assert_only_destinations_changed(
        site.root(),
        &site.path(store),
        page,
        &before[Path::new(page)].bytes,
        &site.read(page),
        lifts,
    )
}

/// The only files a run may add to a site: the manifest, the stat cache, the run lock and the
/// store's objects.
#[track_caller]
pub fn assert_only_imglift_files_added(before: &Tree, after: &Tree, store: &str) {
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        assert!(
            path == Path::new("imglift.lock")
                || path == Path::new(".imglift-cache")
                || path == Path::new(".imglift-run.lock")
                || path.starts_with(store),
            "the run wrote an unexpected file {}",
            path.display()
        );
    }
}

/// Object keys in a local-folder store (`<hex>/<name>`), sorted.
pub fn store_keys(store: &Path) -> BTreeSet<String> {
    crate::support::snapshot(store)
        .keys()
        .map(|p| {
            p.iter()
                .map(|c| c.to_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect()
}

/// The checker itself must be able to fail: a page that differs anywhere but in a lifted
/// destination, or a URL whose object holds other bytes, is caught.
mod self_check {
    use super::*;

    const OLD: &[u8] = b"---\nimage: a.png\n---\n![a](a.png \"t\")\r\nend\n";
    const URL: &str = "https://img.example.com/0123456789abcdef/a.png";

    fn setup(object: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"PNG bytes").unwrap();
        std::fs::create_dir_all(dir.path().join("store/0123456789abcdef")).unwrap();
        std::fs::write(dir.path().join("store/0123456789abcdef/a.png"), object).unwrap();
        dir
    }

    fn walk(dir: &Path, new: &str) -> Vec<Lifted> {
        assert_only_destinations_changed(
            dir,
            &dir.join("store"),
            "p.md",
            OLD,
            new.as_bytes(),
            &[lift(2, "a.png", "a.png"), lift(4, "a.png", "a.png")],
        )
    }

    #[test]
    fn accepts_a_page_where_only_destinations_changed() {
        let dir = setup(b"PNG bytes");
        let new = format!("---\nimage: {URL}\n---\n![a]({URL} \"t\")\r\nend\n");
        assert_eq!(walk(dir.path(), &new).len(), 2);
    }

    #[test]
    #[should_panic(expected = "bytes differ")]
    fn catches_a_changed_byte_outside_destinations() {
        let dir = setup(b"PNG bytes");
        walk(
            dir.path(),
            &format!("---\nimage: {URL}\n---\n![a]({URL} \"t\")\nend\n"),
        );
    }

    #[test]
    #[should_panic(expected = "does not hold the bytes")]
    fn catches_an_object_with_other_bytes() {
        let dir = setup(b"other bytes");
        walk(
            dir.path(),
            &format!("---\nimage: {URL}\n---\n![a]({URL} \"t\")\r\nend\n"),
        );
    }

    #[test]
    #[should_panic(expected = "was not replaced")]
    fn catches_a_destination_left_local() {
        let dir = setup(b"PNG bytes");
        walk(
            dir.path(),
            &format!("---\nimage: a.png\n---\n![a]({URL} \"t\")\r\nend\n"),
        );
    }
}
