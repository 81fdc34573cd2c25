//! Connection slots shared by the listeners (the API over TCP and the control socket,
//! the NRPE agent): at most a total, and at most a share per peer (an address or a
//! uid), so that one peer cannot take every slot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Connection slots: a total and a share per peer.
pub struct Slots {
    total: usize,
    per_peer: usize,
    held: Mutex<HashMap<String, usize>>,
}

/// Why there is no slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// Every slot is taken.
    Total,
    /// This peer holds its share.
    Peer,
}

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Full::Total => "too many connections",
            Full::Peer => "too many connections from this peer",
        })
    }
}

/// A held slot, given back when dropped.
pub struct Slot {
    slots: Arc<Slots>,
    key: String,
}

impl Slots {
    /// At most `total` connections, `per_peer` of them from one peer.
    pub fn new(total: usize, per_peer: usize) -> Arc<Slots> {
        Arc::new(Slots {
            total: total.max(1),
            per_peer: per_peer.max(1),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// The share of one peer.
    pub fn per_peer(&self) -> usize {
        self.per_peer
    }

    /// A slot for the peer `key`, or why there is none.
    pub fn take(self: &Arc<Self>, key: &str) -> Result<Slot, Full> {
        let mut held = self.held.lock().expect("slots lock");
        if held.values().sum::<usize>() >= self.total {
            return Err(Full::Total);
        }
        let n = held.entry(key.to_string()).or_default();
        if *n >= self.per_peer {
            return Err(Full::Peer);
        }
        *n += 1;
        Ok(Slot {
            slots: self.clone(),
            key: key.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().expect("slots lock");
        if let Some(n) = held.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_and_shares() {
        let slots = Slots::new(3, 2);
        let a1 = slots.take("a").unwrap();
        let _a2 = slots.take("a").unwrap();
        assert_eq!(slots.take("a").err(), Some(Full::Peer));
        let _b1 = slots.take("b").unwrap();
        assert_eq!(slots.take("c").err(), Some(Full::Total));
        drop(a1);
        assert!(slots.take("a").is_ok());
    }
}
