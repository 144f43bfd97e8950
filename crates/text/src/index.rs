//! Lookup tables keyed by names (hosts, domains, SNI), with FNV-1a hashing.
//!
//! Owns: the `NameMap` type used by the registry, route configurations, listeners and the external
//! hosts. The keys come from the user's own manifests, built once per mesh snapshot and read on
//! every decision, so a fast hasher matters and flooding resistance does not.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A hash map keyed by names.
pub type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_find_what_they_hold() {
        let mut m: NameMap<String, u8> = NameMap::default();
        m.insert("httpbin.org".into(), 1);
        m.insert("www.httpbin.org".into(), 2);
        assert_eq!(m.get("httpbin.org"), Some(&1));
        assert_eq!(m.get("www.httpbin.org"), Some(&2));
        assert_eq!(m.get("example.com"), None);
    }
}
