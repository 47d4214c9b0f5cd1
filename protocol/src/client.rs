//! Reply decoding for clients (replica links, sentinel, benches), built on the
//! `redis-protocol` crate's RESP3 decoder, which also parses RESP2 replies.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp3::decode::complete::decode_bytes_mut;
pub use redis_protocol::resp3::types::BytesFrame as Frame;

pub use redis_protocol::error::RedisProtocolError;

/// Decodes one reply frame from `buf`, consuming it. `Ok(None)` = incomplete.
pub fn decode_reply(buf: &mut BytesMut) -> Result<Option<Frame>, RedisProtocolError> {
    match decode_bytes_mut(buf)? {
        Some((frame, _, _)) => Ok(Some(frame)),
        None => Ok(None),
    }
}

/// Encodes argv as a RESP multibulk request.
pub fn encode_request(argv: &[Bytes], out: &mut BytesMut) {
    use bytes::BufMut;
    let mut b = itoa::Buffer::new();
    out.put_u8(b'*');
    out.put_slice(b.format(argv.len()).as_bytes());
    out.put_slice(b"\r\n");
    for a in argv {
        out.put_u8(b'$');
        out.put_slice(b.format(a.len()).as_bytes());
        out.put_slice(b"\r\n");
        out.put_slice(a);
        out.put_slice(b"\r\n");
    }
}
