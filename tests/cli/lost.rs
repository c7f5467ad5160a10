//! Nothing is lost: two runs at once, odd file names, hand-edited state files, a killed run's
//! leftovers, a deleted store folder, absurd concurrency and a gate that sees nothing. Each case
//! ends with what a user would check: the pages, the store folder, the manifest, the exit code.

use std::path::Path;

use crate::support::*;

const PNG: &str = "hugo/static/img/diagram.png";
const JPG: &str = "demo/static/images/hero.jpg";

#[test]
fn parallel_syncs_on_overlapping_pages_record_every_rewritten_url() {
    let site = Site::empty("key: \"{hash:16}/{fileName}.{extName}\"\n");
    let images = 12;
    for i in 0..images {
        // Distinct bytes per image: a PNG with a trailing chunk of its own.
        let mut bytes = fixture_bytes(PNG);
        bytes.extend_from_slice(format!("image {i}").as_bytes());
        site.write(format!("content/img/i{i}.png"), bytes);
    }
    let pages = 8;
    for p in 0..pages {
        // Each page shares images with its neighbours.
        let refs: String = (0..4)
            .map(|k| format!("![x](img/i{}.png)\n", (p + k) % images))
            .collect();
        site.write(format!("content/p{p}.md"), format!("# Page {p}\n\n{refs}"));
    }
    // Four runs at once, each on three pages that overlap the next run's.
    let children: Vec<_> = (0..4)
        .map(|r| {
            let mut args = vec!["sync".to_string()];
            args.extend((0..3).map(|k| format!("content/p{}.md", (2 * r + k) % pages)));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            site.command(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start imglift")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a parallel sync failed\n{}",
            dump(&out)
        );
    }
    // What a user checks right after: every page lifted, and each URL's object recorded and
    // stored.
    let entries = site.manifest_entries();
    let recorded: Vec<&str> = entries.iter().map(|e| e[0].as_str()).collect();
    let mut used = 0;
    for p in 0..pages {
        let text = site.read_string(format!("content/p{p}.md"));
        assert!(!text.contains("](img/"), "p{p} not lifted:\n{text}");
        for key in lifted_keys(&text) {
            used += 1;
            assert!(
                recorded.contains(&key.as_str()),
                "{key} not in the manifest"
            );
            assert!(site.path("store").join(&key).is_file(), "{key} not stored");
        }
    }
    assert_eq!(used, pages * 4);
    // Pages 0..8 use images 0..=10: one entry each, none lost, none extra.
    assert_eq!(entries.len(), pages + 3);
}

#[test]
fn a_waiting_run_names_the_run_that_holds_the_lock() {
    let site = Site::empty("");
    site.write("content/a.md", "![a](a.png)\n");
    site.write("content/a.png", fixture_bytes(PNG));
    // Another run (this test process) holds the lock.
    let lock = std::fs::File::create(site.path(".imglift-run.lock")).unwrap();
    std::fs::write(site.path(".imglift-run.lock"), "pid 4242\n").unwrap();
    lock.lock().unwrap();
    let mut child = site
        .command(&["sync"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The first line on stderr is the waiting message (read blocks until it comes).
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    // The README: "a second run says `waiting for another imglift run (pid N)`".
    assert!(
        line.starts_with("imglift: waiting for another imglift run (pid 4242) to finish (")
            && line.ends_with(".imglift-run.lock)\n"),
        "{line}"
    );
    assert!(
        site.read_string("content/a.md").contains("](a.png)"),
        "written while another run held the lock"
    );
    drop(lock);
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(site.read_string("content/a.md").contains(PUBLIC_URL));
}

#[cfg(target_os = "linux")]
#[test]
fn non_utf8_names_stay_two_files_in_the_out_tree() {
    use std::os::unix::ffi::OsStrExt;
    let site = Site::empty("");
    let e_acute = std::ffi::OsStr::from_bytes(b"caf\xe9.md");
    let e_grave = std::ffi::OsStr::from_bytes(b"caf\xe8.md");
    site.write(Path::new("content").join(e_acute), "# acute\n");
    site.write(Path::new("content").join(e_grave), "# grave\n");
    site.run(&["sync", "--out", "build"]).expect_code(0);
    let built = site.path("build/content");
    assert_eq!(read(&built.join(e_acute)), b"# acute\n");
    assert_eq!(read(&built.join(e_grave)), b"# grave\n");
}

#[test]
fn a_manifest_date_that_is_not_one_is_an_error_at_its_line() {
    for date in ["X", "20\u{e9}4-01-01"] {
        let site = Site::empty("key: \"{year}/{fileName}.{extName}\"\n");
        site.write("content/a.md", "![a](a.png)\n");
        site.write("content/a.png", fixture_bytes(PNG));
        site.write(
            "imglift.lock",
            format!(
                "# imglift.lock\nX/a.png\t{}\t9\timage/png\tcontent/a.png\t{date}\n",
                "0".repeat(64)
            ),
        );
        let run = site.run(&["sync"]);
        run.expect_code(2);
        assert!(
            run.stderr.contains("imglift.lock:2") && run.stderr.contains(date),
            "{date}: {}",
            run.dump()
        );
        assert_eq!(site.read_string("content/a.md"), "![a](a.png)\n");
    }
}

#[test]
fn a_wrong_or_short_cache_hash_costs_at_most_one_run() {
    let site = Site::empty("");
    site.write("content/a.md", "![a](a.png)\n");
    site.write("content/a.png", fixture_bytes(PNG));
    site.run(&["sync", "--dry-run"]).expect_code(0);
    // A dry run writes no cache; a real run on another page writes one for a.png.
    site.write("content/b.md", "![a](a.png)\n");
    site.run(&["sync", "content/b.md"]).expect_code(0);
    let cache = site.read_string(".imglift-cache");
    let real = blake3::hash(&fixture_bytes(PNG)).to_hex().to_string();
    assert!(cache.contains(&real), "{cache}");

    // A short hash: dropped, no panic, the page is lifted.
    site.write(".imglift-cache", cache.replace(&real, "abc"));
    site.write("content/b.md", "![a](a.png)\n");
    site.run(&["sync", "content/b.md"]).expect_code(0);
    assert!(site.read_string("content/b.md").contains(&real[..16]));

    // A wrong hash of the right shape: this run may fail, the next one recovers.
    let cache = site.read_string(".imglift-cache");
    site.write(".imglift-cache", cache.replace(&real, &"0".repeat(64)));
    let first = site.run(&["sync", "content/a.md"]);
    first.expect_no_panic();
    let second = site.run(&["sync", "content/a.md"]);
    second.expect_code(0);
    assert!(site.read_string("content/a.md").contains(&real[..16]));
}

#[test]
fn names_the_manifest_gives_meaning_to_round_trip() {
    let site = Site::empty("key: \"{fileName}.{extName}\"\n");
    site.write(
        "content/a.md",
        "![a](%3D%3D%3D%3D%3D%3D%3D.png)\n![c](%23c.png)\n",
    );
    site.write("content/=======.png", fixture_bytes(PNG));
    site.write("content/#c.png", fixture_bytes(JPG));
    site.run(&["sync"]).expect_code(0);
    let second = site.run(&["sync"]);
    second.expect_code(0);
    assert!(second.stderr.contains(" 0 uploaded"), "{}", second.dump());
    let keys: Vec<String> = site
        .manifest_entries()
        .iter()
        .map(|e| e[0].clone())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(site.path("store/=======.png").is_file());
    assert!(site.path("store/#c.png").is_file());
}

#[test]
fn temp_files_a_killed_run_left_are_removed_and_nothing_else() {
    let site = Site::empty("");
    site.write("content/a.md", "![a](a.png)\n");
    site.write("content/a.png", fixture_bytes(PNG));
    for dir in ["content", "content/sub", "store/ab"] {
        site.write(format!("{dir}/.imglift-Xy12Zq.tmp"), "half a page");
    }
    site.write("content/.imglift-notes.txt", "mine");
    site.write("content/imglift-Xy12Zq.tmp", "not hidden: not imglift's");
    site.write(
        "content/.drafts/.imglift-Xy12Zq.tmp",
        "in a hidden folder: not entered",
    );
    site.run(&["sync", "--dry-run"]).expect_code(0);
    for dir in ["content", "content/sub", "store/ab"] {
        assert!(
            site.exists(format!("{dir}/.imglift-Xy12Zq.tmp")),
            "a dry run removed {dir}'s"
        );
    }
    site.run(&["sync"]).expect_code(0);
    for dir in ["content", "content/sub", "store/ab"] {
        assert!(!site.exists(format!("{dir}/.imglift-Xy12Zq.tmp")), "{dir}");
    }
    assert!(site.exists("content/.imglift-notes.txt"));
    assert!(site.exists("content/imglift-Xy12Zq.tmp"));
    assert!(site.exists("content/.drafts/.imglift-Xy12Zq.tmp"));
}

#[test]
fn a_deleted_store_folder_means_upload_again() {
    let site = Site::empty("");
    site.write("content/a.md", "![a](a.png)\n");
    site.write("content/a.png", fixture_bytes(PNG));
    site.run(&["sync", "--out", "build"]).expect_code(0);
    std::fs::remove_dir_all(site.path("store")).unwrap();
    let run = site.run(&["sync", "--out", "build"]);
    run.expect_code(0);
    let page = site.read_string("build/content/a.md");
    let keys = lifted_keys(&page);
    assert_eq!(keys.len(), 1, "{page}");
    assert_eq!(
        read(&site.path("store").join(&keys[0])),
        fixture_bytes(PNG),
        "the object the page points at is not in the store"
    );
}

#[test]
fn absurd_concurrency_is_a_clear_error() {
    let site = Site::empty("");
    site.write("content/a.md", "# a\n");
    let run = site.run(&["-j", "1000000000", "sync"]);
    run.expect_code(2);
    assert_eq!(
        run.stderr,
        "imglift: `concurrency`: 1000000000 is too many; at most 256\n"
    );
}

#[test]
fn check_that_sees_no_page_says_so_and_fails() {
    for extra in ["include: []\n", "exclude: [\"**\"]\n"] {
        let site = Site::empty(extra);
        site.write("content/a.md", "![a](a.png)\n");
        site.write("content/a.png", fixture_bytes(PNG));
        let run = site.run(&["check"]);
        run.expect_code(1);
        assert_eq!(
            run.stderr_line("imglift.yaml:1:1"),
            "imglift.yaml:1:1: error: no page found in the content roots with these \
             include/exclude globs; nothing was checked",
            "{extra}"
        );
        assert!(run.stdout.is_empty(), "{extra}{}", run.dump());
    }
    // The store folder is the content root: refused outright (a gate that would see nothing
    // must not pass).
    let site = Site::empty("");
    site.write(
        "imglift.yaml",
        format!("public_url: {PUBLIC_URL}\ntarget: {{dir: content}}\n"),
    );
    site.write("content/a.md", "![a](a.png)\n");
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(
        run.stderr.starts_with("imglift: ")
            && run
                .stderr
                .contains(": `target.dir` must not be inside the content root ")
            && run
                .stderr
                .ends_with("content (nor contain it): its objects would be mixed with the pages\n"),
        "{}",
        run.dump()
    );
}

#[test]
fn check_given_a_path_it_does_not_read_fails_naming_it() {
    let site = Site::empty("");
    site.write("content/a.md", "# nothing to lift\n");
    site.write("README.md", "![a](content/a.png)\n");
    site.write("content/a.png", fixture_bytes(PNG));
    let run = site.run(&["check", "README.md", "content/a.md"]);
    run.expect_code(1);
    assert_eq!(
        run.stderr_line("README.md:1:1"),
        "README.md:1:1: error: no page here is read by imglift (outside the content roots, \
         excluded by include/exclude, hidden, or inside the store); not checked"
    );
    site.run(&["check", "content/a.md"]).expect_code(0);
}
