//! Ubik's debugging RPC (what `udebug` asks): `VOTE_XDebug` on the vote service of a
//! database server, falling back to `VOTE_Debug` on servers that do not know it.

use crate::proto::rx::{self, DecodeError, RxError, Words};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The Rx service id of Ubik's vote interface.
pub const VOTE_SERVICE_ID: u16 = 50;
/// `VOTE_Debug`: returns `ubik_debug`.
pub const VOTE_DEBUG: u32 = 10004;
/// `VOTE_XDebug`: returns `ubik_debug` and whether the server is a clone.
pub const VOTE_XDEBUG: u32 = 10006;
/// The Rx abort code of an unknown opcode (`RXGEN_OPCODE`).
pub const RXGEN_OPCODE: i32 = -455;
/// Every recovery step done: the sync site's database is current and labelled.
pub const RECOVERED: u32 = 0x1f;

/// A database version (`net_version`: epoch and counter), printed `epoch.counter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DbVersion {
    pub epoch: u32,
    pub counter: u32,
}

impl std::fmt::Display for DbVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.epoch, self.counter)
    }
}

/// The fields of `ubik_debug` a check needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UbikDebug {
    /// The server's clock.
    pub now: u32,
    /// The sync site this server last heard from (0.0.0.0 = none).
    pub sync_host: Ipv4Addr,
    /// The sync site's database version as this server knows it.
    pub sync_version: DbVersion,
    /// Whether this server is the sync site.
    pub am_sync_site: bool,
    /// Until when its mandate as sync site runs.
    pub sync_site_until: u32,
    /// Servers taking part in the vote.
    pub n_servers: u32,
    /// This server's database version.
    pub local_version: DbVersion,
    /// Recovery flags (0x1f = recovered).
    pub recovery_state: u32,
    /// Whether the server is a non-voting clone (XDebug only).
    pub is_clone: bool,
}

impl Default for UbikDebug {
    fn default() -> Self {
        UbikDebug {
            now: 0,
            sync_host: Ipv4Addr::UNSPECIFIED,
            sync_version: DbVersion::default(),
            am_sync_site: false,
            sync_site_until: 0,
            n_servers: 0,
            local_version: DbVersion::default(),
            recovery_state: 0,
            is_clone: false,
        }
    }
}

/// Reads a `ubik_debug` reply (and the clone flag that follows it after XDebug).
pub fn parse_debug(payload: &[u8], with_clone: bool) -> Result<UbikDebug, DecodeError> {
    let mut w = Words::new(payload, "ubik_debug");
    w.need(28 * 4)?;
    let now = w.u32()?;
    for _ in 0..6 {
        w.u32()?; // last yes time/host/state/claim, lowest host/time
    }
    let sync_host = Ipv4Addr::from(w.u32()?);
    let _sync_time = w.u32()?;
    let sync_version = DbVersion {
        epoch: w.u32()?,
        counter: w.u32()?,
    };
    w.u32()?; // sync tid
    w.u32()?;
    let am_sync_site = w.u32()? != 0;
    let sync_site_until = w.u32()?;
    let n_servers = w.u32()?;
    w.u32()?; // locked pages
    w.u32()?; // write-locked pages
    let local_version = DbVersion {
        epoch: w.u32()?,
        counter: w.u32()?,
    };
    for _ in 0..4 {
        w.u32()?; // active write, tid counter, read locks, write locks
    }
    let recovery_state = w.u32()?;
    let is_clone = with_clone && w.u32().is_ok_and(|v| v != 0);
    Ok(UbikDebug {
        now,
        sync_host,
        sync_version,
        am_sync_site,
        sync_site_until,
        n_servers,
        local_version,
        recovery_state,
        is_clone,
    })
}

/// Asks one database server for its Ubik state (XDebug, then Debug on an old server).
pub async fn debug(addr: SocketAddr, budget: Duration) -> Result<(UbikDebug, Duration), RxError> {
    let decode = |with_clone: bool, (payload, rtt): (Vec<u8>, Duration)| {
        parse_debug(&payload, with_clone)
            .map(|d| (d, rtt))
            .map_err(|e| RxError::Garbage(e.to_string()))
    };
    match rx::call(addr, VOTE_SERVICE_ID, VOTE_XDEBUG, &[], budget).await {
        Err(RxError::Aborted(RXGEN_OPCODE)) => decode(
            false,
            rx::call(addr, VOTE_SERVICE_ID, VOTE_DEBUG, &[], budget).await?,
        ),
        r => decode(true, r?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `ubik_debug` reply with the given fields, the rest zero.
    pub fn reply(sync: [u8; 4], am_sync: bool, local: (u32, u32), recovery: u32) -> Vec<u8> {
        let mut words = [0u32; 29];
        words[0] = 1_700_000_000;
        words[7] = u32::from_be_bytes(sync);
        words[9] = local.0;
        words[10] = local.1;
        words[13] = am_sync as u32;
        words[14] = 1_700_000_060;
        words[15] = 3;
        words[18] = local.0;
        words[19] = local.1;
        words[24] = recovery;
        words[28] = 0;
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn reads_ubik_debug() {
        let d = parse_debug(&reply([10, 77, 0, 1], true, (1795548706, 3), 0x1f), true).unwrap();
        assert_eq!(d.sync_host, Ipv4Addr::new(10, 77, 0, 1));
        assert!(d.am_sync_site);
        assert_eq!(d.n_servers, 3);
        assert_eq!(d.local_version.to_string(), "1795548706.3");
        assert_eq!(d.sync_version, d.local_version);
        assert_eq!(d.recovery_state, RECOVERED);
        assert!(!d.is_clone);
        assert!(parse_debug(&[0; 100], false).is_err());
    }
}
