//! The `status`, `ack` and `downtime` commands: small HTTP/1.1 requests to the running
//! daemon's API on its listen address.

use crate::http::{AckRequest, DowntimeRequest, Problems, View};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends one request and returns the JSON body of a 2xx answer; an error answer's
/// `error` text otherwise.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<serde_json::Value> {
    let mut s = TcpStream::connect(addr).with_context(|| {
        format!("cannot reach the daemon at {addr} (is hcoop-monitor running?)")
    })?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("malformed answer from the daemon")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("malformed status line from the daemon")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    let json: serde_json::Value = serde_json::from_str(&body)
        .with_context(|| format!("answer is not JSON (HTTP {status})"))?;
    if !(200..300).contains(&status) {
        bail!(
            "{}",
            json.get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("request refused")
        );
    }
    Ok(json)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// The services table of the running daemon, problems first; the exit code is the
/// worst service state.
pub fn status(addr: &str, problems_only: bool) -> Result<(String, i32)> {
    let views: Vec<View> = if problems_only {
        let p: Problems = serde_json::from_value(request(addr, "GET", "/api/problems", None)?)?;
        p.hosts.into_iter().chain(p.services).collect()
    } else {
        let hosts: Vec<View> = serde_json::from_value(request(addr, "GET", "/api/hosts", None)?)?;
        let svcs: Vec<View> = serde_json::from_value(request(addr, "GET", "/api/services", None)?)?;
        hosts.into_iter().chain(svcs).collect()
    };
    let mut views = views;
    views.sort_by_key(|v| (!v.is_problem(), v.name()));
    let w = views
        .iter()
        .map(|v| v.name().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!("{:w$}  {:11}  {:9}  SUMMARY\n", "NAME", "STATE", "TYPE");
    let mut worst = hcoop_plugins::plugin::State::Ok;
    for v in &views {
        let mut flags = String::new();
        if v.acknowledged {
            flags.push_str(" [ack]");
        }
        if v.in_downtime {
            flags.push_str(" [downtime]");
        }
        if v.flapping {
            flags.push_str(" [flapping]");
        }
        if v.service.is_some() {
            if let Ok(s) = v.state.parse::<hcoop_plugins::plugin::State>() {
                worst = worst.worst(s);
            }
        }
        out.push_str(&format!(
            "{:w$}  {:11}  {:9}  {}{flags}\n",
            v.name(),
            v.state,
            format!("{} {}/{}", v.state_type, v.attempt, v.max_check_attempts),
            v.output.lines().next().unwrap_or("")
        ));
    }
    Ok((out, worst.exit_code()))
}

/// Acknowledges a problem.
pub fn ack(addr: &str, req: &AckRequest) -> Result<()> {
    request(addr, "POST", "/api/ack", Some(serde_json::to_string(req)?))?;
    Ok(())
}

/// Schedules a downtime; returns its id.
pub fn downtime(addr: &str, req: &DowntimeRequest) -> Result<u64> {
    let v = request(
        addr,
        "POST",
        "/api/downtime",
        Some(serde_json::to_string(req)?),
    )?;
    v.get("id")
        .and_then(|i| i.as_u64())
        .context("answer without an id")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dechunks() {
        assert_eq!(super::dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
