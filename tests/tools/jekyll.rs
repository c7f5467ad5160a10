//! The Jekyll fixture (baseurl `/blog`, `{{ site.baseurl }}` image paths, a front-matter cover,
//! one reference broken before imglift) built with the real `jekyll`, before and after the
//! README's Jekyll recipe `imglift sync --out _build && jekyll build --source _build`, run as
//! written with `sh` (Jekyll writes `./_site`, as a plain `jekyll build` does).

use std::time::Instant;

use crate::support::*;

#[test]
fn jekyll_build_from_the_out_tree_shows_every_picture_from_the_public_url() {
    require("jekyll");
    let tmp = tempfile::tempdir().unwrap();
    // Jekyll drops .jekyll-cache/ in its source: build copies, never the fixture.
    let orig = fixture_copy("jekyll", tmp.path(), "orig");
    let site = fixture_copy("jekyll", tmp.path(), "site");
    let orig_out = tmp.path().join("orig-out");
    let started = Instant::now();
    run_ok(
        require("jekyll")
            .current_dir(&orig)
            .args(["build", "--quiet", "--destination"])
            .arg(&orig_out),
        "jekyll build (original site)",
    );

    // `content: [.]`: the whole site is mirrored into _build (Jekyll's own folders included,
    // imglift's files and hidden folders left out), so Jekyll builds it as it is.
    // The broken reference is a warning: the `&&` goes on to jekyll.
    let recipe = readme_recipe("**Jekyll**");
    assert_eq!(
        recipe,
        "imglift sync --out _build && jekyll build --source _build"
    );
    let out = run_recipe(&site, &recipe);
    let printed = dump(&out);
    assert!(
        printed.contains("_posts/2024-02-14-images-in-jekyll.md:27:15: warning: image"),
        "{printed}"
    );
    for f in [
        "_config.yml",
        "_layouts/post.html",
        "index.html",
        "_posts/2024-01-02-first.md",
    ] {
        assert!(
            site.join("_build").join(f).is_file(),
            "_build/{f} missing\n{printed}"
        );
    }
    assert!(
        printed.contains(
            "imglift sync: 2 pages, 5 references rewritten in 2 pages; 5 images: 5 uploaded"
        ),
        "{printed}"
    );
    assert!(!site.join("_build/imglift.yaml").exists());
    let new_out = site.join("_site");
    eprintln!("jekyll: two builds and a sync in {:.2?}", started.elapsed());

    let address = SiteAddress {
        origin: "https://jekyll.example.com",
        base_path: "/blog",
    };
    let (lifted, broken) =
        compare_builds(&orig_out, &new_out, &site.join(".imglift-store"), &address);
    eprintln!("jekyll: {lifted} pictures now from {PUBLIC_URL}, broken: {broken:?}");
    let broken_urls: Vec<&str> = broken.iter().map(|(_, u)| u.as_str()).collect();
    assert_eq!(
        broken_urls,
        ["/blog/assets/img/floor-plan.png"],
        "only the fixture's broken reference may stay local"
    );
    // a, b, c, d, the cover on its post, its og:image, and the home page thumbnail.
    assert_eq!(lifted, 7, "pictures moved to the public URL");
    assert_no_imglift_files(&new_out);

    let post = read_string(&new_out.join("2024/01/02/first/index.html"));
    assert!(
        post.contains(&format!(
            "<meta property=\"og:image\" content=\"{PUBLIC_URL}/"
        )),
        "og:image of the post with a cover:\n{post}"
    );
    assert!(
        post.contains(&format!("<img class=\"cover\" src=\"{PUBLIC_URL}/")),
        "cover of the post:\n{post}"
    );
    assert!(
        !post.contains("site.baseurl"),
        "Liquid left in the page:\n{post}"
    );
    let home = site_images(&new_out)["index.html"].clone();
    assert_eq!(home.len(), 1);
    assert!(home[0].starts_with(PUBLIC_URL), "home thumbnail {home:?}");

    // In place (the pre-commit hook's way): the site root now holds imglift.yaml, imglift.lock
    // and .imglift-cache, and a plain `jekyll build` there publishes none of them (the first two
    // are listed under `exclude:` in _config.yml, as the README says to).
    let in_place = run_imglift(&orig, &["sync"], &[]);
    in_place.expect_code(0);
    for own in ["imglift.yaml", "imglift.lock", ".imglift-cache"] {
        assert!(orig.join(own).exists(), "{own} after an in-place sync");
    }
    let in_place_out = orig.join("_site");
    run_ok(
        require("jekyll")
            .current_dir(&orig)
            .args(["build", "--quiet"]),
        "jekyll build (in place, after imglift sync)",
    );
    assert_no_imglift_files(&in_place_out);
    let (lifted, broken) = compare_builds(
        &orig_out,
        &in_place_out,
        &orig.join(".imglift-store"),
        &address,
    );
    assert_eq!((lifted, broken.len()), (7, 1), "{broken:?}");
}
