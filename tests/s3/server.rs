#![allow(dead_code)]
//! A real S3 server for tests: s3s-fs over a temp folder, SigV4 signatures checked by s3s's
//! SimpleAuth, served by hyper on 127.0.0.1 (random port) from its own thread and tokio runtime.
//!
//! In front of s3s sits a thin wrapper that counts requests, accepted TCP connections and the
//! most requests in flight at once, records request headers, and injects faults (an HTTP status,
//! a dropped connection, a request never answered, an answer with another ETag or none, a delay)
//! so tests can play a flaky network. The S3 protocol itself is never imitated: every request
//! that is not faulted is answered by s3s (an ETag fault changes only the answer's ETag header of
//! a request s3s served).
//!
//! [`TestS3::start_r2`] adds a strictness layer where Cloudflare R2 differs from s3s: a request
//! with `x-amz-acl`, an `x-amz-checksum-*` header or an `aws-chunked` body is answered with
//! R2's 501 NotImplemented, and a `+` in a query string is read literally (R2 does not take it
//! for a space), so a request whose query was sent with `+` but signed with `%20` is refused.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

pub const ACCESS_KEY: &str = "AKIDTESTTESTTEST";
pub const SECRET_KEY: &str = "secret/for+tests/only0123456789abcdef";

/// What to do instead of serving a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this HTTP status and an S3-style XML error body.
    Status(u16),
    /// Return an error from the hyper service: hyper closes the TCP connection
    /// without sending any response (client sees "connection closed before message completed").
    Drop,
    /// Never answer: the request is held until the client gives up (its timeout) or the server
    /// stops.
    Hang,
    /// Serve the request (s3s stores the object), then answer with this ETag instead of the
    /// real one; `""` sends no ETag header at all.
    Etag(&'static str),
}

#[derive(Default)]
struct FaultPlan {
    /// Faults consumed one per matching request, in order (front first).
    queue: VecDeque<(Option<hyper::Method>, Fault)>,
    /// Fail every n-th matching request (1-based count of matching requests).
    every: Option<(Option<hyper::Method>, usize, Fault)>,
    every_seen: usize,
    /// Fail every matching request whose URI contains this text.
    key: Option<(Option<hyper::Method>, String, Fault)>,
}

/// A request as seen by the wrapper (before s3s handles it).
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    /// 1-based index of the TCP connection (accept order) that carried the request.
    pub conn: usize,
    /// None if served normally, Some(fault) if a fault was injected.
    pub fault: Option<Fault>,
}

#[derive(Default)]
pub struct Stats {
    by_method: Mutex<HashMap<String, usize>>,
    seen: Mutex<Vec<Seen>>,
    pub connections: AtomicUsize,
    pub requests: AtomicUsize,
    conn_ids: AtomicUsize,
    faults: Mutex<FaultPlan>,
    delay_ms: AtomicUsize,
    /// Behave like R2 where s3s is more lenient (see the module comment).
    r2: std::sync::atomic::AtomicBool,
    /// Requests being handled now, and the most there ever were at once.
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Hold each request until this many are in flight, for at most `gather_ms` (0: no hold).
    gather_n: AtomicUsize,
    gather_ms: AtomicUsize,
    /// Hold every request (counted, not answered) until released, for at most a minute.
    held: std::sync::atomic::AtomicBool,
}

/// Counts a request in flight while it lives.
struct InFlight(Arc<Stats>);

impl InFlight {
    fn new(st: Arc<Stats>) -> InFlight {
        let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        st.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(st)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Stats {
    pub fn count(&self, method: &str) -> usize {
        *self.by_method.lock().unwrap().get(method).unwrap_or(&0)
    }
    pub fn by_method(&self) -> HashMap<String, usize> {
        self.by_method.lock().unwrap().clone()
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    /// The most requests that were ever being handled at the same moment.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
    /// Hold each request until `n` requests are in flight at once, or `max_ms` passed: a client
    /// that really sends requests side by side is released at once, a serial one is only slowed.
    pub fn gather(&self, n: usize, max_ms: usize) {
        self.gather_ms.store(max_ms, Ordering::SeqCst);
        self.gather_n.store(n, Ordering::SeqCst);
    }
    /// The requests the server saw with this method whose (decoded) URI contains `text`.
    pub fn attempts(&self, method: &str, text: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && percent_decode(&s.uri).contains(text))
            .count()
    }
    /// How many of the requests the server saw were answered with an injected fault.
    pub fn faulted(&self) -> usize {
        self.seen().iter().filter(|s| s.fault.is_some()).count()
    }
    pub fn reset(&self) {
        self.by_method.lock().unwrap().clear();
        self.seen.lock().unwrap().clear();
        self.connections.store(0, Ordering::SeqCst);
        self.requests.store(0, Ordering::SeqCst);
        self.max_in_flight.store(0, Ordering::SeqCst);
    }
    /// Inject `fault` into the next `n` requests whose method matches (None = any method).
    pub fn fail_next(&self, n: usize, method: Option<hyper::Method>, fault: Fault) {
        let mut p = self.faults.lock().unwrap();
        for _ in 0..n {
            p.queue.push_back((method.clone(), fault));
        }
    }
    /// Inject `fault` into every `nth` matching request (deterministic "share" of requests).
    pub fn fail_every(&self, nth: usize, method: Option<hyper::Method>, fault: Fault) {
        let mut p = self.faults.lock().unwrap();
        p.every = Some((method, nth, fault));
        p.every_seen = 0;
    }
    /// Fail every request whose URI contains `text` (e.g. one object's key).
    pub fn fail_key(&self, text: &str, fault: Fault) {
        self.faults.lock().unwrap().key = Some((None, text.to_string(), fault));
    }
    /// Fail every request with this method whose URI contains `text`.
    pub fn fail_key_on(&self, method: hyper::Method, text: &str, fault: Fault) {
        self.faults.lock().unwrap().key = Some((Some(method), text.to_string(), fault));
    }
    /// Hold every request this long before answering (to catch a client mid-run).
    pub fn delay(&self, ms: usize) {
        self.delay_ms.store(ms, Ordering::SeqCst);
    }
    /// Hold every request from now on, unanswered, until [`Stats::release`] (or a minute): a
    /// test acts while a run waits for the store, without guessing how long that is.
    pub fn hold(&self) {
        self.held.store(true, Ordering::SeqCst);
    }
    pub fn release(&self) {
        self.held.store(false, Ordering::SeqCst);
    }
    pub fn clear_faults(&self) {
        *self.faults.lock().unwrap() = FaultPlan::default();
    }
    fn pick_fault(&self, method: &hyper::Method, uri: &str) -> Option<Fault> {
        let mut p = self.faults.lock().unwrap();
        if let Some((m, text, fault)) = &p.key {
            if uri.contains(text.as_str()) && m.as_ref().is_none_or(|m| m == method) {
                return Some(*fault);
            }
        }
        if let Some(pos) = p
            .queue
            .iter()
            .position(|(m, _)| m.as_ref().is_none_or(|m| m == method))
        {
            return p.queue.remove(pos).map(|(_, f)| f);
        }
        if let Some((m, nth, f)) = p.every.clone() {
            if m.as_ref().is_none_or(|m| m == method) {
                p.every_seen += 1;
                if p.every_seen.is_multiple_of(nth) {
                    return Some(f);
                }
            }
        }
        None
    }
}

pub struct TestS3 {
    pub addr: SocketAddr,
    pub endpoint: String,
    pub root: tempfile::TempDir,
    pub stats: Arc<Stats>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestS3 {
    /// The server with R2's strictness in front of s3s (see the module comment).
    pub fn start_r2(buckets: &[&str]) -> anyhow::Result<TestS3> {
        let s3 = TestS3::start(buckets)?;
        s3.stats.r2.store(true, Ordering::SeqCst);
        Ok(s3)
    }

    /// Whether this server behaves like R2.
    pub fn is_r2(&self) -> bool {
        self.stats.r2.load(Ordering::SeqCst)
    }

    /// Start the server with the given buckets pre-created (as sub-folders of the root).
    pub fn start(buckets: &[&str]) -> anyhow::Result<TestS3> {
        // s3s-fs keeps object attributes beside the bucket folders.
        let root = tempfile::tempdir()?;
        for b in buckets {
            std::fs::create_dir(root.path().join(b))?;
        }
        let fs = s3s_fs::FileSystem::new(root.path()).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let s3 = {
            let mut b = s3s::service::S3ServiceBuilder::new(fs);
            b.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
            b.build()
        };
        let stats = Arc::new(Stats::default());

        // Bind synchronously so the port is known (and listening) before start() returns.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let st = stats.clone();
        let root_path = Arc::new(root.path().to_path_buf());

        let thread = std::thread::Builder::new()
            .name("test-s3".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    let listener =
                        tokio::net::TcpListener::from_std(std_listener).expect("listener");
                    let mut conns = tokio::task::JoinSet::new();
                    loop {
                        let (sock, _) = tokio::select! {
                            r = listener.accept() => match r { Ok(c) => c, Err(_) => continue },
                            _ = &mut rx => break,
                        };
                        let conn = st.conn_ids.fetch_add(1, Ordering::SeqCst) + 1;
                        st.connections.fetch_add(1, Ordering::SeqCst);
                        let (s3, st, root) = (s3.clone(), st.clone(), root_path.clone());
                        let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                            handle(s3.clone(), st.clone(), root.clone(), conn, req)
                        });
                        conns.spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(sock), svc)
                                .await;
                        });
                    }
                    conns.abort_all(); // hard stop of keep-alive connections
                });
            })?;

        Ok(TestS3 {
            addr,
            endpoint: format!("http://{addr}"),
            root,
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Path where s3s-fs stores an object (bucket = folder, key = relative path).
    pub fn object_path(&self, bucket: &str, key: &str) -> std::path::PathBuf {
        self.root.path().join(bucket).join(key)
    }
}

impl Drop for TestS3 {
    fn drop(&mut self) {
        self.stop();
    }
}

type Resp = Response<s3s::Body>;

async fn handle(
    s3: s3s::service::S3Service,
    st: Arc<Stats>,
    root: Arc<std::path::PathBuf>,
    conn: usize,
    req: Request<Incoming>,
) -> Result<Resp, Box<dyn std::error::Error + Send + Sync>> {
    let _in_flight = InFlight::new(st.clone());
    let method = req.method().clone();
    st.requests.fetch_add(1, Ordering::SeqCst);
    *st.by_method
        .lock()
        .unwrap()
        .entry(method.to_string())
        .or_default() += 1;
    let uri = percent_decode(&req.uri().to_string());
    let fault = st.pick_fault(&method, &uri);
    let delay = st.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay as u64)).await;
    }
    let held_until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while st.held.load(Ordering::SeqCst) && std::time::Instant::now() < held_until {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let (gather_n, gather_ms) = (
        st.gather_n.load(Ordering::SeqCst),
        st.gather_ms.load(Ordering::SeqCst),
    );
    let until = std::time::Instant::now() + std::time::Duration::from_millis(gather_ms as u64);
    while gather_n > 1
        && st.in_flight.load(Ordering::SeqCst) < gather_n
        && std::time::Instant::now() < until
    {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    st.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        uri: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        conn,
        fault,
    });
    let r2 = st.r2.load(Ordering::SeqCst);
    if let Some((code, name, message)) = r2.then(|| r2_refusal(&req)).flatten() {
        let _ = req.into_body().collect().await;
        return Ok(error_response(code, name, &message)?);
    }
    let req = if r2 { plus_is_literal(req)? } else { req };
    match fault {
        Some(Fault::Drop) => Err("injected connection drop".into()),
        Some(Fault::Hang) => {
            let _ = req.into_body().collect().await;
            std::future::pending().await
        }
        Some(Fault::Etag(etag)) => {
            let mut resp = s3.call(req.map(s3s::Body::from)).await?;
            let headers = resp.headers_mut();
            headers.remove("etag");
            if !etag.is_empty() {
                headers.insert("etag", hyper::header::HeaderValue::from_static(etag));
            }
            Ok(resp)
        }
        Some(Fault::Status(code)) => {
            // Drain the request body so keep-alive is still possible after the error reply.
            let _ = req.into_body().collect().await;
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InjectedFault</Code>\
                 <Message>injected {code}</Message></Error>"
            );
            Ok(Response::builder()
                .status(code)
                .header("content-type", "application/xml")
                .body(s3s::Body::from(body))?)
        }
        // s3s-fs silently creates a missing bucket folder on PutObject; R2/S3 answer 404
        // NoSuchBucket. Emulate that for object requests (path "/bucket/key...").
        None if {
            let mut segs = req.uri().path().trim_start_matches('/').splitn(2, '/');
            let bucket = segs.next().unwrap_or("");
            let has_key = segs.next().is_some_and(|k| !k.is_empty());
            has_key && !root.join(bucket).is_dir()
        } =>
        {
            let _ = req.into_body().collect().await;
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code>\
                        <Message>The specified bucket does not exist</Message></Error>";
            Ok(Response::builder()
                .status(404)
                .header("content-type", "application/xml")
                .body(s3s::Body::from(body.to_owned()))?)
        }
        None => {
            let resp = s3.call(req.map(s3s::Body::from)).await?;
            Ok(resp)
        }
    }
}

/// What R2 answers, where s3s would accept the request.
fn r2_refusal(req: &Request<Incoming>) -> Option<(u16, &'static str, String)> {
    let not_implemented = |what: String| Some((501, "NotImplemented", what));
    for (name, value) in req.headers() {
        let (name, value) = (name.as_str(), String::from_utf8_lossy(value.as_bytes()));
        if name == "x-amz-acl" {
            return not_implemented(format!(
                "Header 'x-amz-acl' with value '{value}' not implemented"
            ));
        }
        if name.starts_with("x-amz-checksum-") || name == "x-amz-sdk-checksum-algorithm" {
            return not_implemented(format!("Header '{name}' not implemented"));
        }
        if (name == "content-encoding" && value.contains("aws-chunked"))
            || (name == "x-amz-content-sha256" && value.starts_with("STREAMING-"))
        {
            return not_implemented(format!(
                "Header '{name}' with value '{value}' not implemented"
            ));
        }
    }
    None
}

/// R2 reads a `+` in a query literally: hand s3s the query with every `+` as `%2B`, so that the
/// signature is checked over what was really sent.
fn plus_is_literal(
    req: Request<Incoming>,
) -> Result<Request<Incoming>, Box<dyn std::error::Error + Send + Sync>> {
    let Some(query) = req.uri().query().filter(|q| q.contains('+')) else {
        return Ok(req);
    };
    let path_and_query = format!("{}?{}", req.uri().path(), query.replace('+', "%2B"));
    let (mut parts, body) = req.into_parts();
    let mut uri = parts.uri.into_parts();
    uri.path_and_query = Some(path_and_query.parse()?);
    parts.uri = hyper::Uri::from_parts(uri)?;
    Ok(Request::from_parts(parts, body))
}

fn error_response(code: u16, name: &str, message: &str) -> Result<Resp, hyper::http::Error> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{name}</Code>\
         <Message>{message}</Message></Error>"
    );
    Response::builder()
        .status(code)
        .header("content-type", "application/xml")
        .body(s3s::Body::from(body))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
