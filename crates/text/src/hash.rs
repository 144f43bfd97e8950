//! A small stable hash for names: 32-bit FNV-1a (std's hasher is not guaranteed stable across
//! releases), for addresses and names derived from a name that must not move between runs.
//!
//! Owns: `fnv1a`. Leaves out: what is derived from it (pod and load-balancer addresses, generated
//! names, file fingerprints).

/// 32-bit FNV-1a of `text`'s bytes.
pub fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_fnv1a_values() {
        assert_eq!(fnv1a(""), 0x811c_9dc5);
        assert_eq!(fnv1a("a"), 0xe40c_292c);
        assert_eq!(fnv1a("foobar"), 0xbf9c_f968);
    }
}
