//! Failed uploads (the local-folder target cannot write): exit 3, the failed image's references
//! stay local, everything else is done, and a later run finishes the job.

use std::path::Path;

use crate::sites::{self, Lift};
use crate::support::*;

/// The key the dry run plans for `source` (from its `would upload SOURCE (N bytes) as KEY`).
fn planned_key(site: &Site, source: &str) -> String {
    let run = site.run(&["sync", "--dry-run"]);
    run.stdout
        .lines()
        .find(|l| l.starts_with(&format!("would upload {source} (")))
        .and_then(|l| l.rsplit(" as ").next())
        .unwrap_or_else(|| panic!("no plan for {source}\n{}", run.dump()))
        .to_string()
}

#[test]
fn failed_upload_leaves_its_references_local_and_exits_3() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let key = planned_key(&site, "static/images/hero.jpg");
    let sources = [
        "content/posts/sourdough/crumb.png",
        "content/posts/sourdough/loaf.jpg",
        "content/posts/sourdough/starter.gif",
        "static/images/avatar.png",
        "static/images/cable-diagram.svg",
        "static/images/desk.webp",
    ];
    let urls: Vec<String> = sources
        .iter()
        .map(|s| format!("{PUBLIC_URL}/{}", planned_key(&site, s)))
        .collect();
    // A file where the key's folder must go: this one object cannot be written.
    let blocker = key.split('/').next().unwrap();
    site.write(Path::new(spec.store).join(blocker), "in the way");
    let before = site.snapshot(".");

    let run = site.run(&["sync"]);
    run.expect_code(3);
    // The error names the store, the key, the reason (the OS's words) and what it means.
    let line = run.stderr_line("static/images/hero.jpg:1:1");
    assert!(
        line.starts_with("static/images/hero.jpg:1:1: error: upload to folder ")
            && line.contains(&format!("public-images as `{key}` failed: "))
            && line.ends_with("; its references stay local"),
        "{line}"
    );
    assert!(
        run.stderr.lines().last().unwrap().starts_with(
            "imglift sync: 3 pages, 7 references rewritten in 3 pages; 7 images: 6 uploaded \
             (1.6 KiB), 0 already stored, 1 failed; 1 error ("
        ),
        "{}",
        run.dump()
    );
    // stdout: one line per object (the failed one says so) and per rewritten page.
    let mut expected: Vec<String> = sources
        .iter()
        .zip(&urls)
        .map(|(s, u)| format!("upload {s} -> {u}"))
        .collect();
    expected.push(format!(
        "failed static/images/hero.jpg -> {PUBLIC_URL}/{key}"
    ));
    expected.extend([
        "rewrote content/posts/desk-setup.md (3 references)".to_string(),
        "rewrote content/posts/hello-world.md (1 reference)".to_string(),
        "rewrote content/posts/sourdough/index.md (3 references)".to_string(),
    ]);
    assert_eq!(run.stdout.lines().collect::<Vec<_>>(), expected);

    // hello-world.md: the hero cover stays local, the avatar is lifted.
    let page = spec.page("content/posts/hello-world.md");
    let lifts: Vec<Lift> = page
        .lifts
        .iter()
        .filter(|l| l.source != "static/images/hero.jpg")
        .cloned()
        .collect();
    sites::assert_lifted_since(&site, spec.store, &before, page.page, &lifts);
    // The other pages are done.
    for other in [
        "content/posts/desk-setup.md",
        "content/posts/sourdough/index.md",
    ] {
        let p = spec.page(other);
        sites::assert_lifted_since(&site, spec.store, &before, p.page, &p.lifts);
    }
    // The manifest lists only confirmed objects.
    let manifest = site.read_string("imglift.lock");
    assert!(!manifest.contains("hero.jpg"), "{manifest}");
    assert_eq!(
        manifest.lines().filter(|l| !l.starts_with('#')).count(),
        spec.objects - 1
    );

    // Once the store can take it, the next run lifts the rest.
    std::fs::remove_file(site.path(spec.store).join(blocker)).unwrap();
    let again = site.run(&["sync"]);
    again.expect_code(0);
    assert!(
        again.stderr.starts_with(
            "imglift sync: 3 pages, 1 reference rewritten in 1 page; 1 image: 1 uploaded (790 B), \
             0 already stored, 0 failed ("
        ),
        "{}",
        again.dump()
    );
    assert_eq!(
        again.stdout,
        format!(
            "upload static/images/hero.jpg -> {PUBLIC_URL}/{key}\nrewrote content/posts/hello-world.md (1 reference)\n"
        )
    );
    sites::assert_lifted_since(&site, spec.store, &before, page.page, &page.lifts);
}

#[test]
fn store_that_cannot_be_created_fails_every_upload_and_changes_no_page() {
    let site = Site::fixture("demo");
    site.write("public-images", "not a folder");
    let before = site.snapshot(".");
    let run = site.run(&["sync"]);
    run.expect_code(3);
    assert!(run.stderr.contains(" 7 failed"), "{}", run.dump());
    let after = site.snapshot(".");
    assert_bytes_kept(&before, &after);
    // Nothing confirmed, so no manifest entries.
    if site.exists("imglift.lock") {
        let manifest = site.read_string("imglift.lock");
        assert!(manifest.lines().all(|l| l.starts_with('#')), "{manifest}");
    }
}
