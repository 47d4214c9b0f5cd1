//! The Kafka listener's accept loop and the per-connection task: read frames, dispatch
//! them in order, write responses in request order (clients pipeline and match responses
//! by position as much as by correlation_id).

use super::routes::dispatch;
use super::Broker;
use bytes::BytesMut;
use rill_protocol::kafka::{decode_frame, parse_request_header, MAX_FRAME};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

tokio::task_local! {
    /// The peer of the connection whose request is running (JoinGroup's client_host).
    pub static PEER: SocketAddr;
}

/// Accepts Kafka connections until shutdown.
pub async fn accept_loop(broker: Arc<Broker>, listener: TcpListener) {
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("Kafka accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = broker.shared.shutdown.notified() => return,
        };
        if broker.shared.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(broker.clone(), stream, peer));
    }
}

/// Serves one connection until the peer closes, a frame is malformed, or shutdown.
pub async fn serve(broker: Arc<Broker>, mut stream: TcpStream, peer: SocketAddr) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut out = BytesMut::new();
    loop {
        // Every complete frame already buffered is answered before the next read, and
        // the answers go out in one write.
        loop {
            let mut frame = match decode_frame(&mut buf, MAX_FRAME) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("Kafka client {peer}: {e}; closing the connection");
                    return;
                }
            };
            let header = match parse_request_header(&mut frame) {
                Ok(h) => h,
                Err(e) => {
                    // Answers to the requests before this one still go out.
                    tracing::warn!("Kafka client {peer}: {e}; closing the connection");
                    let _ = stream.write_all(&out).await;
                    return;
                }
            };
            // A Fetch may park for max_wait_ms: answers to the requests before it go out
            // first, so a pipelined quick request never waits behind a long poll.
            if header.api_key == kafka_protocol::messages::ApiKey::Fetch && !out.is_empty() {
                if stream.write_all(&out).await.is_err() {
                    return;
                }
                out.clear();
            }
            match PEER
                .scope(peer, dispatch(broker.clone(), header, frame))
                .await
            {
                Ok(Some(resp)) => out.extend_from_slice(&resp),
                Ok(None) => {}
                Err(e) => {
                    // Kafka closes too: an unknown version or a body that does not parse
                    // leaves nothing sensible to answer.
                    tracing::warn!("Kafka client {peer}: {e}; closing the connection");
                    let _ = stream.write_all(&out).await;
                    return;
                }
            }
        }
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if broker.shared.shutting_down.load(Ordering::Relaxed) {
            return;
        }
        tokio::select! {
            r = stream.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = broker.shared.shutdown.notified() => return,
        }
    }
}
