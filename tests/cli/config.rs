//! Configuration: typos and secrets in `imglift.yaml` stop the run with exit 2 before anything is
//! done, secrets are never echoed, and flags > environment > file.

use std::ffi::OsStr;

use crate::support::*;

const PAGE: &str = "![a](a.png)\n";

/// A site with one page and one image, and `config` as its whole imglift.yaml.
fn site_with_config(config: &str) -> Site {
    let site = Site::empty("");
    site.write("imglift.yaml", config);
    site.write("content/p.md", PAGE);
    site.write(
        "content/a.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site
}

/// Run each command and expect exit 2 with nothing written; returns the runs.
fn refused_everywhere(site: &Site) -> Vec<Run> {
    let before = site.snapshot(".");
    let runs: Vec<Run> = [
        &["sync"][..],
        &["sync", "--dry-run"],
        &["sync", "--format", "json"],
        &["check"],
    ]
    .iter()
    .map(|args| {
        let run = site.run(args);
        run.expect_code(2);
        run
    })
    .collect();
    assert_same_tree(&before, &site.snapshot("."), true, "a refused config");
    runs
}

#[test]
fn unknown_key_is_exit_2_naming_the_key_and_the_file() {
    let site = site_with_config("public_url: https://img.example.com\ntraget: {dir: store}\n");
    for run in refused_everywhere(&site) {
        assert_eq!(
            run.stderr,
            format!(
                "imglift: {}:2:1: unknown key `traget` (did you mean `target`?)\n",
                site.path("imglift.yaml").display()
            )
        );
        assert!(run.stdout.is_empty(), "{}", run.dump());
    }
}

#[test]
fn unknown_nested_key_is_exit_2_naming_the_key() {
    let site = site_with_config(
        "public_url: https://img.example.com\ntarget: {dir: store, buckit: photos}\n",
    );
    for run in refused_everywhere(&site) {
        assert_eq!(
            run.stderr,
            format!(
                "imglift: {}:2:22: target: unknown key `buckit`; known keys here: dir, s3\n",
                site.path("imglift.yaml").display()
            )
        );
    }
}

#[test]
fn secret_in_the_config_is_exit_2_says_use_the_environment_and_is_never_echoed() {
    let site = site_with_config(
        "public_url: https://img.example.com\n\
         target: {s3: {bucket: b, endpoint: http://127.0.0.1:9, secret_access_key: SUPERSECRET}}\n",
    );
    for run in refused_everywhere(&site) {
        assert!(
            run.stderr.contains("environment") && run.stderr.contains("SECRET_ACCESS_KEY"),
            "the message should say to export the secret in the environment\n{}",
            run.dump()
        );
        assert!(run.stderr.contains("secret_access_key"), "{}", run.dump());
        assert!(
            !run.stdout.contains("SUPERSECRET") && !run.stderr.contains("SUPERSECRET"),
            "the secret value was printed\n{}",
            run.dump()
        );
    }
}

#[test]
fn secret_in_a_top_level_key_is_refused_too() {
    let site = site_with_config(
        "public_url: https://img.example.com\ntarget: {dir: store}\naccess_key_id: AKIDSUPERSECRET\n",
    );
    for run in refused_everywhere(&site) {
        assert!(!run.stderr.contains("AKIDSUPERSECRET"), "{}", run.dump());
        assert!(!run.stdout.contains("AKIDSUPERSECRET"), "{}", run.dump());
    }
}

#[test]
fn credentials_inside_the_endpoint_url_are_never_echoed() {
    // `https://KEY:SECRET@host` is a secret written in the config file as well.
    let site = site_with_config(
        "public_url: https://img.example.com\n\
         target: {s3: {bucket: b, endpoint: \"https://AKIDEXAMPLE:SUPERSECRET@acct.r2.cloudflarestorage.com\"}}\n",
    );
    for args in [
        &["sync"][..],
        &["sync", "--dry-run"],
        &["sync", "--format", "json"],
        &["check", "--format", "json"],
    ] {
        let run = site.run(args);
        run.expect_no_panic();
        assert!(
            !run.stdout.contains("SUPERSECRET") && !run.stderr.contains("SUPERSECRET"),
            "`imglift {}` printed the secret in the endpoint URL\n{}",
            args.join(" "),
            run.dump()
        );
    }
}

#[test]
fn secrets_from_the_environment_never_appear_in_the_output() {
    let site = Site::fixture("hugo");
    let env = [
        ("IMGLIFT_ACCESS_KEY_ID", "AKIDENVLEAKCHECK"),
        ("IMGLIFT_SECRET_ACCESS_KEY", "ENVSUPERSECRET"),
        ("AWS_SECRET_ACCESS_KEY", "AWSSUPERSECRET"),
    ];
    for args in [
        &["sync", "--dry-run"][..],
        &["sync"],
        &["sync", "--format", "json"],
        &["check", "--format", "json"],
    ] {
        let run = site.run_env(args, &env);
        // check: the broken references are errors; sync: warnings.
        run.expect_code(if args[0] == "check" { 1 } else { 0 });
        for (_, secret) in env {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "{secret} printed by `imglift {}`",
                args.join(" ")
            );
        }
    }
}

#[test]
fn missing_public_url_is_exit_2_naming_the_key() {
    let site = site_with_config("target: {dir: store}\n");
    for run in refused_everywhere(&site) {
        assert_eq!(
            run.stderr,
            "imglift: `public_url` is required: the address that serves the bucket, e.g. https://img.example.com\n",
            "{}",
            run.dump()
        );
    }
}

#[test]
fn public_url_that_is_not_http_is_exit_2() {
    let site = site_with_config("public_url: img.example.com\ntarget: {dir: store}\n");
    for run in refused_everywhere(&site) {
        assert_eq!(
            run.stderr,
            "imglift: `public_url`: `img.example.com` is not an http(s) address\n",
            "{}",
            run.dump()
        );
    }
}

#[test]
fn public_url_flag_beats_the_environment_which_beats_the_file() {
    let config = "public_url: https://file.example.com\ntarget: {dir: store}\n";
    let env = [("IMGLIFT_PUBLIC_URL", "https://env.example.com")];

    let site = site_with_config(config);
    site.run_env(&["sync", "--public-url", "https://flag.example.com"], &env)
        .expect_code(0);
    assert!(site
        .read_string("content/p.md")
        .starts_with("![a](https://flag.example.com/"));

    let site = site_with_config(config);
    site.run_env(&["sync"], &env).expect_code(0);
    assert!(site
        .read_string("content/p.md")
        .starts_with("![a](https://env.example.com/"));

    let site = site_with_config(config);
    site.run(&["sync"]).expect_code(0);
    assert!(site
        .read_string("content/p.md")
        .starts_with("![a](https://file.example.com/"));

    // And the flag supplies a public_url missing from the file.
    let site = site_with_config("target: {dir: store}\n");
    site.run(&["sync", "--public-url", "https://flag.example.com/"])
        .expect_code(0);
    let page = site.read_string("content/p.md");
    assert!(
        page.starts_with("![a](https://flag.example.com/") && !page.contains(".com//"),
        "{page}"
    );
}

#[test]
fn config_flag_works_from_another_folder_with_paths_relative_to_the_file() {
    let site = site_with_config("public_url: https://img.example.com\ntarget: {dir: store}\n");
    let elsewhere = site.outside("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let config = site.path("imglift.yaml");
    let run = run_imglift(
        &elsewhere,
        &[
            OsStr::new("--config"),
            config.as_os_str(),
            OsStr::new("sync"),
        ],
        &[],
    );
    run.expect_code(0);
    assert!(site.exists("store"), "store relative to the config file");
    assert!(site.exists("imglift.lock"));
    assert!(
        snapshot(&elsewhere).is_empty(),
        "wrote into the current folder"
    );
    assert!(site
        .read_string("content/p.md")
        .starts_with("![a](https://img.example.com/"));
}

#[test]
fn config_flag_naming_a_missing_file_is_exit_2() {
    let site = site_with_config("public_url: https://img.example.com\ntarget: {dir: store}\n");
    let before = site.snapshot(".");
    let run = site.run(&["--config", "nope.yaml", "check"]);
    run.expect_code(2);
    assert_eq!(
        run.stderr,
        format!(
            "imglift: config file {} does not exist\n",
            site.path("nope.yaml").display()
        ),
        "{}",
        run.dump()
    );
    assert_same_tree(&before, &site.snapshot("."), true, "a missing --config");
}

#[test]
fn no_config_anywhere_is_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_imglift(tmp.path(), &[OsStr::new("check")], &[]);
    run.expect_code(2);
    assert!(
        run.stderr.starts_with("imglift: no imglift.yaml in ")
            && run
                .stderr
                .ends_with(" or any parent folder; run `imglift init` or pass --config\n"),
        "{}",
        run.dump()
    );
    assert!(snapshot(tmp.path()).is_empty(), "wrote into the folder");
}

#[test]
fn invalid_yaml_is_exit_2_naming_the_file() {
    let site = site_with_config("public_url: [https://img.example.com\n");
    for run in refused_everywhere(&site) {
        assert_eq!(
            run.stderr,
            format!(
                "imglift: {}:2:1: did not find expected ',' or ']', while parsing a flow sequence\n",
                site.path("imglift.yaml").display()
            ),
            "{}",
            run.dump()
        );
    }
}

#[test]
fn unknown_key_template_variable_is_exit_2_naming_it() {
    let site = site_with_config(
        "public_url: https://img.example.com\ntarget: {dir: store}\nkey: \"{hash:8}/{filename}.{extName}\"\n",
    );
    for run in refused_everywhere(&site) {
        assert!(run.stderr.contains("{filename}"), "{}", run.dump());
    }
}

#[test]
fn zero_concurrency_is_exit_2() {
    let site = site_with_config("public_url: https://img.example.com\ntarget: {dir: store}\n");
    let before = site.snapshot(".");
    let run = site.run(&["-j", "0", "sync"]);
    run.expect_code(2);
    assert!(run.stderr.contains("concurrency"), "{}", run.dump());
    assert_same_tree(&before, &site.snapshot("."), true, "-j 0");
}

#[test]
fn unknown_subcommand_or_flag_is_exit_2() {
    let site = site_with_config("public_url: https://img.example.com\ntarget: {dir: store}\n");
    let before = site.snapshot(".");
    for (args, says) in [
        (&["lift"][..], "error: unrecognized subcommand 'lift'\n"),
        (
            &["sync", "--frobnicate"],
            "error: unexpected argument '--frobnicate' found\n",
        ),
        (
            &["sync", "--format", "yaml"],
            "error: invalid value 'yaml' for '--format <FORMAT>'\n  [possible values: human, json]\n",
        ),
    ] {
        let run = site.run(args);
        run.expect_code(2);
        assert!(run.stderr.starts_with(says), "{}", run.dump());
        assert!(run.stdout.is_empty(), "{}", run.dump());
    }
    assert_same_tree(&before, &site.snapshot("."), true, "usage errors");
}

#[test]
fn a_misspelt_key_is_shown_at_its_line_with_the_key_it_meant() {
    let site = Site::empty("concurency: 4\n");
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("imglift.yaml:3:1: unknown key `concurency` (did you mean `concurrency`?)"),
        "{}",
        run.dump()
    );
    let site = Site::empty("concurrency: lots\n");
    let run = site.run(&["check"]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("imglift.yaml:3:14:") && run.stderr.contains("a whole number"),
        "{}",
        run.dump()
    );
    assert!(!run.stderr.contains("usize"), "{}", run.dump());
}
