//! Packet metadata that Linux socket filters read through the ancillary
//! loads (`ld [proto]`, `ldb [vlanp]`, … at `SKF_AD_OFF + n`).

/// What the kernel knows about a packet besides its bytes: the values the
/// ancillary loads return under [`Semantics::Kernel`](crate::Semantics).
///
/// `Meta::default()` describes a packet with no VLAN tag stripped, on
/// interface 0, with every other field 0. Fill in what you know; an
/// offline capture file usually carries only the VLAN tag (from pcapng
/// or a `LINUX_SLL2` header) and the interface.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Meta {
    /// `skb->protocol` in host order: the EtherType (0x0800 for IPv4).
    /// `ld [proto]` (`SKF_AD_PROTOCOL`).
    pub protocol: u16,
    /// `skb->pkt_type`: `PACKET_HOST` 0, `PACKET_BROADCAST` 1,
    /// `PACKET_MULTICAST` 2, `PACKET_OTHERHOST` 3, `PACKET_OUTGOING` 4, …
    /// The load returns the low three bits. `ld [type]`.
    pub pkttype: u8,
    /// The interface index. `ld [ifidx]`.
    pub ifindex: u32,
    /// `skb->mark` (the netfilter mark). `ld [mark]`.
    pub mark: u32,
    /// `skb->queue_mapping`. `ld [queue]`.
    pub queue: u16,
    /// The device type (`ARPHRD_ETHER` 1, …). `ld [hatype]`.
    pub hatype: u16,
    /// `skb->hash`. `ld [rxhash]`.
    pub rxhash: u32,
    /// The CPU the filter runs on. `ld [cpu]`.
    pub cpu: u32,
    /// The VLAN TCI that was stripped from the frame into metadata, if
    /// any. `ld [vlan_tci]` returns it (all 16 bits, as current kernels do;
    /// those that kept a `VLAN_TAG_PRESENT` flag in bit 12 cleared that bit;
    /// 0 when absent) and `ld [vlanp]` returns 1 when it is present.
    pub vlan_tci: Option<u16>,
    /// The TPID of the stripped VLAN tag (0x8100, 0x88a8), in host order;
    /// 0 when no tag was stripped. `ld [vlan_tpid]`.
    pub vlan_tpid: u16,
    /// The payload offset the kernel's flow dissector finds
    /// (`skb_get_poff`), 0 when it finds none. `ld [poff]`.
    pub pay_offset: u32,
    /// The value of `ld [random]`.
    pub random: u32,
    /// Where the network-layer header starts in the packet bytes, for
    /// loads at `SKF_NET_OFF + n`. `None` makes those loads fail (the
    /// program returns 0).
    pub net_offset: Option<u32>,
}

impl Meta {
    /// Metadata with the VLAN tag `tci` stripped, with TPID `tpid`.
    pub fn with_vlan(mut self, tci: u16, tpid: u16) -> Meta {
        self.vlan_tci = Some(tci);
        self.vlan_tpid = tpid;
        self
    }
}
