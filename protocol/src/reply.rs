//! Replies and their encoding for RESP2 and RESP3.

use bytes::{BufMut, Bytes, BytesMut};

/// Protocol version negotiated with HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RespVersion {
    #[default]
    Resp2,
    Resp3,
}

/// A reply as a command produces it. Encoding for the client's protocol happens once, in
/// [`encode`], so handlers never care whether the client speaks RESP2 or RESP3.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`
    Simple(Bytes),
    /// `-ERR ...`; the text after `-`.
    Error(Bytes),
    Int(i64),
    Bulk(Bytes),
    /// Null bulk (`$-1` in RESP2, `_` in RESP3).
    Null,
    /// Null array (`*-1` in RESP2, `_` in RESP3).
    NullArray,
    Array(Vec<Reply>),
    /// Map; a flat array of key, value in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// Set; an array in RESP2.
    Set(Vec<Reply>),
    /// Double; a bulk string formatted `%.17g` in RESP2.
    Double(f64),
    /// Boolean; integer 1/0 in RESP2.
    Bool(bool),
    /// Out-of-band push (pub/sub); an array in RESP2.
    Push(Vec<Reply>),
    /// Verbatim string with its 3-letter format; a bulk string in RESP2.
    Verbatim(&'static str, Bytes),
    /// Big number as decimal text; a bulk string in RESP2.
    BigNumber(Bytes),
    /// Bytes already encoded (shared constant replies).
    Raw(Bytes),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Raw(Bytes::from_static(b"+OK\r\n"))
    }
    pub fn simple(s: &'static str) -> Reply {
        Reply::Simple(Bytes::from_static(s.as_bytes()))
    }
    pub fn error(s: impl Into<String>) -> Reply {
        Reply::Error(Bytes::from(s.into()))
    }
    pub fn bulk(b: impl Into<Bytes>) -> Reply {
        Reply::Bulk(b.into())
    }
    pub fn bulk_slice(b: &[u8]) -> Reply {
        Reply::Bulk(Bytes::copy_from_slice(b))
    }
    pub fn bulk_opt(b: Option<&[u8]>) -> Reply {
        match b {
            Some(b) => Reply::bulk_slice(b),
            None => Reply::Null,
        }
    }
    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_)) || matches!(self, Reply::Raw(b) if b.first() == Some(&b'-'))
    }
}

fn put_len(out: &mut BytesMut, prefix: u8, n: i64) {
    let mut b = itoa::Buffer::new();
    out.put_u8(prefix);
    out.put_slice(b.format(n).as_bytes());
    out.put_slice(b"\r\n");
}

fn put_bulk(out: &mut BytesMut, b: &[u8]) {
    put_len(out, b'$', b.len() as i64);
    out.put_slice(b);
    out.put_slice(b"\r\n");
}

/// Encodes `r` for a client speaking `v`.
pub fn encode(r: &Reply, v: RespVersion, out: &mut BytesMut) {
    match r {
        Reply::Simple(s) => {
            out.put_u8(b'+');
            out.put_slice(s);
            out.put_slice(b"\r\n");
        }
        Reply::Error(s) => {
            out.put_u8(b'-');
            out.put_slice(s);
            out.put_slice(b"\r\n");
        }
        Reply::Int(i) => put_len(out, b':', *i),
        Reply::Bulk(b) => put_bulk(out, b),
        Reply::Null => match v {
            RespVersion::Resp2 => out.put_slice(b"$-1\r\n"),
            RespVersion::Resp3 => out.put_slice(b"_\r\n"),
        },
        Reply::NullArray => match v {
            RespVersion::Resp2 => out.put_slice(b"*-1\r\n"),
            RespVersion::Resp3 => out.put_slice(b"_\r\n"),
        },
        Reply::Array(items) => {
            put_len(out, b'*', items.len() as i64);
            for i in items {
                encode(i, v, out);
            }
        }
        Reply::Set(items) => {
            put_len(
                out,
                if v == RespVersion::Resp3 { b'~' } else { b'*' },
                items.len() as i64,
            );
            for i in items {
                encode(i, v, out);
            }
        }
        Reply::Push(items) => {
            put_len(
                out,
                if v == RespVersion::Resp3 { b'>' } else { b'*' },
                items.len() as i64,
            );
            for i in items {
                encode(i, v, out);
            }
        }
        Reply::Map(pairs) => {
            match v {
                RespVersion::Resp3 => put_len(out, b'%', pairs.len() as i64),
                RespVersion::Resp2 => put_len(out, b'*', 2 * pairs.len() as i64),
            }
            for (k, val) in pairs {
                encode(k, v, out);
                encode(val, v, out);
            }
        }
        Reply::Double(d) => {
            let s = crate::fmt::double_g17(*d);
            match v {
                RespVersion::Resp2 => put_bulk(out, s.as_bytes()),
                RespVersion::Resp3 => {
                    out.put_u8(b',');
                    out.put_slice(s.as_bytes());
                    out.put_slice(b"\r\n");
                }
            }
        }
        Reply::Bool(b) => match v {
            RespVersion::Resp2 => out.put_slice(if *b { b":1\r\n" } else { b":0\r\n" }),
            RespVersion::Resp3 => out.put_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        },
        Reply::Verbatim(fmt, b) => match v {
            RespVersion::Resp2 => put_bulk(out, b),
            RespVersion::Resp3 => {
                put_len(out, b'=', b.len() as i64 + 4);
                out.put_slice(fmt.as_bytes());
                out.put_u8(b':');
                out.put_slice(b);
                out.put_slice(b"\r\n");
            }
        },
        Reply::BigNumber(b) => match v {
            RespVersion::Resp2 => put_bulk(out, b),
            RespVersion::Resp3 => {
                out.put_u8(b'(');
                out.put_slice(b);
                out.put_slice(b"\r\n");
            }
        },
        Reply::Raw(b) => out.put_slice(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, v: RespVersion) -> String {
        let mut b = BytesMut::new();
        encode(r, v, &mut b);
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn resp2_vs_resp3() {
        let m = Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]);
        assert_eq!(enc(&m, RespVersion::Resp2), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(&m, RespVersion::Resp3), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(
            enc(&Reply::Double(1.5), RespVersion::Resp2),
            "$3\r\n1.5\r\n"
        );
        assert_eq!(enc(&Reply::Double(1.5), RespVersion::Resp3), ",1.5\r\n");
        assert_eq!(enc(&Reply::Null, RespVersion::Resp2), "$-1\r\n");
        assert_eq!(enc(&Reply::NullArray, RespVersion::Resp3), "_\r\n");
        assert_eq!(enc(&Reply::Bool(true), RespVersion::Resp2), ":1\r\n");
        assert_eq!(
            enc(
                &Reply::Verbatim("txt", Bytes::from("hi")),
                RespVersion::Resp3
            ),
            "=6\r\ntxt:hi\r\n"
        );
    }
}
