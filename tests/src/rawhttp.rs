//! One raw HTTP request over TCP, written as given: for the requests a client library
//! would not send (bad methods, oversized or malformed bodies, forged headers).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `request` to `addr` as it is and reads the answer to its end (20 s at most);
/// returns the status code (0 when there is none) and the body.
pub fn raw(addr: &str, request: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (code, body)
}
