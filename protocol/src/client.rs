//! Reply decoding for clients (replica links, sentinel, benches), built on the
//! `redis-protocol` crate's RESP3 decoder, which also parses RESP2 replies.

use bytes::{Bytes, BytesMut};
use redis_protocol::resp3::decode::complete::decode_bytes_mut;
pub use redis_protocol::resp3::types::BytesFrame as Frame;

pub use redis_protocol::error::RedisProtocolError;

/// Decodes one reply frame from `buf`, consuming it. `Ok(None)` = incomplete.
///
/// RESP2 and RESP3 share `+ - : $ *` but not their nulls (`$-1`, `*-1` are RESP2 only), so
/// frames starting with those bytes go through the RESP2 decoder and are converted; the
/// RESP3-only types go through the RESP3 decoder.
pub fn decode_reply(buf: &mut BytesMut) -> Result<Option<Frame>, RedisProtocolError> {
    match buf.first() {
        None => Ok(None),
        Some(b'+' | b'-' | b':' | b'$' | b'*') => {
            match redis_protocol::resp2::decode::decode_bytes_mut(buf)? {
                Some((frame, _, _)) => Ok(Some(from_resp2(frame))),
                None => Ok(None),
            }
        }
        Some(_) => match decode_bytes_mut(buf)? {
            Some((frame, _, _)) => Ok(Some(frame)),
            None => Ok(None),
        },
    }
}

fn from_resp2(f: redis_protocol::resp2::types::BytesFrame) -> Frame {
    use redis_protocol::resp2::types::BytesFrame as F2;
    match f {
        F2::SimpleString(data) => Frame::SimpleString {
            data,
            attributes: None,
        },
        F2::Error(data) => Frame::SimpleError {
            data,
            attributes: None,
        },
        F2::Integer(data) => Frame::Number {
            data,
            attributes: None,
        },
        F2::BulkString(data) => Frame::BlobString {
            data,
            attributes: None,
        },
        F2::Array(items) => Frame::Array {
            data: items.into_iter().map(from_resp2).collect(),
            attributes: None,
        },
        F2::Null => Frame::Null,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_nulls_and_resp3_types() {
        let mut b = BytesMut::from(&b"*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n_\r\n,1.5\r\n"[..]);
        let f = decode_reply(&mut b).unwrap().unwrap();
        match f {
            Frame::Array { data, .. } => {
                assert_eq!(data.len(), 4);
                assert!(matches!(data[1], Frame::Null));
                assert!(matches!(data[3], Frame::Null));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode_reply(&mut b).unwrap().unwrap(),
            Frame::Null
        ));
        assert!(matches!(
            decode_reply(&mut b).unwrap().unwrap(),
            Frame::Double { .. }
        ));
        assert!(b.is_empty());
        let mut partial = BytesMut::from(&b"$5\r\nhel"[..]);
        assert!(decode_reply(&mut partial).unwrap().is_none());
    }
}
