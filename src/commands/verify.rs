//! Verify: the setup article's "minimum verification" (open the uploaded link), for every object.
//!
//! Every public URL that the manifest lists or a page references is fetched with GET, at most
//! `concurrency` at once, each with a timeout and one retry after a timeout, a reset, a 429 or a
//! 5xx. A URL passes when it answers 200 with an `image/*` Content-Type and the right bytes: the
//! blake3 of its manifest entry when the manifest knows the object, otherwise bytes that are an
//! image by their signature. A failing URL is reported at every page position that uses it (or
//! at its manifest line when no page does), so the author sees which pages show a broken picture.
//!
//! It writes nothing, and it does not look at remote images of other hosts (they are not ours)
//! or at local references (that is `imglift check`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::percent_decode_str;

use crate::config::Config;
use crate::error::{ConfigError, Error};
use crate::fs::rel;
use crate::manifest::Manifest;
use crate::net::{self, NetError, RetryPolicy};
use crate::pages;
use crate::plan;
use crate::report::{CommandName, Diagnostic, Report, Severity, UrlCheck, Verified};
use crate::resolve::Resolved;

/// Tries per URL: the first, and one retry after a transient failure.
const ATTEMPTS: u32 = 2;

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Only the references of these pages or folders; the manifest's other objects are skipped.
    pub paths: Vec<PathBuf>,
    /// How long one request may take, answer included.
    pub timeout: Duration,
}

/// What the manifest says a URL must serve.
#[derive(Debug, Clone)]
struct Expect {
    key: String,
    hash: String,
    size: u64,
    source: String,
}

/// One URL to open, with everything that refers to it.
#[derive(Debug)]
struct Job {
    url: String,
    expect: Option<Expect>,
    users: Vec<LiftedRef>,
}

/// What a GET brought back.
struct Fetched {
    status: u16,
    reason: String,
    content_type: Option<String>,
    body: Vec<u8>,
    /// The body was longer than the limit and was not read to its end.
    truncated: bool,
}

/// Why a URL failed, with its diagnostic kind.
struct Failure {
    kind: &'static str,
    message: String,
    /// Set when no connection to the URL's host could be made (DNS failure, connection
    /// refused): every URL of that host fails alike, and is reported once for the host.
    host: Option<HostDown>,
}

/// A host no connection could be made to, and why (empty when the URL was not requested
/// because another URL of the host had already failed so).
#[derive(Clone)]
struct HostDown {
    host: String,
    why: String,
}

/// `host[:port]` of a URL, for grouping host-level failures.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// How many page names a host-level diagnostic lists before "and N more".
const HOST_PAGES_SHOWN: usize = 3;

/// `imglift verify`: open every public URL and report those that do not serve the image.
pub fn verify(config: &Config, cwd: &Path, opts: &VerifyOptions) -> Result<Report, Error> {
    let started = Instant::now();
    let manifest = Manifest::load(&config.manifest)?;
    let mut lifted = lifted_references(config, cwd, &opts.paths)?;
    let mut report = Report::new(CommandName::Verify, std::mem::take(&mut lifted.problems));
    report.counts.pages = lifted.pages;
    report.counts.references = lifted.refs.len();

    let jobs = jobs(config, &manifest, lifted.refs, opts.paths.is_empty());
    let results = fetch_all(config, opts.timeout, &jobs)?;

    let manifest_at = ManifestAt {
        rel: rel(&config.root, &config.manifest),
        text: std::fs::read_to_string(&config.manifest).unwrap_or_default(),
    };
    let mut verified = Verified::default();
    let mut diagnostics = Vec::new();
    let mut dead_hosts: BTreeMap<String, DeadHost> = BTreeMap::new();
    for (job, result) in jobs.iter().zip(results) {
        let check = match result {
            Err(f) if f.host.is_some() => {
                let down = f.host.clone().unwrap_or(HostDown {
                    host: String::new(),
                    why: String::new(),
                });
                let dead = dead_hosts.entry(down.host).or_default();
                if dead.why.is_empty() {
                    dead.why = down.why;
                }
                dead.urls += 1;
                dead.users.extend(job.users.iter().cloned());
                if job.users.is_empty() && dead.first_key.is_none() {
                    dead.first_key = job.expect.as_ref().map(|e| e.key.clone());
                }
                record(job, Err(f), &manifest_at, &mut Vec::new())
            }
            result => record(job, result, &manifest_at, &mut diagnostics),
        };
        verified.bytes += check.1;
        match check.0.ok {
            true => verified.ok += 1,
            false => verified.failed += 1,
        }
        verified.urls.push(check.0);
    }
    for (host, dead) in dead_hosts {
        diagnostics.push(dead.diagnostic(&host, &manifest_at));
    }
    diagnostics.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    report.problems.extend(diagnostics);
    report.verified = Some(verified);
    report.elapsed_ms = started.elapsed().as_millis();
    Ok(report)
}

/// A host no connection could be made to, with every URL and page position that needs it.
#[derive(Default)]
struct DeadHost {
    /// The first failure's message (they all say the same).
    why: String,
    urls: usize,
    users: Vec<LiftedRef>,
    /// An object no page uses, for the position when no page uses any URL of the host.
    first_key: Option<String>,
}

impl DeadHost {
    /// One diagnostic for the whole host, at the first page position that uses it (or the
    /// manifest line of its first object), naming the first few pages; the JSON result lists
    /// every URL with its pages.
    fn diagnostic(mut self, host: &str, manifest: &ManifestAt) -> Diagnostic {
        self.users
            .sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
        let mut pages: Vec<&str> = self.users.iter().map(|u| u.file.as_str()).collect();
        pages.dedup();
        let (file, line, col) = match self.users.first() {
            Some(u) => (u.file.clone(), u.line, u.col),
            None => (
                manifest.rel.clone(),
                manifest_line(&manifest.text, self.first_key.as_deref().unwrap_or("")),
                1,
            ),
        };
        let urls = match self.urls {
            1 => "1 URL".to_string(),
            n => format!("{n} URLs"),
        };
        let used = match pages.len() {
            0 => "no scanned page uses them".to_string(),
            n if n <= HOST_PAGES_SHOWN => format!("used by {}", pages.join(", ")),
            n => format!(
                "used by {} and {} more pages",
                pages[..HOST_PAGES_SHOWN].join(", "),
                n - HOST_PAGES_SHOWN
            ),
        };
        Diagnostic {
            file,
            line,
            col,
            severity: Severity::Error,
            kind: "host_unreachable",
            message: format!(
                "host `{host}` cannot be reached ({urls} not checked; {used}): {}; is `public_url` right?",
                self.why
            ),
        }
    }
}

/// The manifest file, for diagnostics about objects no page uses.
struct ManifestAt {
    rel: String,
    text: String,
}

/// Judge one URL's answer: its entry in the result, the bytes read, and a diagnostic at every
/// page position that uses it (or at its manifest line when no page does).
fn record(
    job: &Job,
    result: Result<Fetched, Failure>,
    manifest: &ManifestAt,
    diagnostics: &mut Vec<Diagnostic>,
) -> (UrlCheck, u64) {
    let (fetched, failure) = match result {
        Ok(f) => {
            let failure = judge(job, &f);
            (Some(f), failure)
        }
        Err(failure) => (None, Some(failure)),
    };
    if let Some(failure) = &failure {
        for u in &job.users {
            diagnostics.push(Diagnostic {
                file: u.file.clone(),
                line: u.line,
                col: u.col,
                severity: Severity::Error,
                kind: failure.kind,
                message: failure.message.clone(),
            });
        }
        if job.users.is_empty() {
            let expect = job.expect.as_ref();
            let key = expect.map_or("", |e| e.key.as_str());
            diagnostics.push(Diagnostic {
                file: manifest.rel.clone(),
                line: manifest_line(&manifest.text, key),
                col: 1,
                severity: Severity::Error,
                kind: failure.kind,
                message: format!(
                    "{} (object `{key}` from {}; no scanned page uses it)",
                    failure.message,
                    expect.map_or("?", |e| e.source.as_str())
                ),
            });
        }
    }
    let check = UrlCheck {
        url: job.url.clone(),
        key: job.expect.as_ref().map(|e| e.key.clone()),
        status: fetched.as_ref().map(|f| f.status),
        content_type: fetched.as_ref().and_then(|f| f.content_type.clone()),
        ok: failure.is_none(),
        problem: failure.map(|f| f.message),
        used_by: job
            .users
            .iter()
            .map(|u| format!("{}:{}:{}", u.file, u.line, u.col))
            .collect(),
    };
    (check, fetched.map_or(0, |f| f.body.len() as u64))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiftedRef {
    /// The page, relative to the root.
    pub file: String,
    pub line: usize,
    pub col: usize,
    /// The destination as a renderer sees it (escapes decoded), fragment included.
    pub url: String,
}

#[derive(Debug, Default)]
pub struct LiftedPages {
    pub refs: Vec<LiftedRef>,
    pub pages: usize,
    pub problems: Vec<Diagnostic>,
}

/// Every reference that points at the public URL ([`Resolved::Lifted`]) in the pages, narrowed
/// by `paths` as `check` is. Reads only the pages: no image is opened, nothing is written.
pub fn lifted_references(
    config: &Config,
    cwd: &Path,
    paths: &[PathBuf],
) -> Result<LiftedPages, ConfigError> {
    let only = pages::narrow(cwd, paths)?;
    let loaded = pages::load(config, &only, &pages::skip_dirs(config, None))?;
    let mut out = LiftedPages {
        pages: loaded.pages.len(),
        problems: loaded.problems,
        ..LiftedPages::default()
    };
    for page in &loaded.pages {
        for (r, resolved) in &page.refs {
            if *resolved != Resolved::Lifted {
                continue;
            }
            let (line, col) = page.locate(r.span.start);
            out.refs.push(LiftedRef {
                file: page.rel.clone(),
                line,
                col,
                url: r.dest.trim().to_string(),
            });
        }
    }
    Ok(out)
}

/// The URL without its `#fragment` (never sent) and, for matching, without its `?query`,
/// percent-decoded so that `caf%C3%A9.png` and `café.png` are one object.
fn match_key(url: &str) -> String {
    let no_fragment = url.split('#').next().unwrap_or(url);
    let no_query = no_fragment.split('?').next().unwrap_or(no_fragment);
    percent_decode_str(no_query)
        .decode_utf8_lossy()
        .into_owned()
}

/// One job per distinct URL: the manifest's objects (unless the run is narrowed to some pages)
/// and every URL the pages use, each with the manifest entry that says what it must serve.
fn jobs(config: &Config, manifest: &Manifest, refs: Vec<LiftedRef>, all: bool) -> Vec<Job> {
    let mut by_url: BTreeMap<String, Job> = BTreeMap::new();
    let mut known: BTreeMap<String, Expect> = BTreeMap::new();
    for (key, entry) in manifest.iter() {
        let url = plan::public_url(&config.public_url, key);
        let expect = Expect {
            key: key.clone(),
            hash: entry.hash.clone(),
            size: entry.size,
            source: entry.source.clone(),
        };
        if all {
            by_url.insert(
                match_key(&url),
                Job {
                    url: url.clone(),
                    expect: Some(expect.clone()),
                    users: Vec::new(),
                },
            );
        }
        known.insert(match_key(&url), expect);
    }
    for r in refs {
        let m = match_key(&r.url);
        let job = by_url.entry(m.clone()).or_insert_with(|| Job {
            url: r.url.split('#').next().unwrap_or(&r.url).to_string(),
            expect: known.get(&m).cloned(),
            users: Vec::new(),
        });
        job.users.push(r);
    }
    by_url.into_values().collect()
}

/// GET every job's URL, `concurrency` at once; results in job order.
fn fetch_all(
    config: &Config,
    timeout: Duration,
    jobs: &[Job],
) -> Result<Vec<Result<Fetched, Failure>>, NetError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let runtime = net::runtime(config.concurrency.clamp(1, 4), "imglift-verify")?;
    let client = net::client(timeout, "verify")?;
    let semaphore = Arc::new(tokio::sync::Semaphore::new(config.concurrency));
    let max_size = config.max_size;
    let dead: Arc<std::sync::Mutex<std::collections::HashSet<String>>> = Arc::default();
    runtime.block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        for (i, job) in jobs.iter().enumerate() {
            let (client, semaphore) = (client.clone(), Arc::clone(&semaphore));
            let dead = Arc::clone(&dead);
            let url = job.url.clone();
            // Read at most one byte more than the object can have, so a wrong object that is
            // huge is not downloaded whole.
            let limit = job.expect.as_ref().map_or(max_size, |e| e.size).max(1) + 1;
            set.spawn(async move {
                let _permit = semaphore.acquire_owned().await;
                // Once a host refused a connection (or its name did not resolve), its other
                // URLs are not requested: they would fail alike.
                let host = host_of(&url);
                let known_dead = dead.lock().is_ok_and(|d| d.contains(&host));
                if known_dead {
                    return (
                        i,
                        Err(Failure {
                            kind: "unreachable",
                            message: format!(
                                "`{url}` cannot be opened: its host cannot be reached"
                            ),
                            host: Some(HostDown {
                                host,
                                why: String::new(),
                            }),
                        }),
                    );
                }
                let r = fetch(&client, &url, limit, timeout).await;
                if let Err(Failure { host: Some(h), .. }) = &r {
                    if let Ok(mut d) = dead.lock() {
                        d.insert(h.host.clone());
                    }
                }
                (i, r)
            });
        }
        let mut results: Vec<Option<Result<Fetched, Failure>>> =
            std::iter::repeat_with(|| None).take(jobs.len()).collect();
        let bar = crate::progress::Progress::new(jobs.len(), "verifying");
        while let Some(joined) = set.join_next().await {
            bar.inc();
            if let Ok((i, r)) = joined {
                results[i] = Some(r);
            }
        }
        drop(bar);
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Failure {
                        kind: "unreachable",
                        message: "the request was cancelled".into(),
                        host: None,
                    })
                })
            })
            .collect())
    })
}

/// GET with one retry after a transient failure (timeout, reset, 429, 5xx). A status that is
/// still transient on the last attempt is the answer, judged like any other.
async fn fetch(
    client: &reqwest::Client,
    url: &str,
    limit: u64,
    timeout: Duration,
) -> Result<Fetched, Failure> {
    let policy = RetryPolicy {
        attempts: ATTEMPTS,
        base: Duration::from_millis(250),
        cap: Duration::from_secs(1),
    };
    let last_answer = std::sync::Mutex::new(None);
    let attempt = || async {
        let f = fetch_once(client, url, limit).await.map_err(|e| {
            let why = if e.is_timeout() {
                format!("no answer within {}s", timeout.as_secs_f64())
            } else {
                error_chain(&e)
            };
            match net::Failure::from(e) {
                net::Failure::Other(_) => net::Failure::Other(why),
                net::Failure::Transport { connect, .. } => net::Failure::Transport {
                    connect,
                    message: why,
                },
                other => other,
            }
        })?;
        if f.status == 429 || f.status >= 500 {
            let status = f.status;
            *last_answer.lock().unwrap_or_else(|p| p.into_inner()) = Some(f);
            return Err(net::Failure::Status(status, String::new()));
        }
        Ok(f)
    };
    match net::retry_async(&policy, url, attempt, net::classify).await {
        Ok(f) => Ok(f),
        Err((net::Failure::Status(..), _)) => last_answer
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .ok_or_else(|| Failure {
                kind: "unreachable",
                message: format!("`{url}` cannot be opened"),
                host: None,
            }),
        Err((failure @ net::Failure::Transport { .. }, _)) if net::unreachable(&failure) => {
            let message = match failure {
                net::Failure::Transport { message, .. } => message,
                _ => String::new(),
            };
            Err(Failure {
                kind: "unreachable",
                message: format!("`{url}` cannot be opened: {message}"),
                host: Some(HostDown {
                    host: host_of(url),
                    why: message,
                }),
            })
        }
        Err((net::Failure::Transport { message, .. } | net::Failure::Other(message), _)) => {
            Err(Failure {
                kind: "unreachable",
                message: format!("`{url}` cannot be opened: {message}"),
                host: None,
            })
        }
    }
}

async fn fetch_once(
    client: &reqwest::Client,
    url: &str,
    limit: u64,
) -> Result<Fetched, reqwest::Error> {
    let mut resp = client.get(url).send().await?;
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string());
    let mut body = Vec::new();
    let mut truncated = false;
    if status == reqwest::StatusCode::OK {
        while let Some(chunk) = resp.chunk().await? {
            body.extend_from_slice(&chunk);
            if body.len() as u64 >= limit {
                truncated = true;
                break;
            }
        }
    }
    Ok(Fetched {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        content_type,
        body,
        truncated,
    })
}

/// The cause chain of an HTTP error, without repeating the URL.
fn error_chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// The first thing wrong with an answer: its status, its type, then its bytes.
fn judge(job: &Job, f: &Fetched) -> Option<Failure> {
    let url = &job.url;
    if f.status != 200 {
        return Some(Failure {
            kind: "http_status",
            message: format!("`{url}` answered {} {}", f.status, f.reason)
                .trim_end()
                .to_string(),
            host: None,
        });
    }
    let essence = f.content_type.as_deref().map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    match essence.as_deref() {
        Some(t) if t.starts_with("image/") => {}
        Some(t) => {
            return Some(Failure {
                kind: "wrong_type",
                message: format!(
                    "`{url}` is served as `{t}`, not as an image (Content-Type must be image/*)"
                ),
                host: None,
            })
        }
        None => {
            return Some(Failure {
                kind: "wrong_type",
                message: format!("`{url}` is served without a Content-Type (must be image/*)"),
                host: None,
            })
        }
    }
    match &job.expect {
        Some(e) => {
            let got = blake3::hash(&f.body).to_hex().to_string();
            if f.truncated || got != e.hash {
                let size = if f.truncated {
                    format!("more than {}", f.body.len() - 1)
                } else {
                    f.body.len().to_string()
                };
                return Some(Failure {
                    kind: "wrong_bytes",
                    message: format!(
                        "`{url}` serves other bytes than {} ({size} bytes, blake3 {}…; expected {} bytes, blake3 {}…)",
                        e.source,
                        &got[..12],
                        e.size,
                        &e.hash[..12]
                    ),
                    host: None,
                });
            }
        }
        None if crate::hash::sniff(&f.body).is_none() => {
            return Some(Failure {
                kind: "wrong_bytes",
                message: format!("`{url}` does not serve an image (its bytes are no image format)"),
                host: None,
            })
        }
        None => {}
    }
    None
}

/// The 1-based line of `key` in the manifest's text (1 if it is not found).
pub(crate) fn manifest_line(text: &str, key: &str) -> usize {
    let prefix = format!("{}\t", crate::fs::escape(key));
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .map_or(1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_key_ignores_fragment_query_and_encoding() {
        assert_eq!(
            match_key("https://i.example/k/caf%C3%A9.png?x=1#top"),
            match_key("https://i.example/k/café.png")
        );
    }

    #[test]
    fn manifest_line_finds_escaped_keys() {
        let text = "# h\n# h\na/b.png\tx\nc\\td.png\ty\n";
        assert_eq!(manifest_line(text, "a/b.png"), 3);
        assert_eq!(manifest_line(text, "c\td.png"), 4);
        assert_eq!(manifest_line(text, "nope"), 1);
    }
}
