//! Base64 as Kubernetes writes a Secret's `data` (the standard alphabet, padded).
//!
//! Owns: `decode`. Leaves out: encoding (nothing here writes Secrets as base64).

/// The bytes `text` encodes (whitespace ignored), or `None` when it is not base64.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 4 != 0 {
        return None;
    }
    let value = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(digits.len() / 4 * 3);
    for (i, quad) in digits.chunks(4).enumerate() {
        let last = i == digits.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|b| **b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &b in &quad[..4 - pad] {
            n = (n << 6) | value(b)?;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_padded_base64_and_refuses_the_rest() {
        assert_eq!(decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode("aGk=").unwrap(), b"hi");
        assert_eq!(decode("aGV5").unwrap(), b"hey");
        assert_eq!(decode("aG Vs\nbG8=").unwrap(), b"hello");
        assert_eq!(decode("").unwrap(), b"");
        for bad in ["aGVsbG8", "a===", "aG=k", "!!!!"] {
            assert!(decode(bad).is_none(), "{bad}");
        }
    }
}
