//! The mdBook fixture (`fixtures/mdbook`: chapters under `src/`, images written relative to the
//! chapter that shows them, one chapter in a subfolder reaching up with `../`) built with the
//! real `mdbook`, before and after the README's mdBook recipe
//! (`imglift sync --out build && MDBOOK_BOOK__SRC=build/src mdbook build`), run as written with
//! `sh`: every picture of the book comes from the public URL, with the same bytes, and none is
//! missing.

use std::time::Instant;

use crate::support::*;

/// Local pictures the book shows: the 9 references of its chapters (one of them a reference-style
/// definition, two in a `<picture>`), mdBook 0.5 writing each Markdown image (not raw HTML) twice
/// (the picture and its zoomed copy): 14 in the chapters' pages, the same 14 on the print page.
const LIFTED: usize = 28;

#[test]
fn mdbook_build_from_the_out_tree_shows_every_picture_from_the_public_url() {
    require("mdbook");
    let tmp = tempfile::tempdir().unwrap();
    let orig = fixture_copy("mdbook", tmp.path(), "orig");
    let site = fixture_copy("mdbook", tmp.path(), "site");
    let orig_out = tmp.path().join("orig-out");
    let started = Instant::now();
    run_ok(
        require("mdbook")
            .current_dir(&orig)
            .args(["build", "--dest-dir"])
            .arg(&orig_out),
        "mdbook build (original book)",
    );

    let recipe = readme_recipe("**mdBook**");
    assert_eq!(
        recipe,
        "imglift sync --out build && MDBOOK_BOOK__SRC=build/src mdbook build"
    );
    let out = run_recipe(&site, &recipe);
    let printed = dump(&out);
    assert!(
        site.join("build/src/guide/setup.md").is_file(),
        "the out tree mirrors src/ at build/src\n{printed}"
    );
    assert!(
        printed.contains(
            "imglift sync: 5 pages, 9 references rewritten in 4 pages; 5 images: 5 uploaded"
        ),
        "{printed}"
    );
    let new_out = site.join("book");
    eprintln!("mdbook: two builds and a sync in {:.2?}", started.elapsed());

    let address = SiteAddress {
        origin: "https://book.example.com",
        base_path: "",
    };
    let (lifted, broken) =
        compare_builds(&orig_out, &new_out, &site.join(".imglift-store"), &address);
    eprintln!("mdbook: {lifted} pictures now from {PUBLIC_URL}");
    assert_eq!(broken, [], "no picture of the book is missing");
    assert_eq!(lifted, LIFTED, "pictures moved to the public URL");
    assert_no_imglift_files(&new_out);

    // The sources: 9 references rewritten, 5 objects, in the pages of the out tree only.
    let manifest = manifest_entries(&read_string(&site.join("imglift.lock")));
    let mut sources: Vec<&str> = manifest.iter().map(|e| e[4].as_str()).collect();
    sources.sort();
    assert_eq!(
        sources,
        [
            "src/guide/img/flow.gif",
            "src/guide/img/wide.webp",
            "src/images/avatar.png",
            "src/images/diagram.png",
            "src/images/photo.jpg"
        ]
    );
    let key = |source: &str| {
        manifest
            .iter()
            .find(|e| e[4] == source)
            .map(|e| format!("{PUBLIC_URL}/{}", e[0]))
            .unwrap()
    };
    // The chapter one folder down shows the introduction's diagram through `../`: the same
    // object, and the code block's image stays as written.
    let pages = site_images(&new_out);
    assert_eq!(
        pages["guide/setup.html"],
        [
            key("src/images/diagram.png"),
            key("src/images/diagram.png"),
            key("src/images/photo.jpg"),
            key("src/images/photo.jpg"),
            key("src/guide/img/flow.gif")
        ]
    );
    assert_eq!(
        pages["getting-started.html"],
        [
            key("src/images/photo.jpg"),
            key("src/images/photo.jpg"),
            key("src/images/avatar.png"),
            key("src/guide/img/wide.webp"),
            key("src/guide/img/flow.gif"),
            "https://example.org/remote.png".to_string(),
            "https://example.org/remote.png".to_string()
        ]
    );
    let chapter = read_string(&new_out.join("getting-started.html"));
    assert!(
        chapter.contains("not an image, just code](images/diagram.png)"),
        "the code block is left as written"
    );
    // In place, the chapters are untouched.
    assert_same_bytes(
        &read(&fixtures().join("mdbook/src/guide/setup.md")),
        &read(&site.join("src/guide/setup.md")),
        "src/guide/setup.md",
    );
}
