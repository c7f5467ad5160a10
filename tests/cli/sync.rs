//! `imglift sync` in place on every fixture site: what is lifted, what is left, what is reported,
//! and that nothing but destination bytes changes; then a second run, PATH narrowing and
//! permissions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::sites::{self, line_start, SiteSpec};
use crate::support::*;

/// The text of 1-based line `n` (without its line ending).
pub fn line_of(text: &[u8], n: usize) -> String {
    let start = line_start(text, n);
    let end = text[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(text.len(), |e| start + e);
    String::from_utf8_lossy(&text[start..end])
        .trim_end_matches('\r')
        .to_string()
}

/// Sync a copy of a fixture in place and check everything `fixtures/README.md` promises for it.
fn sync_fixture_in_place(spec: &SiteSpec) -> (Site, Tree, Run) {
    let site = Site::fixture(spec.name);
    let before = site.snapshot(".");
    let run = site.run(&["sync"]);
    run.expect_code(spec.exit);
    let after = site.snapshot(".");
    let store = site.path(spec.store);

    let mut keys = BTreeSet::new();
    for page in &spec.pages {
        let old = &before[Path::new(page.page)].bytes;
        let new = site.read(page.page);
        for lifted in sites::assert_only_destinations_changed(
            site.root(),
            &store,
            page.page,
            old,
            &new,
            &page.lifts,
        ) {
            keys.insert(lifted.key);
        }
    }
    // The store holds exactly the objects the pages now point at, as many as the README says.
    let stored = sites::store_keys(&store);
    assert_eq!(stored, keys, "store objects vs. keys the pages point at");
    assert_eq!(stored.len(), spec.objects, "distinct objects uploaded");
    assert_eq!(
        spec.sources().len(),
        spec.objects,
        "one object per distinct source image"
    );

    // Every other file is untouched; the only new files are the manifest, the stat cache and
    // the store.
    let pages: BTreeSet<&Path> = spec.pages.iter().map(|p| Path::new(p.page)).collect();
    assert_bytes_kept(
        before.iter().filter(|(p, _)| !pages.contains(p.as_path())),
        &after,
    );
    for page in &spec.untouched {
        assert!(
            before.contains_key(Path::new(page)),
            "{page} is in the fixture"
        );
    }
    sites::assert_only_imglift_files_added(&before, &after, spec.store);

    // Broken references: reported with file:line:col naming the destination, left as written.
    for (page, pos, dest) in &spec.broken {
        let line = run.stderr_line(&format!("{page}:{pos}"));
        assert!(line.contains(dest), "diagnostic names `{dest}`: {line}");
        let (l, c) = pos.split_once(':').unwrap();
        let (l, c): (usize, usize) = (l.parse().unwrap(), c.parse().unwrap());
        let text = site.read(page);
        let at = line_start(&text, l) + c - 1;
        assert!(
            text[at..].starts_with(dest.as_bytes()),
            "{page}:{pos} is not where `{dest}` starts (or it was changed)"
        );
    }
    let reported: BTreeSet<String> = Run::positions(&run.stderr).into_iter().collect();
    let expected: BTreeSet<String> = spec
        .broken
        .iter()
        .map(|(page, pos, _)| format!("{page}:{pos}"))
        .collect();
    assert_eq!(reported, expected, "diagnostics on stderr\n{}", run.dump());
    (site, before, run)
}

#[test]
fn hugo_site_is_lifted_in_place_and_only_destinations_change() {
    let spec = sites::hugo();
    let (site, before, run) = sync_fixture_in_place(&spec);

    let hello = site.read("content/posts/hello.md");
    let old_hello = &before[Path::new("content/posts/hello.md")].bytes;
    // Code, code spans, remote and broken references read exactly as before.
    for n in [19, 22, 24, 51, 53, 55] {
        assert_eq!(
            line_of(&hello, n),
            line_of(old_hello, n),
            "hello.md line {n}"
        );
    }
    assert!(line_of(&hello, 19).contains("![not me](/img/diagram.png)"));
    assert!(line_of(&hello, 51).contains("(https://example.org/x.png)"));
    // The case-insensitive hint for /img/Photo.JPG.
    assert!(
        run.stderr_line("content/posts/hello.md:55:18")
            .contains("static/img/photo.jpg"),
        "{}",
        run.dump()
    );

    // CRLF stays CRLF: as many CRLFs as before and no bare LF.
    let windows = site.read("content/posts/windows.md");
    let old_windows = &before[Path::new("content/posts/windows.md")].bytes;
    let crlf = |t: &[u8]| t.windows(2).filter(|w| w == b"\r\n").count();
    let lf = |t: &[u8]| t.iter().filter(|b| **b == b'\n').count();
    assert_eq!(crlf(&windows), crlf(old_windows));
    assert_eq!(crlf(&windows), lf(&windows), "windows.md has a bare LF");

    // The BOM stays.
    let unicode = site.read("content/posts/unicode.md");
    assert!(unicode.starts_with(b"\xEF\xBB\xBF---\n"), "BOM lost");

    // The reference definition is rewritten once; its two uses are untouched.
    let trip = site.read("content/posts/trip/index.md");
    assert!(line_of(&trip, 15).contains("![Sea Shack logo][l]"));
    assert!(line_of(&trip, 16).contains("![l][]"));
    assert!(line_of(&trip, 34).ends_with("\"Sea Shack\""));
}

#[test]
fn hugo_every_image_file_is_uploaded_none_left_over() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let images: BTreeMap<String, Vec<u8>> = site
        .snapshot(".")
        .into_iter()
        .map(|(p, f)| (p.to_str().unwrap().to_string(), f.bytes))
        .filter(|(p, _)| {
            [".png", ".jpg", ".gif", ".svg", ".webp"]
                .iter()
                .any(|e| p.ends_with(e))
        })
        .collect();
    let sources: BTreeSet<String> = spec.sources().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        images.keys().cloned().collect::<BTreeSet<_>>(),
        sources,
        "the fixture's images are the sources its spec expects"
    );
    assert_eq!(images.len(), 20);

    site.run(&["sync"]).expect_code(0);
    // Every image file is in the store under its manifest key, and the store holds nothing else.
    let store = site.snapshot(spec.store);
    let manifest = manifest_entries(&site.read_string("imglift.lock"));
    assert_eq!(manifest.len(), 20, "one object per image file");
    let stored: BTreeMap<String, Vec<u8>> = manifest
        .iter()
        .map(|e| {
            let object = store
                .get(Path::new(&e[0]))
                .unwrap_or_else(|| panic!("no object {} in the store", e[0]));
            (e[4].clone(), object.bytes.clone())
        })
        .collect();
    assert_eq!(
        store.len(),
        20,
        "the store holds only the manifest's objects"
    );
    assert!(
        stored == images,
        "the store's objects are not the bytes of the fixture's images"
    );
}

#[test]
fn zola_site_is_lifted_in_place_and_resize_image_source_stays_local() {
    let spec = sites::zola();
    let (site, before, _) = sync_fixture_in_place(&spec);
    let post = site.read("content/blog/post/index.md");
    let old = &before[Path::new("content/blog/post/index.md")].bytes;
    assert_eq!(line_of(&post, 27), line_of(old, 27));
    assert!(line_of(&post, 27).contains("path=\"blog/post/harbour.png\""));
    // harbour.png is processed by Zola at build time: never uploaded.
    let harbour = site.read("content/blog/post/harbour.png");
    let store = site.snapshot(spec.store);
    assert!(
        store.values().all(|f| f.bytes != harbour),
        "harbour.png was uploaded"
    );
    let notes = site.read("content/blog/notes.md");
    assert!(line_of(&notes, 15).contains("(https://example.org/tides.png)"));
    assert!(line_of(&notes, 20).contains("(/img/tide-chart.png)"));
    // The title with a non-ASCII en dash is kept.
    assert!(line_of(&notes, 12).ends_with(" \"Tides, 15\u{2013}21 April\")"));
}

#[test]
fn jekyll_site_liquid_destinations_are_lifted_whole() {
    let spec = sites::jekyll();
    let (site, before, _) = sync_fixture_in_place(&spec);
    let first = site.read_string("_posts/2024-01-02-first.md");
    assert!(
        !first.contains("site.baseurl"),
        "a Liquid prefix was left in front of a URL:\n{first}"
    );
    let how = site.read("_posts/2024-02-14-images-in-jekyll.md");
    let old = &before[Path::new("_posts/2024-02-14-images-in-jekyll.md")].bytes;
    for n in [8, 13, 23] {
        assert_eq!(line_of(&how, n), line_of(old, n), "line {n}");
    }
    assert!(line_of(&how, 19).ends_with(" \"The lamp that started it all\")"));
}

#[test]
fn demo_site_is_lifted_in_place() {
    let spec = sites::demo();
    let (site, _, run) = sync_fixture_in_place(&spec);
    let desk = site.read("content/posts/desk-setup.md");
    assert!(line_of(&desk, 20).contains("(https://example.org/keyboard.jpg)"));
    // The human result on stdout names each upload with its URL.
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("upload "))
            .count(),
        spec.objects,
        "{}",
        run.dump()
    );
}

#[test]
fn second_sync_with_nothing_changed_writes_nothing() {
    let site = Site::fixture("demo");
    site.run(&["sync"]).expect_code(0);
    let before = site.snapshot(".");
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains(" 0 uploaded"),
        "summary should say 0 uploaded\n{}",
        run.dump()
    );
    assert_same_tree(&before, &site.snapshot("."), true, "second sync");
    let json = site.run(&["sync", "--format", "json"]);
    json.expect_code(0);
    assert_eq!(json.json()["counts"]["uploaded"], 0);
    assert_same_tree(&before, &site.snapshot("."), true, "third sync (json)");
}

#[test]
fn second_sync_of_hugo_writes_nothing_and_still_reports_the_broken_references() {
    let site = Site::fixture("hugo");
    site.run(&["sync"]).expect_code(0);
    let before = site.snapshot(".");
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(run.stderr.contains(" 0 uploaded"), "{}", run.dump());
    run.stderr_line("content/posts/hello.md:53:22");
    run.stderr_line("content/posts/hello.md:55:18");
    assert_same_tree(&before, &site.snapshot("."), true, "second sync");
}

#[test]
fn sync_with_a_path_rewrites_only_that_page() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    site.run(&["sync", "content/posts/hello-world.md"])
        .expect_code(0);
    let page = spec.page("content/posts/hello-world.md");
    let lifted = sites::assert_lifted_since(&site, spec.store, &before, page.page, &page.lifts);
    assert_eq!(
        sites::store_keys(&site.path(spec.store)),
        lifted.into_iter().map(|l| l.key).collect()
    );
    for other in [
        "content/posts/desk-setup.md",
        "content/posts/sourdough/index.md",
    ] {
        assert_same_bytes(&before[Path::new(other)].bytes, &site.read(other), other);
    }
}

#[cfg(unix)]
#[test]
fn rewritten_page_keeps_its_permissions() {
    let site = Site::fixture("demo");
    let page = "content/posts/hello-world.md";
    set_mode(&site.path(page), 0o640);
    let old = site.read(page);
    site.run(&["sync"]).expect_code(0);
    assert_ne!(site.read(page), old, "the page was rewritten");
    assert_eq!(site.snapshot(".")[Path::new(page)].mode, 0o640);
}

/// The `src` attributes of every `<img>` in the HTML, in order.
fn img_srcs(html: &str) -> Vec<String> {
    html.match_indices("<img ")
        .filter_map(|(at, _)| {
            let tag = &html[at..at + html[at..].find('>')?];
            let start = tag.find(" src=\"")? + 6;
            let end = tag[start..].find('"')? + start;
            Some(tag[start..end].to_string())
        })
        .collect()
}

fn render(page: &[u8]) -> String {
    let mut options = markdown::Options::gfm();
    options.compile.allow_dangerous_html = true;
    markdown::to_html_with_options(std::str::from_utf8(page).unwrap(), &options).unwrap()
}

#[test]
fn rendered_pages_show_the_same_images_now_at_public_urls() {
    // Jekyll is left out: its Liquid destinations are images only after Liquid runs.
    for spec in [sites::hugo(), sites::zola(), sites::demo()] {
        let site = Site::fixture(spec.name);
        let before = site.snapshot(".");
        site.run(&["sync"]).expect_code(spec.exit);
        for page in &spec.pages {
            let old = &before[Path::new(page.page)].bytes;
            let new = site.read(page.page);
            let urls: Vec<String> = sites::assert_only_destinations_changed(
                site.root(),
                &site.path(spec.store),
                page.page,
                old,
                &new,
                &page.lifts,
            )
            .into_iter()
            .map(|l| l.url)
            .collect();
            let (a, b) = (img_srcs(&render(old)), img_srcs(&render(&new)));
            assert_eq!(a.len(), b.len(), "{}: number of images rendered", page.page);
            let mut changed = 0;
            for (old_src, new_src) in a.iter().zip(&b) {
                if old_src != new_src {
                    assert!(
                        urls.contains(new_src),
                        "{}: image `{old_src}` now renders as `{new_src}`, not a lifted URL",
                        page.page
                    );
                    changed += 1;
                }
            }
            let broken: Vec<&str> = spec
                .broken
                .iter()
                .filter(|b| b.0 == page.page)
                .map(|b| b.2)
                .collect();
            let lifted_images = a
                .iter()
                .filter(|s| !s.starts_with("http") && !broken.contains(&s.as_str()))
                .count();
            assert_eq!(
                changed, lifted_images,
                "{}: every local image renders with its public URL\nold: {a:?}\nnew: {b:?}",
                page.page
            );
        }
    }
}

#[test]
fn output_does_not_depend_on_concurrency() {
    let one = Site::fixture("hugo");
    let many = Site::fixture("hugo");
    let a = one.run(&["-j", "1", "sync"]);
    let b = many.run(&["-j", "8", "sync"]);
    a.expect_code(0);
    b.expect_code(0);
    assert_eq!(a.stdout, b.stdout, "stdout differs between -j 1 and -j 8");
    // The upload dates aside: the two runs may fall on either side of midnight.
    assert_eq!(
        manifest_without_dates(&one.read_string("imglift.lock")),
        manifest_without_dates(&many.read_string("imglift.lock"))
    );
    for page in &sites::hugo().pages {
        assert_eq!(one.read(page.page), many.read(page.page), "{}", page.page);
    }
}

#[test]
fn svg_sprite_fragment_is_kept_on_the_public_url() {
    let site = Site::empty("");
    site.write(
        "content/icons.svg",
        fixture_bytes("hugo/static/img/icon.svg"),
    );
    site.write(
        "content/p.md",
        "![home](icons.svg#home) and <img src=\"icons.svg#menu\">\n",
    );
    site.run(&["sync"]).expect_code(0);
    let page = site.read_string("content/p.md");
    let key = sites::store_keys(&site.path("store"))
        .into_iter()
        .next()
        .unwrap();
    assert_eq!(
        page,
        format!("![home]({PUBLIC_URL}/{key}#home) and <img src=\"{PUBLIC_URL}/{key}#menu\">\n")
    );
    assert!(key.ends_with("/icons.svg"), "{key}");
}
