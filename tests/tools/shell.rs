//! Shell completions and the man page, generated from the same clap definition as the parser.

use crate::support::*;

/// The subcommands, as `imglift --help` lists them.
const SUBCOMMANDS: [&str; 7] = [
    "sync",
    "check",
    "verify",
    "init",
    "completions",
    "man",
    "help",
];

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
        assert!(run.stderr.is_empty(), "{shell}\n{}", run.dump());
    }
    // fish: one `complete` line offering each subcommand as the first word.
    let fish = run_imglift(tmp.path(), &["completions", "fish"], &[]).stdout;
    for sub in SUBCOMMANDS {
        assert!(
            fish.lines().any(|l| l
                .starts_with("complete -c imglift -n \"__fish_imglift_needs_command\"")
                && l.contains(&format!(" -a \"{sub}\""))),
            "fish offers no `{sub}`\n{fish}"
        );
    }
    // zsh: each subcommand is a `name:description` entry of the commands list.
    let zsh = run_imglift(tmp.path(), &["completions", "zsh"], &[]).stdout;
    for sub in SUBCOMMANDS {
        assert!(
            zsh.contains(&format!("'{sub}:")),
            "zsh offers no `{sub}`\n{zsh}"
        );
    }

    // bash itself loads the script, registers the completion, and completing `imglift <TAB>`
    // offers exactly the subcommands (besides the options), `imglift s<TAB>` only `sync`.
    let script = run_imglift(tmp.path(), &["completions", "bash"], &[]).stdout;
    write(&tmp.path().join("imglift.bash"), &script);
    let complete = |words: &str| -> Vec<String> {
        let out = run_ok(
            std::process::Command::new("bash")
                .arg("--norc")
                .arg("-c")
                .arg(format!(
                    "source ./imglift.bash && complete -p imglift >/dev/null && \
                     COMP_WORDS=({words}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && \
                     COMP_LINE=\"${{COMP_WORDS[*]}}\" && COMP_POINT=${{#COMP_LINE}} && \
                     _imglift imglift \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" && \
                     printf '%s\\n' \"${{COMPREPLY[@]}}\""
                ))
                .current_dir(tmp.path()),
            "bash: complete with the completion script",
        );
        let mut words: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|w| !w.is_empty() && !w.starts_with('-'))
            .map(String::from)
            .collect();
        words.sort();
        words
    };
    let mut all = SUBCOMMANDS.map(String::from).to_vec();
    all.sort();
    assert_eq!(complete("imglift ''"), all);
    assert_eq!(complete("imglift s"), ["sync"]);
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
