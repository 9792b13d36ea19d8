//! IP protocol numbers: the IPv4 `protocol` field and the IPv6
//! `next header` field.

use core::fmt;

macro_rules! protocols {
    ($( $(#[$doc:meta])* $name:ident = $value:literal, $text:literal; )*) => {
        /// An IP protocol number. Values sluice does not name are kept in
        /// [`IpProtocol::Unknown`], so no value is ever lost.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum IpProtocol {
            $( $(#[$doc])* $name, )*
            /// Any other value, kept as it was.
            Unknown(u8),
        }

        impl From<u8> for IpProtocol {
            fn from(v: u8) -> Self {
                match v {
                    $( $value => IpProtocol::$name, )*
                    other => IpProtocol::Unknown(other),
                }
            }
        }

        impl From<IpProtocol> for u8 {
            fn from(v: IpProtocol) -> Self {
                match v {
                    $( IpProtocol::$name => $value, )*
                    IpProtocol::Unknown(other) => other,
                }
            }
        }

        impl IpProtocol {
            /// The short lower-case name tcpdump uses (`"tcp"`, `"ipv6-frag"`).
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $( IpProtocol::$name => Some($text), )*
                    IpProtocol::Unknown(_) => None,
                }
            }
        }
    };
}

protocols! {
    /// IPv6 hop-by-hop options.
    HopByHop = 0, "hopopt";
    /// ICMP for IPv4.
    Icmp = 1, "icmp";
    /// IGMP.
    Igmp = 2, "igmp";
    /// IPv4 encapsulated in IP.
    IpIp = 4, "ipip";
    /// TCP.
    Tcp = 6, "tcp";
    /// UDP.
    Udp = 17, "udp";
    /// IPv6 encapsulated in IP.
    Ipv6 = 41, "ipv6";
    /// IPv6 routing header.
    Ipv6Route = 43, "ipv6-route";
    /// IPv6 fragment header.
    Ipv6Frag = 44, "ipv6-frag";
    /// RSVP.
    Rsvp = 46, "rsvp";
    /// Generic routing encapsulation.
    Gre = 47, "gre";
    /// IPsec encapsulating security payload.
    Esp = 50, "esp";
    /// IPsec authentication header.
    Ah = 51, "ah";
    /// ICMP for IPv6.
    Icmpv6 = 58, "icmp6";
    /// IPv6 "no next header".
    Ipv6NoNxt = 59, "ipv6-nonxt";
    /// IPv6 destination options.
    Ipv6Opts = 60, "ipv6-opts";
    /// EIGRP.
    Eigrp = 88, "eigrp";
    /// OSPF.
    Ospf = 89, "ospf";
    /// PIM.
    Pim = 103, "pim";
    /// VRRP.
    Vrrp = 112, "vrrp";
    /// L2TP version 3.
    L2tp = 115, "l2tp";
    /// SCTP.
    Sctp = 132, "sctp";
    /// IPv6 mobility header.
    Mobility = 135, "mobility";
    /// UDP-Lite.
    UdpLite = 136, "udplite";
}

impl IpProtocol {
    /// True for the IPv6 extension headers that sluice walks through
    /// (hop-by-hop, routing, fragment, destination options, AH).
    pub fn is_ipv6_extension(self) -> bool {
        matches!(
            self,
            IpProtocol::HopByHop
                | IpProtocol::Ipv6Route
                | IpProtocol::Ipv6Frag
                | IpProtocol::Ipv6Opts
                | IpProtocol::Ah
        )
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "ip-proto-{}", u8::from(*self)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        for raw in 0..=u8::MAX {
            assert_eq!(u8::from(IpProtocol::from(raw)), raw);
        }
        assert_eq!(IpProtocol::from(6), IpProtocol::Tcp);
        assert_eq!(IpProtocol::from(253).to_string(), "ip-proto-253");
        assert_eq!(IpProtocol::Icmpv6.to_string(), "icmp6");
        assert!(IpProtocol::Ipv6Frag.is_ipv6_extension());
        assert!(!IpProtocol::Esp.is_ipv6_extension());
    }
}
