//! A killed `sync`: at moments spread over many runs of a site of a few hundred pages (the
//! uploads, the manifest, the page writes), and exactly between the flush of a batch of pages and
//! their renames, or in the middle of the renames. After each kill every page holds its old or
//! its new bytes, whole; every object the manifest or a page names is in the store; the manifest
//! loads; and the next run converges to exactly what an uninterrupted run gives, leaving no
//! temporary file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const PNG: &str = "hugo/static/img/diagram.png";

/// A site of `pages` page bundles, each with an image of its own bytes, and one shared image
/// in `static/`. Two sites made with the same `pages` hold the same bytes.
fn many_pages_site(pages: usize) -> Site {
    let site = Site::empty("");
    let png = fixture_bytes(PNG);
    site.write("static/img/shared.png", &png);
    for i in 0..pages {
        // Distinct bytes after the image end: distinct objects, still PNGs by their bytes.
        let mut bytes = png.clone();
        bytes.extend_from_slice(format!("image {i}").as_bytes());
        site.write(format!("content/p{i:03}/a.png"), bytes);
        site.write(
            format!("content/p{i:03}/index.md"),
            format!("# Page {i}\n\n![a](a.png)\n\nSome text.\n\n![shared](/img/shared.png)\n"),
        );
    }
    site
}

/// What a user looks at after a run: every page, every stored object, the manifest entries
/// without their upload date.
#[derive(Debug, PartialEq)]
struct State {
    pages: BTreeMap<PathBuf, Vec<u8>>,
    store: BTreeMap<PathBuf, Vec<u8>>,
    manifest: Vec<Vec<String>>,
}

fn state(site: &Site) -> State {
    let bytes = |tree: Tree| -> BTreeMap<PathBuf, Vec<u8>> {
        tree.into_iter().map(|(path, f)| (path, f.bytes)).collect()
    };
    let pages = bytes(site.snapshot("content"))
        .into_iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "md"))
        .collect();
    let manifest = site
        .manifest_entries()
        .into_iter()
        .map(|mut entry| {
            assert_eq!(entry.len(), 6, "a manifest line of six fields: {entry:?}");
            entry.truncate(5);
            entry
        })
        .collect();
    // A killed run may leave temporary files in the store folder too: they are not objects.
    let store = bytes(site.snapshot("store"))
        .into_iter()
        .filter(|(path, _)| !is_temp(path))
        .collect();
    State {
        pages,
        store,
        manifest,
    }
}

fn is_temp(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    name.starts_with(".imglift-") && name.ends_with(".tmp")
}

/// imglift's temporary files (`.imglift-*.tmp`) anywhere in the site's temporary folder.
fn temps(site: &Site) -> Vec<PathBuf> {
    snapshot(&site.outside(""))
        .into_keys()
        .filter(|path| is_temp(path))
        .collect()
}

/// After a kill: each page is its old or its new bytes; each object the manifest records and
/// each object a rewritten page points at is in the store with its final bytes; `check` can
/// read the manifest. Returns how many pages were already rewritten.
fn assert_whole(site: &Site, old: &State, new: &State, what: &str) -> usize {
    let now = state(site);
    assert_eq!(
        now.pages.keys().collect::<Vec<_>>(),
        old.pages.keys().collect::<Vec<_>>(),
        "{what}: the pages"
    );
    let mut rewritten = 0;
    for (path, bytes) in &now.pages {
        if bytes == &new.pages[path] {
            rewritten += 1;
            let text = String::from_utf8_lossy(bytes);
            for key in lifted_keys(&text) {
                assert!(
                    now.store.contains_key(Path::new(&key)),
                    "{what}: {} points at {key}, which is not in the store",
                    path.display()
                );
            }
        } else {
            assert_eq!(
                bytes,
                &old.pages[path],
                "{what}: {} is torn",
                path.display()
            );
        }
    }
    for (key, bytes) in &now.store {
        assert_eq!(Some(bytes), new.store.get(key), "{what}: object {key:?}");
    }
    for entry in &now.manifest {
        assert!(
            now.store.contains_key(Path::new(&entry[0])),
            "{what}: the manifest records {}, which is not in the store",
            entry[0]
        );
    }
    let check = site.run(&["check"]);
    assert!(
        matches!(check.code, Some(0 | 1)),
        "{what}: check after the kill\n{}",
        check.dump()
    );
    rewritten
}

/// The next run finishes the job: exactly the uninterrupted result, no temporary file left.
fn assert_converges(site: &Site, new: &State, what: &str) {
    let run = site.run(&["sync"]);
    assert_eq!(run.code, Some(0), "{what}: the next run\n{}", run.dump());
    assert!(
        state(site) == *new,
        "{what}: the next run differs from an uninterrupted one"
    );
    assert_eq!(
        temps(site),
        Vec::<PathBuf>::new(),
        "{what}: temporary files left"
    );
}

/// A fixed sequence in [0, 1): the kill moments are spread the same way on every run.
fn fractions(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            // splitmix64
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

#[test]
fn a_run_killed_at_any_moment_leaves_whole_pages_and_the_next_run_converges() {
    const PAGES: usize = 300;
    const RUNS: usize = 24;
    let old = state(&many_pages_site(PAGES));
    // The uninterrupted run, on a site of the same bytes: the new bytes, and how long a run takes.
    let reference = many_pages_site(PAGES);
    let started = Instant::now();
    let run = reference.run(&["sync"]);
    let length = started.elapsed();
    assert_eq!(run.code, Some(0), "{}", run.dump());
    let new = state(&reference);
    assert!(new
        .pages
        .values()
        .all(|p| !p.windows(7).any(|w| w == b"(a.png)")));
    assert_eq!(new.store.len(), PAGES + 1);

    let mut partly = 0;
    for (i, fraction) in fractions(12, RUNS).into_iter().enumerate() {
        // One kill in each slice of the run's length, at a fixed place inside the slice.
        let delay = length.mul_f64((i as f64 + fraction) / RUNS as f64);
        let what = format!("kill {i} after {delay:?} of {length:?}");
        let site = many_pages_site(PAGES);
        let mut child = site
            .command(&["sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        let rewritten = assert_whole(&site, &old, &new, &what);
        if rewritten > 0 && rewritten < PAGES {
            partly += 1;
        }
        assert_converges(&site, &new, &what);
    }
    // How many kills landed among the page writes depends on the machine's load: shown, not
    // asserted (the stop-point tests below land there every time).
    eprintln!("{partly} of {RUNS} kills left some pages rewritten and some not");
}

/// Run `sync` until it stops itself at `point` (debug builds: `IMGLIFT_TEST_STOP_AT`), then
/// kill it there.
#[cfg(all(target_os = "linux", debug_assertions))]
fn kill_at(site: &Site, point: &str) {
    let mut child = site
        .command(&["sync"])
        .env("IMGLIFT_TEST_STOP_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stat = format!("/proc/{}/stat", child.id());
    let stopped = || {
        let text = std::fs::read_to_string(&stat).unwrap_or_default();
        // `pid (name) STATE …`: the state follows the last parenthesis.
        let state = text.rsplit_once(')').map(|(_, rest)| rest.trim_start());
        state.is_some_and(|s| s.starts_with('T'))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !stopped() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) without stopping at {point}");
        }
        assert!(
            Instant::now() < deadline,
            "the run never stopped at {point}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[cfg(all(target_os = "linux", debug_assertions))]
#[test]
fn a_run_killed_between_the_flush_and_the_renames_leaves_every_page_old() {
    const PAGES: usize = 40;
    let old = state(&many_pages_site(PAGES));
    let reference = many_pages_site(PAGES);
    reference.run(&["sync"]).expect_code(0);
    let new = state(&reference);

    let site = many_pages_site(PAGES);
    kill_at(&site, "before-renames");
    let rewritten = assert_whole(&site, &old, &new, "before the renames");
    assert_eq!(rewritten, 0, "a page was renamed before the stop");
    // Every page's new text is on disk beside it, whole, waiting for a rename that never came.
    let left = temps(&site);
    assert_eq!(left.len(), PAGES, "{left:?}");
    for temp in &left {
        let page = temp.with_file_name("index.md");
        let page = page.strip_prefix("site/content").unwrap();
        assert_eq!(
            read(&site.outside(temp)),
            new.pages[page],
            "{}",
            temp.display()
        );
    }
    assert_converges(&site, &new, "after a kill before the renames");
}

#[cfg(all(target_os = "linux", debug_assertions))]
#[test]
fn a_run_killed_in_the_middle_of_the_renames_leaves_pages_old_or_new() {
    const PAGES: usize = 40;
    let old = state(&many_pages_site(PAGES));
    let reference = many_pages_site(PAGES);
    reference.run(&["sync"]).expect_code(0);
    let new = state(&reference);

    let site = many_pages_site(PAGES);
    kill_at(&site, "mid-renames");
    // The stop comes after half of the batch (all 40 pages) was renamed.
    let rewritten = assert_whole(&site, &old, &new, "in the middle of the renames");
    assert_eq!(rewritten, PAGES / 2);
    assert_eq!(temps(&site).len(), PAGES - PAGES / 2);
    assert_converges(&site, &new, "after a kill in the middle of the renames");
}
