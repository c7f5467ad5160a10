//! What a first R2 user hits, against the server with R2's strictness in front of s3s
//! ([`TestS3::start_r2`]): the dashboard's S3 API URL as endpoint, a prefix with a space,
//! an `acl:` copied from an AWS guide, a bucket in another jurisdiction, a failing HEAD.

use super::*;

fn start_r2() -> TestS3 {
    TestS3::start_r2(&[BUCKET]).unwrap()
}

/// Distinct PNGs `i0.png`… in `content/posts/many/`, all referenced by its `index.md`.
fn many_images(site: &Site, n: usize) {
    let png = std::fs::read(site.path("static/images/avatar.png")).unwrap();
    let dir = site.path("content/posts/many");
    std::fs::create_dir_all(&dir).unwrap();
    let mut page = String::from("# Many\n\n");
    for i in 0..n {
        let mut bytes = png.clone();
        bytes.extend_from_slice(format!("copy {i}").as_bytes());
        std::fs::write(dir.join(format!("i{i}.png")), bytes).unwrap();
        page.push_str(&format!("![{i}](i{i}.png)\n"));
    }
    std::fs::write(dir.join("index.md"), page).unwrap();
}

/// Every URL in every page names an object stored under exactly that key.
fn every_reference_is_stored(s3: &TestS3, site: &Site) -> usize {
    let mut n = 0;
    for (page, text) in site.pages() {
        for key in crate::support::lifted_keys(&text) {
            let stored = std::fs::read(s3.object_path(BUCKET, &key))
                .unwrap_or_else(|_| panic!("{page} points at {key}, which is not stored"));
            let (hash, _) = &site.manifest()[&key];
            assert_eq!(blake3::hash(&stored).to_hex().as_str(), hash, "{key}");
            n += 1;
        }
    }
    n
}

#[test]
fn the_dashboard_s3_api_url_as_endpoint_stores_objects_at_their_keys() {
    let s3 = start_r2();
    let site = Site::demo(&s3, "");
    // What the R2 dashboard shows as the bucket's "S3 API": the endpoint with the bucket.
    site.write(
        "imglift.yaml",
        format!(
            "content: [content]\nstatic: [static]\npublic_url: {PUBLIC_URL}\nfront_matter: [image]\n\
             target:\n  s3:\n    bucket: {BUCKET}\n    endpoint: {}/{BUCKET}/\n",
            s3.endpoint
        ),
    );
    site.sync(&[]).expect_code(0);
    assert_eq!(every_reference_is_stored(&s3, &site), 8);
    // Nothing under `blog/blog/…`.
    assert!(!s3.object_path(BUCKET, BUCKET).exists());
    for put in puts(&s3) {
        assert!(
            put.uri.starts_with(&format!("/{BUCKET}/")) && !put.uri.contains("/blog/blog/"),
            "{}",
            put.uri
        );
    }
}

#[test]
fn a_prefix_with_a_space_and_many_new_images_is_listed_once_and_uploaded() {
    let s3 = start_r2();
    let site = Site::demo(&s3, "    prefix: site images\n");
    many_images(&site, 20);
    let out = site.sync(&[]);
    out.expect_code(0);
    // One listing, signed over the query it was sent with; then the PUTs.
    let lists: Vec<_> = s3
        .stats
        .seen()
        .into_iter()
        .filter(|s| s.method == "GET")
        .collect();
    assert_eq!(lists.len(), 1, "{:?}", s3.stats.by_method());
    assert!(
        lists[0].uri.contains("prefix=site%20images"),
        "{}",
        lists[0].uri
    );
    assert_eq!(s3.stats.count("PUT"), 27, "{}", out.stderr);
    assert!(!out.stderr.contains("warning: listing"), "{}", out.stderr);
    let manifest = site.manifest();
    assert_eq!(manifest.len(), 27);
    assert!(manifest.keys().all(|k| k.starts_with("site images/")));
    assert_eq!(every_reference_is_stored(&s3, &site), 28);
}

#[test]
fn a_refused_listing_is_a_listing_problem_and_each_object_is_probed() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    many_images(&site, 20);
    s3.stats
        .fail_next(1, Some(hyper::Method::GET), Fault::Status(403));
    let out = site.sync(&[]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("warning: listing") && out.stderr.contains("HTTP 403"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("refused these credentials"));
    assert_eq!(s3.stats.count("GET"), 1);
    assert_eq!(s3.stats.count("HEAD"), 27, "{:?}", s3.stats.by_method());
    assert_eq!(every_reference_is_stored(&s3, &site), 28);
}

#[test]
fn an_acl_on_r2_stops_the_run_at_once_with_r2s_text_and_a_hint() {
    let s3 = start_r2();
    let site = Site::demo(&s3, "    acl: public-read\n");
    let before = site.pages();
    let out = site.sync(&["-j", "1"]);
    out.expect_code(3);
    let err = &out.stderr;
    assert!(
        err.contains("HTTP 501 NotImplemented")
            && err.contains("Header 'x-amz-acl' with value 'public-read' not implemented")
            && err.contains("remove `acl:`"),
        "{err}"
    );
    // Not retried, and no other object is sent after it.
    assert_eq!(s3.stats.count("PUT"), 1, "{:?}", s3.stats.by_method());
    assert!(!err.contains("retrying"), "{err}");
    assert_eq!(site.pages(), before);
    assert!(site.manifest().is_empty());
}

#[test]
fn a_missing_bucket_says_where_else_it_may_live() {
    let s3 = TestS3::start_r2(&[]).unwrap();
    let site = Site::demo(&s3, "");
    let out = site.sync(&["-j", "1"]);
    out.expect_code(3);
    assert!(
        out.stderr.contains("the bucket does not exist") && out.stderr.contains("jurisdiction: eu"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_failed_head_says_what_was_asked_and_what_the_status_means() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    s3.stats.fail_key("avatar.png", Fault::Status(400));
    let out = site.sync(&["-j", "1"]);
    out.expect_code(3);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("avatar.png") && l.contains("HTTP 400"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    // A HEAD answer has no body to explain itself: the status is explained instead.
    assert!(line.contains("HEAD (is it already stored?)"), "{line}");
    assert!(line.contains("malformed"), "{line}");
    // The other images were still lifted.
    assert_eq!(site.manifest().len(), 6);
}
