//! Reading a forward proxy's access log in its pod, as Istio's "Using an External HTTPS Proxy"
//! task does: `kubectl exec SQUID_POD -- tail /var/log/squid/access.log` (also `tail -n N`,
//! `tail -N`, `cat`), optionally piped into filters.
//!
//! Owns: `ProxyLogRead` and recognising that command after `kubectl exec … --`. Leaves out: the
//! log's lines (Squid's format, `egressbench_model::external::forward::access_log_line`, from what
//! the proxy received during the run) and running the filters (`pipeline`).

use super::error::CommandError;
use super::pipeline::Stage;
use super::shell::filter_stages;
use super::words::{Operator, Token, TokenKind};

/// Where Squid writes its access log.
pub(crate) const SQUID_ACCESS_LOG: &str = "/var/log/squid/access.log";

/// `tail`'s default number of lines.
const TAIL_DEFAULT: usize = 10;

/// A read of the proxy's access log: its last `tail` lines (all for `cat`), through `filters`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyLogRead {
    pub tail: Option<usize>,
    pub filters: Vec<Stage>,
}

/// The log read `tokens` (the command after `kubectl exec … --`) ask for, if they name Squid's
/// access log; `None` for any other command.
pub(crate) fn proxy_log_read(
    line: &str,
    tokens: &[Token],
) -> Option<Result<ProxyLogRead, CommandError>> {
    let pipe = tokens
        .iter()
        .position(|t| t.kind == TokenKind::Op(Operator::Pipe));
    let head = &tokens[..pipe.unwrap_or(tokens.len())];
    let words: Vec<&str> = head.iter().map(Token::word).collect::<Option<_>>()?;
    let (program, args) = words.split_first()?;
    if args.last() != Some(&SQUID_ACCESS_LOG) {
        return None;
    }
    let options = &args[..args.len() - 1];
    let bad = |why: &str| {
        Some(Err(CommandError::Usage {
            program: "tail",
            message: format!("`{}`: {why}", words.join(" ")),
        }))
    };
    if options.iter().any(|o| o.contains('+')) {
        return bad("`+N` (from line N) is not replayed; write tail -n N for the last N lines");
    }
    let tail = match (*program, options) {
        ("cat", []) => None,
        ("tail", []) => Some(TAIL_DEFAULT),
        ("tail", ["-n", n]) => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => return bad("-n takes a number of lines"),
        },
        ("tail", [one]) => match one
            .strip_prefix("-n")
            .or_else(|| one.strip_prefix("--lines="))
            .or_else(|| one.strip_prefix('-'))
            .map(str::parse)
        {
            Some(Ok(n)) => Some(n),
            _ => return bad("write tail -n N or tail -N"),
        },
        ("cat" | "tail", _) => return bad("only `tail [-n N]` and `cat` read the log here"),
        _ => return None,
    };
    let filters = match pipe {
        Some(i) => match filter_stages(line, &tokens[i + 1..]) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        },
        None => Vec::new(),
    };
    Some(Ok(ProxyLogRead { tail, filters }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::words::tokenize;

    fn read(line: &str) -> Option<Result<ProxyLogRead, CommandError>> {
        let tokens = tokenize(line, None).unwrap();
        proxy_log_read(line, &tokens)
    }

    #[test]
    fn the_tasks_tail_and_its_variants() {
        let r = read("tail /var/log/squid/access.log").unwrap().unwrap();
        assert_eq!(r.tail, Some(10));
        assert!(r.filters.is_empty());
        for (line, n) in [
            ("tail -n 3 /var/log/squid/access.log", Some(3)),
            ("tail -n3 /var/log/squid/access.log", Some(3)),
            ("tail -2 /var/log/squid/access.log", Some(2)),
            ("cat /var/log/squid/access.log", None),
        ] {
            assert_eq!(read(line).unwrap().unwrap().tail, n, "{line}");
        }
        let piped = read("tail /var/log/squid/access.log | grep CONNECT")
            .unwrap()
            .unwrap();
        assert_eq!(piped.filters.len(), 1);
    }

    #[test]
    fn other_commands_are_not_log_reads() {
        assert!(read("curl -s http://a").is_none());
        assert!(read("tail /etc/hosts").is_none());
        let e = read("tail -f /var/log/squid/access.log")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(e.contains("tail -n N"), "{e}");
        let e = read("tail -n +2 /var/log/squid/access.log")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(e.contains("`+N`"), "{e}");
    }
}
