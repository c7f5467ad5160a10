//! The store: where objects go. A small trait so that the local folder, S3 and R2 slot in alike
//! (the config key that chooses one is still `target:`).
//!
//! A store's `put` returns only once the object is confirmed with the right bytes; the pipeline
//! relies on that to rewrite a reference only after its object is really there. Stores are
//! called from several threads at once (see `upload.rs`).

mod dir;
mod s3;

use std::collections::HashMap;
use std::path::Path;

pub use dir::DirStore;
pub use s3::S3Store;

use crate::config::{Config, TargetConfig};

/// One object to store.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    pub key: &'a str,
    pub path: &'a Path,
    pub size: u64,
    /// blake3 hex of the bytes that must arrive.
    pub hash: &'a str,
    pub mime: &'a str,
    pub cache_control: &'a str,
    /// MD5 of the bytes, when the hash stage computed it (a store that needs one and finds
    /// `None` computes it itself).
    pub md5: Option<[u8; 16]>,
    /// The bytes themselves, when the hash stage just read and hashed them (a store sends these
    /// instead of reading the file again); `None`: the store reads the file and checks its hash.
    pub body: Option<&'a bytes::Bytes>,
}

/// An object as a listing of the store shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub size: u64,
    /// The ETag, without quotes (an S3 store's is the MD5 hex of a single-part object).
    pub etag: Option<String>,
}

impl Listed {
    /// Whether the listing alone shows that the object holds `obj`'s bytes: the same size and
    /// an ETag that is their MD5 (what a single PUT of them answers; a multipart or encrypted
    /// object's ETag is something else, and then a HEAD decides).
    pub fn proves(&self, obj: &Object) -> bool {
        match (&self.etag, obj.md5) {
            (Some(etag), Some(md5)) => {
                self.size == obj.size && etag.eq_ignore_ascii_case(&crate::hash::hex_md5(&md5))
            }
            _ => false,
        }
    }
}

/// What the store already holds under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Absent,
    Same,
    Different,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// This object failed; others may still succeed.
    #[error("{0}")]
    Failed(String),
    /// Nothing will succeed (bad credentials, missing bucket): stop sending.
    #[error("{0}")]
    Fatal(String),
}

/// The store cannot be opened (no credentials, a bucket name the client refuses, no network
/// runtime): nothing was sent.
#[derive(Debug, thiserror::Error)]
#[error("target: {0}")]
pub struct OpenError(pub String);

impl From<crate::net::NetError> for OpenError {
    fn from(e: crate::net::NetError) -> OpenError {
        OpenError(e.0)
    }
}

pub trait Store: Send + Sync {
    /// A short description for messages, never containing a secret.
    fn describe(&self) -> String;
    /// Whether the key already holds these bytes (asked only when the manifest does not know).
    fn probe(&self, obj: &Object) -> Result<Probe, StoreError>;
    /// Whether an object the manifest lists is still there, when the store can tell without a
    /// request (a local folder); `None` when asking would cost one, and the manifest is trusted.
    fn still_there(&self, _obj: &Object) -> Option<bool> {
        None
    }
    /// Store the object; return only once it is confirmed with the right bytes.
    fn put(&self, obj: &Object) -> Result<(), StoreError>;
    /// The keys (with sizes and ETags) the store holds, if listing them takes at most
    /// `max_pages` requests; `None` when listing is not worth it, and then each new object is
    /// probed.
    fn list(&self, _max_pages: usize) -> Result<Option<HashMap<String, Listed>>, StoreError> {
        Ok(None)
    }
    /// Make every object put so far durable; called once, after the last put and before the
    /// manifest records them.
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Build the configured store; `env` supplies the credentials.
pub fn from_config(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn Store>, OpenError> {
    match &config.target {
        TargetConfig::Dir(dir) => Ok(Box::new(DirStore::new(dir.clone()))),
        TargetConfig::S3(s3) => Ok(Box::new(S3Store::new(s3, env)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_proves_an_object_only_by_its_size_and_the_md5_as_etag() {
        let md5 = md5::compute(b"picture").0;
        let hex = crate::hash::hex_md5(&md5);
        let obj = Object {
            key: "k.png",
            path: Path::new("k.png"),
            size: 7,
            hash: "h",
            mime: "image/png",
            cache_control: "",
            md5: Some(md5),
            body: None,
        };
        let listed = |size, etag: Option<&str>| Listed {
            size,
            etag: etag.map(str::to_string),
        };
        assert!(listed(7, Some(&hex)).proves(&obj));
        assert!(listed(7, Some(&hex.to_uppercase())).proves(&obj));
        assert!(!listed(8, Some(&hex)).proves(&obj), "another size");
        assert!(
            !listed(7, Some(&format!("{hex}-2"))).proves(&obj),
            "multipart"
        );
        assert!(!listed(7, None).proves(&obj));
        let without_md5 = Object { md5: None, ..obj };
        assert!(!listed(7, Some(&hex)).proves(&without_md5));
    }
}
