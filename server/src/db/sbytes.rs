//! `SBytes`: a byte string stored inline up to 22 bytes, on the heap beyond.
//!
//! Keys, short values, members and fields are mostly small; keeping them inline makes a
//! keyspace entry one allocation smaller, which is most of the per-key memory of a cache.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

const INLINE: usize = 22;

/// An immutable-length byte string, 24 bytes wide.
#[derive(Clone)]
pub enum SBytes {
    Inline { len: u8, data: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl SBytes {
    pub fn new(b: &[u8]) -> SBytes {
        if b.len() <= INLINE {
            let mut data = [0u8; INLINE];
            data[..b.len()].copy_from_slice(b);
            SBytes::Inline {
                len: b.len() as u8,
                data,
            }
        } else {
            SBytes::Heap(b.into())
        }
    }

    pub fn from_vec(v: Vec<u8>) -> SBytes {
        if v.len() <= INLINE {
            SBytes::new(&v)
        } else {
            SBytes::Heap(v.into_boxed_slice())
        }
    }

    pub fn from_i64(i: i64) -> SBytes {
        SBytes::new(itoa::Buffer::new().format(i).as_bytes())
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            SBytes::Inline { len, data } => &data[..*len as usize],
            SBytes::Heap(b) => b,
        }
    }

    /// Heap bytes owned beyond the 24-byte struct (for memory accounting).
    pub fn heap_size(&self) -> usize {
        match self {
            SBytes::Inline { .. } => 0,
            SBytes::Heap(b) => b.len(),
        }
    }

    pub fn is_inline(&self) -> bool {
        matches!(self, SBytes::Inline { .. })
    }

    pub fn into_vec(self) -> Vec<u8> {
        match self {
            SBytes::Inline { .. } => self.as_bytes().to_vec(),
            SBytes::Heap(b) => b.into_vec(),
        }
    }
}

impl Deref for SBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for SBytes {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for SBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

// Must hash exactly like [u8] so lookups by &[u8] find SBytes keys.
impl Hash for SBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialEq for SBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for SBytes {}

impl PartialOrd for SBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl From<&[u8]> for SBytes {
    fn from(b: &[u8]) -> Self {
        SBytes::new(b)
    }
}
impl From<&str> for SBytes {
    fn from(s: &str) -> Self {
        SBytes::new(s.as_bytes())
    }
}
impl From<Vec<u8>> for SBytes {
    fn from(v: Vec<u8>) -> Self {
        SBytes::from_vec(v)
    }
}
impl From<&bytes::Bytes> for SBytes {
    fn from(b: &bytes::Bytes) -> Self {
        SBytes::new(b)
    }
}

impl fmt::Debug for SBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_roundtrip() {
        assert_eq!(std::mem::size_of::<SBytes>(), 24);
        for n in [0, 1, 22, 23, 100] {
            let v = vec![7u8; n];
            let s = SBytes::new(&v);
            assert_eq!(s.as_bytes(), &v[..]);
            assert_eq!(s.is_inline(), n <= 22);
        }
    }
}
