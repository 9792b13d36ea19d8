//! Network interfaces: lookup by name, MTU, up/down state, device type and
//! the pcap link type a capture on it produces.
//!
//! All lookups happen in the calling thread's network namespace.

use std::os::fd::AsFd;

use sluice_wire::LinkType;

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

/// `ARPHRD_*` device types that matter for link types.
pub mod arphrd {
    /// Ethernet.
    pub const ETHER: u16 = 1;
    /// Linux CAN.
    pub const CAN: u16 = 280;
    /// PPP.
    pub const PPP: u16 = 512;
    /// Raw IP (no link header).
    pub const RAWIP: u16 = 519;
    /// IPIP tunnel.
    pub const TUNNEL: u16 = 768;
    /// IP6IP6 tunnel.
    pub const TUNNEL6: u16 = 769;
    /// Loopback.
    pub const LOOPBACK: u16 = 772;
    /// SIT (IPv6 in IPv4).
    pub const SIT: u16 = 776;
    /// GRE over IPv4.
    pub const IPGRE: u16 = 778;
    /// 802.11.
    pub const IEEE80211: u16 = 801;
    /// 802.11 + radiotap.
    pub const IEEE80211_RADIOTAP: u16 = 803;
    /// Netlink monitor.
    pub const NETLINK: u16 = 824;
    /// GRE over IPv6.
    pub const IP6GRE: u16 = 823;
    /// No header (tun devices).
    pub const NONE: u16 = 0xfffe;
    /// Void type.
    pub const VOID: u16 = 0xffff;
}

/// How frames of a device type are captured and stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkMapping {
    /// The pcap link type of the frames.
    pub linktype: LinkType,
    /// Captured with `SOCK_DGRAM` and a synthesised `LINUX_SLL2` header.
    pub cooked: bool,
    /// Where a stripped VLAN tag goes back into the link header.
    pub vlan_offset: Option<usize>,
}

/// The link type for an `ARPHRD_*` device type, following libpcap: devices
/// whose link header is known keep it (`SOCK_RAW`); the rest are captured
/// cooked (`SOCK_DGRAM`, `LINUX_SLL2`).
pub fn link_mapping(hatype: u16) -> LinkMapping {
    let raw = |linktype, vlan_offset| LinkMapping {
        linktype,
        cooked: false,
        vlan_offset,
    };
    match hatype {
        // Loopback frames carry an Ethernet header with zero addresses.
        arphrd::ETHER | arphrd::LOOPBACK => raw(LinkType::ETHERNET, Some(12)),
        arphrd::NONE | arphrd::RAWIP | arphrd::TUNNEL | arphrd::TUNNEL6 | arphrd::SIT => {
            raw(LinkType::RAW, None)
        }
        arphrd::IEEE80211 => raw(LinkType::IEEE802_11, None),
        arphrd::IEEE80211_RADIOTAP => raw(LinkType::IEEE802_11_RADIOTAP, None),
        arphrd::NETLINK => raw(LinkType::NETLINK, None),
        arphrd::CAN => raw(LinkType(227), None),
        _ => LinkMapping {
            linktype: LinkType::LINUX_SLL2,
            cooked: true,
            vlan_offset: None,
        },
    }
}

/// The link mapping of a cooked capture (the `any` device, or forced).
pub fn cooked_mapping() -> LinkMapping {
    LinkMapping {
        linktype: LinkType::LINUX_SLL2,
        cooked: true,
        vlan_offset: None,
    }
}

/// What is known about an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its index.
    pub index: u32,
    /// Device type (`ARPHRD_*`).
    pub hatype: u16,
    /// MTU in bytes.
    pub mtu: u32,
    /// `IFF_UP`.
    pub up: bool,
    /// `IFF_RUNNING` (carrier).
    pub running: bool,
    /// `IFF_PROMISC` (someone holds it in promiscuous mode).
    pub promiscuous: bool,
    /// Hardware address (first 6 bytes of `ifr_hwaddr`).
    pub hwaddr: [u8; 6],
}

impl Interface {
    /// Looks `name` up: a clear [`ErrorKind::NoSuchInterface`] error when it
    /// does not exist.
    pub fn by_name(name: &str) -> Result<Interface> {
        let index = index(name)?;
        let sock = sys::inet_dgram_socket()
            .map_err(|e| Error::io(format!("opening a socket to query {name}"), e))?;
        let q = |req, what: &str| {
            let mut r = sys::IfReq::new(name);
            sys::ioctl_ifreq(sock.as_fd(), req, &mut r).map_err(|e| {
                if matches!(e.raw_os_error(), Some(libc::ENODEV) | Some(libc::ENXIO)) {
                    no_such_interface(name)
                } else {
                    Error::io(format!("reading the {what} of {name}"), e)
                }
            })?;
            Ok::<_, Error>(r.data)
        };
        let flags = q(libc::SIOCGIFFLAGS, "flags")?;
        let flags = u16::from_ne_bytes([flags[0], flags[1]]) as libc::c_int;
        let mtu = q(libc::SIOCGIFMTU, "MTU")?;
        let mtu = i32::from_ne_bytes([mtu[0], mtu[1], mtu[2], mtu[3]]);
        let hw = q(libc::SIOCGIFHWADDR, "hardware address")?;
        let mut hwaddr = [0u8; 6];
        hwaddr.copy_from_slice(&hw[2..8]);
        Ok(Interface {
            name: name.to_owned(),
            index,
            hatype: u16::from_ne_bytes([hw[0], hw[1]]),
            mtu: mtu.max(0) as u32,
            up: flags & libc::IFF_UP != 0,
            running: flags & libc::IFF_RUNNING != 0,
            promiscuous: flags & libc::IFF_PROMISC != 0,
            hwaddr,
        })
    }

    /// How a capture on this interface stores frames.
    pub fn link_mapping(&self) -> LinkMapping {
        link_mapping(self.hatype)
    }
}

pub(crate) fn no_such_interface(name: &str) -> Error {
    Error::new(
        ErrorKind::NoSuchInterface,
        format!("no interface named {name:?} (see `ip link` for the list)"),
    )
}

/// The index of interface `name` (`if_nametoindex`), or a clear error.
pub fn index(name: &str) -> Result<u32> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('/') {
        return Err(Error::new(
            ErrorKind::NoSuchInterface,
            format!("{name:?} is not a valid interface name (1 to 15 bytes, no '/')"),
        ));
    }
    match sys::if_nametoindex(name) {
        Ok(Some(i)) => Ok(i),
        Ok(None) => Err(no_such_interface(name)),
        Err(e) => Err(Error::io(format!("looking up interface {name}"), e)),
    }
}

/// The name of interface `index`.
pub fn name(index: u32) -> Result<String> {
    sys::if_indextoname(index).map_err(|e| {
        Error::with_kind(
            ErrorKind::NoSuchInterface,
            format!("no interface with index {index}"),
            e,
        )
    })
}

/// The MTU of interface `name`.
pub fn mtu(name: &str) -> Result<u32> {
    Ok(Interface::by_name(name)?.mtu)
}

/// Whether interface `name` exists in this thread's namespace.
pub fn exists(name: &str) -> bool {
    matches!(sys::if_nametoindex(name), Ok(Some(_)))
}

/// The kernel's own counters of an interface (as `ip -s link` shows them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames dropped on receive by the device or its driver.
    pub rx_dropped: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames dropped on transmit.
    pub tx_dropped: u64,
}

impl Counters {
    /// The change from `earlier` to `self` (wrapping, as the counters may).
    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            rx_packets: self.rx_packets.wrapping_sub(earlier.rx_packets),
            rx_bytes: self.rx_bytes.wrapping_sub(earlier.rx_bytes),
            rx_dropped: self.rx_dropped.wrapping_sub(earlier.rx_dropped),
            tx_packets: self.tx_packets.wrapping_sub(earlier.tx_packets),
            tx_bytes: self.tx_bytes.wrapping_sub(earlier.tx_bytes),
            tx_dropped: self.tx_dropped.wrapping_sub(earlier.tx_dropped),
        }
    }

    fn add(&mut self, o: &Counters) {
        self.rx_packets += o.rx_packets;
        self.rx_bytes += o.rx_bytes;
        self.rx_dropped += o.rx_dropped;
        self.tx_packets += o.tx_packets;
        self.tx_bytes += o.tx_bytes;
        self.tx_dropped += o.tx_dropped;
    }
}

/// Parses the text of `/proc/net/dev`: `(name, counters)` per interface.
pub fn parse_net_dev(text: &str) -> Vec<(String, Counters)> {
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let v: Vec<u64> = rest
                .split_whitespace()
                .map(str::parse)
                .collect::<std::result::Result<_, _>>()
                .ok()?;
            if v.len() < 12 {
                return None;
            }
            Some((
                name.trim().to_owned(),
                Counters {
                    rx_bytes: v[0],
                    rx_packets: v[1],
                    rx_dropped: v[3],
                    tx_bytes: v[8],
                    tx_packets: v[9],
                    tx_dropped: v[11],
                },
            ))
        })
        .collect()
}

/// The counters of interface `name`, or of every interface summed for
/// `"any"`, in the calling thread's network namespace
/// (`/proc/thread-self/net/dev`).
pub fn counters(name: &str) -> Result<Counters> {
    let text = std::fs::read_to_string("/proc/thread-self/net/dev")
        .map_err(|e| Error::io("reading /proc/thread-self/net/dev", e))?;
    let all = parse_net_dev(&text);
    if name == "any" {
        let mut sum = Counters::default();
        for (_, c) in &all {
            sum.add(c);
        }
        return Ok(sum);
    }
    all.into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c)
        .ok_or_else(|| no_such_interface(name))
}

/// Hardware timestamping abilities of an interface (`ETHTOOL_GET_TS_INFO`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimestampInfo {
    /// `SOF_TIMESTAMPING_*` bits the device supports.
    pub so_timestamping: u32,
    /// PTP hardware clock index, -1 for none.
    pub phc_index: i32,
    /// `HWTSTAMP_FILTER_*` bits for receive.
    pub rx_filters: u32,
}

impl TimestampInfo {
    /// Whether received frames can carry raw hardware timestamps.
    pub fn rx_hardware(&self) -> bool {
        const RX_HARDWARE: u32 = 1 << 2;
        const RAW_HARDWARE: u32 = 1 << 6;
        self.so_timestamping & RX_HARDWARE != 0 && self.so_timestamping & RAW_HARDWARE != 0
    }
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct EthtoolTsInfo {
    cmd: u32,
    so_timestamping: u32,
    phc_index: i32,
    tx_types: u32,
    tx_reserved: [u32; 3],
    rx_filters: u32,
    rx_reserved: [u32; 3],
}

// SAFETY: repr(C) struct of integers; every bit pattern is valid.
unsafe impl sys::Pod for EthtoolTsInfo {}

#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct HwtstampConfig {
    flags: i32,
    tx_type: i32,
    rx_filter: i32,
}

// SAFETY: repr(C) struct of integers; every bit pattern is valid.
unsafe impl sys::Pod for HwtstampConfig {}

const ETHTOOL_GET_TS_INFO: u32 = 0x41;
const SIOCETHTOOL: libc::c_ulong = 0x8946;
const SIOCSHWTSTAMP: libc::c_ulong = 0x89b0;
const HWTSTAMP_FILTER_ALL: i32 = 1;

/// Reads the timestamping abilities of `name`.
pub fn timestamp_info(name: &str) -> Result<TimestampInfo> {
    let sock =
        sys::inet_dgram_socket().map_err(|e| Error::io("opening a socket for ethtool", e))?;
    let mut info = EthtoolTsInfo {
        cmd: ETHTOOL_GET_TS_INFO,
        ..Default::default()
    };
    sys::ioctl_ifreq_ptr(sock.as_fd(), SIOCETHTOOL, name, &mut info)
        .map_err(|e| Error::io(format!("reading the timestamping abilities of {name}"), e))?;
    Ok(TimestampInfo {
        so_timestamping: info.so_timestamping,
        phc_index: info.phc_index,
        rx_filters: info.rx_filters,
    })
}

/// Turns on hardware timestamping of all received frames on `name`
/// (`SIOCSHWTSTAMP`, needs CAP_NET_ADMIN). Transmit stamping is left off.
pub fn enable_rx_hardware_timestamps(name: &str) -> Result<()> {
    let sock =
        sys::inet_dgram_socket().map_err(|e| Error::io("opening a socket for SIOCSHWTSTAMP", e))?;
    let mut cfg = HwtstampConfig {
        flags: 0,
        tx_type: 0,
        rx_filter: HWTSTAMP_FILTER_ALL,
    };
    sys::ioctl_ifreq_ptr(sock.as_fd(), SIOCSHWTSTAMP, name, &mut cfg)
        .map_err(|e| Error::io(format!("enabling hardware timestamps on {name}"), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_device_types_like_libpcap() {
        assert_eq!(link_mapping(arphrd::ETHER).linktype, LinkType::ETHERNET);
        assert_eq!(link_mapping(arphrd::ETHER).vlan_offset, Some(12));
        assert_eq!(link_mapping(arphrd::LOOPBACK).linktype, LinkType::ETHERNET);
        assert_eq!(link_mapping(arphrd::NONE).linktype, LinkType::RAW);
        assert!(!link_mapping(arphrd::NONE).cooked);
        assert_eq!(link_mapping(arphrd::PPP).linktype, LinkType::LINUX_SLL2);
        assert!(link_mapping(arphrd::PPP).cooked);
        assert_eq!(
            link_mapping(arphrd::IEEE80211_RADIOTAP).linktype,
            LinkType::IEEE802_11_RADIOTAP
        );
    }

    #[test]
    fn bad_names_are_clear_errors() {
        let e = index("no-such-if0").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoSuchInterface);
        assert!(e.to_string().contains("no-such-if0"), "{e}");
        assert_eq!(index("a/b").unwrap_err().kind(), ErrorKind::NoSuchInterface);
        assert_eq!(
            index("0123456789abcdefg").unwrap_err().kind(),
            ErrorKind::NoSuchInterface
        );
    }

    #[test]
    fn net_dev_is_parsed() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n\
            lo:   19809     324    0    0    0     0          0         0    19810     325    0    7    0     0       0          0\n\
            eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
        let v = parse_net_dev(text);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0, "lo");
        assert_eq!(
            v[0].1,
            Counters {
                rx_bytes: 19809,
                rx_packets: 324,
                rx_dropped: 0,
                tx_bytes: 19810,
                tx_packets: 325,
                tx_dropped: 7,
            }
        );
        assert_eq!(v[1].1.rx_dropped, 4);
        assert!(counters("lo").is_ok());
        assert_eq!(
            counters("no-such-if9").unwrap_err().kind(),
            ErrorKind::NoSuchInterface
        );
    }

    #[test]
    fn loopback_is_found() {
        let lo = Interface::by_name("lo").unwrap();
        assert_eq!(lo.hatype, arphrd::LOOPBACK);
        assert!(lo.mtu > 0);
        assert_eq!(name(lo.index).unwrap(), "lo");
    }
}
