//! The hooks of `.pre-commit-hooks.yaml`, run by the real `pre-commit` (from PyPI) in a
//! temporary git repository that installs them from this repository, as a user's
//! `.pre-commit-config.yaml` would: pre-commit clones the hook repository at a commit and builds
//! imglift with `cargo install` (`language: rust`).
//!
//! The hook repository is a throwaway git repository holding a copy of this working tree (tracked
//! and untracked files, without ignored ones), so uncommitted work is what gets tested. The
//! release build goes to `target/pre-commit-build` (CARGO_TARGET_DIR), which survives runs, so
//! only imglift itself is recompiled after the first time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use crate::support::*;

pub(crate) struct HookRepo {
    _tmp: tempfile::TempDir,
    pub(crate) path: PathBuf,
    rev: String,
    /// Shared by the tests, so that pre-commit builds the hook environment once.
    pre_commit_home: PathBuf,
}

fn git(dir: &Path) -> Command {
    let mut c = require("git");
    c.current_dir(dir)
        .env("GIT_AUTHOR_NAME", "imglift test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "imglift test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    c
}

/// A git repository holding this working tree, made once for all the tests (gitlab.rs clones it).
pub(crate) fn hook_repo() -> &'static HookRepo {
    static REPO: OnceLock<HookRepo> = OnceLock::new();
    REPO.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("imglift-hooks");
        let listed = run_ok(
            git(&repo()).args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ]),
            "git ls-files",
        );
        let mut copied = 0;
        for rel in listed.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let rel = String::from_utf8_lossy(rel).into_owned();
            let src = repo().join(&rel);
            if !src.is_file() {
                continue; // deleted in the working tree
            }
            let dest = path.join(&rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&src, &dest).unwrap();
            copied += 1;
        }
        assert!(
            path.join(".pre-commit-hooks.yaml").is_file(),
            "no .pre-commit-hooks.yaml"
        );
        assert!(copied > 20, "copied only {copied} files");
        run_ok(git(&path).args(["init", "-q", "-b", "main"]), "git init");
        run_ok(git(&path).args(["add", "-A"]), "git add");
        run_ok(
            git(&path).args(["commit", "-q", "--no-verify", "-m", "working tree snapshot"]),
            "git commit",
        );
        let rev = String::from_utf8(
            run_ok(git(&path).args(["rev-parse", "HEAD"]), "git rev-parse").stdout,
        )
        .unwrap()
        .trim()
        .to_string();
        let pre_commit_home = tmp.path().join("pre-commit-home");
        HookRepo {
            _tmp: tmp,
            path,
            rev,
            pre_commit_home,
        }
    })
}

/// A git repository holding a copy of the demo blog, with a `.pre-commit-config.yaml` that
/// uses hook `id` from the hook repository, and a first commit made without hooks.
fn site_repo(tmp: &Path, id: &str) -> PathBuf {
    let hooks = hook_repo();
    let site = fixture_copy("demo", tmp, "blog");
    write(&site.join(".gitignore"), "/public\n");
    write(
        &site.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: {id}\n",
            hooks.path.display(),
            hooks.rev
        ),
    );
    run_ok(git(&site).args(["init", "-q", "-b", "main"]), "git init");
    run_ok(git(&site).args(["add", "-A"]), "git add");
    run_ok(
        git(&site).args(["commit", "-q", "--no-verify", "-m", "the blog"]),
        "git commit",
    );
    let started = Instant::now();
    run_ok(
        pre_commit(&site).args(["install", "--install-hooks"]),
        "pre-commit install --install-hooks",
    );
    eprintln!(
        "pre-commit install --install-hooks ({id}): {:.2?}",
        started.elapsed()
    );
    site
}

fn pre_commit(dir: &Path) -> Command {
    let hooks = hook_repo();
    let mut c = require("pre-commit");
    c.current_dir(dir)
        .env("PRE_COMMIT_HOME", &hooks.pre_commit_home)
        .env("PRE_COMMIT_COLOR", "never");
    remove_imglift_env(&mut c);
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        // Nothing of `cargo test`'s own environment leaks into the hook's `cargo install`.
        if k.starts_with("CARGO_") && k != "CARGO_HOME" || k == "CARGO" {
            c.env_remove(&key);
        }
    }
    c.env("CARGO_TARGET_DIR", repo().join("target/pre-commit-build"))
        .env("CARGO_TERM_COLOR", "never");
    c
}

/// `git commit` with the installed hook, in the environment pre-commit was installed with.
fn commit(site: &Path, message: &str) -> Output {
    let mut c = git(site);
    c.args(["commit", "-m", message]);
    for (k, v) in pre_commit(site).get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c.output().expect("git commit")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn precommit_check_hook_blocks_a_staged_page_with_a_local_image() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_repo(tmp.path(), "imglift-check");
    // Change two pages, stage only one: the hook sees the staged one only.
    let page = site.join("content/posts/hello-world.md");
    let mut text_now = read_string(&page);
    text_now.push_str("\nOne more line.\n");
    write(&page, &text_now);
    let other = site.join("content/posts/desk-setup.md");
    write(&other, read_string(&other) + "\nUnstaged edit.\n");
    run_ok(
        git(&site).args(["add", "content/posts/hello-world.md"]),
        "git add",
    );

    let before = worktree(&site);
    let started = Instant::now();
    let out = commit(&site, "a staged page with local images");
    eprintln!("git commit with imglift-check: {:.2?}", started.elapsed());
    let all = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the commit must be refused\n{all}"
    );
    assert!(all.contains("imglift check"), "{all}");
    assert!(all.contains("Failed"), "{all}");
    for pos in [
        "content/posts/hello-world.md:4:8",
        "content/posts/hello-world.md:7:",
    ] {
        assert!(all.contains(pos), "`{pos}` not listed\n{all}");
    }
    assert!(
        !all.contains("desk-setup.md"),
        "an unstaged page was checked\n{all}"
    );
    assert!(all.contains("1 page, 2 local references to lift"), "{all}");
    // Nothing was lifted or written by the offline check.
    // (Bytes, not mtimes: pre-commit stashes the unstaged edit and puts it back.)
    assert_same_tree(&before, &worktree(&site), false, "the imglift-check hook");
    assert!(!site.join("public-images").exists());
    assert!(!site.join("imglift.lock").exists());
}

/// Every file of the site's working tree, `.git/` aside.
fn worktree(site: &Path) -> Tree {
    snapshot(site)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".git"))
        .collect()
}

#[test]
fn precommit_sync_hook_rewrites_the_staged_page_and_the_second_commit_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let site = site_repo(tmp.path(), "imglift-sync");
    let page = site.join("content/posts/hello-world.md");
    write(&page, read_string(&page) + "\nOne more line.\n");
    let other = site.join("content/posts/desk-setup.md");
    let other_before = read_string(&other);
    run_ok(
        git(&site).args(["add", "content/posts/hello-world.md"]),
        "git add",
    );

    let started = Instant::now();
    let first = commit(&site, "lift on commit");
    eprintln!("git commit with imglift-sync: {:.2?}", started.elapsed());
    let all = text(&first);
    assert!(
        !first.status.success(),
        "pre-commit must report the page as changed\n{all}"
    );
    assert!(all.contains("files were modified by this hook"), "{all}");
    let rewritten = read_string(&page);
    assert!(
        rewritten.contains("image: https://img.example.com/")
            && rewritten.contains("](https://img.example.com/"),
        "the staged page is rewritten in place:\n{rewritten}"
    );
    assert!(!rewritten.contains("/images/"), "{rewritten}");
    assert_eq!(
        read_string(&other),
        other_before,
        "an unstaged page was touched"
    );
    let objects = std::fs::read_dir(site.join("public-images"))
        .unwrap()
        .count();
    assert_eq!(objects, 2, "hero.jpg and avatar.png are in the store");
    assert!(site.join("imglift.lock").is_file());

    // The author re-adds the page (and the manifest) and commits again: nothing left to do.
    run_ok(
        git(&site).args(["add", "content/posts/hello-world.md", "imglift.lock"]),
        "git add",
    );
    let second = commit(&site, "lift on commit");
    assert!(second.status.success(), "second commit\n{}", text(&second));
    let committed = String::from_utf8(
        run_ok(
            git(&site).args(["show", "HEAD:content/posts/hello-world.md"]),
            "git show",
        )
        .stdout,
    )
    .unwrap();
    assert_eq!(committed, rewritten);
}
