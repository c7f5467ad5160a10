//! `imglift verify --repair` with the S3 store: an object deleted from the bucket by hand is
//! found by `verify` (through a public domain that serves the bucket) and put back with a PUT.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::Site;
use crate::{puts, start, S3Site, BUCKET, SECRET_KEY};

/// The bucket's "custom domain": GET of `/<key>` serves the object s3s-fs keeps for it.
struct PublicDomain {
    url: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PublicDomain {
    fn start(bucket: PathBuf) -> PublicDomain {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut buf = vec![0u8; 8192];
                let mut len = 0;
                while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buf.len() {
                    match stream.read(&mut buf[len..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => len += n,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..len]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let key = crate::percent_decode_lossy(path.trim_start_matches('/'));
                let file = bucket.join(&key);
                let reply = match std::fs::read(&file) {
                    Ok(body) if file.is_file() => {
                        let ct = match key.rsplit('.').next().unwrap_or("") {
                            "png" => "image/png",
                            "jpg" => "image/jpeg",
                            "gif" => "image/gif",
                            "webp" => "image/webp",
                            "svg" => "image/svg+xml",
                            _ => "application/octet-stream",
                        };
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(&body);
                        r
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&reply);
            }
        });
        PublicDomain {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for PublicDomain {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn verify_repair_puts_a_deleted_object_back_into_the_bucket() {
    let s3 = start();
    let domain = PublicDomain::start(s3.root.path().join(BUCKET));
    let site = Site::demo(&s3, "");
    let url = domain.url.clone();
    site.sync(&["--public-url", &url]).expect_code(0);
    let (key, (_, source)) = site.manifest().into_iter().next().unwrap();
    let object = s3.object_path(BUCKET, &key);
    std::fs::remove_file(&object).unwrap();

    let verify = |extra: &[&str]| {
        let mut args = vec!["--public-url", url.as_str(), "verify"];
        args.extend_from_slice(extra);
        site.run_with_secret(&args, SECRET_KEY)
    };
    let before = verify(&[]);
    before.expect_code(1);
    assert!(
        before
            .stderr
            .contains(&format!("`{url}/{key}` answered 404 Not Found")),
        "{}",
        before.dump()
    );

    s3.stats.reset();
    let run = verify(&["--repair"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains(&format!("repaired {source} -> {url}/{key}")),
        "{}",
        run.dump()
    );
    assert_eq!(puts(&s3).len(), 1, "one PUT, for the lost object");
    assert_eq!(
        std::fs::read(&object).unwrap(),
        std::fs::read(site.path(&source)).unwrap()
    );
    verify(&[]).expect_code(0);
}
