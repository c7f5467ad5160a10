//! Shell completions and the man page, generated from the same clap definition as the parser.

use crate::support::*;

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "_imglift()"),
        ("zsh", "#compdef imglift"),
        ("fish", "complete -c imglift"),
    ] {
        let run = run_imglift(tmp.path(), &["completions", shell], &[]);
        run.expect_code(0);
        assert!(run.stdout.contains(marker), "{shell}\n{}", run.dump());
        for sub in ["sync", "check", "verify", "init", "completions", "man"] {
            assert!(run.stdout.contains(sub), "{shell}: no `{sub}`");
        }
    }
    // bash itself loads the script and registers the completion.
    let script = run_imglift(tmp.path(), &["completions", "bash"], &[]).stdout;
    write(&tmp.path().join("imglift.bash"), &script);
    let out = run_ok(
        std::process::Command::new("bash")
            .arg("-c")
            .arg("source ./imglift.bash && complete -p imglift")
            .current_dir(tmp.path()),
        "bash: source the completion script",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("_imglift"),
        "{}",
        dump(&out)
    );
}

#[test]
fn man_page_documents_the_commands_and_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_imglift(tmp.path(), &["man"], &[]);
    run.expect_code(0);
    assert!(run.stdout.contains(".TH imglift 1"), "{}", run.dump());
    for word in [
        "imglift\\-sync",
        "imglift\\-verify",
        "imglift\\-init",
        "\\-\\-config",
    ] {
        assert!(
            run.stdout.contains(word),
            "man page lacks `{word}`\n{}",
            run.stdout
        );
    }
}

#[test]
fn man_pages_exist_for_each_command_they_name_and_list_config_env_and_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let main = run_imglift(tmp.path(), &["man"], &[]);
    main.expect_code(0);
    for word in [
        "IMGLIFT_ACCESS_KEY_ID",
        "public_url",
        "Exit codes",
        "broken",
    ] {
        assert!(main.stdout.contains(word), "man page lacks `{word}`");
    }
    for sub in ["sync", "check", "verify", "init"] {
        let page = run_imglift(tmp.path(), &["man", sub], &[]);
        page.expect_code(0);
        assert!(
            page.stdout.contains(&format!(".TH imglift-{sub} 1")),
            "{}",
            page.dump()
        );
    }
    let sync = run_imglift(tmp.path(), &["man", "sync"], &[]);
    for flag in [
        "\\-\\-dry\\-run",
        "\\-\\-strict",
        "\\-\\-config",
        "\\-\\-concurrency",
    ] {
        assert!(sync.stdout.contains(flag), "imglift-sync(1) lacks {flag}");
    }
}
