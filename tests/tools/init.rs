//! `imglift init` in copies of the fixture sites: the generator is recognised from its files,
//! the config it writes is accepted by the loader (`imglift check` runs on it), nothing secret
//! is written, an existing config is kept unless `--force`, and `.imglift-cache` is ignored.

use std::path::{Path, PathBuf};

use crate::support::*;

const FULL: [&str; 7] = [
    "init",
    "--bucket",
    "blog-images",
    "--account-id",
    "0123456789abcdef0123456789abcdef",
    "--public-url",
    "https://img.example.com",
];

/// A fixture site without its imglift.yaml.
fn bare(name: &str, tmp: &Path) -> PathBuf {
    let root = fixture_copy(name, tmp, name);
    std::fs::remove_file(root.join("imglift.yaml")).unwrap();
    root
}

#[test]
fn init_recognises_hugo_and_writes_an_r2_config_that_check_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = bare("hugo", tmp.path());
    write(&root.join(".gitignore"), "public/\nresources");
    let run = run_imglift(&root, &FULL, &[]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("wrote imglift.yaml for a Hugo site, recognised by config.toml"),
        "{}",
        run.dump()
    );
    for step in [
        "Create bucket `blog-images`",
        "Add custom domain `img.example.com`",
        "Object Read & Write",
        "Apply to specific bucket only",
        "export IMGLIFT_ACCESS_KEY_ID=",
        "export IMGLIFT_SECRET_ACCESS_KEY=",
        "imglift sync --dry-run",
        "hugo --contentDir build/content",
    ] {
        assert!(
            run.stdout.contains(step),
            "next steps lack `{step}`\n{}",
            run.dump()
        );
    }
    let config = read_string(&root.join("imglift.yaml"));
    for line in [
        "content: [content]",
        "static: [static]",
        "public_url: \"https://img.example.com\"",
        "bucket: \"blog-images\"",
        "account_id: \"0123456789abcdef0123456789abcdef\"",
        "region: auto",
    ] {
        assert!(config.contains(line), "config lacks `{line}`:\n{config}");
    }
    assert!(
        !config.to_lowercase().contains("secret_access_key:"),
        "{config}"
    );
    assert_eq!(
        read_string(&root.join(".gitignore")),
        "public/\nresources\n.imglift-cache\nbuild/\n",
        "the stat cache and the recipe's out folder are ignored"
    );
    assert!(run.stdout.contains("added .imglift-cache to .gitignore"));
    assert!(run.stdout.contains("added build/ to .gitignore"));

    // The loader accepts it: `check` runs and lists the local references (exit 1), not a
    // configuration error (exit 2).
    let check = run_imglift(&root, &["check"], &[]);
    check.expect_code(1);
    assert!(
        check.stdout.contains("content/posts/trip/index.md:5:8:"),
        "{}",
        check.dump()
    );
    assert!(
        check
            .stderr
            .contains("5 pages, 26 local references to lift"),
        "{}",
        check.dump()
    );

    // A second init keeps the file; --force replaces it; the .gitignore line is not repeated.
    let again = run_imglift(
        &root,
        &["init", "--public-url", "https://other.example.com"],
        &[],
    );
    again.expect_code(2);
    assert!(
        again.stderr.contains("already exists; pass --force"),
        "{}",
        again.dump()
    );
    assert_eq!(read_string(&root.join("imglift.yaml")), config);
    let forced = run_imglift(
        &root,
        &[
            "init",
            "--force",
            "--public-url",
            "https://other.example.com",
        ],
        &[],
    );
    forced.expect_code(0);
    let replaced = read_string(&root.join("imglift.yaml"));
    assert!(replaced.contains("public_url: \"https://other.example.com\""));
    assert!(
        replaced.contains("dir: imglift-store"),
        "no bucket: local folder\n{replaced}"
    );
    // The local folder store is ignored now too; no line is repeated.
    assert_eq!(
        read_string(&root.join(".gitignore")),
        "public/\nresources\n.imglift-cache\nbuild/\nimglift-store/\n"
    );
    assert!(
        forced.stdout.contains("added imglift-store/ to .gitignore"),
        "{}",
        forced.dump()
    );
}

#[test]
fn init_recognises_jekyll_and_zola_and_their_layouts_find_every_image() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, recognised, pending, recipe) in [
        (
            "jekyll",
            "a Jekyll site, recognised by _config.yml",
            "2 pages, 5 local references",
            "imglift sync --out _build && jekyll build --source _build\n",
        ),
        (
            "zola",
            "a Zola site, recognised by config.toml",
            "3 pages, 5 local references",
            "imglift sync && zola build",
        ),
    ] {
        let root = bare(name, tmp.path());
        let run = run_imglift(
            &root,
            &["init", "--public-url", "https://img.example.com"],
            &[],
        );
        run.expect_code(0);
        assert!(run.stdout.contains(recognised), "{}", run.dump());
        assert!(run.stdout.contains(recipe), "{}", run.dump());
        assert!(
            !root.join(".gitignore").exists(),
            "no .gitignore is created"
        );
        // Jekyll publishes every file: init prints the `exclude:` lines that keep imglift's
        // files out of _site, except those _config.yml already lists (the fixture lists
        // imglift.yaml and imglift.lock, not the local folder store).
        assert_eq!(
            run.stdout.contains("under `exclude:` in _config.yml"),
            name == "jekyll",
            "{}",
            run.dump()
        );
        assert_eq!(run.stdout.contains("  - imglift-store\n"), name == "jekyll");
        assert!(!run.stdout.contains("  - imglift.lock\n"), "{}", run.dump());
        if name == "jekyll" {
            // The README's Jekyll recipe: `content: [.]`, `static: [.]`, and `"_build/**"` and
            // `"_site/**"` under `exclude` ("`imglift init` does").
            let config = read_string(&root.join("imglift.yaml"));
            let line = |key: &str| {
                config
                    .lines()
                    .find(|l| l.starts_with(key))
                    .unwrap_or_else(|| panic!("no `{key}`\n{config}"))
                    .to_string()
            };
            // `line` panics naming the key when it is missing.
            line("content: [.] ");
            line("static: [.] ");
            let exclude = line("exclude: [");
            assert!(
                exclude.contains("\"_site/**\"") && exclude.contains("\"_build/**\""),
                "{exclude}"
            );
        }
        let check = run_imglift(&root, &["check"], &[]);
        check.expect_code(1);
        assert!(check.stderr.contains(pending), "{name}\n{}", check.dump());
    }
}

#[test]
fn init_with_generator_flag_and_no_public_url_leaves_it_to_fill_in() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    std::fs::create_dir_all(root.join("content")).unwrap();
    let run = run_imglift(
        &root,
        &["init", "--generator", "zola", "--bucket", "pics"],
        &[],
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("a Zola site, as --generator says"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.contains("Fill in target.s3.account_id"),
        "{}",
        run.dump()
    );
    let config = read_string(&root.join("imglift.yaml"));
    assert!(config.contains("front_matter: [extra.image"), "{config}");
    assert!(config.contains("# public_url:"), "{config}");
    // The first run says what is missing instead of rewriting pages to a made-up domain.
    let check = run_imglift(&root, &["check"], &[]);
    check.expect_code(2);
    assert!(
        check.stderr.contains("`public_url` is required"),
        "{}",
        check.dump()
    );

    let bad = run_imglift(&root, &["init", "--force", "--bucket", "Not A Bucket"], &[]);
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("is not a bucket name"),
        "{}",
        bad.dump()
    );
}

#[test]
fn init_with_the_local_folder_store_prints_no_r2_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let root = bare("hugo", tmp.path());
    let run = run_imglift(
        &root,
        &["init", "--public-url", "http://127.0.0.1:8088"],
        &[],
    );
    run.expect_code(0);
    for r2 in [
        "Add custom domain",
        "Create bucket",
        "IMGLIFT_ACCESS_KEY_ID",
        "Manage API Tokens",
    ] {
        assert!(
            !run.stdout.contains(r2),
            "the local folder store needs no `{r2}` step\n{}",
            run.dump()
        );
    }
    for step in [
        "imglift-store/",
        "http://127.0.0.1:8088",
        "imglift sync --dry-run",
    ] {
        assert!(run.stdout.contains(step), "no `{step}`\n{}", run.dump());
    }
}

/// The README's Quickstart, each line run as written with `sh` in a Hugo site without a config
/// (the `cd` line aside: the test is already there). `check` is the gate and exits 1 while
/// there is something to lift; every other line exits 0, the dry run writes nothing, and the
/// last line builds the site with every picture from the public URL.
#[test]
fn quickstart_runs_as_written_on_a_hugo_site() {
    require("hugo");
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
    let site = bare("hugo", tmp.path());
    let recipe = readme_recipe("## Quickstart");
    let lines: Vec<&str> = recipe.lines().collect();
    assert!(lines[0].starts_with("cd my-blog "), "{recipe}");
    let bin = Path::new(env!("CARGO_BIN_EXE_imglift")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let run_line = |line: &str| {
        let mut cmd = std::process::Command::new("sh");
        remove_imglift_env(&mut cmd);
        let out = cmd
            .current_dir(&site)
            .env("PATH", &path)
            .args(["-c", line])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), dump(&out))
    };
    let mut codes = Vec::new();
    let mut printed = Vec::new();
    let mut before_dry_run = None;
    for line in &lines[1..] {
        if line.starts_with("imglift sync --dry-run") {
            before_dry_run = Some(snapshot(&site));
        }
        let (code, text) = run_line(line);
        if line.starts_with("imglift sync --dry-run") {
            assert_same_tree(
                before_dry_run.as_ref().unwrap(),
                &snapshot(&site),
                true,
                "the Quickstart's dry run",
            );
        }
        codes.push(code);
        printed.push(text);
    }
    let all = printed.join("\n");
    assert_eq!(
        codes,
        [Some(0), Some(1), Some(0), Some(0)],
        "exit codes of the Quickstart's lines\n{all}"
    );
    let config = read_string(&site.join("imglift.yaml"));
    assert!(
        config.contains("public_url: \"https://img.example.com\""),
        "{config}"
    );
    assert!(config.contains("dir: imglift-store"), "{config}");
    assert!(
        printed[1].contains("imglift check: 5 pages, 26 local references to lift; 2 errors ("),
        "{}",
        printed[1]
    );
    assert!(
        printed[2].contains(
            "imglift sync --dry-run: 5 pages, 26 references would be rewritten in 4 pages; \
             20 images: 20 to upload"
        ),
        "{}",
        printed[2]
    );
    assert!(
        printed[3].contains(
            "imglift sync: 5 pages, 26 references rewritten in 4 pages; 20 images: 20 uploaded"
        ),
        "{}",
        printed[3]
    );
    let address = SiteAddress {
        origin: "https://hugo.example.com",
        base_path: "",
    };
    let (lifted, broken) = compare_builds(
        &orig_out,
        &site.join("public"),
        &site.join("imglift-store"),
        &address,
    );
    assert_eq!(
        lifted,
        crate::hugo::LIFTED,
        "pictures moved to the public URL"
    );
    assert_eq!(broken.len(), crate::hugo::BROKEN, "{broken:?}");
}
