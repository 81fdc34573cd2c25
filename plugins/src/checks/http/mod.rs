//! check_http, one family in one directory: the command line both modes take
//! ([`args`]), one URL ([`page`]), and every virtual host of a list or an Apache
//! configuration ([`vhosts`]), each judged as one URL is. The HTTP client, the
//! fetching of a page's facts and the vhost lists are in `proto::http`.

pub mod args;
pub mod curl;
pub mod page;
pub mod vhosts;

pub use args::Args;
pub use curl::CurlCheck;
pub use page::HttpCheck;

use crate::plugin::{Check, CheckResult, CommonArgs, UsageError, Work};

/// check_http's two modes, chosen by its arguments: one URL ([`page`]), or every virtual
/// host of a list ([`vhosts`]) each judged as one URL is.
pub enum HttpModes {
    One(page::HttpCheck),
    Many(vhosts::VhostsCheck),
}

/// What a run observed, in the mode's own terms.
#[derive(Debug, Clone, PartialEq)]
pub enum ModeFacts {
    One(Box<page::PageFacts>),
    Many(vhosts::VhostsFacts),
}

impl Check for HttpModes {
    type Args = args::Args;
    type Facts = ModeFacts;
    const LABEL: &'static str = "HTTP";

    fn common(args: &args::Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: args::Args) -> Result<Self, UsageError> {
        if !args.is_multi() {
            return page::HttpCheck::new(args).map(HttpModes::One);
        }
        let page = page::HttpCheck::from_args(&args, true)?;
        vhosts::VhostsCheck::new(&args, page).map(HttpModes::Many)
    }

    fn fetch(&self) -> Work<'_, ModeFacts> {
        match self {
            HttpModes::One(c) => {
                Work::remote(async move { ModeFacts::One(Box::new(c.fetch_page().await)) })
            }
            HttpModes::Many(c) => Work::remote(async move { ModeFacts::Many(c.fetch().await) }),
        }
    }

    fn evaluate(&self, facts: &ModeFacts) -> CheckResult {
        match (self, facts) {
            (HttpModes::One(c), ModeFacts::One(f)) => c.evaluate(f),
            (HttpModes::Many(c), ModeFacts::Many(f)) => c.evaluate(f),
            _ => CheckResult::unknown("internal error: the facts of the other mode"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::plugin::State;
    use crate::proto::http::fetch::HttpFacts;
    use crate::proto::http::{self as client, vhosts::Target};
    use std::time::Duration;

    fn modes(argv: &[&str]) -> HttpModes {
        validate::<HttpModes>(argv).unwrap()
    }

    fn page(vhost: &str, status_line: &str, ms: u64) -> (Target, HttpFacts) {
        let target = Target {
            vhost: vhost.into(),
            address: None,
            port: 80,
            tls: false,
            uri: "/".into(),
            expect: None,
        };
        let head = format!("{status_line}\r\nServer: nginx");
        let facts = HttpFacts {
            url: target.url().to_string(),
            vhost: vhost.into(),
            response: Some(client::parse_head(head.as_bytes()).unwrap()),
            total: Duration::from_millis(ms),
            ..Default::default()
        };
        (target, facts)
    }

    #[test]
    fn one_url_is_judged_by_the_page_verdict() {
        let c = modes(&["-H", "www.test", "-w", "0.5"]);
        let (_, http) = page("www.test", "HTTP/1.1 200 OK", 700);
        let r = c.evaluate(&ModeFacts::One(Box::new(page::PageFacts { http, now: 0 })));
        assert_eq!(
            render_text("HTTP", &r),
            "HTTP WARNING - response time 0.700s - HTTP/1.1 200 OK - 34 bytes in 0.700 second response time | time=0.7s;0.5;;0;10 size=34B;;;0\n"
        );
    }

    #[test]
    fn many_vhosts_are_each_judged_then_counted() {
        let c = modes(&["--vhosts-from", "/nonexistent", "-e", "200", "-c", "1"]);
        let (ta, a) = page("a.test", "HTTP/1.1 200 OK", 1);
        let (tb, b) = page("b.test", "HTTP/1.1 301 Moved", 2);
        let facts = ModeFacts::Many(Ok(vhosts::Fetched {
            targets: vec![ta, tb],
            pages: vec![a, b],
            elapsed: Duration::from_millis(4),
            now: 0,
        }));
        assert_eq!(
            render_text("HTTP", &c.evaluate(&facts)),
            "HTTP OK - 2 vhosts checked in 0.004s: 1 OK, 0 WARNING, 1 CRITICAL, 0 UNKNOWN; failing: b.test | vhosts=2;;;0 failing=1;;1;0;2 ok=1;;;0;2 warning=0;;;0;2 critical=1;;;0;2 unknown=0;;;0;2 time=0.004s;;;0 time_max=0.002s;;;0\n[CRITICAL] http://b.test/: unexpected status 301 on http://b.test/ - HTTP/1.1 301 Moved - 37 bytes in 0.002 second response time\n"
        );
        // a list that cannot be read names itself, UNKNOWN
        let r = c.evaluate(&ModeFacts::Many(Err(
            "cannot read /nonexistent: gone".into()
        )));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Unknown, "cannot read /nonexistent: gone")
        );
        // facts of the other mode are an internal error, never a panic
        let r = c.evaluate(&ModeFacts::One(Box::default()));
        assert_eq!(r.state(), State::Unknown);
    }
}
