//! `--format json`: stdout is exactly one JSON document with the counts, changes, objects and
//! problems; diagnostics and the summary stay on stderr.

use crate::sites;
use crate::support::*;

fn positions_of(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{}:{}:{}", d["file"].as_str().unwrap(), d["line"], d["col"]))
        .collect()
}

fn rewrite_positions(file: &str, list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{file}:{}:{}", d["line"], d["col"]))
        .collect()
}

#[test]
fn sync_json_has_counts_changes_objects_and_problems() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let run = site.run(&["sync", "--format", "json"]);
    // Broken references are warnings for sync: exit 0, listed under `warnings`.
    run.expect_code(0);
    let json = run.json();
    let counts = &json["counts"];
    assert_eq!(counts["pages"], 5);
    assert_eq!(counts["pages_changed"], 4);
    assert_eq!(counts["rewritten"], spec.references());
    assert_eq!(counts["uploaded"], spec.objects);
    assert_eq!(counts["failed"], 0);
    assert_eq!(json["problems"].as_array().unwrap().len(), 0);
    assert_eq!(
        positions_of(&json["warnings"]),
        [
            "content/posts/hello.md:53:22",
            "content/posts/hello.md:55:18"
        ]
    );
    assert!(json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["kind"] == "broken"));
    // Every object: uploaded, with the URL that the pages now carry.
    let objects = json["objects"].as_array().unwrap();
    assert_eq!(objects.len(), spec.objects);
    let pages: String = spec
        .pages
        .iter()
        .map(|p| site.read_string(p.page))
        .collect();
    for o in objects {
        assert_eq!(o["action"], "upload");
        let url = o["url"].as_str().unwrap();
        assert!(pages.contains(url), "{url} is in no page");
        let key = o["key"].as_str().unwrap();
        let tail = url.strip_prefix(&format!("{PUBLIC_URL}/")).unwrap();
        assert_eq!(percent_decode(tail), key.as_bytes(), "{o}");
    }
    // Each rewrite of each page at the position check would report.
    for change in json["changes"].as_array().unwrap() {
        let file = change["file"].as_str().unwrap();
        let page = spec.page(file);
        let old = fixture_bytes(&format!("hugo/{file}"));
        assert_eq!(
            rewrite_positions(file, &change["rewrites"]),
            sites::positions(&old, file, &page.lifts),
            "{file}"
        );
    }
    // Diagnostics and the summary are on stderr, not mixed into stdout.
    run.stderr_line("content/posts/hello.md:53:22");
    assert!(run.stderr.contains("imglift sync:"), "{}", run.dump());
}

#[test]
fn check_json_lists_pending_references_and_problems() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let run = site.run(&["check", "--format", "json"]);
    run.expect_code(1);
    let json = run.json();
    let expected: Vec<String> = spec
        .pages
        .iter()
        .flat_map(|p| sites::positions(&site.read(p.page), p.page, &p.lifts))
        .collect();
    assert_eq!(positions_of(&json["pending"]), expected);
    assert_eq!(positions_of(&json["problems"]).len(), 2);
    assert_eq!(json["counts"]["pages"], 5);
}

#[test]
fn dry_run_json_carries_the_diff_and_writes_nothing() {
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    let run = site.run(&["sync", "--dry-run", "--format", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["dry_run"], true);
    let diff = json["diff"].as_str().unwrap();
    assert!(
        diff.contains("--- a/content/posts/hello-world.md"),
        "{diff}"
    );
    assert!(diff.contains(&format!("+image: {PUBLIC_URL}/")), "{diff}");
    assert_same_tree(&before, &site.snapshot("."), true, "dry run");
}

#[test]
fn json_after_a_sync_reports_nothing_to_do() {
    let site = Site::fixture("zola");
    site.run(&["sync"]).expect_code(0);
    let check = site.run(&["check", "--format", "json"]);
    check.expect_code(0);
    let json = check.json();
    assert_eq!(json["pending"].as_array().unwrap().len(), 0);
    assert_eq!(json["problems"].as_array().unwrap().len(), 0);
    let sync = site.run(&["sync", "--format", "json"]);
    sync.expect_code(0);
    assert_eq!(sync.json()["counts"]["uploaded"], 0);
}

#[test]
fn json_mode_config_error_prints_nothing_on_stdout() {
    let site = Site::empty("");
    site.write(
        "imglift.yaml",
        "public_url: https://img.example.com\ntarget: {s3: {bucket: b, endpoint: http://127.0.0.1:9, secret_access_key: SUPERSECRET}}\n",
    );
    let run = site.run(&["sync", "--format", "json"]);
    run.expect_code(2);
    assert!(run.stdout.trim().is_empty(), "{}", run.dump());
    assert!(!run.stderr.contains("SUPERSECRET"));
}

#[test]
fn github_actions_annotations_carry_file_line_col() {
    let site = Site::fixture("hugo");
    let run = site.run_env(&["check"], &[("GITHUB_ACTIONS", "true")]);
    run.expect_code(1);
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with("::error file=content/posts/hello.md,line=53,col=22::")),
        "{}",
        run.dump()
    );
    // Pending references are annotated too, and stdout stays plain.
    assert!(
        run.stderr
            .contains("::error file=content/posts/trip/index.md,line=5,col=8::"),
        "{}",
        run.dump()
    );
    assert!(!run.stdout.contains("::error"), "{}", run.dump());
    // Without GITHUB_ACTIONS there are none.
    assert!(!site.run(&["check"]).stderr.contains("::error"));
}
