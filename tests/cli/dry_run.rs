//! `imglift sync --dry-run`: the plan and a unified diff on stdout, the same exit code as `sync`,
//! and nothing written anywhere.

use crate::sites;
use crate::support::*;

/// The URLs a real sync writes, page by page, for comparison with the dry run's diff.
fn real_sync_urls(name: &str) -> Vec<(String, Vec<String>)> {
    let spec = sites::all().into_iter().find(|s| s.name == name).unwrap();
    let site = Site::fixture(name);
    site.run(&["sync"]).expect_code(spec.exit);
    spec.pages
        .iter()
        .map(|p| {
            let lifted = sites::assert_only_destinations_changed(
                site.root(),
                &site.path(spec.store),
                p.page,
                &fixture_bytes(&format!("{name}/{}", p.page)),
                &site.read(p.page),
                &p.lifts,
            );
            (
                p.page.to_string(),
                lifted.into_iter().map(|l| l.url).collect(),
            )
        })
        .collect()
}

#[test]
fn dry_run_writes_nothing_and_prints_a_diff_with_the_new_urls() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let before = site.snapshot(".");
    let run = site.run(&["sync", "--dry-run", "--diff"]);
    // The same exit code as sync: hugo has two broken references.
    run.expect_code(spec.exit);
    run.stderr_line("content/posts/hello.md:53:22");
    assert_same_tree(&before, &site.snapshot("."), true, "dry run");
    assert!(!site.exists(spec.store), "the store folder was created");
    assert!(!site.exists("imglift.lock"), "the manifest was written");
    assert!(!site.exists(".imglift-cache"), "the stat cache was written");

    // A unified diff per changed page, whose added lines carry the URLs a real sync writes.
    let added: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    let removed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    for (page, urls) in real_sync_urls("hugo") {
        assert!(
            run.stdout.contains(&format!("--- a/{page}\n"))
                && run.stdout.contains(&format!("+++ b/{page}\n")),
            "no diff header for {page}\n{}",
            run.stdout
        );
        for url in urls {
            assert!(
                added.iter().any(|l| l.contains(&url)),
                "{url} missing from the diff\n{}",
                run.stdout
            );
        }
    }
    assert!(removed.contains(&"-image: cover.jpg"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("--- a/content/_index.md"),
        "an unchanged page is in the diff"
    );
    // Nothing in the diff mentions the broken references.
    assert!(!added.iter().any(|l| l.contains("chart-2019")));
}

#[test]
fn dry_run_of_a_clean_site_exits_0_and_writes_nothing() {
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    let run = site.run(&["sync", "--dry-run", "--diff"]);
    run.expect_code(0);
    assert_same_tree(&before, &site.snapshot("."), true, "dry run");
    assert!(!site.exists("public-images"));
    for (_, urls) in real_sync_urls("demo") {
        for url in urls {
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l.starts_with('+') && l.contains(&url)),
                "{url} missing from the diff\n{}",
                run.stdout
            );
        }
    }
}

#[test]
fn dry_run_with_out_creates_no_out_tree() {
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    let out = site.outside("out");
    site.run(&["sync", "--dry-run", "--out", out.to_str().unwrap()])
        .expect_code(0);
    assert!(!out.exists(), "--dry-run --out created the out tree");
    assert_same_tree(&before, &site.snapshot("."), true, "dry run with --out");
}

#[test]
fn dry_run_after_a_sync_has_nothing_to_show() {
    let site = Site::fixture("demo");
    site.run(&["sync"]).expect_code(0);
    let before = site.snapshot(".");
    let run = site.run(&["sync", "--dry-run"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "nothing to upload or rewrite\n",
        "{}",
        run.dump()
    );
    assert!(
        run.stderr.starts_with(
            "imglift sync --dry-run: 3 pages, 0 references would be rewritten in 0 pages; \
             0 images: 0 to upload (0 B), 0 already stored ("
        ),
        "{}",
        run.dump()
    );
    assert_same_tree(&before, &site.snapshot("."), true, "dry run after sync");
}

#[test]
fn dry_run_prints_the_target_the_plan_and_one_line_per_page_unless_diff_is_asked() {
    let spec = sites::demo();
    let site = Site::fixture("demo");
    let run = site.run(&["sync", "--dry-run"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .starts_with("plan for folder public-images (dry run: nothing is sent or written)\n"),
        "{}",
        run.dump()
    );
    assert!(
        !run.stdout.contains("--- a/"),
        "no diff without --diff\n{}",
        run.stdout
    );
    for page in &spec.pages {
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", page.page)))
            .unwrap_or_else(|| panic!("no line for {}\n{}", page.page, run.stdout));
        let n = page.lifts.len();
        let word = if n == 1 { "reference" } else { "references" };
        assert!(line.ends_with(&format!("| {n} {word}")), "{line}");
    }
    assert!(run.stdout.contains("would upload static/images/hero.jpg ("));
    // --diff needs --dry-run.
    let before = site.snapshot(".");
    let run = site.run(&["sync", "--diff"]);
    run.expect_code(2);
    assert!(
        run.stderr.starts_with(
            "error: the following required arguments were not provided:\n  --dry-run\n"
        ),
        "{}",
        run.dump()
    );
    assert_same_tree(
        &before,
        &site.snapshot("."),
        true,
        "--diff without --dry-run",
    );
}
