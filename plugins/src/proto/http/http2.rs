//! HTTP/2 (RFC 9113) for one request on a connection whose TLS handshake chose `h2` by
//! ALPN (`--http-version 2`): the same request and the same bounds as HTTP/1.x — the
//! header block at most [`MAX_HEAD_BYTES`], the body read up to `read` bytes of which the
//! first `keep` are kept — and a [`Response`] of the same shape, whose status line is
//! `HTTP/2 200` as curl prints it. Frames, HPACK and flow control are the `h2` crate's.

use super::{BodySink, ExchangeTimes, HttpError, Request, Response, MAX_HEAD_BYTES};
use bytes::Bytes;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};

/// The ALPN protocols offered when HTTP/2 is asked for, preferred first: a server
/// without HTTP/2 answers the same request in HTTP/1.1, as curl's does.
pub const ALPN: &[&[u8]] = &[b"h2", b"http/1.1"];

/// True when ALPN chose HTTP/2.
pub fn negotiated(alpn: Option<&[u8]>) -> bool {
    alpn == Some(b"h2".as_slice())
}

/// Request headers HTTP/2 does not carry: connection-specific ones (forbidden) and
/// `Host` (sent as the `:authority` pseudo-header).
const NOT_SENT: [&str; 6] = [
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// The request as HTTP/2 sends it: `:authority` from a `Host` header given by the user,
/// else from the request's host.
fn to_http(req: &Request, scheme: &str) -> Result<http::Request<()>, HttpError> {
    let authority = req
        .headers
        .iter()
        .find(|(h, _)| h.eq_ignore_ascii_case("host"))
        .map_or(req.host.as_str(), |(_, v)| v.as_str());
    let method = http::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| format!("invalid request method '{}'", req.method))?;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("{scheme}://{authority}{}", req.target))
        .version(http::Version::HTTP_2);
    for (name, value) in &req.headers {
        if !NOT_SENT.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    if let Some(b) = &req.body {
        if !req
            .headers
            .iter()
            .any(|(h, _)| h.eq_ignore_ascii_case("content-length"))
        {
            builder = builder.header("content-length", b.len());
        }
    }
    builder
        .body(())
        .map_err(|e| format!("invalid HTTP/2 request: {e}"))
}

/// The status line and headers of an HTTP/2 response as [`Response`] holds them.
fn to_response(parts: &http::response::Parts) -> Result<Response, HttpError> {
    let status_line = format!("HTTP/2 {}", parts.status.as_u16());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if headers.len() > super::MAX_HEADERS {
        return Err(format!("more than {} response headers", super::MAX_HEADERS));
    }
    let header_bytes = status_line.len()
        + 2
        + headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum::<usize>();
    let content_length = match parts.headers.get(http::header::CONTENT_LENGTH) {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    format!(
                        "invalid Content-Length '{}'",
                        crate::proto::net::printable(v.as_bytes(), 40)
                    )
                })?,
        ),
        None => None,
    };
    Ok(Response {
        status_line,
        status: parts.status.as_u16(),
        headers,
        content_length,
        header_bytes,
        ..Default::default()
    })
}

/// Sends `req` over HTTP/2 on `io` (after the TLS handshake) and reads its response
/// within the bounds of [`super::exchange_bounded`].
pub async fn exchange<S>(
    io: S,
    req: &Request,
    scheme: &str,
    read: u64,
    keep: usize,
) -> Result<(Response, ExchangeTimes), HttpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = to_http(req, scheme)?;
    let start = Instant::now();
    let (client, connection) = h2::client::Builder::new()
        .max_header_list_size(MAX_HEAD_BYTES as u32)
        .enable_push(false)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(|e| format!("HTTP/2 connection failed: {e}"))?;
    let body = req.body.clone();
    let work = async move {
        let mut client = client
            .ready()
            .await
            .map_err(|e| format!("HTTP/2 connection failed: {e}"))?;
        let (answer, mut send) = client
            .send_request(request, body.is_none())
            .map_err(|e| format!("cannot send the request: {e}"))?;
        if let Some(b) = body {
            send.send_data(Bytes::from(b), true)
                .map_err(|e| format!("cannot send the request: {e}"))?;
        }
        let answer = answer
            .await
            .map_err(|e| format!("HTTP/2 stream failed while reading the response: {e}"))?;
        let mut times = ExchangeTimes {
            first_byte: start.elapsed(),
            headers: start.elapsed(),
            ..Default::default()
        };
        let (parts, mut stream) = answer.into_parts();
        let mut resp = to_response(&parts)?;
        let mut sink = BodySink::new(keep);
        while let Some(data) = stream.data().await {
            let data =
                data.map_err(|e| format!("HTTP/2 stream failed while reading the body: {e}"))?;
            sink.push(&data);
            let _ = stream.flow_control().release_capacity(data.len());
            if sink.len >= read && !stream.is_end_stream() {
                resp.truncated = true;
                break;
            }
        }
        times.transfer = start.elapsed().saturating_sub(times.first_byte);
        resp.body = sink.body;
        resp.body_len = sink.len;
        Ok((resp, times))
    };
    tokio::pin!(connection, work);
    tokio::select! {
        biased;
        done = &mut work => done,
        ended = &mut connection => Err(match ended {
            Ok(()) => "the server ended the HTTP/2 connection before its response".into(),
            Err(e) => format!("HTTP/2 connection failed: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn request(headers: &[(&str, &str)], body: Option<&[u8]>) -> Request {
        Request {
            method: "POST".into(),
            host: "www.example.org:8443".into(),
            target: "/a?b=c".into(),
            headers: headers
                .iter()
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
            body: body.map(<[u8]>::to_vec),
            http10: false,
        }
    }

    #[test]
    fn requests_carry_no_connection_headers() {
        let r = to_http(
            &request(
                &[("Connection", "close"), ("X-Test", "1"), ("Upgrade", "h2c")],
                Some(b"abc"),
            ),
            "https",
        )
        .unwrap();
        assert_eq!(r.uri().to_string(), "https://www.example.org:8443/a?b=c");
        assert_eq!(r.method(), "POST");
        assert!(r.headers().get("connection").is_none());
        assert!(r.headers().get("upgrade").is_none());
        assert_eq!(r.headers()["x-test"], "1");
        assert_eq!(r.headers()["content-length"], "3");
    }

    #[test]
    fn a_host_header_is_the_authority() {
        let r = to_http(&request(&[("Host", "other.test")], None), "https").unwrap();
        assert_eq!(r.uri().authority().unwrap().as_str(), "other.test");
        assert!(r.headers().get("host").is_none());
    }

    #[test]
    fn bad_requests_are_errors() {
        let mut r = request(&[], None);
        r.method = "GE T".into();
        assert!(to_http(&r, "https").unwrap_err().contains("method"));
        let r = request(&[("X-Bad", "a\nb")], None);
        assert!(to_http(&r, "https").is_err());
    }

    #[test]
    fn responses_have_curls_status_line() {
        let (parts, ()) = http::Response::builder()
            .status(204)
            .header("content-length", "0")
            .header("server", "nginx")
            .body(())
            .unwrap()
            .into_parts();
        let r = to_response(&parts).unwrap();
        assert_eq!(r.status_line, "HTTP/2 204");
        assert_eq!(r.status, 204);
        assert_eq!(r.content_length, Some(0));
        assert_eq!(r.header("Server"), Some("nginx"));
        let (parts, ()) = http::Response::builder()
            .header("content-length", "x1")
            .body(())
            .unwrap()
            .into_parts();
        assert!(to_response(&parts).unwrap_err().contains("Content-Length"));
    }

    #[test]
    fn alpn_choice() {
        assert!(negotiated(Some(b"h2")));
        assert!(!negotiated(Some(b"http/1.1")));
        assert!(!negotiated(None));
    }

    /// Text for a request's parts: tokens, non-ASCII, controls, separators.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[!-~]{0,12}",
            "[ -~\t\r\n\u{0}\u{7f}\u{e9}\u{1F600}]{0,12}",
            prop::sample::select(vec![
                "",
                ":",
                ":authority",
                "host",
                "Host",
                "connection",
                "te",
                "content-length",
                "GET",
                "CONNECT",
                "[::1]",
                "a:b@c",
                "/",
                "*",
                "?",
                "#",
            ])
            .prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any method, host, target and headers: no panic (an error is fine), and a
        /// request made carries none of the headers HTTP/2 does not send.
        #[test]
        fn any_request_converts_or_is_refused(
            method in text(),
            host in text(),
            target in text(),
            headers in proptest::collection::vec((text(), text()), 0..6),
            body in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
            scheme in prop::sample::select(vec!["https", "http", "", "h s"]),
        ) {
            let req = Request { method, host, target, headers, body, http10: false };
            if let Ok(r) = to_http(&req, scheme) {
                for name in NOT_SENT {
                    prop_assert!(r.headers().get(name).is_none(), "{}", name);
                }
                prop_assert_eq!(r.method().as_str(), req.method.as_str());
                if req.body.is_some() {
                    prop_assert!(r.headers().contains_key("content-length"));
                }
            }
        }
    }
}
