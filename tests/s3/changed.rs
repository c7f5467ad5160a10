//! The README: "A page edited while `sync` runs is not overwritten: it is left as it is,
//! reported ("changed while imglift was running"), and the next run rewrites it", with exit 1.
//! The store holds the run's requests while the test edits a page it has already read.

use std::time::{Duration, Instant};

use crate::server::{ACCESS_KEY, SECRET_KEY};
use crate::support::{lifted_keys, Run};
use crate::{start, S3Site, Site};

const EDITED: &str = "content/posts/desk-setup.md";

#[test]
fn a_page_edited_while_sync_runs_is_left_as_it_is_and_the_next_run_rewrites_it() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    s3.stats.hold();
    let child = site
        .command(&["sync"])
        .env("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The run asks the store only after it has read every page: wait (bounded) for that.
    let until = Instant::now() + Duration::from_secs(120);
    while s3.stats.requests.load(std::sync::atomic::Ordering::SeqCst) == 0 && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let edited = format!("{}\nA line written while imglift ran.\n", before[EDITED]);
    site.write(EDITED, &edited);
    s3.stats.release();
    let out = child.wait_with_output().unwrap();
    let run = Run {
        args: vec!["sync".into()],
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    run.expect_code(1);
    assert_eq!(
        run.stderr_line(EDITED),
        format!(
            "{EDITED}:1:1: error: changed while imglift was running; left as it is (run imglift again)"
        )
    );
    // Left as the author wrote it; every other page is rewritten; every object is recorded.
    assert_eq!(site.read_string(EDITED), edited);
    for (page, text) in site.pages() {
        if page != EDITED {
            assert!(!lifted_keys(&text).is_empty(), "{page} was not rewritten");
            assert_ne!(text, before[&page], "{page}");
        }
    }
    assert_eq!(site.manifest().len(), 7, "{}", run.dump());

    // The next run rewrites it, keeping the edit, and sends nothing.
    let puts = s3.stats.count("PUT");
    let again = site.sync(&[]);
    again.expect_code(0);
    assert_eq!(s3.stats.count("PUT"), puts, "{}", again.dump());
    let now = site.read_string(EDITED);
    assert!(
        now.ends_with("\nA line written while imglift ran.\n"),
        "{now}"
    );
    assert_eq!(lifted_keys(&now).len(), 3, "{now}");
    assert!(
        !now.contains("](/images/") && !now.contains("(images/"),
        "{now}"
    );
}
