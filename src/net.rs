//! Network behaviour, in one place for the S3 store and `verify`: the runtime, the HTTP client,
//! and the retry policy — exponential backoff with full jitter, which failures are worth another
//! attempt and which stop the run.
//!
//! Failures are classified by their type (an HTTP status, or a transport error that reqwest
//! says is a connection failure or a timeout), never by searching an error message. Messages
//! are built by the callers, which know what was asked; this module knows only how to ask again.

use std::future::Future;
use std::hash::{BuildHasher, Hash};
use std::time::Duration;

/// A failure that stops a command before its work starts: the runtime or client cannot start.
#[derive(Debug, thiserror::Error)]
#[error("target: {0}")]
pub struct NetError(pub String);

/// How hard to try one request before giving up on it.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// For uploads: six attempts over about ten seconds at most.
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt` (1 for the first retry): exponential, capped, with full
    /// jitter so that many clients that failed together do not come back together. `salt` (the
    /// key or URL) spreads requests of one run apart.
    pub fn backoff(&self, attempt: u32, salt: impl Hash) -> Duration {
        let ceiling = self.base.saturating_mul(1 << attempt.min(16)).min(self.cap);
        let random = std::collections::hash_map::RandomState::new().hash_one((salt, attempt));
        ceiling.mul_f64((random % 1000) as f64 / 1000.0)
    }
}

/// What went wrong with one request, whoever sent it.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with this status and body.
    Status(u16, String),
    /// No answer: the connection could not be made (`connect`), or it was reset or timed out.
    Transport { connect: bool, message: String },
    /// Anything else (a request that could not be built, a body that could not be read).
    Other(String),
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Failure {
        if e.is_builder() || e.is_redirect() {
            return Failure::Other(chain(&e));
        }
        Failure::Transport {
            connect: e.is_connect(),
            message: chain(&e),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Transient: 5xx (but 501), 429, 408, a reset or a timeout. Try again after a pause.
    Retry,
    /// The credentials were refused (401, 403): no other request will succeed either.
    Refused,
    /// This request failed for good; others may still succeed.
    Fail,
}

/// The verdict on a failure that says nothing more specific (callers may look at the body
/// first, as the S3 store does for its error codes).
pub fn classify(failure: &Failure) -> Verdict {
    match failure {
        // 501 Not Implemented is the same answer every time (R2 to an `x-amz-acl` header).
        Failure::Status(501, _) => Verdict::Fail,
        Failure::Status(500..=599 | 429 | 408, _) => Verdict::Retry,
        Failure::Status(401 | 403, _) => Verdict::Refused,
        Failure::Status(..) | Failure::Other(_) => Verdict::Fail,
        Failure::Transport { .. } => Verdict::Retry,
    }
}

/// Whether the last failure says the server cannot be reached at all (no connection could be
/// made), so the next request to it would fail the same way.
pub fn unreachable(failure: &Failure) -> bool {
    matches!(failure, Failure::Transport { connect: true, .. })
}

/// An error with its sources, which is where reqwest says what really happened.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// Run `attempt` until it succeeds, `judge` says to stop, or the policy's attempts are spent;
/// `on_retry(n, failure)` hears of each failure that is tried again (attempt `n` comes next).
/// The error is the last failure with its verdict.
pub fn retry_blocking<T>(
    policy: &RetryPolicy,
    salt: &str,
    mut attempt: impl FnMut() -> Result<T, Failure>,
    judge: impl Fn(&Failure) -> Verdict,
    on_retry: impl Fn(u32, &Failure),
) -> Result<T, (Failure, Verdict)> {
    let mut n = 1;
    loop {
        match attempt() {
            Ok(v) => return Ok(v),
            Err(e) => {
                let verdict = judge(&e);
                if verdict != Verdict::Retry || n >= policy.attempts {
                    return Err((e, verdict));
                }
                on_retry(n + 1, &e);
                std::thread::sleep(policy.backoff(n, salt));
                n += 1;
            }
        }
    }
}

/// [`retry_blocking`] for async requests.
pub async fn retry_async<T, F, Fut>(
    policy: &RetryPolicy,
    salt: &str,
    mut attempt: F,
    judge: impl Fn(&Failure) -> Verdict,
) -> Result<T, (Failure, Verdict)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut n = 1;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) => {
                let verdict = judge(&e);
                if verdict != Verdict::Retry || n >= policy.attempts {
                    return Err((e, verdict));
                }
                tokio::time::sleep(policy.backoff(n, salt)).await;
                n += 1;
            }
        }
    }
}

/// A small multi-threaded runtime for one run's requests.
pub fn runtime(threads: usize, name: &str) -> Result<tokio::runtime::Runtime, NetError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| NetError(format!("cannot start the network runtime: {e}")))
}

/// The HTTP client: one pool of kept-alive connections for the whole run, a timeout per request,
/// imglift's user agent.
pub fn client(timeout: Duration, purpose: &str) -> Result<reqwest::Client, NetError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(64)
        .user_agent(format!("imglift/{} ({purpose})", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NetError(format!("cannot build the HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
        };
        for attempt in 1..8 {
            let ceiling = (Duration::from_millis(100) * (1 << attempt)).min(p.cap);
            let pauses: Vec<Duration> = (0..50).map(|i| p.backoff(attempt, i)).collect();
            assert!(
                pauses.iter().all(|d| *d <= ceiling),
                "{attempt}: {pauses:?}"
            );
            // Full jitter: the pauses spread out instead of all waiting the ceiling.
            let distinct: std::collections::BTreeSet<_> = pauses.iter().collect();
            assert!(distinct.len() > 10, "{attempt}: {pauses:?}");
        }
    }

    #[test]
    fn statuses_and_transport_errors_are_classified_by_type() {
        let status = |c| classify(&Failure::Status(c, String::new()));
        for code in [500, 502, 503, 504, 429, 408] {
            assert_eq!(status(code), Verdict::Retry, "{code}");
        }
        assert_eq!(status(401), Verdict::Refused);
        assert_eq!(status(403), Verdict::Refused);
        for code in [400, 404, 409, 412, 501] {
            assert_eq!(status(code), Verdict::Fail, "{code}");
        }
        let refused = Failure::Transport {
            connect: true,
            message: "anything".into(),
        };
        let reset = Failure::Transport {
            connect: false,
            message: "connection refused (only words)".into(),
        };
        assert_eq!(classify(&refused), Verdict::Retry);
        assert!(unreachable(&refused));
        assert!(
            !unreachable(&reset),
            "text alone never makes a store unreachable"
        );
    }

    #[test]
    fn a_closed_port_is_a_connect_failure() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let rt = runtime(1, "test").unwrap();
        let client = client(Duration::from_secs(5), "test").unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        let e = rt
            .block_on(async { client.get(url).send().await })
            .unwrap_err();
        assert!(unreachable(&Failure::from(e)));
    }

    #[test]
    fn retry_stops_on_success_on_a_final_verdict_and_after_the_attempts() {
        let p = RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
        };
        let calls = std::cell::Cell::new(0);
        let retried = std::cell::RefCell::new(Vec::new());
        let flaky = || {
            calls.set(calls.get() + 1);
            if calls.get() < 3 {
                Err(Failure::Status(503, String::new()))
            } else {
                Ok(calls.get())
            }
        };
        let on_retry = |n, _: &Failure| retried.borrow_mut().push(n);
        assert_eq!(
            retry_blocking(&p, "k", flaky, classify, on_retry).unwrap(),
            3
        );
        assert_eq!(*retried.borrow(), vec![2, 3]);

        calls.set(0);
        let always = || -> Result<(), Failure> {
            calls.set(calls.get() + 1);
            Err(Failure::Status(500, String::new()))
        };
        let (_, verdict) = retry_blocking(&p, "k", always, classify, |_, _| {}).unwrap_err();
        assert_eq!((calls.get(), verdict), (4, Verdict::Retry));

        calls.set(0);
        let refused = || -> Result<(), Failure> {
            calls.set(calls.get() + 1);
            Err(Failure::Status(403, String::new()))
        };
        let (_, verdict) = retry_blocking(&p, "k", refused, classify, |_, _| {}).unwrap_err();
        assert_eq!((calls.get(), verdict), (1, Verdict::Refused));
    }
}
