//! The S3 target: Cloudflare R2 and any S3-compatible store, through rust-s3's tokio client.
//!
//! One `Bucket` (one connection pool, kept alive between uploads) and one small tokio runtime per
//! run; the upload stage calls `put` from several threads, each blocking on its own request.
//! Path-style addressing, region `auto` by default, no ACL header unless configured (R2 rejects
//! them), no `x-amz-checksum-*` and no chunked signatures. HEAD and LIST go through rust-s3; a
//! PUT goes to a URL that rust-s3 presigns (headers signed, payload UNSIGNED, as browsers and
//! rclone upload to R2), sent by our own pooled client with Content-MD5, so the store checks the
//! bytes; we also compare the returned ETag with our MD5 before calling an object confirmed.
//!
//! rust-s3 does not retry PUTs, so this module does, for every request it sends: exponential
//! backoff with full jitter on 5xx, 429, 408, timeouts and connection errors, within a bounded
//! number of attempts. Credentials are rejected on the first 401/403, which stops the run.
//! Secrets never appear in a message: every error text passes through `redact`.

use std::collections::HashMap;
use std::time::Duration;

use s3::creds::Credentials;
use s3::error::S3Error;
use s3::{Bucket, Region};

use super::{Listed, Object, OpenError, Probe, Store, StoreError};
use crate::config::S3Config;
use crate::net::{self, Failure, RetryPolicy, Verdict};

pub struct S3Store {
    bucket: Box<Bucket>,
    /// Our own client for PUTs, with a pool of kept-alive connections.
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    acl: Option<String>,
    name: String,
    prefix: String,
    jurisdiction: Option<String>,
    secrets: Vec<String>,
    retry: RetryPolicy,
}

/// The credentials from the environment: IMGLIFT_* first, then the standard AWS_* names.
fn credentials(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, String, Option<String>), OpenError> {
    let pick = |ours: &str, aws: &str| {
        env(ours)
            .filter(|v| !v.is_empty())
            .or_else(|| env(aws).filter(|v| !v.is_empty()))
    };
    let access = pick("IMGLIFT_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID");
    let secret = pick("IMGLIFT_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY");
    match (access, secret) {
        (Some(a), Some(s)) => Ok((a, s, env("AWS_SESSION_TOKEN").filter(|v| !v.is_empty()))),
        _ => Err(OpenError(
            "no credentials: export IMGLIFT_ACCESS_KEY_ID and IMGLIFT_SECRET_ACCESS_KEY \
             (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) with a token that may read and \
             write this bucket"
                .into(),
        )),
    }
}

impl S3Store {
    pub fn new(cfg: &S3Config, env: &dyn Fn(&str) -> Option<String>) -> Result<S3Store, OpenError> {
        let (access, secret, token) = credentials(env)?;
        let bad = |what: &str, e: S3Error| OpenError(format!("{what}: {e}"));
        let creds = Credentials::new(Some(&access), Some(&secret), None, token.as_deref(), None)
            .map_err(|e| OpenError(format!("credentials: {e}")))?;
        let region = Region::Custom {
            region: cfg.region.clone(),
            endpoint: cfg.endpoint.clone(),
        };
        let bucket = Bucket::new(&cfg.bucket, region, creds)
            .map_err(|e| bad("bucket", e))?
            .with_path_style()
            .with_request_timeout(Duration::from_secs(60))
            .map_err(|e| bad("bucket", e))?;
        // rust-s3 retries some requests itself with fixed, long pauses; we retry every request
        // ourselves, with backoff and jitter.
        s3::set_retries(0);
        let runtime = net::runtime(2, "imglift-s3")?;
        let http = net::client(Duration::from_secs(60), "sync")?;
        let mut secrets = vec![secret, access];
        secrets.extend(token);
        Ok(S3Store {
            bucket,
            http,
            runtime,
            acl: cfg.acl.clone(),
            name: format!("bucket `{}` at {}", cfg.bucket, cfg.endpoint),
            prefix: cfg.prefix.clone(),
            jurisdiction: cfg.jurisdiction.clone(),
            secrets,
            retry: RetryPolicy::default(),
        })
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> S3Store {
        self.retry = retry;
        self
    }

    /// Remove any secret, in any spelling, and the query of any URL from a message.
    fn redact(&self, text: &str) -> String {
        redact(text, &self.secrets)
    }

    /// Run one request with retries; `op` names it for messages.
    fn with_retries<T>(
        &self,
        op: &str,
        key: &str,
        attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        self.retrying(op, key, attempt)
            .map_err(|(failure, verdict)| self.give_up(op, key, failure, verdict))
    }

    /// Run one request with retries; the error is the last failure with its verdict.
    fn retrying<T>(
        &self,
        op: &str,
        key: &str,
        attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, (Failure, Verdict)> {
        let note = |n: u32, e: &Failure| {
            crate::progress::note(&crate::report::printable(&format!(
                "imglift: {op} `{key}`: {}; retrying (attempt {n} of {})",
                self.redact(&describe(e)),
                self.retry.attempts
            )))
        };
        net::retry_blocking(&self.retry, key, attempt, net::classify, note)
    }

    /// The error for a request that failed for good.
    fn give_up(&self, op: &str, key: &str, failure: Failure, verdict: Verdict) -> StoreError {
        let fatal = |why: String| {
            StoreError::Fatal(self.redact(&format!("{op} `{key}` in {}: {why}", self.name)))
        };
        match (&failure, verdict) {
            (Failure::Status(code, body), Verdict::Refused) => {
                let name = error_code(body);
                fatal(format!(
                    "HTTP {code}{}{name}: the store refused these credentials; check \
                     IMGLIFT_ACCESS_KEY_ID / IMGLIFT_SECRET_ACCESS_KEY and that the token may \
                     read and write this bucket",
                    if name.is_empty() { "" } else { " " }
                ))
            }
            (Failure::Status(404, body), _) if error_code(body) == "NoSuchBucket" => {
                fatal(self.no_such_bucket())
            }
            // The store does not implement something every request carries (R2 and an `acl:`
            // copied from an AWS guide): no later request will succeed either.
            (Failure::Status(501, _), _) => {
                let hint = if self.acl.is_some() {
                    "; R2 does not support ACLs: remove `acl:` from target.s3 in imglift.yaml"
                } else {
                    ""
                };
                fatal(format!(
                    "{}: the store does not implement this request{hint}",
                    describe(&failure)
                ))
            }
            (_, Verdict::Retry) => {
                let message = self.redact(&format!(
                    "{op} `{key}`: gave up after {} attempts; last error: {}",
                    self.retry.attempts,
                    describe(&failure)
                ));
                // A store that cannot be reached at all will not answer the next object either.
                if net::unreachable(&failure) {
                    return StoreError::Fatal(format!("{} is unreachable: {message}", self.name));
                }
                StoreError::Failed(message)
            }
            _ => StoreError::Failed(self.redact(&format!("{op} `{key}`: {}", describe(&failure)))),
        }
    }

    fn no_such_bucket(&self) -> String {
        match &self.jurisdiction {
            Some(j) => format!(
                "the bucket does not exist in the `{j}` jurisdiction; check `bucket:` and \
                 `jurisdiction:` against the R2 dashboard (leave `jurisdiction:` out for a bucket \
                 in the default jurisdiction)"
            ),
            None => "the bucket does not exist; check `bucket:`. An R2 bucket created in the EU \
                     or FedRAMP jurisdiction lives at another endpoint: add `jurisdiction: eu` (or \
                     `fedramp`) beside `account_id:` in target.s3"
                .into(),
        }
    }
}

/// `text` without the query of any URL in it (a presigned URL carries the signature and the
/// session token there) and without any of `secrets` in any spelling a message may carry: raw,
/// percent-encoded (upper or lower case hex, once or twice), `+` for a space, `\/` for `/`
/// (JSON), and base64 (standard or URL-safe, padded or not).
pub(crate) fn redact(text: &str, secrets: &[String]) -> String {
    use base64::Engine;
    let mut out = strip_url_queries(text);
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        out = replace_encoded(&out, secret.as_bytes());
        let engines = [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        for engine in engines {
            let encoded = engine.encode(secret.as_bytes());
            // Without its last (partial) group: base64 of the secret inside a longer value.
            let stem = &encoded[..encoded.len() - encoded.len() % 4];
            out = out.replace(&encoded, "***");
            if stem.len() >= 8 {
                out = out.replace(stem, "***");
            }
        }
    }
    out
}

/// Cut the `?query` (and `#fragment`) off every `http://` or `https://` URL in `text`.
fn strip_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("http") {
        let (before, url) = rest.split_at(at);
        out.push_str(before);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            out.push_str("http");
            rest = &url[4..];
            continue;
        }
        let end = url
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')'))
            .unwrap_or(url.len());
        let (whole, after) = url.split_at(end);
        match whole.find(['?', '#']) {
            Some(q) => {
                out.push_str(&whole[..q]);
                out.push_str("?…");
            }
            None => out.push_str(whole),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Replace every occurrence of `secret` in `text` where each byte may be spelled raw, as `%XX`
/// or `%25XX` in either case, `+` for a space, or `\/` for `/`.
fn replace_encoded(text: &str, secret: &[u8]) -> String {
    let hay = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        match match_encoded(&hay[i..], secret) {
            Some(len) if len > 0 => {
                out.extend_from_slice(b"***");
                i += len;
            }
            _ => {
                out.push(hay[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The length of the spelling of `secret` at the start of `hay`, if there is one.
fn match_encoded(hay: &[u8], secret: &[u8]) -> Option<usize> {
    let hex = |b: &[u8]| -> Option<u8> {
        let s = std::str::from_utf8(b.get(..2)?).ok()?;
        u8::from_str_radix(s, 16).ok()
    };
    let mut at = 0;
    for &want in secret {
        let rest = &hay[at..];
        let step = if rest.first() == Some(&want) {
            1
        } else if rest.starts_with(b"%25") && hex(&rest[3..]) == Some(want) {
            5
        } else if rest.first() == Some(&b'%') && hex(&rest[1..]) == Some(want) {
            3
        } else if want == b' ' && rest.first() == Some(&b'+') {
            1
        } else if want == b'/' && rest.starts_with(b"\\/") {
            2
        } else {
            return None;
        };
        at += step;
    }
    Some(at)
}

impl From<S3Error> for Failure {
    fn from(e: S3Error) -> Failure {
        match e {
            S3Error::HttpFailWithBody(code, body) => Failure::Status(code, body),
            S3Error::Reqwest(e) => Failure::from(e),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// The S3 error code in an XML error body (`<Code>SignatureDoesNotMatch</Code>`).
fn error_code(body: &str) -> &str {
    body.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map_or("", |(code, _)| code)
}

/// The human text in an XML error body (`<Message>…</Message>`).
fn error_message(body: &str) -> &str {
    body.split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map_or("", |(text, _)| text.trim())
}

/// What an HTTP status means for a request to an S3 store, for a status without an error body.
fn status_meaning(code: u16) -> &'static str {
    match code {
        400 => "the store found the request malformed",
        401 | 403 => "access denied",
        404 => "not found",
        405 => "the store does not allow this method here",
        409 => "conflict with the bucket's state",
        411 => "the store wants a Content-Length",
        412 => "a precondition failed",
        413 => "the object is too large for the store",
        429 => "too many requests",
        501 => "the store does not implement this request",
        500..=599 => "the store failed",
        _ => "unexpected answer",
    }
}

fn describe(e: &Failure) -> String {
    match e {
        Failure::Status(code, body) => {
            let mut text = format!("HTTP {code}");
            match error_code(body) {
                "" => text.push_str(&format!(" ({})", status_meaning(*code))),
                name => text.push_str(&format!(" {name}")),
            }
            match error_message(body) {
                "" => {}
                message => text.push_str(&format!(": {message}")),
            }
            text
        }
        Failure::Transport { message, .. } | Failure::Other(message) => message.clone(),
    }
}

impl Store for S3Store {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn probe(&self, obj: &Object) -> Result<Probe, StoreError> {
        let head = self.with_retries("HEAD (is it already stored?)", obj.key, || {
            match self.runtime.block_on(self.bucket.head_object(obj.key)) {
                Ok((head, _)) => Ok(Some(head)),
                Err(S3Error::HttpFailWithBody(404, _)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })?;
        let Some(head) = head else {
            return Ok(Probe::Absent);
        };
        let same_size = head.content_length == Some(obj.size as i64);
        let same_hash = head
            .metadata
            .as_ref()
            .and_then(|m| m.get("blake3"))
            .is_some_and(|h| h == obj.hash);
        Ok(if same_size && same_hash {
            Probe::Same
        } else {
            Probe::Different
        })
    }

    fn list(&self, max_pages: usize) -> Result<Option<HashMap<String, Listed>>, StoreError> {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        let mut keys = HashMap::new();
        let mut token: Option<String> = None;
        for _ in 0..max_pages {
            let page = self.retrying("LIST", &prefix, || {
                self.runtime
                    .block_on(self.list_page(&prefix, token.as_deref()))
            });
            let page = match page {
                Ok(page) => page,
                // A refused listing says nothing about the credentials for objects (a token
                // may be scoped to objects): each object is probed instead, and a HEAD or PUT
                // that is refused stops the run.
                Err((failure, Verdict::Refused)) => {
                    crate::progress::note(&self.redact(&format!(
                        "imglift: warning: listing `{prefix}` in {}: {}; checking each object \
                         with a HEAD instead",
                        self.name,
                        describe(&failure)
                    )));
                    return Ok(None);
                }
                Err((failure, verdict)) => {
                    return Err(self.give_up("LIST", &prefix, failure, verdict))
                }
            };
            keys.extend(listed(page.contents));
            token = page.next_continuation_token;
            if token.is_none() || !page.is_truncated {
                return Ok(Some(keys));
            }
        }
        // A bucket this large is cheaper to ask object by object.
        Ok(None)
    }

    fn put(&self, obj: &Object) -> Result<(), StoreError> {
        let body = match obj.body {
            // Read and hashed a moment ago by the hash stage: the very bytes its digests are of.
            Some(body) => body.clone(),
            None => {
                let bytes = crate::fs::read_checked(obj.path)
                    .map_err(|e| StoreError::Failed(format!("{}: {e}", obj.path.display())))?;
                if blake3::hash(&bytes).to_hex().as_str() != obj.hash {
                    return Err(StoreError::Failed(format!(
                        "{} changed while imglift was running; run it again",
                        obj.path.display()
                    )));
                }
                bytes::Bytes::from(bytes)
            }
        };
        // The hash stage computed the MD5 with the blake3, from the same bytes that the check
        // above just matched (or that it hands over).
        let digest = obj.md5.unwrap_or_else(|| md5::compute(&body).0);
        let md5_hex = crate::hash::hex_md5(&digest);
        let headers = self
            .put_headers(obj, &digest)
            .map_err(|e| StoreError::Failed(format!("PUT `{}`: {e}", obj.key)))?;
        self.with_retries("PUT", obj.key, || {
            // A presigned URL signs the headers but not the payload (UNSIGNED-PAYLOAD, as
            // browsers and rclone upload to R2): no SHA-256 of every image on either side.
            // Content-MD5 still makes the store check the bytes.
            self.runtime.block_on(async {
                let url = self
                    .bucket
                    .presign_put(obj.key, 900, Some(headers.clone()), None)
                    .await?;
                let response = self
                    .http
                    .put(url)
                    .headers(headers.clone())
                    .body(body.clone())
                    .send()
                    .await
                    // reqwest names the URL in its errors: the presigned one, with its query.
                    .map_err(|e| Failure::from(e.without_url()))?;
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    // An answer that does not confirm the bytes is treated like a transfer
                    // that broke before its answer: retried, and failed after the last attempt.
                    return match put_unconfirmed(response.headers(), &md5_hex) {
                        None => Ok(()),
                        Some(why) => Err(Failure::Transport {
                            connect: false,
                            message: why,
                        }),
                    };
                }
                Err(Failure::Status(
                    status,
                    response.text().await.unwrap_or_default(),
                ))
            })
        })?;
        Ok(())
    }
}

/// The objects of one listing page by key, with their sizes and ETags (unquoted).
fn listed(contents: Vec<s3::serde_types::Object>) -> impl Iterator<Item = (String, Listed)> {
    contents.into_iter().map(|o| {
        let etag = o.e_tag.map(|t| t.trim().trim_matches('"').to_string());
        (o.key, Listed { size: o.size, etag })
    })
}

/// Why the answer to a single PUT does not confirm the object, or `None` when it does: its ETag
/// must be the MD5 hex of the bytes sent (R2 and S3 answer that). A missing ETag or another one
/// is no confirmation. AWS documents one exception: an object encrypted with SSE-KMS or SSE-C
/// gets an ETag that is not its MD5; there the store's check of the PUT's Content-MD5 (passed,
/// since the answer is a 2xx) is the confirmation.
fn put_unconfirmed(headers: &reqwest::header::HeaderMap, md5_hex: &str) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let kms = header("x-amz-server-side-encryption").is_some_and(|v| v.starts_with("aws:kms"));
    if kms || header("x-amz-server-side-encryption-customer-algorithm").is_some() {
        return None;
    }
    match header("etag").map(|v| v.trim().trim_matches('"')) {
        Some(etag) if etag.eq_ignore_ascii_case(md5_hex) => None,
        None | Some("") => Some(format!(
            "the store answered without an ETag, so the upload is not confirmed (expected the \
             MD5 {md5_hex} of the bytes sent)"
        )),
        Some(etag) => Some(format!(
            "the store answered with ETag {etag}, not the MD5 {md5_hex} of the bytes sent, so \
             the upload is not confirmed"
        )),
    }
}

impl S3Store {
    /// One page of a ListObjectsV2. rust-s3's own listing sends its query form-encoded (a space
    /// as `+`) but signs it with `%20`, which a store that reads `+` literally (R2) refuses; a
    /// presigned GET encodes the query once, the same way for the signature and the request.
    async fn list_page(
        &self,
        prefix: &str,
        token: Option<&str>,
    ) -> Result<s3::serde_types::ListBucketResult, Failure> {
        let mut query = HashMap::from([
            ("list-type".to_string(), "2".to_string()),
            ("prefix".to_string(), prefix.to_string()),
        ]);
        if let Some(token) = token {
            query.insert("continuation-token".into(), token.into());
        }
        let url = self.bucket.presign_get("/", 900, Some(query)).await?;
        let response = self.http.get(url).send().await?;
        let status = response.status().as_u16();
        let body = response.text().await?;
        if !(200..300).contains(&status) {
            return Err(Failure::Status(status, body));
        }
        quick_xml::de::from_str(&body)
            .map_err(|e| Failure::Other(format!("the listing is not S3 XML: {e}")))
    }

    /// The headers of a PUT, all of them signed into the presigned URL.
    fn put_headers(
        &self,
        obj: &Object,
        md5: &[u8; 16],
    ) -> Result<reqwest::header::HeaderMap, reqwest::header::InvalidHeaderValue> {
        use base64::Engine;
        use reqwest::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(obj.mime)?);
        h.insert(CACHE_CONTROL, HeaderValue::from_str(obj.cache_control)?);
        h.insert("x-amz-meta-blake3", HeaderValue::from_str(obj.hash)?);
        let md5 = base64::engine::general_purpose::STANDARD.encode(md5);
        h.insert("content-md5", HeaderValue::from_str(&md5)?);
        if let Some(acl) = &self.acl {
            h.insert("x-amz-acl", HeaderValue::from_str(acl)?);
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_prefer_imglift_names_and_need_both() {
        let env = |k: &str| match k {
            "IMGLIFT_ACCESS_KEY_ID" => Some("ours".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("theirs".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("s".to_string()),
            _ => None,
        };
        assert_eq!(
            credentials(&env).unwrap(),
            ("ours".into(), "s".into(), None)
        );
        let none = |_: &str| None;
        let err = credentials(&none).unwrap_err().to_string();
        assert!(err.contains("IMGLIFT_ACCESS_KEY_ID"), "{err}");
    }

    #[test]
    fn redact_covers_every_spelling_of_a_secret_and_url_queries() {
        let token = "IQoJb3/Sess+Tok==";
        let secrets = vec!["wJalrXUtnFEMI K7MDENG".to_string(), token.to_string()];
        for text in [
            "raw IQoJb3/Sess+Tok== end",
            "X-Amz-Security-Token=IQoJb3%2FSess%2BTok%3D%3D&x=1",
            "lower IQoJb3%2fSess%2bTok%3d%3d",
            "twice IQoJb3%252FSess%252BTok%253D%253D",
            "json IQoJb3\\/Sess+Tok==",
            "form wJalrXUtnFEMI+K7MDENG and wJalrXUtnFEMI%20K7MDENG",
            "base64 SVFvSmIzL1Nlc3MrVG9rPT0= and SVFvSmIzL1Nlc3MrVG9rPT0",
            "url-safe base64 SVFvSmIzL1Nlc3MrVG9rPT0 d0phbHJYVXRuRkVNSSBLN01ERU5H",
        ] {
            let shown = redact(text, &secrets);
            for leak in [
                "IQoJb3",
                "Sess",
                "wJalrXUtnFEMI",
                "SVFvSmIzL1Nlc3MrVG9r",
                "d0phbHJYVXRuRkVNSSBLN01ERU5H",
            ] {
                assert!(!shown.contains(leak), "{text} -> {shown}");
            }
            assert!(shown.contains("***"), "{text} -> {shown}");
        }
        // Short values are never treated as secrets; other text is kept.
        assert_eq!(redact("a b c", &["a".into()]), "a b c");
        let url = "PUT https://s3.example.com/b/k.png?X-Amz-Signature=abc&X-Amz-Credential=AK (x)";
        assert_eq!(redact(url, &[]), "PUT https://s3.example.com/b/k.png?… (x)");
        assert_eq!(redact("see http://h/p#frag", &[]), "see http://h/p?…");
        assert_eq!(redact("httpx and http:", &[]), "httpx and http:");
    }

    #[test]
    fn only_the_md5_as_etag_confirms_a_put_unless_the_object_is_kms_or_customer_encrypted() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let md5 = "9e107d9d372bb6826bd81d3542a419d6";
        let answer = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            put_unconfirmed(&h, md5)
        };
        assert_eq!(
            answer(&[("etag", "\"9e107d9d372bb6826bd81d3542a419d6\"")]),
            None
        );
        assert_eq!(
            answer(&[("etag", "9E107D9D372BB6826BD81D3542A419D6")]),
            None
        );
        let other = answer(&[("etag", "\"d41d8cd98f00b204e9800998ecf8427e\"")]).unwrap();
        assert!(
            other.contains("ETag d41d8cd98f00b204e9800998ecf8427e, not the MD5 9e10"),
            "{other}"
        );
        let weak = answer(&[("etag", "W/\"9e107d9d372bb6826bd81d3542a419d6\"")]);
        assert!(weak.is_some());
        for none in [answer(&[]), answer(&[("etag", "\"\"")])] {
            assert!(none.unwrap().contains("without an ETag"));
        }
        // SSE-KMS and SSE-C objects: the ETag is not the MD5 (AWS documents it).
        let kms = ("x-amz-server-side-encryption", "aws:kms");
        assert_eq!(
            answer(&[kms, ("etag", "\"d41d8cd98f00b204e9800998ecf8427e\"")]),
            None
        );
        let sse_c = ("x-amz-server-side-encryption-customer-algorithm", "AES256");
        assert_eq!(
            answer(&[sse_c, ("etag", "\"d41d8cd98f00b204e9800998ecf8427e\"")]),
            None
        );
        // SSE-S3 (AES256, S3's default) keeps the MD5 as ETag.
        let s3 = ("x-amz-server-side-encryption", "AES256");
        assert!(answer(&[s3, ("etag", "\"d41d8cd98f00b204e9800998ecf8427e\"")]).is_some());
    }

    #[test]
    fn a_listing_page_gives_each_key_its_size_and_unquoted_etag() {
        // The shape of AWS's documented ListObjectsV2 answer (R2 answers the same).
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>blog</Name><Prefix/><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <IsTruncated>false</IsTruncated>
  <Contents><Key>a/my-image.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
  <Contents><Key>big.png</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag><Size>9</Size>
    <StorageClass>STANDARD</StorageClass></Contents>
</ListBucketResult>"#;
        let page: s3::serde_types::ListBucketResult = quick_xml::de::from_str(xml).unwrap();
        let keys: HashMap<String, Listed> = listed(page.contents).collect();
        assert_eq!(
            keys["a/my-image.jpg"],
            Listed {
                size: 434234,
                etag: Some("fba9dede5f27731c9771645a39863328".into())
            }
        );
        assert_eq!(
            keys["big.png"].etag.as_deref(),
            Some("3858f62230ac3c915f300c664312c11f-9")
        );
    }

    #[test]
    fn error_code_is_read_from_the_xml_body() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code></Error>";
        assert_eq!(error_code(body), "SignatureDoesNotMatch");
        assert_eq!(error_code("<Error></Error>"), "");
        assert_eq!(
            describe(&Failure::Status(403, body.into())),
            "HTTP 403 SignatureDoesNotMatch"
        );
        assert_eq!(
            describe(&Failure::Status(500, String::new())),
            "HTTP 500 (the store failed)"
        );
    }

    #[test]
    fn a_failure_says_the_servers_code_and_text_or_what_the_status_means() {
        let r2 = "<?xml version=\"1.0\"?><Error><Code>NotImplemented</Code>\
                  <Message>Header 'x-amz-acl' with value 'public-read' not implemented</Message></Error>";
        assert_eq!(
            describe(&Failure::Status(501, r2.into())),
            "HTTP 501 NotImplemented: Header 'x-amz-acl' with value 'public-read' not implemented"
        );
        assert_eq!(
            describe(&Failure::Status(400, String::new())),
            "HTTP 400 (the store found the request malformed)"
        );
    }
}
