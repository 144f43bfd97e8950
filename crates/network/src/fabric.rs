//! The simulated network: addresses of the simulated world (pod IPs, service VIPs, the external
//! hosts' public addresses) mapped onto real loopback sockets.
//!
//! Owns: `Fabric` — listening on a simulated `ip:port` (a real listener on `127.0.0.1`, ephemeral
//! port), connecting from a simulated source address to a simulated destination (the real socket
//! is bound to a loopback alias standing for the source, so the server reads the source off the
//! connection as a real server does), the reverse mapping from a real peer to its simulated
//! address, kube-proxy's rules (a Service's ClusterIP and port → an endpoint, `set_services`), the
//! addresses that exist without listeners (`set_present`: their closed ports refuse), and the
//! time scale. Leaves out: what is served on those sockets (proxies, hosts, applications).
//!
//! Linux routes all of 127.0.0.0/8 to the loopback device, so each simulated source address gets
//! its own loopback alias (127.77.x.y) without any setup. A destination with no listener on the
//! port refuses the connection (the listener table answers, as the kernel would with a RST), and
//! so does a present address (a pod, a ClusterIP) with nothing on the port; any other address
//! where nothing listens is unroutable, and the attempt times out.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// How long an unanswered connection attempt takes to fail, in simulated milliseconds
/// (Envoy's default `connect_timeout` is 10 s).
pub const CONNECT_TIMEOUT_MS: u64 = 10_000;

/// Simulated time: delays and time limits of the simulated world (httpbin's `/delay/{n}`, route
/// timeouts, `curl -m`) run `scale` times faster than written, so that a scenario with a 5 s delay
/// does not take 5 s. Ordering is kept: a 3 s timeout still fires before a 5 s answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Real duration of one simulated millisecond, in real microseconds.
    micros_per_ms: u64,
}

impl Clock {
    /// Simulated time runs 10 times faster than real time: the shortest margin a shipped
    /// scenario relies on (a 1 s answer inside a 3 s route timeout, a 2 s `curl -m` before a 5 s
    /// answer) is then 200 ms of real time, which holds on a busy 2-core machine.
    pub const DEFAULT_SPEEDUP: u64 = 10;

    /// Real time a timed check must leave for the machine's own delays (a busy 2-core machine
    /// starting a process, a runtime thread waiting for a core), in real milliseconds.
    pub const REAL_SLACK_MS: u64 = 800;

    /// The fastest clock (up to `DEFAULT_SPEEDUP`) at which a check that tolerates
    /// `tolerance_ms` simulated milliseconds of overrun still leaves `REAL_SLACK_MS` of real
    /// time: a scenario whose `duration` spans 1.6 s runs at twice real time, not ten.
    pub fn within_tolerance(tolerance_ms: Option<u64>) -> Self {
        match tolerance_ms {
            None => Clock::default(),
            Some(ms) => Clock::new((ms / Self::REAL_SLACK_MS).clamp(1, Self::DEFAULT_SPEEDUP)),
        }
    }

    pub fn new(speedup: u64) -> Self {
        Clock {
            micros_per_ms: 1000 / speedup.clamp(1, 1000),
        }
    }

    /// The real duration of `ms` simulated milliseconds.
    pub fn real(&self, ms: u64) -> Duration {
        Duration::from_micros(ms.saturating_mul(self.micros_per_ms))
    }

    /// The simulated milliseconds `real` stands for.
    pub fn simulated(&self, real: Duration) -> u64 {
        u64::try_from(real.as_micros() / u128::from(self.micros_per_ms.max(1))).unwrap_or(u64::MAX)
    }

    /// Sleep for `ms` simulated milliseconds.
    pub async fn sleep(&self, ms: u64) {
        if ms > 0 {
            tokio::time::sleep(self.real(ms)).await;
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new(Clock::DEFAULT_SPEEDUP)
    }
}

#[derive(Debug, Default)]
struct Tables {
    /// Simulated `ip:port` → the real listener's address.
    listeners: HashMap<SocketAddr, SocketAddr>,
    /// Addresses that exist with or without listeners (pods): their closed ports refuse.
    present: std::collections::HashSet<IpAddr>,
    /// kube-proxy's rules: a Service's ClusterIP and port → an endpoint's address and port.
    services: HashMap<SocketAddr, SocketAddr>,
    /// Simulated source address → its loopback alias, and back.
    aliases: HashMap<IpAddr, Ipv4Addr>,
    by_alias: HashMap<Ipv4Addr, IpAddr>,
}

/// The simulated network of one scenario. Shared (`Arc`) by every proxy, host and client in it.
#[derive(Debug)]
pub struct Fabric {
    tables: Mutex<Tables>,
    clock: Clock,
}

impl Fabric {
    pub fn new(clock: Clock) -> Arc<Fabric> {
        Arc::new(Fabric {
            tables: Mutex::new(Tables::default()),
            clock,
        })
    }

    pub fn clock(&self) -> Clock {
        self.clock
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Listen on simulated `at`: a real listener on 127.0.0.1 (ephemeral port), registered so that
    /// connections to `at` reach it. Replaces an earlier registration of `at`.
    pub async fn listen(&self, at: SocketAddr) -> io::Result<TcpListener> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let real = listener.local_addr()?;
        self.tables().listeners.insert(at, real);
        Ok(listener)
    }

    /// Route connections for simulated `at` to `real`, a listener someone else bound on loopback
    /// (a test's own server standing in for a host). Replaces an earlier registration of `at`.
    pub fn route_to(&self, at: SocketAddr, real: SocketAddr) {
        self.tables().listeners.insert(at, real);
    }

    /// Stop routing connections for `at` to its listener (the listener itself is closed by its
    /// owner dropping it).
    pub fn unlisten(&self, at: SocketAddr) {
        self.tables().listeners.remove(&at);
    }

    /// The addresses that exist whether or not anything listens on them (the pods of the
    /// current mesh): a connection to one of their closed ports is refused, not unroutable.
    /// Replaces the earlier set.
    pub fn set_present(&self, addresses: impl IntoIterator<Item = IpAddr>) {
        self.tables().present = addresses.into_iter().collect();
    }

    /// Whether `ip` is an address of the cluster (`set_present`): a pod's, an application's, a
    /// ClusterIP.
    pub fn is_present(&self, ip: IpAddr) -> bool {
        self.tables().present.contains(&ip)
    }

    /// kube-proxy's rules (ClusterIP and port → endpoint address and port), replacing the earlier
    /// ones: a connection to a Service address goes to its endpoint.
    pub fn set_services(&self, rules: impl IntoIterator<Item = (SocketAddr, SocketAddr)>) {
        self.tables().services = rules.into_iter().collect();
    }

    /// The real address connections to simulated `at` go to (through kube-proxy's rules).
    pub fn real_addr(&self, at: SocketAddr) -> Option<SocketAddr> {
        let t = self.tables();
        let at = t.services.get(&at).copied().unwrap_or(at);
        t.listeners.get(&at).copied()
    }

    /// The loopback alias standing for simulated source `ip`.
    pub fn alias(&self, ip: IpAddr) -> Ipv4Addr {
        let mut t = self.tables();
        if let Some(a) = t.aliases.get(&ip) {
            return *a;
        }
        let n = u32::try_from(t.aliases.len()).unwrap_or(u32::MAX - 1) + 1;
        let [_, _, hi, lo] = n.to_be_bytes();
        let alias = Ipv4Addr::new(127, 77, hi, lo);
        t.aliases.insert(ip, alias);
        t.by_alias.insert(alias, ip);
        alias
    }

    /// The simulated address of a real peer (`127.0.0.1` and unknown aliases: `None`).
    pub fn simulated_peer(&self, real: SocketAddr) -> Option<IpAddr> {
        match real.ip() {
            IpAddr::V4(v4) => self.tables().by_alias.get(&v4).copied(),
            IpAddr::V6(_) => None,
        }
    }

    /// Connect from simulated source `from` to simulated `to`. A port nobody listens on is refused
    /// (`ConnectionRefused`); an address where nothing listens at all (and not `set_present`) is
    /// unroutable and fails with
    /// `TimedOut` after the (scaled) connect timeout.
    pub async fn connect(&self, from: IpAddr, to: SocketAddr) -> io::Result<TcpStream> {
        let (real, routable) = {
            let t = self.tables();
            let to = t.services.get(&to).copied().unwrap_or(to);
            (
                t.listeners.get(&to).copied(),
                t.present.contains(&to.ip()) || t.listeners.keys().any(|k| k.ip() == to.ip()),
            )
        };
        let Some(real) = real else {
            if routable {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    format!("connection refused: nothing listens on {to}"),
                ));
            }
            return Err(self.unroutable(to).await);
        };
        self.connect_real(from, real).await
    }

    /// What an attempt to reach `to` where nothing routes it gives, after the time it takes.
    pub async fn unroutable(&self, to: SocketAddr) -> io::Error {
        self.clock.sleep(CONNECT_TIMEOUT_MS).await;
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("connection to {to} timed out: no host at {}", to.ip()),
        )
    }

    /// Connect from simulated source `from` to a real loopback address.
    pub async fn connect_real(&self, from: IpAddr, real: SocketAddr) -> io::Result<TcpStream> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(IpAddr::V4(self.alias(from)), 0))?;
        let stream = socket.connect(real).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }
}

/// Close `stream` with a TCP RST rather than a FIN, as Envoy does when it resets a connection.
pub fn reset(stream: TcpStream) {
    // SO_LINGER with a zero timeout makes close() send RST; with zero it never blocks on drop,
    // which is what the deprecation warns about.
    #[allow(deprecated)]
    let _ = stream.set_linger(Some(Duration::ZERO));
    drop(stream);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_tight_duration_slows_the_clock_down() {
        let speedup = |c: Clock| 1000 / c.real(1).as_micros() as u64;
        assert_eq!(
            speedup(Clock::within_tolerance(None)),
            Clock::DEFAULT_SPEEDUP
        );
        assert_eq!(speedup(Clock::within_tolerance(Some(1600))), 2);
        assert_eq!(speedup(Clock::within_tolerance(Some(100))), 1);
        assert_eq!(speedup(Clock::within_tolerance(Some(60_000))), 10);
    }

    #[test]
    fn a_server_reads_the_simulated_source_off_the_connection() {
        rt().block_on(async {
            let f = Fabric::new(Clock::default());
            let at: SocketAddr = "203.0.113.10:80".parse().expect("addr");
            let l = f.listen(at).await.expect("listen");
            let from: IpAddr = "10.244.1.7".parse().expect("ip");
            let (c, s) = tokio::join!(f.connect(from, at), l.accept());
            let (mut s, peer) = s.expect("accept");
            assert_eq!(f.simulated_peer(peer), Some(from));
            let mut c = c.expect("connect");
            c.write_all(b"hi").await.expect("write");
            let mut buf = [0u8; 2];
            s.read_exact(&mut buf).await.expect("read");
            assert_eq!(&buf, b"hi");
        });
    }

    #[test]
    fn an_unused_port_is_refused_and_an_unknown_address_times_out() {
        rt().block_on(async {
            let f = Fabric::new(Clock::new(1000));
            let _l = f
                .listen("203.0.113.10:80".parse().expect("addr"))
                .await
                .expect("listen");
            let from: IpAddr = "10.244.1.7".parse().expect("ip");
            let refused = f
                .connect(from, "203.0.113.10:81".parse().expect("addr"))
                .await
                .expect_err("refused");
            assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
            let lost = f
                .connect(from, "203.0.113.99:80".parse().expect("addr"))
                .await
                .expect_err("no route");
            assert_eq!(lost.kind(), io::ErrorKind::TimedOut);
        });
    }

    #[test]
    fn a_reset_reaches_the_peer_as_connection_reset() {
        rt().block_on(async {
            let f = Fabric::new(Clock::default());
            let at: SocketAddr = "10.0.0.1:80".parse().expect("addr");
            let l = f.listen(at).await.expect("listen");
            let from: IpAddr = "10.244.1.7".parse().expect("ip");
            let (c, s) = tokio::join!(f.connect(from, at), l.accept());
            let mut c = c.expect("connect");
            reset(s.expect("accept").0);
            let mut buf = [0u8; 1];
            let err = c.read(&mut buf).await.expect_err("reset");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        });
    }
}
