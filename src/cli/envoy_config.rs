//! `egressbench envoy-config`: load manifests, build the mesh, and print one proxy's config as the
//! Envoy bootstrap egressbench would run it with (YAML, or JSON), placed as in its pod; with
//! `--certs DIR`, also write the certificate files the config reads and point it at them, so that
//! `envoy --mode validate -c` accepts the output as it is.
//!
//! Owns: the command's arguments and flow. Leaves out: loading (`manifest`), building (`mesh`) and
//! rendering (`envoy`).

use super::compile::load;
use super::{bad_input, usage, Exit, Io};
use clap::ValueEnum;
use egressbench_envoy::{self as envoy, CertPems, Placement};
use egressbench_model::mesh::Mesh;
use egressbench_model::request::WorkloadRef;
use egressbench_model::xds::ProxyKind;
use egressbench_resources::Store;
use std::io;
use std::path::PathBuf;

/// How the bootstrap is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ConfigFormat {
    /// YAML (`envoy -c out.yaml`).
    #[default]
    Yaml,
    /// JSON (`envoy -c out.json`).
    Json,
}

#[derive(Debug, clap::Args)]
pub struct EnvoyConfigArgs {
    /// The proxy: a sidecar's workload or a gateway's Deployment, as NAMESPACE/NAME.
    #[arg(long, value_name = "NS/WORKLOAD", value_parser = workload)]
    pub proxy: WorkloadRef,
    /// Manifest files or folders: the mesh the proxy is part of.
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,
    /// How the bootstrap is printed.
    #[arg(long, value_enum, default_value_t)]
    pub output: ConfigFormat,
    /// Also write the certificate files the config reads (the proxy's SPIFFE certificate and key
    /// from a fresh mesh CA, the mesh root, a public CA bundle) into DIR, and point the config at
    /// them instead of the pod's /etc/certs.
    #[arg(long, value_name = "DIR")]
    pub certs: Option<PathBuf>,
}

fn workload(s: &str) -> Result<WorkloadRef, String> {
    WorkloadRef::parse(s).ok_or_else(|| {
        format!("expected namespace/name of a proxy (e.g. mytest/sleep-a), got `{s}`")
    })
}

pub(super) fn execute(args: &EnvoyConfigArgs, io: &mut Io<'_>) -> io::Result<Exit> {
    let Some(loaded) = load(&args.files, io)? else {
        return Ok(Exit::BadInput);
    };
    let mesh = match Mesh::build(&Store::from_resources(loaded.resources)) {
        Ok(mesh) => mesh,
        Err(e) => {
            return bad_input(
                io,
                &usage(
                    e.to_string(),
                    "`egressbench check` on the same files shows what is wrong",
                ),
            )
        }
    };
    let proxy = match envoy::proxy_config(&mesh, &args.proxy) {
        Ok(p) => p,
        Err(e) => return bad_input(io, &e),
    };
    let mut placement = Placement::in_pod();
    if let Some(dir) = &args.certs {
        let written = CertPems::issue(&proxy.identity).and_then(|pems| pems.write(dir));
        match written {
            Ok(paths) => placement.certs = paths,
            Err(e) => return bad_input(io, &e),
        }
    }
    for w in &proxy.warnings {
        writeln!(io.err, "warning: {w}")?;
    }
    let bootstrap = envoy::bootstrap(proxy, &mesh, &placement);
    match args.output {
        ConfigFormat::Json => {
            let text = match envoy::to_json(&bootstrap) {
                Ok(t) => t,
                Err(e) => return bad_input(io, &e),
            };
            writeln!(io.out, "{text}")?;
        }
        ConfigFormat::Yaml => {
            let text = match envoy::to_yaml(&bootstrap) {
                Ok(t) => t,
                Err(e) => return bad_input(io, &e),
            };
            writeln!(
                io.out,
                "# Envoy bootstrap of {} ({:?}, {}), rendered by egressbench from the manifests.",
                args.proxy, proxy.kind, proxy.identity
            )?;
            let capture = match proxy.kind {
                ProxyKind::Sidecar => "iptables capture to virtualOutbound (15001)",
                ProxyKind::Gateway => "listeners bound to their ports",
            };
            let certs = placement.certs.cert_chain.parent();
            writeln!(
                io.out,
                "# Placed as in its pod: {capture}, certificates in {}.",
                certs.map_or_else(String::new, |p| p.display().to_string())
            )?;
            write!(io.out, "{text}")?;
        }
    }
    Ok(Exit::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures(names: &[&str]) -> Vec<PathBuf> {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        names.iter().map(|n| root.join(n)).collect()
    }

    fn run(args: &EnvoyConfigArgs) -> (Exit, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let exit = execute(
            args,
            &mut Io {
                out: &mut out,
                err: &mut err,
            },
        )
        .unwrap_or(Exit::BadInput);
        (
            exit,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    fn args(proxy: &str, certs: Option<PathBuf>, output: ConfigFormat) -> EnvoyConfigArgs {
        EnvoyConfigArgs {
            proxy: WorkloadRef::parse(proxy).unwrap_or_else(|| WorkloadRef::new("x", "y")),
            files: fixtures(&[
                "fixtures/mesh/registry-only.yaml",
                "fixtures/000/namespaces.yaml",
                "fixtures/000/egressgateway.yaml",
                "fixtures/000/test.yaml",
                "fixtures/000/egress-http.yaml",
            ]),
            output,
            certs,
        }
    }

    #[test]
    fn prints_the_bootstrap_as_yaml_or_json() {
        let (exit, out, err) = run(&args("mytest/sleep-a", None, ConfigFormat::Yaml));
        assert_eq!(exit, Exit::Success, "{err}");
        assert!(
            out.starts_with("# Envoy bootstrap of mytest/sleep-a"),
            "{out}"
        );
        assert!(out.contains("block_all"), "{out}");
        assert!(out.contains("/etc/certs/cert-chain.pem"), "{out}");
        let (exit, out, err) = run(&args("mytest/sleep-a", None, ConfigFormat::Json));
        assert_eq!(exit, Exit::Success, "{err}");
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        assert!(doc["static_resources"]["clusters"].is_array(), "{out}");
    }

    #[test]
    fn unknown_proxies_are_bad_input_with_a_suggestion() {
        let (exit, _, err) = run(&args("mytest/sleep-b", None, ConfigFormat::Yaml));
        assert_eq!(exit, Exit::BadInput);
        assert!(err.contains("no workload `mytest/sleep-b`"), "{err}");
        assert!(err.contains("`mytest/sleep-a`"), "{err}");
        assert!(
            err.contains("help: did you mean `mytest/sleep-a`?"),
            "{err}"
        );
    }

    #[test]
    fn certs_are_written_and_referenced() {
        let dir =
            std::env::temp_dir().join(format!("egressbench-cli-certs-{}", std::process::id()));
        let (exit, out, err) = run(&args(
            "istio-egress/egressgateway-a",
            Some(dir.clone()),
            ConfigFormat::Yaml,
        ));
        assert_eq!(exit, Exit::Success, "{err}");
        for file in [
            "cert-chain.pem",
            "key.pem",
            "root-cert.pem",
            "ca-certificates.crt",
        ] {
            assert!(dir.join(file).is_file(), "{file}");
        }
        // The gateway terminates mesh mTLS with its own certificate and the mesh root.
        for file in ["cert-chain.pem", "key.pem", "root-cert.pem"] {
            assert!(out.contains(&dir.join(file).display().to_string()), "{out}");
        }
        assert!(!out.contains("/etc/certs"), "{out}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
