//! check_dns_serial: are the slaves of many zones in sync with their master? For each
//! zone, asks the master and every name server of the zone (and any server given)
//! directly, recursion not desired, for the zone's SOA, and compares the serials with
//! RFC 1982 arithmetic. A slave behind its master is only reported once it has stayed
//! behind longer than a grace period (kept in a small state file), so a zone edited a
//! moment ago does not page anyone.
//!
//! # Layout
//! - this file: options, fetching the serials (bounded concurrency), evaluation.
//! - [`named_conf`]: the master zones of a named.conf (includes, views, comments).
//! - [`lag_state`]: the behind-since state file, written atomically.

pub mod lag_state;
pub mod named_conf;

use crate::host::statefile;
use crate::plugin::args::RangeArgs;
use crate::plugin::{
    parse_host, parse_port, shown, Check, CheckResult, CommonArgs, PerfData, State, Thresholds,
    Uom, UsageError, Work,
};
use crate::proto::dns::{
    self, parse_name, query_budget, rcode_name, show_name, Family, QueryError, Request, Response,
    Transport,
};
use clap::Parser;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use lag_state::LagState;
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OnceCell, Semaphore};
use tokio::time::Instant;

/// Command line of check_dns_serial.
#[derive(Parser, Debug)]
#[command(
    name = "check_dns_serial",
    version,
    about = "Checks that the slaves of many DNS zones have their master's SOA serial.",
    long_about = "Checks that the slaves of many DNS zones have their master's SOA serial.\n\n\
Zones come from the arguments, --zones-from (one a line) and --named-conf (the zones of type \
master/primary, following include statements). The master is -m, or the MNAME of the zone's \
SOA as the resolver reports it. The servers are every NS of the zone as the master lists \
them (A and AAAA addresses, from the master's additional section or the resolver) plus the \
-s servers; -p applies to all of them.\n\n\
Each server is asked directly, recursion not desired, for the SOA: the answer must be \
authoritative with exactly one SOA. A timeout, REFUSED, SERVFAIL or an answer without the \
AA bit makes the server lame for that zone (CRITICAL); a server that timed out is not asked \
again in the same run.\n\n\
Timeouts (-t): while some servers answer, each silent one is a lame sub-result (CRITICAL) \
as above, whatever -t says. Only when nothing answered in time (every question asked ran \
out of time) has the check as a whole timed out: it then takes the state -t names \
(CRITICAL unless given, e.g. -t 5:UNKNOWN).\n\n\
Serials are compared with RFC 1982 arithmetic. -w and -c are ranges on how far a server is \
behind its master (master - slave serial; negative when it is ahead): the default -w 0 warns \
on any difference. A server behind its master is only judged by them after it has stayed \
behind for more than --grace seconds; since when is kept in a file under --state-dir.\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, unreadable zone list, \
internal error). --help and --version exit 0.",
    mut_arg("warning", |a| a
        .default_value("0")
        .help("Range on how many serial increments a server may be behind: WARNING outside it")),
    mut_arg("critical", |a| a
        .help("Range on how many serial increments a server may be behind: CRITICAL outside it")),
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Zones to check
    #[arg(value_name = "ZONE")]
    pub zones: Vec<String>,

    /// Read zone names from FILE, one a line (`#` comments)
    #[arg(long = "zones-from", value_name = "FILE")]
    pub zones_from: Vec<PathBuf>,

    /// Check every master (primary) zone of this named.conf
    #[arg(long = "named-conf", value_name = "FILE")]
    pub named_conf: Vec<PathBuf>,

    /// The master server; default: the MNAME of each zone's SOA
    #[arg(short = 'm', long = "master", value_name = "HOST")]
    pub master: Option<String>,

    /// Another server to compare with the master (repeat or separate with commas)
    #[arg(
        short = 's',
        long = "server",
        value_name = "HOST",
        value_delimiter = ','
    )]
    pub servers: Vec<String>,

    /// Port of every server asked
    #[arg(short = 'p', long = "port", default_value_t = 53, value_parser = parse_port)]
    pub port: u16,

    /// DNS server for the SOA MNAME and name server addresses; default: the system's
    #[arg(long = "resolver", value_name = "ADDRESS[:PORT]")]
    pub resolver: Option<String>,

    #[command(flatten)]
    pub levels: RangeArgs,

    /// Seconds a server may stay behind its master before it is reported (0: at once)
    #[arg(long = "grace", value_name = "SECONDS", default_value_t = 600)]
    pub grace: u64,

    /// Directory of the state file that remembers since when servers are behind
    #[arg(
        long = "state-dir",
        value_name = "DIR",
        default_value = "/var/lib/hcoop-monitor"
    )]
    pub state_dir: PathBuf,

    /// Questions in flight at once
    #[arg(long = "parallel", value_name = "N", default_value_t = 100)]
    pub parallel: usize,

    /// Ask over TCP only
    #[arg(long = "tcp")]
    pub tcp: bool,

    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,
}

/// The validated check.
#[derive(Debug)]
pub struct DnsSerialCheck {
    /// Zones named on the command line (normalized).
    pub zones: Vec<String>,
    pub zones_from: Vec<PathBuf>,
    pub named_conf: Vec<PathBuf>,
    pub master: Option<String>,
    pub servers: Vec<String>,
    pub port: u16,
    pub resolver: Option<SocketAddr>,
    /// Ranges on the lag (master − slave serial).
    pub thresholds: Thresholds,
    pub grace: u64,
    pub state_dir: PathBuf,
    pub parallel: usize,
    pub transport: Transport,
    pub family: Family,
    /// How long all questions may take.
    pub budget: Duration,
}

/// A resolver given as `ADDRESS` or `ADDRESS:PORT` (`[v6]:PORT`).
fn parse_resolver(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    s.parse::<SocketAddr>()
        .or_else(|_| {
            s.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .map_err(|_| {
            format!(
                "invalid resolver '{}': give an address, optionally with :PORT",
                shown(s)
            )
        })
}

impl Check for DnsSerialCheck {
    type Args = Args;
    type Facts = DnsSerialFacts;
    const LABEL: &'static str = "DNS_SERIAL";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        if args.zones.is_empty() && args.zones_from.is_empty() && args.named_conf.is_empty() {
            return Err(UsageError::new(
                "no zones: name them, or give --zones-from FILE or --named-conf FILE",
            ));
        }
        let mut zones = Vec::new();
        for z in &args.zones {
            parse_name(z).map_err(UsageError)?;
            let z = named_conf::normalize_zone(z);
            if !zones.contains(&z) {
                zones.push(z);
            }
        }
        if !(1..=10_000).contains(&args.parallel) {
            return Err(UsageError::new("--parallel must be 1 to 10000"));
        }
        for h in args.master.iter().chain(&args.servers) {
            if h.trim().is_empty() {
                return Err(UsageError::new("empty server name"));
            }
            // a name or an address, never echoed raw (newlines, 100 KB)
            parse_host(h.trim()).map_err(UsageError)?;
        }
        let resolver = args
            .resolver
            .as_deref()
            .map(parse_resolver)
            .transpose()
            .map_err(UsageError)?;
        Ok(DnsSerialCheck {
            zones,
            zones_from: args.zones_from,
            named_conf: args.named_conf,
            master: args.master.map(|m| m.trim().to_string()),
            servers: args.servers.iter().map(|s| s.trim().to_string()).collect(),
            port: args.port,
            resolver,
            thresholds: args.levels.thresholds(),
            grace: args.grace,
            state_dir: args.state_dir,
            parallel: args.parallel,
            transport: if args.tcp {
                Transport::Tcp
            } else {
                Transport::UdpThenTcp
            },
            family: Family::from_flags(args.ipv4, args.ipv6),
            budget: query_budget(args.common.timeout.duration),
        })
    }

    /// Reads the zone list, asks the servers, then keeps since when each server has
    /// been behind in the state file: that bookkeeping of observations does not depend
    /// on the levels, so it is done here, and the verdict reads its outcome.
    fn fetch(&self) -> Work<'_, DnsSerialFacts> {
        Work::remote(async move {
            let zones = match self.zone_list(&named_conf::Files) {
                Ok(z) => z,
                Err(e) => return DnsSerialFacts::NoZones(e),
            };
            let serials = match self.ask(zones).await {
                Ok(f) => f,
                Err(e) => return DnsSerialFacts::Failed(e),
            };
            let path = self.state_path();
            let now = crate::host::clock::unix_now_secs();
            let (prior, load_error) = match LagState::load(&path) {
                Ok(s) => (s, None),
                Err(e) => (LagState::default(), Some(e)),
            };
            let since = behind_since(&serials, &prior, now);
            let save_error = (since != prior).then(|| since.save(&path).err()).flatten();
            DnsSerialFacts::Read(Observed {
                serials,
                now,
                since,
                state_errors: load_error.into_iter().chain(save_error).collect(),
            })
        })
    }

    fn evaluate(&self, facts: &DnsSerialFacts) -> CheckResult {
        match facts {
            DnsSerialFacts::NoZones(e) => CheckResult::unknown(e.clone()),
            DnsSerialFacts::Failed(e) => CheckResult::new(State::Critical, e.clone()),
            DnsSerialFacts::Read(o) => {
                let mut result = evaluate(o, self);
                for e in &o.state_errors {
                    result.raise(State::Unknown);
                    result.push_line(format!("state: {e}"));
                }
                result
            }
        }
    }
}

/// One server's answer for one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerFacts {
    /// The NS name, or the server as given with `-s`.
    pub name: String,
    /// None when the name did not resolve.
    pub addr: Option<SocketAddr>,
    /// The serial, or why the server is lame for the zone.
    pub answer: Result<u32, String>,
}

/// The master of a zone and its serial.
#[derive(Debug, Clone, PartialEq)]
pub struct MasterFacts {
    pub name: String,
    pub addr: Option<SocketAddr>,
    pub serial: Result<u32, String>,
}

/// Everything learned about one zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneFacts {
    pub zone: String,
    pub master: MasterFacts,
    /// Why the master's NS set could not be read, if it could not.
    pub ns_error: Option<String>,
    /// The other servers (never the master's own address).
    pub servers: Vec<ServerFacts>,
}

/// What the servers said in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Serials {
    pub zones: Vec<ZoneFacts>,
    pub elapsed: Duration,
    /// Nothing answered in time: every question asked (or left unasked) ran out of time,
    /// none was answered, refused or failed otherwise.
    pub timed_out: bool,
}

/// What one run observed, for [`Check::evaluate`].
#[derive(Debug, Clone, PartialEq)]
pub enum DnsSerialFacts {
    /// The zone list could not be read (a file, or no zone in them): UNKNOWN.
    NoZones(String),
    /// A server given by name (-m) did not resolve: CRITICAL.
    Failed(String),
    /// The serials and since when servers are behind.
    Read(Observed),
}

/// The serials read in one run, when, and since when each server is behind.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub serials: Serials,
    /// When the serials were read (Unix seconds).
    pub now: u64,
    /// Since when each server behind its master has been behind (as now kept in the
    /// state file).
    pub since: LagState,
    /// Why the state file could not be read or written.
    pub state_errors: Vec<String>,
}

/// The signed RFC 1982 distance from `master` to `slave`: negative when the slave is
/// behind, positive when it is ahead, `None` when they are exactly 2^31 apart (then
/// neither is greater).
pub fn serial_delta(slave: u32, master: u32) -> Option<i64> {
    let d = slave.wrapping_sub(master);
    (d != 1 << 31).then_some(i64::from(d as i32))
}

/// The serial and MNAME of an SOA answer that must be authoritative with exactly one SOA
/// for `zone`.
pub fn read_soa(zone: &Name, r: &Response) -> Result<(u32, Name), String> {
    let m = &r.message;
    if m.response_code() != ResponseCode::NoError {
        return Err(rcode_name(m.response_code()));
    }
    if !m.authoritative() {
        return Err("not authoritative (no AA bit)".into());
    }
    let soas: Vec<(u32, Name)> = m
        .answers()
        .iter()
        .filter(|rec| rec.name() == zone)
        .filter_map(|rec| match rec.data() {
            RData::SOA(soa) => Some((soa.serial(), soa.mname().clone())),
            _ => None,
        })
        .collect();
    match soas.len() {
        1 => Ok(soas.into_iter().next().expect("one SOA")),
        0 => Err("no SOA in the answer".into()),
        n => Err(format!("{n} SOA records in the answer")),
    }
}

/// A server for messages: `127.0.0.22` on port 53, else `127.0.0.22:5300`.
pub fn show_addr(a: &SocketAddr) -> String {
    if a.port() == 53 {
        a.ip().to_string()
    } else {
        a.to_string()
    }
}

fn label(name: &str, addr: Option<&SocketAddr>) -> String {
    match addr {
        Some(a) if name.parse::<IpAddr>().is_ok() || name == show_addr(a) => show_addr(a),
        Some(a) => format!("{name} ({})", show_addr(a)),
        None => name.to_string(),
    }
}

/// The addresses of one host name, looked up by the first zone that needs them.
type Lookup = OnceCell<Result<Vec<IpAddr>, String>>;

/// Shared state of one run's questions.
struct Run<'a> {
    check: &'a DnsSerialCheck,
    deadline: Instant,
    permits: Semaphore,
    /// Servers that timed out: not asked again.
    dead: Mutex<HashMap<SocketAddr, String>>,
    /// Questions that ended otherwise than by running out of time (an answer, a refusal).
    responsive: AtomicUsize,
    /// Questions that ran out of time, or were not asked for lack of it.
    out_of_time: AtomicUsize,
    /// Addresses of host names, looked up once per run.
    names: Mutex<HashMap<Name, Arc<Lookup>>>,
    resolvers: Vec<SocketAddr>,
    master: Option<(String, SocketAddr)>,
    extra: Vec<(String, Result<SocketAddr, String>)>,
}

impl Run<'_> {
    /// One question, within the concurrency bound and the run's deadline.
    async fn ask(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
        recursion: bool,
    ) -> Result<Response, String> {
        let dead = |run: &Self| run.dead.lock().expect("lock").get(&server).cloned();
        let late = |why: String| {
            self.out_of_time.fetch_add(1, Ordering::Relaxed);
            Err(why)
        };
        if let Some(why) = dead(self) {
            return late(why);
        }
        let _permit = self.permits.acquire().await.map_err(|e| e.to_string())?;
        if let Some(why) = dead(self) {
            return late(why);
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return late("not asked: the time limit (-t) ran out first".into());
        }
        let req = Request {
            name: name.clone(),
            rtype,
            recursion,
            dnssec: false,
            transport: self.check.transport,
            timeout: left.min(self.check.budget),
        };
        match dns::query(server, &req).await {
            Ok(r) => {
                self.responsive.fetch_add(1, Ordering::Relaxed);
                Ok(r)
            }
            Err(e @ QueryError::Timeout(_)) => {
                self.dead
                    .lock()
                    .expect("lock")
                    .entry(server)
                    .or_insert_with(|| "not answering (an earlier question timed out)".into());
                late(e.to_string())
            }
            Err(e) => {
                self.responsive.fetch_add(1, Ordering::Relaxed);
                Err(e.to_string())
            }
        }
    }

    /// The addresses of a host name (cached for the run).
    async fn addresses(&self, name: &Name) -> Result<Vec<IpAddr>, String> {
        let cell = self
            .names
            .lock()
            .expect("lock")
            .entry(name.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| self.resolve(name)).await.clone()
    }

    async fn resolve(&self, name: &Name) -> Result<Vec<IpAddr>, String> {
        let family = self.check.family;
        let shown = show_name(name);
        let ips: Vec<IpAddr> = if let Some(r) = self.check.resolver {
            let mut ips = Vec::new();
            let mut errors = Vec::new();
            for (rtype, ok) in [
                (RecordType::A, family != Family::V6),
                (RecordType::AAAA, family != Family::V4),
            ] {
                if !ok {
                    continue;
                }
                match self.ask(r, name, rtype, true).await {
                    Ok(resp) => ips.extend(
                        resp.message
                            .answers()
                            .iter()
                            .filter_map(|rec| dns::address(rec.data())),
                    ),
                    Err(e) => errors.push(e),
                }
            }
            if ips.is_empty() && !errors.is_empty() {
                return Err(format!("cannot resolve {shown}: {}", errors.join("; ")));
            }
            ips
        } else {
            tokio::net::lookup_host((shown.as_str(), 0))
                .await
                .map_err(|e| format!("cannot resolve {shown}: {e}"))?
                .map(|a| a.ip())
                .filter(|ip| family.accepts(ip))
                .collect()
        };
        if ips.is_empty() {
            Err(format!("{shown} has no address"))
        } else {
            Ok(ips)
        }
    }

    /// The master of a zone from its SOA MNAME, as the resolver reports it.
    async fn mname(&self, zone: &Name) -> Result<(String, SocketAddr), String> {
        let mut errors = Vec::new();
        for r in &self.resolvers {
            match self.ask(*r, zone, RecordType::SOA, true).await {
                Ok(resp) => {
                    let mname = resp
                        .message
                        .answers()
                        .iter()
                        .find_map(|rec| match rec.data() {
                            RData::SOA(soa) if rec.name() == zone => Some(soa.mname().clone()),
                            _ => None,
                        });
                    match mname {
                        Some(m) => {
                            let ips = self.addresses(&m).await?;
                            return Ok((show_name(&m), SocketAddr::new(ips[0], self.check.port)));
                        }
                        None => errors.push(format!(
                            "{}: {} without an SOA for the zone",
                            show_addr(r),
                            rcode_name(resp.message.response_code())
                        )),
                    }
                }
                Err(e) => errors.push(format!("{}: {e}", show_addr(r))),
            }
        }
        Err(format!(
            "cannot find the master (SOA MNAME): {}",
            errors.join("; ")
        ))
    }

    /// The name servers the master lists for the zone, with their addresses.
    async fn name_servers(
        &self,
        zone: &Name,
        ns: Result<Response, String>,
    ) -> (Vec<ServerFacts>, Option<String>) {
        let resp = match ns {
            Ok(r) if r.message.response_code() == ResponseCode::NoError => r,
            Ok(r) => {
                return (
                    Vec::new(),
                    Some(format!("NS: {}", rcode_name(r.message.response_code()))),
                )
            }
            Err(e) => return (Vec::new(), Some(format!("NS: {e}"))),
        };
        let names: Vec<Name> = resp
            .message
            .answers()
            .iter()
            .filter(|rec| rec.name() == zone)
            .filter_map(|rec| match rec.data() {
                RData::NS(ns) => Some(ns.0.clone()),
                _ => None,
            })
            .collect();
        if names.is_empty() {
            return (
                Vec::new(),
                Some("NS: the master lists no name servers".into()),
            );
        }
        let glue = |n: &Name| -> Vec<IpAddr> {
            resp.message
                .additionals()
                .iter()
                .filter(|rec| rec.name() == n)
                .filter_map(|rec| dns::address(rec.data()))
                .filter(|ip| self.check.family.accepts(ip))
                .collect()
        };
        let lookups = names.iter().map(|n| async move {
            let g = glue(n);
            let ips = if g.is_empty() {
                self.addresses(n).await
            } else {
                Ok(g)
            };
            (show_name(n), ips)
        });
        let mut out = Vec::new();
        for (name, ips) in futures_util::future::join_all(lookups).await {
            match ips {
                Ok(ips) => out.extend(ips.into_iter().map(|ip| ServerFacts {
                    name: name.clone(),
                    addr: Some(SocketAddr::new(ip, self.check.port)),
                    answer: Err(String::new()),
                })),
                Err(e) => out.push(ServerFacts {
                    name,
                    addr: None,
                    answer: Err(e),
                }),
            }
        }
        (out, None)
    }

    /// The serial of the zone on one server.
    async fn serial(&self, zone: &Name, addr: SocketAddr) -> Result<u32, String> {
        let r = self.ask(addr, zone, RecordType::SOA, false).await?;
        read_soa(zone, &r).map(|(s, _)| s)
    }

    async fn zone(&self, zone: String) -> ZoneFacts {
        let mut facts = ZoneFacts {
            zone: zone.clone(),
            master: MasterFacts {
                name: self.check.master.clone().unwrap_or_default(),
                addr: None,
                serial: Err(String::new()),
            },
            ns_error: None,
            servers: Vec::new(),
        };
        let name = match parse_name(&zone) {
            Ok(n) => n,
            Err(e) => {
                facts.master.serial = Err(e);
                return facts;
            }
        };
        let (mname, maddr) = match &self.master {
            Some(m) => m.clone(),
            None => match self.mname(&name).await {
                Ok(m) => m,
                Err(e) => {
                    facts.master.serial = Err(e);
                    return facts;
                }
            },
        };
        facts.master.name = mname;
        facts.master.addr = Some(maddr);
        let (soa, ns) = tokio::join!(
            self.ask(maddr, &name, RecordType::SOA, false),
            self.ask(maddr, &name, RecordType::NS, false)
        );
        facts.master.serial = soa.and_then(|r| read_soa(&name, &r).map(|(s, _)| s));
        if facts.master.serial.is_err() {
            return facts;
        }
        let (mut servers, ns_error) = self.name_servers(&name, ns).await;
        facts.ns_error = ns_error;
        for (n, a) in &self.extra {
            servers.push(match a {
                Ok(a) => ServerFacts {
                    name: n.clone(),
                    addr: Some(*a),
                    answer: Err(String::new()),
                },
                Err(e) => ServerFacts {
                    name: n.clone(),
                    addr: None,
                    answer: Err(e.clone()),
                },
            });
        }
        let mut seen = BTreeSet::new();
        servers.retain(|s| match s.addr {
            Some(a) => a != maddr && seen.insert(a),
            None => true,
        });
        let asks = servers.iter().map(|s| async {
            match s.addr {
                Some(a) => self.serial(&name, a).await,
                None => s.answer.clone(),
            }
        });
        let answers = futures_util::future::join_all(asks).await;
        for (s, a) in servers.iter_mut().zip(answers) {
            s.answer = a;
        }
        facts.servers = servers;
        facts
    }
}

impl DnsSerialCheck {
    /// The zones to check: the arguments, then the list files, then the named.conf
    /// master zones, without duplicates.
    pub fn zone_list(&self, src: &dyn named_conf::Source) -> Result<Vec<String>, String> {
        let mut zones = self.zones.clone();
        let mut add = |more: Vec<String>| {
            for z in more {
                if !zones.contains(&z) {
                    zones.push(z);
                }
            }
        };
        for f in &self.zones_from {
            add(named_conf::zones_from_list(&src.read(f)?));
        }
        for f in &self.named_conf {
            add(named_conf::master_zones(f, src)?);
        }
        if zones.is_empty() {
            return Err("no zones to check: the zone lists and named.conf files name none".into());
        }
        Ok(zones)
    }

    /// The state file of this configuration (master, servers, port and zone sources).
    pub fn state_path(&self) -> PathBuf {
        let identity = format!(
            "{:?}|{:?}|{}|{:?}|{:?}|{:?}",
            self.master, self.servers, self.port, self.zones, self.zones_from, self.named_conf
        );
        statefile::path_for(&self.state_dir, "dns_serial", &identity)
    }

    /// Asks every server about every zone.
    pub async fn ask(&self, zones: Vec<String>) -> Result<Serials, String> {
        let start = Instant::now();
        let resolve_one = |h: String| async move {
            let r = dns::resolve_host(&h, self.port, self.family)
                .await
                .map(|a| a[0]);
            (h, r)
        };
        let master = match &self.master {
            Some(m) => {
                let (h, r) = resolve_one(m.clone()).await;
                Some((h, r.map_err(|e| format!("master: {e}"))?))
            }
            None => None,
        };
        let extra =
            futures_util::future::join_all(self.servers.iter().cloned().map(resolve_one)).await;
        let resolvers = match self.resolver {
            Some(r) => vec![r],
            None => dns::system_servers(53, self.family),
        };
        let run = Run {
            check: self,
            deadline: start + self.budget,
            permits: Semaphore::new(self.parallel),
            dead: Mutex::new(HashMap::new()),
            responsive: AtomicUsize::new(0),
            out_of_time: AtomicUsize::new(0),
            names: Mutex::new(HashMap::new()),
            resolvers,
            master,
            extra,
        };
        let zones = futures_util::future::join_all(zones.into_iter().map(|z| run.zone(z))).await;
        Ok(Serials {
            zones,
            elapsed: start.elapsed(),
            timed_out: run.responsive.load(Ordering::Relaxed) == 0
                && run.out_of_time.load(Ordering::Relaxed) > 0,
        })
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `a, b, c, d, e and 3 more`.
fn some_names(names: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut s = names
        .iter()
        .take(SHOWN)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

/// The key of a (zone, server) pair in the state file.
fn lag_key(z: &ZoneFacts, s: &ServerFacts) -> (String, String) {
    (
        z.zone.clone(),
        s.addr.map(|a| a.to_string()).unwrap_or_default(),
    )
}

/// Since when each server now behind its master has been behind (pure): since the time
/// `prior` (the last run's state) says, or since `now` (Unix seconds) when it was not
/// behind then. Servers in sync or ahead drop out.
pub fn behind_since(serials: &Serials, prior: &LagState, now: u64) -> LagState {
    let mut next = LagState::default();
    for z in &serials.zones {
        let Ok(mserial) = z.master.serial else {
            continue;
        };
        for s in &z.servers {
            let behind = s
                .answer
                .as_ref()
                .ok()
                .and_then(|serial| serial_delta(*serial, mserial))
                .is_some_and(|delta| delta < 0);
            if behind {
                let key = lag_key(z, s);
                let since = prior
                    .0
                    .get(&key)
                    .copied()
                    .filter(|t| *t <= now)
                    .unwrap_or(now);
                next.0.insert(key, since);
            }
        }
    }
    next
}

/// Turns the observations into the result (pure): what [`Check::evaluate`] does with
/// the serials read.
fn evaluate(observed: &Observed, check: &DnsSerialCheck) -> CheckResult {
    let (facts, now) = (&observed.serials, observed.now);
    let mut result = CheckResult::new(State::Ok, String::new());
    let (mut out_of_sync, mut lame, mut no_master, mut catching_up) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut max_delta: i64 = 0;
    let mut servers: BTreeSet<SocketAddr> = BTreeSet::new();
    // zone names come from files too: shown escaped and cut
    let shown_zones: Vec<String> = facts.zones.iter().map(|z| shown(&z.zone)).collect();
    for (z, zone) in facts.zones.iter().zip(&shown_zones) {
        let zone = zone.as_str();
        servers.extend(z.master.addr);
        servers.extend(z.servers.iter().filter_map(|s| s.addr));
        let master_label = label(&z.master.name, z.master.addr.as_ref());
        let mserial = match &z.master.serial {
            Ok(s) => *s,
            Err(e) => {
                let who = if master_label.is_empty() {
                    String::new()
                } else {
                    format!(" {master_label}")
                };
                result.push_sub(State::Critical, format!("{zone}: master{who}: {e}"));
                no_master.push(zone);
                continue;
            }
        };
        let mut zone_lame = false;
        let mut zone_bad = false;
        let mut zone_moving = false;
        if let Some(e) = &z.ns_error {
            result.push_sub(
                State::Critical,
                format!("{zone}: cannot list its name servers on the master: {e}"),
            );
            zone_lame = true;
        }
        for s in &z.servers {
            let who = label(&s.name, s.addr.as_ref());
            let serial = match &s.answer {
                Ok(v) => *v,
                Err(e) => {
                    result.push_sub(State::Critical, format!("{zone}: {who} is lame: {e}"));
                    zone_lame = true;
                    continue;
                }
            };
            let Some(delta) = serial_delta(serial, mserial) else {
                result.push_sub(
                    State::Critical,
                    format!("{zone}: {who} serial {serial} cannot be compared with the master's {mserial} (2^31 apart)"),
                );
                zone_bad = true;
                continue;
            };
            max_delta = max_delta.max(delta.abs());
            if delta == 0 {
                continue;
            }
            let lag = -delta;
            let (state, text) = if delta < 0 {
                let since = observed.since.0.get(&lag_key(z, s)).copied().unwrap_or(now);
                let behind_for = now.saturating_sub(since);
                let text = format!(
                    "{zone}: {who} serial {serial} is {lag} behind the master's {mserial} for {behind_for}s"
                );
                if check.grace > 0 && behind_for <= check.grace {
                    (State::Ok, format!("{text} (grace {}s)", check.grace))
                } else {
                    (check.thresholds.state(lag as f64), text)
                }
            } else {
                (
                    check.thresholds.state(lag as f64),
                    format!(
                        "{zone}: {who} serial {serial} is {delta} ahead of the master's {mserial}"
                    ),
                )
            };
            if state == State::Ok {
                zone_moving = true;
            } else {
                zone_bad = true;
            }
            result.push_sub(state, text);
        }
        if zone_bad {
            out_of_sync.push(zone);
        } else if zone_moving {
            catching_up.push(zone);
        }
        if zone_lame {
            lame.push(zone);
        }
    }
    let n = facts.zones.len();
    let on = plural(servers.len(), "server", "servers");
    let mut parts = Vec::new();
    for (list, one, many) in [
        (&out_of_sync, "zone out of sync", "zones out of sync"),
        (&lame, "zone with lame servers", "zones with lame servers"),
        (
            &no_master,
            "zone without an answer from the master",
            "zones without an answer from the master",
        ),
    ] {
        if !list.is_empty() {
            parts.push(format!(
                "{}: {}",
                plural(list.len(), one, many),
                some_names(list)
            ));
        }
    }
    result.summary = if parts.is_empty() {
        let mut s = format!("{} in sync on {on}", plural(n, "zone", "zones"));
        if !catching_up.is_empty() {
            s.push_str(&format!(", {} catching up", catching_up.len()));
        }
        s
    } else {
        format!(
            "{} (of {} on {on})",
            parts.join("; "),
            plural(n, "zone", "zones")
        )
    };
    result.push_perf(PerfData::new("zones", n).min(0));
    result.push_perf(PerfData::new("out_of_sync", out_of_sync.len()).min(0));
    result.push_perf(PerfData::new("lame", lame.len() + no_master.len()).min(0));
    result.push_perf(
        PerfData::new("max_delta", max_delta)
            .thresholds(&check.thresholds)
            .min(0),
    );
    let secs = facts.elapsed.as_secs_f64();
    result.push_perf(
        PerfData::new("time", (secs * 1e6).round() / 1e6)
            .uom(Uom::Seconds)
            .min(0),
    );
    if facts.timed_out {
        result = result.into_timed_out();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use std::path::Path;

    fn check(argv: &[&str]) -> Result<DnsSerialCheck, UsageError> {
        validate::<DnsSerialCheck>(argv)
    }

    fn addr(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    fn zone(name: &str, master: u32, slaves: &[Result<u32, &str>]) -> ZoneFacts {
        ZoneFacts {
            zone: name.into(),
            master: MasterFacts {
                name: "ns1.example.net".into(),
                addr: addr("192.0.2.1:53"),
                serial: Ok(master),
            },
            ns_error: None,
            servers: slaves
                .iter()
                .enumerate()
                .map(|(i, a)| ServerFacts {
                    name: format!("ns{}.example.net", i + 2),
                    addr: addr(&format!("192.0.2.{}:53", i + 2)),
                    answer: a.map_err(|e| e.to_string()),
                })
                .collect(),
        }
    }

    fn facts(zones: Vec<ZoneFacts>) -> Serials {
        Serials {
            zones,
            elapsed: Duration::from_millis(250),
            timed_out: false,
        }
    }

    /// One run's verdict through the check's `evaluate`, and the state it leaves.
    fn run(
        c: &DnsSerialCheck,
        serials: &Serials,
        now: u64,
        prior: &LagState,
    ) -> (CheckResult, LagState) {
        let since = behind_since(serials, prior, now);
        let facts = DnsSerialFacts::Read(Observed {
            serials: serials.clone(),
            now,
            since: since.clone(),
            state_errors: Vec::new(),
        });
        (c.evaluate(&facts), since)
    }

    #[test]
    fn zone_lists_masters_and_state_files_that_fail() {
        let c = check(&["a.org"]).unwrap();
        let r = c.evaluate(&DnsSerialFacts::NoZones(
            "cannot read /list: No such file".into(),
        ));
        assert_eq!(
            render_text("DNS_SERIAL", &r),
            "DNS_SERIAL UNKNOWN - cannot read /list: No such file\n"
        );
        let r = c.evaluate(&DnsSerialFacts::Failed(
            "master: cannot resolve nowhere.test: failed".into(),
        ));
        assert_eq!(
            render_text("DNS_SERIAL", &r),
            "DNS_SERIAL CRITICAL - master: cannot resolve nowhere.test: failed\n"
        );
        // the serials are judged, and a state file that failed makes it UNKNOWN
        let r = c.evaluate(&DnsSerialFacts::Read(Observed {
            serials: facts(vec![zone("a.org", 7, &[Ok(7)])]),
            now: 1000,
            since: LagState::default(),
            state_errors: vec!["cannot read /s/x.state: Permission denied".into()],
        }));
        assert_eq!(
            render_text("DNS_SERIAL", &r),
            "DNS_SERIAL UNKNOWN - 1 zone in sync on 2 servers | zones=1;;;0 out_of_sync=0;;;0 lame=0;;;0 max_delta=0;0;;0 time=0.25s;;;0\nstate: cannot read /s/x.state: Permission denied\n"
        );
    }

    #[test]
    fn behind_since_keeps_the_first_time_and_drops_servers_in_sync() {
        let f = facts(vec![zone(
            "a.org",
            12,
            &[Ok(10), Ok(12), Ok(13), Err("REFUSED")],
        )]);
        let key = |ip: &str| ("a.org".to_string(), format!("{ip}:53"));
        let first = behind_since(&f, &LagState::default(), 1000);
        assert_eq!(first.0.len(), 1);
        assert_eq!(first.0.get(&key("192.0.2.2")), Some(&1000));
        assert_eq!(behind_since(&f, &first, 2000), first);
        // a time from the future in the file (a clock set back) starts again at now
        let mut future = LagState::default();
        future.0.insert(key("192.0.2.2"), 5000);
        assert_eq!(
            behind_since(&f, &future, 2000).0.get(&key("192.0.2.2")),
            Some(&2000)
        );
        // a hand-made state from the future never makes a negative time behind
        let c = check(&["a.org", "--grace", "60"]).unwrap();
        let r = c.evaluate(&DnsSerialFacts::Read(Observed {
            serials: f,
            now: 1000,
            since: future,
            state_errors: Vec::new(),
        }));
        assert!(
            r.details[0]
                .text
                .ends_with("behind the master's 12 for 0s (grace 60s)"),
            "{}",
            r.details[0].text
        );
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn rfc1982_serial_arithmetic() {
        assert_eq!(serial_delta(5, 5), Some(0));
        assert_eq!(serial_delta(4, 5), Some(-1));
        assert_eq!(serial_delta(6, 5), Some(1));
        // across the wrap: 1 follows 4294967295
        assert_eq!(serial_delta(4_294_967_295, 1), Some(-2));
        assert_eq!(serial_delta(1, 4_294_967_295), Some(2));
        assert_eq!(serial_delta(0, u32::MAX), Some(1));
        // 2^31 - 1 apart is still comparable, 2^31 is not
        assert_eq!(serial_delta(0, (1 << 31) - 1), Some(-(1 << 31) + 1));
        assert_eq!(serial_delta((1 << 31) - 1, 0), Some((1 << 31) - 1));
        assert_eq!(serial_delta(0, 1 << 31), None);
        assert_eq!(serial_delta(1 << 31, 0), None);
        assert_eq!(serial_delta(2024010101, 2024010105), Some(-4));
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            check(&[]).unwrap_err().0,
            "no zones: name them, or give --zones-from FILE or --named-conf FILE"
        );
        assert!(check(&["a..b"])
            .unwrap_err()
            .0
            .contains("invalid domain name"));
        assert!(check(&["x.org", "--parallel", "0"]).is_err());
        assert!(check(&["x.org", "--resolver", "nope"])
            .unwrap_err()
            .0
            .starts_with("invalid resolver 'nope'"));
        assert!(check(&["x.org", "-w", "5:1"]).is_err());
        assert!(check(&["x.org", "--grace", "-1"]).is_err());
        assert!(check(&["x.org", "-p", "0"])
            .unwrap_err()
            .0
            .ends_with("port 0 is out of range (1-65535)"));
        assert_eq!(
            check(&["x.org", "-m", "a\nb"]).unwrap_err().0,
            "invalid host 'a\\nb': '\\n' is not allowed in a host name"
        );
        let e = check(&["x.org", "-s", &"a".repeat(100_000)]).unwrap_err().0;
        assert!(e.len() < 300, "{e}");
        let e = check(&["x.org", "--resolver", &"a\n".repeat(100_000)])
            .unwrap_err()
            .0;
        assert!(e.len() < 400 && !e.contains('\n'), "{e}");
        assert_eq!(
            check(&["a\nb.org"]).unwrap_err().0,
            "invalid domain name 'a\\nb.org': control characters and spaces are not allowed"
        );
        let c = check(&["X.org.", "x.org", "--resolver", "[::1]:5300"]).unwrap();
        assert_eq!(c.zones, vec!["x.org"]);
        assert_eq!(c.resolver, Some("[::1]:5300".parse().unwrap()));
        assert_eq!(
            check(&["x.org", "--resolver", "127.0.0.1"])
                .unwrap()
                .resolver,
            Some("127.0.0.1:53".parse().unwrap())
        );
    }

    #[test]
    fn all_in_sync() {
        let c = check(&["a.org", "--grace", "60"]).unwrap();
        let f = facts(vec![
            zone("a.org", 7, &[Ok(7)]),
            zone("b.org", 9, &[Ok(9), Ok(9)]),
        ]);
        let (r, next) = run(&c, &f, 1000, &LagState::default());
        assert_eq!(
            render_text("DNS_SERIAL", &r),
            "DNS_SERIAL OK - 2 zones in sync on 3 servers | zones=2;;;0 out_of_sync=0;;;0 lame=0;;;0 max_delta=0;0;;0 time=0.25s;;;0\n"
        );
        assert_eq!(next, LagState::default());
    }

    #[test]
    fn behind_within_then_past_the_grace() {
        let c = check(&["a.org", "--grace", "60", "-c", "10"]).unwrap();
        let f = facts(vec![zone("a.org", 12, &[Ok(10)])]);
        let (r, s1) = run(&c, &f, 1000, &LagState::default());
        assert_eq!(r.state(), State::Ok);
        assert_eq!(r.summary, "1 zone in sync on 2 servers, 1 catching up");
        assert_eq!(
            r.details[0].text,
            "a.org: ns2.example.net (192.0.2.2) serial 10 is 2 behind the master's 12 for 0s (grace 60s)"
        );
        assert_eq!(
            s1.0.get(&("a.org".to_string(), "192.0.2.2:53".to_string())),
            Some(&1000)
        );
        // still within the grace 60 s later
        let (r, s2) = run(&c, &f, 1060, &s1);
        assert_eq!(r.state(), State::Ok);
        assert_eq!(s2, s1);
        // past it: the thresholds apply (-w 0 → WARNING; -c 10 not reached)
        let (r, _) = run(&c, &f, 1061, &s2);
        assert_eq!(
            render_text("DNS_SERIAL", &r),
            "DNS_SERIAL WARNING - 1 zone out of sync: a.org (of 1 zone on 2 servers) | zones=1;;;0 out_of_sync=1;;;0 lame=0;;;0 max_delta=2;0;10;0 time=0.25s;;;0\n[WARNING] a.org: ns2.example.net (192.0.2.2) serial 10 is 2 behind the master's 12 for 61s\n"
        );
        let far = facts(vec![zone("a.org", 100, &[Ok(10)])]);
        assert_eq!(run(&c, &far, 1061, &s2).0.state(), State::Critical);
        // back in sync: the state entry goes away
        let ok = facts(vec![zone("a.org", 12, &[Ok(12)])]);
        let (r, s3) = run(&c, &ok, 1100, &s2);
        assert_eq!(r.state(), State::Ok);
        assert_eq!(s3, LagState::default());
    }

    #[test]
    fn drift_allowed_by_the_ranges() {
        let c = check(&["a.org", "--grace", "0", "-w", "5", "-c", "50"]).unwrap();
        let f = facts(vec![zone("a.org", 12, &[Ok(10)])]);
        let (r, _) = run(&c, &f, 1000, &LagState::default());
        assert_eq!(r.state(), State::Ok);
        // ahead of the master: lag -3 is outside 0..5 and 0..50, at once (no grace)
        let ahead = facts(vec![zone("a.org", 12, &[Ok(15)])]);
        let (r, next) = run(&c, &ahead, 1000, &LagState::default());
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.details[0].text,
            "a.org: ns2.example.net (192.0.2.2) serial 15 is 3 ahead of the master's 12"
        );
        assert_eq!(next, LagState::default());
    }

    #[test]
    fn serial_wrap_counts_as_behind() {
        let c = check(&["a.org", "--grace", "0"]).unwrap();
        let f = facts(vec![zone("a.org", 1, &[Ok(4_294_967_295)])]);
        let (r, _) = run(&c, &f, 1000, &LagState::default());
        assert_eq!(r.state(), State::Warning);
        assert!(r.details[0]
            .text
            .contains("serial 4294967295 is 2 behind the master's 1"));
        let odd = facts(vec![zone("a.org", 0, &[Ok(1 << 31)])]);
        let (r, _) = run(&c, &odd, 1000, &LagState::default());
        assert_eq!(r.state(), State::Critical);
        assert!(r.details[0]
            .text
            .ends_with("cannot be compared with the master's 0 (2^31 apart)"));
    }

    #[test]
    fn lame_servers_and_missing_master() {
        let c = check(&["a.org"]).unwrap();
        let mut nomaster = zone("c.org", 1, &[]);
        nomaster.master.serial = Err("REFUSED".into());
        let f = facts(vec![
            zone("a.org", 5, &[Ok(5), Err("no answer within 2s")]),
            zone("b.org", 5, &[Err("REFUSED")]),
            nomaster,
        ]);
        let (r, _) = run(&c, &f, 1000, &LagState::default());
        assert_eq!(
            render_text("DNS_SERIAL", &r),
            "DNS_SERIAL CRITICAL - 2 zones with lame servers: a.org, b.org; 1 zone without an answer from the master: c.org (of 3 zones on 3 servers) | zones=3;;;0 out_of_sync=0;;;0 lame=3;;;0 max_delta=0;0;;0 time=0.25s;;;0\n\
[CRITICAL] a.org: ns3.example.net (192.0.2.3) is lame: no answer within 2s\n\
[CRITICAL] b.org: ns2.example.net (192.0.2.2) is lame: REFUSED\n\
[CRITICAL] c.org: master ns1.example.net (192.0.2.1): REFUSED\n"
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let c = check(&["a.org", "--grace", "0"]).unwrap();
        let zones = (0..8)
            .map(|i| zone(&format!("z{i}.org"), 2, &[Ok(1)]))
            .collect();
        let (r, _) = run(&c, &facts(zones), 1, &LagState::default());
        assert_eq!(
            r.summary,
            "8 zones out of sync: z0.org, z1.org, z2.org, z3.org, z4.org and 3 more (of 8 zones on 2 servers)"
        );
    }

    #[test]
    fn zone_sources_and_state_path() {
        struct Src;
        impl named_conf::Source for Src {
            fn read(&self, p: &Path) -> Result<String, String> {
                match p.to_str() {
                    Some("/list") => Ok("b.org\na.org\n".into()),
                    Some("/named.conf") => Ok("zone \"c.org\" { type master; };".into()),
                    Some("/empty") => Ok("# nothing\n".into()),
                    _ => Err(format!("cannot read {}: No such file", p.display())),
                }
            }
        }
        let c = check(&[
            "a.org",
            "--zones-from",
            "/list",
            "--named-conf",
            "/named.conf",
        ])
        .unwrap();
        assert_eq!(c.zone_list(&Src).unwrap(), vec!["a.org", "b.org", "c.org"]);
        let c = check(&["--zones-from", "/missing"]).unwrap();
        assert_eq!(
            c.zone_list(&Src).unwrap_err(),
            "cannot read /missing: No such file"
        );
        let c = check(&["--zones-from", "/empty"]).unwrap();
        assert!(c
            .zone_list(&Src)
            .unwrap_err()
            .starts_with("no zones to check"));
        let a = check(&["a.org", "--state-dir", "/s"]).unwrap().state_path();
        // the same name as earlier releases gave it: a slave's grace survives an upgrade
        assert_eq!(
            a,
            Path::new("/s/dns_serial-8620079cc59a2c2a.state"),
            "{}",
            a.display()
        );
        let b = check(&["a.org", "--state-dir", "/s", "-m", "x"])
            .unwrap()
            .state_path();
        assert!(a.starts_with("/s") && a != b);
        assert_eq!(
            a,
            check(&["a.org", "--state-dir", "/s"]).unwrap().state_path()
        );
    }

    #[test]
    fn nothing_answered_in_time_is_a_timeout_of_the_whole_check() {
        let c = check(&["a.org"]).unwrap();
        let mut silent = zone("a.org", 1, &[]);
        silent.master.serial = Err("no answer within 1.8s".into());
        let mut f = facts(vec![silent]);
        f.timed_out = true;
        let (r, _) = run(&c, &f, 1000, &LagState::default());
        assert!(r.timed_out);
        let text = "DNS_SERIAL CRITICAL - 1 zone without an answer from the master: a.org (of 1 zone on 1 server) | zones=1;;;0 out_of_sync=0;;;0 lame=1;;;0 max_delta=0;0;;0 time=0.25s;;;0\na.org: master ns1.example.net (192.0.2.1): no answer within 1.8s\n";
        assert_eq!(render_text("DNS_SERIAL", &r), text);
        assert_eq!(
            render_text("DNS_SERIAL", &r.with_timeout_state(State::Unknown)),
            text.replace("CRITICAL", "UNKNOWN")
        );
        // some servers answered: each silent one stays a CRITICAL sub-result, whatever -t
        let f = facts(vec![zone(
            "a.org",
            5,
            &[Ok(5), Err("no answer within 1.8s")],
        )]);
        let (r, _) = run(&c, &f, 1000, &LagState::default());
        assert!(!r.timed_out);
        assert_eq!(
            r.with_timeout_state(State::Unknown).state(),
            State::Critical
        );
    }

    #[test]
    fn zone_names_from_files_are_shown_escaped_and_cut() {
        let c = check(&["a.org"]).unwrap();
        let long = format!("{}.org", "z".repeat(100_000));
        let mut bad = zone(&long, 1, &[]);
        bad.master.serial = Err("invalid domain name".into());
        let (r, _) = run(&c, &facts(vec![bad]), 1000, &LagState::default());
        let text = render_text("DNS_SERIAL", &r);
        assert!(text.len() < 1000, "{} bytes", text.len());
        assert!(text.contains("... (100004 bytes)"), "{text}");
    }
}
