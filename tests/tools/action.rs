//! `action.yml`, the composite GitHub Action: its inputs, and its run step executed by bash the
//! way a runner would (inputs substituted into the step's environment, `GITHUB_ACTIONS=true`),
//! with the built imglift on PATH. The install step (`cargo install --locked --path` the action)
//! is checked only for a lock file that `--locked` accepts: a release build takes minutes and
//! `tests/tools/precommit.rs` already builds imglift the same way.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::*;

struct Action {
    inputs: BTreeMap<String, String>,
    steps: Vec<serde_yaml::Value>,
}

fn action() -> Action {
    let text = read_string(&repo().join("action.yml"));
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("action.yml is YAML");
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));
    let inputs = doc["inputs"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let default = v["default"].as_str().unwrap_or("").to_string();
            (k.as_str().unwrap().to_string(), default)
        })
        .collect();
    let steps = doc["runs"]["steps"].as_sequence().unwrap().clone();
    Action { inputs, steps }
}

/// Run the action's imglift step in `dir` with these inputs (others at their defaults).
fn run_step(dir: &Path, given: &[(&str, &str)]) -> std::process::Output {
    let action = action();
    let step = action
        .steps
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("imglift "))
        })
        .expect("a step running imglift");
    let mut inputs = action.inputs.clone();
    for (k, v) in given {
        assert!(inputs.contains_key(*k), "action.yml has no input `{k}`");
        inputs.insert(k.to_string(), v.to_string());
    }
    let mut cmd = Command::new("bash");
    cmd.arg("-e").arg("-c").arg(step["run"].as_str().unwrap());
    cmd.current_dir(dir.join(&inputs["working-directory"]));
    for (k, v) in step["env"].as_mapping().unwrap() {
        let v = v.as_str().unwrap();
        let value = match v
            .strip_prefix("${{ inputs.")
            .and_then(|r| r.strip_suffix(" }}"))
        {
            Some(name) => inputs[name].clone(),
            None => v.to_string(),
        };
        cmd.env(k.as_str().unwrap(), value);
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_imglift")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path);
    cmd.env_remove("IMGLIFT_ACCESS_KEY_ID")
        .env_remove("IMGLIFT_SECRET_ACCESS_KEY");
    cmd.output().expect("bash")
}

#[test]
fn action_has_the_documented_inputs_and_an_install_that_locked_accepts() {
    let action = action();
    for input in [
        "mode",
        "config",
        "out",
        "args",
        "access-key-id",
        "secret-access-key",
    ] {
        assert!(action.inputs.contains_key(input), "no input `{input}`");
    }
    assert_eq!(action.inputs["mode"], "sync");
    let install = action.steps[0]["run"].as_str().unwrap();
    assert!(install.contains("cargo install --locked"), "{install}");
    // `--locked` fails on a lock file that does not match Cargo.toml. `cargo tree` resolves
    // the lock file for this platform only, as `cargo install` does, so it needs no download
    // of other platforms' crates (which `cargo metadata` would fetch).
    run_ok(
        Command::new(env!("CARGO"))
            .args(["tree", "--locked", "--depth", "0"])
            .current_dir(repo())
            .stdout(std::process::Stdio::null()),
        "cargo tree --locked (the lock file `cargo install --locked` needs)",
    );
}

#[test]
fn action_check_mode_annotates_pages_and_sync_mode_writes_the_out_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let site = fixture_copy("demo", tmp.path(), "blog");

    let check = run_step(&site, &[("mode", "check"), ("working-directory", ".")]);
    assert_eq!(check.status.code(), Some(1), "{}", dump(&check));
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(
        err.contains("::error file=content/posts/hello-world.md,line=4,col=8::"),
        "{}",
        dump(&check)
    );

    let bad = run_step(&site, &[("mode", "deploy")]);
    assert_eq!(bad.status.code(), Some(2), "{}", dump(&bad));

    let sync = run_step(
        &site,
        &[
            ("mode", "sync"),
            ("out", "build"),
            ("args", "--format json"),
        ],
    );
    assert!(sync.status.success(), "{}", dump(&sync));
    let json: serde_json::Value =
        serde_json::from_slice(&sync.stdout).expect("stdout is the --format json document");
    assert_eq!(json["counts"]["rewritten"], 8);
    let page = read_string(&site.join("build/content/posts/hello-world.md"));
    assert!(page.contains("image: https://img.example.com/"), "{page}");
    // In place, the pages are untouched.
    assert!(read_string(&site.join("content/posts/hello-world.md")).contains("/images/hero.jpg"));
}
