//! `imglift sync --out DIR`: the source pages stay as they are, DIR mirrors every file of the
//! content roots (Markdown rewritten, everything else copied byte for byte), and a second run
//! writes nothing new.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::sites::{self, SiteSpec};
use crate::support::*;

/// Check an out tree against the site it was made from: every file of the content roots is
/// there, lifted pages differ from their source only in destinations, everything else is a
/// byte-for-byte copy, and nothing else is in it.
fn assert_out_tree(site: &Site, spec: &SiteSpec, out: &Path, content_roots: &[&str]) {
    let source = site.snapshot(".");
    let mirrored = snapshot(out);
    let store = site.path(spec.store);
    let mut expected = BTreeSet::new();
    for (path, state) in &source {
        let in_content = content_roots
            .iter()
            .any(|c| *c == "." || path.starts_with(c));
        let own = path.starts_with(spec.store)
            || path == Path::new(".imglift-cache")
            || path
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if !in_content || own {
            continue;
        }
        expected.insert(path.clone());
        let copy = mirrored
            .get(path)
            .unwrap_or_else(|| panic!("{} is missing from the out tree", path.display()));
        let rel = path.to_str().unwrap();
        match spec.pages.iter().find(|p| p.page == rel) {
            Some(page) => {
                sites::assert_only_destinations_changed(
                    site.root(),
                    &store,
                    page.page,
                    &state.bytes,
                    &copy.bytes,
                    &page.lifts,
                );
            }
            None => assert_same_bytes(&state.bytes, &copy.bytes, &format!("copy of {rel}")),
        }
    }
    // Besides the mirror, only imglift's record of what it wrote (for pruning).
    let extra: Vec<&PathBuf> = mirrored
        .keys()
        .filter(|p| !expected.contains(*p) && p.as_path() != Path::new(".imglift-out"))
        .collect();
    assert!(
        extra.is_empty(),
        "unexpected files in the out tree: {extra:?}"
    );
}

#[test]
fn out_dir_mirrors_the_content_root_and_leaves_the_pages_untouched() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let before = site.snapshot(".");
    let out = site.outside("public-src");
    let run = site.run(&["sync", "--out", out.to_str().unwrap()]);
    run.expect_code(spec.exit);
    // Broken references are reported with their position in the source page.
    run.stderr_line("content/posts/hello.md:53:22");
    run.stderr_line("content/posts/hello.md:55:18");

    // The site itself: only the manifest, the cache and the store are new; no page changed.
    let after = site.snapshot(".");
    assert_bytes_kept(&before, &after);
    sites::assert_only_imglift_files_added(&before, &after, spec.store);
    assert_out_tree(&site, &spec, &out, &["content"]);
    // Images of page bundles are copied next to the rewritten page, as the generator expects.
    assert!(out.join("content/posts/trip/beach.png").is_file());
}

#[test]
fn out_dir_pages_are_the_same_as_an_in_place_sync() {
    let spec = sites::demo();
    let with_out = Site::fixture("demo");
    let out = with_out.outside("out");
    with_out
        .run(&["sync", "--out", out.to_str().unwrap()])
        .expect_code(0);
    let in_place = Site::fixture("demo");
    in_place.run(&["sync"]).expect_code(0);
    for page in &spec.pages {
        assert_same_bytes(
            &in_place.read(page.page),
            &std::fs::read(out.join(page.page)).unwrap(),
            page.page,
        );
    }
    assert_out_tree(&with_out, &spec, &out, &["content"]);
}

#[test]
fn second_run_with_out_writes_nothing_new() {
    for spec in [sites::demo(), sites::hugo(), sites::zola()] {
        let site = Site::fixture(spec.name);
        // A relative --out, resolved against the current folder.
        site.run(&["sync", "--out", "../out"])
            .expect_code(spec.exit);
        let site_before = site.snapshot(".");
        let out_before = snapshot(&site.outside("out"));
        assert!(!out_before.is_empty());
        let run = site.run(&["sync", "--out", "../out"]);
        run.expect_code(spec.exit);
        assert!(run.stderr.contains(" 0 uploaded"), "{}", run.dump());
        assert_same_tree(
            &site_before,
            &site.snapshot("."),
            true,
            &format!("{}: site after the second --out run", spec.name),
        );
        assert_same_tree(
            &out_before,
            &snapshot(&site.outside("out")),
            true,
            &format!("{}: out tree after the second --out run", spec.name),
        );
    }
}

#[test]
fn jekyll_out_inside_the_content_root_is_not_mirrored_into_itself() {
    // Jekyll's content root is the site root, so `--out _site` lies inside it.
    let spec = sites::jekyll();
    let site = Site::fixture("jekyll");
    site.run(&["sync", "--out", "_site"]).expect_code(0);
    site.run(&["sync", "--out", "_site"]).expect_code(0);
    assert!(
        !site.exists("_site/_site"),
        "the out tree was mirrored into itself"
    );
    for page in &spec.pages {
        sites::assert_only_destinations_changed(
            site.root(),
            &site.path(spec.store),
            page.page,
            &fixture_bytes(&format!("jekyll/{}", page.page)),
            &site.read(Path::new("_site").join(page.page)),
            &page.lifts,
        );
        // The source pages are untouched.
        assert_eq!(
            site.read(page.page),
            fixture_bytes(&format!("jekyll/{}", page.page))
        );
    }
}

#[test]
fn jekyll_second_run_with_out_writes_nothing_new() {
    // The content root is the site root, which also holds imglift.lock: the first run writes
    // the manifest, so the out tree must already be complete after it.
    let site = Site::fixture("jekyll");
    let out = site.outside("out");
    let out_arg = out.to_str().unwrap();
    site.run(&["sync", "--out", out_arg]).expect_code(0);
    let first = snapshot(&out);
    site.run(&["sync", "--out", out_arg]).expect_code(0);
    assert_same_tree(
        &first,
        &snapshot(&out),
        true,
        "out tree after the second --out run",
    );
}

#[test]
fn changed_image_gets_a_new_key_in_the_out_tree() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let out = site.outside("out");
    let out_arg = out.to_str().unwrap();
    let page = spec.page("content/posts/sourdough/index.md");
    // The page's copy in the out tree differs from the page only in its lifts.
    let lifted_in_out = || {
        sites::assert_only_destinations_changed(
            site.root(),
            &site.path(spec.store),
            page.page,
            &site.read(page.page),
            &std::fs::read(out.join(page.page)).unwrap(),
            &page.lifts,
        )
    };
    site.run(&["sync", "--out", out_arg]).expect_code(0);
    let old_keys = lifted_in_out();

    // Same name, new bytes.
    let new_bytes = fixture_bytes("hugo/content/posts/trip/beach.png");
    assert_ne!(new_bytes, site.read("content/posts/sourdough/crumb.png"));
    site.write("content/posts/sourdough/crumb.png", &new_bytes);
    let run = site.run(&["sync", "--out", out_arg]);
    run.expect_code(0);
    assert!(run.stderr.contains(" 1 uploaded"), "{}", run.dump());

    // The walk checks that the new key's object holds the new bytes.
    let new_keys = lifted_in_out();
    let crumb = |keys: &[sites::Lifted]| keys[2].key.clone();
    assert_ne!(
        crumb(&old_keys),
        crumb(&new_keys),
        "crumb.png kept its old key"
    );
    assert_eq!(
        old_keys[..2],
        new_keys[..2],
        "the unchanged images kept their keys"
    );
    // The old object is still there (immutable keys); the out copy has the new bytes.
    assert!(site.path(spec.store).join(crumb(&old_keys)).is_file());
    assert_eq!(
        std::fs::read(out.join("content/posts/sourdough/crumb.png")).unwrap(),
        new_bytes
    );
    // The source page still has its local reference.
    assert!(site
        .read_string(page.page)
        .contains("![Crumb shot](crumb.png \"Open crumb, finally\")"));
}

#[test]
fn out_dir_may_not_be_the_site_root_or_a_content_folder() {
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    for out in [".", "content", "content/.."] {
        let run = site.run(&["sync", "--out", out]);
        run.expect_code(2);
        assert!(run.stderr.contains("--out"), "{}", run.dump());
    }
    assert_same_tree(&before, &site.snapshot("."), true, "refused --out");
}

#[test]
fn out_prunes_what_imglift_put_there_and_the_sources_lost_but_nothing_else() {
    let site = Site::fixture("hugo");
    site.run(&["sync", "--out", "build"]).expect_code(0);
    let old = "build/content/posts/trip/sunset.png";
    assert!(site.exists(old));
    // The author renames an image (the page now points at nothing), deletes a page, and keeps
    // a file of their own in the out folder.
    std::fs::rename(
        site.path("content/posts/trip/sunset.png"),
        site.path("content/posts/trip/sunset-2.png"),
    )
    .unwrap();
    std::fs::remove_file(site.path("content/posts/unicode.md")).unwrap();
    site.write("build/content/mine.txt", "not imglift's");

    // A narrowed run removes nothing.
    site.run(&["sync", "--out", "build", "content/posts/hello.md"])
        .expect_code(0);
    assert!(site.exists(old) && site.exists("build/content/posts/unicode.md"));

    let run = site.run(&["sync", "--out", "build"]);
    run.expect_code(0);
    assert!(
        !site.exists(old),
        "the renamed image is still in the out tree\n{}",
        run.dump()
    );
    assert!(!site.exists("build/content/posts/unicode.md"));
    assert!(site.exists("build/content/posts/trip/sunset-2.png"));
    assert_eq!(site.read_string("build/content/mine.txt"), "not imglift's");
    // The page's reference is now reported as broken instead of being hidden by the old copy.
    assert!(
        run.stderr.contains("warning: image `sunset.png` not found"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains("removed content/posts/trip/sunset.png from the out folder"),
        "{}",
        run.dump()
    );
}
