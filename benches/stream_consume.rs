//! Consumer-group consumption rate: N entries XADDed with known IDs, then one consumer
//! reads them with `XREADGROUP ... COUNT 100 STREAMS s >` and acknowledges each batch
//! with XACK; reports entries consumed (read + acked) per second.
//!
//! `cargo bench --bench stream_consume -- <host:port> [entries]`; run by
//! benches/alternate.sh against Rill and redis-server alternately.

use rill_client::Client;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(addr) = args.first().cloned() else {
        eprintln!("usage: stream_consume <host:port> [entries]");
        return;
    };
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut c = Client::connect(&addr).await.expect("connect");
        c.cmd(&[b"DEL", b"s"]).await.expect("del");
        let ids: Vec<String> = (1..=n).map(|i| format!("1-{i}")).collect();
        for chunk in ids.chunks(1000) {
            for id in chunk {
                c.queue(&[b"XADD", b"s", id.as_bytes(), b"field", b"value-0123456789"]);
            }
            c.flush_and_read(chunk.len()).await.expect("xadd");
        }
        c.cmd(&[b"XGROUP", b"CREATE", b"s", b"g", b"0"])
            .await
            .expect("xgroup");
        let start = Instant::now();
        for chunk in ids.chunks(100) {
            c.cmd(&[
                b"XREADGROUP",
                b"GROUP",
                b"g",
                b"c",
                b"COUNT",
                b"100",
                b"STREAMS",
                b"s",
                b">",
            ])
            .await
            .expect("xreadgroup");
            let mut ack: Vec<&[u8]> = vec![b"XACK", b"s", b"g"];
            ack.extend(chunk.iter().map(|id| id.as_bytes()));
            c.cmd(&ack).await.expect("xack");
        }
        let secs = start.elapsed().as_secs_f64();
        let pending = c.cmd(&[b"XPENDING", b"s", b"g"]).await.expect("xpending");
        println!(
            "entries={n} elapsed={secs:.3}s consumed_per_sec={:.0} pending_after={:?}",
            n as f64 / secs,
            format!("{pending:?}").chars().take(40).collect::<String>()
        );
    });
}
