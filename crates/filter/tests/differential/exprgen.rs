//! A seeded generator of pcap-filter expressions over the whole language,
//! valid ones drawn from the value pools of the packet corpus, and invalid
//! ones made by mutating valid ones or by misusing qualifiers.
//!
//! Every generated expression records the families of the language it
//! uses, so that the differential tests can report agreement per family.
//!
//! Names are drawn only where the grammar resolves them locally
//! (/etc/services, /etc/protocols, /etc/networks, `localhost` from
//! /etc/hosts): an unknown word in host position would make libpcap ask
//! DNS, which a test must never do. Mutated expressions are screened for
//! that.

use std::collections::BTreeSet;
use std::fmt;

use crate::rng::Rng;
use crate::values::*;

/// A family of the filter language (a row of the agreement table).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Family {
    Host,
    Net,
    Port,
    Portrange,
    EtherAddr,
    EtherCast,
    IpCast,
    EtherProto,
    IpProto,
    Protochain,
    Length,
    Vlan,
    Mpls,
    Pppoe,
    Llc,
    Geneve,
    ArpRarp,
    LinkKeyword,
    Iso,
    Transport,
    Load,
    NamedConst,
    Inherit,
    Names,
    Direction,
    Ifindex,
    Boolean,
}

impl Family {
    /// Every family, in table order.
    pub const ALL: &'static [Family] = &[
        Family::Host,
        Family::Net,
        Family::Port,
        Family::Portrange,
        Family::EtherAddr,
        Family::EtherCast,
        Family::IpCast,
        Family::EtherProto,
        Family::IpProto,
        Family::Protochain,
        Family::Length,
        Family::Vlan,
        Family::Mpls,
        Family::Pppoe,
        Family::Llc,
        Family::Geneve,
        Family::ArpRarp,
        Family::LinkKeyword,
        Family::Iso,
        Family::Transport,
        Family::Load,
        Family::NamedConst,
        Family::Inherit,
        Family::Names,
        Family::Direction,
        Family::Ifindex,
        Family::Boolean,
    ];
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Family::Host => "host",
            Family::Net => "net",
            Family::Port => "port",
            Family::Portrange => "portrange",
            Family::EtherAddr => "ether host/src/dst",
            Family::EtherCast => "ether broad/multicast",
            Family::IpCast => "ip/ip6 broad/multicast",
            Family::EtherProto => "ether proto",
            Family::IpProto => "ip/ip6 proto",
            Family::Protochain => "protochain",
            Family::Length => "less/greater/len",
            Family::Vlan => "vlan",
            Family::Mpls => "mpls",
            Family::Pppoe => "pppoed/pppoes",
            Family::Llc => "llc",
            Family::Geneve => "geneve",
            Family::ArpRarp => "arp/rarp",
            Family::LinkKeyword => "link keywords",
            Family::Iso => "iso/isis",
            Family::Transport => "transport protocols",
            Family::Load => "proto[expr:size] arith",
            Family::NamedConst => "named constants",
            Family::Inherit => "bare-value inheritance",
            Family::Names => "names (services etc.)",
            Family::Direction => "inbound/outbound",
            Family::Ifindex => "ifindex",
            Family::Boolean => "and/or/not/()",
        };
        f.write_str(name)
    }
}

/// A generated expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The filter text.
    pub text: String,
    /// The families it uses.
    pub families: BTreeSet<Family>,
    /// The IPv4 netmask it is compiled with (host order).
    pub netmask: Option<u32>,
}

/// What a linktype offers to the generator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Link {
    Ethernet,
    Cooked,
    Ip,
    Loopback,
}

/// The expression generator for one linktype.
pub struct Gen {
    rng: Rng,
    link: Link,
    linktype: u32,
    used: BTreeSet<Family>,
    /// Encapsulations seen so far in this expression, in parse order: they
    /// change what libpcap accepts after them.
    ctx: Ctx,
}

/// The encapsulation context of the rest of an expression.
#[derive(Clone, Copy, Default, Debug)]
struct Ctx {
    /// After `mpls`: only IPv4/IPv6 protocols (no ARP, link keywords, VLAN).
    mpls: bool,
    /// After `pppoes`: no Ethernet addresses, broadcast, VLAN or LLC.
    pppoes: bool,
    /// After `geneve`: no `protochain`.
    geneve: bool,
}

const DIRS: &[&str] = &[
    "src ",
    "dst ",
    "src or dst ",
    "src and dst ",
    "dst or src ",
    "dst and src ",
];

const RELOPS: &[&str] = &[">", "<", ">=", "<=", "=", "==", "!="];

const LLC_KINDS: &[&str] = &[
    "i", "s", "u", "rr", "rnr", "rej", "ui", "ua", "disc", "dm", "sabme", "test", "xid", "frmr",
];

const TCP_FLAGS: &[&str] = &[
    "tcp-fin", "tcp-syn", "tcp-rst", "tcp-push", "tcp-ack", "tcp-urg", "tcp-ece", "tcp-cwr",
];

const ICMP_NAMES: &[&str] = &[
    "icmp-echoreply",
    "icmp-unreach",
    "icmp-sourcequench",
    "icmp-redirect",
    "icmp-echo",
    "icmp-routeradvert",
    "icmp-routersolicit",
    "icmp-timxceed",
    "icmp-paramprob",
    "icmp-tstamp",
    "icmp-tstampreply",
    "icmp-ireq",
    "icmp-ireqreply",
    "icmp-maskreq",
    "icmp-maskreply",
];

const ICMP6_NAMES: &[&str] = &[
    "icmp6-destinationunreach",
    "icmp6-packettoobig",
    "icmp6-timeexceeded",
    "icmp6-parameterproblem",
    "icmp6-echo",
    "icmp6-echoreply",
    "icmp6-multicastlistenerquery",
    "icmp6-multicastlistenerreportv1",
    "icmp6-multicastlistenerdone",
    "icmp6-routersolicit",
    "icmp6-routeradvert",
    "icmp6-neighborsolicit",
    "icmp6-neighboradvert",
    "icmp6-redirect",
    "icmp6-multicastlistenerreportv2",
];

impl Gen {
    /// A generator for `linktype` (a `LINKTYPE_*` value) seeded by `rng`.
    pub fn new(rng: Rng, linktype: u32) -> Gen {
        let link = match linktype {
            1 => Link::Ethernet,
            113 | 276 => Link::Cooked,
            0 | 108 => Link::Loopback,
            _ => Link::Ip,
        };
        Gen {
            rng,
            link,
            linktype,
            used: BTreeSet::new(),
            ctx: Ctx::default(),
        }
    }

    fn mark(&mut self, family: Family) {
        self.used.insert(family);
    }

    /// The families this linktype's primitives are drawn from, weighted.
    fn families(&self) -> Vec<(Family, u32)> {
        use Family::*;
        let mut f = vec![
            (Host, 10),
            (Net, 6),
            (Port, 10),
            (Portrange, 4),
            (IpCast, 3),
            (IpProto, 5),
            (Protochain, 2),
            (Length, 3),
            (Transport, 8),
            (Load, 10),
            (NamedConst, 4),
            (Geneve, 2),
        ];
        match self.link {
            Link::Ethernet => f.extend([
                (EtherAddr, 5),
                (EtherCast, 3),
                (EtherProto, 4),
                (Vlan, 6),
                (Mpls, 4),
                (Pppoe, 3),
                (Llc, 4),
                (ArpRarp, 4),
                (LinkKeyword, 4),
                (Iso, 3),
            ]),
            Link::Cooked => {
                f.extend([
                    (EtherProto, 4),
                    (ArpRarp, 3),
                    (Direction, 3),
                    (Pppoe, 2),
                    (LinkKeyword, 2),
                ]);
                if self.linktype == 276 {
                    f.push((Ifindex, 3));
                }
            }
            Link::Ip | Link::Loopback => {}
        }
        let ctx = self.ctx;
        f.retain(|(fam, _)| {
            let after_mpls = matches!(fam, ArpRarp | LinkKeyword | Iso | Vlan | Pppoe | EtherProto);
            let after_pppoes = matches!(fam, EtherAddr | EtherCast | Vlan | Llc);
            !(ctx.mpls && after_mpls
                || ctx.pppoes && after_pppoes
                || ctx.geneve && *fam == Protochain)
        });
        f
    }

    /// One valid expression.
    pub fn valid(&mut self) -> Expr {
        self.used.clear();
        self.ctx = Ctx::default();
        let netmask = if self.rng.chance(90) {
            Some(NETMASK)
        } else {
            None
        };
        let mut text = String::new();
        if self.link == Link::Ethernet && self.rng.chance(25) {
            text.push_str(&self.encapsulation());
            text.push_str(" and ");
        }
        let body = self.expr(0);
        text.push_str(&body);
        if self.used.contains(&Family::IpCast) && netmask.is_none() && text.contains("ip broadcast")
        {
            // `ip broadcast` needs the netmask; without it the expression is
            // invalid, so give it one (the invalid set tests the error).
            return Expr {
                text,
                families: self.used.clone(),
                netmask: Some(NETMASK),
            };
        }
        Expr {
            text,
            families: std::mem::take(&mut self.used),
            netmask,
        }
    }

    /// A prefix that shifts the offsets of what follows: VLAN tags (also
    /// stacked), MPLS labels, a PPPoE session, Geneve.
    fn encapsulation(&mut self) -> String {
        let choice = self.rng.below(8);
        match choice {
            0 | 1 => self.vlan(),
            2 => format!("{} and {}", self.vlan(), self.vlan()),
            3 => self.mpls(),
            4 => format!("{} and {}", self.mpls(), self.mpls()),
            5 => self.pppoe(true),
            6 => self.geneve(),
            _ => format!("{} and {}", self.vlan(), self.mpls()),
        }
    }

    fn expr(&mut self, depth: usize) -> String {
        let terms = self.rng.pick(&[1usize, 1, 1, 2, 2, 2, 3, 4]);
        let mut out = String::new();
        for i in 0..terms {
            if i > 0 {
                self.mark(Family::Boolean);
                out.push(' ');
                out.push_str(self.rng.pick(&["and", "or", "&&", "||", "and", "or"]));
                out.push(' ');
            }
            if self.rng.chance(15) {
                self.mark(Family::Boolean);
                out.push_str(self.rng.pick(&["not ", "!", "! "]));
            }
            if depth < 2 && self.rng.chance(15) {
                self.mark(Family::Boolean);
                out.push('(');
                out.push_str(&self.expr(depth + 1));
                out.push(')');
            } else {
                out.push_str(&self.primitive());
            }
        }
        out
    }

    fn primitive(&mut self) -> String {
        let fams = self.families();
        let total: u32 = fams.iter().map(|f| f.1).sum();
        let mut x = self.rng.below(total as usize) as u32;
        let mut family = fams[0].0;
        for (f, w) in fams {
            if x < w {
                family = f;
                break;
            }
            x -= w;
        }
        self.mark(family);
        self.family(family)
    }

    fn family(&mut self, family: Family) -> String {
        use Family::*;
        match family {
            Host => self.host(),
            Net => self.net(),
            Port => self.port(),
            Portrange => self.portrange(),
            EtherAddr => self.ether_addr(),
            EtherCast => {
                let s = self.rng.pick(&[
                    "ether broadcast",
                    "broadcast",
                    "ether multicast",
                    "multicast",
                    "link broadcast",
                ]);
                s.to_string()
            }
            IpCast => {
                let s = self
                    .rng
                    .pick(&["ip broadcast", "ip multicast", "ip6 multicast"]);
                s.to_string()
            }
            EtherProto => self.ether_proto(),
            IpProto => self.ip_proto(),
            Protochain => {
                let q = self.rng.pick(&["", "ip ", "ip6 "]);
                format!("{q}protochain {}", self.proto_value())
            }
            Length => self.length(),
            Vlan => self.vlan(),
            Mpls => self.mpls(),
            Pppoe => {
                let session = self.rng.chance(70);
                self.pppoe(session)
            }
            Llc => {
                if self.rng.chance(25) {
                    "llc".to_string()
                } else {
                    format!("llc {}", self.rng.pick(LLC_KINDS))
                }
            }
            Geneve => self.geneve(),
            ArpRarp => self.arp(),
            LinkKeyword => self.link_keyword(),
            Iso => self.iso(),
            Transport => {
                let s = self.rng.pick(&[
                    "tcp",
                    "udp",
                    "icmp",
                    "icmp6",
                    "sctp",
                    "igmp",
                    "igrp",
                    "pim",
                    "vrrp",
                    "carp",
                    "ah",
                    "esp",
                    "ip and tcp",
                    "ip6 and udp",
                    "ip",
                    "ip6",
                ]);
                s.to_string()
            }
            Load => self.relation(),
            NamedConst => self.named_const(),
            Direction => self.rng.pick(&["inbound", "outbound"]).to_string(),
            Ifindex => format!("ifindex {}", self.rng.pick(&[1, 2, 3, 7, 0])),
            Inherit | Names | Boolean => unreachable!("not a primitive family"),
        }
    }

    fn dir(&mut self) -> &'static str {
        if self.rng.chance(55) {
            ""
        } else {
            self.rng.pick(DIRS)
        }
    }

    fn v4(&mut self) -> String {
        ipv4_text(self.rng.pick(IPV4))
    }

    fn v6(&mut self) -> String {
        ipv6_text(self.rng.pick(IPV6))
    }

    /// Appends `or|and [not] VALUE` items inheriting the qualifiers.
    fn inherit(&mut self, mut value: impl FnMut(&mut Gen) -> String) -> String {
        let mut out = String::new();
        if self.rng.chance(30) {
            self.mark(Family::Inherit);
            for _ in 0..self.rng.range(1, 3) {
                out.push_str(
                    self.rng
                        .pick(&[" or ", " and ", " || ", " or not ", " and not "]),
                );
                if self.rng.chance(15) {
                    let a = value(self);
                    let b = value(self);
                    out.push_str(&format!("({a} or {b})"));
                } else {
                    out.push_str(&value(self));
                }
            }
        }
        out
    }

    fn host(&mut self) -> String {
        let dir = self.dir();
        let v6 = self.rng.chance(35) && !matches!(self.linktype, 228);
        let proto = if v6 {
            self.rng.pick(&["", "", "ip6 "])
        } else {
            match self.link {
                Link::Ethernet | Link::Cooked if !self.ctx.mpls => {
                    self.rng.pick(&["", "", "ip ", "arp ", "rarp "])
                }
                _ => self.rng.pick(&["", "", "ip "]),
            }
        };
        // `host` may be left out after a direction or protocol qualifier
        // only when a direction is present.
        let kw = if !dir.is_empty() && self.rng.chance(30) {
            ""
        } else {
            "host "
        };
        let first = if !v6 && self.rng.chance(4) {
            self.mark(Family::Names);
            "localhost".to_string()
        } else if v6 {
            self.v6()
        } else {
            self.v4()
        };
        let rest = self.inherit(|g| if v6 { g.v6() } else { g.v4() });
        format!("{proto}{dir}{kw}{first}{rest}")
    }

    fn net_v4(&mut self) -> String {
        let forms = [
            "10.77",
            "10.77.0",
            "10",
            "10.77.1",
            "192.168.1",
            "10.77.0.0/16",
            "10.77.1.0/24",
            "10.77.0.1/32",
            "10.77.0.0/23",
            "224.0.0.0/4",
            "0.0.0.0/0",
            "10.76.0.0/15",
            "172.16",
            "10.77.0.0 mask 255.255.0.0",
            "10.77.1.0 mask 255.255.255.0",
            "10.0.0.0 mask 255.0.0.0",
            "192.168.1.128/25",
            "127",
        ];
        if self.rng.chance(5) {
            self.mark(Family::Names);
            return self.rng.pick(&["loopback", "link-local"]).to_string();
        }
        self.rng.pick(&forms).to_string()
    }

    fn net_v6(&mut self) -> String {
        let forms = [
            "fd77::/16",
            "fd77::/32",
            "fd77:1::/32",
            "fe80::/10",
            "ff02::/16",
            "ff00::/8",
            "::/0",
            "fd77::1/128",
            "fd77::/127",
            "2001:db8::/32",
            "::1/128",
        ];
        self.rng.pick(&forms).to_string()
    }

    fn net(&mut self) -> String {
        let dir = self.dir();
        let v6 = self.rng.chance(35) && !matches!(self.linktype, 228);
        let proto = if v6 {
            self.rng.pick(&["", "ip6 "])
        } else {
            match self.link {
                Link::Ethernet | Link::Cooked if !self.ctx.mpls => {
                    self.rng.pick(&["", "", "ip ", "arp ", "rarp "])
                }
                _ => self.rng.pick(&["", "ip "]),
            }
        };
        let first = if v6 { self.net_v6() } else { self.net_v4() };
        let rest = self.inherit(|g| if v6 { g.net_v6() } else { g.net_v4() });
        format!("{proto}{dir}net {first}{rest}")
    }

    /// A port for protocol qualifier `proto` (`"tcp "`, `"udp "`, `"sctp "`
    /// or `""`): a name only where /etc/services defines it for `proto`.
    fn port_value(&mut self, proto: &str) -> String {
        let names: &[&str] = match proto {
            "tcp " => TCP_PORT_NAMES,
            "udp " => UDP_PORT_NAMES,
            "sctp " => &["domain"],
            _ => PORT_NAMES,
        };
        if self.rng.chance(20) {
            self.mark(Family::Names);
            self.rng.pick(names).to_string()
        } else if self.rng.chance(10) {
            format!("{:#x}", self.rng.pick(PORTS))
        } else {
            self.rng.pick(PORTS).to_string()
        }
    }

    fn port(&mut self) -> String {
        let proto = self.rng.pick(&["", "", "tcp ", "udp ", "sctp "]);
        let dir = self.dir();
        let first = self.port_value(proto);
        let rest = self.inherit(|g| g.port_value(proto));
        format!("{proto}{dir}port {first}{rest}")
    }

    fn range_value(&mut self, proto: &str) -> String {
        let a = self.range_end(proto);
        let b = self.range_end(proto);
        format!("{a}-{b}")
    }

    fn range_end(&mut self, proto: &str) -> String {
        let names: &[&str] = match proto {
            "tcp " => &["ssh", "domain", "http", "https"],
            "udp " => &["domain", "https", "ntp", "who"],
            "sctp " => &["domain"],
            _ => &["ssh", "domain", "http", "https", "ntp", "who"],
        };
        if self.rng.chance(15) {
            self.mark(Family::Names);
            self.rng.pick(names).to_string()
        } else {
            self.rng.pick(PORTS).to_string()
        }
    }

    fn portrange(&mut self) -> String {
        let proto = self.rng.pick(&["", "", "tcp ", "udp ", "sctp "]);
        let dir = self.dir();
        let first = self.range_value(proto);
        let rest = self.inherit(|g| g.range_value(proto));
        format!("{proto}{dir}portrange {first}{rest}")
    }

    fn mac(&mut self) -> String {
        let m = self.rng.pick(MACS);
        match self.rng.below(6) {
            0 => format!(
                "{:02x}-{:02x}-{:02x}-{:02x}-{:02x}-{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            1 => format!(
                "{:02x}{:02x}.{:02x}{:02x}.{:02x}{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            2 => format!(
                "{:x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            3 => format!(
                "{:02X}:{:02X}:{:02X}:{:02X}:{:02X}:{:02X}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            _ => format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
        }
    }

    fn ether_addr(&mut self) -> String {
        let proto = self
            .rng
            .pick(&["ether", "ether", "ether", "link", "fddi", "tr", "wlan"]);
        let which = self.rng.pick(&[
            "host",
            "src",
            "dst",
            "src host",
            "dst host",
            "src or dst",
            "src and dst",
        ]);
        let first = self.mac();
        let rest = self.inherit(|g| g.mac());
        format!("{proto} {which} {first}{rest}")
    }

    fn ether_proto(&mut self) -> String {
        let value = if self.rng.chance(45) {
            self.rng.pick(&[
                "\\ip",
                "\\ip6",
                "\\arp",
                "\\rarp",
                "\\atalk",
                "\\aarp",
                "\\decnet",
                "\\sca",
                "\\lat",
                "\\mopdl",
                "\\moprc",
                "\\iso",
                "\\stp",
                "\\ipx",
                "\\netbeui",
                "loopback",
            ])
        } else {
            ""
        };
        let value = if value.is_empty() {
            let t = self.rng.pick(ETHERTYPES);
            match self.rng.below(5) {
                0 => t.to_string(),
                1 => self
                    .rng
                    .pick(&["1500", "0x5dc", "100", "0x600", "0x4"])
                    .to_string(),
                _ => format!("{t:#x}"),
            }
        } else {
            if !value.starts_with('\\') || self.rng.chance(10) {
                self.mark(Family::Names);
            }
            value.to_string()
        };
        let kw = self.rng.pick(&["ether proto", "ether proto", "link proto"]);
        format!("{kw} {value}")
    }

    fn proto_value(&mut self) -> String {
        if self.rng.chance(45) {
            let name = self.rng.pick(IP_PROTO_NAMES);
            if !name.starts_with('\\') {
                self.mark(Family::Names);
            }
            name.to_string()
        } else {
            self.rng.pick(IP_PROTOS).to_string()
        }
    }

    fn ip_proto(&mut self) -> String {
        let q = match self.linktype {
            228 => self.rng.pick(&["ip ", ""]),
            229 => self.rng.pick(&["ip6 ", ""]),
            _ => self.rng.pick(&["ip ", "ip6 ", ""]),
        };
        let first = self.proto_value();
        let rest = self.inherit(|g| g.proto_value());
        format!("{q}proto {first}{rest}")
    }

    fn length(&mut self) -> String {
        let n = self
            .rng
            .pick(&[0u32, 14, 42, 54, 60, 64, 66, 74, 100, 128, 1500, 262_144]);
        match self.rng.below(4) {
            0 => format!("less {n}"),
            1 => format!("greater {n}"),
            2 => format!("len {} {n}", self.rng.pick(RELOPS)),
            _ => format!("len - 14 {} {}", self.rng.pick(RELOPS), n / 2),
        }
    }

    fn vlan(&mut self) -> String {
        self.mark(Family::Vlan);
        if self.rng.chance(30) {
            "vlan".to_string()
        } else {
            format!("vlan {}", self.rng.pick(VLAN_IDS))
        }
    }

    fn mpls(&mut self) -> String {
        self.mark(Family::Mpls);
        self.ctx.mpls = true;
        if self.rng.chance(30) {
            "mpls".to_string()
        } else {
            format!("mpls {}", self.rng.pick(MPLS_LABELS))
        }
    }

    fn pppoe(&mut self, session: bool) -> String {
        self.mark(Family::Pppoe);
        if !session {
            return "pppoed".to_string();
        }
        self.ctx.pppoes = true;
        if self.rng.chance(30) {
            "pppoes".to_string()
        } else {
            let id = self.rng.pick(PPPOE_SESSIONS);
            if self.rng.chance(30) {
                format!("pppoes {id:#x}")
            } else {
                format!("pppoes {id}")
            }
        }
    }

    fn geneve(&mut self) -> String {
        self.mark(Family::Geneve);
        self.ctx.geneve = true;
        if self.rng.chance(30) {
            "geneve".to_string()
        } else {
            format!("geneve {:#x}", self.rng.pick(GENEVE_VNIS))
        }
    }

    fn arp(&mut self) -> String {
        let p = self.rng.pick(&["arp", "rarp"]);
        match self.rng.below(5) {
            0 | 1 => p.to_string(),
            2 => format!("{p} {}host {}", self.dir(), self.v4()),
            3 => format!("{p} net {}", self.net_v4()),
            _ => format!(
                "{p}[{}:2] = {}",
                self.rng.pick(&[0, 2, 6]),
                self.rng.pick(&[1, 2, 3, 4, 0x800])
            ),
        }
    }

    fn link_keyword(&mut self) -> String {
        let kws = [
            "atalk", "aarp", "decnet", "iso", "stp", "ipx", "netbeui", "lat", "sca", "mopdl",
            "moprc",
        ];
        if self.rng.chance(30) && self.link == Link::Ethernet {
            let (a, n) = self.rng.pick(DECNET_ADDRS);
            let which = self
                .rng
                .pick(&["src", "dst", "host", "src or dst", "src and dst"]);
            return format!("decnet {which} {a}.{n}");
        }
        self.rng.pick(&kws).to_string()
    }

    fn iso(&mut self) -> String {
        match self.rng.below(3) {
            0 => format!(
                "iso proto {}",
                self.rng
                    .pick(&["\\clnp", "\\esis", "\\isis", "0x81", "0x83", "130"])
            ),
            _ => self
                .rng
                .pick(&[
                    "clnp", "esis", "isis", "es-is", "is-is", "l1", "l2", "iih", "lsp", "snp",
                    "csnp", "psnp",
                ])
                .to_string(),
        }
    }

    fn number(&mut self, n: u32) -> String {
        match self.rng.below(8) {
            0 => format!("{n:#x}"),
            // libpcap's lexer takes at most 10 octal digits after the 0
            // (`037777777777` is a syntax error; the invalid set has it).
            1 if n > 0 && n < 0o10_000_000_000 => format!("0{n:o}"),
            _ => n.to_string(),
        }
    }

    fn load_proto(&mut self) -> &'static str {
        match self.link {
            // No ARP, DECnet or AppleTalk loads inside MPLS.
            Link::Ethernet if self.ctx.mpls => self.rng.pick(&[
                "ether", "link", "ip", "ip", "ip6", "tcp", "tcp", "udp", "udp", "icmp", "icmp6",
                "sctp", "igmp", "pim", "vrrp", "carp", "igrp",
            ]),
            Link::Ethernet => self.rng.pick(&[
                "ether", "link", "ip", "ip", "ip6", "tcp", "tcp", "udp", "udp", "icmp", "icmp6",
                "sctp", "igmp", "arp", "rarp", "pim", "vrrp", "carp", "igrp", "decnet", "atalk",
            ]),
            Link::Cooked => self.rng.pick(&[
                "link", "ip", "ip6", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp", "arp", "vrrp",
            ]),
            Link::Ip | Link::Loopback => self.rng.pick(&[
                "link", "ip", "ip", "ip6", "tcp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp",
                "pim",
            ]),
        }
    }

    /// An index for a load of `proto`: mostly a constant offset inside the
    /// header, sometimes computed from another load.
    fn index(&mut self, proto: &str, depth: usize) -> String {
        let max = match proto {
            "ether" | "link" => 60,
            "ip6" => 48,
            "ip" => 24,
            _ => 20,
        };
        if depth < 1 && self.rng.chance(15) {
            return match self.rng.below(3) {
                0 => format!("{}[{}] & 0xf", proto, self.rng.below(4)),
                1 => "((tcp[12] & 0xf0) >> 2)".to_string(),
                _ => format!("{} + {}", self.rng.below(8), self.rng.below(8)),
            };
        }
        let n = self.rng.below(max) as u32;
        self.number(n)
    }

    /// An arithmetic expression (the left side of a relation).
    fn arith(&mut self, depth: usize) -> String {
        let choice = if depth >= 2 {
            self.rng.below(3)
        } else {
            self.rng.below(9)
        };
        match choice {
            0 | 1 => {
                let proto = self.load_proto();
                let idx = self.index(proto, depth);
                let size = self.rng.pick(&["", "", ":1", ":2", ":4"]);
                format!("{proto}[{idx}{size}]")
            }
            2 => {
                if self.rng.chance(50) {
                    "len".to_string()
                } else {
                    let n = self
                        .rng
                        .pick(&[0u32, 1, 2, 4, 6, 14, 0x40, 0xff, 0xffff, 0xffff_ffff]);
                    self.number(n)
                }
            }
            3 => format!("-{}", self.arith(depth + 1)),
            4 => format!("({})", self.arith(depth + 1)),
            _ => {
                let op = self
                    .rng
                    .pick(&["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"]);
                let left = self.arith(depth + 1);
                let right = match op {
                    // Constant divisors and shifts in range: libpcap rejects
                    // the others at compile time (the invalid set tests that).
                    "/" | "%" if self.rng.chance(80) => {
                        let n = self.rng.range(1, 16);
                        self.number(n)
                    }
                    "<<" | ">>" if self.rng.chance(80) => {
                        let n = self.rng.range(0, 31);
                        self.number(n)
                    }
                    // A computed divisor or shift. Its index is never 0:
                    // libpcap mistakes a divisor whose code starts with
                    // `ld #0` (the index of `ip[0]`) for a constant zero
                    // and rejects it (the invalid set has that case).
                    "/" | "%" | "<<" | ">>" => {
                        let proto = self.load_proto();
                        format!("{proto}[{}]", self.rng.range(1, 7))
                    }
                    _ => self.arith(depth + 1),
                };
                format!("{left} {op} {right}")
            }
        }
    }

    /// `arith relop arith`, the right side usually a constant that the
    /// corpus can meet.
    fn relation(&mut self) -> String {
        let left = match self.rng.below(4) {
            0 => {
                let a = self.arith(1);
                let m = self
                    .rng
                    .pick(&[1u32, 2, 0xf0, 0xff, 0x0fff, 0x1fff, 0xffff_ffff]);
                format!("{a} & {}", self.number(m))
            }
            _ => self.arith(0),
        };
        let relop = self.rng.pick(RELOPS);
        let right = if self.rng.chance(75) {
            let n = match self.rng.below(5) {
                0 => u32::from(self.rng.pick(IP_PROTOS)),
                1 => u32::from(self.rng.pick(PORTS)),
                2 => u32::from(self.rng.pick(ETHERTYPES)),
                3 => self
                    .rng
                    .pick(&[0u32, 0x45, 0x60, 0x6000_0000, 0x0a4d_0001, 64, 255]),
                _ => self.rng.below(32) as u32,
            };
            self.number(n)
        } else {
            self.arith(1)
        };
        format!("{left} {relop} {right}")
    }

    fn named_const(&mut self) -> String {
        match self.rng.below(6) {
            0 | 1 => {
                let a = self.rng.pick(TCP_FLAGS);
                let b = self.rng.pick(TCP_FLAGS);
                match self.rng.below(4) {
                    0 => format!("tcp[tcpflags] & ({a}|{b}) != 0"),
                    1 => format!("tcp[tcpflags] = {a}|{b}"),
                    2 => format!("tcp[tcpflags] & {a} = {a}"),
                    _ => format!("tcp[tcpflags] & ({a}|{b}) == {b}"),
                }
            }
            2 | 3 => {
                let t = self.rng.pick(ICMP_NAMES);
                match self.rng.below(3) {
                    0 => format!("icmp[icmptype] = {t}"),
                    1 => format!("icmp[icmptype] != {t} and icmp[icmpcode] = 0"),
                    _ => format!("ip[0] = {t}"),
                }
            }
            _ => {
                let t = self.rng.pick(ICMP6_NAMES);
                match self.rng.below(3) {
                    0 => format!("icmp6[icmp6type] = {t}"),
                    1 => format!("icmp6[icmp6type] >= {t} and icmp6[icmp6code] = 0"),
                    _ => format!("icmp6[0] == {t}"),
                }
            }
        }
    }

    // -----------------------------------------------------------------
    // Invalid expressions.

    /// An expression derived from `valid` that is likely (not certain) to
    /// be invalid, or a template misusing the language. Only the outcome
    /// of libpcap decides; the generator merely aims near the edge.
    pub fn invalid(&mut self, valid: &str) -> String {
        loop {
            let candidate = if self.rng.chance(40) {
                self.misuse()
            } else {
                self.mutate(valid)
            };
            if dns_safe(&candidate) {
                return candidate;
            }
        }
    }

    fn mutate(&mut self, valid: &str) -> String {
        let mut tokens = tokens(valid);
        if tokens.is_empty() {
            return "(".to_string();
        }
        let i = self.rng.below(tokens.len());
        match self.rng.below(7) {
            0 => {
                tokens.remove(i);
            }
            1 => {
                let t = tokens[i].clone();
                tokens.insert(i, t);
            }
            2 if tokens.len() > 1 => {
                let j = (i + 1) % tokens.len();
                tokens.swap(i, j);
            }
            3 => {
                let kw = self.rng.pick(&[
                    "and",
                    "or",
                    "not",
                    "(",
                    ")",
                    "host",
                    "port",
                    "net",
                    "src",
                    "dst",
                    "tcp",
                    "ip6",
                    "vlan",
                    "mpls",
                    "[",
                    "]",
                    ":",
                    "=",
                    "proto",
                    "ether",
                    "len",
                    "-",
                    "broadcast",
                ]);
                tokens.insert(i, kw.to_string());
            }
            4 => {
                let bad = self.rng.pick(&[
                    "4096",
                    "65536",
                    "1048576",
                    "16777216",
                    "4294967296",
                    "08",
                    "0x",
                    "10.77.0.256",
                    "1.2.3.4.5",
                    "1:2:3:4:5:6:7:8:9",
                    "-1",
                    "0xfffffffff",
                    "99999999999",
                ]);
                tokens[i] = bad.to_string();
            }
            5 => {
                tokens.truncate(i);
            }
            _ => {
                tokens.push(
                    self.rng
                        .pick(&["and", "or", "not", "(", "and not", "["])
                        .to_string(),
                );
            }
        }
        tokens.join(" ")
    }

    fn misuse(&mut self) -> String {
        let v4 = self.v4();
        let v6 = self.v6();
        let mac = self.mac();
        let t = [
            format!("tcp host {v4}"),
            format!("ip host {v6}"),
            format!("ip6 host {v4}"),
            format!("arp host {v6}"),
            "ip port 80".to_string(),
            "ip6 portrange 1-2".to_string(),
            "ether port 1".to_string(),
            "ether net 10".to_string(),
            format!("ether host {v4}"),
            format!("host {mac}"),
            format!("ip6 net {v4}/8"),
            "net 10.77.0.1/16".to_string(),
            "net 10.77.0.0/33".to_string(),
            "net fd77::/129".to_string(),
            "net fd77::1/16".to_string(),
            "net fd77:: mask ffff::".to_string(),
            "net 10.77.0.0 mask 255.0.255.0".to_string(),
            "ip6 broadcast".to_string(),
            "ip broadcast".to_string(),
            "vlan 4096".to_string(),
            "mpls 1048576".to_string(),
            "pppoes 65536".to_string(),
            "geneve 16777216".to_string(),
            "port 65536".to_string(),
            "portrange 1-65536".to_string(),
            "port nosuchservice".to_string(),
            "proto \\nosuchproto".to_string(),
            "ether proto \\nosuchproto".to_string(),
            "ether host nosuchether".to_string(),
            "protochain tcp".to_string(),
            "ip[0:3] = 1".to_string(),
            "ip[0] / 0 = 1".to_string(),
            "ip[0] % 0 = 1".to_string(),
            "ip[0] << 32 = 1".to_string(),
            "ah[0] = 1".to_string(),
            "esp[0] = 1".to_string(),
            "llc[0] = 1".to_string(),
            "radio".to_string(),
            "type mgt".to_string(),
            "wlan addr1 00:11:22:33:44:55".to_string(),
            "len".to_string(),
            "1".to_string(),
            "tcp[0]".to_string(),
            "()".to_string(),
            "host".to_string(),
            "src".to_string(),
            "not".to_string(),
            "ip[1:2:3] = 1".to_string(),
            "ifindex 1".to_string(),
            "inbound".to_string(),
            "vpi 1".to_string(),
            "lane".to_string(),
            "fisu".to_string(),
            "action pass".to_string(),
            "gateway localhost".to_string(),
            "decnet host 64.1".to_string(),
            "decnet host 1.1024".to_string(),
            "iso proto \\nosuch".to_string(),
            "llc nosuch".to_string(),
            "ip6 protochain \\nosuch".to_string(),
            format!("host {v4} and"),
            format!("(host {v4}"),
            format!("host {v4})"),
            "tcp port 80 or".to_string(),
            "less".to_string(),
            "greater -".to_string(),
            "ip[0] = = 1".to_string(),
            "ip[0] =< 1".to_string(),
            "ip[] = 1".to_string(),
            "ip[0 = 1".to_string(),
            "vlan 1 2".to_string(),
            "ip[1] % ip[0] = 1".to_string(),
            "vlan 10".to_string(),
            "llc".to_string(),
            "tcp[2] / (tcp[0] + 1) = 1".to_string(),
            "len & 037777777777 <= 123".to_string(),
            "len = 040000000000".to_string(),
        ];
        t[self.rng.below(t.len())].clone()
    }
}

/// Splits an expression into tokens at spaces and around brackets and
/// parentheses (enough to mutate it; not the language's lexer).
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            ' ' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '(' | ')' | '[' | ']' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The words of the filter language: keywords and named constants. A
/// mutated expression that holds any other word might put it in host
/// position, where libpcap would resolve it through DNS.
const WORDS: &[&str] = &[
    "dst",
    "src",
    "host",
    "gateway",
    "net",
    "netmask",
    "mask",
    "port",
    "portrange",
    "proto",
    "protochain",
    "arp",
    "rarp",
    "ip",
    "sctp",
    "tcp",
    "udp",
    "icmp",
    "igmp",
    "igrp",
    "pim",
    "vrrp",
    "carp",
    "radio",
    "ip6",
    "icmp6",
    "ah",
    "esp",
    "atalk",
    "aarp",
    "decnet",
    "lat",
    "sca",
    "moprc",
    "mopdl",
    "iso",
    "esis",
    "es-is",
    "isis",
    "is-is",
    "l1",
    "l2",
    "iih",
    "lsp",
    "snp",
    "csnp",
    "psnp",
    "clnp",
    "stp",
    "ipx",
    "netbeui",
    "link",
    "ether",
    "fddi",
    "tr",
    "wlan",
    "ppp",
    "slip",
    "less",
    "greater",
    "byte",
    "broadcast",
    "multicast",
    "and",
    "or",
    "not",
    "len",
    "inbound",
    "outbound",
    "ifindex",
    "vlan",
    "mpls",
    "pppoed",
    "pppoes",
    "geneve",
    "lane",
    "llc",
    "i",
    "s",
    "u",
    "rr",
    "rnr",
    "rej",
    "ui",
    "ua",
    "disc",
    "dm",
    "sabme",
    "test",
    "xid",
    "frmr",
    "vpi",
    "vci",
    "type",
    "subtype",
    "mgt",
    "on",
    "action",
    "pass",
    "fisu",
    "localhost",
    "loopback",
    "link-local",
    "tcpflags",
    "icmptype",
    "icmpcode",
    "icmp6type",
    "icmp6code",
];

/// Whether every word of `text` is a keyword, a named constant, a number
/// or an address, so that libpcap resolves nothing through DNS. Escaped
/// names (`\tcp`) are allowed only right after `proto`/`protochain`.
pub fn dns_safe(text: &str) -> bool {
    let toks = tokens(text);
    for (i, tok) in toks.iter().enumerate() {
        for word in tok.split(|c: char| "=<>!&|+*/%^,".contains(c)) {
            let word = word.trim_start_matches('-');
            if word.is_empty() {
                continue;
            }
            let lower = word.to_ascii_lowercase();
            if WORDS.contains(&lower.as_str())
                || lower.starts_with("tcp-")
                || lower.starts_with("icmp-")
                || lower.starts_with("icmp6-")
            {
                continue;
            }
            // A number, or an address the lexer reads as one.
            if word.chars().next().is_some_and(|c| c.is_ascii_digit()) || is_address(word) {
                continue;
            }
            if word.starts_with('\\') || PORT_NAMES.contains(&word) || word.starts_with("nosuch") {
                // Allowed only where the grammar expects a service,
                // protocol or ether name, never in host position.
                let prev = i.checked_sub(1).map(|p| toks[p].as_str()).unwrap_or("");
                let ok = matches!(prev, "proto" | "protochain" | "port" | "portrange" | "llc")
                    || (prev == "host" && i >= 2 && toks[i - 2] == "ether")
                    || (tok.contains('-') && prev == "portrange");
                if ok {
                    continue;
                }
            }
            return false;
        }
    }
    true
}

/// Whether `word` is an IPv6 address (or prefix base) or a MAC address in
/// one of the notations libpcap's lexer knows.
fn is_address(word: &str) -> bool {
    if word.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    let hex = |g: &str, max: usize| {
        !g.is_empty() && g.len() <= max && g.chars().all(|c| c.is_ascii_hexdigit())
    };
    for sep in [':', '-', '.'] {
        let groups: Vec<&str> = word.split(sep).collect();
        if groups.len() == 6 && groups.iter().all(|g| hex(g, 2)) {
            return true;
        }
    }
    let groups: Vec<&str> = word.split('.').collect();
    groups.len() == 3 && groups.iter().all(|g| g.len() == 4 && hex(g, 4))
}

#[test]
fn dns_screen_rejects_names_in_host_position() {
    assert!(dns_safe("tcp port http"));
    assert!(dns_safe("ip proto \\tcp"));
    assert!(dns_safe("host 10.77.0.1 and fd77::1"));
    assert!(!dns_safe("src http"));
    assert!(!dns_safe("ip \\tcp"));
    assert!(!dns_safe("host beef"));
    assert!(dns_safe("ether host nosuchether"));
    assert!(!dns_safe("host nosuchether"));
    assert!(dns_safe(
        "ip6 host ff02::fb or fd77::1 and ether src aa:00:04:00:02:04"
    ));
    assert!(dns_safe("ether host aabb.ccdd.eeff or ip6 net fd77::/16"));
    assert!(!dns_safe("host fd77"));
}
