//! The Hugo fixture built with the real `hugo`, before and after the README's Hugo recipe
//! (`imglift sync --out build && hugo --contentDir build/content`), run as written with `sh`
//! on a site with two references that were broken before imglift.

use std::time::Instant;

use crate::support::*;

/// Pictures of the Hugo fixture's build (every `<img>`, `srcset` URL and og:image of its 6 pages)
/// that come from the public URL after the recipe: those of the 26 references rewritten in the
/// pages, the front-matter covers shown again as og:image and as home-page thumbnails.
pub(crate) const LIFTED: usize = 39;
/// Pictures left pointing at the site's two broken references.
pub(crate) const BROKEN: usize = 2;
/// HTML pages Hugo generates for the fixture (posts, lists, taxonomies, 404).
const PAGES: usize = 6;

#[test]
fn hugo_build_from_the_out_tree_shows_every_picture_from_the_public_url() {
    require("hugo");
    let tmp = tempfile::tempdir().unwrap();
    // Hugo drops .hugo_build.lock and resources/ in the site: build copies, never the fixture.
    let orig = fixture_copy("hugo", tmp.path(), "orig");
    let site = fixture_copy("hugo", tmp.path(), "site");
    let orig_out = tmp.path().join("orig-out");
    let started = Instant::now();
    run_ok(
        require("hugo")
            .current_dir(&orig)
            .args(["--quiet", "--destination"])
            .arg(&orig_out),
        "hugo (original site)",
    );

    // The fixture has two broken references on purpose: sync lifts everything else and warns
    // (exit 0), so the `&&` goes on to hugo, which writes ./public as usual.
    let recipe = readme_recipe("**Hugo**");
    assert_eq!(
        recipe,
        "imglift sync --out build && hugo --contentDir build/content"
    );
    let out = run_recipe(&site, &recipe);
    let printed = dump(&out);
    assert!(
        site.join("build/content/posts/trip/index.md").is_file(),
        "the out tree mirrors content/ at build/content\n{printed}"
    );
    for pos in ["hello.md:53:22", "hello.md:55:18"] {
        assert!(
            printed.contains(&format!("content/posts/{pos}: warning: image")),
            "the broken reference at {pos} is a warning\n{printed}"
        );
    }
    assert!(
        printed.contains(
            "imglift sync: 5 pages, 26 references rewritten in 4 pages; 20 images: 20 uploaded"
        ),
        "{printed}"
    );
    let new_out = site.join("public");
    eprintln!("hugo: two builds and a sync in {:.2?}", started.elapsed());

    let address = SiteAddress {
        origin: "https://hugo.example.com",
        base_path: "",
    };
    let (lifted, broken) =
        compare_builds(&orig_out, &new_out, &site.join(".imglift-store"), &address);
    eprintln!("hugo: {lifted} pictures now from {PUBLIC_URL}, broken: {broken:?}");
    let mut broken_urls: Vec<&str> = broken.iter().map(|(_, u)| u.as_str()).collect();
    broken_urls.sort();
    broken_urls.dedup();
    assert_eq!(
        broken_urls,
        ["/img/Photo.JPG", "/img/chart-2019.png"],
        "only the fixture's two broken references may stay local"
    );
    assert_eq!(broken.len(), BROKEN, "{broken:?}");
    assert_eq!(lifted, LIFTED, "pictures moved to the public URL");
    assert_no_imglift_files(&new_out);

    // The front-matter covers: page-bundle resource (trip), static path (hello) and the
    // og:image of each, all from the image domain now.
    let after = site_images(&new_out);
    for page in [
        "posts/trip/index.html",
        "posts/hello/index.html",
        "posts/windows/index.html",
    ] {
        let html = read_string(&new_out.join(page));
        let og = html
            .lines()
            .find(|l| l.contains("og:image"))
            .unwrap_or_else(|| panic!("{page} has no og:image"));
        assert!(
            og.contains(&format!("content=\"{PUBLIC_URL}/")),
            "{page}: {og}"
        );
        assert!(
            html.contains(&format!("<img class=\"cover\" src=\"{PUBLIC_URL}/")),
            "{page}: the cover is not served from {PUBLIC_URL}"
        );
        assert!(!after[page].is_empty());
    }
    // The home page's thumbnails come from the same covers.
    let home = &after["index.html"];
    assert_eq!(
        home.iter().filter(|u| u.starts_with(PUBLIC_URL)).count(),
        4,
        "home page thumbnails: {home:?}"
    );
    assert_eq!(home.len(), 4, "home page thumbnails: {home:?}");
    assert_eq!(after.len(), PAGES, "pages: {:?}", after.keys());
}

/// The README's way to build even when uploads failed (`imglift sync --out build || [ $? -eq 3 ];
/// hugo …`), copied from the README and run with `sh -e`, on a site whose store cannot take a
/// single object: imglift exits 3, Hugo still builds, and every page shows the pictures it
/// showed before, from the site's own files.
#[test]
fn the_exit_3_recipe_builds_the_site_with_the_failed_images_still_local() {
    require("hugo");
    let readme = read_string(&repo().join("README.md"));
    let recipe = readme
        .lines()
        .find_map(|l| {
            let at = l.find("`imglift sync --out build || [ $? -eq 3 ]")?;
            let rest = &l[at + 1..];
            Some(rest[..rest.find('`')?].to_string())
        })
        .expect("README.md has the `|| [ $? -eq 3 ]` recipe");
    assert_eq!(
        recipe,
        "imglift sync --out build || [ $? -eq 3 ]; hugo --contentDir build/content"
    );
    let tmp = tempfile::tempdir().unwrap();
    let orig = fixture_copy("hugo", tmp.path(), "orig");
    let orig_out = tmp.path().join("orig-out");
    run_ok(
        require("hugo")
            .current_dir(&orig)
            .args(["--quiet", "--destination"])
            .arg(&orig_out),
        "hugo (original site)",
    );
    let site = fixture_copy("hugo", tmp.path(), "site");
    // A file where the store folder must go: every upload fails.
    write(&site.join(".imglift-store"), "not a folder");
    let content = snapshot(&site.join("content"));
    let out = run_recipe(&site, &recipe);
    let printed = dump(&out);
    assert!(
        printed.contains(
            "imglift sync: 5 pages, 0 references rewritten in 0 pages; 20 images: 0 uploaded \
             (0 B), 0 already stored, 20 failed; "
        ),
        "{printed}"
    );
    assert_same_tree(&content, &snapshot(&site.join("content")), true, "content/");
    assert_eq!(
        site_images(&site.join("public")),
        site_images(&orig_out),
        "every page shows the pictures it showed before\n{printed}"
    );
    assert!(
        !site.join("imglift.lock").exists() || {
            let m = read_string(&site.join("imglift.lock"));
            m.lines().all(|l| l.starts_with('#'))
        }
    );
}
