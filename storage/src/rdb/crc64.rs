//! CRC-64/Jones as Redis computes it (crc64.c): reflected, poly 0xad93d23594c935a9, init 0.
//!
//! Backed by the `crc` crate's `CRC_64_REDIS` with a slice-by-16 table.

use crc::{Crc, Digest, Table, CRC_64_REDIS};

static CRC: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// Redis's `crc64(crc, s, l)`: continues `crc` over `data` (`crc64(0, ..)` starts afresh).
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    // The crate reflects the initial value of a reflected algorithm; the running
    // state of a reflected CRC is already reflected, so undo that.
    let mut d = CRC.digest_with_initial(crc.reverse_bits());
    d.update(data);
    d.finalize()
}

/// An incremental CRC64 over a byte stream.
#[derive(Clone)]
pub struct Crc64 {
    digest: Digest<'static, u64, Table<16>>,
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    pub fn new() -> Self {
        Crc64 {
            digest: CRC.digest(),
        }
    }
    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
    }
    /// The CRC of everything so far (the digest goes on).
    pub fn value(&self) -> u64 {
        self.digest.clone().finalize()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_check_value() {
        // crc64.c's self test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
        assert_eq!(crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
        let mut c = Crc64::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.value(), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn continues() {
        let a = crc64(0, b"1234");
        assert_eq!(crc64(a, b"56789"), 0xe9c6d914c4b8d9ca);
    }
}
