//! A loopback TCP proxy that adds distance, not a bandwidth limit: every chunk read in either
//! direction is written on after a fixed one-way delay, scheduled by its arrival time, so chunks
//! in flight overlap (pipelined) instead of waiting for each other. A new connection also waits
//! one round trip before its first byte goes through, as a TCP handshake with a distant server
//! does. Used by `scripts/bench-s3.sh` to put the tests' S3 server "30 ms away" (the real
//! distance to R2), where connection reuse and the number of requests in flight decide.
//! (Plain HTTP: the one or two more round trips of a TLS handshake are not modelled.)
//!
//! Usage: cargo run --release --example latency_proxy -- UPSTREAM_HOST:PORT ONE_WAY_MS
//! Prints `endpoint=http://127.0.0.1:PORT`, then serves until its standard input closes, and
//! then prints on stderr how many connections it carried.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: latency_proxy UPSTREAM_HOST:PORT ONE_WAY_MS";
    let upstream: SocketAddr = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let one_way =
        Duration::from_millis(args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let connections = Arc::new(AtomicUsize::new(0));
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
    println!("endpoint=http://{}", listener.local_addr()?);
    let counted = connections.clone();
    runtime.spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(carry(client, upstream, one_way));
        }
    });
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    eprintln!(
        "latency proxy: {} connections, {} ms each way",
        connections.load(Ordering::Relaxed),
        one_way.as_millis()
    );
    runtime.shutdown_background();
    Ok(())
}

/// One client connection: connect upstream, then carry each direction with the delay.
async fn carry(client: TcpStream, upstream: SocketAddr, one_way: Duration) {
    // The handshake's round trip: nothing the client sends arrives before it is over.
    let opened = Instant::now() + 2 * one_way;
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        delayed(client_read, server_write, one_way, opened),
        delayed(server_read, client_write, one_way, opened),
    );
}

/// Read chunks as they come and write each one `one_way` after it arrived (never before
/// `not_before`); an end of stream is passed on with the same delay.
async fn delayed(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    one_way: Duration,
    not_before: Instant,
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf).await {
            let due = Instant::now().max(not_before) + one_way;
            if tx.send((due, buf[..n].to_vec())).is_err() {
                break;
            }
        }
        let due = Instant::now().max(not_before) + one_way;
        let _ = tx.send((due, Vec::new()));
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if chunk.is_empty() {
                break;
            }
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
