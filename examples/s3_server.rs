//! The tests' S3 server (s3s + s3s-fs, SigV4 checked) as a standalone process on 127.0.0.1, for
//! benchmarks that compare imglift with other clients (rclone) on the same server.
//!
//! Usage: cargo run --release --example s3_server -- BUCKET…
//! Prints `endpoint=http://127.0.0.1:PORT`, `access_key=…`, `secret_key=…` and `root=DIR`, then
//! serves until its standard input closes.

#[path = "../tests/s3/server.rs"]
mod server;

use std::io::Read;

fn main() -> anyhow::Result<()> {
    let buckets: Vec<String> = std::env::args().skip(1).collect();
    let refs: Vec<&str> = buckets.iter().map(String::as_str).collect();
    let s3 = server::TestS3::start(&refs)?;
    println!("endpoint={}", s3.endpoint);
    println!("access_key={}", server::ACCESS_KEY);
    println!("secret_key={}", server::SECRET_KEY);
    println!("root={}", s3.root.path().display());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let stats = s3.stats.by_method();
    eprintln!(
        "requests by method: {stats:?}; connections: {}",
        s3.stats.connections()
    );
    // What each client sends with a PUT (header names, payload-hash mode), to compare like
    // with like.
    let mut shown = std::collections::BTreeSet::new();
    for seen in s3.stats.seen().iter().filter(|s| s.method == "PUT") {
        let header = |name: &str| {
            seen.headers
                .iter()
                .find(|(k, _)| k == name)
                .map_or(String::from("-"), |(_, v)| v.clone())
        };
        let agent = header("user-agent");
        let agent = agent.split('/').next().unwrap_or("-").to_string();
        if shown.insert(agent.clone()) {
            let mut names: Vec<&str> = seen.headers.iter().map(|(k, _)| k.as_str()).collect();
            names.sort();
            let sha = header("x-amz-content-sha256");
            eprintln!(
                "PUT from {agent}: x-amz-content-sha256={} headers={names:?}",
                &sha[..sha.len().min(20)]
            );
        }
    }
    Ok(())
}
