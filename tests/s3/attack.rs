//! Secrets under attack with a real S3 server: a PUT that fails (the connection dropped, as a
//! flaky network or a hostile proxy would) must not print the presigned URL's query, nor any
//! spelling of the credentials, including a session token full of `/`, `+` and `=`.

use crate::server::{Fault, TestS3, ACCESS_KEY, SECRET_KEY};
use crate::support::{fixture_bytes, Site, PUBLIC_URL};

const TOKEN: &str = "IQoJb3/Sess+Tok==/with+more/Session=Token";

/// Every spelling of a secret a message could carry: raw, percent-encoded with upper and lower
/// case hex, and with `+` left raw (as form encoding writes it).
fn spellings(secret: &str) -> Vec<String> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let upper = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let lower = upper
        .split('%')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 || part.len() < 2 {
                part.to_string()
            } else {
                format!("%{}{}", part[..2].to_ascii_lowercase(), &part[2..])
            }
        })
        .collect::<String>();
    let parts: Vec<String> = secret.split(['/', '+', '=']).map(str::to_string).collect();
    let mut all = vec![secret.to_string(), upper, lower];
    // No fragment of it either (the part before its first `/`, `+` or `=`).
    all.extend(parts.into_iter().filter(|p| p.len() >= 6));
    all
}

#[test]
fn a_failed_put_never_shows_the_presigned_query_or_a_secret() {
    let s3 = TestS3::start(&["blog"]).unwrap();
    let site = Site::empty("");
    site.write("content/a.md", "![a](a.png)\n");
    site.write(
        "content/a.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write(
        "imglift.yaml",
        format!(
            "public_url: {PUBLIC_URL}\ntarget:\n  s3:\n    bucket: blog\n    endpoint: {}\n",
            s3.endpoint
        ),
    );
    // Every PUT loses its connection: the client's error names the URL it was sending to.
    s3.stats
        .fail_next(1000, Some(hyper::Method::PUT), Fault::Drop);
    let env = [
        ("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY),
        ("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", TOKEN),
    ];
    for args in [&["sync"][..], &["sync", "--format", "json"][..]] {
        let run = site.run_env(args, &env);
        run.expect_code(3);
        let seen = s3.stats.seen();
        assert!(
            seen.iter().any(|s| s.method == "PUT"),
            "no PUT was attempted\n{}",
            run.dump()
        );
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(all.contains("upload"), "{}", run.dump());
        for leak in [
            "X-Amz-Signature",
            "X-Amz-Credential",
            "X-Amz-Security-Token",
        ] {
            assert!(!all.contains(leak), "{leak} shown\n{}", run.dump());
        }
        for secret in [TOKEN, SECRET_KEY, ACCESS_KEY] {
            for spelling in spellings(secret) {
                assert!(
                    !all.contains(&spelling),
                    "`{spelling}` shown\n{}",
                    run.dump()
                );
            }
        }
        // The page still points at the local image.
        assert_eq!(site.read_string("content/a.md"), "![a](a.png)\n");
    }
}
