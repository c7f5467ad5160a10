//! The promise "nothing escapes the root or the output", tried as an attacker (a committed
//! symlink, a swapped file, a crafted config) and a careless user (`--out` a link to `.`) would.
//! Each test checks what a user would: the files outside are untouched, the store holds only
//! images from inside the root, and the run says why it refused.

use std::path::{Path, PathBuf};

use crate::support::*;

const PNG: &str = "hugo/static/img/diagram.png";
const OTHER_PNG: &str = "demo/static/images/avatar.png";
const PAGE: &str = "# Post\n\n![a](a.png)\n";

/// A site with one page referencing one image, and a folder outside the root.
fn site(extra: &str) -> (Site, PathBuf) {
    let site = Site::empty(extra);
    site.write("content/post.md", PAGE);
    site.write("content/a.png", fixture_bytes(PNG));
    let elsewhere = site.outside("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    (site, elsewhere)
}

/// Every regular file below `dir` (links not followed), with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), read(e.path())))
        .collect()
}

#[cfg(unix)]
#[test]
fn a_linked_folder_in_the_out_tree_is_not_written_through() {
    let (site, elsewhere) = site("");
    std::fs::create_dir_all(site.path("build")).unwrap();
    symlink(&elsewhere, &site.path("build/content"));
    let run = site.run(&["sync", "--out", "build"]);
    run.expect_code(1);
    assert!(files(&elsewhere).is_empty(), "written through the link");
    assert!(run.stderr.contains("symbolic link"), "{}", run.dump());
    assert_eq!(site.read_string("content/post.md"), PAGE);
}

#[cfg(unix)]
#[test]
fn a_linked_file_in_the_out_tree_is_replaced_not_written_through() {
    let (site, elsewhere) = site("");
    site.write("content/notes.txt", "mirrored\n");
    let victim = elsewhere.join("victim.md");
    let victim_txt = elsewhere.join("victim.txt");
    write(&victim, "keep me\n");
    write(&victim_txt, "keep me too\n");
    std::fs::create_dir_all(site.path("build/content")).unwrap();
    symlink(&victim, &site.path("build/content/post.md"));
    symlink(&victim_txt, &site.path("build/content/notes.txt"));
    site.run(&["sync", "--out", "build"]).expect_code(0);
    assert_eq!(read_string(&victim), "keep me\n");
    assert_eq!(read_string(&victim_txt), "keep me too\n");
    for rel in ["build/content/post.md", "build/content/notes.txt"] {
        let meta = std::fs::symlink_metadata(site.path(rel)).unwrap();
        assert!(meta.is_file(), "{rel} is still a link");
    }
    assert!(site
        .read_string("build/content/post.md")
        .contains(PUBLIC_URL));
    assert_eq!(site.read_string("build/content/notes.txt"), "mirrored\n");
}

#[cfg(unix)]
#[test]
fn out_given_as_a_link_to_the_root_is_refused() {
    let (site, _) = site("");
    symlink(Path::new("."), &site.path("mirror"));
    symlink(&site.path("content"), &site.path("contentlink"));
    for out in ["mirror", "contentlink/..", "./mirror/"] {
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
        assert_eq!(site.read_string("content/post.md"), PAGE);
    }
}

#[cfg(unix)]
#[test]
fn a_linked_folder_in_the_dir_store_receives_nothing() {
    let (site, elsewhere) = site("key: \"img/{fileName}.{extName}\"\n");
    std::fs::create_dir_all(site.path("store")).unwrap();
    symlink(&elsewhere, &site.path("store/img"));
    let run = site.run(&["sync"]);
    run.expect_code(3);
    assert!(
        files(&elsewhere).is_empty(),
        "an object went through the link"
    );
    assert_eq!(site.read_string("content/post.md"), PAGE);
    assert!(run.stderr.contains("symbolic link"), "{}", run.dump());
}

#[test]
fn content_static_and_store_stay_inside_the_root() {
    let (site, elsewhere) = site("");
    write(&elsewhere.join("other.md"), PAGE);
    write(&elsewhere.join("a.png"), fixture_bytes(PNG));
    let base = format!("public_url: {PUBLIC_URL}\n");
    for (config, key) in [
        ("content: [../elsewhere]\ntarget: {dir: store}\n", "content"),
        (
            "content: [content, ../elsewhere]\ntarget: {dir: store}\n",
            "content",
        ),
        ("static: [../elsewhere]\ntarget: {dir: store}\n", "static"),
        ("target: {dir: ../store}\n", "target.dir"),
        ("target: {dir: content/store}\n", "target.dir"),
    ] {
        site.write("imglift.yaml", format!("{base}{config}"));
        let run = site.run(&["sync"]);
        run.expect_code(2);
        assert!(
            run.stderr.contains(&format!("`{key}`")),
            "{config}\n{}",
            run.dump()
        );
        assert_eq!(read_string(&elsewhere.join("other.md")), PAGE);
        assert_eq!(site.read_string("content/post.md"), PAGE);
        assert!(!site.outside("store").exists());
    }
    // A store elsewhere is fine when named by an absolute path.
    let store = site.outside("abs-store");
    site.write(
        "imglift.yaml",
        format!("{base}target: {{dir: {}}}\n", store.display()),
    );
    site.run(&["sync"]).expect_code(0);
    assert_eq!(files(&store).len(), 1);
}

#[test]
fn a_filesystem_root_or_system_folder_is_not_a_site_root() {
    let (site, _) = site("");
    for root in ["/", "/proc", "/etc", "/usr"] {
        site.write(
            "imglift.yaml",
            format!("root: {root}\npublic_url: {PUBLIC_URL}\ncontent: [content]\n"),
        );
        let run = site.run(&["check"]);
        run.expect_code(2);
        assert!(run.stderr.contains("site root"), "{root}\n{}", run.dump());
    }
}

#[test]
fn bucket_and_prefix_cannot_leave_the_bucket() {
    let (site, _) = site("");
    for (s3, key) in [
        ("bucket: ../x", "target.s3.bucket"),
        ("bucket: Blog", "target.s3.bucket"),
        ("bucket: a..b", "target.s3.bucket"),
        ("bucket: blog\n    prefix: ../../x", "target.s3.prefix"),
        ("bucket: blog\n    prefix: a/./b", "target.s3.prefix"),
        ("bucket: blog\n    prefix: a//b", "target.s3.prefix"),
    ] {
        site.write(
            "imglift.yaml",
            format!(
                "public_url: {PUBLIC_URL}\ntarget:\n  s3:\n    endpoint: http://127.0.0.1:9\n    {s3}\n"
            ),
        );
        let run = site.run_env(
            &["sync"],
            &[
                ("IMGLIFT_ACCESS_KEY_ID", "AKIAXXXX"),
                ("IMGLIFT_SECRET_ACCESS_KEY", "secretsecret"),
            ],
        );
        run.expect_code(2);
        assert!(run.stderr.contains(key), "{s3}\n{}", run.dump());
    }
}

/// Text behind an image signature ("BMW…" has BMP's `BM`) is not an image; neither is any of
/// the other weak signatures followed by text.
#[test]
fn text_with_an_image_signature_is_not_published() {
    let (site, _) = site("");
    let fakes: [(&str, &[u8]); 5] = [
        (
            "notes.png",
            b"BMW service log: oil changed, brakes checked, all good\n",
        ),
        (
            "tiff.png",
            b"II*\0 a note that only starts like a TIFF file\n",
        ),
        (
            "ico.png",
            b"\0\0\x01\0 a note that only starts like an icon\n",
        ),
        (
            "gif.png",
            b"GIF89a is my favourite format, said the log file\n",
        ),
        (
            "jpg.png",
            b"\xff\xd8\xff and some words that are not JPEG segments\n",
        ),
    ];
    let mut page = String::from("# Fakes\n\n");
    for (name, bytes) in fakes {
        site.write(format!("content/{name}"), bytes);
        page.push_str(&format!("![f]({name})\n"));
    }
    site.write("content/fakes.md", &page);
    let run = site.run(&["sync"]);
    run.expect_code(1);
    for (i, (name, _)) in fakes.iter().enumerate() {
        let line = run.stderr_line(&format!("content/fakes.md:{}:6", i + 3));
        assert!(line.contains("not an image"), "{name}: {line}");
    }
    assert_eq!(site.read_string("content/fakes.md"), page);
    let stored = files(&site.path("store"));
    assert_eq!(stored.len(), 1, "only a.png: {stored:?}");
    assert_eq!(stored[0].1, fixture_bytes(PNG));
}

#[test]
fn svg_that_can_run_script_is_refused_unless_allowed() {
    let (site, _) = site("");
    let svgs = [
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><a href=\"jav&#x61;script:x()\"><text>t</text></a></svg>",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><foreignObject><div/></foreignObject></svg>",
    ];
    let mut page = String::from("# SVG\n\n");
    for (i, svg) in svgs.iter().enumerate() {
        site.write(format!("content/s{i}.svg"), svg);
        page.push_str(&format!("![s](s{i}.svg)\n"));
    }
    site.write("content/svg.md", &page);
    for args in [&["check"][..], &["sync"][..]] {
        let run = site.run(args);
        run.expect_code(1);
        for i in 0..svgs.len() {
            let line = run.stderr_line(&format!("content/svg.md:{}:6", i + 3));
            assert!(line.contains("allow_svg_scripts"), "{line}");
        }
    }
    assert_eq!(site.read_string("content/svg.md"), page);
    assert_eq!(files(&site.path("store")).len(), 1);
    // Allowed on purpose: published.
    site.write(
        "imglift.yaml",
        format!("public_url: {PUBLIC_URL}\ntarget: {{dir: store}}\nallow_svg_scripts: true\n"),
    );
    site.run(&["sync"]).expect_code(0);
    assert_eq!(files(&site.path("store")).len(), 1 + svgs.len());
}

/// A FIFO, in place of an image or a page, is skipped without being opened (the run does not
/// hang waiting for a writer).
#[cfg(unix)]
#[test]
fn special_files_are_skipped_without_opening_them() {
    let (site, _) = site("");
    site.write("content/fifo.md", "![p](pipe.png)\n");
    for fifo in ["content/pipe.png", "content/pipe.md"] {
        let status = std::process::Command::new("mkfifo")
            .arg(site.path(fifo))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let run = site.run(&["sync"]);
    run.expect_code(1);
    assert!(run
        .stderr_line("content/fifo.md:1:6")
        .contains("not a regular file"));
    assert!(site.read_string("content/post.md").contains(PUBLIC_URL));
    let run = site.run(&["sync", "--out", "build"]);
    run.expect_code(1);
    assert!(!site.path("build/content/pipe.png").exists());
}

/// How long each state of a swap holds, so that each is seen about half the time (this paces
/// the swapping thread; nothing is asserted about time).
#[cfg(unix)]
const HOLD: std::time::Duration = std::time::Duration::from_micros(50);

/// The race: while `sync` runs, the image is swapped again and again between a real image in
/// the root and a link to an image outside it (both states are one rename away, so each holds
/// about half the time). Whatever the timing, the outside image is never uploaded.
#[cfg(unix)]
#[test]
fn a_symlink_swapped_in_while_sync_runs_is_never_uploaded() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (site, elsewhere) = site("");
    let secret = fixture_bytes(OTHER_PNG);
    let outside = elsewhere.join("private.png");
    write(&outside, &secret);
    // A hidden copy inside the root: a hard link to it is as quick to make as a symlink.
    site.write("content/.master.png", fixture_bytes(PNG));
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let image = site.path("content/a.png");
        let master = site.path("content/.master.png");
        let tmp_link = site.path("content/.swap-link");
        let tmp_file = site.path("content/.swap-file");
        let outside = outside.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            // Bounded: at most ten million swaps, or until told to stop.
            while !stop.load(Ordering::Relaxed) && swaps < 10_000_000 {
                let _ = std::fs::remove_file(&tmp_link);
                std::os::unix::fs::symlink(&outside, &tmp_link).unwrap();
                std::fs::rename(&tmp_link, &image).unwrap();
                std::thread::sleep(HOLD);
                let _ = std::fs::remove_file(&tmp_file);
                std::fs::hard_link(&master, &tmp_file).unwrap();
                std::fs::rename(&tmp_file, &image).unwrap();
                std::thread::sleep(HOLD);
                swaps += 1;
            }
            swaps
        })
    };
    let uploaded = sync_rounds_during_a_race(&site, PAGE, &secret);
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0);
    // The race really ran both ways: some rounds found the real image and uploaded it.
    assert!(uploaded > 0, "no round uploaded the real image");
}

/// The same race one level up: the image's folder is moved aside and a link to an outside
/// folder holding an image of the same name is put in its place, again and again. Opening the
/// file without following a link at its last component is not enough here; the handle must
/// still be the file inside the root.
#[cfg(unix)]
#[test]
fn a_folder_swapped_for_a_link_while_sync_runs_is_never_uploaded() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (site, elsewhere) = site("");
    let secret = fixture_bytes(OTHER_PNG);
    write(&elsewhere.join("a.png"), &secret);
    site.write("content/imgs/a.png", fixture_bytes(PNG));
    let page = "# Post\n\n![a](imgs/a.png)\n";
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let folder = site.path("content/imgs");
        let aside = site.path("content/.imgs-aside");
        let elsewhere = elsewhere.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            // Bounded: at most ten million swaps, or until told to stop.
            while !stop.load(Ordering::Relaxed) && swaps < 10_000_000 {
                std::fs::rename(&folder, &aside).unwrap();
                std::os::unix::fs::symlink(&elsewhere, &folder).unwrap();
                std::thread::sleep(HOLD);
                std::fs::remove_file(&folder).unwrap();
                std::fs::rename(&aside, &folder).unwrap();
                std::thread::sleep(HOLD);
                swaps += 1;
            }
            swaps
        })
    };
    let uploaded = sync_rounds_during_a_race(&site, page, &secret);
    stop.store(true, Ordering::Relaxed);
    assert!(swapper.join().unwrap() > 0);
    assert!(uploaded > 0, "no round uploaded the real image");
}

/// Sixty fresh `sync` runs of `page` while another thread swaps links in: none may store the
/// outside image `secret`. Returns how many objects the runs stored.
#[cfg(unix)]
fn sync_rounds_during_a_race(site: &Site, page: &str, secret: &[u8]) -> usize {
    let mut uploaded = 0;
    for round in 0..60 {
        let _ = std::fs::remove_file(site.path("imglift.lock"));
        let _ = std::fs::remove_file(site.path(".imglift-cache"));
        let _ = std::fs::remove_dir_all(site.path("store"));
        write(&site.path("content/post.md"), page);
        let run = site.run(&["sync"]);
        run.expect_no_panic();
        for (path, bytes) in files(&site.path("store")) {
            assert!(
                bytes != secret,
                "round {round}: the outside image was uploaded as {}",
                path.display()
            );
            uploaded += 1;
        }
    }
    uploaded
}
