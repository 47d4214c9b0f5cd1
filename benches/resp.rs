//! RESP codec micro benches: decoding typical requests (single, pipelined, inline, large)
//! and encoding typical replies in RESP2 and RESP3, plus the client-side reply decoder.
//!
//! `cargo bench --bench resp` (add `-- <filter>` to pick a group).

use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rill_protocol::client::{decode_reply, encode_request};
use rill_protocol::{encode, Reply, RequestDecoder, RequestLimits, RespVersion};

fn request(argv: &[&[u8]]) -> BytesMut {
    let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
    let mut out = BytesMut::new();
    encode_request(&argv, &mut out);
    out
}

/// Decodes every request in `input`; returns how many there were.
fn decode_all(input: &BytesMut) -> usize {
    let mut buf = input.clone();
    let mut dec = RequestDecoder::new();
    let limits = RequestLimits::default();
    let mut n = 0;
    while let Some(argv) = dec.decode(&mut buf, &limits).expect("valid request") {
        black_box(&argv);
        n += 1;
    }
    n
}

fn bench_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_request");
    let value = vec![b'x'; 100];
    let cases: Vec<(&str, BytesMut)> = vec![
        ("get", request(&[b"GET", b"key:000000123456"])),
        ("set_100b", request(&[b"SET", b"key:000000123456", &value])),
        ("inline_ping", BytesMut::from(&b"PING\r\n"[..])),
        ("mset_10", {
            let mut argv: Vec<&[u8]> = vec![b"MSET"];
            for _ in 0..10 {
                argv.push(b"key:000000123456");
                argv.push(&value);
            }
            request(&argv)
        }),
        ("pipeline_16_get", {
            let mut b = BytesMut::new();
            for _ in 0..16 {
                b.extend_from_slice(&request(&[b"GET", b"key:000000123456"]));
            }
            b
        }),
        (
            "set_64k",
            request(&[b"SET", b"big", &vec![b'v'; 64 * 1024]]),
        ),
    ];
    for (name, input) in &cases {
        g.throughput(Throughput::Bytes(input.len() as u64));
        g.bench_function(*name, |b| b.iter(|| decode_all(black_box(input))));
    }
    // A request arriving in 16-byte pieces: the stateful decoder must not rescan.
    let input = request(&[b"SET", b"key:000000123456", &value]);
    g.bench_function("set_100b_in_16b_reads", |b| {
        b.iter(|| {
            let mut dec = RequestDecoder::new();
            let limits = RequestLimits::default();
            let mut buf = BytesMut::new();
            let mut got = None;
            for chunk in input.chunks(16) {
                buf.extend_from_slice(chunk);
                if let Some(argv) = dec.decode(&mut buf, &limits).expect("valid") {
                    got = Some(argv);
                }
            }
            black_box(got.expect("decoded"))
        })
    });
    g.finish();
}

fn bench_encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_reply");
    let bulk = Reply::Bulk(Bytes::from(vec![b'x'; 100]));
    let lrange = Reply::Array(
        (0..100)
            .map(|i| Reply::Bulk(Bytes::from(format!("element:{i}"))))
            .collect(),
    );
    let hgetall = Reply::Map(
        (0..50)
            .map(|i| {
                (
                    Reply::Bulk(Bytes::from(format!("field:{i}"))),
                    Reply::Bulk(Bytes::from(format!("value:{i}"))),
                )
            })
            .collect(),
    );
    let withscores = Reply::Array(
        (0..50)
            .map(|i| {
                Reply::Array(vec![
                    Reply::Bulk(Bytes::from(format!("member:{i}"))),
                    Reply::Double(i as f64 * 1.5),
                ])
            })
            .collect(),
    );
    let cases: Vec<(&str, Reply)> = vec![
        ("ok", Reply::ok()),
        ("int", Reply::Int(1234567)),
        ("null", Reply::Null),
        ("bulk_100b", bulk),
        (
            "error",
            Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value"),
        ),
        ("array_100_bulks", lrange),
        ("map_50", hgetall),
        ("zrange_withscores_50", withscores),
        ("double", Reply::Double(1234.5678901234567)),
    ];
    for (name, reply) in &cases {
        for (v, vname) in [(RespVersion::Resp2, "resp2"), (RespVersion::Resp3, "resp3")] {
            g.bench_function(format!("{name}/{vname}"), |b| {
                b.iter_batched_ref(
                    || BytesMut::with_capacity(8 * 1024),
                    |out| encode(black_box(reply), v, out),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    g.finish();
}

fn bench_client_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_reply");
    let mut array = BytesMut::new();
    encode(
        &Reply::Array(
            (0..100)
                .map(|i| Reply::Bulk(Bytes::from(format!("element:{i}"))))
                .collect(),
        ),
        RespVersion::Resp2,
        &mut array,
    );
    let cases: Vec<(&str, BytesMut)> = vec![
        ("ok", BytesMut::from(&b"+OK\r\n"[..])),
        ("bulk_100b", {
            let mut b = BytesMut::new();
            encode(
                &Reply::Bulk(Bytes::from(vec![b'x'; 100])),
                RespVersion::Resp2,
                &mut b,
            );
            b
        }),
        ("array_100_bulks", array),
    ];
    for (name, input) in &cases {
        g.bench_function(*name, |b| {
            b.iter_batched(
                || input.clone(),
                |mut buf| black_box(decode_reply(&mut buf).expect("valid").expect("complete")),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench_decode, bench_encode, bench_client_decode);
criterion_main!(benches);
