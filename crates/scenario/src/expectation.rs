//! `expect:` — what a step must observe, as data read strictly from the scenario file.
//!
//! Owns: the `Expect` struct and its parts (JSON-body matches, access-log matches), with their
//! parsing and the checks that need no step context (known access-log fields, one operator per
//! JSON match). Leaves out: which expectations suit which kind of step (`format`) and comparing
//! them with what a target did (`verify`).

use super::de::{checked_map, one_or_many, opt_scalar, texts, with_help, Scalar};
use egressbench_model::outcome::{AccessLogEntry, ConnectionError};
use egressbench_model::request::WorkloadRef;
use egressbench_text::suggest::closest;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Everything a step expects; every field is optional and every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The command's whole stdout, compared without trailing whitespace on any line.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub stdout: Option<String>,
    /// Texts stdout must contain (one or a list: all of them).
    #[serde(default, deserialize_with = "texts")]
    pub stdout_contains: Vec<String>,
    /// Texts stdout must not contain (one or a list: none of them).
    #[serde(default, deserialize_with = "texts")]
    pub stdout_not_contains: Vec<String>,
    #[serde(default, deserialize_with = "texts")]
    pub stderr_contains: Vec<String>,
    #[serde(default, deserialize_with = "texts")]
    pub stderr_not_contains: Vec<String>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The HTTP status the client received.
    #[serde(default)]
    pub status: Option<u16>,
    /// The connection failed this way.
    #[serde(default)]
    pub connection: Option<ConnectionExpect>,
    /// Texts in the response body, even when the command hid the body (one or a list).
    #[serde(default, deserialize_with = "texts")]
    pub body_contains: Vec<String>,
    /// Texts the response body must not contain (one or a list); a failed connection has no
    /// body, which contains nothing.
    #[serde(default, deserialize_with = "texts")]
    pub body_not_contains: Vec<String>,
    /// Fields of the JSON response body (one match or a list).
    #[serde(default, deserialize_with = "one_or_many")]
    pub json: Vec<JsonExpect>,
    #[serde(default)]
    pub access_log: Option<AccessLogExpect>,
    /// The step (apply / delete) must fail with this text.
    #[serde(default, deserialize_with = "opt_scalar")]
    pub error_contains: Option<String>,
    /// One of these sets of expectations must hold in full (a document that says "either …
    /// or …": a `502` from `block_all`, or a reset, depending on the Istio version).
    #[serde(default, deserialize_with = "alternatives")]
    pub any_of: Vec<Expect>,
    /// How long the command took, in seconds of the scenario's clock.
    #[serde(default)]
    pub duration: Option<DurationExpect>,
    /// What the destinations (external hosts, pods' applications) received during the step.
    #[serde(default)]
    pub received: Option<ReceivedExpect>,
    /// Istio's standard metrics of proxies after the step, by label (one or a list).
    #[serde(default, deserialize_with = "one_or_many")]
    pub metrics: Vec<MetricExpect>,
}

/// `{proxy: default/sleep, name: istio_requests_total, labels: {destination_service_name:
/// BlackHoleCluster}, value: 1}`: the series of family `name` on `proxy`'s page whose labels hold
/// every given one, summed, equal `value` (at least 1 when `value` is left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricExpect {
    pub proxy: WorkloadRef,
    pub name: String,
    pub labels: BTreeMap<String, TextMatch>,
    pub value: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    proxy: String,
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, FieldValue>,
    #[serde(default)]
    value: Option<u64>,
}

impl<'de> Deserialize<'de> for MetricExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a metric to check, e.g. `{proxy: default/sleep, name: istio_requests_total, labels: \
             {response_code: \"502\"}}`",
            metric_expect,
        )
    }
}

fn metric_expect(raw: RawMetric) -> Result<MetricExpect, String> {
    let proxy = WorkloadRef::parse(&raw.proxy).ok_or_else(|| {
        with_help(
            format!("`metrics.proxy` `{}` is not a workload", raw.proxy),
            "name the proxy's workload as `namespace/name`, e.g. `default/sleep`",
        )
    })?;
    let families = egressbench_model::admin::istio_families();
    let Some((_, names)) = families.iter().find(|(f, _)| *f == raw.name) else {
        let known = families.iter().map(|(f, _)| *f);
        let fix = match closest(&raw.name, known.clone()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("use one of {}", known.collect::<Vec<_>>().join(", ")),
        };
        return Err(with_help(
            format!(
                "`metrics.name` `{}` is not a metric the bench counts",
                raw.name
            ),
            fix,
        ));
    };
    let mut labels = BTreeMap::new();
    for (name, value) in raw.labels {
        if !names.contains(&name.as_str()) {
            let fix = match closest(&name, names.iter().copied()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("use one of {}", names.join(", ")),
            };
            return Err(with_help(
                format!("`{}` has no label `{name}`", raw.name),
                fix,
            ));
        }
        let matcher = match value {
            FieldValue::Exact(text) => TextMatch::Equals(text),
            FieldValue::Ops(ops) => TextMatch::from_ops(&format!("metrics.labels.{name}"), ops)?,
        };
        labels.insert(name, matcher);
    }
    Ok(MetricExpect {
        proxy,
        name: raw.name,
        labels,
        value: raw.value,
    })
}

/// `received: none`, or a list of what some destination received: each item holds when one
/// record of the step has every field given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceivedExpect {
    /// No destination received anything: no request, no stream, no handshake.
    Nothing,
    Records(Vec<ReceivedItem>),
}

/// `{host: httpbin.org, method: GET, url: {starts_with: "https://"}, headers: {x-b3: {contains:
/// a}}, without_headers: [x-forwarded-client-cert]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedItem {
    /// Fields of `Received` by name (`RECEIVED_FIELDS`), compared as text.
    pub fields: BTreeMap<String, TextMatch>,
    /// Headers by name (any case) that must be there, with their values.
    pub headers: BTreeMap<String, TextMatch>,
    /// Headers that must not be there.
    pub without_headers: Vec<String>,
}

/// The fields of what a destination received that `received:` items compare.
pub(crate) const RECEIVED_FIELDS: &[&str] = &[
    "host", "port", "tls", "sni", "method", "url", "peer", "status",
];

/// Every other key is a field, checked against `RECEIVED_FIELDS` by `received_item`.
#[derive(Deserialize)]
struct RawReceivedItem {
    #[serde(default)]
    headers: BTreeMap<String, FieldValue>,
    #[serde(default, deserialize_with = "texts")]
    without_headers: Vec<String>,
    #[serde(flatten)]
    fields: BTreeMap<String, FieldValue>,
}

fn received_item(raw: RawReceivedItem) -> Result<ReceivedItem, String> {
    let matcher = |what: String, v: FieldValue| match v {
        FieldValue::Exact(text) => Ok(TextMatch::Equals(text)),
        FieldValue::Ops(ops) => TextMatch::from_ops(&what, ops),
    };
    let mut fields = BTreeMap::new();
    for (name, value) in raw.fields {
        if !RECEIVED_FIELDS.contains(&name.as_str()) {
            let known = RECEIVED_FIELDS
                .iter()
                .copied()
                .chain(["headers", "without_headers"]);
            let fix = match closest(&name, known.clone()) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("use one of {}", known.collect::<Vec<_>>().join(", ")),
            };
            return Err(with_help(format!("unknown `received` field `{name}`"), fix));
        }
        fields.insert(name.clone(), matcher(format!("received.{name}"), value)?);
    }
    let mut headers = BTreeMap::new();
    for (name, value) in raw.headers {
        headers.insert(
            name.to_ascii_lowercase(),
            matcher(format!("received.headers.{name}"), value)?,
        );
    }
    if fields.is_empty() && headers.is_empty() && raw.without_headers.is_empty() {
        return Err(with_help(
            "a `received` item names nothing to compare",
            "name a field (`host`, `method`, `url`, …), `headers` or `without_headers`",
        ));
    }
    Ok(ReceivedItem {
        fields,
        headers,
        without_headers: raw.without_headers,
    })
}

impl<'de> Deserialize<'de> for ReceivedItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a map of what a destination received, e.g. `{host: httpbin.org, method: GET}`",
            received_item,
        )
    }
}

impl<'de> Deserialize<'de> for ReceivedExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_yaml::Value::deserialize(d)?;
        match &value {
            serde_yaml::Value::String(s) if s == "none" => Ok(ReceivedExpect::Nothing),
            serde_yaml::Value::Sequence(_) => Vec::<ReceivedItem>::deserialize(value)
                .map(ReceivedExpect::Records)
                .map_err(de::Error::custom),
            serde_yaml::Value::Mapping(_) => ReceivedItem::deserialize(value)
                .map(|i| ReceivedExpect::Records(vec![i]))
                .map_err(de::Error::custom),
            _ => Err(de::Error::custom(
                "`received`: expected `none`, a map of what a destination received, or a list of those",
            )),
        }
    }
}

/// `duration: {at_least: 3, at_most: 4}`: bounds in seconds (one or both), of the scenario's
/// clock: computed by the model, measured on the sim (simulated time) and on Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DurationExpect {
    pub at_least_ms: Option<u64>,
    pub at_most_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDuration {
    #[serde(default)]
    at_least: Option<f64>,
    #[serde(default)]
    at_most: Option<f64>,
}

fn duration_expect(raw: RawDuration) -> Result<DurationExpect, String> {
    let ms = |name: &str, s: Option<f64>| -> Result<Option<u64>, String> {
        match s {
            None => Ok(None),
            Some(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => {
                // Whole milliseconds; the bounds are seconds as written.
                Ok(Some((s * 1000.0).round() as u64))
            }
            Some(s) => Err(with_help(
                format!("`duration.{name}`: {s} is not a number of seconds from 0 to 86400"),
                "write seconds, e.g. `at_least: 2.5`",
            )),
        }
    };
    let d = DurationExpect {
        at_least_ms: ms("at_least", raw.at_least)?,
        at_most_ms: ms("at_most", raw.at_most)?,
    };
    match (d.at_least_ms, d.at_most_ms) {
        (None, None) => Err(with_help(
            "`duration` gives no bound",
            "give `at_least`, `at_most` or both, in seconds, e.g. `{at_least: 3, at_most: 4}`",
        )),
        (Some(a), Some(b)) if a > b => Err(with_help(
            "`duration.at_least` is more than `duration.at_most`",
            "swap them",
        )),
        _ => Ok(d),
    }
}

impl<'de> Deserialize<'de> for DurationExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a map `{at_least: SECONDS, at_most: SECONDS}`",
            duration_expect,
        )
    }
}

impl DurationExpect {
    pub fn holds(&self, elapsed_ms: u64) -> bool {
        self.at_least_ms.is_none_or(|a| elapsed_ms >= a)
            && self.at_most_ms.is_none_or(|b| elapsed_ms <= b)
    }

    /// How much a measurement may run over what it stands for and still hold, in the scenario's
    /// milliseconds: the width between the bounds, or the upper bound alone. A lower bound alone
    /// allows any overrun (`None`).
    pub fn tolerance_ms(&self) -> Option<u64> {
        let most = self.at_most_ms?;
        Some(most - self.at_least_ms.unwrap_or(0).min(most))
    }
}

impl fmt::Display for DurationExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = |ms: u64| format!("{}.{:03} s", ms / 1000, ms % 1000);
        match (self.at_least_ms, self.at_most_ms) {
            (Some(a), Some(b)) => write!(f, "between {} and {}", s(a), s(b)),
            (Some(a), None) => write!(f, "at least {}", s(a)),
            (None, Some(b)) => write!(f, "at most {}", s(b)),
            (None, None) => f.write_str("any time"),
        }
    }
}

/// `any_of:` as written: at least one alternative (an empty list is refused, not ignored).
fn alternatives<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Expect>, D::Error> {
    let list = Vec::<Expect>::deserialize(d)?;
    if list.is_empty() {
        return Err(de::Error::custom(
            "expected at least one alternative, got an empty list",
        ));
    }
    Ok(list)
}

impl Expect {
    /// The smallest `duration` tolerance (`DurationExpect::tolerance_ms`) here or in any
    /// alternative.
    pub fn duration_tolerance_ms(&self) -> Option<u64> {
        let own = self.duration.and_then(|d| d.tolerance_ms());
        self.any_of
            .iter()
            .filter_map(Expect::duration_tolerance_ms)
            .chain(own)
            .min()
    }

    /// The keys this expectation sets, as the file spells them.
    pub fn keys(&self) -> Vec<&'static str> {
        let set = [
            ("stdout", self.stdout.is_some()),
            ("stdout_contains", !self.stdout_contains.is_empty()),
            ("stdout_not_contains", !self.stdout_not_contains.is_empty()),
            ("stderr_contains", !self.stderr_contains.is_empty()),
            ("stderr_not_contains", !self.stderr_not_contains.is_empty()),
            ("exit_code", self.exit_code.is_some()),
            ("status", self.status.is_some()),
            ("connection", self.connection.is_some()),
            ("body_contains", !self.body_contains.is_empty()),
            ("body_not_contains", !self.body_not_contains.is_empty()),
            ("json", !self.json.is_empty()),
            ("access_log", self.access_log.is_some()),
            ("error_contains", self.error_contains.is_some()),
            ("any_of", !self.any_of.is_empty()),
            ("duration", self.duration.is_some()),
            ("received", self.received.is_some()),
            ("metrics", !self.metrics.is_empty()),
        ];
        set.into_iter()
            .filter(|(_, on)| *on)
            .map(|(k, _)| k)
            .collect()
    }
}

/// `connection: reset | refused | timeout | unresolved | not_tls | tunnel_failed | proxy_aborted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionExpect {
    Reset,
    Refused,
    Timeout,
    /// The host name did not resolve (an extension of the format).
    Unresolved,
    /// The TLS handshake got plain text back ("wrong version number").
    NotTls,
    /// The forward proxy answered the CONNECT with an error status (any).
    TunnelFailed,
    /// The forward proxy closed without answering the CONNECT.
    ProxyAborted,
    /// The client did not accept the server's certificate (curl exit 60).
    CertificateRejected,
}

impl ConnectionExpect {
    /// Whether the client's failure `error` is this one.
    pub fn holds_for(self, error: ConnectionError) -> bool {
        match self {
            ConnectionExpect::TunnelFailed => matches!(error, ConnectionError::TunnelFailed(_)),
            ConnectionExpect::Reset => error == ConnectionError::Reset,
            ConnectionExpect::Refused => error == ConnectionError::Refused,
            ConnectionExpect::Timeout => error == ConnectionError::Timeout,
            ConnectionExpect::Unresolved => error == ConnectionError::Unresolved,
            ConnectionExpect::NotTls => error == ConnectionError::NotTls,
            ConnectionExpect::ProxyAborted => error == ConnectionError::ProxyAborted,
            ConnectionExpect::CertificateRejected => {
                matches!(error, ConnectionError::Certificate(_))
            }
        }
    }

    /// The name the format gives it.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionExpect::Reset => "reset",
            ConnectionExpect::Refused => "refused",
            ConnectionExpect::Timeout => "timeout",
            ConnectionExpect::Unresolved => "unresolved",
            ConnectionExpect::NotTls => "not_tls",
            ConnectionExpect::TunnelFailed => "tunnel_failed",
            ConnectionExpect::ProxyAborted => "proxy_aborted",
            ConnectionExpect::CertificateRejected => "certificate_rejected",
        }
    }
}

/// How a piece of text must compare with an expected one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextMatch {
    Equals(String),
    StartsWith(String),
    Contains(String),
    /// A regular expression (the `regex` crate's syntax) found anywhere in the text; anchor it
    /// with `^…$` to match the whole.
    Matches(Pattern),
    /// An address `HOST:PORT` (or `[V6]:PORT`) on this port: "the gateway connected on port 443".
    Port(u16),
}

/// A regular expression, compiled when the scenario is read.
#[derive(Debug, Clone)]
pub struct Pattern(regex::Regex);

impl Pattern {
    /// Compile `text`; the error says what is wrong with it.
    pub fn new(text: &str) -> Result<Pattern, String> {
        regex::Regex::new(text)
            .map(Pattern)
            .map_err(|e| format!("`{text}` is not a regular expression: {e}"))
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl Eq for Pattern {}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl TextMatch {
    pub fn matches(&self, actual: &str) -> bool {
        match self {
            TextMatch::Equals(e) => actual == e,
            TextMatch::StartsWith(e) => actual.starts_with(e.as_str()),
            TextMatch::Contains(e) => actual.contains(e.as_str()),
            TextMatch::Matches(p) => p.0.is_match(actual),
            TextMatch::Port(port) => actual
                .rsplit_once(':')
                .is_some_and(|(host, p)| !host.is_empty() && p == port.to_string()),
        }
    }

    /// Read `{equals|starts_with|contains|matches|port: …}`, exactly one of them; `what` names
    /// the expectation in errors.
    fn from_ops(what: &str, ops: RawOps) -> Result<TextMatch, String> {
        let mut given: Vec<TextMatch> = Vec::new();
        given.extend(ops.equals.map(|s| TextMatch::Equals(s.0)));
        given.extend(ops.starts_with.map(|s| TextMatch::StartsWith(s.0)));
        given.extend(ops.contains.map(|s| TextMatch::Contains(s.0)));
        if let Some(m) = ops.matches {
            given.push(TextMatch::Matches(Pattern::new(&m.0).map_err(|e| {
                with_help(
                    format!("`{what}`: {e}"),
                    "write a regular expression such as `^outbound\\|443\\|`",
                )
            })?));
        }
        if let Some(p) = ops.port {
            let port = p.0.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                with_help(
                    format!("`{what}.port`: `{}` is not a port number", p.0),
                    "give a number from 1 to 65535, e.g. `port: 443`",
                )
            })?;
            given.push(TextMatch::Port(port));
        }
        match given.len() {
            1 => Ok(given.remove(0)),
            n => Err(with_help(
                format!(
                    "`{what}` has {n} of `equals`, `starts_with`, `contains`, `matches`, `port`"
                ),
                "give exactly one of them",
            )),
        }
    }
}

/// The comparison operators, as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOps {
    #[serde(default)]
    equals: Option<Scalar>,
    #[serde(default)]
    starts_with: Option<Scalar>,
    #[serde(default)]
    contains: Option<Scalar>,
    #[serde(default)]
    matches: Option<Scalar>,
    #[serde(default)]
    port: Option<Scalar>,
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Equals(e) => write!(f, "{e:?}"),
            TextMatch::StartsWith(e) => write!(f, "starting with {e:?}"),
            TextMatch::Contains(e) => write!(f, "containing {e:?}"),
            TextMatch::Matches(p) => write!(f, "matching /{}/", p.0.as_str()),
            TextMatch::Port(p) => write!(f, "an address on port {p}"),
        }
    }
}

/// `json: {field: headers.Host, equals: httpbin.org}`: a field of the JSON response body, by dotted
/// path (a number picks an array element), and how it must compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonExpect {
    pub field: String,
    pub matcher: TextMatch,
}

impl<'de> Deserialize<'de> for JsonExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = serde_yaml::Mapping::deserialize(d)?;
        let field = match map.remove("field") {
            Some(v) => Scalar::deserialize(v).map_err(de::Error::custom)?.0,
            None => return Err(de::Error::missing_field("field")),
        };
        if field.trim().is_empty() {
            return Err(de::Error::custom(with_help(
                "`json.field` is empty",
                "name a field of the response body by its dotted path, e.g. `field: headers.Host`",
            )));
        }
        let ops = RawOps::deserialize(serde_yaml::Value::Mapping(map))
            .map_err(|e| de::Error::custom(format!("`json` for field `{field}`: {e}")))?;
        let matcher = TextMatch::from_ops(&format!("json` for field `{field}"), ops)
            .map_err(de::Error::custom)?;
        Ok(JsonExpect { field, matcher })
    }
}

/// `access_log:` in its two forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogExpect {
    /// On exec steps: the last entry each named proxy wrote during the step.
    Proxies(Vec<ProxyLogExpect>),
    /// On logs steps: fields of the last entry shown.
    Fields(BTreeMap<String, TextMatch>),
}

/// `{proxy: default/nginx, fields: {upstream_cluster: BlackHoleCluster}}`. Without `proxy`, the
/// sidecar of the workload the command runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyLogExpect {
    pub proxy: Option<WorkloadRef>,
    pub fields: BTreeMap<String, TextMatch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProxyLog {
    #[serde(default)]
    proxy: Option<String>,
    fields: BTreeMap<String, FieldValue>,
}

/// An access-log field's expected value: a scalar (equal to it), or `{starts_with|contains|
/// matches|port: …}`.
enum FieldValue {
    Exact(String),
    Ops(RawOps),
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_yaml::Value::deserialize(d)?;
        if value.is_mapping() {
            RawOps::deserialize(value)
                .map(FieldValue::Ops)
                .map_err(de::Error::custom)
        } else {
            Scalar::deserialize(value)
                .map(|s| FieldValue::Exact(s.0))
                .map_err(de::Error::custom)
        }
    }
}

fn proxy_log(raw: RawProxyLog) -> Result<ProxyLogExpect, String> {
    let proxy = match raw.proxy {
        None => None,
        Some(p) => Some(WorkloadRef::parse(&p).ok_or_else(|| {
            with_help(
                format!("`access_log.proxy`: expected `namespace/workload`, got `{p}`"),
                "name the proxy by its workload's namespace and Deployment, e.g. `default/nginx`",
            )
        })?),
    };
    Ok(ProxyLogExpect {
        proxy,
        fields: log_fields(raw.fields)?,
    })
}

impl<'de> Deserialize<'de> for ProxyLogExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked_map(
            d,
            "a map `{proxy: namespace/workload, fields: {...}}`",
            proxy_log,
        )
    }
}

/// Access-log field names must be ones the entries have.
fn log_fields(fields: BTreeMap<String, FieldValue>) -> Result<BTreeMap<String, TextMatch>, String> {
    if fields.is_empty() {
        return Err(with_help(
            "`access_log` names no field",
            "name at least one field, e.g. `upstream_cluster: BlackHoleCluster`",
        ));
    }
    fields
        .into_iter()
        .map(|(name, value)| {
            let known = AccessLogEntry::FIELDS.iter().chain(AccessLogEntry::DERIVED);
            if known.clone().any(|f| *f == name) {
                let matcher = match value {
                    FieldValue::Exact(text) => TextMatch::Equals(text),
                    FieldValue::Ops(ops) => {
                        TextMatch::from_ops(&format!("access_log.{name}"), ops)?
                    }
                };
                Ok((name, matcher))
            } else {
                let fix = match closest(&name, known.clone().copied()) {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "use one of {}",
                        known.copied().collect::<Vec<_>>().join(", ")
                    ),
                };
                Err(with_help(format!("unknown access-log field `{name}`"), fix))
            }
        })
        .collect()
}

impl<'de> Deserialize<'de> for AccessLogExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AccessLogVisitor;
        impl<'de> Visitor<'de> for AccessLogVisitor {
            type Value = AccessLogExpect;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of access-log fields, or `{proxy: ..., fields: {...}}`, or a list of those")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AccessLogExpect, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<ProxyLogExpect>()? {
                    items.push(item);
                }
                Ok(AccessLogExpect::Proxies(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AccessLogExpect, A::Error> {
                let mut entries = serde_yaml::Mapping::new();
                while let Some((k, v)) = map.next_entry::<serde_yaml::Value, serde_yaml::Value>()? {
                    entries.insert(k, v);
                }
                let value = serde_yaml::Value::Mapping(entries);
                let is_proxy_form = value.get("fields").is_some();
                if is_proxy_form {
                    let raw = RawProxyLog::deserialize(value)
                        .map_err(|e| de::Error::custom(format!("access_log: {e}")))?;
                    proxy_log(raw)
                        .map(|p| AccessLogExpect::Proxies(vec![p]))
                        .map_err(de::Error::custom)
                } else {
                    let raw = BTreeMap::<String, FieldValue>::deserialize(value)
                        .map_err(|e| de::Error::custom(format!("access_log: {e}")))?;
                    log_fields(raw)
                        .map(AccessLogExpect::Fields)
                        .map_err(de::Error::custom)
                }
            }
        }
        d.deserialize_any(AccessLogVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Expect, String> {
        serde_yaml::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn scalars_of_any_kind_are_text() {
        let e = parse("stdout: 502\nbody_contains: true\nstatus: 403\nexit_code: 56").unwrap();
        assert_eq!(e.stdout.as_deref(), Some("502"));
        assert_eq!(e.body_contains, ["true"]);
        assert_eq!(e.status, Some(403));
        assert_eq!(e.exit_code, Some(56));
        assert_eq!(e.keys(), ["stdout", "exit_code", "status", "body_contains"]);
        let err = parse("stdout: 1.50").unwrap_err();
        assert!(err.contains("quote the value"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_accepted_ones() {
        let err = parse("stdot: \"502\"").unwrap_err();
        assert!(err.contains("unknown field `stdot`"), "{err}");
        assert!(err.contains("`stdout`"), "{err}");
        let err = parse("connection: rest").unwrap_err();
        assert!(err.contains("`reset`"), "{err}");
    }

    #[test]
    fn json_takes_exactly_one_operator_and_one_or_many_items() {
        let e = parse("json: {field: url, starts_with: \"https://\"}").unwrap();
        assert_eq!(
            e.json,
            vec![JsonExpect {
                field: "url".into(),
                matcher: TextMatch::StartsWith("https://".into())
            }]
        );
        let e = parse("json: [{field: a, equals: 1}, {field: b.c, contains: x}]").unwrap();
        assert_eq!(e.json.len(), 2);
        assert_eq!(e.json[0].matcher, TextMatch::Equals("1".into()));
        let err = parse("json: {field: url, equals: a, contains: b}").unwrap_err();
        assert!(err.contains("has 2 of"), "{err}");
        let err = parse("json: {field: url}").unwrap_err();
        assert!(err.contains("has 0 of"), "{err}");
        let err = parse("json: {field: url, equal: a}").unwrap_err();
        assert!(err.contains("unknown field `equal`"), "{err}");
    }

    #[test]
    fn duration_tolerance_is_the_width_between_the_bounds() {
        let tol = |y: &str| parse(y).unwrap().duration_tolerance_ms();
        assert_eq!(tol("duration: {at_least: 4.9, at_most: 6.5}"), Some(1600));
        assert_eq!(tol("duration: {at_most: 2}"), Some(2000));
        assert_eq!(tol("duration: {at_least: 2}"), None);
        assert_eq!(tol("status: 200"), None);
        assert_eq!(
            tol("any_of: [{duration: {at_most: 3}}, {duration: {at_least: 1, at_most: 1.5}}]"),
            Some(500)
        );
    }

    #[test]
    fn duration_bounds_are_seconds() {
        let e = parse("duration: {at_least: 2.5, at_most: 4}").unwrap();
        let d = e.duration.unwrap();
        assert!(d.holds(2500) && d.holds(4000) && !d.holds(2499) && !d.holds(4001));
        for (bad, says) in [
            ("duration: {}", "no bound"),
            ("duration: {at_least: 5, at_most: 4}", "more than"),
            ("duration: {at_least: -1}", "not a number of seconds"),
            ("duration: {about: 3}", "unknown field `about`"),
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn access_log_fields_take_matchers() {
        let e = parse(
            "access_log: {upstream_host: {port: 443}, upstream_cluster: {matches: '^outbound\\|443\\|'}, route_name: {starts_with: allow}, authority: {contains: cnn}}",
        )
        .unwrap();
        let Some(AccessLogExpect::Fields(f)) = e.access_log else {
            panic!("expected fields");
        };
        assert!(f["upstream_host"].matches("203.0.113.40:443"));
        assert!(!f["upstream_host"].matches("203.0.113.40:4430"));
        assert!(!f["upstream_host"].matches("-"));
        assert!(f["upstream_cluster"].matches("outbound|443||edition.cnn.com"));
        assert!(!f["upstream_cluster"].matches("outbound|80||edition.cnn.com"));
        assert!(f["route_name"].matches("allow_any"));
        assert!(f["authority"].matches("edition.cnn.com"));
        assert_eq!(f["upstream_host"].to_string(), "an address on port 443");
        for (bad, says) in [
            (
                "access_log: {upstream_host: {port: https}}",
                "not a port number",
            ),
            (
                "access_log: {path: {matches: '('}}",
                "not a regular expression",
            ),
            ("access_log: {path: {equals: a, contains: b}}", "has 2 of"),
            ("access_log: {path: {prefix: a}}", "unknown field `prefix`"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        {
            let e = parse("json: {field: url, matches: '^https://'}").unwrap();
            assert!(e.json[0].matcher.matches("https://httpbin.org/get"));
            assert!(!e.json[0].matcher.matches("http://httpbin.org/get"));
        }
    }

    #[test]
    fn access_log_reads_both_forms() {
        let e =
            parse("access_log: {upstream_cluster: BlackHoleCluster, response_code: 502}").unwrap();
        let fields = [
            ("response_code".to_string(), TextMatch::Equals("502".into())),
            (
                "upstream_cluster".to_string(),
                TextMatch::Equals("BlackHoleCluster".into()),
            ),
        ];
        assert_eq!(
            e.access_log,
            Some(AccessLogExpect::Fields(fields.into_iter().collect()))
        );

        let e = parse("access_log: {proxy: default/nginx, fields: {response_flags: UH}}").unwrap();
        let Some(AccessLogExpect::Proxies(items)) = e.access_log else {
            panic!("expected the proxy form");
        };
        assert_eq!(items[0].proxy, Some(WorkloadRef::new("default", "nginx")));
        assert_eq!(
            items[0].fields.get("response_flags"),
            Some(&TextMatch::Equals("UH".into()))
        );

        let e = parse("access_log:\n  - {fields: {response_code: 200}}\n  - {proxy: istio-egress/gw, fields: {response_code: 200}}\n")
            .unwrap();
        let Some(AccessLogExpect::Proxies(items)) = e.access_log else {
            panic!("expected the proxy form");
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].proxy, None);
    }

    #[test]
    fn access_log_refuses_unknown_fields_and_bad_proxies() {
        let err = parse("access_log: {upstream_clustr: BlackHoleCluster}").unwrap_err();
        assert!(
            err.contains("unknown access-log field `upstream_clustr`"),
            "{err}"
        );
        assert!(err.contains("did you mean `upstream_cluster`?"), "{err}");
        let err = parse("access_log: {proxy: nginx, fields: {response_code: 1}}").unwrap_err();
        assert!(
            err.contains("expected `namespace/workload`, got `nginx`"),
            "{err}"
        );
        let err = parse("access_log: [{proxy: default/nginx, feilds: {}}]").unwrap_err();
        assert!(err.contains("unknown field `feilds`"), "{err}");
        let err = parse("access_log: {}").unwrap_err();
        assert!(err.contains("names no field"), "{err}");
    }

    #[test]
    fn text_matches_compare_as_named() {
        assert!(TextMatch::Equals("a".into()).matches("a"));
        assert!(!TextMatch::Equals("a".into()).matches("ab"));
        assert!(TextMatch::StartsWith("https://".into()).matches("https://x"));
        assert!(!TextMatch::StartsWith("https://".into()).matches("http://x"));
        assert!(TextMatch::Contains("RBAC".into()).matches("RBAC: access denied"));
        assert!(!TextMatch::Contains("RBAC".into()).matches("denied"));
    }
}
