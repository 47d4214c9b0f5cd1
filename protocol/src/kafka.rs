//! Kafka wire framing, sans-io: size-prefixed frames, the request header and response
//! frames with the right response header version.
//!
//! Message bodies are never written by hand: they come from the `kafka-protocol` crate.
//! This module only adds what that crate leaves to the caller: bounded framing, a header
//! parse that cannot panic on short input, and the ApiVersions header rule (always v0).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable};

/// Default frame limit (Kafka's `socket.request.max.bytes` is 100 MiB too).
pub const MAX_FRAME: usize = 100 * 1024 * 1024;

/// Framing and header errors. All of them end the connection: after a bad size or header
/// the byte stream cannot be resynchronised.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KafkaError {
    #[error("negative frame size {0}")]
    NegativeSize(i32),
    #[error("frame size {size} exceeds the limit of {limit} bytes")]
    FrameTooLarge { size: usize, limit: usize },
    #[error("request header too short ({0} bytes)")]
    ShortHeader(usize),
    #[error("unknown api_key {0}")]
    UnknownApiKey(i16),
    #[error("unsupported {api_key:?} v{api_version}")]
    Unsupported { api_key: ApiKey, api_version: i16 },
    #[error("bad request header: {0}")]
    Header(String),
    #[error("cannot decode {api_key:?} v{api_version} body: {reason}")]
    Body {
        api_key: ApiKey,
        api_version: i16,
        reason: String,
    },
    #[error("cannot encode {api_key:?} v{api_version} response: {reason}")]
    Encode {
        api_key: ApiKey,
        api_version: i16,
        reason: String,
    },
}

/// Takes one complete frame (without its 4-byte size) off the front of `buf`.
///
/// `Ok(None)` means more bytes are needed. The size is checked before anything is
/// buffered for it, so a peer cannot make us reserve more than `limit` bytes.
pub fn decode_frame(buf: &mut BytesMut, limit: usize) -> Result<Option<Bytes>, KafkaError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if size < 0 {
        return Err(KafkaError::NegativeSize(size));
    }
    let size = size as usize;
    if size > limit {
        return Err(KafkaError::FrameTooLarge { size, limit });
    }
    if buf.len() < 4 + size {
        // Room for what this frame still needs, 1 MiB at a time: a peer that announces
        // 100 MiB and sends nothing more holds 1 MiB, not 100.
        buf.reserve((4 + size - buf.len()).min(1 << 20));
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(size).freeze()))
}

/// A parsed request header; `frame` is left positioned at the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub api_key: ApiKey,
    pub api_version: i16,
    pub correlation_id: i32,
    pub client_id: Option<String>,
}

/// Parses the request header at the front of `frame` (header v1 or v2, as
/// `ApiKey::request_header_version` says for this api_version) and advances past it.
///
/// An api_key this crate does not know is an error: there is no way to know its header
/// version, so the caller closes the connection (Kafka does the same).
pub fn parse_request_header(frame: &mut Bytes) -> Result<Header, KafkaError> {
    if frame.len() < 8 {
        return Err(KafkaError::ShortHeader(frame.len()));
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let api_version = i16::from_be_bytes([frame[2], frame[3]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|_| KafkaError::UnknownApiKey(raw_key))?;
    let header_version = api_key.request_header_version(api_version);
    let h = RequestHeader::decode(frame, header_version)
        .map_err(|e| KafkaError::Header(e.to_string()))?;
    Ok(Header {
        api_key,
        api_version,
        correlation_id: h.correlation_id,
        client_id: h.client_id.map(|s| s.as_str().to_string()),
    })
}

/// Decodes a request body of type `T` at `api_version`.
pub fn decode_body<T: Decodable>(header: &Header, body: &mut Bytes) -> Result<T, KafkaError> {
    T::decode(body, header.api_version).map_err(|e| KafkaError::Body {
        api_key: header.api_key,
        api_version: header.api_version,
        reason: e.to_string(),
    })
}

/// Appends a complete response frame: size, response header (v0 or v1 from
/// `ApiKey::response_header_version`; ApiVersions is always v0) and `body` encoded at
/// `api_version`.
pub fn encode_response<T: Encodable>(
    api_key: ApiKey,
    api_version: i16,
    correlation_id: i32,
    body: &T,
    out: &mut BytesMut,
) -> Result<(), KafkaError> {
    let err = |e: &dyn std::fmt::Display| KafkaError::Encode {
        api_key,
        api_version,
        reason: e.to_string(),
    };
    let start = out.len();
    out.put_i32(0); // patched below
    let header_version = api_key.response_header_version(api_version);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(out, header_version)
        .map_err(|e| err(&e))?;
    if let Err(e) = body.encode(out, api_version) {
        out.truncate(start);
        return Err(err(&e));
    }
    let size = out.len() - start - 4;
    let size = i32::try_from(size).map_err(|_| KafkaError::FrameTooLarge {
        size,
        limit: i32::MAX as usize,
    })?;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse, MetadataRequest};
    use kafka_protocol::protocol::StrBytes;

    fn request_frame<T: Encodable>(key: ApiKey, version: i16, corr: i32, body: &T) -> BytesMut {
        let mut out = BytesMut::new();
        out.put_i32(0);
        RequestHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(corr)
            .with_client_id(Some(StrBytes::from_static_str("t")))
            .encode(&mut out, key.request_header_version(version))
            .unwrap();
        body.encode(&mut out, version).unwrap();
        let n = (out.len() - 4) as i32;
        out[..4].copy_from_slice(&n.to_be_bytes());
        out
    }

    #[test]
    fn frame_incomplete_then_complete() {
        let mut buf = BytesMut::from(&[0u8, 0, 0][..]);
        assert_eq!(decode_frame(&mut buf, MAX_FRAME), Ok(None));
        buf.put_u8(3);
        buf.put_slice(b"ab");
        assert_eq!(decode_frame(&mut buf, MAX_FRAME), Ok(None));
        buf.put_slice(b"cX");
        assert_eq!(
            decode_frame(&mut buf, MAX_FRAME),
            Ok(Some(Bytes::from_static(b"abc")))
        );
        assert_eq!(&buf[..], b"X");
    }

    #[test]
    fn frame_negative_and_oversized() {
        let mut buf = BytesMut::from(&(-1i32).to_be_bytes()[..]);
        assert_eq!(
            decode_frame(&mut buf, MAX_FRAME),
            Err(KafkaError::NegativeSize(-1))
        );
        let mut buf = BytesMut::from(&i32::MAX.to_be_bytes()[..]);
        assert!(matches!(
            decode_frame(&mut buf, MAX_FRAME),
            Err(KafkaError::FrameTooLarge { .. })
        ));
        // Nothing was reserved for the oversized frame.
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn header_v1_and_v2() {
        let mut f = request_frame(ApiKey::Metadata, 4, 7, &MetadataRequest::default());
        let mut frame = decode_frame(&mut f, MAX_FRAME).unwrap().unwrap();
        let h = parse_request_header(&mut frame).unwrap();
        assert_eq!(
            (h.api_key, h.api_version, h.correlation_id),
            (ApiKey::Metadata, 4, 7)
        );
        assert_eq!(h.client_id.as_deref(), Some("t"));
        let req: MetadataRequest = decode_body(&h, &mut frame).unwrap();
        assert_eq!(req, MetadataRequest::default());

        let mut f = request_frame(ApiKey::ApiVersions, 3, 9, &ApiVersionsRequest::default());
        let mut frame = decode_frame(&mut f, MAX_FRAME).unwrap().unwrap();
        let h = parse_request_header(&mut frame).unwrap();
        assert_eq!((h.api_version, h.correlation_id), (3, 9));
        let _: ApiVersionsRequest = decode_body(&h, &mut frame).unwrap();
    }

    #[test]
    fn header_errors_do_not_panic() {
        let mut short = Bytes::from_static(&[0, 3, 0]);
        assert_eq!(
            parse_request_header(&mut short),
            Err(KafkaError::ShortHeader(3))
        );
        let mut unknown = Bytes::from_static(&[0x7f, 0x00, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            parse_request_header(&mut unknown),
            Err(KafkaError::UnknownApiKey(0x7f00))
        );
        // client_id length runs past the end.
        let mut trunc = Bytes::from_static(&[0, 3, 0, 1, 0, 0, 0, 1, 0, 50, b'a']);
        assert!(matches!(
            parse_request_header(&mut trunc),
            Err(KafkaError::Header(_))
        ));
    }

    #[test]
    fn api_versions_v3_response_header_v0_and_no_tags() {
        let body = ApiVersionsResponse::default().with_api_keys(vec![ApiVersion::default()
            .with_api_key(18)
            .with_min_version(0)
            .with_max_version(4)]);
        let mut out = BytesMut::new();
        encode_response(ApiKey::ApiVersions, 3, 5, &body, &mut out).unwrap();
        // size, correlation_id, then straight to error_code: header v0 has no tag byte.
        assert_eq!(&out[4..8], &5i32.to_be_bytes());
        // T1: defaults for every tagged field, so the body ends in one empty tag buffer.
        // error_code, compact array of one {18, 0, 4, no tags}, throttle_time_ms, no tags.
        let expected: &[u8] = &[0, 0, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0];
        assert_eq!(&out[8..], expected);
        let size = i32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert_eq!(size, out.len() - 4);
    }

    #[test]
    fn metadata_v9_response_header_v1() {
        let mut out = BytesMut::new();
        let body = kafka_protocol::messages::MetadataResponse::default();
        encode_response(ApiKey::Metadata, 9, 1, &body, &mut out).unwrap();
        // correlation_id then the header's empty tag buffer.
        assert_eq!(&out[4..9], &[0, 0, 0, 1, 0]);
    }
}
