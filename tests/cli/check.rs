//! `imglift check [PATH…]`: the offline gate. Before a sync it lists `file:line:col` of every
//! local reference and exits 1; after a sync it exits 0 (unless something is broken); PATH
//! arguments narrow it; it never writes.

use crate::sites::{self, SiteSpec};
use crate::support::*;

/// `file:line:col` of every reference `sync` would lift, in page order.
fn expected_positions(site: &Site, spec: &SiteSpec) -> Vec<String> {
    spec.pages
        .iter()
        .flat_map(|p| sites::positions(&site.read(p.page), p.page, &p.lifts))
        .collect()
}

#[test]
fn check_lists_every_local_reference_before_sync_and_writes_nothing() {
    for spec in sites::all() {
        let site = Site::fixture(spec.name);
        let before = site.snapshot(".");
        let run = site.run(&["check"]);
        run.expect_code(1);
        assert_eq!(
            Run::positions(&run.stdout),
            expected_positions(&site, &spec),
            "{}: pending references on stdout\n{}",
            spec.name,
            run.dump()
        );
        // Each line names the destination as written.
        for (line, lift) in run
            .stdout
            .lines()
            .zip(spec.pages.iter().flat_map(|p| &p.lifts))
        {
            assert!(
                line.contains(lift.dest),
                "{line} should name `{}`",
                lift.dest
            );
        }
        let broken: Vec<String> = spec
            .broken
            .iter()
            .map(|(page, pos, _)| format!("{page}:{pos}"))
            .collect();
        assert_eq!(Run::positions(&run.stderr), broken, "{}", run.dump());
        assert_same_tree(&before, &site.snapshot("."), true, "check");
    }
}

#[test]
fn check_exits_0_after_sync_of_a_site_without_broken_references() {
    for name in ["demo", "zola"] {
        let site = Site::fixture(name);
        site.run(&["sync"]).expect_code(0);
        let before = site.snapshot(".");
        let run = site.run(&["check"]);
        run.expect_code(0);
        assert!(Run::positions(&run.stdout).is_empty(), "{}", run.dump());
        assert!(Run::positions(&run.stderr).is_empty(), "{}", run.dump());
        assert_same_tree(&before, &site.snapshot("."), true, "check after sync");
    }
}

#[test]
fn check_after_sync_still_fails_on_broken_references_only() {
    let site = Site::fixture("hugo");
    site.run(&["sync"]).expect_code(0);
    let run = site.run(&["check"]);
    run.expect_code(1);
    assert!(Run::positions(&run.stdout).is_empty(), "{}", run.dump());
    assert_eq!(
        Run::positions(&run.stderr),
        [
            "content/posts/hello.md:53:22",
            "content/posts/hello.md:55:18"
        ],
        "{}",
        run.dump()
    );
}

#[test]
fn check_with_one_page_lists_only_that_pages_references() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let page = spec.page("content/posts/hello-world.md");
    let run = site.run(&["check", page.page]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stdout),
        sites::positions(&site.read(page.page), page.page, &page.lifts)
    );
}

#[test]
fn check_with_a_folder_lists_only_the_pages_inside() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let page = spec.page("content/posts/sourdough/index.md");
    let run = site.run(&["check", "content/posts/sourdough"]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stdout),
        sites::positions(&site.read(page.page), page.page, &page.lifts)
    );
}

#[test]
fn check_of_a_lifted_page_exits_0_even_if_others_are_pending() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let hello = "content/posts/hello-world.md";
    site.run(&["sync", hello]).expect_code(0);
    let before = site.snapshot(".");
    let one = site.run(&["check", hello]);
    one.expect_code(0);
    assert!(Run::positions(&one.stdout).is_empty(), "{}", one.dump());
    assert!(Run::positions(&one.stderr).is_empty(), "{}", one.dump());
    // The whole site: exactly the other pages' references are pending, none of hello-world's.
    let all = site.run(&["check"]);
    all.expect_code(1);
    let mut expected: Vec<String> = spec
        .pages
        .iter()
        .filter(|p| p.page != hello)
        .flat_map(|p| sites::positions(&site.read(p.page), p.page, &p.lifts))
        .collect();
    expected.sort();
    let mut listed = Run::positions(&all.stdout);
    listed.sort();
    assert_eq!(listed, expected, "{}", all.dump());
    assert!(!expected.is_empty());
    assert_same_tree(&before, &site.snapshot("."), true, "check");
}

#[test]
fn check_from_a_subfolder_finds_the_config_and_reports_root_relative_paths() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let page = spec.page("content/posts/windows.md");
    let run = site.run_in("content/posts", &["check", "windows.md"]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stdout),
        sites::positions(&site.read(page.page), page.page, &page.lifts),
        "{}",
        run.dump()
    );
}

#[test]
fn check_with_a_path_that_does_not_exist_is_a_usage_error() {
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    let run = site.run(&["check", "content/posts/no-such-page.md"]);
    run.expect_code(2);
    assert!(
        run.stderr.starts_with("imglift: ")
            && run.stderr.contains("content/posts/no-such-page.md: ")
            && run.stderr.lines().count() == 1,
        "{}",
        run.dump()
    );
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_same_tree(
        &before,
        &site.snapshot("."),
        true,
        "a PATH that does not exist",
    );
}
