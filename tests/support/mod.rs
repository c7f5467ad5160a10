//! What every integration-test crate (`tests/cli`, `tests/tools`, `tests/s3`) shares: a fixture
//! site copied into a temporary folder ([`Site`]), the built `imglift` run in a clean,
//! deterministic environment ([`run_imglift`], [`Run`]), and snapshots of folders compared file
//! by file ([`snapshot`], [`assert_same_tree`]), and runs on a real pseudo-terminal ([`pty`]).
//!
//! Each crate includes it with `#[path = "../support/mod.rs"] mod support;` (tools through its
//! own `support.rs`, which adds the real tools and the HTML of a generated site). Crate-specific
//! pieces stay in their crate: the S3 server in `tests/s3/server.rs`, `require(tool)` in
//! `tests/tools/support.rs`, the expected contents of each fixture in `tests/cli/sites.rs`.
//! Nothing here talks to the network.

// Each crate uses only part of this module.
#![allow(dead_code, unused_imports)]

#[cfg(unix)]
pub mod pty;
mod run;
mod site;
mod tree;

pub use run::{dump, imglift_command, remove_imglift_env, run_imglift, run_ok, Run};
#[cfg(unix)]
pub use site::set_mode;
pub use site::{copy_tree, fixture_copy, read, read_string, symlink, write, Site};
pub use tree::{assert_bytes_kept, assert_same_bytes, assert_same_tree, snapshot, FileState, Tree};

use std::path::PathBuf;

/// The default public URL of every fixture and of [`Site::empty`].
pub const PUBLIC_URL: &str = "https://img.example.com";

/// This repository.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture folder of this repository.
pub fn fixtures() -> PathBuf {
    repo().join("fixtures")
}

/// Bytes of a real image from the fixtures (`hugo/static/img/diagram.png` → its bytes).
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    read(&fixtures().join(rel))
}

/// Decode `%XX` escapes (for comparing a URL's file name with a file on disk).
pub fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

/// [`percent_decode`], as text (invalid UTF-8 replaced).
pub fn percent_decode_lossy(s: &str) -> String {
    String::from_utf8_lossy(&percent_decode(s)).into_owned()
}

/// The keys of the lifted URLs (`PUBLIC_URL/…`) in a page, decoded.
pub fn lifted_keys(text: &str) -> Vec<String> {
    text.match_indices(PUBLIC_URL)
        .map(|(i, _)| {
            let rest = &text[i + PUBLIC_URL.len() + 1..];
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>' | ','))
                .unwrap_or(rest.len());
            percent_decode_lossy(&rest[..end])
        })
        .collect()
}

/// The entry lines of a manifest (`imglift.lock`; comments skipped), split into their
/// tab-separated fields: key, blake3, size, content type, source, uploaded.
pub fn manifest_entries(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// A manifest's text with each entry's upload date (its last field) replaced by `YYYY-MM-DD`,
/// after checking it is one: for comparing manifests written by different runs, which may fall
/// on different days (a run across midnight).
#[track_caller]
pub fn manifest_without_dates(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() || l.starts_with('#') {
                return format!("{l}\n");
            }
            let (rest, date) = l.rsplit_once('\t').expect("an entry line has fields");
            let b = date.as_bytes();
            assert!(
                b.len() == 10
                    && b[4] == b'-'
                    && b[7] == b'-'
                    && b.iter()
                        .enumerate()
                        .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit()),
                "upload date `{date}` in `{l}`"
            );
            format!("{rest}\tYYYY-MM-DD\n")
        })
        .collect()
}
