//! The command line of check_http, shared by its two modes: one URL, and many virtual
//! hosts at once. Raw, as typed: the checks validate it.

use crate::plugin::{CommonArgs, FamilyArgs, ModeLevelArgs};
use crate::proto::tls::{CertDays, TlsArgs};
use clap::Parser;
use std::path::PathBuf;

/// Command line of check_http.
#[derive(Parser, Debug)]
#[command(
    mut_arg("warning", |a| a
        .value_name("SECONDS|N|N%")
        .help("Response time in seconds for WARNING (multi-vhost mode: failing vhosts, N or N%)")),
    mut_arg("critical", |a| a
        .value_name("SECONDS|N|N%")
        .help("Response time in seconds for CRITICAL (multi-vhost mode: failing vhosts, N or N%)")),
    name = "check_http",
    version,
    about = "Checks an HTTP(S) virtual host, or hundreds of them at once.",
    long_about = "Sends one HTTP/1.1 request (HTTP/2 with --http-version 2 where TLS negotiates it) to a virtual host (-H, connecting to -I when given, \
with the virtual host's name kept for the Host header and TLS SNI) and checks the status, \
body, headers, size, redirects, response time and TLS certificate.\n\n\
Without -e, 2xx and 3xx are OK (3xx as -f says), 4xx WARNING and 5xx CRITICAL. TLS \
certificates are verified (--insecure skips that; --ca-cert trusts a private CA); a \
certificate that fails verification is CRITICAL with its expiry date and the reason.\n\n\
With --vhosts-from FILE or --apache-config PATH every virtual host is checked, --concurrency \
at a time, each with the options given here; the first line counts the results, the long \
output names each failing virtual host and why, and -w/-c then apply to the number (N) or \
percentage (N%) of failing virtual hosts (default: the worst virtual host's state).\n\n\
FILE has one virtual host a line: NAME [ADDRESS[:PORT]] [/URI] [STATUS[,STATUS...]], where \
NAME may be a URL (https://NAME:PORT/URI); # starts a comment.\n\n\
Redirects: -f sticky follows a redirect to any name by connecting to the address the check \
started from again (the new name goes in the Host header), stickyport keeps the port too; \
-f follow connects to the new name's addresses, only when each is inside \
--redirect-networks (the starting address is always allowed; a refusal is CRITICAL). \
Without --redirect-networks a stand-alone check_http follows redirects anywhere, as \
monitoring-plugins does; inside the hcoop-monitor daemon the default is its [daemon] \
redirect_networks (global unicast addresses: never loopback, private, link-local or cloud \
metadata addresses). More than --max-redirs redirects is WARNING.\n\n\
Replies are bounded: headers 64 KiB and 256 lines, a Location 8 KiB, the body read up to \
16 MiB (its size then taken from Content-Length), -s/-r/-R match its first 1 MiB.\n\n\
Where ours differs from monitoring-plugins' check_http: certificates are verified \
(Debian's never are); -S takes only TLS 1.2 and 1.3 (1, 1.1, 2 and 3 are refused); a \
server silent past 90% of -t is 'Socket timeout after N seconds' in -t's state; -v does not print the request; requests are HTTP/1.0 or HTTP/1.1 only.\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and \
--version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Virtual host name (Host header and TLS SNI); VHOST:PORT (or [IPV6]:PORT) also names
    /// the Host header's port, the port connected to unless -p is given. The host may also
    /// be given as the first bare word
    #[arg(short = 'H', long = "hostname", value_name = "VHOST")]
    pub hostname: Option<String>,

    /// Address to connect to (default: the virtual host name)
    #[arg(short = 'I', long = "IP-address", value_name = "ADDRESS")]
    pub address: Option<String>,

    /// Port (default 80, or 443 with -S)
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,

    #[command(flatten)]
    pub family: FamilyArgs,

    /// Use TLS; VERSION pins it: 1.2, 1.3, or 1.2+ for 1.2 and later
    #[arg(short = 'S', long = "ssl", value_name = "VERSION", num_args = 0..=1, require_equals = true, default_missing_value = "auto")]
    pub ssl: Option<String>,

    /// Send the virtual host name in TLS SNI (always done; accepted for compatibility)
    #[arg(long = "sni")]
    pub sni: bool,

    /// Check the days left on the certificate: WARNING below WARN, CRITICAL below CRIT
    #[arg(short = 'C', long = "certificate", value_name = "WARN[,CRIT]")]
    pub certificate: Option<CertDays>,

    /// With -C, go on to check the page too (otherwise only the certificate is checked)
    #[arg(long = "continue-after-certificate")]
    pub continue_after_certificate: bool,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Client certificate (PEM, with its chain) offered when the server asks for one
    #[arg(short = 'J', long = "client-cert", value_name = "FILE")]
    pub client_cert: Option<PathBuf>,

    /// Private key (PEM) of the client certificate (default: read from -J's file)
    #[arg(
        short = 'K',
        long = "private-key",
        value_name = "FILE",
        requires = "client_cert"
    )]
    pub private_key: Option<PathBuf>,

    /// Verify the server's certificate (always done unless --insecure; accepted for
    /// check_curl's command lines)
    #[arg(short = 'D', long = "verify-cert", conflicts_with = "insecure")]
    pub verify_cert: bool,

    /// HTTP version of the request: 1.0, 1.1 (default), or 2 / 2.0: HTTP/2 offered by
    /// ALPN over TLS, HTTP/1.1 when the server does not take it or over plain HTTP (the
    /// status line shows the version used)
    #[arg(long = "http-version", value_name = "VERSION")]
    pub http_version: Option<String>,

    /// Send a PROXY protocol v1 header (HAProxy) before the request (and before TLS)
    #[arg(long = "haproxy-protocol")]
    pub haproxy_protocol: bool,

    /// Path and query to request
    #[arg(short = 'u', long = "url", value_name = "PATH", default_value = "/")]
    pub url: String,

    /// Expected status: codes (200,301) or strings found in the status line
    #[arg(short = 'e', long = "expect", value_name = "STATUS[,STATUS...]")]
    pub expect: Option<String>,

    /// String the body must contain
    #[arg(short = 's', long = "string", value_name = "STRING")]
    pub string: Option<String>,

    /// Regular expression the body must match
    #[arg(
        short = 'r',
        long = "regex",
        visible_alias = "ereg",
        value_name = "REGEX"
    )]
    pub regex: Option<String>,

    /// Case-insensitive regular expression the body must match
    #[arg(
        short = 'R',
        long = "eregi",
        value_name = "REGEX",
        conflicts_with = "regex"
    )]
    pub eregi: Option<String>,

    /// CRITICAL when the regular expression matches (instead of when it does not)
    #[arg(long = "invert-regex")]
    pub invert_regex: bool,

    /// The state when the regular expression fails (default critical): ok, warning,
    /// critical, unknown, or 0-3
    #[arg(long = "state-regex", value_name = "STATE")]
    pub state_regex: Option<String>,

    /// Let the regular expression span lines (. matches a newline, ^ and $ match only at
    /// the ends of the body)
    #[arg(short = 'l', long = "linespan")]
    pub linespan: bool,

    /// String the response headers must contain
    #[arg(short = 'd', long = "header-string", value_name = "STRING")]
    pub header_string: Option<String>,

    /// What a redirect means: ok, warning, critical, follow, sticky (follow, but connect to
    /// the same address), stickyport (same address and port), curl (as follow)
    #[arg(
        short = 'f',
        long = "onredirect",
        value_name = "WHAT",
        default_value = "ok"
    )]
    pub onredirect: String,

    /// At most this many redirects are followed; one more is WARNING
    #[arg(long = "max-redirs", value_name = "N", default_value_t = 15)]
    pub max_redirs: u32,

    /// With -f follow, connect only to addresses in these networks (ADDRESS/PREFIX, an
    /// address, or "global" for global unicast); the starting address is always allowed.
    /// Default: anywhere (in the daemon: its [daemon] redirect_networks)
    #[arg(long = "redirect-networks", value_name = "CIDR[,CIDR...]")]
    pub redirect_networks: Option<String>,

    /// Request method. CONNECT[:METHOD] (with -S) uses -I:-p as a proxy: a CONNECT
    /// tunnel to -H, then METHOD (default GET) through it
    #[arg(short = 'j', long = "method", value_name = "METHOD")]
    pub method: Option<String>,

    /// Request body (makes the method POST unless -j says otherwise)
    #[arg(short = 'P', long = "post", value_name = "BODY")]
    pub post: Option<String>,

    /// Content-Type of the request body
    #[arg(
        short = 'T',
        long = "content-type",
        value_name = "TYPE",
        default_value = "application/x-www-form-urlencoded"
    )]
    pub content_type: String,

    /// Extra request header (repeatable)
    #[arg(short = 'k', long = "header", value_name = "NAME: VALUE")]
    pub header: Vec<String>,

    /// Basic authentication, USER:PASSWORD (or USER with --password-file)
    #[arg(short = 'a', long = "authorization", value_name = "USER[:PASSWORD]")]
    pub authorization: Option<String>,

    /// Proxy basic authentication (Proxy-Authorization header), USER:PASSWORD
    #[arg(
        short = 'b',
        long = "proxy-authorization",
        value_name = "USER:PASSWORD"
    )]
    pub proxy_authorization: Option<String>,

    /// Send every request through this HTTP proxy, [http://]HOST[:PORT] (port 1080 by
    /// default): plain HTTP with the whole URL, HTTPS through a CONNECT tunnel. The
    /// http_proxy and https_proxy environment variables are not read
    #[arg(short = 'x', long = "proxy", value_name = "PROXY")]
    pub proxy: Option<String>,

    /// Names reached without the proxy, comma-separated (a name covers its subdomains;
    /// * for every name)
    #[arg(long = "noproxy", value_name = "NAME[,NAME...]", requires = "proxy")]
    pub noproxy: Option<String>,

    /// Read the basic authentication password from the first line of FILE
    #[arg(
        long = "password-file",
        value_name = "FILE",
        requires = "authorization"
    )]
    pub password_file: Option<PathBuf>,

    /// User-Agent header
    #[arg(short = 'A', long = "useragent", value_name = "STRING")]
    pub useragent: Option<String>,

    /// Do not read the body beyond what the checks need (the body is not checked)
    #[arg(short = 'N', long = "no-body")]
    pub no_body: bool,

    /// CRITICAL when the document is older than AGE: seconds, or a number with m, h or
    /// d (its Last-Modified, else its Date header)
    #[arg(short = 'M', long = "max-age", value_name = "AGE")]
    pub max_age: Option<String>,

    /// Print the body (its first 1 MiB, printable) after the status line
    #[arg(short = 'B', long = "show-body")]
    pub show_body: bool,

    /// Wrap the first line in an HTML link to the URL checked
    #[arg(short = 'L', long = "link", overrides_with = "nohtml")]
    pub link: bool,

    /// No HTML link (the default)
    #[arg(short = 'n', long = "nohtml", overrides_with = "link")]
    pub nohtml: bool,

    /// Keep cookies across redirects, read from FILE first and written back after
    /// (Netscape format, at most 64 KiB and 64 cookies; an empty FILE keeps them in
    /// memory only)
    #[arg(long = "cookie-jar", value_name = "FILE")]
    pub cookie_jar: Option<PathBuf>,

    /// Ask for a compressed body (Accept-Encoding: gzip, deflate) and decompress it for
    /// -s, -r and -R
    #[arg(long = "enable-automatic-decompression")]
    pub decompress: bool,

    #[command(flatten)]
    pub levels: ModeLevelArgs,

    /// Page size in bytes: at least MIN, and at most MAX
    #[arg(short = 'm', long = "pagesize", value_name = "MIN[:MAX]")]
    pub pagesize: Option<String>,

    /// Perfdata for each phase: connect, TLS, headers, first byte, transfer
    #[arg(short = 'E', long = "extended-perfdata")]
    pub extended: bool,

    /// Check every virtual host listed in FILE
    #[arg(long = "vhosts-from", value_name = "FILE", conflicts_with_all = ["hostname", "apache_config"])]
    pub vhosts_from: Option<PathBuf>,

    /// Check every <VirtualHost> of an Apache configuration (a file or a directory)
    #[arg(
        long = "apache-config",
        value_name = "PATH",
        conflicts_with = "hostname"
    )]
    pub apache_config: Option<PathBuf>,

    /// With --apache-config, check each ServerAlias too
    #[arg(long = "with-aliases", requires = "apache_config")]
    pub with_aliases: bool,

    /// Virtual hosts checked at the same time in multi-vhost mode
    #[arg(long = "concurrency", value_name = "N", default_value_t = 32)]
    pub concurrency: usize,

    /// Seconds one virtual host may take in multi-vhost mode (default: 80% of -t)
    #[arg(long = "vhost-timeout", value_name = "SECONDS")]
    pub vhost_timeout: Option<f64>,
}

impl Args {
    /// True for the multi-vhost mode (`--vhosts-from`, `--apache-config`).
    pub fn is_multi(&self) -> bool {
        self.vhosts_from.is_some() || self.apache_config.is_some()
    }
}
