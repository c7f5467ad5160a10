//! A flaky, slow, refusing or lying store, played by the test server's fault injection in front
//! of the real s3s: what README's "How uploads behave" promises, in exact numbers — references
//! lifted, requests sent and faulted, attempts per object (6), the messages, the exit code and
//! the bytes of every page.

use std::collections::BTreeMap;

use hyper::Method;

use super::{start, S3Site, BUCKET};
use crate::server::{Fault, TestS3};
use crate::support::{Run, Site, PUBLIC_URL};

/// The demo blog's eight local references: the page, the text around the destination (found
/// exactly once in the page), the destination as written, and the image file it names.
const REFERENCES: [(&str, &str, &str, &str); 8] = [
    (
        "content/posts/hello-world.md",
        "image: /images/hero.jpg",
        "/images/hero.jpg",
        "static/images/hero.jpg",
    ),
    (
        "content/posts/hello-world.md",
        "(/images/avatar.png)",
        "/images/avatar.png",
        "static/images/avatar.png",
    ),
    (
        "content/posts/sourdough/index.md",
        "image: loaf.jpg",
        "loaf.jpg",
        "content/posts/sourdough/loaf.jpg",
    ),
    (
        "content/posts/sourdough/index.md",
        "(starter.gif)",
        "starter.gif",
        "content/posts/sourdough/starter.gif",
    ),
    (
        "content/posts/sourdough/index.md",
        "(crumb.png \"",
        "crumb.png",
        "content/posts/sourdough/crumb.png",
    ),
    (
        "content/posts/desk-setup.md",
        "image: /images/desk.webp",
        "/images/desk.webp",
        "static/images/desk.webp",
    ),
    (
        "content/posts/desk-setup.md",
        "(/images/cable-diagram.svg)",
        "/images/cable-diagram.svg",
        "static/images/cable-diagram.svg",
    ),
    (
        "content/posts/desk-setup.md",
        "src=\"/images/desk.webp\"",
        "/images/desk.webp",
        "static/images/desk.webp",
    ),
];

/// The object key of an image under the default template `{hash:16}/{fileName}.{extName}`,
/// computed here from the file's bytes.
fn key_of(site: &Site, source: &str) -> String {
    let hash = blake3::hash(&site.read(source)).to_hex();
    let name = source.rsplit('/').next().unwrap();
    format!("{}/{name}", &hash[..16])
}

/// The pages as they must be after a run that lifted every image but those in `kept_local`:
/// `before` with exactly the URL bytes of each lifted reference replaced.
fn expected_pages(
    site: &Site,
    before: &BTreeMap<String, String>,
    kept_local: &[&str],
) -> BTreeMap<String, String> {
    let mut pages = before.clone();
    for (page, around, dest, source) in REFERENCES {
        let text = pages.get_mut(page).unwrap();
        assert_eq!(text.matches(around).count(), 1, "{page}: {around}");
        if kept_local.contains(&source) {
            continue;
        }
        let url = format!("{PUBLIC_URL}/{}", key_of(site, source));
        *text = text.replace(around, &around.replace(dest, &url));
    }
    pages
}

/// The object key a request was for (path-style: `/BUCKET/KEY?query`).
fn key_of_request(request: &crate::server::Seen, bucket: &str) -> String {
    let path = request.uri.split('?').next().unwrap();
    crate::support::percent_decode_lossy(path.trim_start_matches(&format!("/{bucket}/")))
}

/// The retry notes on stderr (`imglift: PUT `KEY`: WHY; retrying (attempt N of 6)`).
fn retry_notes(out: &Run) -> Vec<&str> {
    out.stderr
        .lines()
        .filter(|l| l.contains("; retrying (attempt "))
        .collect()
}

/// The one line of stderr that contains `text`.
fn line_with<'a>(out: &'a Run, text: &str) -> &'a str {
    let lines: Vec<&str> = out.stderr.lines().filter(|l| l.contains(text)).collect();
    assert_eq!(lines.len(), 1, "`{text}` in:\n{}", out.stderr);
    lines[0]
}

/// The summary line (the last line of stderr), without its timing.
fn summary(out: &Run) -> String {
    let last = out.stderr.lines().last().unwrap_or("");
    last.rsplit_once(" (").map_or(last, |(s, _)| s).to_string()
}

fn requests(s3: &TestS3) -> BTreeMap<String, usize> {
    s3.stats.by_method().into_iter().collect()
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(m, n)| (m.to_string(), *n)).collect()
}

#[test]
fn transient_answers_are_retried_and_every_reference_is_lifted() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    // Seven PUT faults and two HEAD faults of every transient kind README lists, each taken by
    // the next request of its method (one object may meet several).
    for fault in [429, 429, 408, 408, 500, 503] {
        s3.stats
            .fail_next(1, Some(Method::PUT), Fault::Status(fault));
    }
    s3.stats.fail_next(1, Some(Method::PUT), Fault::Drop);
    s3.stats
        .fail_next(1, Some(Method::HEAD), Fault::Status(429));
    s3.stats
        .fail_next(1, Some(Method::HEAD), Fault::Status(503));
    let out = site.sync(&["-j", "4"]);
    out.expect_code(0);
    // Each of the seven objects: one HEAD (absent), one PUT; plus one attempt per fault.
    assert_eq!(requests(&s3), counts(&[("HEAD", 9), ("PUT", 14)]));
    assert_eq!(s3.stats.faulted(), 9);
    let notes = retry_notes(&out);
    assert_eq!(notes.len(), 9, "{}", out.stderr);
    // A HEAD's answer has no body: the note says what the status means.
    for (what, puts, heads) in [
        ("HTTP 429 InjectedFault: injected 429;", 2, 0),
        ("HTTP 408 InjectedFault: injected 408;", 2, 0),
        ("HTTP 500 InjectedFault: injected 500;", 1, 0),
        ("HTTP 503 InjectedFault: injected 503;", 1, 0),
        ("HTTP 429 (too many requests);", 0, 1),
        ("HTTP 503 (the store failed);", 0, 1),
        ("connection closed before message completed;", 1, 0),
    ] {
        let with = |op: &str| {
            notes
                .iter()
                .filter(|l| l.starts_with(op) && l.contains(what))
                .count()
        };
        assert_eq!(
            (with("imglift: PUT `"), with("imglift: HEAD ")),
            (puts, heads),
            "{what}\n{notes:#?}"
        );
    }
    // Per object: the PUTs the server saw are one more than the retries noted, numbered
    // 2, 3, ... in order.
    let sources: std::collections::BTreeSet<&str> = REFERENCES.iter().map(|r| r.3).collect();
    for source in sources {
        let key = key_of(&site, source);
        let noted: Vec<&str> = notes
            .iter()
            .filter(|l| l.starts_with(&format!("imglift: PUT `{key}`: ")))
            .map(|l| l.rsplit_once("(attempt ").unwrap().1)
            .collect();
        let numbers: Vec<String> = (2..=noted.len() + 1)
            .map(|n| format!("{n} of 6)"))
            .collect();
        assert_eq!(noted, numbers, "{key}");
        assert_eq!(s3.stats.attempts("PUT", &key), noted.len() + 1, "{key}");
    }
    assert_eq!(site.pages(), expected_pages(&site, &before, &[]));
    assert_eq!(site.manifest().len(), 7);
    assert_eq!(
        summary(&out),
        "imglift sync: 3 pages, 8 references rewritten in 3 pages; 7 images: 7 uploaded \
         (2.3 KiB), 0 already stored, 0 failed"
    );
}

#[test]
fn an_object_that_keeps_failing_is_tried_six_times_reported_and_sent_by_the_next_run() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    let hero = key_of(&site, "static/images/hero.jpg");
    s3.stats
        .fail_key_on(Method::PUT, "hero.jpg", Fault::Status(500));
    let out = site.sync(&["-j", "4"]);
    out.expect_code(3);
    // README: 6 attempts; the other objects are not held back.
    assert_eq!(s3.stats.attempts("PUT", &hero), 6);
    assert_eq!(requests(&s3), counts(&[("HEAD", 7), ("PUT", 12)]));
    let notes = retry_notes(&out);
    let expected: Vec<String> = (2..=6)
        .map(|n| {
            format!(
                "imglift: PUT `{hero}`: HTTP 500 InjectedFault: injected 500; retrying \
                 (attempt {n} of 6)"
            )
        })
        .collect();
    assert_eq!(notes, expected);
    assert_eq!(
        line_with(&out, "gave up"),
        format!(
            "static/images/hero.jpg:1:1: error: upload to bucket `{BUCKET}` at {} as `{hero}` \
             failed: PUT `{hero}`: gave up after 6 attempts; last error: HTTP 500 InjectedFault: \
             injected 500; its references stay local",
            s3.endpoint
        )
    );
    // Its reference stays local, byte for byte; every other one is lifted.
    assert_eq!(
        site.pages(),
        expected_pages(&site, &before, &["static/images/hero.jpg"])
    );
    assert_eq!(site.manifest().len(), 6);
    assert!(!site.manifest().contains_key(&hero));
    assert_eq!(
        summary(&out),
        "imglift sync: 3 pages, 7 references rewritten in 3 pages; 7 images: 6 uploaded \
         (1.6 KiB), 0 already stored, 1 failed; 1 error"
    );

    s3.stats.clear_faults();
    s3.stats.reset();
    let again = site.sync(&[]);
    again.expect_code(0);
    assert_eq!(requests(&s3), counts(&[("HEAD", 1), ("PUT", 1)]));
    assert_eq!(s3.stats.attempts("PUT", &hero), 1);
    assert_eq!(site.pages(), expected_pages(&site, &before, &[]));
    assert_eq!(site.manifest().len(), 7);
}

#[test]
fn a_request_with_no_answer_times_out_after_60_seconds_and_is_sent_again() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    // The first PUT is never answered: the client's timeout must end it, and the retry lands.
    s3.stats.fail_next(1, Some(Method::PUT), Fault::Hang);
    let out = site.sync(&["-j", "4"]);
    out.expect_code(0);
    assert_eq!(requests(&s3), counts(&[("HEAD", 7), ("PUT", 8)]));
    let hung = s3
        .stats
        .seen()
        .into_iter()
        .find(|s| s.fault == Some(Fault::Hang))
        .unwrap();
    let notes = retry_notes(&out);
    assert_eq!(notes.len(), 1, "{}", out.stderr);
    let key = key_of_request(&hung, BUCKET);
    assert!(
        notes[0].starts_with(&format!("imglift: PUT `{key}`: "))
            && notes[0].contains("timed out")
            && notes[0].ends_with("; retrying (attempt 2 of 6)"),
        "{notes:?}"
    );
    assert_eq!(s3.stats.attempts("PUT", &key), 2);
    assert_eq!(site.pages(), expected_pages(&site, &before, &[]));
    assert_eq!(site.manifest().len(), 7);
}

#[test]
fn a_refused_credential_on_a_head_or_put_stops_every_upload_at_once_without_a_retry() {
    // (method refused, status, requests sent, what the message says the store answered)
    let cases = [
        (
            Method::PUT,
            401,
            [("HEAD", 1), ("PUT", 1)],
            "HTTP 401 InjectedFault",
        ),
        (
            Method::PUT,
            403,
            [("HEAD", 1), ("PUT", 1)],
            "HTTP 403 InjectedFault",
        ),
        // A HEAD's answer has no body, so no error code.
        (Method::HEAD, 401, [("HEAD", 1), ("PUT", 0)], "HTTP 401"),
        (Method::HEAD, 403, [("HEAD", 1), ("PUT", 0)], "HTTP 403"),
    ];
    for (method, status, sent, answer) in cases {
        let s3 = start();
        let site = Site::demo(&s3, "");
        let before = site.pages();
        s3.stats
            .fail_next(1, Some(method.clone()), Fault::Status(status));
        let out = site.sync(&["-j", "1"]);
        out.expect_code(3);
        // The refused request is the last one: no retry, no other object.
        let sent: Vec<(&str, usize)> = sent.into_iter().filter(|(_, n)| *n > 0).collect();
        assert_eq!(requests(&s3), counts(&sent), "{method} {status}");
        assert!(retry_notes(&out).is_empty(), "{}", out.stderr);
        let refused = s3.stats.seen().pop().unwrap();
        assert_eq!(refused.fault, Some(Fault::Status(status)));
        let key = key_of_request(&refused, BUCKET);
        let op = if method == Method::PUT {
            "PUT"
        } else {
            "HEAD (is it already stored?)"
        };
        let refusal = format!(
            "{op} `{key}` in bucket `{BUCKET}` at {}: {answer}: the store refused these \
             credentials; check IMGLIFT_ACCESS_KEY_ID / IMGLIFT_SECRET_ACCESS_KEY and that the \
             token may read and write this bucket",
            s3.endpoint
        );
        let source = REFERENCES
            .iter()
            .map(|r| r.3)
            .find(|source| key_of(&site, source) == key)
            .unwrap();
        let upload = |key: &str| {
            format!(
                "error: upload to bucket `{BUCKET}` at {} as `{key}` failed: ",
                s3.endpoint
            )
        };
        assert_eq!(
            line_with(&out, &format!("{}{refusal}", upload(&key))),
            format!(
                "{source}:1:1: {}{refusal}; its references stay local",
                upload(&key)
            )
        );
        // The other six objects are reported as not sent, for the same reason.
        let not_sent = out
            .stderr
            .lines()
            .filter(|l| {
                l.ends_with(&format!(
                    "failed: not sent: {refusal}; its references stay local"
                ))
            })
            .count();
        assert_eq!(not_sent, 6, "{}", out.stderr);
        assert_eq!(site.pages(), before, "{method} {status}");
        assert!(site.manifest().is_empty());
    }
}

#[test]
fn a_missing_bucket_names_the_bucket_and_endpoint_and_rewrites_nothing() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let config = site
        .read_string("imglift.yaml")
        .replace(&format!("bucket: {BUCKET}"), "bucket: no-such-bucket");
    site.write("imglift.yaml", config);
    let before = site.pages();
    let out = site.sync(&["-j", "1"]);
    out.expect_code(3);
    // The HEAD of a missing bucket's object is a bodiless 404 (absent); the PUT says why.
    assert_eq!(requests(&s3), counts(&[("HEAD", 1), ("PUT", 1)]));
    let put = &super::puts(&s3)[0];
    let key = key_of_request(put, "no-such-bucket");
    let source = REFERENCES
        .iter()
        .map(|r| r.3)
        .find(|source| key_of(&site, source) == key)
        .unwrap();
    let at = format!("bucket `no-such-bucket` at {}", s3.endpoint);
    let why = format!(
        "PUT `{key}` in {at}: the bucket does not exist; check `bucket:`. An R2 bucket created \
         in the EU or FedRAMP jurisdiction lives at another endpoint: add `jurisdiction: eu` (or \
         `fedramp`) beside `account_id:` in target.s3"
    );
    assert_eq!(
        line_with(&out, &format!("as `{key}` failed: PUT")),
        format!("{source}:1:1: error: upload to {at} as `{key}` failed: {why}; its references stay local")
    );
    let not_sent = out
        .stderr
        .lines()
        .filter(|l| {
            l.ends_with(&format!(
                "failed: not sent: {why}; its references stay local"
            ))
        })
        .count();
    assert_eq!(not_sent, 6, "{}", out.stderr);
    assert!(retry_notes(&out).is_empty(), "{}", out.stderr);
    assert_eq!(site.pages(), before);
    assert!(site.manifest().is_empty());
    assert!(!s3.root.path().join("no-such-bucket").exists());
}

#[test]
fn an_etag_that_is_not_the_md5_is_no_confirmation_retried_then_failed() {
    let md5 = format!(
        "{:x}",
        md5::compute(
            std::fs::read(crate::support::fixtures().join("demo/static/images/hero.jpg")).unwrap()
        )
    );
    for (etag, why) in [
        (
            "\"0123456789abcdef0123456789abcdef\"",
            format!(
                "the store answered with ETag 0123456789abcdef0123456789abcdef, not the MD5 \
                 {md5} of the bytes sent, so the upload is not confirmed"
            ),
        ),
        (
            "",
            format!(
                "the store answered without an ETag, so the upload is not confirmed (expected \
                 the MD5 {md5} of the bytes sent)"
            ),
        ),
    ] {
        let s3 = start();
        let site = Site::demo(&s3, "");
        let before = site.pages();
        let hero = key_of(&site, "static/images/hero.jpg");
        // s3s stores the object every time; only the answer does not confirm it.
        s3.stats
            .fail_key_on(Method::PUT, "hero.jpg", Fault::Etag(etag));
        let out = site.sync(&["-j", "4"]);
        out.expect_code(3);
        assert_eq!(s3.stats.attempts("PUT", &hero), 6, "{etag}");
        assert_eq!(requests(&s3), counts(&[("HEAD", 7), ("PUT", 12)]));
        assert_eq!(retry_notes(&out).len(), 5, "{}", out.stderr);
        assert_eq!(
            line_with(&out, "gave up"),
            format!(
                "static/images/hero.jpg:1:1: error: upload to bucket `{BUCKET}` at {} as \
                 `{hero}` failed: PUT `{hero}`: gave up after 6 attempts; last error: {why}; its \
                 references stay local",
                s3.endpoint
            )
        );
        assert_eq!(
            site.pages(),
            expected_pages(&site, &before, &["static/images/hero.jpg"])
        );
        assert!(!site.manifest().contains_key(&hero));

        // The next run finds the object (a HEAD: same size, same blake3) and records it.
        s3.stats.clear_faults();
        s3.stats.reset();
        site.sync(&[]).expect_code(0);
        assert_eq!(requests(&s3), counts(&[("HEAD", 1)]));
        assert_eq!(site.pages(), expected_pages(&site, &before, &[]));
        assert!(site.manifest().contains_key(&hero));
    }
}

#[test]
fn one_wrong_or_missing_etag_is_retried_and_the_run_succeeds() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    s3.stats.fail_next(
        1,
        Some(Method::PUT),
        Fault::Etag("\"0123456789abcdef0123456789abcdef\""),
    );
    s3.stats.fail_next(1, Some(Method::PUT), Fault::Etag(""));
    let out = site.sync(&["-j", "4"]);
    out.expect_code(0);
    assert_eq!(requests(&s3), counts(&[("HEAD", 7), ("PUT", 9)]));
    let notes = retry_notes(&out);
    assert_eq!(notes.len(), 2, "{}", out.stderr);
    assert!(notes.iter().any(|l| l.contains(
        ": the store answered with ETag 0123456789abcdef0123456789abcdef, not the MD5 "
    )));
    assert!(notes.iter().any(
        |l| l.contains(": the store answered without an ETag, so the upload is not confirmed")
    ));
    assert_eq!(site.pages(), expected_pages(&site, &before, &[]));
    assert_eq!(site.manifest().len(), 7);
}

/// The demo blog with `n` more new images on one page (distinct bytes, PNGs by their bytes).
fn with_many_images(site: &Site, n: usize) {
    let png = site.read("static/images/avatar.png");
    let mut page = String::from("# Many\n\n");
    for i in 0..n {
        let mut bytes = png.clone();
        bytes.extend_from_slice(format!("copy {i}").as_bytes());
        site.write(format!("content/posts/many/i{i}.png"), bytes);
        page.push_str(&format!("![{i}](i{i}.png)\n"));
    }
    site.write("content/posts/many/index.md", page);
}

#[test]
fn uploads_overlap_up_to_j_and_reuse_their_connections() {
    for j in [1, 4] {
        let s3 = start();
        let site = Site::demo(&s3, "");
        with_many_images(&site, 40);
        if j > 1 {
            // Each request waits (up to 3 s) for a second one: a serial client shows 1.
            s3.stats.gather(2, 3000);
        }
        let out = site.sync(&["-j", &j.to_string()]);
        out.expect_code(0);
        // 47 new objects: one listing instead of a HEAD each, then one PUT each.
        assert_eq!(requests(&s3), counts(&[("GET", 1), ("PUT", 47)]), "-j {j}");
        let most = s3.stats.max_in_flight();
        let connections = s3.stats.connections();
        eprintln!("-j {j}: at most {most} requests in flight, {connections} connections");
        if j > 1 {
            assert!((2..=j).contains(&most), "-j {j}: {most} in flight");
        } else {
            assert_eq!(most, 1, "-j 1");
        }
        // Kept alive and reused: on average each connection carries at least four of the 48
        // requests. (The pool has no cap: on a busy machine it opens a few more than -j while
        // finished connections are still being handed back, so -j is no exact bound.)
        assert!(
            (1..=48 / 4).contains(&connections),
            "-j {j}: {connections} connections"
        );
        assert_eq!(site.manifest().len(), 47);
    }
}

#[test]
fn heads_and_puts_overlap_up_to_j() {
    for j in [1, 4] {
        let s3 = start();
        let site = Site::demo(&s3, "");
        if j > 1 {
            s3.stats.gather(2, 3000);
        }
        let out = site.sync(&["-j", &j.to_string()]);
        out.expect_code(0);
        // Seven new objects: a HEAD (absent) and a PUT each.
        assert_eq!(requests(&s3), counts(&[("HEAD", 7), ("PUT", 7)]), "-j {j}");
        let most = s3.stats.max_in_flight();
        let connections = s3.stats.connections();
        eprintln!("-j {j}: at most {most} requests in flight, {connections} connections");
        assert!((j.min(2)..=j).contains(&most), "-j {j}: {most} in flight");
    }
}
