//! `imglift verify` against a real HTTP server on 127.0.0.1 that serves the store folder, as a
//! bucket's custom domain would: objects that are there, one that is missing, one served with a
//! wrong Content-Type, one whose bytes changed, a server that never answers, and a count of the
//! requests in flight.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::support::*;

/// How the server answers one object (by key), instead of serving the file.
#[derive(Debug, Clone)]
enum Quirk {
    ContentType(&'static str),
    /// Say nothing for this long, then hang up.
    Silent(Duration),
}

#[derive(Default)]
struct Stats {
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Hold each request (10 s at most) until this many have been in flight at once.
    hold_until_in_flight: AtomicUsize,
}

/// A small HTTP/1.1 server for a folder: GET and HEAD, `Connection: close`, Content-Type from
/// the extension. It stops (and joins its thread) when dropped.
pub(crate) struct StoreServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    quirks: Quirks,
    thread: Option<JoinHandle<()>>,
}

type Quirks = Arc<Mutex<BTreeMap<String, Quirk>>>;

impl StoreServer {
    pub(crate) fn start(root: PathBuf, delay: Duration) -> StoreServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let (stop2, stats2) = (Arc::clone(&stop), Arc::clone(&stats));
        let quirks: Quirks = Arc::default();
        let quirks2 = Arc::clone(&quirks);
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (root, quirks, stats) =
                            (root.clone(), Arc::clone(&quirks2), Arc::clone(&stats2));
                        let stop = Arc::clone(&stop2);
                        workers.push(std::thread::spawn(move || {
                            serve(stream, &root, &quirks, &stats, delay, &stop)
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        StoreServer {
            addr,
            stop,
            stats,
            quirks,
            thread: Some(thread),
        }
    }

    /// Answer requests for `key` this way from now on.
    fn quirk(&self, key: &str, quirk: Quirk) {
        self.quirks.lock().unwrap().insert(key.to_string(), quirk);
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests it has answered so far.
    pub(crate) fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }
}

impl Drop for StoreServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    root: &Path,
    quirks: &Quirks,
    stats: &Stats,
    delay: Duration,
    stop: &AtomicBool,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
    stats.requests.fetch_add(1, Ordering::SeqCst);
    let want = stats.hold_until_in_flight.load(Ordering::SeqCst);
    let until = Instant::now() + Duration::from_secs(10);
    while stats.max_in_flight.load(Ordering::SeqCst) < want
        && Instant::now() < until
        && !stop.load(Ordering::Relaxed)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut parts = head.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let key = percent_decode_lossy(
        target
            .split('?')
            .next()
            .unwrap_or("")
            .trim_start_matches('/'),
    );
    std::thread::sleep(delay);
    let quirk = quirks.lock().unwrap().get(&key).cloned();
    if let Some(Quirk::Silent(wait)) = quirk {
        let until = Instant::now() + wait;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let file = root.join(&key);
    let (status, ctype, body) = match std::fs::read(&file) {
        Ok(bytes) if !key.is_empty() && file.is_file() => {
            let ctype = match quirk {
                Some(Quirk::ContentType(t)) => t.to_string(),
                _ => content_type(&key).to_string(),
            };
            ("200 OK", ctype, bytes)
        }
        _ => (
            "404 Not Found",
            "text/plain".to_string(),
            b"no such object".to_vec(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(&body);
    }
    // Out of flight before the answer leaves: the client may start its next request as soon
    // as it has this one, and must not be counted twice for that.
    stats.in_flight.fetch_sub(1, Ordering::SeqCst);
    let _ = stream.write_all(&response);
    let _ = stream.flush();
}

fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or("") {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Real, distinct images from the fixtures.
const IMAGES: [&str; 8] = [
    "hugo/static/img/diagram.png",
    "hugo/static/img/photo.jpg",
    "hugo/static/img/a.gif",
    "hugo/static/img/terminal.jpg",
    "hugo/static/img/crlf-diff.png",
    "hugo/static/img/unicode-table.png",
    "hugo/static/img/windows-dialog.png",
    "hugo/static/img/unicode-cover.png",
];

/// A site whose public URL is `url`, with `pages` (path → text) and the images of `IMAGES` as
/// `static/img/<n>.<ext>`, synced into `store/`.
fn synced_site(tmp: &Path, url: &str, pages: &[(&str, String)]) -> PathBuf {
    let root = tmp.join("site");
    write(
        &root.join("imglift.yaml"),
        format!("public_url: {url}\ntarget: {{dir: store}}\nstatic: [static]\n"),
    );
    for (i, img) in IMAGES.iter().enumerate() {
        let ext = img.rsplit('.').next().unwrap();
        write(
            &root.join(format!("static/img/{i}.{ext}")),
            read(&fixtures().join(img)),
        );
    }
    for (path, text) in pages {
        write(&root.join(path), text);
    }
    run_imglift(&root, &["sync"], &[]).expect_code(0);
    root
}

/// The object key a page reference was rewritten to, from the manifest (by source file).
fn key_of(root: &Path, source: &str) -> String {
    let lock = read_string(&root.join("imglift.lock"));
    manifest_entries(&lock)
        .into_iter()
        .find(|f| f[4] == source)
        .unwrap_or_else(|| panic!("{source} not in the manifest:\n{lock}"))[0]
        .clone()
}

/// A server for `<tmp>/site/store`, started before the site exists (the site's URL needs its
/// port).
fn server_for(tmp: &Path, delay: Duration) -> StoreServer {
    StoreServer::start(tmp.join("site/store"), delay)
}

#[test]
fn verify_passes_when_every_object_answers_with_its_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server_for(tmp.path(), Duration::ZERO);
    let root = synced_site(
        tmp.path(),
        &server.url(),
        &[
            (
                "content/a.md",
                "---\nimage: /img/0.png\n---\n![x](/img/1.jpg)\n<img src=\"/img/2.gif\">\n".into(),
            ),
            (
                "content/b.md",
                "![again](/img/1.jpg) ![y](/img/3.jpg)\n".into(),
            ),
        ],
    );
    let run = run_imglift(&root, &["verify"], &[]);
    run.expect_code(0);
    let ok: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("ok "))
        .collect();
    assert_eq!(ok.len(), 4, "one line per object\n{}", run.dump());
    assert!(ok
        .iter()
        .all(|l| l.starts_with(&format!("ok {}/", server.url()))));
    assert!(
        run.stderr
            .contains("4 URLs (5 references in 2 pages): 4 ok, 0 failed"),
        "{}",
        run.dump()
    );
    assert_eq!(
        server.stats.requests.load(Ordering::SeqCst),
        4,
        "one GET per object"
    );

    let json = run_imglift(&root, &["verify", "--format", "json"], &[]);
    json.expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("stdout is JSON");
    assert_eq!(v["command"], "verify");
    assert_eq!(v["verified"]["ok"], 4);
    let urls = v["verified"]["urls"].as_array().unwrap();
    let jpg = urls
        .iter()
        .find(|u| u["key"].as_str().unwrap().ends_with("/1.jpg"))
        .unwrap();
    assert_eq!(jpg["status"], 200);
    assert_eq!(jpg["content_type"], "image/jpeg");
    assert_eq!(
        jpg["used_by"],
        serde_json::json!(["content/a.md:4:6", "content/b.md:1:10"])
    );
}

#[test]
fn verify_names_the_pages_of_a_missing_object_a_wrong_type_and_changed_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server_for(tmp.path(), Duration::ZERO);
    let url = server.url();
    let root = synced_site(
        tmp.path(),
        &url,
        &[
            (
                "content/one.md",
                "---\nimage: /img/0.png\n---\n\n![missing](/img/0.png)\n![typed](/img/1.jpg)\n"
                    .into(),
            ),
            (
                "content/two.md",
                "Text, then ![changed](/img/2.gif) and ![missing again](/img/0.png).\n".into(),
            ),
            ("content/fine.md", "![fine](/img/3.jpg)\n".into()),
            ("content/gone.md", "![soon unused](/img/4.png)\n".into()),
        ],
    );
    let (k0, k1, k2, k4) = (
        key_of(&root, "static/img/0.png"),
        key_of(&root, "static/img/1.jpg"),
        key_of(&root, "static/img/2.gif"),
        key_of(&root, "static/img/4.png"),
    );
    std::fs::remove_file(root.join("store").join(&k0)).unwrap();
    write(
        &root.join("store").join(&k2),
        read(&fixtures().join(IMAGES[5])),
    );
    // An object only the manifest still knows: its page no longer uses it, and it is gone.
    write(&root.join("content/gone.md"), "No picture any more.\n");
    std::fs::remove_file(root.join("store").join(&k4)).unwrap();
    server.quirk(&k1, Quirk::ContentType("text/plain; charset=utf-8"));

    let run = run_imglift(&root, &["verify"], &[("GITHUB_ACTIONS", "true")]);
    run.expect_code(1);
    let u = server.url();
    // The second reference of two.md moved right when the first was rewritten.
    let two = read_string(&root.join("content/two.md"));
    let col = two.rfind(&format!("{u}/{k0}")).unwrap() + 1;
    let expect = [
        format!("content/one.md:2:8: error: `{u}/{k0}` answered 404 Not Found"),
        format!("content/one.md:5:12: error: `{u}/{k0}` answered 404 Not Found"),
        format!(
            "content/one.md:6:10: error: `{u}/{k1}` is served as `text/plain`, not as an image"
        ),
        format!("content/two.md:1:23: error: `{u}/{k2}` serves other bytes than static/img/2.gif"),
        format!("content/two.md:1:{col}: error: `{u}/{k0}` answered 404 Not Found"),
    ];
    for e in &expect {
        assert!(
            run.stderr.lines().any(|l| l.starts_with(e.as_str())),
            "missing diagnostic `{e}`\n{}",
            run.dump()
        );
    }
    let lock_line = read_string(&root.join("imglift.lock"))
        .lines()
        .position(|l| l.starts_with(&format!("{k4}\t")))
        .unwrap()
        + 1;
    let manifest_diag = format!(
        "imglift.lock:{lock_line}:1: error: `{u}/{k4}` answered 404 Not Found (object `{k4}` from static/img/4.png; no scanned page uses it)"
    );
    assert!(
        run.stderr.contains(&manifest_diag),
        "{manifest_diag}\n{}",
        run.dump()
    );
    assert!(
        !run.stderr.contains("content/fine.md"),
        "a good object is not reported\n{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains("::error file=content/one.md,line=6,col=10::"),
        "GitHub Actions annotation\n{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains("5 URLs (6 references in 4 pages): 1 ok, 4 failed"),
        "{}",
        run.dump()
    );
    let failed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("failed "))
        .collect();
    assert_eq!(failed.len(), 4, "{}", run.dump());

    // Narrowed to one page: only that page's URLs are opened, the manifest's others are not.
    let one = run_imglift(&root, &["verify", "content/fine.md"], &[]);
    one.expect_code(0);
    assert!(
        one.stderr.contains("1 URL (1 reference in 1 page): 1 ok"),
        "{}",
        one.dump()
    );
}

#[test]
fn verify_gives_up_on_a_server_that_never_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server_for(tmp.path(), Duration::ZERO);
    let root = synced_site(
        tmp.path(),
        &server.url(),
        &[("content/a.md", "![x](/img/0.png)\n".into())],
    );
    let key = key_of(&root, "static/img/0.png");
    server.quirk(&key, Quirk::Silent(Duration::from_secs(30)));

    let run = run_imglift(&root, &["verify", "--timeout", "1"], &[]);
    run.expect_code(1);
    assert!(
        run.stderr.contains(&format!(
            "content/a.md:1:6: error: `{}/{key}` cannot be opened: no answer within 1s",
            server.url()
        )),
        "{}",
        run.dump()
    );
    // One try and one retry, each given up after its second (the message says so): the
    // server's 30 s silence was never waited out. No timing is asserted (a loaded machine).
    assert_eq!(
        server.stats.requests.load(Ordering::SeqCst),
        2,
        "a try and one retry"
    );
}

#[test]
fn verify_keeps_at_most_concurrency_requests_in_flight() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server_for(tmp.path(), Duration::from_millis(300));
    let page: String = (0..IMAGES.len())
        .map(|i| {
            let ext = IMAGES[i].rsplit('.').next().unwrap();
            format!("![{i}](/img/{i}.{ext})\n\n")
        })
        .collect();
    let root = synced_site(tmp.path(), &server.url(), &[("content/all.md", page)]);
    // The first request waits for a second one: "no fewer than two" does not depend on how
    // fast a loaded machine starts it. The 300 ms each answer takes gives a third one, if
    // imglift sent it, the time to be counted.
    server.stats.hold_until_in_flight.store(2, Ordering::SeqCst);
    let run = run_imglift(&root, &["verify", "-j", "2"], &[]);
    run.expect_code(0);
    assert_eq!(server.stats.requests.load(Ordering::SeqCst), IMAGES.len());
    assert_eq!(
        server.stats.max_in_flight.load(Ordering::SeqCst),
        2,
        "-j 2: two requests at a time, no more and no fewer"
    );
}

/// On a terminal `verify` shows a bar while the answers come in (slowly here), and ends with the
/// same lines as a piped run, the summary last, no bar left: one object is missing, so a
/// failure is reported while the others are still being checked.
#[cfg(unix)]
#[test]
fn verify_on_a_terminal_ends_with_the_summary_and_no_bar_left() {
    use crate::support::pty::{self, comparable, piped_lines};

    let tmp = tempfile::tempdir().unwrap();
    let server = server_for(tmp.path(), Duration::from_millis(300));
    let root = synced_site(
        tmp.path(),
        &server.url(),
        &[(
            "content/a.md",
            "![a](/img/0.png) ![b](/img/1.jpg) ![c](/img/2.gif) ![d](/img/3.jpg)\n".into(),
        )],
    );
    let missing = key_of(&root, "static/img/2.gif");
    std::fs::remove_file(root.join("store").join(&missing)).unwrap();
    for jobs in ["1", "4"] {
        let mut cmd = imglift_command(&root);
        cmd.args(["verify", "-j", jobs])
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR");
        let run = pty::run(&mut cmd, Duration::from_secs(60));
        assert_eq!(run.code, Some(1), "{}", run.dump());
        assert!(run.raw_text().contains("verifying ["), "{}", run.dump());
        run.assert_no_bar_left(&["verifying"]);
        let mut piped = imglift_command(&root);
        piped.args(["verify", "-j", jobs]);
        assert_eq!(
            comparable(&run.screen),
            comparable(&piped_lines(&mut piped)),
            "-j {jobs}: the terminal does not show what a piped run prints\n{}",
            run.dump()
        );
        assert!(
            run.screen
                .iter()
                .any(|l| l.contains(&missing) && l.starts_with("failed ")),
            "{}",
            run.dump()
        );
        assert!(
            run.last_line().starts_with("imglift verify:"),
            "{}",
            run.dump()
        );
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn verify_with_a_wrong_domain_says_it_once_for_the_host() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    let url = format!("http://127.0.0.1:{}", closed_port());
    write(
        &root.join("imglift.yaml"),
        format!("public_url: {url}\ntarget: {{dir: store}}\nstatic: [static]\n"),
    );
    let png = read(&fixtures().join(IMAGES[0]));
    // 60 distinct objects (a pixel appended changes the hash, not the image) over 12 pages.
    for i in 0..60 {
        let mut bytes = png.clone();
        bytes.extend_from_slice(format!("{i}").as_bytes());
        write(&root.join(format!("static/img/{i}.png")), bytes);
    }
    for p in 0..12 {
        let text: String = (0..5)
            .map(|k| format!("![x](/img/{}.png)\n", p * 5 + k))
            .collect();
        write(&root.join(format!("content/p{p:02}.md")), text);
    }
    run_imglift(&root, &["sync"], &[]).expect_code(0);

    let run = run_imglift(&root, &["verify"], &[]);
    run.expect_code(1);
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one line for the host\n{}", run.dump());
    let host = url.trim_start_matches("http://");
    assert!(
        errors[0].starts_with(&format!(
            "content/p00.md:1:6: error: host `{host}` cannot be reached (60 URLs not checked; used by content/p00.md, content/p01.md, content/p02.md and 9 more pages)"
        )),
        "{}",
        run.dump()
    );
    assert!(
        errors[0].contains("is `public_url` right?"),
        "{}",
        run.dump()
    );
    assert!(run.stderr.contains("0 ok, 60 failed"), "{}", run.dump());

    // The JSON still lists every URL with the pages that use it.
    let json = run_imglift(&root, &["verify", "--format", "json"], &[]);
    json.expect_code(1);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("stdout is JSON");
    let urls = v["verified"]["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 60);
    assert!(urls
        .iter()
        .all(|u| u["ok"] == false && u["used_by"].as_array().unwrap().len() == 1));
}

#[test]
fn verify_repair_puts_back_lost_objects_and_names_what_it_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let server = server_for(tmp.path(), Duration::ZERO);
    let url = server.url();
    let root = synced_site(
        tmp.path(),
        &url,
        &[(
            "content/a.md",
            "![a](/img/0.png)\n![b](/img/1.jpg)\n![c](/img/2.gif)\n![d](/img/3.jpg)\n".into(),
        )],
    );
    let keys: Vec<String> = ["0.png", "1.jpg", "2.gif", "3.jpg"]
        .iter()
        .map(|f| key_of(&root, &format!("static/img/{f}")))
        .collect();
    let original = read(&root.join("static/img/0.png"));
    // Objects lost from the store (deleted by hand); one overwritten with other bytes.
    std::fs::remove_file(root.join("store").join(&keys[0])).unwrap();
    std::fs::remove_file(root.join("store").join(&keys[2])).unwrap();
    std::fs::remove_file(root.join("store").join(&keys[3])).unwrap();
    write(&root.join("store").join(&keys[1]), b"not the photo");
    // The source of one lost object is gone, another's changed since its upload.
    std::fs::remove_file(root.join("static/img/2.gif")).unwrap();
    let mut changed = read(&root.join("static/img/3.jpg"));
    changed.extend_from_slice(b"edited");
    write(&root.join("static/img/3.jpg"), changed);

    run_imglift(&root, &["verify"], &[]).expect_code(1);

    let run = run_imglift(&root, &["verify", "--repair"], &[]);
    run.expect_code(1);
    for k in [0, 1] {
        let src = ["static/img/0.png", "static/img/1.jpg"][k];
        assert!(
            run.stdout
                .contains(&format!("repaired {src} -> {url}/{}", keys[k])),
            "{}",
            run.dump()
        );
    }
    assert_eq!(read(&root.join("store").join(&keys[0])), original);
    // "What cannot be repaired is an error at its `imglift.lock` line".
    let manifest = read_string(&root.join("imglift.lock"));
    let lock_line = |key: &str| {
        let n = manifest
            .lines()
            .position(|l| l.starts_with(&format!("{key}\t")))
            .unwrap_or_else(|| panic!("no manifest line for {key}\n{manifest}"));
        format!("imglift.lock:{}", n + 1)
    };
    let gone = run.stderr_line(&lock_line(&keys[2]));
    assert!(
        gone.contains(&format!(
            ": error: cannot repair `{url}/{}`: its source static/img/2.gif is gone",
            keys[2]
        )),
        "{}",
        run.dump()
    );
    let edited = run.stderr_line(&lock_line(&keys[3]));
    assert!(
        edited.contains(&format!(
            ": error: cannot repair `{url}/{}`: its source static/img/3.jpg changed since it was uploaded",
            keys[3]
        )),
        "{}",
        run.dump()
    );
    assert!(
        run.stderr
            .contains("2 ok, 2 failed after 2 objects repaired"),
        "{}",
        run.dump()
    );

    // Once the author restores the gone file and syncs the changed one, all pass.
    write(
        &root.join("static/img/2.gif"),
        read(&fixtures().join(IMAGES[2])),
    );
    let fixed = run_imglift(&root, &["verify", "--repair"], &[]);
    fixed.expect_code(1);
    assert!(
        fixed.stdout.contains("repaired static/img/2.gif"),
        "{}",
        fixed.dump()
    );
    run_imglift(&root, &["sync"], &[]).expect_code(0);
    let clean = run_imglift(&root, &["verify", "--repair"], &[]);
    clean.expect_code(1);
    assert!(!clean.stdout.contains("repaired"), "{}", clean.dump());
    // The changed image's old object is still listed by the manifest and still lost.
    let manifest = read_string(&root.join("imglift.lock"));
    let n = manifest
        .lines()
        .position(|l| l.starts_with(&format!("{}\t", keys[3])))
        .unwrap();
    assert!(
        clean
            .stderr_line(&format!("imglift.lock:{}", n + 1))
            .contains(&format!(
                ": error: cannot repair `{url}/{}`: its source static/img/3.jpg changed",
                keys[3]
            )),
        "{}",
        clean.dump()
    );
}
