//! The promise "secrets never appear in output", and CI output that a page name cannot forge,
//! tried as an attacker would: a pull request adding pages with crafted names, credentials
//! typed into the endpoint URL.

use crate::support::*;

/// Every line of `stderr` that GitHub would read as a workflow command (`::name …`), and the
/// properties of each.
fn workflow_commands(stderr: &str) -> Vec<(String, Vec<String>)> {
    stderr
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(|l| {
            let rest = &l[2..];
            let (name_props, _message) = rest.split_once("::").unwrap_or((rest, ""));
            let (name, props) = name_props.split_once(' ').unwrap_or((name_props, ""));
            (
                name.to_string(),
                props.split(',').map(str::to_string).collect(),
            )
        })
        .collect()
}

/// A page name cannot add a workflow command or move an annotation: GitHub sees exactly one
/// annotation per problem, each with the three properties imglift set, and the file property
/// decodes (as GitHub decodes it) to the page's real name.
#[cfg(unix)]
#[test]
fn page_names_cannot_forge_github_annotations() {
    let site = Site::empty("");
    let evil = "evil\n::error file=README.md,line=1::X.md";
    let moved = "e,line=99,col=7::Y.md";
    for name in [evil, moved] {
        site.write(
            format!("content/{name}"),
            "# Page\n\n![missing](nowhere.png)\n",
        );
    }
    // `sync --strict`: broken references are errors there too, as annotations of that kind.
    for args in [&["check"][..], &["sync", "--strict"][..]] {
        let run = site.run_env(args, &[("GITHUB_ACTIONS", "true")]);
        run.expect_code(1);
        let commands = workflow_commands(&run.stderr);
        assert_eq!(commands.len(), 2, "{}", run.dump());
        let mut files = Vec::new();
        for (name, props) in &commands {
            assert_eq!(name, "error", "{}", run.dump());
            assert_eq!(props.len(), 3, "properties {props:?}\n{}", run.dump());
            assert!(props[1] == "line=3" && props[2] == "col=12", "{props:?}");
            let file = props[0].strip_prefix("file=").unwrap();
            let decoded = file
                .replace("%0A", "\n")
                .replace("%0D", "\r")
                .replace("%3A", ":")
                .replace("%2C", ",")
                .replace("%25", "%");
            files.push(decoded);
        }
        files.sort();
        let mut want = vec![format!("content/{evil}"), format!("content/{moved}")];
        want.sort();
        assert_eq!(files, want, "{}", run.dump());
        // The human diagnostic of the evil page stays on one line.
        assert!(
            run.stderr.contains("content/evil\\n::error file=README.md"),
            "{}",
            run.dump()
        );
    }
}

/// `init --endpoint https://KEY:SECRET@host` says why it refuses, without the credential.
#[test]
fn init_refuses_credentials_in_the_endpoint_without_echoing_them() {
    let dir = tempfile::tempdir().unwrap();
    for endpoint in [
        "https://AKIAINITKEY:HUNTER2initsecret@s3.example.com",
        "https://HUNTER2initsecret@s3.example.com/",
        "http://AKIAINITKEY:HUNTER2initsecret@127.0.0.1:9000?x=1",
    ] {
        let run = run_imglift(
            dir.path(),
            &["init", "--bucket", "blog", "--endpoint", endpoint],
            &[],
        );
        run.expect_code(2);
        for secret in ["HUNTER2initsecret", "AKIAINITKEY"] {
            assert!(
                !run.stderr.contains(secret) && !run.stdout.contains(secret),
                "{endpoint}\n{}",
                run.dump()
            );
        }
        assert!(run.stderr.contains("credentials"), "{}", run.dump());
        assert!(!dir.path().join("imglift.yaml").exists());
    }
    // The same address without credentials is accepted.
    let run = run_imglift(
        dir.path(),
        &[
            "init",
            "--bucket",
            "blog",
            "--endpoint",
            "https://s3.example.com",
        ],
        &[],
    );
    run.expect_code(0);
}
