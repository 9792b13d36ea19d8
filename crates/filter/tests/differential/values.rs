//! The value pools shared by the packet corpus and the expression
//! generator: the same addresses, ports, VLAN ids, labels and sessions
//! appear in both, so that generated expressions actually match packets.

/// Unicast, broadcast and multicast MAC addresses.
pub const MACS: &[[u8; 6]] = &[
    [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
    [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee],
    [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb],
    [0x33, 0x33, 0x00, 0x00, 0x00, 0x01],
    [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00],
    [0xaa, 0x00, 0x04, 0x00, 0x02, 0x04],
];

/// Unicast MACs only (sources).
pub const UNICAST_MACS: &[[u8; 6]] = &[
    [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
    [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee],
    [0x00, 0x00, 0x5e, 0x00, 0x53, 0x01],
    [0xaa, 0x00, 0x04, 0x00, 0x02, 0x04],
];

/// IPv4 addresses: lab hosts, a /24's broadcast and network addresses
/// (for `ip broadcast` with netmask 255.255.255.0), multicast, limited
/// broadcast, loopback.
pub const IPV4: &[[u8; 4]] = &[
    [10, 77, 0, 1],
    [10, 77, 0, 2],
    [10, 77, 1, 5],
    [10, 77, 0, 255],
    [10, 77, 1, 0],
    [10, 78, 3, 4],
    [192, 168, 1, 255],
    [172, 16, 0, 1],
    [224, 0, 0, 251],
    [239, 1, 2, 3],
    [255, 255, 255, 255],
    [0, 0, 0, 0],
    [127, 0, 0, 1],
    [169, 254, 1, 1],
];

/// IPv6 addresses.
pub const IPV6: &[[u8; 16]] = &[
    [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    [0xfd, 0x77, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
    [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
];

/// IPv4 netmask used for `ip broadcast` (host order): 255.255.255.0.
pub const NETMASK: u32 = 0xffff_ff00;

/// Transport ports.
pub const PORTS: &[u16] = &[
    0, 20, 22, 53, 67, 68, 80, 123, 161, 443, 513, 1024, 5353, 6081, 8080, 65535,
];

/// Port names from /etc/services with the ports above (`ftp-data` is left
/// out of ranges: its dash reads as the range separator).
pub const PORT_NAMES: &[&str] = &[
    "ssh", "domain", "http", "https", "ntp", "snmp", "bootps", "bootpc", "login", "who", "mdns",
    "ftp-data", "www",
];

/// Port names defined for TCP (alone or with UDP).
pub const TCP_PORT_NAMES: &[&str] = &[
    "ssh", "domain", "http", "https", "snmp", "login", "ftp-data", "www",
];

/// Port names defined for UDP (alone or with TCP).
pub const UDP_PORT_NAMES: &[&str] = &[
    "domain", "https", "ntp", "snmp", "bootps", "bootpc", "who", "mdns",
];

/// VLAN identifiers.
pub const VLAN_IDS: &[u16] = &[0, 1, 10, 100, 200, 4095];

/// MPLS labels.
pub const MPLS_LABELS: &[u32] = &[0, 3, 16, 100, 1024, 100_000, 1_048_575];

/// PPPoE session identifiers.
pub const PPPOE_SESSIONS: &[u16] = &[0, 1, 0x27, 0x1234, 0xffff];

/// Geneve virtual network identifiers.
pub const GENEVE_VNIS: &[u32] = &[0, 1, 0xb, 0x1234, 0xff_ffff];

/// IP protocol numbers met in the corpus.
pub const IP_PROTOS: &[u8] = &[
    0, 1, 2, 6, 9, 17, 41, 43, 44, 47, 50, 51, 58, 59, 60, 89, 103, 112, 132, 255,
];

/// Names of IP protocols, as the grammar takes them after `proto`
/// (keywords escaped with a backslash, plain names from /etc/protocols).
pub const IP_PROTO_NAMES: &[&str] = &[
    "\\tcp",
    "\\udp",
    "\\icmp",
    "\\igmp",
    "\\sctp",
    "\\pim",
    "\\vrrp",
    "\\ah",
    "\\esp",
    "gre",
    "ospf",
    "ipv6-icmp",
    "ipv6-frag",
    "ipv6-route",
    "ipv6-opts",
    "ipv6-nonxt",
    "hopopt",
];

/// EtherTypes met in the corpus.
pub const ETHERTYPES: &[u16] = &[
    0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x8848, 0x8863, 0x8864, 0x809b, 0x80f3,
    0x6003, 0x6004, 0x6001, 0x6002, 0x6007, 0x8137, 0x9000, 0x88cc, 0x888e,
];

/// ICMP types met in the corpus.
pub const ICMP_TYPES: &[u8] = &[0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 42];

/// ICMPv6 types met in the corpus.
pub const ICMP6_TYPES: &[u8] = &[
    1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143,
];

/// DECnet addresses (`area.node`).
pub const DECNET_ADDRS: &[(u16, u16)] = &[(1, 2), (10, 23), (63, 1023)];

/// A DECnet address as the 16-bit value (area << 10 | node).
pub fn decnet_value((area, node): (u16, u16)) -> u16 {
    (area << 10) | node
}

/// `a.b.c.d`.
pub fn ipv4_text(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

/// Canonical text of an IPv6 address.
pub fn ipv6_text(a: [u8; 16]) -> String {
    std::net::Ipv6Addr::from(a).to_string()
}
