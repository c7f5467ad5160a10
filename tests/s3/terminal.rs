//! The S3 store at a terminal: uploads that are retried and one that keeps failing, while the
//! bars are shown. The retry notes are written while a bar is on the screen (`hashing`: new
//! images are sent as they are hashed; `uploading`: the rest); they must land as whole lines
//! above it, and the run must end with the summary and no bar left.

use std::time::Duration;

use crate::server::Fault;
use crate::support::pty::{self, comparable, piped_lines};
use crate::support::Site;
use crate::{start, S3Site, SECRET_KEY};

/// A notice that a request is sent again; it depends on timing, so it is compared apart.
fn is_retry_note(line: &str) -> bool {
    line.starts_with("imglift: ") && line.contains("; retrying (attempt ")
}

#[test]
fn retries_and_a_failing_upload_on_a_terminal_end_with_the_summary_and_no_bar_left() {
    for jobs in ["1", "4"] {
        let (s3, twin_s3) = (start(), start());
        let (site, twin) = (Site::demo(&s3, ""), Site::demo(&twin_s3, ""));
        for server in [&s3, &twin_s3] {
            server
                .stats
                .fail_every(2, Some(hyper::Method::PUT), Fault::Status(503));
            server.stats.fail_key("hero.jpg", Fault::Status(500));
        }
        let args = ["sync", "-j", jobs];
        let mut cmd = site.command(&args);
        cmd.env("IMGLIFT_ACCESS_KEY_ID", crate::server::ACCESS_KEY)
            .env("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR");
        let run = pty::run(&mut cmd, Duration::from_secs(120));
        assert_eq!(run.code, Some(3), "-j {jobs}: {}", run.dump());
        run.assert_no_bar_left(&["hashing", "uploading"]);

        let raw = run.raw_text();
        let bar = [raw.find("hashing ["), raw.find("uploading [")]
            .into_iter()
            .flatten()
            .min();
        let note = raw.find("; retrying (attempt ");
        assert!(
            matches!((bar, note), (Some(b), Some(n)) if b < n),
            "-j {jobs}: no retry was noted while a bar was shown\n{}",
            run.dump()
        );
        // Every note is a whole line of its own, never mixed with a bar.
        let notes: Vec<&String> = run
            .screen
            .iter()
            .filter(|l| l.contains("retrying"))
            .collect();
        assert!(notes.iter().all(|l| is_retry_note(l)), "{}", run.dump());
        assert!(
            notes
                .iter()
                .any(|l| l.contains("hero.jpg") && l.contains("HTTP 500")),
            "{}",
            run.dump()
        );

        let mut piped = twin.command(&args);
        piped
            .env("IMGLIFT_ACCESS_KEY_ID", crate::server::ACCESS_KEY)
            .env("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY);
        // The two servers differ only in their port.
        let without_notes = |lines: Vec<String>, endpoint: &str| -> Vec<String> {
            lines
                .into_iter()
                .filter(|l| !is_retry_note(l))
                .map(|l| l.replace(endpoint, "ENDPOINT"))
                .collect()
        };
        let expected = without_notes(piped_lines(&mut piped), &twin_s3.endpoint);
        assert_eq!(
            comparable(&without_notes(run.screen.clone(), &s3.endpoint)),
            comparable(&expected),
            "-j {jobs}: the terminal does not show what a piped run prints\n{}",
            run.dump()
        );
        assert!(
            run.last_line().starts_with("imglift sync:") && run.last_line().contains("1 failed"),
            "{}",
            run.dump()
        );
    }
}
