//! `imglift sync --out DIR`: the source pages stay as they are, DIR mirrors every file of the
//! content roots (Markdown rewritten, everything else linked or copied byte for byte) except the
//! images every page now takes from the store, a second run writes nothing new, and nothing
//! written into DIR ever reaches a source.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::sites::{self, SiteSpec};
use crate::support::*;

/// Check an out tree against the site it was made from: every file of the content roots is
/// there except the images the spec's pages lift (unless `keep_lifted`), lifted pages differ
/// from their source only in destinations, everything else has the bytes of its source, and
/// nothing else is in it.
fn assert_out_tree(
    site: &Site,
    spec: &SiteSpec,
    out: &Path,
    content_roots: &[&str],
    keep_lifted: bool,
) {
    let source = site.snapshot(".");
    let mirrored = snapshot(out);
    let store = site.path(spec.store);
    let lifted = spec.sources();
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
        let rel = path.to_str().unwrap();
        if !keep_lifted && lifted.contains(rel) {
            assert!(
                !mirrored.contains_key(path),
                "{rel} is lifted by every page that shows it, yet copied into the out tree"
            );
            continue;
        }
        expected.insert(path.clone());
        let copy = mirrored
            .get(path)
            .unwrap_or_else(|| panic!("{} is missing from the out tree", path.display()));
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
    assert_out_tree(&site, &spec, &out, &["content"], false);
    // The page bundle's images are all taken from the store now: none is copied.
    assert!(!out.join("content/posts/trip/beach.png").exists());
    assert!(out.join("content/posts/trip/index.md").is_file());
}

#[test]
fn out_keep_lifted_mirrors_the_lifted_images_too() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let config = site.read_string("imglift.yaml");
    site.write("imglift.yaml", format!("{config}out_keep_lifted: true\n"));
    let out = site.outside("public-src");
    site.run(&["sync", "--out", out.to_str().unwrap()])
        .expect_code(spec.exit);
    assert_out_tree(&site, &spec, &out, &["content"], true);
    assert_eq!(
        read(&out.join("content/posts/trip/beach.png")),
        site.read("content/posts/trip/beach.png")
    );
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
    assert_out_tree(&with_out, &spec, &out, &["content"], false);
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
    // The old object is still there (immutable keys); the page takes the image from the store,
    // so the out tree has no copy of it.
    assert!(site.path(spec.store).join(crumb(&old_keys)).is_file());
    assert!(!out.join("content/posts/sourdough/crumb.png").exists());
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
        assert!(
            run.stderr.starts_with("imglift: ")
                && run
                    .stderr
                    .ends_with(": --out must not be the site root or contain a content folder\n"),
            "{}",
            run.dump()
        );
    }
    assert_same_tree(&before, &site.snapshot("."), true, "refused --out");
}

#[test]
fn out_prunes_what_imglift_put_there_and_the_sources_lost_but_nothing_else() {
    let site = Site::fixture("hugo");
    // Lifted images are left out of the out tree unless asked for: ask, so that they are there.
    let config = site.read_string("imglift.yaml");
    site.write("imglift.yaml", format!("{config}out_keep_lifted: true\n"));
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

/// Whether the filesystem of `dir` makes reflinks (copy-on-write clones), which share no inode:
/// there, a file the out tree takes from a source is a clone rather than a hard link.
#[cfg(unix)]
fn makes_reflinks(dir: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        let a = dir.join(".probe-a");
        write(&a, b"probe");
        let b = std::fs::File::create(dir.join(".probe-b")).unwrap();
        let cloned = rustix::fs::ioctl_ficlone(&b, std::fs::File::open(&a).unwrap()).is_ok();
        std::fs::remove_file(&a).unwrap();
        std::fs::remove_file(dir.join(".probe-b")).unwrap();
        cloned
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        false
    }
}

#[cfg(unix)]
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).unwrap().ino()
}

#[cfg(unix)]
#[test]
fn a_linked_page_that_gets_an_image_is_replaced_in_the_out_tree_and_the_source_is_untouched() {
    let site = Site::empty("");
    site.write("content/a.md", "# A\n\nNo picture yet.\n");
    site.write("content/notes.txt", "notes\n");
    site.run(&["sync", "--out", "build"]).expect_code(0);
    // The page without edits and the other file are the sources themselves (or their clones).
    let linked = !makes_reflinks(site.root());
    for rel in ["content/a.md", "content/notes.txt"] {
        assert_eq!(site.read(Path::new("build").join(rel)), site.read(rel));
        if linked {
            assert_eq!(
                inode(&site.path(Path::new("build").join(rel))),
                inode(&site.path(rel)),
                "build/{rel} is a copy, not a link"
            );
        }
    }

    // The author adds a picture to the page (the editor writes the file in place).
    let page = "# A\n\nNo picture yet.\n\n![x](x.png)\n";
    site.write(
        "content/x.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    std::fs::write(site.path("content/a.md"), page).unwrap();
    site.run(&["sync", "--out", "build"]).expect_code(0);
    let built = site.read_string("build/content/a.md");
    assert!(built.contains(&format!("![x]({PUBLIC_URL}/")), "{built}");
    assert_eq!(
        site.read_string("content/a.md"),
        page,
        "the rewrite reached the source page through the link"
    );
    assert_ne!(
        inode(&site.path("build/content/a.md")),
        inode(&site.path("content/a.md"))
    );
    // The image is lifted: the out tree has no copy of it.
    assert!(!site.exists("build/content/x.png"));
}

#[cfg(unix)]
#[test]
fn a_hard_link_in_the_out_tree_to_a_file_outside_is_replaced_not_written_through() {
    let site = Site::empty("");
    site.write("content/a.md", "![x](x.png)\n");
    site.write(
        "content/x.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site.write("content/notes.txt", "notes for the site\n");
    site.write("content/plain.md", "# Plain\n");
    // Files elsewhere, hard-linked into the out tree where imglift will put its files.
    let victims = [
        ("build/content/a.md", "page kept elsewhere\n"),
        ("build/content/notes.txt", "notes kept elsewhere\n"),
        ("build/content/plain.md", "another page kept elsewhere\n"),
    ];
    std::fs::create_dir_all(site.path("build/content")).unwrap();
    for (i, (rel, text)) in victims.iter().enumerate() {
        let victim = site.write_outside(format!("victim-{i}"), text);
        std::fs::hard_link(&victim, site.path(rel)).unwrap();
    }
    site.run(&["sync", "--out", "build"]).expect_code(0);
    for (i, (_, text)) in victims.iter().enumerate() {
        assert_eq!(read_string(&site.outside(format!("victim-{i}"))), *text);
    }
    assert!(site
        .read_string("build/content/a.md")
        .contains(&format!("![x]({PUBLIC_URL}/")));
    assert_eq!(
        site.read_string("build/content/notes.txt"),
        "notes for the site\n"
    );
    assert_eq!(site.read_string("build/content/plain.md"), "# Plain\n");
    assert_eq!(site.read_string("content/a.md"), "![x](x.png)\n");
}

#[test]
fn an_image_stays_in_the_out_tree_unless_every_page_takes_it_from_the_store() {
    let png = |name: &str| fixture_bytes(&format!("demo/static/images/{name}"));
    let site = Site::empty("exclude: [\"content/drafts/**\"]\n");
    site.write("content/lifted.png", png("avatar.png"));
    site.write("content/unused.jpg", png("hero.jpg"));
    site.write(
        "content/in-layout.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write(
        "content/in-draft.png",
        fixture_bytes("hugo/content/posts/trip/beach.png"),
    );
    site.write("content/fake.png", "not an image at all\n");
    site.write(
        "content/p.md",
        "![a](lifted.png)\n![b](in-layout.png)\n![c](in-draft.png)\n![d](fake.png)\n",
    );
    // Files the generator reads that name an image: a partial and an excluded draft.
    site.write("content/_partial.html", "<img src=\"in-layout.png\">\n");
    site.write("content/drafts/d.md", "![c](../in-draft.png)\n");
    let run = site.run(&["sync", "--out", "build"]);
    // fake.png is refused (not an image by its bytes): an error, and its reference stays local.
    run.expect_code(1);
    assert!(
        run.stderr_line("content/p.md:4:6").contains("fake.png"),
        "{}",
        run.dump()
    );
    let page = site.read_string("build/content/p.md");
    assert_eq!(page.matches(PUBLIC_URL).count(), 3, "{page}");
    assert!(page.contains("](fake.png)"), "{page}");
    assert!(!site.exists("build/content/lifted.png"), "{}", run.dump());
    for kept in ["unused.jpg", "in-layout.png", "in-draft.png", "fake.png"] {
        assert_eq!(
            site.read(format!("build/content/{kept}")),
            site.read(format!("content/{kept}")),
            "{kept} must stay in the out tree"
        );
    }
}

#[test]
fn an_earlier_copy_of_a_lifted_image_is_pruned_and_nothing_else() {
    let site = Site::empty("out_keep_lifted: true\n");
    site.write(
        "content/a.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site.write("content/p.md", "![a](a.png)\n");
    site.run(&["sync", "--out", "build"]).expect_code(0);
    assert_eq!(site.read("build/content/a.png"), site.read("content/a.png"));
    // An image of the user's own in the out tree, that imglift did not put there.
    site.write(
        "build/content/mine.png",
        fixture_bytes("demo/static/images/hero.jpg"),
    );

    site.write(
        "imglift.yaml",
        format!("public_url: {PUBLIC_URL}\ntarget: {{dir: store}}\n"),
    );
    let run = site.run(&["sync", "--out", "build"]);
    run.expect_code(0);
    assert!(!site.exists("build/content/a.png"), "{}", run.dump());
    assert!(
        run.stdout
            .contains("removed content/a.png from the out folder"),
        "{}",
        run.dump()
    );
    assert!(site.exists("build/content/mine.png"));
    assert!(site.exists("content/a.png"), "the source image was removed");
    assert!(site.read_string("build/content/p.md").contains(PUBLIC_URL));
}
