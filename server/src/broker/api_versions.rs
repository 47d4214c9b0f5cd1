//! ApiVersions (api_key 18), generated from the route table.

use super::routes::{reply, HandlerFuture, HandlerResult, ROUTES};
use super::Broker;
use bytes::Bytes;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::ResponseError;
use rill_protocol::kafka::{decode_body, Header};
use std::sync::Arc;

/// ```text
/// ApiVersions v0-4 -> error_code, api_keys [(api_key, min_version, max_version)]
/// ```
/// No supported_features / finalized_features / zk_migration_ready: their defaults are
/// not encoded, which keeps librdkafka < 2.2 happy (trap T1).
pub fn api_versions(_broker: Arc<Broker>, header: Header, mut body: Bytes) -> HandlerFuture {
    Box::pin(async move {
        let _req: ApiVersionsRequest = decode_body(&header, &mut body)?;
        reply(&header, &response(0))
    })
}

/// Trap T2 (KIP-511): an ApiVersions request newer than we know gets a v0 body with
/// UNSUPPORTED_VERSION and our version list, under response header v0, so that any client
/// can decode it and retry with a version we support.
pub fn unsupported_version(header: &Header) -> HandlerResult {
    let v0 = Header {
        api_version: 0,
        ..header.clone()
    };
    reply(&v0, &response(ResponseError::UnsupportedVersion.code()))
}

fn response(error_code: i16) -> ApiVersionsResponse {
    let api_keys = ROUTES
        .iter()
        .map(|r| {
            ApiVersion::default()
                .with_api_key(r.api_key as i16)
                .with_min_version(r.min_version)
                .with_max_version(r.max_version)
        })
        .collect();
    ApiVersionsResponse::default()
        .with_error_code(error_code)
        .with_api_keys(api_keys)
}

/// The advertised range of ApiVersions itself (for tests and logs).
pub fn own_range() -> Option<(i16, i16)> {
    ROUTES
        .iter()
        .find(|r| r.api_key == ApiKey::ApiVersions)
        .map(|r| (r.min_version, r.max_version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_version_is_a_v0_body_with_the_list() {
        let header = Header {
            api_key: ApiKey::ApiVersions,
            api_version: 5,
            correlation_id: 42,
            client_id: None,
        };
        let out = unsupported_version(&header)
            .expect("encode")
            .expect("a response");
        // size, correlation_id (header v0: no tag byte), error_code 35, int32 array count.
        assert_eq!(&out[4..8], &42i32.to_be_bytes());
        assert_eq!(&out[8..10], &35i16.to_be_bytes());
        let n = i32::from_be_bytes([out[10], out[11], out[12], out[13]]) as usize;
        assert_eq!(n, ROUTES.len());
        // v0 entries are exactly 6 bytes, with no throttle_time_ms and no tags after them.
        assert_eq!(out.len(), 14 + 6 * n);
        let entries: Vec<(i16, i16, i16)> = out[14..]
            .chunks(6)
            .map(|c| {
                (
                    i16::from_be_bytes([c[0], c[1]]),
                    i16::from_be_bytes([c[2], c[3]]),
                    i16::from_be_bytes([c[4], c[5]]),
                )
            })
            .collect();
        assert!(entries.contains(&(18, 0, 4)), "{entries:?}");
        assert_eq!(own_range(), Some((0, 4)));
    }

    #[test]
    fn v3_response_has_no_tagged_fields() {
        let header = Header {
            api_key: ApiKey::ApiVersions,
            api_version: 3,
            correlation_id: 1,
            client_id: None,
        };
        let out = reply(&header, &response(0))
            .expect("encode")
            .expect("a response");
        // ... throttle_time_ms = 0, then a single empty tag buffer.
        assert_eq!(&out[out.len() - 5..], &[0, 0, 0, 0, 0]);
        // The body right after a v0 header: error_code 0, compact array of N entries.
        assert_eq!(&out[8..11], &[0, 0, ROUTES.len() as u8 + 1]);
        // Each compact entry is 7 bytes (6 + empty tags): nothing else is encoded.
        assert_eq!(out.len(), 11 + 7 * ROUTES.len() + 4 + 1);
    }
}
