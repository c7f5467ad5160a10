//! Broken references on a real blog: images that were already missing before imglift. `sync`
//! lifts everything else and warns (exit 0, so `imglift sync --out build && hugo …` builds);
//! `check` stays strict (exit 1); `--strict`, `--lenient` and `broken:` change either; an
//! `ignore:` glob or an `imglift-ignore` marker silences one known reference.

use crate::sites;
use crate::support::*;

/// The diagnostic line at `position` says `severity:` and names `dest`.
#[track_caller]
fn assert_diag(run: &Run, position: &str, severity: &str, dest: &str) {
    let line = run.stderr_line(position);
    assert!(
        line.contains(&format!(": {severity}: ")) && line.contains(dest),
        "expected a {severity} naming `{dest}` at {position}: {line}\n{}",
        run.dump()
    );
}

/// Run `script` with `sh -c` in `dir`, the built imglift first on PATH; its exit code.
#[cfg(unix)]
fn shell(dir: &std::path::Path, script: &str) -> (Option<i32>, String) {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_imglift"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let mut cmd = std::process::Command::new("sh");
    remove_imglift_env(&mut cmd);
    let out = cmd
        .current_dir(dir)
        .env("PATH", path)
        .args(["-c", script])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (out.status.code(), dump(&out))
}

#[cfg(unix)]
#[test]
fn sync_warns_about_broken_references_so_an_and_chain_goes_on_and_check_stops_it() {
    let spec = sites::hugo();
    let site = Site::fixture("hugo");
    let (code, printed) = shell(
        site.root(),
        "imglift sync --out build && echo built > built.txt",
    );
    assert_eq!(code, Some(0), "{printed}");
    assert!(site.exists("built.txt"), "the && chain stopped\n{printed}");
    for (page, pos, dest) in &spec.broken {
        let line = printed
            .lines()
            .find(|l| l.starts_with(&format!("{page}:{pos}:")))
            .unwrap_or_else(|| panic!("no diagnostic at {page}:{pos}\n{printed}"));
        assert!(
            line.contains(": warning: ") && line.contains(dest),
            "{line}"
        );
    }
    assert!(
        printed.contains("2 warnings"),
        "the summary counts the warnings\n{printed}"
    );
    // Everything else was lifted into the out tree.
    let hello = site.read_string("build/content/posts/hello.md");
    assert!(hello.contains(PUBLIC_URL), "{hello}");

    // `check` is the gate: broken references are errors, and the chain stops there.
    let (code, printed) = shell(site.root(), "imglift check && echo ok > checked.txt");
    assert_eq!(code, Some(1), "{printed}");
    assert!(!site.exists("checked.txt"), "check let the chain go on");
}

#[test]
fn strict_and_broken_error_make_sync_exit_1_but_still_lift_everything_else() {
    let spec = sites::hugo();
    for (how, args) in [
        ("--strict", vec!["sync", "--strict"]),
        ("broken: error", vec!["sync"]),
    ] {
        let site = Site::fixture("hugo");
        if how == "broken: error" {
            let config = site.read_string("imglift.yaml");
            site.write("imglift.yaml", format!("{config}broken: error\n"));
        }
        let run = site.run(&args);
        run.expect_code(1);
        for (page, pos, dest) in &spec.broken {
            assert_diag(&run, &format!("{page}:{pos}"), "error", dest);
        }
        // One broken reference does not stop the others: every other page was rewritten.
        let windows = site.read_string("content/posts/windows.md");
        assert!(windows.contains(PUBLIC_URL), "{how}: windows.md not lifted");
        let hello = site.read_string("content/posts/hello.md");
        assert!(hello.contains("](/img/chart-2019.png)"), "{how}: {hello}");
    }
}

#[test]
fn lenient_check_and_broken_warn_let_a_lifted_site_pass() {
    let site = Site::fixture("jekyll");
    let (page, pos, dest) = sites::jekyll().broken[0];
    site.run(&["sync"]).expect_code(0);
    // Strict by default: the one broken reference fails the gate.
    let run = site.run(&["check"]);
    run.expect_code(1);
    assert_diag(&run, &format!("{page}:{pos}"), "error", dest);
    // --lenient: a warning, exit 0.
    let run = site.run(&["check", "--lenient"]);
    run.expect_code(0);
    assert_diag(&run, &format!("{page}:{pos}"), "warning", dest);
    // The same from the config file, and the flag still wins over it.
    let config = site.read_string("imglift.yaml");
    site.write("imglift.yaml", format!("{config}broken: warn\n"));
    site.run(&["check"]).expect_code(0);
    site.run(&["check", "--strict"]).expect_code(1);
    // Both flags at once is a usage error.
    site.run(&["check", "--strict", "--lenient"]).expect_code(2);
}

#[test]
fn a_bad_broken_value_is_a_config_error_naming_the_key() {
    let site = Site::empty("broken: sometimes\n");
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("imglift.yaml")
            && run.stderr.contains("`sometimes`")
            && run.stderr.contains("`warn` or `error`"),
        "{}",
        run.dump()
    );
}

#[test]
fn an_ignore_glob_or_an_inline_marker_silences_one_known_reference() {
    let site = Site::empty("ignore: [\"/old/*.png\", \"https://gone.example.com/**\"]\n");
    site.write(
        "static/keep.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    let page = "\
# Post

![a](/old/chart.png)

![b](https://gone.example.com/x.png)

![c](lost.png) <!-- imglift-ignore -->

<!-- imglift-ignore -->
![d](/keep.png)

![e](missing.png)

![f](/keep.png)
";
    site.write("content/post.md", page);
    let run = site.run(&["check"]);
    run.expect_code(1);
    // Only `missing.png` is reported broken, and only line 14 is pending: the ignored
    // `/keep.png` on line 10 stays as written.
    assert_eq!(
        Run::positions(&run.stderr),
        ["content/post.md:12:6"],
        "{}",
        run.dump()
    );
    assert_eq!(
        Run::positions(&run.stdout),
        ["content/post.md:14:6"],
        "{}",
        run.dump()
    );

    let run = site.run(&["sync"]);
    run.expect_code(0);
    let after = site.read_string("content/post.md");
    let changed: Vec<(&str, &str)> = page
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(changed.len(), 1, "only ![f] is rewritten: {changed:?}");
    assert!(changed[0].0 == "![f](/keep.png)" && changed[0].1.contains(PUBLIC_URL));
}

#[test]
fn problems_are_listed_by_file_then_line() {
    let site = Site::empty("");
    // a.md's problem is found by the hash stage (not an image by its bytes), b.md's by the
    // resolve stage, which runs first.
    site.write("content/a.md", "# A\n\n![x](fake.png)\n");
    site.write("content/fake.png", "just text");
    site.write("content/b.md", "![y](gone.png)\n\n![z](gone2.png)\n");
    let run = site.run(&["sync", "--strict"]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stderr),
        ["content/a.md:3:6", "content/b.md:1:6", "content/b.md:3:6"],
        "{}",
        run.dump()
    );
}

#[test]
fn a_path_outside_the_site_is_an_error_and_one_without_pages_is_named() {
    let site = Site::empty("");
    site.write("content/a.md", "# A\n");
    site.write("README.md", "# not a page\n");
    let outside = site.write_outside("elsewhere.md", "# outside\n");
    let before = site.snapshot(".");
    for cmd in ["check", "sync"] {
        let run = site.run(&[cmd, outside.to_str().unwrap()]);
        run.expect_code(2);
        assert!(
            run.stderr.starts_with("imglift: ")
                && run
                    .stderr
                    .contains("elsewhere.md: is outside the site root ")
                && run
                    .stderr
                    .ends_with("; give pages or folders of the site\n"),
            "{}",
            run.dump()
        );
        assert!(run.stdout.is_empty(), "{}", run.dump());
    }
    assert_same_tree(
        &before,
        &site.snapshot("."),
        true,
        "a PATH outside the root",
    );
    // A gate handed a file it does not read fails, naming it ...
    let run = site.run(&["check", "README.md"]);
    run.expect_code(1);
    assert!(
        run.stderr_line("README.md:1:1").contains("not checked"),
        "{}",
        run.dump()
    );
    // ... unless told that such files are expected (the pre-commit hook passes every staged
    // Markdown file): then a warning names it.
    let run = site.run(&["check", "--skip-non-pages", "README.md"]);
    run.expect_code(0);
    assert_eq!(
        run.stderr_line("README.md:1:1"),
        "README.md:1:1: warning: matches no page (pages are the files under content that \
         `include` matches and `exclude` does not); nothing done for it"
    );
}

#[test]
fn not_found_says_where_it_looked_and_where_a_file_of_that_name_is() {
    let site = Site::empty("");
    site.write(
        "static/charts/chart.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write(
        "content/post.md",
        "![c](/img/chart.png)\n\n![d](pics/none.png)\n",
    );
    let run = site.run(&["check"]);
    run.expect_code(1);
    let moved = run.stderr_line("content/post.md:1:6");
    assert!(
        moved.contains("looked for static/img/chart.png, content/img/chart.png, img/chart.png")
            && moved.contains("moved to `static/charts/chart.png`?"),
        "{moved}"
    );
    let gone = run.stderr_line("content/post.md:3:6");
    assert!(
        gone.contains("looked for content/pics/none.png") && !gone.contains("moved"),
        "{gone}"
    );
}

#[test]
fn the_summary_line_adds_up_and_a_dry_run_says_would() {
    let site = Site::empty("");
    let bytes = fixture_bytes("hugo/static/img/diagram.png");
    site.write("content/a/x.png", &bytes);
    site.write("content/b/x.png", &bytes);
    site.write("content/a/p.md", "![x](x.png)\n");
    site.write("content/b/p.md", "![x](x.png)\n\n![gone](gone.png)\n");
    assert!(bytes.len() < 1024);
    let size = format!("{} B", bytes.len());
    let dry = site.run(&["sync", "--dry-run"]);
    dry.expect_code(0);
    let last = dry.stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "imglift sync --dry-run: 2 pages, 2 references would be rewritten in 2 pages; \
             2 images: 1 to upload ({size}), 0 already stored, 1 duplicate; 1 warning ("
        )),
        "{last}"
    );
    assert!(!last.contains("uploaded"), "{last}");
    let real = site.run(&["sync"]);
    real.expect_code(0);
    let last = real.stderr.lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "imglift sync: 2 pages, 2 references rewritten in 2 pages; \
             2 images: 1 uploaded ({size}), 0 already stored, 1 duplicate, 0 failed; 1 warning ("
        )),
        "{last}"
    );
}

#[test]
fn not_found_says_renamed_to_when_the_manifest_knows_the_bytes() {
    let site = Site::empty("");
    let bytes = fixture_bytes("hugo/static/img/diagram.png");
    site.write("static/img/chart.png", &bytes);
    // A file of the same size but other bytes, that must not be suggested.
    let mut other = bytes.clone();
    let last = other.len() - 1;
    other[last] ^= 1;
    site.write("static/img/aaa-other.png", &other);
    site.write("content/post.md", "![c](/img/chart.png)\n");
    // Lifted into an out tree, so the page keeps its local reference and the manifest records
    // the source.
    site.run(&["sync", "--out", "build"]).expect_code(0);
    std::fs::rename(
        site.path("static/img/chart.png"),
        site.path("static/img/sales-2024.png"),
    )
    .unwrap();
    let run = site.run(&["check"]);
    run.expect_code(1);
    let line = run.stderr_line("content/post.md:1:6");
    assert!(
        line.contains("image `/img/chart.png` not found")
            && line.contains("renamed to `static/img/sales-2024.png`?"),
        "{}",
        run.dump()
    );

    // Without a file of those bytes, no guess.
    std::fs::remove_file(site.path("static/img/sales-2024.png")).unwrap();
    let run = site.run(&["check"]);
    let line = run.stderr_line("content/post.md:1:6");
    assert!(
        line.contains("not found") && !line.contains("renamed"),
        "{line}"
    );
}

/// The README: "in YAML front matter, use `# imglift-ignore`" — on the key's line or the line
/// before it; the keys around it are lifted as usual.
#[test]
fn the_ignore_marker_works_as_a_yaml_comment_in_front_matter() {
    let site = Site::empty("front_matter: [image, cover.image, featured_image]\n");
    site.write(
        "static/keep.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    let page = "\
---
# imglift-ignore
image: /keep.png
title: x
cover:
  image: /keep.png # imglift-ignore
tags: [a]
featured_image: /keep.png
---
![g](/keep.png)
";
    site.write("content/post.md", page);
    let run = site.run(&["check"]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stdout),
        ["content/post.md:8:17", "content/post.md:10:6"],
        "{}",
        run.dump()
    );
    site.run(&["sync"]).expect_code(0);
    let after = site.read_string("content/post.md");
    let changed: Vec<usize> = page
        .lines()
        .zip(after.lines())
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(changed, [8, 10], "{after}");
    assert_eq!(lifted_keys(&after).len(), 2, "{after}");
}
