//! Random numbers for protocol ids (Rx connection ids and call numbers, Kerberos
//! nonces): they need only differ between runs, not resist guessing.

use std::hash::{BuildHasher, Hasher};

/// A random u32 from the standard library's per-process random keys, the clock and the
/// process id.
pub fn rand_u32() -> u32 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish() as u32
}
