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

/// The README: "`imglift man` is the page of imglift itself (with the config keys, environment
/// variables and exit codes, also shown by `imglift --help`)". Every key of the README's
/// `imglift.yaml` block and of `target.s3`, every variable it names and every exit code of its
/// table is in both, so the two cannot drift from the README.
#[test]
fn help_and_man_name_every_config_key_variable_and_exit_code_of_the_readme() {
    let readme = read_string(&repo().join("README.md"));
    let block: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Configuration"))
        .skip_while(|l| *l != "```yaml")
        .skip(1)
        .take_while(|l| *l != "```")
        .collect();
    let mut keys: Vec<String> = block
        .iter()
        .filter_map(|l| {
            // `# broken: warn` is a key shown commented out; `# s3: {...}` is indented.
            let l = l.strip_prefix("# ").unwrap_or(l);
            let key = l.split(':').next()?;
            (l.contains(':')
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then(|| key.to_string())
        })
        .collect();
    assert_eq!(
        keys.len(),
        17,
        "the README's config block changed: {keys:?}"
    );
    keys.extend(
        [
            "dir",
            "s3",
            "bucket",
            "endpoint",
            "account_id",
            "jurisdiction",
            "region",
            "acl",
            "prefix",
        ]
        .map(String::from),
    );
    let exits: Vec<u8> = readme
        .lines()
        .skip_while(|l| *l != "## Exit codes")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(exits, [0, 1, 2, 3], "the README's exit codes changed");
    let vars = [
        "IMGLIFT_ACCESS_KEY_ID",
        "IMGLIFT_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "IMGLIFT_PUBLIC_URL",
        "IMGLIFT_CONCURRENCY",
        "NO_COLOR",
        "GITHUB_ACTIONS",
    ];
    let tmp = tempfile::tempdir().unwrap();
    let help = run_imglift(tmp.path(), &["--help"], &[]);
    help.expect_code(0);
    let man = run_imglift(tmp.path(), &["man"], &[]);
    man.expect_code(0);
    for (what, text) in [("--help", &help.stdout), ("man", &man.stdout)] {
        let words: std::collections::BTreeSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .collect();
        for key in &keys {
            assert!(
                words.contains(key.as_str()),
                "{what} lacks the key `{key}`\n{text}"
            );
        }
        for var in vars {
            assert!(words.contains(var), "{what} lacks `{var}`\n{text}");
        }
        let codes = &text[text
            .find("Exit codes:")
            .unwrap_or_else(|| panic!("{what}: no exit codes"))..];
        for code in [
            "0 success",
            "1 check found work",
            "2 usage",
            "3 some uploads failed",
        ] {
            assert!(
                codes.contains(code),
                "{what} lacks exit code `{code}`\n{codes}"
            );
        }
        assert!(
            codes.contains("a page changed while sync ran"),
            "{what}: exit 1 as the README's table says\n{codes}"
        );
    }
}
