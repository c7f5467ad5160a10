//! Hostile or broken input: escapes out of the site root, absolute paths, symlinks to the
//! outside, files that are not images, oversized files, pages that are not UTF-8 or are huge.
//! Each one gets a clear `file:line:col` message, nothing of it is uploaded, imglift does not
//! panic, and every other page still finishes and is rewritten.

use std::path::Path;

use crate::sites::{self, lift, Lift};
use crate::support::*;

const GOOD_PAGE: &str = "content/good.md";
const BAD_PAGE: &str = "content/bad.md";

/// A site with a good page whose image must be lifted whatever else happens, and an image
/// outside the root (`<tmp>/outside.png`) that must never be uploaded.
fn site(extra_config: &str) -> Site {
    let site = Site::empty(extra_config);
    site.write(GOOD_PAGE, "# Good\n\n![good](good.png)\n");
    site.write(
        "content/good.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write_outside(
        "outside.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site
}

fn good_lifts() -> Vec<Lift> {
    vec![lift(3, "good.png", "content/good.png")]
}

/// The well-behaved page beside each hostile one was lifted, and only its destination changed.
fn assert_good_page_lifted(site: &Site) {
    sites::assert_only_destinations_changed(
        site.root(),
        &site.path("store"),
        GOOD_PAGE,
        b"# Good\n\n![good](good.png)\n",
        &site.read(GOOD_PAGE),
        &good_lifts(),
    );
}

/// Write `page` as `content/bad.md`, run `sync`, and check what every hostile case shares:
/// - exit 1, no panic;
/// - a diagnostic on stderr at each of `positions` whose text contains `reason`;
/// - the bad page differs from `page` only in `lifts` (nothing if empty);
/// - the good page is lifted;
/// - no stored object and no manifest line carries `forbidden` bytes or `forbidden_name`.
#[track_caller]
fn sync_refused(
    site: &Site,
    page: &str,
    lifts: &[Lift],
    positions: &[&str],
    reason: &str,
    forbidden: &[u8],
    forbidden_name: &str,
) -> Run {
    site.write(BAD_PAGE, page);
    let run = site.run(&["sync"]);
    run.expect_code(1);
    for pos in positions {
        let line = run.stderr_line(pos);
        assert!(
            line.contains(reason),
            "the message at {pos} should say `{reason}`: {line}"
        );
    }
    let store = site.path("store");
    if lifts.is_empty() {
        assert_same_bytes(page.as_bytes(), &site.read(BAD_PAGE), BAD_PAGE);
    } else {
        sites::assert_only_destinations_changed(
            site.root(),
            &store,
            BAD_PAGE,
            page.as_bytes(),
            &site.read(BAD_PAGE),
            lifts,
        );
    }
    assert_good_page_lifted(site);
    for (key, object) in snapshot(&store) {
        assert!(
            object.bytes != forbidden,
            "{} holds the bytes that must not be uploaded",
            key.display()
        );
    }
    let manifest = site.read_string("imglift.lock");
    assert!(
        !manifest.contains(forbidden_name),
        "the manifest mentions {forbidden_name}:\n{manifest}"
    );
    run
}

/// [`sync_refused`] for a page whose references try to reach `<tmp>/outside.png`, outside the
/// site root.
#[track_caller]
fn sync_escape_refused(site: &Site, page: &str, positions: &[&str], reason: &str) -> Run {
    sync_refused(
        site,
        page,
        &[],
        positions,
        reason,
        &fixture_bytes("demo/static/images/avatar.png"),
        "outside.png",
    )
}

#[test]
fn dotdot_escape_to_an_existing_image_outside_the_root_is_refused() {
    let site = site("");
    let page = "# Bad\n\n![x](../../outside.png)\n\n![g](good.png)\n";
    assert!(
        site.path("content/../../outside.png").is_file(),
        "the escape target exists"
    );
    sync_refused(
        &site,
        page,
        &[lift(5, "good.png", "content/good.png")],
        &["content/bad.md:3:6"],
        "leaves the site root",
        &fixture_bytes("demo/static/images/avatar.png"),
        "outside.png",
    );
    // check reports it the same way and does not count it as work for sync.
    let check = site.run(&["check"]);
    check.expect_code(1);
    check.stderr_line("content/bad.md:3:6");
    assert!(!check.stdout.contains("outside.png"), "{}", check.dump());
}

#[test]
fn dotdot_escape_from_a_site_absolute_path_is_refused() {
    let site = site("");
    let page = "![x](/../../outside.png)\n";
    sync_escape_refused(
        &site,
        page,
        &["content/bad.md:1:6"],
        "error: image `/../../outside.png` refused: `/../../outside.png` leaves the site root; not uploaded",
    );
}

#[test]
fn percent_encoded_dotdot_escape_is_refused() {
    let site = site("");
    let page = "![x](%2e%2e/%2e%2e/outside.png)\n\n![y](%2E%2E%2F%2E%2E%2Foutside.png)\n";
    sync_escape_refused(
        &site,
        page,
        &["content/bad.md:1:6", "content/bad.md:3:6"],
        "leaves the site root",
    );
}

#[test]
fn absolute_filesystem_paths_are_not_uploaded() {
    // An absolute path is site-absolute: not found under the root. `broken: error` makes that
    // an error like the refusals (by default `sync` warns).
    let site = site("broken: error\n");
    let outside = site.outside("outside.png");
    let page = format!(
        "![a]({})\n\n![b](/etc/passwd)\n\n![c](file://{})\n",
        outside.display(),
        outside.display()
    );
    let run = sync_escape_refused(
        &site,
        &page,
        &["content/bad.md:1:6", "content/bad.md:3:6"],
        "error: image `/",
    );
    let not_found = |pos: &str, dest: &str| {
        let rel = dest.trim_start_matches('/');
        assert!(
            run.stderr_line(pos).starts_with(&format!(
                "{pos}: error: image `{dest}` not found (looked for static/{rel}, content/{rel}, {rel})"
            )),
            "{}",
            run.dump()
        );
    };
    not_found("content/bad.md:1:6", &outside.display().to_string());
    not_found("content/bad.md:3:6", "/etc/passwd");
    if let Ok(passwd) = std::fs::read("/etc/passwd") {
        assert!(snapshot(&site.path("store"))
            .values()
            .all(|f| f.bytes != passwd));
    }
    assert!(
        run.stderr_line("content/bad.md:5:6").ends_with(&format!(
            "error: image `file://{}` refused: file: URLs point outside the site; use a path relative to the page; not uploaded",
            outside.display()
        )),
        "{}",
        run.dump()
    );
}

#[cfg(unix)]
#[test]
fn symlink_inside_the_root_to_an_image_outside_is_refused() {
    let site = site("");
    symlink(&site.outside("outside.png"), &site.path("content/link.png"));
    site.write_outside(
        "photos/pic.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    symlink(&site.outside("photos"), &site.path("content/photos"));
    let page = "![a](link.png)\n\n![b](photos/pic.png)\n";
    sync_refused(
        &site,
        page,
        &[],
        &["content/bad.md:1:6", "content/bad.md:3:6"],
        "outside the site root",
        &fixture_bytes("demo/static/images/avatar.png"),
        "pic.png",
    );
    assert!(!site.read_string("imglift.lock").contains("link.png"));
}

#[cfg(unix)]
#[test]
fn symlink_inside_the_root_to_an_image_inside_is_lifted_with_the_target_bytes() {
    let site = site("");
    site.write(
        "static/real.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    symlink(
        Path::new("../static/real.png"),
        &site.path("content/alias.png"),
    );
    let page = "![a](alias.png)\n";
    site.write("content/p.md", page);
    site.run(&["sync"]).expect_code(0);
    sites::assert_only_destinations_changed(
        site.root(),
        &site.path("store"),
        "content/p.md",
        page.as_bytes(),
        &site.read("content/p.md"),
        &[lift(1, "alias.png", "static/real.png").named("real.png")],
    );
}

#[test]
fn text_file_named_png_is_not_uploaded() {
    let site = site("");
    site.write("content/fake.png", "this is not a picture\n");
    site.write("content/notes.jpg", "<html><body>hello</body></html>\n");
    let page = "![a](fake.png)\n<img src=\"notes.jpg\">\n";
    sync_refused(
        &site,
        page,
        &[],
        &["content/bad.md:1:6", "content/bad.md:2:11"],
        "not an image",
        b"this is not a picture\n",
        "fake.png",
    );
    assert!(!site.read_string("imglift.lock").contains("notes.jpg"));
    // check flags it too, with the same position, and does not list it as pending work.
    let check = site.run(&["check"]);
    check.expect_code(1);
    assert!(check
        .stderr_line("content/bad.md:1:6")
        .contains("not an image"));
    assert!(!check.stdout.contains("fake.png"), "{}", check.dump());
}

#[test]
fn image_over_max_size_is_not_uploaded() {
    let site = site("max_size: 500\n");
    let big = fixture_bytes("demo/static/images/hero.jpg");
    assert!(big.len() > 500);
    site.write("content/big.jpg", &big);
    let page = "![big](big.jpg)\n";
    sync_refused(
        &site,
        page,
        &[],
        &["content/bad.md:1:8"],
        "max_size",
        &big,
        "big.jpg",
    );
    let check = site.run(&["check"]);
    check.expect_code(1);
    assert_eq!(
        check.stderr_line("content/bad.md:1:8"),
        format!(
            "content/bad.md:1:8: error: `big.jpg`: content/big.jpg is {} bytes, over the limit \
             of 500 (max_size); not uploaded",
            big.len()
        )
    );
}

#[test]
fn non_utf8_page_is_left_byte_identical_and_reported() {
    let site = site("");
    let page: &[u8] = b"# Caf\xe9 (Latin-1)\n\n![x](good.png)\n";
    site.write("content/latin1.md", page);
    let run = site.run(&["sync"]);
    run.expect_code(1);
    assert!(
        run.stderr_line("content/latin1.md:1:6").contains("UTF-8"),
        "{}",
        run.dump()
    );
    assert_same_bytes(page, &site.read("content/latin1.md"), "content/latin1.md");
    assert_good_page_lifted(&site);
}

#[test]
fn non_utf8_page_is_copied_byte_for_byte_into_the_out_tree() {
    let site = site("");
    let page: &[u8] = b"\xff\xfe# not UTF-8\n![x](good.png)\n";
    site.write("content/latin1.md", page);
    let out = site.outside("out");
    let run = site.run(&["sync", "--out", out.to_str().unwrap()]);
    run.expect_code(1);
    run.stderr_line("content/latin1.md:1:1");
    assert_eq!(std::fs::read(out.join("content/latin1.md")).unwrap(), page);
    assert_eq!(site.read("content/latin1.md"), page);
    assert!(std::fs::read_to_string(out.join(GOOD_PAGE))
        .unwrap()
        .contains("](https://img.example.com/"));
}

#[test]
fn twenty_megabyte_single_line_page_finishes_and_only_its_destination_changes() {
    let site = site("");
    let filler = "lorem ipsum dolor sit amet ".repeat(20 * 1024 * 1024 / 27 / 2);
    let page = format!("{filler}![big](good.png) {filler}\n");
    assert!(page.len() > 20_000_000 && page.lines().count() == 1);
    site.write("content/huge.md", &page);
    let run = site.run(&["sync"]);
    run.expect_code(0);
    sites::assert_only_destinations_changed(
        site.root(),
        &site.path("store"),
        "content/huge.md",
        page.as_bytes(),
        &site.read("content/huge.md"),
        &[lift(1, "good.png", "content/good.png")],
    );
    assert_good_page_lifted(&site);
}

#[test]
fn missing_image_is_reported_and_other_pages_are_lifted() {
    // `broken: error`: sync exits 1 for it, as for the refusals (by default it would warn).
    let site = site("broken: error\n");
    let page = "text\n\n  ![gone](gone.png) and ![g](good.png)\n";
    sync_refused(
        &site,
        page,
        &[lift(3, "good.png", "content/good.png")],
        &["content/bad.md:3:11"],
        "not found",
        b"",
        "gone.png",
    );
}

#[test]
fn escapes_in_html_front_matter_shortcodes_and_backslashes_are_refused_too() {
    let site = site("");
    let page = "---\nimage: ../../outside.png\n---\n\n<img src=\"../../outside.png\">\n\n{{< figure src=\"../../outside.png\" >}}\n\n![b](..\\..\\outside.png)\n";
    let run = sync_escape_refused(
        &site,
        page,
        &[
            "content/bad.md:2:8",
            "content/bad.md:5:11",
            "content/bad.md:7:17",
        ],
        "leaves the site root",
    );
    // CommonMark reads `\.` as `.`: the destination is `....\outside.png`.
    assert_eq!(
        run.stderr_line("content/bad.md:9:6"),
        "content/bad.md:9:6: error: image `....\\outside.png` refused: the path contains a NUL \
         byte or a backslash; not uploaded"
    );
}
