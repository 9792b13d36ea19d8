//! Names: hosts, services, protocols, networks and Ethernet hosts, read
//! from the system's files as libpcap's resolver would find them there —
//! and never from DNS.
//!
//! [`Names::system`] reads `/etc/hosts`, `/etc/services`, `/etc/protocols`,
//! `/etc/networks` and `/etc/ethers` once (a missing file is an empty
//! database); [`Names::from_texts`] builds the same from strings, for tests
//! and for callers with their own databases.

use std::net::IpAddr;
use std::sync::OnceLock;

/// Which transport protocols a service name is registered for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PortProto {
    /// Only TCP.
    Tcp,
    /// Only UDP.
    Udp,
    /// Only SCTP.
    Sctp,
    /// TCP and UDP with the same number (or a numeric range).
    Any,
}

/// The name databases the compiler consults.
#[derive(Clone, Debug, Default)]
pub struct Names {
    hosts: Vec<(IpAddr, Vec<String>)>,
    /// (names, port, protocol)
    services: Vec<(Vec<String>, u16, String)>,
    protocols: Vec<(Vec<String>, u32)>,
    networks: Vec<(Vec<String>, u32)>,
    ethers: Vec<([u8; 6], String)>,
}

/// The text of the five databases, in the formats of their /etc files.
#[derive(Clone, Copy, Debug, Default)]
pub struct NameTexts<'a> {
    /// `/etc/hosts`: `address name alias…`.
    pub hosts: &'a str,
    /// `/etc/services`: `name port/proto alias…`.
    pub services: &'a str,
    /// `/etc/protocols`: `name number alias…`.
    pub protocols: &'a str,
    /// `/etc/networks`: `name number alias…`.
    pub networks: &'a str,
    /// `/etc/ethers`: `mac name`.
    pub ethers: &'a str,
}

fn lines(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines().filter_map(|l| {
        let l = l.split('#').next().unwrap_or("");
        let f: Vec<&str> = l.split_whitespace().collect();
        (!f.is_empty()).then_some(f)
    })
}

/// `inet_network`: dotted parts, each shifted in (so `10.1` is 0x0a01).
fn inet_network(s: &str) -> Option<u32> {
    let mut v: u32 = 0;
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    for p in parts {
        let n = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u32::from_str_radix(&p[1..], 8).ok()?
        } else {
            p.parse().ok()?
        };
        if n > 255 {
            return None;
        }
        v = (v << 8) | n;
    }
    Some(v)
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    let mut m = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        m[i] = u8::from_str_radix(p, 16).ok()?;
    }
    Some(m)
}

/// `sscanf(s, "%d-%d")`.
fn scan_range(s: &str) -> Option<(i64, i64)> {
    fn int(s: &str) -> Option<(i64, &str)> {
        let t = s.trim_start();
        let (neg, body) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let n = body.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let v: i64 = body[..n].parse().unwrap_or(i64::MAX);
        Some((if neg { -v } else { v }, &body[n..]))
    }
    let (a, rest) = int(s)?;
    let rest = rest.strip_prefix('-')?;
    let (b, _) = int(rest)?;
    Some((a, b))
}

impl Names {
    /// Databases built from texts.
    pub fn from_texts(t: NameTexts<'_>) -> Names {
        let mut n = Names::default();
        for f in lines(t.hosts) {
            if let Ok(a) = f[0].parse::<IpAddr>() {
                n.hosts
                    .push((a, f[1..].iter().map(|s| s.to_ascii_lowercase()).collect()));
            }
        }
        for f in lines(t.services) {
            if f.len() < 2 {
                continue;
            }
            let Some((port, proto)) = f[1].split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let mut names = vec![f[0].to_string()];
            names.extend(f[2..].iter().map(|s| s.to_string()));
            n.services.push((names, port, proto.to_string()));
        }
        for f in lines(t.protocols) {
            if f.len() < 2 {
                continue;
            }
            let Ok(num) = f[1].parse::<u32>() else {
                continue;
            };
            let mut names = vec![f[0].to_string()];
            names.extend(f[2..].iter().map(|s| s.to_string()));
            n.protocols.push((names, num));
        }
        for f in lines(t.networks) {
            if f.len() < 2 {
                continue;
            }
            let Some(num) = inet_network(f[1]) else {
                continue;
            };
            let mut names = vec![f[0].to_string()];
            names.extend(f[2..].iter().map(|s| s.to_string()));
            n.networks.push((names, num));
        }
        for f in lines(t.ethers) {
            if f.len() < 2 {
                continue;
            }
            if let Some(m) = parse_mac(f[0]) {
                n.ethers.push((m, f[1].to_string()));
            }
        }
        n
    }

    /// The system's databases, read once.
    pub fn system() -> &'static Names {
        static SYSTEM: OnceLock<Names> = OnceLock::new();
        SYSTEM.get_or_init(|| {
            let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
            let (hosts, services, protocols, networks, ethers) = (
                read("/etc/hosts"),
                read("/etc/services"),
                read("/etc/protocols"),
                read("/etc/networks"),
                read("/etc/ethers"),
            );
            Names::from_texts(NameTexts {
                hosts: &hosts,
                services: &services,
                protocols: &protocols,
                networks: &networks,
                ethers: &ethers,
            })
        })
    }

    /// Every address of a host name (case-insensitive), in file order.
    pub fn host(&self, name: &str) -> Vec<IpAddr> {
        let lower = name.to_ascii_lowercase();
        let mut out = Vec::new();
        for (a, names) in &self.hosts {
            if names.contains(&lower) && !out.contains(a) {
                out.push(*a);
            }
        }
        out
    }

    fn service(&self, name: &str, proto: &str) -> Option<u16> {
        self.services
            .iter()
            .find(|(n, _, p)| p == proto && n.iter().any(|x| x == name))
            .map(|(_, port, _)| *port)
    }

    /// A service's port and the protocols it is registered for (libpcap's
    /// `pcap_nametoport`: TCP first; the same number for UDP makes it both).
    pub fn port(&self, name: &str) -> Option<(u16, PortProto)> {
        // A numeric service is its own port for every protocol (as
        // getaddrinfo has it); it can appear inside a range like `ssh-513`.
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
            return name.parse::<u16>().ok().map(|p| (p, PortProto::Any));
        }
        let tcp = self.service(name, "tcp");
        let udp = self.service(name, "udp");
        match (tcp, udp) {
            (Some(t), Some(u)) if t == u => Some((t, PortProto::Any)),
            (Some(t), _) => Some((t, PortProto::Tcp)),
            (None, Some(u)) => Some((u, PortProto::Udp)),
            (None, None) => None,
        }
    }

    /// A port range `N-M` or `name-name` (libpcap's `pcap_nametoportrange`).
    pub fn port_range(&self, name: &str) -> Option<(i64, i64, PortProto)> {
        if let Some((a, b)) = scan_range(name) {
            return Some((a, b, PortProto::Any));
        }
        let (l, r) = name.split_once('-')?;
        let (p1, pr1) = self.port(l)?;
        let (p2, pr2) = self.port(r)?;
        let proto = if pr1 == pr2 { pr2 } else { PortProto::Any };
        Some((i64::from(p1), i64::from(p2), proto))
    }

    /// An IP protocol number by name or alias.
    pub fn protocol(&self, name: &str) -> Option<u32> {
        self.protocols
            .iter()
            .find(|(n, _)| n.iter().any(|x| x == name))
            .map(|(_, v)| *v)
    }

    /// A network number by name.
    pub fn network(&self, name: &str) -> Option<u32> {
        self.networks
            .iter()
            .find(|(n, _)| n.iter().any(|x| x == name))
            .map(|(_, v)| *v)
            .filter(|v| *v != 0)
    }

    /// An Ethernet address by host name.
    pub fn ether(&self, name: &str) -> Option<[u8; 6]> {
        self.ethers.iter().find(|(_, n)| n == name).map(|(m, _)| *m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databases() {
        let n = Names::from_texts(NameTexts {
            hosts: "127.0.0.1 localhost\n10.77.0.1 Gw gateway # x\nfd77::1 gw\n",
            services: "http 80/tcp www\nhttp 80/udp\nssh 22/tcp\nsyslog 514/udp\nfoo 7/tcp\nfoo 8/udp\n",
            protocols: "tcp 6 TCP\nudp 17 UDP\n",
            networks: "loopback 127.0.0.0\nten 10\n",
            ethers: "00:11:22:33:44:55 box\n",
        });
        assert_eq!(n.host("GW").len(), 2);
        assert_eq!(n.port("www"), Some((80, PortProto::Tcp)));
        assert_eq!(n.port("http"), Some((80, PortProto::Any)));
        assert_eq!(n.port("syslog"), Some((514, PortProto::Udp)));
        assert_eq!(n.port("foo"), Some((7, PortProto::Tcp)));
        assert_eq!(n.port_range("1-1024"), Some((1, 1024, PortProto::Any)));
        assert_eq!(n.port_range("ssh-http"), Some((22, 80, PortProto::Any)));
        assert_eq!(n.port_range("ssh"), None);
        assert_eq!(n.port_range("ssh-513"), Some((22, 513, PortProto::Any)));
        assert_eq!(n.port_range("80-http"), Some((80, 80, PortProto::Any)));
        assert_eq!(n.protocol("TCP"), Some(6));
        assert_eq!(n.network("loopback"), Some(0x7f00_0000));
        assert_eq!(n.network("ten"), Some(10));
        assert_eq!(n.ether("box"), Some([0, 0x11, 0x22, 0x33, 0x44, 0x55]));
    }
}
