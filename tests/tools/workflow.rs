//! `.github/workflows/ci.yml`, the GitHub Actions matrix, checked by the real actionlint
//! (syntax, `${{ }}` expressions against the matrix and contexts, job and step keys, runner
//! labels, the inputs of well-known actions), and kept on the property-test seed of `.ci/run`.

use crate::support::*;

const WORKFLOW: &str = ".github/workflows/ci.yml";

#[test]
fn ci_workflow_passes_actionlint() {
    let out = run_ok(
        require("actionlint")
            .arg(WORKFLOW)
            .current_dir(repo())
            .env("NO_COLOR", "1"),
        "actionlint .github/workflows/ci.yml",
    );
    // It exits 0 when it finds no file: it must have checked this one.
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Checking 1 workflow file(s)") && said.contains("passed lint checks"),
        "{}",
        dump(&out)
    );
}

#[test]
fn ci_workflow_replays_the_property_test_seed_of_ci_run() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&read_string(&repo().join(WORKFLOW))).expect("ci.yml is YAML");
    let seed = doc["env"]["PROPTEST_RNG_SEED"]
        .as_str()
        .expect("ci.yml sets env.PROPTEST_RNG_SEED");
    let ci_run = read_string(&repo().join(".ci/run"));
    assert!(
        ci_run.contains(&format!("PROPTEST_RNG_SEED=${{PROPTEST_RNG_SEED:-{seed}}}")),
        "ci.yml replays seed {seed}, .ci/run another:\n{ci_run}"
    );
}
