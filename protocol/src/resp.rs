//! Request decoding, following Redis's `processMultibulkBuffer` and
//! `processInlineBuffer` so that malformed input gets Redis's exact error text.
//!
//! Hand-written rather than built on `redis-protocol`: a server must accept inline
//! commands, enforce proto-max-bulk-len before buffering, and reproduce Redis's
//! protocol error texts, none of which that crate's frame decoder offers.

use bytes::{Buf, Bytes, BytesMut};
use thiserror::Error;

/// Longest inline request or multibulk/bulk header line Redis buffers (PROTO_INLINE_MAX_SIZE).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;

/// A malformed request. Display is the text after `-ERR `; the connection is closed after it.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("Protocol error: too big inline request")]
    TooBigInline,
    #[error("Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
    #[error("Protocol error: too big mbulk count string")]
    TooBigMbulkCount,
    #[error("Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    #[error("Protocol error: too big bulk count string")]
    TooBigBulkCount,
    #[error("Protocol error: expected '$', got '{0}'")]
    ExpectedDollar(char),
    #[error("Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
}

/// Limits checked while decoding, from the server config and client state.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// proto-max-bulk-len
    pub proto_max_bulk_len: u64,
    /// Unauthenticated clients get tight limits (1024*1024 args, 16 KiB bulks), as in Redis.
    pub authenticated: bool,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            proto_max_bulk_len: 512 * 1024 * 1024,
            authenticated: true,
        }
    }
}

/// Incremental request decoder. Holds the arguments of a multibulk request that has only
/// partly arrived, so a large request is scanned once, not once per read.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    /// Arguments still expected for the current multibulk request (0 = between requests).
    multibulklen: usize,
    /// Length of the bulk being read, once its `$` header was parsed.
    bulklen: Option<usize>,
    argv: Vec<Bytes>,
}

/// Position of the `\r` ending a header line, once its `\n` has arrived too.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    let i = buf.iter().position(|&b| b == b'\r')?;
    (i + 1 < buf.len()).then_some(i)
}

/// Parses a header number like Redis's `string2ll` on the header line.
fn parse_header_int(b: &[u8]) -> Option<i64> {
    crate::fmt::parse_i64(b)
}

impl RequestDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes held for a partly received request (counted against client-query-buffer-limit).
    pub fn pending_bytes(&self) -> usize {
        self.argv.iter().map(|a| a.len()).sum()
    }

    /// True while a multibulk request is partly decoded.
    pub fn in_request(&self) -> bool {
        self.multibulklen > 0
    }

    /// How many more bytes the current bulk needs, to size the next read.
    pub fn bulk_remaining(&self, buf: &BytesMut) -> Option<usize> {
        self.bulklen.map(|l| (l + 2).saturating_sub(buf.len()))
    }

    /// Decodes one request from `buf`. `Ok(None)` means more input is needed; an empty
    /// request (blank inline line, `*0`) is skipped.
    pub fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &RequestLimits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        loop {
            if self.multibulklen == 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] == b'*' {
                    match self.start_multibulk(buf, limits)? {
                        None => return Ok(None),
                        Some(0) => continue,
                        Some(_) => {}
                    }
                } else {
                    match decode_inline(buf)? {
                        None => return Ok(None),
                        Some(argv) if argv.is_empty() => continue,
                        Some(argv) => return Ok(Some(argv)),
                    }
                }
            }
            return self.continue_multibulk(buf, limits);
        }
    }

    fn start_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: &RequestLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some(nl) = find_crlf(buf) else {
            if buf.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::TooBigMbulkCount);
            }
            return Ok(None);
        };
        let ll = parse_header_int(&buf[1..nl]);
        let ll = match ll {
            Some(v) if v <= i32::MAX as i64 => v,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if ll > 1024 * 1024 && !limits.authenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        buf.advance(nl + 2);
        if ll <= 0 {
            return Ok(Some(0));
        }
        self.multibulklen = ll as usize;
        self.argv = Vec::with_capacity((ll as usize).min(1024));
        Ok(Some(ll as usize))
    }

    fn continue_multibulk(
        &mut self,
        buf: &mut BytesMut,
        limits: &RequestLimits,
    ) -> Result<Option<Vec<Bytes>>, ProtocolError> {
        while self.multibulklen > 0 {
            let bulklen = match self.bulklen {
                Some(l) => l,
                None => {
                    let Some(nl) = find_crlf(buf) else {
                        if buf.len() > PROTO_INLINE_MAX_SIZE {
                            return Err(ProtocolError::TooBigBulkCount);
                        }
                        return Ok(None);
                    };
                    if buf[0] != b'$' {
                        return Err(ProtocolError::ExpectedDollar(buf[0] as char));
                    }
                    let ll = match parse_header_int(&buf[1..nl]) {
                        Some(v) if v >= 0 && (v as u64) <= limits.proto_max_bulk_len => v,
                        _ => return Err(ProtocolError::InvalidBulkLength),
                    };
                    if ll > 16384 && !limits.authenticated {
                        return Err(ProtocolError::UnauthenticatedBulkLength);
                    }
                    buf.advance(nl + 2);
                    let l = ll as usize;
                    self.bulklen = Some(l);
                    // Large bulks: make room once instead of growing step by step.
                    if l >= 32 * 1024 && buf.capacity() < l + 2 {
                        buf.reserve(l + 2 - buf.len());
                    }
                    l
                }
            };
            if buf.len() < bulklen + 2 {
                return Ok(None);
            }
            let arg = buf.split_to(bulklen).freeze();
            // Redis does not check the trailing CRLF's content, it just skips two bytes.
            buf.advance(2);
            self.argv.push(arg);
            self.bulklen = None;
            self.multibulklen -= 1;
        }
        Ok(Some(std::mem::take(&mut self.argv)))
    }
}

/// Inline request: one line, split like Redis's `sdssplitargs`.
fn decode_inline(buf: &mut BytesMut) -> Result<Option<Vec<Bytes>>, ProtocolError> {
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(ProtocolError::TooBigInline);
        }
        return Ok(None);
    };
    let mut end = nl;
    if end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    let line = buf.split_to(nl + 1);
    let args = split_args(&line[..end]).ok_or(ProtocolError::UnbalancedQuotes)?;
    Ok(Some(args.into_iter().map(Bytes::from).collect()))
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Redis's `sdssplitargs`: whitespace separated, "double quotes" with escapes,
/// 'single quotes'. `None` on unbalanced quotes (or a closing quote not followed by space).
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = line.len();
    loop {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            return Some(out);
        }
        let mut cur = Vec::new();
        let mut inq = false;
        let mut insq = false;
        loop {
            if inq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\'
                    && i + 3 < n
                    && line[i + 1] == b'x'
                    && is_hex(line[i + 2])
                    && is_hex(line[i + 3])
                {
                    cur.push(hex_val(line[i + 2]) * 16 + hex_val(line[i + 3]));
                    i += 3;
                } else if line[i] == b'\\' && i + 1 < n {
                    i += 1;
                    cur.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 8,
                        b'a' => 7,
                        c => c,
                    });
                } else if line[i] == b'"' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else if insq {
                if i >= n {
                    return None;
                }
                if line[i] == b'\\' && i + 1 < n && line[i + 1] == b'\'' {
                    i += 1;
                    cur.push(b'\'');
                } else if line[i] == b'\'' {
                    if i + 1 < n && !line[i + 1].is_ascii_whitespace() {
                        return None;
                    }
                    i += 1;
                    break;
                } else {
                    cur.push(line[i]);
                }
            } else {
                if i >= n {
                    break;
                }
                match line[i] {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        i += 1;
                        break;
                    }
                    b'"' => inq = true,
                    b'\'' => insq = true,
                    c => cur.push(c),
                }
            }
            i += 1;
        }
        out.push(cur);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(input: &[u8]) -> (Result<Option<Vec<Bytes>>, ProtocolError>, BytesMut) {
        let mut d = RequestDecoder::new();
        let mut b = BytesMut::from(input);
        let r = d.decode(&mut b, &RequestLimits::default());
        (r, b)
    }

    #[test]
    fn multibulk() {
        let (r, rest) = dec(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1");
        assert_eq!(
            r.unwrap().unwrap(),
            vec![Bytes::from("GET"), Bytes::from("k")]
        );
        assert_eq!(&rest[..], b"*1");
    }

    #[test]
    fn partial_then_complete() {
        let mut d = RequestDecoder::new();
        let mut b = BytesMut::from(&b"*2\r\n$3\r\nGET\r\n$5\r\nhel"[..]);
        let lim = RequestLimits::default();
        assert_eq!(d.decode(&mut b, &lim).unwrap(), None);
        b.extend_from_slice(b"lo\r\n");
        assert_eq!(
            d.decode(&mut b, &lim).unwrap().unwrap()[1],
            Bytes::from("hello")
        );
        assert!(b.is_empty());
    }

    #[test]
    fn inline() {
        let (r, _) = dec(b"SET k \"a b\\x41\" 'c'\r\n");
        let v = r.unwrap().unwrap();
        assert_eq!(
            v,
            vec![
                Bytes::from("SET"),
                Bytes::from("k"),
                Bytes::from("a bA"),
                Bytes::from("c")
            ]
        );
        let (r, _) = dec(b"SET \"k\r\n");
        assert_eq!(r.unwrap_err(), ProtocolError::UnbalancedQuotes);
    }

    #[test]
    fn empty_requests_skipped() {
        let (r, _) = dec(b"\r\n*0\r\n*-1\r\nPING\r\n");
        assert_eq!(r.unwrap().unwrap(), vec![Bytes::from("PING")]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            dec(b"*x\r\n").0.unwrap_err().to_string(),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            dec(b"*1\r\n:1\r\n").0.unwrap_err().to_string(),
            "Protocol error: expected '$', got ':'"
        );
        assert_eq!(
            dec(b"*1\r\n$-1\r\n").0.unwrap_err().to_string(),
            "Protocol error: invalid bulk length"
        );
        let big = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
        assert_eq!(dec(&big).0.unwrap_err(), ProtocolError::TooBigInline);
        let lim = RequestLimits {
            proto_max_bulk_len: 10,
            authenticated: true,
        };
        let mut d = RequestDecoder::new();
        let mut b = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert_eq!(
            d.decode(&mut b, &lim).unwrap_err(),
            ProtocolError::InvalidBulkLength
        );
    }

    /// Random byte soup from RESP's own alphabet: the decoder never panics, never loops,
    /// and either consumes input or asks for more.
    #[test]
    fn random_input_never_panics() {
        let alphabet = b"*$:+-\r\n0123456789abc \"'\\x";
        let mut seed: u64 = 0x9e3779b97f4a7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 40) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let mut d = RequestDecoder::new();
            let mut b = BytesMut::from(&input[..]);
            let lim = RequestLimits {
                proto_max_bulk_len: 100,
                authenticated: next() % 2 == 0,
            };
            for _ in 0..=input.len() {
                let before = b.len();
                match d.decode(&mut b, &lim) {
                    Ok(Some(_)) => assert!(b.len() < before, "a request consumed nothing"),
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}
