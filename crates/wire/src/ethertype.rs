//! EtherType values: the 16-bit protocol identifier of Ethernet II, VLAN
//! tags, Linux cooked headers and SNAP.
//!
//! Values below 0x0600 in an Ethernet header are an 802.3 length, not an
//! EtherType; [`EtherType::is_length`] tells which.

use core::fmt;

macro_rules! ethertypes {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $text:literal; )*) => {
        /// An EtherType. Values sluice does not name are kept in
        /// [`EtherType::Unknown`], so no value is ever lost.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EtherType {
            $( $(#[$doc])* $name, )*
            /// Any other value, kept as it was.
            Unknown(u16),
        }

        impl From<u16> for EtherType {
            fn from(v: u16) -> Self {
                match v {
                    $( $value => EtherType::$name, )*
                    other => EtherType::Unknown(other),
                }
            }
        }

        impl From<EtherType> for u16 {
            fn from(v: EtherType) -> Self {
                match v {
                    $( EtherType::$name => $value, )*
                    EtherType::Unknown(other) => other,
                }
            }
        }

        impl EtherType {
            /// The name tcpdump prints for this EtherType, if it has one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( EtherType::$name => Some($text), )*
                    EtherType::Unknown(_) => None,
                }
            }
        }
    };
}

ethertypes! {
    /// Internet Protocol version 4.
    Ipv4 = 0x0800, "IPv4";
    /// Address Resolution Protocol.
    Arp = 0x0806, "ARP";
    /// Reverse ARP.
    Rarp = 0x8035, "Reverse ARP";
    /// 802.1Q VLAN tag.
    Vlan = 0x8100, "802.1Q";
    /// Internet Protocol version 6.
    Ipv6 = 0x86dd, "IPv6";
    /// Ethernet flow control and slow protocols (LACP).
    Slow = 0x8809, "Slow Protocols";
    /// MPLS unicast.
    Mpls = 0x8847, "MPLS unicast";
    /// MPLS multicast.
    MplsMulticast = 0x8848, "MPLS multicast";
    /// PPPoE discovery stage.
    PppoeDiscovery = 0x8863, "PPPoE D";
    /// PPPoE session stage.
    PppoeSession = 0x8864, "PPPoE S";
    /// 802.1X authentication.
    Eapol = 0x888e, "EAPOL";
    /// 802.1ad service VLAN tag (QinQ outer tag).
    QinQ = 0x88a8, "802.1Q-QinQ";
    /// Link Layer Discovery Protocol.
    Lldp = 0x88cc, "LLDP";
    /// 802.1AE MAC security.
    MacSec = 0x88e5, "802.1AE MACsec";
    /// Precision Time Protocol.
    Ptp = 0x88f7, "PTP";
    /// Ethernet configuration testing protocol (loopback).
    Loopback = 0x9000, "Loopback";
    /// Pre-standard QinQ tag.
    QinQ9100 = 0x9100, "802.1Q-9100";
}

impl EtherType {
    /// True if the raw value is an 802.3 length (≤ 1500) rather than an
    /// EtherType.
    pub fn is_length(raw: u16) -> bool {
        raw <= 1500
    }

    /// True for the tag protocol identifiers that start a VLAN tag
    /// (802.1Q, 802.1ad and the pre-standard 0x9100).
    pub fn is_vlan_tag(self) -> bool {
        matches!(
            self,
            EtherType::Vlan | EtherType::QinQ | EtherType::QinQ9100
        )
    }
}

impl fmt::Display for EtherType {
    /// tcpdump's form: `IPv4 (0x0800)`, `Unknown (0x1234)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let raw = u16::from(*self);
        write!(f, "{} ({raw:#06x})", self.name().unwrap_or("Unknown"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for raw in 0..=u16::MAX {
            assert_eq!(u16::from(EtherType::from(raw)), raw);
        }
        assert_eq!(EtherType::from(0x0800), EtherType::Ipv4);
        assert_eq!(EtherType::from(0x1234), EtherType::Unknown(0x1234));
    }

    #[test]
    fn display_like_tcpdump() {
        assert_eq!(EtherType::Ipv4.to_string(), "IPv4 (0x0800)");
        assert_eq!(EtherType::Vlan.to_string(), "802.1Q (0x8100)");
        assert_eq!(EtherType::from(0x1234).to_string(), "Unknown (0x1234)");
        assert!(EtherType::QinQ.is_vlan_tag());
        assert!(EtherType::is_length(46));
    }
}
