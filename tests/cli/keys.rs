//! Object keys from the key template: collisions between different files, identical files
//! sharing one object, and overwriting under a key without the hash.

use std::path::PathBuf;

use crate::sites::{self, lift};
use crate::support::*;

/// a/x.png and b/x.png with different bytes, plus an unrelated ok.jpg, with key `key`.
fn two_x_png(key: &str) -> Site {
    let site = Site::empty(&format!("key: \"{key}\"\n"));
    site.write(
        "content/a/x.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site.write(
        "content/b/x.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write(
        "content/ok.jpg",
        fixture_bytes("demo/static/images/hero.jpg"),
    );
    site.write("content/p.md", PAGE);
    site
}

const PAGE: &str = "![a](a/x.png)\n\n![b](b/x.png)\n\n![ok](ok.jpg)\n";

/// `content/p.md` showing `content/x.png` (the demo avatar), with key `key`, synced once into
/// the out tree `<tmp>/out`, which is returned.
fn one_x_png_synced_out(key: &str) -> (Site, PathBuf) {
    let site = Site::empty(&format!("key: \"{key}\"\n"));
    site.write(
        "content/x.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site.write("content/p.md", "![x](x.png)\n");
    let out = site.outside("out");
    site.run(&["sync", "--out", out.to_str().unwrap()])
        .expect_code(0);
    (site, out)
}

#[test]
fn two_files_on_one_key_are_an_error_naming_both_and_neither_is_uploaded() {
    let site = two_x_png("{fileName}.{extName}");
    let run = site.run(&["sync"]);
    run.expect_code(1);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("content/a/x.png") && l.contains("content/b/x.png"))
        .unwrap_or_else(|| panic!("no message naming both files\n{}", run.dump()));
    assert!(line.contains("x.png"), "{line}");
    assert!(!site.exists("store/x.png"), "a colliding file was uploaded");
    let manifest = site.read_string("imglift.lock");
    assert!(!manifest.contains("x.png"), "{manifest}");
    // Both references stay local; the unrelated image is lifted.
    let new = site.read_string("content/p.md");
    assert_eq!(
        new,
        PAGE.replace("](ok.jpg)", &format!("]({PUBLIC_URL}/ok.jpg)"))
    );
    assert_eq!(
        site.read("store/ok.jpg"),
        fixture_bytes("demo/static/images/hero.jpg")
    );
    // check does not see a collision (it plans nothing) but still lists the work.
    site.run(&["check"]).expect_code(1);
}

#[test]
fn same_name_different_bytes_under_the_default_key_are_two_objects() {
    let site = two_x_png("{hash:16}/{fileName}.{extName}");
    site.run(&["sync"]).expect_code(0);
    sites::assert_only_destinations_changed(
        site.root(),
        &site.path("store"),
        "content/p.md",
        PAGE.as_bytes(),
        &site.read("content/p.md"),
        &[
            lift(1, "a/x.png", "content/a/x.png"),
            lift(3, "b/x.png", "content/b/x.png"),
            lift(5, "ok.jpg", "content/ok.jpg"),
        ],
    );
    assert_eq!(sites::store_keys(&site.path("store")).len(), 3);
}

#[test]
fn identical_files_with_the_same_name_share_one_object() {
    let site = Site::empty("key: \"{fileName}.{extName}\"\n");
    let bytes = fixture_bytes("demo/static/images/avatar.png");
    site.write("content/a/x.png", &bytes);
    site.write("content/b/x.png", &bytes);
    site.write("content/p.md", "![a](a/x.png)\n![b](b/x.png)\n");
    site.run(&["sync"]).expect_code(0);
    assert_eq!(
        site.read_string("content/p.md"),
        format!("![a]({PUBLIC_URL}/x.png)\n![b]({PUBLIC_URL}/x.png)\n")
    );
    assert_eq!(site.read("store/x.png"), bytes);
    assert_eq!(sites::store_keys(&site.path("store")).len(), 1);
}

#[test]
fn changed_image_under_a_key_without_hash_overwrites_the_object_with_a_warning() {
    let (site, out) = one_x_png_synced_out("img/{fileName}.{extName}");
    let out_arg = out.to_str().unwrap();
    let new_bytes = fixture_bytes("hugo/static/img/diagram.png");
    site.write("content/x.png", &new_bytes);
    let run = site.run(&["sync", "--out", out_arg]);
    run.expect_code(0);
    // A warning (the run succeeds), labelled as one, naming the key.
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("`img/x.png`") && l.contains("CDN"))
        .unwrap_or_else(|| panic!("overwriting should warn about CDN caches\n{}", run.dump()));
    assert!(
        line.starts_with("content/x.png:1:1: warning: "),
        "the overwrite notice is a warning, not an error: {line}"
    );
    assert_eq!(site.read("store/img/x.png"), new_bytes);
    assert_eq!(
        std::fs::read_to_string(out.join("content/p.md")).unwrap(),
        format!("![x]({PUBLIC_URL}/img/x.png)\n")
    );
    let manifest = site.read_string("imglift.lock");
    assert_eq!(
        manifest
            .lines()
            .filter(|l| l.starts_with("img/x.png\t"))
            .count(),
        1,
        "{manifest}"
    );
}

#[test]
fn picgo_style_dated_key_keeps_its_date_on_later_runs() {
    let (site, out) = one_x_png_synced_out("{year}/{month}/{fileName}.{extName}");
    let out_arg = out.to_str().unwrap();
    let page = std::fs::read_to_string(out.join("content/p.md")).unwrap();
    let key = page
        .trim_end()
        .strip_prefix(&format!("![x]({PUBLIC_URL}/"))
        .and_then(|k| k.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{page}"))
        .to_string();
    let parts: Vec<&str> = key.split('/').collect();
    assert!(
        parts.len() == 3 && parts[0].len() == 4 && parts[1].len() == 2 && parts[2] == "x.png",
        "{key}"
    );
    // The manifest records the first upload date; the key is built from it.
    let manifest = site.read_string("imglift.lock");
    let row = manifest.lines().find(|l| l.starts_with(&key)).unwrap();
    let date = row.rsplit('\t').next().unwrap();
    assert_eq!(&date[..7], format!("{}-{}", parts[0], parts[1]));
    // Pretend the first upload was long ago: the key must follow the recorded date.
    let old_row = row
        .replace(date, "2019-04-07")
        .replace(&key, "2019/04/x.png");
    site.write("imglift.lock", manifest.replace(row, &old_row));
    std::fs::create_dir_all(site.path("store/2019/04")).unwrap();
    std::fs::copy(
        site.path("store").join(&key),
        site.path("store/2019/04/x.png"),
    )
    .unwrap();
    site.run(&["sync", "--out", out_arg]).expect_code(0);
    assert_eq!(
        std::fs::read_to_string(out.join("content/p.md")).unwrap(),
        format!("![x]({PUBLIC_URL}/2019/04/x.png)\n")
    );
}

#[test]
fn a_key_over_1024_bytes_is_refused_at_plan_time_naming_the_page() {
    let site = Site::empty("key: \"{path}/{fileName}.{extName}\"\n");
    let deep: String = (0..5)
        .map(|i| format!("{}/", format!("{i}").repeat(220)))
        .collect();
    site.write(
        format!("content/{deep}x.png"),
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site.write(
        "content/ok.jpg",
        fixture_bytes("demo/static/images/hero.jpg"),
    );
    site.write(
        "content/p.md",
        format!("# P\n\n![x]({deep}x.png)\n\n![ok](ok.jpg)\n"),
    );
    let run = site.run(&["sync"]);
    run.expect_code(1);
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("content/p.md:3:6"))
        .unwrap_or_else(|| panic!("no error at the reference\n{}", run.dump()));
    assert_eq!(
        line,
        format!("content/p.md:3:6: error: image `{deep}x.png` refused: its key is 1118 bytes, more than the 1024 that R2 and S3 accept; not uploaded (shorten the file name or the folders in `key`)")
    );
    // Nothing was stored under the long key; the other image was lifted.
    let manifest = site.read_string("imglift.lock");
    assert!(!manifest.contains("x.png"), "{manifest}");
    assert!(manifest.contains("ok.jpg"), "{manifest}");
    let page = site.read_string("content/p.md");
    assert!(page.contains(&format!("]({deep}x.png)")), "{page}");
    assert!(!page.contains("](ok.jpg)"), "{page}");
}
