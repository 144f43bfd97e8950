//! curl's command-line options, read into data.
//!
//! Owns: `CurlOptions` (one field per supported option), the table of supported flags (short and
//! long names, whether each takes a value), curl's argument grammar (grouped short flags such as
//! `-sSI` or `-svo /dev/null`, where a flag taking a value ends the group and may carry it glued on
//! as in `-XPOST`; `--` ending the options) and each value's checks. Anything else is an error
//! listing what is supported. Leaves out: the request the options make (`headers`), and what curl
//! prints (`output`).

use super::dial::{ConnectTo, Resolve};
use super::error::CommandError;
use super::headers::{check_header, Data};
use super::writeout::WriteOut;
use egressbench_model::request::{ClientHttp, ForwardProxy};

/// What `-f` / `--fail-with-body` ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailMode {
    #[default]
    Off,
    /// `-f/--fail`: on a status ≥ 400 print no body and exit 22.
    Fail,
    /// `--fail-with-body`: print the body, then exit 22.
    WithBody,
}

/// Every curl option the bench understands, as parsed from one command line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CurlOptions {
    /// The URL exactly as written.
    pub url: String,
    /// `-s/--silent`: no progress meter and no error messages.
    pub silent: bool,
    /// `-S/--show-error`: error messages even with `-s`.
    pub show_error: bool,
    /// `-o /dev/null`: the body (and `-i` headers) are thrown away.
    pub discard_body: bool,
    /// `-w/--write-out`.
    pub write_out: Option<WriteOut>,
    /// `-I/--head`: a HEAD request; the headers are printed.
    pub head: bool,
    /// `-i/--include`: the status line and headers are printed before the body.
    pub include: bool,
    /// `-D -`/`--dump-header -`: the status line and headers are printed to stdout as they
    /// arrive, even when the body is thrown away (`-o /dev/null`).
    pub dump_header: bool,
    /// `-v/--verbose`: the exchange is traced on stderr.
    pub verbose: bool,
    /// `-X/--request`: the method, as written.
    pub method: Option<String>,
    /// `-H/--header` arguments, as written, in order.
    pub headers: Vec<String>,
    /// `-d`, `--data-raw`, `--data-binary`, `--json` bodies, joined as curl joins them.
    pub data: Data,
    /// `-m/--max-time` in milliseconds (`-m 0` means no limit, as in curl).
    pub max_time_ms: Option<u64>,
    /// `--connect-timeout` in milliseconds.
    pub connect_timeout_ms: Option<u64>,
    /// `-k/--insecure`, `--cacert`, `--cert/-E`, `--key`.
    pub tls: egressbench_model::request::ClientTls,
    /// `-L/--location`: redirects are followed (`redirect`).
    pub follow_redirects: bool,
    /// `--max-redirs N`: how many redirects `-L` follows (curl's default is 50; -1 is no limit).
    pub max_redirects: Option<u32>,
    /// `-f/--fail`, `--fail-with-body`.
    pub fail: FailMode,
    /// `-A/--user-agent`.
    pub user_agent: Option<String>,
    /// The HTTP versions curl speaks (`--http1.1`, `--http2-prior-knowledge`; the later option
    /// wins).
    pub http: ClientHttp,
    /// `--http2` (the later of it and the other two wins): curl's default over TLS; over plain
    /// HTTP, HTTP/1.1 asking the server to upgrade (`Upgrade: h2c`).
    pub http2: bool,
    /// `--resolve HOST:PORT:ADDR`, in order (the first match wins).
    pub resolve: Vec<Resolve>,
    /// `--connect-to HOST1:PORT1:HOST2:PORT2`, in order (the first match wins).
    pub connect_to: Vec<ConnectTo>,
    /// `--retry N`.
    pub retry: Option<u32>,
    /// `-g/--globoff`: `[]{}` in the URL are literal.
    pub globoff: bool,
    /// `-x/--proxy`, as written (`""` turns the environment's proxy off).
    pub proxy: Option<String>,
    /// `--noproxy LIST`: hosts reached without the proxy.
    pub noproxy: Option<String>,
    /// `-p/--proxytunnel`: `CONNECT` through the proxy also for `http://` URLs.
    pub proxytunnel: bool,
    /// The proxy variables of the command's environment (`HTTPS_PROXY=… curl …`), in order.
    pub env: Vec<(String, String)>,
}

/// The environment variables curl reads for its proxy, and `HTTP_PROXY`, which it ignores: curl
/// reads `http_proxy` only in lower case (an `HTTP_PROXY` could be set by a CGI request's
/// `Proxy:` header).
pub(crate) const PROXY_VARIABLES: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Silent,
    ShowError,
    Output,
    WriteOut,
    Head,
    Include,
    DumpHeader,
    Verbose,
    Request,
    Header,
    Data,
    DataRaw,
    Json,
    MaxTime,
    ConnectTimeout,
    Insecure,
    CaCert,
    Cert,
    Key,
    Location,
    Fail,
    FailWithBody,
    UserAgent,
    Http11,
    /// `--http2`: curl's default over TLS; an `Upgrade: h2c` over plain HTTP.
    Http2,
    /// `--http2-prior-knowledge`: h2c without the upgrade.
    Http2PriorKnowledge,
    Resolve,
    ConnectTo,
    Ipv6,
    Retry,
    MaxRedirs,
    Globoff,
    Proxy,
    NoProxy,
    ProxyTunnel,
    Url,
    /// Accepted, and changes nothing the bench shows (`--no-progress-meter`, `--fail-early`).
    NoEffect,
}

struct Spec {
    short: Option<char>,
    long: &'static str,
    takes_value: bool,
    opt: Opt,
}

const fn spec(short: Option<char>, long: &'static str, takes_value: bool, opt: Opt) -> Spec {
    Spec {
        short,
        long,
        takes_value,
        opt,
    }
}

const SPECS: [Spec; 41] = [
    spec(Some('s'), "silent", false, Opt::Silent),
    spec(Some('S'), "show-error", false, Opt::ShowError),
    spec(Some('o'), "output", true, Opt::Output),
    spec(Some('w'), "write-out", true, Opt::WriteOut),
    spec(Some('I'), "head", false, Opt::Head),
    spec(Some('i'), "include", false, Opt::Include),
    spec(Some('D'), "dump-header", true, Opt::DumpHeader),
    spec(Some('v'), "verbose", false, Opt::Verbose),
    spec(Some('X'), "request", true, Opt::Request),
    spec(Some('H'), "header", true, Opt::Header),
    spec(Some('d'), "data", true, Opt::Data),
    spec(None, "data-ascii", true, Opt::Data),
    spec(None, "data-binary", true, Opt::Data),
    spec(None, "data-raw", true, Opt::DataRaw),
    spec(None, "json", true, Opt::Json),
    spec(Some('m'), "max-time", true, Opt::MaxTime),
    spec(None, "connect-timeout", true, Opt::ConnectTimeout),
    spec(Some('k'), "insecure", false, Opt::Insecure),
    spec(None, "cacert", true, Opt::CaCert),
    spec(Some('E'), "cert", true, Opt::Cert),
    spec(None, "key", true, Opt::Key),
    spec(Some('L'), "location", false, Opt::Location),
    spec(Some('f'), "fail", false, Opt::Fail),
    spec(None, "fail-with-body", false, Opt::FailWithBody),
    spec(Some('A'), "user-agent", true, Opt::UserAgent),
    spec(None, "http1.1", false, Opt::Http11),
    spec(None, "http2", false, Opt::Http2),
    spec(
        None,
        "http2-prior-knowledge",
        false,
        Opt::Http2PriorKnowledge,
    ),
    spec(None, "resolve", true, Opt::Resolve),
    spec(None, "connect-to", true, Opt::ConnectTo),
    // Every address here is IPv4, so -4 changes nothing.
    spec(Some('4'), "ipv4", false, Opt::NoEffect),
    spec(Some('6'), "ipv6", false, Opt::Ipv6),
    spec(None, "retry", true, Opt::Retry),
    spec(None, "max-redirs", true, Opt::MaxRedirs),
    spec(Some('g'), "globoff", false, Opt::Globoff),
    spec(Some('x'), "proxy", true, Opt::Proxy),
    spec(None, "noproxy", true, Opt::NoProxy),
    spec(Some('p'), "proxytunnel", false, Opt::ProxyTunnel),
    spec(None, "url", true, Opt::Url),
    spec(None, "no-progress-meter", false, Opt::NoEffect),
    spec(None, "fail-early", false, Opt::NoEffect),
];

/// The most redirects `-L` follows here, also for `--max-redirs -1` (no limit in curl): a loop
/// between hosts ends rather than running forever.
pub(crate) const MAX_REDIRECTS: u32 = 1000;

/// curl's `--max-redirs` when none is given.
pub(crate) const DEFAULT_MAX_REDIRECTS: u32 = 50;

/// The most `--retry` tries the bench replays.
const MAX_RETRIES: u32 = 100;

/// The supported flags, for error messages.
fn supported() -> String {
    SPECS
        .iter()
        .map(|s| match s.short {
            Some(c) => format!("-{c}/--{}", s.long),
            None => format!("--{}", s.long),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown(flag: &str) -> CommandError {
    CommandError::UnknownFlag {
        program: "curl",
        flag: flag.to_string(),
        supported: supported(),
    }
}

impl CurlOptions {
    /// Read curl's arguments (the words after `curl`), run with the proxy variables `env`
    /// (`NAME=value` words before `curl`; names outside `PROXY_VARIABLES` are refused).
    pub fn parse_in(
        args: &[String],
        env: &[(String, String)],
    ) -> Result<CurlOptions, CommandError> {
        for (name, value) in env {
            if !PROXY_VARIABLES.contains(&name.as_str()) {
                return Err(CommandError::Usage {
                    program: "curl",
                    message: format!(
                        "`{name}={value}` before curl: of the environment, the bench replays only \
                         curl's proxy variables ({}); drop it or use a curl option",
                        PROXY_VARIABLES.join(", ")
                    ),
                });
            }
        }
        let mut o = CurlOptions::parse(args)?;
        o.env = env.to_vec();
        o.forward_proxy()?;
        Ok(o)
    }

    /// The forward proxy this request goes through, by curl's rules: `-x` (an empty one: none),
    /// else `https_proxy`/`HTTPS_PROXY` for https:// URLs and `http_proxy` for http:// ones, else
    /// `all_proxy`/`ALL_PROXY`; none for a host `--noproxy` (else `no_proxy`/`NO_PROXY`) lists.
    pub fn forward_proxy(&self) -> Result<Option<ForwardProxy>, CommandError> {
        let env = |names: &[&str]| {
            names.iter().find_map(|n| {
                self.env
                    .iter()
                    .rev()
                    .find(|(k, v)| k == n && !v.is_empty())
                    .map(|(_, v)| v.clone())
            })
        };
        let https = self.url.to_ascii_lowercase().starts_with("https://");
        let chosen = match &self.proxy {
            Some(p) => Some(p.clone()).filter(|p| !p.is_empty()),
            None if https => env(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
            None => env(&["http_proxy", "all_proxy", "ALL_PROXY"]),
        };
        let Some(written) = chosen else {
            return Ok(None);
        };
        let host = super::url::parse_url(&self.url, self.globoff)?.host;
        let exempt = self
            .noproxy
            .clone()
            .or_else(|| env(&["no_proxy", "NO_PROXY"]))
            .is_some_and(|list| no_proxy_matches(&list, &host));
        if exempt {
            return Ok(None);
        }
        let proxy = parse_proxy(&written).map_err(|expected| CommandError::BadValue {
            program: "curl",
            flag: "the proxy".into(),
            value: written.clone(),
            expected,
        })?;
        if self.verbose {
            return Err(CommandError::Usage {
                program: "curl",
                message: "-v through a proxy prints the CONNECT exchange, which the bench does \
                          not reproduce; drop -v (or -x / the proxy variable)"
                    .into(),
            });
        }
        if !self.resolve.is_empty() || !self.connect_to.is_empty() {
            return Err(CommandError::Usage {
                program: "curl",
                message: "--resolve and --connect-to through a proxy change where the proxy is \
                          asked to connect, which the bench does not replay; drop them or the \
                          proxy"
                    .into(),
            });
        }
        Ok(Some(ForwardProxy {
            tunnel: https || self.proxytunnel,
            ..proxy
        }))
    }

    /// Read curl's arguments (the words after `curl`).
    pub fn parse(args: &[String]) -> Result<CurlOptions, CommandError> {
        let mut o = CurlOptions::default();
        let mut url: Option<String> = None;
        let mut options_ended = false;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            if options_ended || !arg.starts_with('-') || arg == "-" {
                set_url(&mut url, arg)?;
            } else if arg == "--" {
                options_ended = true;
            } else if let Some(long) = arg.strip_prefix("--") {
                if let Some((name, _)) = long.split_once('=') {
                    return Err(CommandError::Usage {
                        program: "curl",
                        message: format!(
                            "`{arg}`: curl reads an option's value from the next word; write \
                             `--{name} VALUE`"
                        ),
                    });
                }
                let spec = SPECS
                    .iter()
                    .find(|s| s.long == long)
                    .ok_or_else(|| unknown(arg))?;
                let value = if spec.takes_value {
                    Some(next_value(&mut rest, arg)?)
                } else {
                    None
                };
                o.apply(spec.opt, arg, value, &mut url)?;
            } else {
                let group: Vec<char> = arg.chars().skip(1).collect();
                for (i, c) in group.iter().enumerate() {
                    let flag = format!("-{c}");
                    let spec = SPECS
                        .iter()
                        .find(|s| s.short == Some(*c))
                        .ok_or_else(|| unknown(&flag))?;
                    if spec.takes_value {
                        let glued: String = group[i + 1..].iter().collect();
                        let value = if glued.is_empty() {
                            next_value(&mut rest, &flag)?
                        } else {
                            glued
                        };
                        o.apply(spec.opt, &flag, Some(value), &mut url)?;
                        break;
                    }
                    o.apply(spec.opt, &flag, None, &mut url)?;
                }
            }
        }
        o.url = url.ok_or_else(|| CommandError::Usage {
            program: "curl",
            message: "no URL given; add one such as http://httpbin.org/get".into(),
        })?;
        if o.head && o.data.body.is_some() {
            return Err(CommandError::Usage {
                program: "curl",
                message: "You can only select one HTTP request method! You asked for both POST \
                          (-d, --data) and HEAD (-I, --head). Drop one of them"
                    .into(),
            });
        }
        if o.dump_header && (o.include || o.head) {
            return Err(CommandError::Usage {
                program: "curl",
                message: "-D - together with -i or -I prints every header line twice, which the \
                          bench does not reproduce; keep one of them"
                    .into(),
            });
        }
        Ok(o)
    }

    fn apply(
        &mut self,
        opt: Opt,
        flag: &str,
        value: Option<String>,
        url: &mut Option<String>,
    ) -> Result<(), CommandError> {
        let value = value.unwrap_or_default();
        let bad = |expected: &str| CommandError::BadValue {
            program: "curl",
            flag: flag.to_string(),
            value: value.clone(),
            expected: expected.to_string(),
        };
        match opt {
            Opt::Silent => self.silent = true,
            Opt::ShowError => self.show_error = true,
            Opt::Output => {
                self.discard_body =
                    match value.as_str() {
                        "/dev/null" => true,
                        "-" => false,
                        _ => return Err(bad(
                            "the bench shows only what reaches stdout; use -o /dev/null to drop \
                             the body, or -o - (or no -o) to print it",
                        )),
                    }
            }
            Opt::DumpHeader => {
                self.dump_header = match value.as_str() {
                    "-" => true,
                    "/dev/null" => false,
                    _ => {
                        return Err(bad(
                            "the bench shows only what reaches stdout; use -D - to print the \
                             headers there",
                        ))
                    }
                }
            }
            Opt::WriteOut => {
                if value.starts_with('@') {
                    return Err(bad(
                        "write the -w format inline; reading it from a file is not supported",
                    ));
                }
                self.write_out = Some(WriteOut::parse(&value)?);
            }
            Opt::Head => self.head = true,
            Opt::Include => self.include = true,
            Opt::Verbose => self.verbose = true,
            Opt::Request => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(bad("a method name such as GET, POST, PUT or DELETE"));
                }
                self.method = Some(value);
            }
            Opt::Header => {
                check_header(&value).map_err(|why| bad(&why))?;
                self.headers.push(value);
            }
            Opt::Data | Opt::Json if value.starts_with('@') => return Err(bad(
                "reading the body from a file (@FILE) is not supported; write the data inline, \
                     or use --data-raw to send a literal @",
            )),
            Opt::Data | Opt::DataRaw => self.data.push(&value, false),
            Opt::Json => self.data.push(&value, true),
            Opt::MaxTime => self.max_time_ms = seconds(&value).map_err(|w| bad(&w))?,
            Opt::ConnectTimeout => {
                self.connect_timeout_ms = seconds(&value).map_err(|w| bad(&w))?
            }
            Opt::Insecure => self.tls.insecure = true,
            Opt::CaCert => self.tls.ca_file = Some(value),
            Opt::Cert => self.tls.cert_file = Some(value),
            Opt::Key => self.tls.key_file = Some(value),
            Opt::Location => self.follow_redirects = true,
            Opt::Fail => self.fail = FailMode::Fail,
            Opt::FailWithBody => self.fail = FailMode::WithBody,
            Opt::UserAgent => self.user_agent = Some(value),
            // The later of the two wins, as in curl.
            Opt::Http11 => {
                self.http = ClientHttp::Http11Only;
                self.http2 = false;
            }
            Opt::Http2 => {
                self.http = ClientHttp::Negotiate;
                self.http2 = true;
            }
            Opt::Http2PriorKnowledge => {
                self.http = ClientHttp::H2PriorKnowledge;
                self.http2 = false;
            }
            Opt::Resolve => self
                .resolve
                .push(Resolve::parse(&value).map_err(|w| bad(&w))?),
            Opt::ConnectTo => self
                .connect_to
                .push(ConnectTo::parse(&value).map_err(|w| bad(&w))?),
            Opt::Ipv6 => {
                return Err(CommandError::Usage {
                    program: "curl",
                    message: "-6/--ipv6 asks for IPv6 addresses, which the bench does not model \
                              (every host here has an IPv4 address); leave it out or use -4"
                        .into(),
                })
            }
            Opt::Retry => {
                let n: u32 = value
                    .parse()
                    .map_err(|_| bad("a whole number of retries"))?;
                if n > MAX_RETRIES {
                    return Err(bad(&format!(
                        "at most {MAX_RETRIES} retries (the bench prints every try)"
                    )));
                }
                self.retry = Some(n);
            }
            Opt::MaxRedirs => {
                self.max_redirects = match value.as_str() {
                    "-1" => Some(MAX_REDIRECTS),
                    n => Some(
                        n.parse::<u32>()
                            .ok()
                            .filter(|n| *n <= MAX_REDIRECTS)
                            .ok_or_else(|| {
                                bad(&format!(
                                    "a number of redirects from 0 to {MAX_REDIRECTS}, or -1"
                                ))
                            })?,
                    ),
                }
            }
            Opt::Globoff => self.globoff = true,
            Opt::Proxy => {
                if !value.is_empty() {
                    parse_proxy(&value).map_err(|w| bad(&w))?;
                }
                self.proxy = Some(value);
            }
            Opt::NoProxy => self.noproxy = Some(value),
            Opt::ProxyTunnel => self.proxytunnel = true,
            Opt::Url => set_url(url, &value)?,
            Opt::NoEffect => {}
        }
        Ok(())
    }
}

/// curl's proxy string: `[http://]HOST[:PORT]` (port 1080 when left out, as in curl).
fn parse_proxy(written: &str) -> Result<ForwardProxy, String> {
    let rest = match written.split_once("://") {
        None => written,
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            return Err(format!(
                "an HTTP proxy (`http://HOST:PORT` or `HOST:PORT`); `{scheme}://` proxies are not \
                 replayed"
            ))
        }
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("a proxy port from 1 to 65535 (got `{p}`)"))?,
        ),
        None => (rest, 1080),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    if host.is_empty() || !host.chars().all(plain) {
        return Err("a proxy as `http://HOST:PORT` or `HOST:PORT`".into());
    }
    Ok(ForwardProxy {
        host: host.to_ascii_lowercase(),
        port,
        tunnel: true,
    })
}

/// Whether `host` is in curl's no-proxy `list`: the whole list `*`; a name that is the host or a
/// domain it is in (a leading dot is optional); an IPv4 address or CIDR block that holds the host
/// when it is an address (curl ≥ 7.86).
fn no_proxy_matches(list: &str, host: &str) -> bool {
    if list.trim() == "*" {
        return true;
    }
    let address = host.parse::<std::net::Ipv4Addr>().ok();
    list.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.').to_ascii_lowercase();
        if let (Some(ip), Some((net, bits))) = (address, entry.split_once('/')) {
            let (Ok(net), Ok(bits)) = (net.parse::<std::net::Ipv4Addr>(), bits.parse::<u32>())
            else {
                return false;
            };
            let mask = u32::MAX.checked_shl(32 - bits.min(32)).unwrap_or(0);
            return bits <= 32 && u32::from(ip) & mask == u32::from(net) & mask;
        }
        !entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}")))
    })
}

fn next_value<'a>(
    rest: &mut impl Iterator<Item = &'a String>,
    flag: &str,
) -> Result<String, CommandError> {
    rest.next()
        .cloned()
        .ok_or_else(|| CommandError::MissingValue {
            program: "curl",
            flag: flag.to_string(),
        })
}

fn set_url(url: &mut Option<String>, value: &str) -> Result<(), CommandError> {
    if let Some(first) = url {
        return Err(CommandError::Usage {
            program: "curl",
            message: format!(
                "two URLs given (`{first}` and `{value}`); the bench replays one request per \
                 command, so split them into separate commands (or check for a flag missing its value)"
            ),
        });
    }
    *url = Some(value.to_string());
    Ok(())
}

/// Seconds as curl reads them (`5`, `2.5`, `.5`) into milliseconds; 0 means no limit.
fn seconds(value: &str) -> Result<Option<u64>, String> {
    let (whole, frac) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits(whole) || !digits(frac) || whole.len() > 9 {
        return Err("a number of seconds such as 5 or 2.5".into());
    }
    let whole_ms = whole.parse::<u64>().unwrap_or(0) * 1000;
    let frac_ms: u64 = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |acc, b| acc * 10 + u64::from(b - b'0'));
    let ms = whole_ms + frac_ms;
    Ok((ms > 0).then_some(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::words::split_words;

    fn parse(line: &str) -> CurlOptions {
        let words = split_words(line).unwrap();
        CurlOptions::parse(&words[1..]).unwrap()
    }

    fn err(line: &str) -> String {
        let words = split_words(line).unwrap();
        CurlOptions::parse(&words[1..]).unwrap_err().to_string()
    }

    #[test]
    fn the_documented_status_probe() {
        let o = parse(r#"curl -s -o /dev/null -w "%{http_code}\n" http://www.httpbin.org"#);
        assert!(o.silent && o.discard_body && !o.show_error);
        assert_eq!(o.url, "http://www.httpbin.org");
        assert!(o.write_out.is_some());
    }

    #[test]
    fn grouped_short_flags() {
        let o = parse("curl -sSI https://www.google.com");
        assert!(o.silent && o.show_error && o.head);
        let o = parse("curl -sSL http://a");
        assert!(o.silent && o.show_error && o.follow_redirects);
        let o = parse("curl -svo /dev/null http://a");
        assert!(o.silent && o.verbose && o.discard_body);
        assert_eq!(o.url, "http://a");
        let o = parse("curl -XPOST -m5 -H'x: y' http://a");
        assert_eq!(o.method.as_deref(), Some("POST"));
        assert_eq!(o.max_time_ms, Some(5000));
        assert_eq!(o.headers, ["x: y"]);
    }

    #[test]
    fn tls_files_are_paths_in_the_pod() {
        let o = parse(
            "curl -sS --cacert /etc/nginx-ca-certs/example.com.crt -E /c/tls.crt --key /c/tls.key https://a",
        );
        assert_eq!(
            o.tls.ca_file.as_deref(),
            Some("/etc/nginx-ca-certs/example.com.crt")
        );
        assert_eq!(o.tls.cert_file.as_deref(), Some("/c/tls.crt"));
        assert_eq!(o.tls.key_file.as_deref(), Some("/c/tls.key"));
        assert!(!o.tls.insecure);
        assert!(parse("curl -k https://a").tls.insecure);
    }

    #[test]
    fn long_flags_take_the_next_word() {
        let o = parse(
            "curl --silent --show-error --output /dev/null --write-out %{http_code} --request PUT \
             --header 'a: b' --max-time 2.5 --connect-timeout .5 --insecure --location --fail \
             --user-agent bench --http1.1 --resolve a:80:10.0.0.1 --connect-to a:80:b:8080 \
             --ipv4 --retry 3 --url http://a",
        );
        assert!(o.silent && o.show_error && o.discard_body && o.tls.insecure && o.follow_redirects);
        assert_eq!(o.method.as_deref(), Some("PUT"));
        assert_eq!(o.max_time_ms, Some(2500));
        assert_eq!(o.connect_timeout_ms, Some(500));
        assert_eq!(o.fail, FailMode::Fail);
        assert_eq!(o.user_agent.as_deref(), Some("bench"));
        assert_eq!(o.http, ClientHttp::Http11Only);
        assert_eq!(o.resolve, [Resolve::parse("a:80:10.0.0.1").unwrap()]);
        assert_eq!(o.connect_to, [ConnectTo::parse("a:80:b:8080").unwrap()]);
        assert_eq!(o.retry, Some(3));
        assert_eq!(o.url, "http://a");
    }

    #[test]
    fn data_flags_join_like_curl() {
        let o = parse("curl -d a=1 --data-raw @b --data-binary c http://a");
        assert_eq!(o.data.body.as_deref(), Some("a=1&@b&c"));
        assert!(!o.data.json);
        let o = parse(r#"curl --json '{"a":' --json '1}' http://a"#);
        assert_eq!(o.data.body.as_deref(), Some(r#"{"a":1}"#));
        assert!(o.data.json);
    }

    #[test]
    fn timeouts_read_fractions_and_zero() {
        assert_eq!(seconds("0.25"), Ok(Some(250)));
        assert_eq!(seconds("3"), Ok(Some(3000)));
        assert_eq!(seconds("1.2345"), Ok(Some(1234)));
        assert_eq!(seconds("0"), Ok(None));
        for bad in ["", ".", "-1", "1e3", "5s", "1.2.3"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fail_with_body_and_dash_output() {
        let o = parse("curl --fail-with-body -o - http://a");
        assert_eq!(o.fail, FailMode::WithBody);
        assert!(!o.discard_body);
    }

    #[test]
    fn double_dash_ends_options() {
        assert_eq!(parse("curl -s -- -weird").url, "-weird");
    }

    fn proxied(line: &str, env: &[(&str, &str)]) -> Result<Option<ForwardProxy>, String> {
        let words = split_words(line).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        CurlOptions::parse_in(&words[1..], &env)
            .map(|o| o.forward_proxy().unwrap())
            .map_err(|e| e.to_string())
    }

    fn proxy(host: &str, port: u16) -> Option<ForwardProxy> {
        Some(ForwardProxy {
            host: host.into(),
            port,
            tunnel: true,
        })
    }

    #[test]
    fn the_proxy_comes_from_x_or_from_curls_variables() {
        let https = "curl https://en.wikipedia.org/wiki/Main_Page";
        assert_eq!(proxied(https, &[]), Ok(None));
        assert_eq!(
            proxied(https, &[("HTTPS_PROXY", "10.244.3.7:3128")]),
            Ok(proxy("10.244.3.7", 3128))
        );
        assert_eq!(
            proxied(https, &[("https_proxy", "http://Squid.corp:3128/")]),
            Ok(proxy("squid.corp", 3128))
        );
        // curl's default proxy port, and -x over the environment.
        assert_eq!(
            proxied(
                "curl -x squid.corp https://a.example/",
                &[("HTTPS_PROXY", "10.0.0.1:3128")]
            ),
            Ok(proxy("squid.corp", 1080))
        );
        // An empty -x turns the environment's proxy off; so do --noproxy and NO_PROXY.
        assert_eq!(
            proxied("curl -x '' https://a.example/", &[("HTTPS_PROXY", "p:1")]),
            Ok(None)
        );
        assert_eq!(
            proxied(
                "curl --noproxy example https://a.example/",
                &[("HTTPS_PROXY", "p:1")]
            ),
            Ok(None)
        );
        assert_eq!(
            proxied(
                https,
                &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", ".wikipedia.org")]
            ),
            Ok(None)
        );
        assert_eq!(
            proxied(https, &[("HTTPS_PROXY", "p:1"), ("no_proxy", "*")]),
            Ok(None)
        );
        assert_eq!(
            proxied(https, &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "other.org")]),
            Ok(proxy("p", 1))
        );
        // curl reads http_proxy only in lower case, and not for https:// URLs.
        assert_eq!(
            proxied("curl -p http://a.example/", &[("HTTP_PROXY", "p:1")]),
            Ok(None)
        );
        assert_eq!(proxied(https, &[("http_proxy", "p:1")]), Ok(None));
        assert_eq!(
            proxied("curl -p http://a.example/", &[("http_proxy", "p:1")]),
            Ok(proxy("p", 1))
        );
        assert_eq!(proxied(https, &[("ALL_PROXY", "p:2")]), Ok(proxy("p", 2)));
        // `*` is a wildcard only as the whole list; CIDR blocks hold addresses.
        assert_eq!(
            proxied(
                https,
                &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "other.org,*")]
            ),
            Ok(proxy("p", 1))
        );
        let by_address = "curl https://10.244.3.7/";
        assert_eq!(
            proxied(
                by_address,
                &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "10.0.0.0/8")]
            ),
            Ok(None)
        );
        assert_eq!(
            proxied(
                by_address,
                &[("HTTPS_PROXY", "p:1"), ("NO_PROXY", "10.245.0.0/16")]
            ),
            Ok(proxy("p", 1))
        );
        let e = proxied(
            "curl --resolve a.example:443:10.0.0.1 -x p:1 https://a.example/",
            &[],
        )
        .unwrap_err();
        assert!(
            e.contains("--resolve and --connect-to through a proxy"),
            "{e}"
        );
    }

    #[test]
    fn plain_http_goes_to_the_proxy_whole_unless_tunnelled() {
        let whole = proxied("curl http://a.example/", &[("http_proxy", "p:1")]);
        assert_eq!(
            whole,
            Ok(Some(ForwardProxy {
                host: "p".into(),
                port: 1,
                tunnel: false
            }))
        );
        let tunnelled = proxied("curl -p -x p:1 http://a.example/", &[]);
        assert_eq!(tunnelled, Ok(proxy("p", 1)));
    }

    #[test]
    fn what_is_not_replayed_through_a_proxy_says_so() {
        let e = proxied("curl -v -x p:1 https://a.example/", &[]).unwrap_err();
        assert!(e.contains("-v through a proxy"), "{e}");
        let e = proxied("curl https://a.example/", &[("CURL_CA_BUNDLE", "/x")]).unwrap_err();
        assert!(e.contains("proxy variables"), "{e}");
        let e = proxied("curl -x p:99999 https://a.example/", &[]).unwrap_err();
        assert!(e.contains("1 to 65535"), "{e}");
        let e = proxied("curl https://a.example/", &[("HTTPS_PROXY", "https://p:1")]).unwrap_err();
        assert!(e.contains("`https://` proxies are not replayed"), "{e}");
    }

    #[test]
    fn unknown_and_malformed_flags_are_errors() {
        let e = err("curl -sZ http://a");
        assert!(e.contains("unknown curl option `-Z`"), "{e}");
        assert!(e.contains("-s/--silent"), "{e}");
        let e = err("curl --proxy socks5://p:1080 http://a");
        assert!(e.contains("`socks5://` proxies are not replayed"), "{e}");
        let e = err("curl --max-time=5 http://a");
        assert!(e.contains("--max-time VALUE"), "{e}");
        let e = err("curl http://a -w");
        assert!(e.contains("`-w` needs a value"), "{e}");
        let e = err("curl -o out.html http://a");
        assert!(e.contains("-o /dev/null"), "{e}");
        let e = err("curl -m five http://a");
        assert!(e.contains("seconds"), "{e}");
        let e = err("curl -d @body.json http://a");
        assert!(e.contains("@FILE"), "{e}");
        let e = err("curl -w @fmt http://a");
        assert!(e.contains("inline"), "{e}");
        let e = err("curl -s");
        assert!(e.contains("no URL"), "{e}");
        let e = err("curl http://a http://b");
        assert!(e.contains("two URLs"), "{e}");
        let e = err("curl -I -d x http://a");
        assert!(e.contains("only select one HTTP request method"), "{e}");
        let e = err("curl --resolve a:80 http://a");
        assert!(e.contains("HOST:PORT:ADDRESS"), "{e}");
        let e = err("curl --retry x http://a");
        assert!(e.contains("whole number"), "{e}");
        let e = err("curl --retry 4294967295 http://a");
        assert!(e.contains("at most 100"), "{e}");
        let e = err("curl -X '' http://a");
        assert!(e.contains("method name"), "{e}");
        assert!(parse("curl --http2 https://a").http2);
        // The later of the version options wins.
        let o = parse("curl --http2-prior-knowledge --http1.1 http://a");
        assert_eq!((o.http, o.http2), (ClientHttp::Http11Only, false));
        let o = parse("curl --http1.1 --http2-prior-knowledge http://a");
        assert_eq!(o.http, ClientHttp::H2PriorKnowledge);
        let o = parse("curl --http2-prior-knowledge --http2 http://a");
        assert_eq!((o.http, o.http2), (ClientHttp::Negotiate, true));
        let e = err("curl -6 http://a");
        assert!(e.contains("IPv6"), "{e}");
    }
}
