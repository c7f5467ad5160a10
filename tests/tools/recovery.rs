//! The README's Recovery recipes run as written, with the real `git`, on a site whose pages
//! were lifted in place: a wrong `public_url` is corrected with the `git grep | xargs sed`
//! line and nothing is uploaded again; an in-place rewrite is undone with `git restore`, and
//! the next `sync` reuses the objects that stayed in the store.

use std::path::Path;

use crate::support::*;

const WRONG: &str = "https://img.example.com";
const RIGHT: &str = "https://images.example.org";

fn git(dir: &Path, args: &[&str]) {
    let mut c = require("git");
    c.current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "imglift test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "imglift test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    run_ok(&mut c, &format!("git {}", args.join(" ")));
}

/// The text of the first `` `…` `` span of README.md that contains `needle`.
fn readme_code(needle: &str) -> String {
    let readme = read_string(&repo().join("README.md"));
    readme
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|code| code.contains(needle))
        .unwrap_or_else(|| panic!("README.md has no `…{needle}…`"))
        .to_string()
}

/// A two-page site in a git repository, lifted in place to `public_url` [`WRONG`].
fn lifted_site() -> Site {
    let site = Site::empty("front_matter: [image]\n");
    site.write(
        "static/img/a.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write(
        "content/b/photo.jpg",
        fixture_bytes("hugo/static/img/photo.jpg"),
    );
    site.write("content/a.md", "# A\n\n![a](/img/a.png)\n");
    site.write(
        "content/b/index.md",
        "---\nimage: photo.jpg\n---\n![b](photo.jpg \"t\") and ![a](/img/a.png)\n",
    );
    git(site.root(), &["init", "-q"]);
    git(site.root(), &["add", "-A"]);
    git(site.root(), &["commit", "-q", "-m", "site"]);
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains(
            "imglift sync: 2 pages, 4 references rewritten in 2 pages; 2 images: 2 uploaded"
        ),
        "{}",
        run.dump()
    );
    site
}

#[test]
fn a_wrong_public_url_is_fixed_with_the_readme_sed_line_and_nothing_is_uploaded_again() {
    let site = lifted_site();
    git(site.root(), &["add", "-A"]);
    git(site.root(), &["commit", "-q", "-m", "lifted"]);
    let wrong_pages = [
        site.read_string("content/a.md"),
        site.read_string("content/b/index.md"),
    ];
    let keys: Vec<Vec<String>> = wrong_pages.iter().map(|p| lifted_keys(p)).collect();
    assert_eq!(keys[1].len(), 3, "{}", wrong_pages[1]);
    let store = site.snapshot("store");
    let manifest = site.read_string("imglift.lock");

    // "set the right one, and change the old prefix back in the pages".
    let config = site.read_string("imglift.yaml").replace(WRONG, RIGHT);
    site.write("imglift.yaml", &config);
    let recipe = readme_code("git grep -l OLD");
    assert_eq!(recipe, "git grep -l OLD | xargs sed -i 's#OLD#NEW#g'");
    let recipe = recipe.replace("OLD", WRONG).replace("NEW", RIGHT);
    run_recipe(site.root(), &recipe);

    for (page, old) in ["content/a.md", "content/b/index.md"]
        .iter()
        .zip(&wrong_pages)
    {
        assert_eq!(site.read_string(page), old.replace(WRONG, RIGHT), "{page}");
    }
    // The keys stay the same: nothing to upload, nothing to rewrite, the gate passes.
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(
        run.stderr
            .contains("imglift sync: 2 pages, 0 references rewritten in 0 pages; 0 images: "),
        "{}",
        run.dump()
    );
    assert_same_tree(&store, &site.snapshot("store"), true, "the store");
    assert_eq!(site.read_string("imglift.lock"), manifest);
    site.run(&["check"]).expect_code(0);

    // With --out builds "just fix the config and rebuild": the keys the manifest knows, no upload.
    let site = lifted_site();
    git(site.root(), &["restore", "content/"]);
    let built = site.run(&["sync", "--out", "build"]);
    built.expect_code(0);
    let before = site.read_string("build/content/b/index.md");
    assert_eq!(lifted_keys(&before).len(), 3, "{before}");
    let store = site.snapshot("store");
    let config = site.read_string("imglift.yaml").replace(WRONG, RIGHT);
    site.write("imglift.yaml", &config);
    let rebuilt = site.run(&["sync", "--out", "build"]);
    rebuilt.expect_code(0);
    assert!(
        rebuilt
            .stderr
            .contains("2 images: 0 uploaded (0 B), 2 already stored, 0 failed"),
        "{}",
        rebuilt.dump()
    );
    assert_eq!(
        site.read_string("build/content/b/index.md"),
        before.replace(WRONG, RIGHT)
    );
    assert_same_tree(&store, &site.snapshot("store"), true, "the store");
}

#[test]
fn an_in_place_rewrite_is_undone_with_git_restore_and_the_next_sync_reuses_the_objects() {
    let site = lifted_site();
    let lifted = [
        site.read_string("content/a.md"),
        site.read_string("content/b/index.md"),
    ];
    let store = site.snapshot("store");
    let restore = readme_code("git restore content/");
    assert_eq!(restore, "git restore content/");
    run_recipe(site.root(), &restore);
    assert_eq!(
        site.read_string("content/a.md"),
        "# A\n\n![a](/img/a.png)\n"
    );
    site.run(&["check"]).expect_code(1);

    // Objects in the store stay; a later `sync` reuses them (the manifest still lists them).
    let again = site.run(&["sync"]);
    again.expect_code(0);
    assert!(
        again.stderr.contains(
            "imglift sync: 2 pages, 4 references rewritten in 2 pages; 2 images: 0 uploaded (0 B), \
             2 already stored, 0 failed"
        ),
        "{}",
        again.dump()
    );
    assert_eq!(site.read_string("content/a.md"), lifted[0]);
    assert_eq!(site.read_string("content/b/index.md"), lifted[1]);
    assert_same_tree(&store, &site.snapshot("store"), true, "the store");
}
