//! The README's GitLab CI snippet, read out of README.md and run: the `pages` job's script lines
//! one after the other in one `bash -e -o pipefail` (as a GitLab runner runs a job's `script:`)
//! on a copy of the Hugo fixture, with the credentials in the environment as masked CI/CD
//! variables put them, against the S3 test server on 127.0.0.1; then the built `public/` is
//! compared with a build of the original site. The `images-lifted` job's `imglift check` gates a
//! site before and after its images are lifted.
//!
//! `cargo install --locked --git https://github.com/OWNER/imglift --tag v0.1.0` runs as written:
//! git (cargo fetches with the git command line) is told by `url.<base>.insteadOf` to fetch that
//! URL from a local repository holding this working tree, tagged with the README's tag (cargo
//! keeps its clone of that URL in `$CARGO_HOME/git`, as for any git install). The
//! line `apt-get update && apt-get install -y hugo` is not run (the test does not install
//! system packages): it is checked as written, and `hugo` must already be installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use crate::s3server::{TestS3, ACCESS_KEY, SECRET_KEY};
use crate::support::*;

const INSTALL: &str = "cargo install --locked --git https://github.com/OWNER/imglift --tag v0.1.0";
const APT: &str = "apt-get update && apt-get install -y hugo";

/// The ```` ```yaml ```` block under `## GitLab CI` in README.md.
fn snippet() -> serde_yaml::Value {
    let readme = read_string(&repo().join("README.md"));
    let section = readme
        .split("\n## GitLab CI\n")
        .nth(1)
        .expect("README.md has a `## GitLab CI` section");
    let section = section.split("\n## ").next().unwrap();
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a ```yaml block in the GitLab CI section");
    serde_yaml::from_str(block).expect("the GitLab CI snippet is YAML")
}

fn script(job: &serde_yaml::Value) -> Vec<String> {
    job["script"]
        .as_sequence()
        .expect("a script: list")
        .iter()
        .map(|l| l.as_str().expect("a script line").to_string())
        .collect()
}

/// Run `lines` in `dir` as one job script: `bash -e -o pipefail`, the CI environment of a
/// GitLab job, `bin` first on PATH (where `cargo install` puts imglift), and `env`.
fn run_job(dir: &Path, lines: &[String], bin: &Path, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-e", "-o", "pipefail", "-c"])
        .arg(lines.join("\n"))
        .current_dir(dir)
        .stdin(Stdio::null());
    runner_env(&mut cmd);
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    cmd.env("PATH", path)
        .env("CI", "true")
        .env("GITLAB_CI", "true")
        .envs(env.iter().copied());
    cmd.output().expect("run bash")
}

/// A git repository of this working tree (the pre-commit test's), cloned into `tmp` and tagged
/// `tag`; returns its file URL.
fn tagged_repo(tmp: &Path, tag: &str) -> String {
    let hooks = crate::precommit::hook_repo();
    let clone = tmp.join("imglift.git");
    run_ok(
        require("git")
            .args(["clone", "-q"])
            .arg(&hooks.path)
            .arg(&clone),
        "git clone",
    );
    run_ok(
        require("git")
            .current_dir(&clone)
            .env("GIT_COMMITTER_NAME", "imglift test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .args(["tag", tag]),
        "git tag",
    );
    format!("file://{}", clone.display())
}

#[test]
fn gitlab_pages_job_runs_as_written_and_the_gate_checks_the_lifted_site() {
    require("hugo");
    let jobs = snippet();
    let pages = script(&jobs["pages"]);
    assert_eq!(
        pages,
        [
            INSTALL,
            "imglift sync --out build",
            APT,
            "hugo --contentDir build/content --destination public"
        ],
        "the README's `pages` job changed: update this test"
    );
    assert_eq!(
        jobs["pages"]["artifacts"]["paths"],
        serde_yaml::from_str::<serde_yaml::Value>("[public]").unwrap()
    );
    let gate = script(&jobs["images-lifted"]);
    assert_eq!(gate, [INSTALL, "imglift check"]);
    // The tag the README installs is this version's.
    let tag = INSTALL.rsplit(' ').next().unwrap();
    assert_eq!(tag, format!("v{}", env!("CARGO_PKG_VERSION")));

    let tmp = tempfile::tempdir().unwrap();
    let url = tagged_repo(tmp.path(), tag);
    let install_root = tmp.path().join("cargo-root");
    let bin = install_root.join("bin");
    let target = repo().join("target/pre-commit-build");
    let git_env = [
        ("CARGO_NET_GIT_FETCH_WITH_CLI", "true"),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", &format!("url.{url}.insteadOf")),
        ("GIT_CONFIG_VALUE_0", "https://github.com/OWNER/imglift"),
        ("CARGO_INSTALL_ROOT", install_root.to_str().unwrap()),
        // Only a cache, shared with the pre-commit and action tests.
        ("CARGO_TARGET_DIR", target.to_str().unwrap()),
    ];

    let s3 = TestS3::start(&["photos"]).expect("start the S3 test server");
    let orig = fixture_copy("hugo", tmp.path(), "orig");
    let site = fixture_copy("hugo", tmp.path(), "site");
    // The fixture's folder target becomes the S3 bucket.
    let config = read_string(&site.join("imglift.yaml"));
    let mut lines: Vec<String> = config
        .lines()
        .filter(|l| !l.starts_with("target:") && !l.starts_with("  dir: .imglift-store"))
        .map(String::from)
        .collect();
    assert_eq!(lines.len() + 2, config.lines().count(), "{config}");
    lines.push(format!(
        "target: {{s3: {{bucket: photos, endpoint: \"{}\"}}}}",
        s3.endpoint
    ));
    let config = lines.join("\n") + "\n";
    write(&site.join("imglift.yaml"), config);
    let orig_out = tmp.path().join("orig-out");
    run_ok(
        require("hugo")
            .current_dir(&orig)
            .args(["--quiet", "--destination"])
            .arg(&orig_out),
        "hugo (original site)",
    );

    // The gate on the site as committed: its images are not lifted yet.
    let mut env: Vec<(&str, &str)> = git_env.to_vec();
    env.extend([
        ("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY),
        ("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY),
    ]);
    let started = Instant::now();
    let job: Vec<String> = pages.iter().filter(|l| *l != APT).cloned().collect();
    let out = run_job(&site, &job, &bin, &env);
    assert!(out.status.success(), "the pages job failed\n{}", dump(&out));
    eprintln!(
        "gitlab: pages job (cargo install --git, sync, hugo) in {:.2?}",
        started.elapsed()
    );
    assert!(
        bin.join("imglift").is_file(),
        "cargo install put imglift in {}",
        bin.display()
    );
    let printed = dump(&out);
    for pos in ["hello.md:53:22", "hello.md:55:18"] {
        assert!(
            printed.contains(&format!("content/posts/{pos}: warning: image")),
            "{printed}"
        );
    }
    let address = SiteAddress {
        origin: "https://hugo.example.com",
        base_path: "",
    };
    let store: PathBuf = s3.object_path("photos", "");
    let (lifted, broken) = compare_builds(&orig_out, &site.join("public"), &store, &address);
    assert_eq!(lifted, crate::hugo::LIFTED, "pictures from {PUBLIC_URL}");
    assert_eq!(broken.len(), crate::hugo::BROKEN, "{broken:?}");

    // The gate job (imglift is installed: only its check runs again), on the demo blog before
    // and after its pages were lifted in place.
    let blog = fixture_copy("demo", tmp.path(), "blog");
    let check = &gate[1..];
    let before = snapshot(&blog);
    let refused = run_job(&blog, check, &bin, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", dump(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains(
            "content/posts/hello-world.md:4:8: error: local image `/images/hero.jpg` is not lifted yet; run `imglift sync`"
        ),
        "{}",
        dump(&refused)
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .starts_with("imglift check: 3 pages, 8 local references to lift"),
        "{}",
        dump(&refused)
    );
    assert_same_tree(&before, &snapshot(&blog), true, "imglift check");
    run_imglift(&blog, &["sync"], &[]).expect_code(0);
    let passed = run_job(&blog, check, &bin, &[]);
    assert_eq!(passed.status.code(), Some(0), "{}", dump(&passed));
}
