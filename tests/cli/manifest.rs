//! The manifest `imglift.lock`: one sorted line per object, recreated identically when lost,
//! and (for the local-folder target) trusted without looking at the store.

use std::collections::BTreeSet;

use crate::sites;
use crate::support::*;

#[test]
fn manifest_lists_one_sorted_line_per_object() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    site.run(&["sync"]).expect_code(0);
    let text = site.read_string("imglift.lock");
    let rows = manifest_entries(&text);
    let stored = sites::store_keys(&site.path(spec.store));
    assert_eq!(rows.len(), spec.objects, "{text}");

    let keys: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "manifest lines are not sorted by key");
    assert_eq!(
        keys.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>(),
        stored,
        "manifest keys vs. store objects"
    );
    for row in &rows {
        let [key, hash, size, mime, source, date] = &row[..] else {
            panic!("expected 6 fields: {row:?}");
        };
        let object = site.path(spec.store).join(key);
        let bytes = std::fs::read(&object).unwrap();
        assert_eq!(hash.len(), 64, "{row:?}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{row:?}");
        assert!(
            key.starts_with(&hash[..16]),
            "the key starts with the hash: {row:?}"
        );
        assert_eq!(size.parse::<usize>().unwrap(), bytes.len(), "{row:?}");
        assert!(mime.starts_with("image/"), "{row:?}");
        assert_eq!(
            site.read(source),
            bytes,
            "source column names the image: {row:?}"
        );
        assert!(
            date.len() == 10 && date.as_bytes()[4] == b'-' && date.as_bytes()[7] == b'-',
            "{row:?}"
        );
    }
}

#[test]
fn deleted_manifest_is_recreated_identically_without_uploading_again() {
    let site = Site::fixture("demo");
    let out = site.outside("out");
    let out_arg = out.to_str().unwrap();
    site.run(&["sync", "--out", out_arg]).expect_code(0);
    let manifest = site.read_string("imglift.lock");
    let store = site.snapshot("public-images");
    std::fs::remove_file(site.path("imglift.lock")).unwrap();

    // Entries found in the store get the date of this run: the same day as the first run, or
    // a later one if the two fall on either side of midnight.
    let run = site.run(&["sync", "--out", out_arg, "--format", "json"]);
    run.expect_code(0);
    let json = run.json();
    assert_eq!(json["counts"]["uploaded"], 0, "{}", run.dump());
    let actions: Vec<&str> = json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions, ["present"; 7],
        "objects found in the store are recorded as present"
    );
    let recreated = site.read_string("imglift.lock");
    assert_same_bytes(
        manifest_without_dates(&manifest).as_bytes(),
        manifest_without_dates(&recreated).as_bytes(),
        "recreated imglift.lock (dates aside)",
    );
    let first = manifest_entries(&manifest);
    for (old, new) in first.iter().zip(manifest_entries(&recreated)) {
        assert!(
            new[5] >= old[5],
            "{}: recorded {} before the first upload {}",
            new[0],
            new[5],
            old[5]
        );
    }
    assert_same_tree(
        &store,
        &site.snapshot("public-images"),
        true,
        "store (no re-upload)",
    );
}

#[test]
fn dir_target_checks_the_manifest_so_a_deleted_object_is_uploaded_again() {
    let site = Site::fixture("demo");
    let out = site.outside("out");
    let out_arg = out.to_str().unwrap();
    site.run(&["sync", "--out", out_arg]).expect_code(0);
    let key = manifest_entries(&site.read_string("imglift.lock"))
        .into_iter()
        .find(|r| r[0].ends_with("/hero.jpg"))
        .unwrap()[0]
        .clone();
    let object = site.path("public-images").join(&key);
    std::fs::remove_file(&object).unwrap();
    let manifest = site.read("imglift.lock");

    let run = site.run(&["sync", "--out", out_arg]);
    run.expect_code(0);
    assert!(run.stderr.contains(" 1 uploaded"), "{}", run.dump());
    // A local folder is cheap to look at: the object the manifest lists is checked, found
    // missing and sent again, under the same key, so the page never points at nothing.
    assert!(
        object.is_file(),
        "the deleted object was not uploaded again"
    );
    assert_eq!(site.read("imglift.lock"), manifest);
    let page = std::fs::read_to_string(out.join("content/posts/hello-world.md")).unwrap();
    assert!(
        page.contains(&format!("image: {PUBLIC_URL}/{key}\n")),
        "{page}"
    );
}

#[test]
fn manifest_with_a_merge_conflict_is_exit_2_naming_the_line() {
    let site = Site::fixture("demo");
    site.write(
        "imglift.lock",
        "# imglift.lock\n# key\tblake3\tsize\tcontent-type\tsource\tuploaded\n<<<<<<< HEAD\n",
    );
    let before = site.snapshot(".");
    let run = site.run(&["sync"]);
    run.expect_code(2);
    assert!(run.stderr.contains("imglift.lock:3"), "{}", run.dump());
    assert_same_tree(
        &before,
        &site.snapshot("."),
        true,
        "sync with a damaged manifest",
    );
}

#[test]
fn manifest_is_not_written_by_check_or_dry_run() {
    let site = Site::fixture("demo");
    let before = site.snapshot(".");
    let check = site.run(&["check"]);
    check.expect_code(1);
    assert_eq!(Run::positions(&check.stdout).len(), 8, "{}", check.dump());
    let dry = site.run(&["sync", "--dry-run"]);
    dry.expect_code(0);
    assert!(
        dry.stderr
            .contains("3 pages, 8 references would be rewritten in 3 pages; 7 images: 7 to upload"),
        "{}",
        dry.dump()
    );
    assert!(!site.exists("imglift.lock"));
    assert!(!site.exists(".imglift-cache"));
    assert_same_tree(
        &before,
        &site.snapshot("."),
        true,
        "check and sync --dry-run",
    );
}
