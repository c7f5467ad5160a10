//! `action.yml`, the composite GitHub Action, run step by step the way a runner runs it: each
//! `run:` script written to a file under `RUNNER_TEMP` and run by `bash --noprofile --norc -eo
//! pipefail` (GitHub's `shell: bash`), every `${{ … }}` expression substituted (inputs at their
//! defaults unless given, `github.action_path` = this repository), the step's `env:` and
//! `working-directory:` applied, and the folders a step appends to `GITHUB_PATH` put first on
//! PATH for the steps after it.
//!
//! The install step runs for real: `cargo install --locked --path` this repository into
//! `$RUNNER_TEMP/imglift`, once for all the tests here (its build goes to
//! `target/pre-commit-build`, shared with `precommit.rs`, so the dependencies are compiled once).
//! Every later step finds that installed `imglift` through `GITHUB_PATH`, never the binary
//! `cargo test` built. The S3 uploads go to the s3s server of `tests/s3/server.rs`, `mode: verify`
//! opens the URLs on the HTTP server of `verify.rs`, both on 127.0.0.1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use crate::s3server::{TestS3, ACCESS_KEY, SECRET_KEY};
use crate::support::*;
use crate::verify::StoreServer;

struct Action {
    /// Every input with its default.
    inputs: BTreeMap<String, String>,
    steps: Vec<serde_yaml::Value>,
}

fn action() -> Action {
    let text = read_string(&repo().join("action.yml"));
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));
    let inputs = doc["inputs"]
        .as_mapping()
        .expect("action.yml has inputs")
        .iter()
        .map(|(k, v)| {
            let default = v["default"].as_str().unwrap_or("").to_string();
            (k.as_str().unwrap().to_string(), default)
        })
        .collect();
    let steps = doc["runs"]["steps"].as_sequence().unwrap().clone();
    assert_eq!(steps.len(), 2, "an install step and an imglift step");
    Action { inputs, steps }
}

/// `text` with every `${{ inputs.NAME }}` and `${{ github.action_path }}` replaced as a runner
/// does; any other expression fails the test (this runner would not know its value).
fn expand(text: &str, inputs: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${{") {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find("}}")
            .unwrap_or_else(|| panic!("unclosed expression in `{text}`"));
        let expr = rest[at + 3..at + end].trim();
        let value = if let Some(name) = expr.strip_prefix("inputs.") {
            inputs
                .get(name)
                .unwrap_or_else(|| panic!("`{expr}`: action.yml declares no input `{name}`"))
                .clone()
        } else if expr == "github.action_path" {
            repo().to_string_lossy().into_owned()
        } else {
            panic!("expression `{expr}` is not one this test runner knows")
        };
        out.push_str(&value);
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    out
}

/// What a runner keeps between the steps of one job.
struct Runner {
    temp: PathBuf,
    /// The folders steps appended to `GITHUB_PATH`, in order.
    path: Vec<PathBuf>,
}

impl Runner {
    fn new(temp: &Path) -> Runner {
        std::fs::create_dir_all(temp).unwrap();
        Runner {
            temp: temp.to_path_buf(),
            path: Vec::new(),
        }
    }

    /// Run one step of the action in `workspace` with `given` inputs (the others at their
    /// defaults), `caller_env` as the `env:` of the workflow step that uses the action, and
    /// `search_path` as the runner's PATH before the `GITHUB_PATH` additions.
    fn run(
        &mut self,
        step: &serde_yaml::Value,
        workspace: &Path,
        given: &[(&str, &str)],
        caller_env: &[(&str, &str)],
        search_path: &str,
    ) -> Output {
        let mut inputs = action().inputs;
        for (k, v) in given {
            assert!(inputs.contains_key(*k), "action.yml has no input `{k}`");
            inputs.insert(k.to_string(), v.to_string());
        }
        assert_eq!(step["shell"].as_str(), Some("bash"), "{step:?}");
        let script = expand(step["run"].as_str().expect("a run step"), &inputs);
        let script_file = self.temp.join("step.sh");
        write(&script_file, &script);
        let github_path = self.temp.join("github_path");
        let github_env = self.temp.join("github_env");
        write(&github_path, "");
        write(&github_env, "");

        let cwd = match step["working-directory"].as_str() {
            Some(dir) => workspace.join(expand(dir, &inputs)),
            None => workspace.to_path_buf(),
        };
        let mut cmd = Command::new(bash());
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_file)
            .current_dir(cwd)
            .stdin(Stdio::null());
        runner_env(&mut cmd);
        let path = std::env::join_paths(
            self.path
                .iter()
                .rev()
                .cloned()
                .chain(std::env::split_paths(search_path)),
        )
        .unwrap();
        cmd.env("PATH", path)
            .env("RUNNER_TEMP", &self.temp)
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_ENV", &github_env)
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .envs(caller_env.iter().copied());
        if let Some(env) = step["env"].as_mapping() {
            for (k, v) in env {
                cmd.env(k.as_str().unwrap(), expand(v.as_str().unwrap(), &inputs));
            }
        }
        let out = cmd.output().expect("run bash");
        // The runner reads GITHUB_PATH after the step: its lines go first on PATH from now on.
        for line in read_string(&github_path).lines().filter(|l| !l.is_empty()) {
            self.path.push(PathBuf::from(line));
        }
        out
    }
}

/// bash, by its full path (a step may run with a PATH that does not have it).
fn bash() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("bash"))
        .find(|p| p.is_file())
        .expect("bash on PATH")
}

/// The runner after the action's install step ran once, for real.
struct Installed {
    runner_temp: PathBuf,
    path: Vec<PathBuf>,
}

fn installed() -> &'static Installed {
    static INSTALLED: OnceLock<Installed> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // Under target/, emptied first: a static is never dropped, so a temporary folder holding
        // the installed binary would be left behind by every run.
        let base = repo().join("target/action-runner");
        if base.exists() {
            std::fs::remove_dir_all(&base).unwrap();
        }
        let mut runner = Runner::new(&base.join("runner-temp"));
        let workspace = base.join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        let install = &action().steps[0];
        assert_eq!(install["name"].as_str(), Some("Install imglift"));
        let started = Instant::now();
        let target = repo().join("target/pre-commit-build");
        let out = runner.run(
            install,
            &workspace,
            &[],
            // Only a cache: the same build folder as the pre-commit test.
            &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
            &std::env::var("PATH").unwrap_or_default(),
        );
        assert!(
            out.status.success(),
            "the install step failed\n{}",
            dump(&out)
        );
        eprintln!(
            "action: install step (cargo install --locked) in {:.2?}",
            started.elapsed()
        );
        Installed {
            runner_temp: runner.temp.clone(),
            path: runner.path,
        }
    })
}

/// Run the action's imglift step in `workspace` after the install step, with PATH holding only
/// what `GITHUB_PATH` added and the system folders (no other imglift).
fn run_imglift_step(
    workspace: &Path,
    given: &[(&str, &str)],
    caller_env: &[(&str, &str)],
) -> Output {
    let installed = installed();
    let tmp = tempfile::tempdir().unwrap();
    let mut runner = Runner::new(&tmp.path().join("runner-temp"));
    runner.path = installed.path.clone();
    let step = &action().steps[1];
    assert_eq!(
        step["name"].as_str(),
        Some("imglift ${{ inputs.mode }}"),
        "the second step runs imglift"
    );
    runner.run(step, workspace, given, caller_env, "/usr/bin:/bin")
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn action_has_the_documented_inputs() {
    let action = action();
    let names: Vec<&str> = action.inputs.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "access-key-id",
            "args",
            "config",
            "mode",
            "out",
            "secret-access-key",
            "working-directory"
        ]
    );
    assert_eq!(action.inputs["mode"], "sync");
    assert_eq!(action.inputs["working-directory"], ".");
}

#[test]
fn action_install_step_installs_imglift_on_github_path() {
    let installed = installed();
    assert_eq!(
        installed.path,
        [installed.runner_temp.join("imglift/bin")],
        "the install step adds exactly its bin folder to GITHUB_PATH"
    );
    let bin = installed.runner_temp.join("imglift/bin/imglift");
    let out = run_ok(Command::new(&bin).arg("--version"), "installed imglift");
    assert_eq!(
        stdout(&out).trim(),
        format!("imglift {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn action_install_step_without_cargo_fails_with_an_annotation() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let mut runner = Runner::new(&tmp.path().join("runner-temp"));
    let out = runner.run(
        &action().steps[0],
        tmp.path(),
        &[],
        &[],
        empty.to_str().unwrap(),
    );
    assert_eq!(code(&out), Some(2), "{}", dump(&out));
    assert_eq!(
        stdout(&out),
        "::error::imglift is built with cargo; add a Rust toolchain before this step (GitHub's Ubuntu runners have one)\n"
    );
    assert!(runner.path.is_empty(), "nothing added to GITHUB_PATH");
}

#[test]
fn action_check_sync_out_and_refused_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let site = fixture_copy("demo", tmp.path(), "blog");
    let before = snapshot(&site);

    let check = run_imglift_step(&site, &[("mode", "check")], &[]);
    assert_eq!(code(&check), Some(1), "{}", dump(&check));
    let err = stderr(&check);
    assert!(err.starts_with("imglift check\n"), "{}", dump(&check));
    assert!(
        err.contains("::error file=content/posts/hello-world.md,line=4,col=8::"),
        "{}",
        dump(&check)
    );

    // Refused inputs: exit 2 with an annotation, imglift never started, nothing written.
    for (given, message) in [
        (
            &[("mode", "deploy")][..],
            "::error::mode must be sync, check or verify, not 'deploy'\n",
        ),
        (
            &[("mode", "check"), ("out", "build")],
            "::error::out is only for mode sync\n",
        ),
        (
            &[("mode", "verify"), ("out", "build")],
            "::error::out is only for mode sync\n",
        ),
    ] {
        let out = run_imglift_step(&site, given, &[]);
        assert_eq!(code(&out), Some(2), "{given:?}\n{}", dump(&out));
        assert_eq!(stdout(&out), message, "{given:?}");
        assert_eq!(stderr(&out), "", "{given:?}: imglift did not run");
    }
    assert_same_tree(&before, &snapshot(&site), true, "check and refused inputs");

    // `working-directory` from the workspace above the site, `out` and `args`.
    let sync = run_imglift_step(
        tmp.path(),
        &[
            ("working-directory", "blog"),
            ("out", "build"),
            ("args", "--format json"),
        ],
        &[],
    );
    assert_eq!(code(&sync), Some(0), "{}", dump(&sync));
    assert!(
        stderr(&sync).starts_with("imglift sync --out build --format json\n"),
        "{}",
        dump(&sync)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&sync.stdout).expect("stdout is the --format json document");
    assert_eq!(json["counts"]["rewritten"], 8, "{json}");
    let page = read_string(&site.join("build/content/posts/hello-world.md"));
    assert!(page.contains("image: https://img.example.com/"), "{page}");
    // In place, the pages are untouched.
    let after = snapshot(&site);
    for (path, state) in &before {
        if path.starts_with("content") {
            assert_eq!(after[path].bytes, state.bytes, "{} changed", path.display());
        }
    }
}

#[test]
fn action_config_input_names_the_configuration_file() {
    let tmp = tempfile::tempdir().unwrap();
    let site = fixture_copy("demo", tmp.path(), "blog");
    let config = read_string(&site.join("imglift.yaml"));
    let other = config.replace(
        "public_url: https://img.example.com",
        "public_url: https://cdn.example.net/site",
    );
    assert_ne!(config, other);
    write(&site.join("imglift.ci.yaml"), other);
    let out = run_imglift_step(
        &site,
        &[("config", "imglift.ci.yaml"), ("args", "--format json")],
        &[],
    );
    assert_eq!(code(&out), Some(0), "{}", dump(&out));
    assert!(
        stderr(&out).starts_with("imglift --config imglift.ci.yaml sync --format json\n"),
        "{}",
        dump(&out)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["counts"]["rewritten"], 8, "{json}");
    let page = read_string(&site.join("content/posts/hello-world.md"));
    assert!(
        page.contains("image: https://cdn.example.net/site/"),
        "the public URL of imglift.ci.yaml, not of imglift.yaml:\n{page}"
    );
    assert!(!page.contains("img.example.com"), "{page}");
}

#[test]
fn action_credential_inputs_sign_the_uploads_and_win_over_the_environment() {
    let s3 = TestS3::start(&["photos"]).expect("start the S3 test server");
    let tmp = tempfile::tempdir().unwrap();
    let site = fixture_copy("demo", tmp.path(), "blog");
    write(
        &site.join("imglift.yaml"),
        format!(
            "content: [content]\nstatic: [static]\npublic_url: {PUBLIC_URL}\nfront_matter: [image]\n\
             target:\n  s3:\n    bucket: photos\n    endpoint: {}\n",
            s3.endpoint
        ),
    );
    let pages_before = snapshot(&site.join("content"));
    let wrong = "WRONGsecretWRONGsecretWRONG";

    // The environment has the right secret, the input a wrong one: the input wins, the store
    // refuses it (exit 3), no page changes and the secret is not printed.
    let refused = run_imglift_step(
        &site,
        &[("access-key-id", ACCESS_KEY), ("secret-access-key", wrong)],
        &[
            ("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY),
            ("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY),
        ],
    );
    assert_eq!(code(&refused), Some(3), "{}", dump(&refused));
    assert!(
        stderr(&refused).contains("refused these credentials"),
        "{}",
        dump(&refused)
    );
    assert!(!dump(&refused).contains(wrong), "the secret was printed");
    assert_same_tree(
        &pages_before,
        &snapshot(&site.join("content")),
        true,
        "a refused upload",
    );

    // The other way round: the inputs hold the right keys and win over a wrong environment.
    let synced = run_imglift_step(
        &site,
        &[
            ("access-key-id", ACCESS_KEY),
            ("secret-access-key", SECRET_KEY),
            ("args", "--format json"),
        ],
        &[
            ("IMGLIFT_ACCESS_KEY_ID", "AKIDWRONG"),
            ("IMGLIFT_SECRET_ACCESS_KEY", wrong),
        ],
    );
    assert_eq!(code(&synced), Some(0), "{}", dump(&synced));
    assert!(
        !dump(&synced).contains(SECRET_KEY),
        "the secret was printed"
    );
    let json: serde_json::Value = serde_json::from_slice(&synced.stdout).unwrap();
    assert_eq!(json["counts"]["rewritten"], 8, "{json}");
    let lock = read_string(&site.join("imglift.lock"));
    let entries = manifest_entries(&lock);
    assert_eq!(entries.len(), 7, "{lock}");
    for entry in &entries {
        let object = s3.object_path("photos", &entry[0]);
        assert_eq!(
            read(&object),
            read(&site.join(&entry[4])),
            "object {} holds the bytes of {}",
            entry[0],
            entry[4]
        );
    }

    // No input and the environment's right keys (the README's `env:` way) also work.
    write(
        &site.join("content/posts/new.md"),
        "![again](/images/hero.jpg)\n",
    );
    let from_env = run_imglift_step(
        &site,
        &[],
        &[
            ("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY),
            ("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY),
        ],
    );
    assert_eq!(code(&from_env), Some(0), "{}", dump(&from_env));
    assert!(read_string(&site.join("content/posts/new.md"))
        .starts_with(&format!("![again]({PUBLIC_URL}/")));
}

#[test]
fn action_verify_mode_opens_every_public_url_and_annotates_a_missing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let site = fixture_copy("demo", tmp.path(), "blog");
    let server = StoreServer::start(site.join("public-images"), std::time::Duration::ZERO);
    let config =
        read_string(&site.join("imglift.yaml")).replace("https://img.example.com", &server.url());
    write(&site.join("imglift.yaml"), config);
    run_imglift(&site, &["sync"], &[]).expect_code(0);
    let lock = read_string(&site.join("imglift.lock"));
    let keys: Vec<String> = manifest_entries(&lock)
        .into_iter()
        .map(|e| e[0].clone())
        .collect();
    assert_eq!(keys.len(), 7, "{lock}");

    let before = snapshot(&site);
    let ok = run_imglift_step(&site, &[("mode", "verify")], &[]);
    assert_eq!(code(&ok), Some(0), "{}", dump(&ok));
    let ok_lines = stdout(&ok).lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(ok_lines, 7, "{}", dump(&ok));
    assert_eq!(server.requests(), 7, "one GET per object");
    assert_same_tree(&before, &snapshot(&site), true, "verify");

    // A lost object: exit 1 and an annotation on each page that shows it.
    let hero = manifest_entries(&lock)
        .into_iter()
        .find(|e| e[4] == "static/images/hero.jpg")
        .expect("hero.jpg in the manifest");
    std::fs::remove_file(site.join("public-images").join(&hero[0])).unwrap();
    let before = snapshot(&site);
    let failed = run_imglift_step(&site, &[("mode", "verify")], &[]);
    assert_eq!(code(&failed), Some(1), "{}", dump(&failed));
    let annotation = format!(
        "::error file=content/posts/hello-world.md,line=4,col=8::`{}/{}` answered 404 Not Found",
        server.url(),
        hero[0]
    );
    assert!(
        stderr(&failed).contains(&annotation),
        "{annotation}\n{}",
        dump(&failed)
    );
    assert_same_tree(&before, &snapshot(&site), true, "verify");
}
