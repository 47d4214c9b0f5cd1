//! Hashes: an IndexMap, so HRANDFIELD picks in O(1) and HSCAN walks indexes.
//!
//! Redis 7.0 keeps small hashes (at most `hash-max-listpack-entries` = 128 fields,
//! fields and values at most `hash-max-listpack-value` = 64 bytes) as a listpack: insertion
//! order is kept across deletes and HSCAN returns everything in one call.
//! [`is_listpack`] says when a hash would be one. HINCRBYFLOAT's arithmetic is
//! [`super::ld80`], shared with INCRBYFLOAT.

use super::SBytes;

pub type Hash = indexmap::IndexMap<SBytes, SBytes, ahash::RandomState>;

/// Redis's default `hash-max-listpack-entries`.
pub const MAX_LISTPACK_ENTRIES: usize = 128;
/// Redis's default `hash-max-listpack-value`.
pub const MAX_LISTPACK_VALUE: usize = 64;

/// True if Redis 7.0 would encode this hash as a listpack.
pub fn is_listpack(h: &Hash) -> bool {
    h.len() <= MAX_LISTPACK_ENTRIES
        && h.iter()
            .all(|(k, v)| k.len() <= MAX_LISTPACK_VALUE && v.len() <= MAX_LISTPACK_VALUE)
}

/// Removes a field, keeping insertion order for listpack-sized hashes as Redis does.
pub fn remove_field(h: &mut Hash, field: &[u8]) -> Option<SBytes> {
    if h.len() <= MAX_LISTPACK_ENTRIES {
        h.shift_remove(field)
    } else {
        h.swap_remove(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listpack_rules() {
        let mut h = Hash::default();
        h.insert("a".into(), "1".into());
        h.insert("b".into(), "2".into());
        h.insert("c".into(), "3".into());
        assert!(is_listpack(&h));
        remove_field(&mut h, b"a");
        let keys: Vec<&[u8]> = h.keys().map(|k| k.as_bytes()).collect();
        assert_eq!(keys, vec![&b"b"[..], b"c"]);
        h.insert("big".into(), SBytes::new(&[b'x'; 65]));
        assert!(!is_listpack(&h));
    }
}
