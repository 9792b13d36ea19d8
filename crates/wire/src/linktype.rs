//! Link-layer header types: the pcap `LINKTYPE_*` values that say how to
//! read a frame.

use core::fmt;

/// A pcap/pcapng link-layer header type (`LINKTYPE_*`).
///
/// A newtype rather than an enum: capture files carry any of some two
/// hundred values and sluice passes every one of them through unchanged.
/// The constants name the ones sluice understands or commonly meets.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in host byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II (and 802.3).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IPv4 or IPv6, no link header (the version nibble tells which).
    pub const RAW: LinkType = LinkType(101);
    /// Cisco HDLC.
    pub const C_HDLC: LinkType = LinkType(104);
    /// IEEE 802.11.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture v1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Radiotap + 802.11.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Bare IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Bare IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netlink.
    pub const NETLINK: LinkType = LinkType(253);
    /// Linux cooked capture v2 (20-byte header), what the `any` device gives.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// The libpcap name of this linktype without the `DLT_` prefix
    /// (`"EN10MB"`, `"RAW"`, …), if sluice knows it.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(lt, _, _)| *lt == self.0)
            .map(|(_, name, _)| *name)
    }

    /// A short human description (`"Ethernet"`, `"Raw IP"`, …), if known.
    pub fn description(self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(lt, _, _)| *lt == self.0)
            .map(|(_, _, d)| *d)
    }

    /// Looks a linktype up by its libpcap name, case-insensitively, with or
    /// without the `DLT_`/`LINKTYPE_` prefix, or as a decimal number.
    pub fn from_name(name: &str) -> Option<LinkType> {
        let upper = name.to_ascii_uppercase();
        let bare = upper
            .strip_prefix("DLT_")
            .or_else(|| upper.strip_prefix("LINKTYPE_"))
            .unwrap_or(&upper);
        if let Ok(n) = bare.parse::<u32>() {
            return Some(LinkType(n));
        }
        let alias = match bare {
            "ETHERNET" | "ETH" => "EN10MB",
            "SLL" => "LINUX_SLL",
            "SLL2" => "LINUX_SLL2",
            other => other,
        };
        NAMES
            .iter()
            .find(|(_, n, _)| *n == alias)
            .map(|(lt, _, _)| LinkType(*lt))
    }
}

/// (value, libpcap name, description)
const NAMES: &[(u32, &str, &str)] = &[
    (0, "NULL", "BSD loopback"),
    (1, "EN10MB", "Ethernet"),
    (6, "IEEE802", "Token Ring"),
    (9, "PPP", "PPP"),
    (10, "FDDI", "FDDI"),
    (50, "PPP_HDLC", "PPP in HDLC-like framing"),
    (51, "PPP_ETHER", "PPPoE"),
    (101, "RAW", "Raw IP"),
    (104, "C_HDLC", "Cisco HDLC"),
    (105, "IEEE802_11", "IEEE 802.11"),
    (108, "LOOP", "OpenBSD loopback"),
    (113, "LINUX_SLL", "Linux cooked v1"),
    (127, "IEEE802_11_RADIO", "802.11 plus radiotap"),
    (195, "IEEE802_15_4_WITHFCS", "IEEE 802.15.4"),
    (228, "IPV4", "Raw IPv4"),
    (229, "IPV6", "Raw IPv6"),
    (253, "NETLINK", "Linux netlink"),
    (276, "LINUX_SLL2", "Linux cooked v2"),
];

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "LINKTYPE_{}", self.0),
        }
    }
}

impl From<u32> for LinkType {
    fn from(v: u32) -> Self {
        LinkType(v)
    }
}

impl From<LinkType> for u32 {
    fn from(v: LinkType) -> Self {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(LinkType::from_name("en10mb"), Some(LinkType::ETHERNET));
        assert_eq!(LinkType::from_name("DLT_RAW"), Some(LinkType::RAW));
        assert_eq!(LinkType::from_name("sll2"), Some(LinkType::LINUX_SLL2));
        assert_eq!(LinkType::from_name("147"), Some(LinkType(147)));
        assert_eq!(LinkType::from_name("nonsense"), None);
        assert_eq!(LinkType::ETHERNET.to_string(), "EN10MB");
        assert_eq!(LinkType(147).to_string(), "LINKTYPE_147");
    }
}
