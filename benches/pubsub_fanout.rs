//! PUBLISH fan-out: S subscribers on one channel, one publisher sending N messages in
//! pipelined batches; reports messages delivered per second (N * S / elapsed).
//!
//! `cargo bench --bench pubsub_fanout -- <host:port> [subscribers] [messages]`; run by
//! benches/alternate.sh against Rill and redis-server alternately.

use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PAYLOAD: &[u8] = b"0123456789abcdef0123456789abcdef";

/// RESP2 length of one delivered message: *3 $7 message $<ch> ch $<len> payload.
fn message_frame_len(channel: &str) -> usize {
    let bulk = |n: usize| 1 + n.to_string().len() + 2 + n + 2;
    4 + bulk(7) + bulk(channel.len()) + bulk(PAYLOAD.len())
}

async fn subscriber(
    addr: String,
    channel: &'static str,
    expect: usize,
    ready: tokio::sync::mpsc::Sender<()>,
) -> usize {
    let mut s = TcpStream::connect(&addr).await.expect("connect");
    let cmd = format!(
        "*2\r\n$9\r\nSUBSCRIBE\r\n${}\r\n{}\r\n",
        channel.len(),
        channel
    );
    s.write_all(cmd.as_bytes()).await.expect("subscribe");
    // The confirmation: *3 $9 subscribe $<ch> ch :1
    let confirm =
        4 + (1 + 1 + 2 + 9 + 2) + (1 + channel.len().to_string().len() + 2 + channel.len() + 2) + 4;
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < confirm {
        got += s.read(&mut buf).await.expect("read");
    }
    ready.send(()).await.expect("ready");
    let mut bytes = got - confirm;
    let total = expect * message_frame_len(channel);
    while bytes < total {
        let n = s.read(&mut buf).await.expect("read");
        assert!(n > 0, "server closed the subscriber");
        bytes += n;
    }
    bytes
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(addr) = args.first().cloned() else {
        eprintln!("usage: pubsub_fanout <host:port> [subscribers] [messages]");
        return;
    };
    let subs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let channel = "fanout";
        let (tx, mut rx) = tokio::sync::mpsc::channel(subs);
        let mut tasks = Vec::new();
        for _ in 0..subs {
            tasks.push(tokio::spawn(subscriber(
                addr.clone(),
                channel,
                n,
                tx.clone(),
            )));
        }
        for _ in 0..subs {
            rx.recv().await.expect("subscriber ready");
        }
        let mut p = TcpStream::connect(&addr).await.expect("connect");
        let one = format!(
            "*3\r\n$7\r\nPUBLISH\r\n${}\r\n{}\r\n${}\r\n{}\r\n",
            channel.len(),
            channel,
            PAYLOAD.len(),
            std::str::from_utf8(PAYLOAD).expect("ascii")
        );
        let batch = 100;
        let start = Instant::now();
        let mut buf = vec![0u8; 64 * 1024];
        let mut sent = 0;
        while sent < n {
            let k = batch.min(n - sent);
            p.write_all(one.repeat(k).as_bytes())
                .await
                .expect("publish");
            // Each reply is ":<subs>\r\n".
            let want = k * (1 + subs.to_string().len() + 2);
            let mut got = 0;
            while got < want {
                got += p.read(&mut buf).await.expect("read");
            }
            sent += k;
        }
        for t in tasks {
            t.await.expect("subscriber");
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "subscribers={subs} messages={n} elapsed={secs:.3}s delivered_per_sec={:.0}",
            (n * subs) as f64 / secs
        );
    });
}
