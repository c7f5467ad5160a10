//! The S3 target against a real S3 server (s3s + s3s-fs, SigV4 checked) on 127.0.0.1.
//!
//! Each test starts its own server, copies the demo blog into a temp folder with an
//! `imglift.yaml` that points at it, and runs the real `imglift` binary.

mod attack;
mod changed;
mod credentials;
mod faults;
mod r2;
mod repair;
mod server;
#[path = "../support/mod.rs"]
mod support;
#[cfg(unix)]
mod terminal;

use std::collections::BTreeMap;

use server::{Fault, TestS3, ACCESS_KEY, SECRET_KEY};
use support::{percent_decode_lossy, Run, Site, PUBLIC_URL};

const BUCKET: &str = "blog";

/// What these tests do with a [`Site`] beyond the shared support.
trait S3Site: Sized {
    /// The demo blog, configured for the server's bucket.
    fn demo(s3: &TestS3, extra: &str) -> Self;
    /// `imglift ARGS` with the server's access key and this secret.
    fn run_with_secret(&self, args: &[&str], secret: &str) -> Run;
    /// `imglift sync ARGS` with the right credentials.
    fn sync(&self, args: &[&str]) -> Run;
    /// Every Markdown page, by path relative to the root.
    fn pages(&self) -> BTreeMap<String, String>;
    /// The manifest's entries: key → (blake3, source).
    fn manifest(&self) -> BTreeMap<String, (String, String)>;
}

impl S3Site for Site {
    fn demo(s3: &TestS3, extra: &str) -> Site {
        let site = Site::fixture("demo");
        site.write(
            "imglift.yaml",
            format!(
                "content: [content]\nstatic: [static]\npublic_url: {PUBLIC_URL}\nfront_matter: [image]\n\
                 target:\n  s3:\n    bucket: {BUCKET}\n    endpoint: {}\n{extra}",
                s3.endpoint
            ),
        );
        site
    }

    fn run_with_secret(&self, args: &[&str], secret: &str) -> Run {
        self.run_env(
            args,
            &[
                ("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY),
                ("IMGLIFT_SECRET_ACCESS_KEY", secret),
            ],
        )
    }

    fn sync(&self, args: &[&str]) -> Run {
        let mut all = vec!["sync"];
        all.extend_from_slice(args);
        self.run_with_secret(&all, SECRET_KEY)
    }

    fn pages(&self) -> BTreeMap<String, String> {
        walkdir::WalkDir::new(self.path("content"))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
            .map(|e| {
                let rel = e
                    .path()
                    .strip_prefix(self.root())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (rel, std::fs::read_to_string(e.path()).unwrap())
            })
            .collect()
    }

    fn manifest(&self) -> BTreeMap<String, (String, String)> {
        self.manifest_entries()
            .into_iter()
            .map(|f| (f[0].clone(), (f[1].clone(), f[4].clone())))
            .collect()
    }
}

/// A real S3 client for the test bucket, with a runtime to drive it.
fn client(s3: &TestS3) -> (tokio::runtime::Runtime, Box<s3::Bucket>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let creds =
        s3::creds::Credentials::new(Some(ACCESS_KEY), Some(SECRET_KEY), None, None, None).unwrap();
    let region = s3::Region::Custom {
        region: "auto".into(),
        endpoint: s3.endpoint.clone(),
    };
    let bucket = s3::Bucket::new(BUCKET, region, creds)
        .unwrap()
        .with_path_style();
    (rt, bucket)
}

/// HEAD an object with a real S3 client, as a user checking the bucket would.
fn head(s3: &TestS3, key: &str) -> s3::serde_types::HeadObjectResult {
    let (rt, bucket) = client(s3);
    rt.block_on(bucket.head_object(key)).unwrap().0
}

/// The PUT requests the server saw.
fn puts(s3: &TestS3) -> Vec<server::Seen> {
    s3.stats
        .seen()
        .into_iter()
        .filter(|s| s.method == "PUT")
        .collect()
}

/// The server for the suite: s3s, or with `IMGLIFT_TEST_S3=r2` s3s behind R2's strictness
/// (`scripts/test.sh` runs the suite both ways).
fn start() -> TestS3 {
    match std::env::var("IMGLIFT_TEST_S3").as_deref() {
        Ok("r2") => TestS3::start_r2(&[BUCKET]),
        _ => TestS3::start(&[BUCKET]),
    }
    .unwrap()
}

#[test]
fn full_sync_stores_every_object_with_bytes_type_and_cache_control() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let out = site.sync(&[]);
    out.expect_code(0);
    let manifest = site.manifest();
    assert_eq!(manifest.len(), 7);
    for (key, (hash, source)) in &manifest {
        let stored = std::fs::read(s3.object_path(BUCKET, key)).unwrap();
        assert_eq!(stored, std::fs::read(site.path(source)).unwrap(), "{key}");
        assert_eq!(blake3::hash(&stored).to_hex().as_str(), hash);
        let h = head(&s3, key);
        let expected_type = match key.rsplit('.').next().unwrap() {
            "jpg" => "image/jpeg",
            "png" => "image/png",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "svg" => "image/svg+xml",
            other => panic!("unexpected extension {other}"),
        };
        assert_eq!(h.content_type.as_deref(), Some(expected_type), "{key}");
        assert_eq!(
            h.cache_control.as_deref(),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(h.metadata.unwrap().get("blake3"), Some(hash));
    }
    // Every URL in every page names an object that is in the bucket.
    let mut referenced = 0;
    for (page, text) in site.pages() {
        for key in support::lifted_keys(&text) {
            assert!(
                manifest.contains_key(&key),
                "{page} points at {key}, not in the manifest"
            );
            assert!(
                s3.object_path(BUCKET, &key).is_file(),
                "{page}: {key} not stored"
            );
            referenced += 1;
        }
    }
    assert_eq!(referenced, 8);
}

#[test]
fn puts_are_signed_with_content_md5_and_carry_no_acl_or_checksum_headers() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    site.sync(&[]).expect_code(0);
    let puts = puts(&s3);
    assert_eq!(puts.len(), 7);
    for put in puts {
        let names: Vec<&str> = put.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.contains(&"content-md5"), "{names:?}");
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("x-amz-checksum") || *n == "x-amz-acl"),
            "{names:?}"
        );
        assert!(
            !names.contains(&"content-encoding"),
            "chunked upload: {names:?}"
        );
        // SigV4 in the query string: the headers that matter are signed, the payload is not.
        let uri = percent_encoding::percent_decode_str(&put.uri)
            .decode_utf8_lossy()
            .into_owned();
        assert!(uri.contains("X-Amz-Signature="), "{uri}");
        let signed = uri.split("X-Amz-SignedHeaders=").nth(1).unwrap_or("");
        for h in [
            "cache-control",
            "content-md5",
            "content-type",
            "x-amz-meta-blake3",
        ] {
            assert!(signed.contains(h), "{h} not signed in {uri}");
        }
    }
}

#[test]
fn acl_is_sent_only_when_configured() {
    // s3s, as AWS, accepts ACLs (R2 refuses them: see r2.rs).
    let s3 = TestS3::start(&[BUCKET]).unwrap();
    let site = Site::demo(&s3, "    acl: public-read\n");
    site.sync(&[]).expect_code(0);
    let puts = puts(&s3);
    assert!(puts.iter().all(|p| p
        .headers
        .iter()
        .any(|(k, v)| k == "x-amz-acl" && v == "public-read")));
}

#[test]
fn second_run_sends_no_request() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let out_dir = site.path("../build");
    let out_arg = out_dir.to_str().unwrap();
    site.sync(&["--out", out_arg]).expect_code(0);
    s3.stats.reset();
    // The sources still reference local files; the manifest knows every object.
    let out = site.sync(&["--out", out_arg]);
    out.expect_code(0);
    assert_eq!(
        s3.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    assert!(out.stderr.contains("0 uploaded"), "{}", out.stderr);
    // In place, twice: the second run finds only public URLs.
    site.sync(&[]).expect_code(0);
    assert_eq!(
        s3.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    site.sync(&[]).expect_code(0);
    assert_eq!(
        s3.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
}

#[test]
fn without_the_manifest_heads_find_the_objects_and_nothing_is_put_again() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let out_arg = site.path("../build").to_string_lossy().into_owned();
    site.sync(&["--out", &out_arg]).expect_code(0);
    let manifest = std::fs::read_to_string(site.path("imglift.lock")).unwrap();
    std::fs::remove_file(site.path("imglift.lock")).unwrap();
    s3.stats.reset();
    let out = site.sync(&["--out", &out_arg]);
    out.expect_code(0);
    assert_eq!(s3.stats.count("PUT"), 0);
    assert_eq!(s3.stats.count("HEAD"), 7);
    // Upload dates masked: the two runs may fall on either side of midnight.
    let recreated = std::fs::read_to_string(site.path("imglift.lock")).unwrap();
    assert_eq!(
        support::manifest_without_dates(&recreated),
        support::manifest_without_dates(&manifest)
    );
}

#[test]
fn wrong_credentials_fail_fast_rewrite_nothing_and_never_echo_the_secret() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    let wrong = "WRONGsecretWRONGsecretWRONG";
    let out = site.run_with_secret(&["sync", "-j", "1", "--format", "json"], wrong);
    out.expect_code(3);
    let err = &out.stderr;
    assert!(err.contains("refused these credentials"), "{err}");
    let stdout = &out.stdout;
    assert!(!err.contains(wrong) && !stdout.contains(wrong));
    serde_json::from_str::<serde_json::Value>(stdout).expect("stdout stays JSON");
    // Fail fast: the first refusal stops the run.
    assert_eq!(
        s3.stats.requests.load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(site.pages(), before);
    assert!(site.manifest().is_empty());
}

#[test]
fn missing_credentials_are_a_configuration_error_only_when_something_must_be_sent() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let requests = || s3.stats.requests.load(std::sync::atomic::Ordering::SeqCst);
    let out = site.run(&["sync"]);
    out.expect_code(2);
    assert!(out.stderr.contains("IMGLIFT_SECRET_ACCESS_KEY"));
    assert_eq!(requests(), 0);
    // A dry run needs no credentials and sends nothing.
    let dry = site.run(&["sync", "--dry-run"]);
    dry.expect_code(0);
    assert_eq!(requests(), 0);
    // Nor does a run whose images the manifest knows (a contributor's pre-commit hook).
    let out_arg = site.path("../build").to_string_lossy().into_owned();
    site.sync(&["--out", &out_arg]).expect_code(0);
    let sent = requests();
    let known = site.run(&["sync", "--out", &out_arg]);
    known.expect_code(0);
    assert_eq!(requests(), sent);
}

#[test]
fn a_killed_run_leaves_no_torn_file_and_the_next_run_converges() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    let before = site.pages();
    s3.stats.delay(300);
    let mut child = site
        .command(&["sync", "-j", "1"])
        .env("IMGLIFT_ACCESS_KEY_ID", ACCESS_KEY)
        .env("IMGLIFT_SECRET_ACCESS_KEY", SECRET_KEY)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until a few objects went up, then kill the process mid-run.
    for _ in 0..200 {
        if s3.stats.count("PUT") >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    assert!(s3.stats.count("PUT") >= 3, "the run never got going");
    child.kill().unwrap();
    child.wait().unwrap();
    // Every page is as it was (pages are written only after the uploads), nothing is torn.
    assert_eq!(site.pages(), before);
    let lock = site.path("imglift.lock");
    if lock.exists() {
        let text = std::fs::read_to_string(&lock).unwrap();
        assert!(text.starts_with("# imglift.lock"), "{text}");
    }

    s3.stats.delay(0);
    let out = site.sync(&[]);
    out.expect_code(0);
    let manifest = site.manifest();
    assert_eq!(manifest.len(), 7);
    for (page, text) in site.pages() {
        assert!(
            !text.contains("](/images/"),
            "{page} still has a local image"
        );
        for key in support::lifted_keys(&text) {
            assert!(s3.object_path(BUCKET, &key).is_file(), "{page}: {key}");
        }
    }
}

/// `n` new distinct PNGs (bytes after the image end) on one new page of the demo site.
fn add_many_images(site: &Site, n: usize) {
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

/// Put `bytes` under `key` with a real S3 client, as another tool sharing the bucket would.
fn put_other(s3: &TestS3, key: &str, bytes: &[u8]) {
    let (rt, bucket) = client(s3);
    let answer = rt.block_on(bucket.put_object(key, bytes)).unwrap();
    assert_eq!(answer.status_code(), 200);
}

#[test]
fn many_new_images_are_checked_with_one_listing_instead_of_a_head_each() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    add_many_images(&site, 40);
    // Two objects are already in the bucket (from an earlier run whose manifest was lost).
    let out_arg = site.path("../build").to_string_lossy().into_owned();
    let first = site.sync(&["--out", &out_arg, "content/posts/hello-world.md"]);
    first.expect_code(0);
    std::fs::remove_file(site.path("imglift.lock")).unwrap();
    s3.stats.reset();

    let out = site.sync(&[]);
    out.expect_code(0);
    assert_eq!(s3.stats.count("GET"), 1, "{:?}", s3.stats.by_method());
    // The objects the listing shows are checked with a HEAD (s3s-fs lists no ETags; with R2's
    // and S3's, which are the MD5 of the bytes, `Listed::proves` spares these too); the others
    // are put directly.
    assert_eq!(s3.stats.count("HEAD"), 2, "{:?}", s3.stats.by_method());
    assert_eq!(s3.stats.count("PUT"), 45, "{:?}", s3.stats.by_method());
    let err = &out.stderr;
    assert!(
        err.contains("45 uploaded") && err.contains("2 already stored"),
        "{err}"
    );
    assert_eq!(site.manifest().len(), 47);
}

#[test]
fn a_listed_object_with_other_bytes_under_its_key_is_put_again_during_hashing() {
    let s3 = start();
    let site = Site::demo(&s3, "");
    add_many_images(&site, 20);
    let out_arg = site.path("../build").to_string_lossy().into_owned();
    site.sync(&["--out", &out_arg, "content/posts/hello-world.md"])
        .expect_code(0);
    let manifest = site.manifest();
    let (key, (_, source)) = manifest.iter().next().unwrap();
    // Another tool replaced the object with other bytes (another ETag), and the manifest is gone.
    put_other(&s3, key, b"not the picture");
    std::fs::remove_file(site.path("imglift.lock")).unwrap();
    s3.stats.reset();

    let out = site.sync(&[]);
    out.expect_code(0);
    let by_method = s3.stats.by_method();
    assert_eq!(s3.stats.count("GET"), 1, "{by_method:?}");
    // The two listed objects are asked about (s3s-fs lists no ETags), the others put directly.
    let heads: Vec<String> = s3
        .stats
        .seen()
        .into_iter()
        .filter(|s| s.method == "HEAD")
        .map(|s| s.uri)
        .collect();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(
        heads.iter().any(|h| h.contains(key.as_str())),
        "{heads:?} {key}"
    );
    assert_eq!(s3.stats.count("PUT"), 26, "{by_method:?}");
    assert_eq!(
        std::fs::read(s3.object_path(BUCKET, key)).unwrap(),
        std::fs::read(site.path(source)).unwrap()
    );
    let err = &out.stderr;
    assert!(
        err.contains("26 uploaded") && err.contains("1 already stored"),
        "{err}"
    );
}

#[test]
fn the_server_refuses_a_put_signed_with_a_wrong_secret() {
    let s3 = start();
    // A fixed-name key: a changed image is overwritten with a PUT and no HEAD before it.
    let site = Site::demo(&s3, "key: \"{fileName}.{extName}\"\n");
    let out_arg = site.path("../build").to_string_lossy().into_owned();
    site.sync(&["--out", &out_arg]).expect_code(0);
    let avatar = site.path("static/images/avatar.png");
    let mut bytes = std::fs::read(&avatar).unwrap();
    bytes.extend_from_slice(b"changed");
    std::fs::write(&avatar, bytes).unwrap();
    s3.stats.reset();
    let out = site.run_with_secret(&["sync", "--out", &out_arg], "WRONGsecretWRONGsecretWRONG");
    out.expect_code(3);
    assert_eq!(s3.stats.by_method(), [("PUT".to_string(), 1)].into());
    assert!(
        out.stderr.contains("refused these credentials"),
        "{}",
        out.stderr
    );
    // The object keeps its old bytes.
    let stored = std::fs::read(s3.object_path(BUCKET, "avatar.png")).unwrap();
    assert!(!stored.ends_with(b"changed"));
}
