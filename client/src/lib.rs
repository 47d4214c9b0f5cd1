//! # Layout
//! - [`Client`]: a minimal async RESP client over TCP (pipelined requests, RESP3 frames),
//!   used by benches and embedding users; replica links and sentinel will build on it.

use bytes::{Bytes, BytesMut};
pub use redis_protocol_frame::Frame;
use rill_protocol::client::{decode_reply, encode_request};
use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod redis_protocol_frame {
    pub use rill_protocol::client::Frame;
}

/// Client errors.
#[derive(Debug, Error)]
pub enum ClientError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol: {0}")]
    Protocol(String),
    #[error("connection closed")]
    Closed,
}

/// An async RESP connection.
pub struct Client {
    stream: TcpStream,
    rbuf: BytesMut,
    wbuf: BytesMut,
}

impl Client {
    /// Connects to `addr` (host:port).
    pub async fn connect(addr: &str) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            rbuf: BytesMut::with_capacity(16 * 1024),
            wbuf: BytesMut::new(),
        })
    }

    /// The local address of the connection (what the peer sees as our address).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.stream.local_addr()
    }

    /// Reads the next frame without sending anything (pub/sub messages).
    pub async fn read_frame(&mut self) -> Result<Frame, ClientError> {
        let mut v = self.flush_and_read(1).await?;
        Ok(v.pop().expect("invariant: one reply was read"))
    }

    /// Queues a request without sending it (pipelining).
    pub fn queue(&mut self, argv: &[&[u8]]) {
        let argv: Vec<Bytes> = argv.iter().map(|a| Bytes::copy_from_slice(a)).collect();
        encode_request(&argv, &mut self.wbuf);
    }

    /// Sends queued requests and reads `n` replies.
    pub async fn flush_and_read(&mut self, n: usize) -> Result<Vec<Frame>, ClientError> {
        self.stream.write_all(&self.wbuf).await?;
        self.wbuf.clear();
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match decode_reply(&mut self.rbuf).map_err(|e| ClientError::Protocol(e.to_string()))? {
                Some(f) => out.push(f),
                None => {
                    if self.stream.read_buf(&mut self.rbuf).await? == 0 {
                        return Err(ClientError::Closed);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Sends one command and returns its reply.
    pub async fn cmd(&mut self, argv: &[&[u8]]) -> Result<Frame, ClientError> {
        self.queue(argv);
        let mut v = self.flush_and_read(1).await?;
        Ok(v.pop().expect("invariant: one reply was read"))
    }
}
