//! imglift as a person runs it: at a terminal (a real pseudo-terminal), where the progress bars
//! are drawn. Every run has a deadline, so a freeze fails the test instead of hanging the suite.
//!
//! The oracle for the screen is the same run with pipes: once the bars are cleared, the terminal
//! must show exactly the lines the piped run printed (diagnostics, result, summary), and no bar
//! may be left half drawn.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::pty::{self, comparable, piped_lines, PtyRun};
use crate::support::{fixture_bytes, imglift_command, Site};

const DEADLINE: Duration = Duration::from_secs(90);

/// `imglift ARGS` in the site root, on a terminal that asks for colour.
fn on_terminal(site: &Site, args: &[&str], env: &[(&str, &str)]) -> PtyRun {
    let mut cmd = imglift(site.root(), args);
    cmd.env("TERM", "xterm-256color").env_remove("NO_COLOR");
    cmd.envs(env.iter().copied());
    pty::run(&mut cmd, DEADLINE)
}

fn imglift(root: &Path, args: &[&str]) -> Command {
    let mut cmd = imglift_command(root);
    cmd.args(args);
    cmd
}

/// The demo blog plus `extra` more distinct images on one page, so the bars have work to show.
fn site_with_images(extra: usize) -> Site {
    let site = Site::fixture("demo");
    let png = fixture_bytes("demo/static/images/avatar.png");
    let mut page = String::from("# Many\n\n");
    for i in 0..extra {
        // Bytes after the end of a PNG do not change the picture; they make each file distinct.
        let mut bytes = png.clone();
        bytes.extend_from_slice(format!("copy {i}").as_bytes());
        site.write(format!("static/many/p{i}.png"), bytes);
        page.push_str(&format!("![picture {i}](/many/p{i}.png)\n\n"));
    }
    site.write("content/posts/many.md", page);
    site
}

/// The run finished, showed a bar while it worked, and left the same lines as a piped run.
#[track_caller]
fn assert_finished_like_a_pipe(run: &PtyRun, code: i32, expected: &[String], bars: &[&str]) {
    assert_eq!(run.code, Some(code), "{}", run.dump());
    let raw = run.raw_text();
    for bar in bars {
        assert!(
            raw.contains(&format!("{bar} [")),
            "the `{bar}` bar was never drawn\n{}",
            run.dump()
        );
    }
    run.assert_no_bar_left(bars);
    assert_eq!(
        comparable(&run.screen),
        comparable(expected),
        "the terminal does not show what a piped run prints\n{}",
        run.dump()
    );
    assert!(run.last_line().starts_with("imglift "), "{}", run.dump());
}

#[test]
fn sync_on_a_terminal_finishes_with_the_summary_and_no_bar_left() {
    // The demo blog alone (7 images) froze every time; 300 more keep the bars busy for longer.
    for (extra, jobs) in [(0, None), (0, Some("1")), (300, None), (300, Some("1"))] {
        let (site, twin) = (site_with_images(extra), site_with_images(extra));
        let mut args = vec!["sync"];
        if let Some(j) = jobs {
            args.extend(["-j", j]);
        }
        let run = on_terminal(&site, &args, &[]);
        let expected = piped_lines(&mut imglift(twin.root(), &args));
        assert_finished_like_a_pipe(&run, 0, &expected, &["hashing", "uploading"]);
        let page = site.read_string("content/posts/hello-world.md");
        assert!(page.contains("https://img.example.com/"), "{page}");
    }
}

#[test]
fn dry_run_on_a_terminal_finishes_with_the_summary_and_no_bar_left() {
    // The diff shows four lines an image: few enough that nothing scrolls off the screen.
    for extra in [0, 150] {
        let (site, twin) = (site_with_images(extra), site_with_images(extra));
        let run = on_terminal(&site, &["sync", "--dry-run"], &[]);
        let expected = piped_lines(&mut imglift(twin.root(), &["sync", "--dry-run"]));
        assert_finished_like_a_pipe(&run, 0, &expected, &["hashing"]);
    }
}

#[test]
fn diagnostics_and_a_broken_reference_on_a_terminal() {
    let (site, twin) = (site_with_images(50), site_with_images(50));
    for s in [&site, &twin] {
        s.write("content/posts/broken.md", "![gone](/images/gone.png)\n");
    }
    // --strict: the broken reference is an error (exit 1), as it is for `check`.
    let run = on_terminal(&site, &["sync", "--strict", "-j", "2"], &[]);
    let expected = piped_lines(&mut imglift(twin.root(), &["sync", "--strict", "-j", "2"]));
    assert_finished_like_a_pipe(&run, 1, &expected, &["hashing", "uploading"]);
    assert!(
        run.screen
            .iter()
            .any(|l| l.starts_with("content/posts/broken.md:1:9: error:")),
        "{}",
        run.dump()
    );
    // On a terminal the severity and the summary's head are in colour (red: an error).
    let raw = run.raw_text();
    assert!(
        raw.contains("\u{1b}[1;31merror\u{1b}[0m: ")
            && raw.contains("\u{1b}[1;31mimglift sync:\u{1b}[0m "),
        "{}",
        run.dump()
    );
}

#[test]
fn check_on_a_terminal_prints_its_findings() {
    let (site, twin) = (site_with_images(20), site_with_images(20));
    let run = on_terminal(&site, &["check"], &[]);
    let expected = piped_lines(&mut imglift(twin.root(), &["check"]));
    assert_finished_like_a_pipe(&run, 1, &expected, &[]);
}

#[test]
fn no_color_and_a_dumb_terminal_get_plain_lines_without_bars() {
    for env in [[("NO_COLOR", "1")], [("TERM", "dumb")]] {
        let (site, twin) = (site_with_images(100), site_with_images(100));
        let run = on_terminal(&site, &["sync"], &env);
        assert_eq!(run.code, Some(0), "{}", run.dump());
        let raw = run.raw_text();
        assert!(
            !raw.contains('\u{1b}') && !raw.contains("hashing") && !raw.contains("uploading"),
            "{env:?}: something was drawn\n{}",
            run.dump()
        );
        let expected = piped_lines(&mut imglift(twin.root(), &["sync"]));
        assert_eq!(comparable(&run.screen), comparable(&expected), "{env:?}");
    }
}

#[test]
fn nothing_is_drawn_when_stderr_is_not_a_terminal() {
    let site = site_with_images(100);
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains("hashing ["),
        "{}",
        run.dump()
    );
}
