//! check_curl: the name monitoring-plugins 3.0 gives its HTTP check (check_http is
//! deprecated there). The same check as check_http, with the same options (check_curl's
//! own ones, such as `--http-version`, `--haproxy-protocol`, `-x`/`--proxy`, `-D`,
//! `--enable-automatic-decompression`, are accepted by both); only its name and help
//! differ.

use super::args::Args;
use super::{HttpModes, ModeFacts};
use crate::plugin::{renamed_args, Check, CheckResult, CommonArgs, UsageError, Work};
use clap::Command;

renamed_args! {
    /// check_http's command line under check_curl's name.
    pub struct CurlArgs(Args), rename
}

const ABOUT: &str = "Checks an HTTP(S) virtual host, or hundreds of them at once \
(monitoring-plugins' check_curl: the same check as our check_http).";

const DIFFERENCES: &str = "Differences from monitoring-plugins' check_curl: no libcurl \
underneath. --http-version 2 (or 2.0) offers HTTP/2 by ALPN with -S and falls back to \
HTTP/1.1 when the server does not take it, as curl does; over plain HTTP the request is \
HTTP/1.1 (curl asks such a server to upgrade to h2c, which few do; we do not ask). The \
status line printed shows the version used (HTTP/2 200). Certificates are always verified unless --insecure \
(-D is accepted and changes nothing). Proxies: http:// only (no SOCKS, no https:// \
proxy), and only when -x names one (the http_proxy/https_proxy environment variables are \
not read).";

fn rename(cmd: Command) -> Command {
    let long = format!(
        "{}\n\n{DIFFERENCES}",
        cmd.get_long_about()
            .map(|s| s.to_string())
            .unwrap_or_default()
    );
    cmd.name("check_curl")
        .bin_name("check_curl")
        .about(ABOUT)
        .long_about(long)
}

/// The check behind check_curl: check_http's modes.
pub struct CurlCheck(pub HttpModes);

impl Check for CurlCheck {
    type Args = CurlArgs;
    type Facts = ModeFacts;
    const LABEL: &'static str = "HTTP";

    fn common(args: &CurlArgs) -> &CommonArgs {
        &args.0.common
    }

    fn new(args: CurlArgs) -> Result<Self, UsageError> {
        HttpModes::new(args.0).map(CurlCheck)
    }

    fn fetch(&self) -> Work<'_, ModeFacts> {
        self.0.fetch()
    }

    fn evaluate(&self, facts: &ModeFacts) -> CheckResult {
        self.0.evaluate(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::{parse_args, validate};
    use crate::proto::http::fetch::HttpVersion;
    use clap::CommandFactory;

    #[test]
    fn named_check_curl_with_check_http_options() {
        CurlArgs::command().debug_assert();
        assert_eq!(CurlArgs::command().get_name(), "check_curl");
        let help = match parse_args::<CurlCheck>(["check_curl", "--help"]).unwrap() {
            Err(text) => text,
            Ok(_) => panic!("--help parsed as a run"),
        };
        assert!(help.contains("check_curl"), "{help}");
        assert!(help.contains("--http-version"), "{help}");
        assert!(help.contains("offers HTTP/2 by ALPN"), "{help}");
        let c = validate::<CurlCheck>(&[
            "-H",
            "www.test:8080",
            "--http-version",
            "1.0",
            "--haproxy-protocol",
            "-D",
            "-x",
            "http://proxy.test:3128",
            "--noproxy",
            "intra.test",
        ])
        .unwrap();
        let HttpModes::One(page) = &c.0 else {
            panic!("one URL")
        };
        assert_eq!(
            (page.target.vhost.as_str(), page.target.port),
            ("www.test", 8080)
        );
        assert!(page.spec.version == HttpVersion::Http10 && page.spec.haproxy);
        let proxy = page.spec.proxy.as_ref().unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.test", 3128));
        assert!(!proxy.serves("www.intra.test") && proxy.serves("www.test"));
        let c = validate::<CurlCheck>(&["-H", "x", "--http-version", "2"]).unwrap();
        let HttpModes::One(page) = &c.0 else {
            panic!("one URL")
        };
        assert_eq!(page.spec.version, HttpVersion::Http2);
        assert!(validate::<CurlCheck>(&["-H", "x", "--http-version", "4"]).is_err());
        assert!(validate::<CurlCheck>(&["-H", "x", "-x", "socks5://p"]).is_err());
        assert!(validate::<CurlCheck>(&["-H", "x", "-D", "--insecure"]).is_err());
    }
}
