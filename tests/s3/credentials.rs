//! The README's credential names: `IMGLIFT_ACCESS_KEY_ID` / `IMGLIFT_SECRET_ACCESS_KEY`, "or
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`", and "`AWS_SESSION_TOKEN` is used when set" —
//! checked against the server, which verifies every signature.

use crate::server::{ACCESS_KEY, SECRET_KEY};
use crate::{start, S3Site, Site};

#[test]
fn the_standard_aws_names_sign_the_uploads_and_a_session_token_is_sent() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let run = site.run_env(
        &["sync"],
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_SESSION_TOKEN", "session-token-for-tests"),
        ],
    );
    run.expect_code(0);
    assert_eq!(site.manifest().len(), 7, "{}", run.dump());
    let puts: Vec<_> = s3
        .stats
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect();
    assert_eq!(puts.len(), 7, "{}", run.dump());
    for put in &puts {
        assert!(
            put.uri
                .contains("X-Amz-Security-Token=session-token-for-tests")
                && put
                    .uri
                    .contains(&format!("X-Amz-Credential={ACCESS_KEY}%2F")),
            "{}",
            put.uri
        );
    }
    assert!(
        !run.stderr.contains("session-token-for-tests"),
        "{}",
        run.dump()
    );

    // The IMGLIFT_ names win: a wrong AWS_ secret beside the right IMGLIFT_ one is not used.
    let site = Site::demo(&s3, "");
    let run = site.run_env(
        &["sync"],
        &[
            ("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY),
            ("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_ACCESS_KEY_ID", "AKIDSOMEONEELSE"),
            ("AWS_SECRET_ACCESS_KEY", "not-the-secret"),
        ],
    );
    run.expect_code(0);
    assert_eq!(site.manifest().len(), 7, "{}", run.dump());
}
