//! Load generator for NRPE servers (benchmarks only): N concurrent clients each send one
//! query per connection, back to back, for a fixed time, then stop by themselves. Prints
//! one line: requests, errors, requests per second, p50 and p99 latency. TLS sessions
//! are not resumed: each query pays a full handshake, as from a new check_nrpe process.
//!
//! nrpe_load --port PORT [--host 127.0.0.1] [--clients 8] [--seconds 5] [--plain] [--v2]
//!           [--command NAME]

use hcoop_plugins::checks::nrpe_client::{exchange, rustls_config, TlsOptions, Transport};
use hcoop_plugins::proto::nrpe::{Packet, Version};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

struct Opts {
    host: String,
    port: u16,
    clients: usize,
    seconds: f64,
    plain: bool,
    version: Version,
    command: String,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        host: "127.0.0.1".into(),
        port: 0,
        clients: 8,
        seconds: 5.0,
        plain: false,
        version: Version::V4,
        command: "_NRPE_CHECK".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--host" => o.host = value()?,
            "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--clients" => o.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?,
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--command" => o.command = value()?,
            "--plain" => o.plain = true,
            "--v2" => o.version = Version::V2,
            _ => return Err(format!("unknown option {a}")),
        }
    }
    if o.port == 0 || o.clients == 0 || !(o.seconds > 0.0 && o.seconds <= 600.0) {
        return Err("need --port, --clients >= 1 and --seconds in (0, 600]".into());
    }
    Ok(o)
}

fn main() {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("nrpe_load: {e}");
            std::process::exit(2)
        }
    };
    let transport = if o.plain {
        Transport::Plain
    } else {
        // rustls, not verifying the server, as check_nrpe without -A
        let opts = TlsOptions {
            use_adh: 0,
            ..TlsOptions::default()
        };
        let mut config = rustls_config(&opts).expect("TLS client configuration");
        // every query a full handshake, as from a new check_nrpe process
        config.resumption = rustls::client::Resumption::disabled();
        Transport::Rustls(std::sync::Arc::new(config))
    };
    let addr: SocketAddr = format!("{}:{}", o.host, o.port)
        .parse()
        .expect("--host must be an address");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
    let start = Instant::now();
    let (mut lat, errors) = rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..o.clients {
            let transport = transport.clone();
            let host = o.host.clone();
            let query = Packet::query(o.version, o.command.as_bytes());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0u64;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let left = deadline.saturating_duration_since(t) + Duration::from_secs(10);
                    match tokio::time::timeout(left, exchange(&transport, &host, addr, &query))
                        .await
                    {
                        Ok(Ok(_)) => lat.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await.expect("client task");
            all.extend(l);
            errors += e;
        }
        (all, errors)
    });
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "requests={} errors={} rps={:.0} p50_ms={:.2} p99_ms={:.2}",
        lat.len(),
        errors,
        lat.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
    );
}
