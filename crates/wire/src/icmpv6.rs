//! ICMP for IPv6 (RFC 4443) and neighbor discovery messages (RFC 4861).
//!
//! Echo, the four error messages (whose data is the invoking packet),
//! router and neighbor solicitation and advertisement, and redirect. The
//! options that follow neighbor discovery messages are read by
//! [`ndisc_option`](crate::ndisc_option). The checksum covers the IPv6
//! pseudo-header, so computing or verifying it needs the addresses.

use core::fmt;
use core::net::Ipv6Addr;

use crate::checksum;
use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::ndisc_option::OptionIter;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const UNUSED: Field = 4..8;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQNO: Field = 6..8;
    pub const MTU: Field = 4..8;
    pub const POINTER: Field = 4..8;
    pub const DATA: usize = UNUSED.end;
    // Neighbor solicitation / advertisement and redirect.
    pub const NA_FLAGS: usize = 4;
    pub const TARGET: Field = 8..24;
    pub const REDIRECT_DEST: Field = 24..40;
    // Router advertisement.
    pub const CUR_HOP_LIMIT: usize = 4;
    pub const ROUTER_FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: Field = 6..8;
    pub const REACHABLE_TIME: Field = 8..12;
    pub const RETRANS_TIME: Field = 12..16;
}

/// Length of the ICMPv6 header (type, code, checksum and the 4-byte
/// message-specific field).
pub const HEADER_LEN: usize = field::DATA;

crate::enum_with_unknown! {
    /// ICMPv6 message type.
    pub enum Message(u8) {
        /// Destination unreachable.
        DstUnreachable = 1,
        /// Packet too big.
        PktTooBig = 2,
        /// Time exceeded.
        TimeExceeded = 3,
        /// Parameter problem.
        ParamProblem = 4,
        /// Echo request.
        EchoRequest = 128,
        /// Echo reply.
        EchoReply = 129,
        /// Multicast listener query.
        MldQuery = 130,
        /// Multicast listener report (v1).
        MldReport = 131,
        /// Multicast listener done.
        MldDone = 132,
        /// Router solicitation.
        RouterSolicit = 133,
        /// Router advertisement.
        RouterAdvert = 134,
        /// Neighbor solicitation.
        NeighborSolicit = 135,
        /// Neighbor advertisement.
        NeighborAdvert = 136,
        /// Redirect.
        Redirect = 137,
        /// Multicast listener report v2.
        MldReportV2 = 143,
    }
}

impl Message {
    /// True for error messages (types below 128).
    pub fn is_error(self) -> bool {
        u8::from(self) < 128
    }

    /// Length of the fixed part of the message (before data or options).
    pub fn fixed_len(self) -> usize {
        match self {
            Message::RouterAdvert => field::RETRANS_TIME.end,
            Message::NeighborSolicit | Message::NeighborAdvert => field::TARGET.end,
            Message::Redirect => field::REDIRECT_DEST.end,
            Message::MldQuery | Message::MldReport | Message::MldDone => field::TARGET.end,
            _ => HEADER_LEN,
        }
    }
}

impl fmt::Display for Message {
    /// tcpdump's names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Message::DstUnreachable => "destination unreachable",
            Message::PktTooBig => "packet too big",
            Message::TimeExceeded => "time exceeded",
            Message::ParamProblem => "parameter problem",
            Message::EchoRequest => "echo request",
            Message::EchoReply => "echo reply",
            Message::MldQuery => "multicast listener query",
            Message::MldReport => "multicast listener report",
            Message::MldDone => "multicast listener done",
            Message::RouterSolicit => "router solicitation",
            Message::RouterAdvert => "router advertisement",
            Message::NeighborSolicit => "neighbor solicitation",
            Message::NeighborAdvert => "neighbor advertisement",
            Message::Redirect => "redirect",
            Message::MldReportV2 => "multicast listener report v2",
            Message::Unknown(t) => return write!(f, "icmp6 type-#{t}"),
        })
    }
}

crate::enum_with_unknown! {
    /// Destination unreachable codes.
    pub enum DstUnreachable(u8) {
        /// No route to destination.
        NoRoute = 0,
        /// Administratively prohibited.
        AdminProhibit = 1,
        /// Beyond scope of source address.
        BeyondScope = 2,
        /// Address unreachable.
        AddrUnreachable = 3,
        /// Port unreachable.
        PortUnreachable = 4,
        /// Source address failed ingress/egress policy.
        FailedPolicy = 5,
        /// Reject route to destination.
        RejectRoute = 6,
    }
}

crate::enum_with_unknown! {
    /// Time exceeded codes.
    pub enum TimeExceeded(u8) {
        /// Hop limit exceeded in transit.
        HopLimitExceeded = 0,
        /// Fragment reassembly time exceeded.
        FragReassemblyExceeded = 1,
    }
}

crate::enum_with_unknown! {
    /// Parameter problem codes.
    pub enum ParamProblem(u8) {
        /// Erroneous header field.
        ErroneousHdrField = 0,
        /// Unrecognised next header.
        UnrecognizedNxtHdr = 1,
        /// Unrecognised IPv6 option.
        UnrecognizedOption = 2,
    }
}

/// Neighbor advertisement flag: sent by a router.
pub const NA_ROUTER: u8 = 0x80;
/// Neighbor advertisement flag: in response to a solicitation.
pub const NA_SOLICITED: u8 = 0x40;
/// Neighbor advertisement flag: override an existing cache entry.
pub const NA_OVERRIDE: u8 = 0x20;

/// A read/write view of an ICMPv6 message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the header, and the fixed part of
    /// the message its type names, fit.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 4-byte type/code/checksum fits, and then the fixed
    /// part of the message its type names (8 bytes for most; 24 for
    /// neighbor messages; 16 for router advertisements; 40 for redirects).
    ///
    /// Messages of unknown type need only 4 bytes; their
    /// [`Packet::rest_of_header`] is then not available, use
    /// [`Packet::check_header_len`] first.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < 4 {
            return Err(Error::short(Protocol::Icmpv6, 4, len));
        }
        let need = self.msg_type().fixed_len();
        if len < need {
            return Err(Error::short(Protocol::Icmpv6, need, len));
        }
        Ok(())
    }

    /// Checks that the full 8-byte header fits (for any type).
    pub fn check_header_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::short(Protocol::Icmpv6, HEADER_LEN, len));
        }
        self.check_len()
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Message type.
    pub fn msg_type(&self) -> Message {
        Message::from(self.buffer.as_ref()[field::TYPE])
    }

    /// Code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Stored checksum.
    pub fn checksum(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The four message-specific bytes after the checksum (needs
    /// [`Packet::check_header_len`]).
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = &self.buffer.as_ref()[field::UNUSED];
        [b[0], b[1], b[2], b[3]]
    }

    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ECHO_SEQNO])
    }

    /// MTU of a packet-too-big message.
    pub fn mtu(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::MTU])
    }

    /// Pointer of a parameter problem message.
    pub fn pointer(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::POINTER])
    }

    /// Flags of a neighbor advertisement ([`NA_ROUTER`], …).
    pub fn neighbor_flags(&self) -> u8 {
        self.buffer.as_ref()[field::NA_FLAGS] & 0xe0
    }

    /// Target address of a neighbor solicitation/advertisement or redirect.
    pub fn target_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::TARGET])
    }

    /// Destination address of a redirect.
    pub fn redirect_dst_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::REDIRECT_DEST])
    }

    /// Current hop limit of a router advertisement.
    pub fn cur_hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::CUR_HOP_LIMIT]
    }

    /// Flags of a router advertisement (managed 0x80, other 0x40, …).
    pub fn router_flags(&self) -> u8 {
        self.buffer.as_ref()[field::ROUTER_FLAGS]
    }

    /// Router lifetime in seconds.
    pub fn router_lifetime(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ROUTER_LIFETIME])
    }

    /// Reachable time in milliseconds.
    pub fn reachable_time(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::REACHABLE_TIME])
    }

    /// Retransmission timer in milliseconds.
    pub fn retrans_time(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::RETRANS_TIME])
    }

    /// The bytes after the message's fixed part: echo data, the invoking
    /// packet of an error, or neighbor discovery options.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let start = self.msg_type().fixed_len().min(b.len());
        &b[start..]
    }

    /// The neighbor discovery options of RS/RA/NS/NA/redirect messages.
    pub fn ndisc_options(&self) -> OptionIter<'_> {
        OptionIter::new(self.data())
    }

    /// True if the checksum is right for this source and destination.
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        checksum::verify_transport(
            src.into(),
            dst.into(),
            IpProtocol::Icmpv6,
            self.buffer.as_ref(),
        )
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the message type.
    pub fn set_msg_type(&mut self, v: Message) {
        self.buffer.as_mut()[field::TYPE] = v.into();
    }

    /// Sets the code.
    pub fn set_msg_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::CHECKSUM], v);
    }

    /// Sets the four message-specific bytes.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[field::UNUSED].copy_from_slice(&v);
    }

    /// Sets the target address.
    pub fn set_target_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::TARGET].copy_from_slice(&a.octets());
    }

    /// Sets the redirect destination address.
    pub fn set_redirect_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::REDIRECT_DEST].copy_from_slice(&a.octets());
    }

    /// Sets the router advertisement's timers (reachable, retransmit).
    pub fn set_router_times(&mut self, reachable: u32, retrans: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::REACHABLE_TIME], reachable);
        set_be::u32(&mut self.buffer.as_mut()[field::RETRANS_TIME], retrans);
    }

    /// The bytes after the fixed part, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let start = self.msg_type().fixed_len();
        let b = self.buffer.as_mut();
        let start = start.min(b.len());
        &mut b[start..]
    }

    /// Computes and stores the checksum over the pseudo-header and the
    /// whole buffer.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        let c = checksum::transport_v6(src, dst, IpProtocol::Icmpv6, self.buffer.as_ref(), 2);
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(&Packet::new_unchecked(self.buffer.as_ref())) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ICMP6 ({e})"),
        }
    }
}

/// The parsed contents of an ICMPv6 message.
///
/// `data` is echo payload or the invoking packet; `options` are the raw
/// neighbor discovery options (iterate them with
/// [`OptionIter`]). `parse` does not check the checksum; `emit` computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repr<'a> {
    /// Echo request.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Echo reply.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq_no: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// Destination unreachable.
    DstUnreachable {
        /// Why.
        reason: DstUnreachable,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Packet too big.
    PktTooBig {
        /// The next-hop MTU.
        mtu: u32,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Time exceeded.
    TimeExceeded {
        /// Why.
        reason: TimeExceeded,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Parameter problem.
    ParamProblem {
        /// Why.
        reason: ParamProblem,
        /// Offset of the problem in the invoking packet.
        pointer: u32,
        /// The invoking packet.
        data: &'a [u8],
    },
    /// Router solicitation.
    RouterSolicit {
        /// Options.
        options: &'a [u8],
    },
    /// Router advertisement.
    RouterAdvert {
        /// Current hop limit.
        hop_limit: u8,
        /// Flags byte.
        flags: u8,
        /// Router lifetime in seconds.
        router_lifetime: u16,
        /// Reachable time in ms.
        reachable_time: u32,
        /// Retransmission timer in ms.
        retrans_time: u32,
        /// Options.
        options: &'a [u8],
    },
    /// Neighbor solicitation.
    NeighborSolicit {
        /// The address asked about.
        target: Ipv6Addr,
        /// Options.
        options: &'a [u8],
    },
    /// Neighbor advertisement.
    NeighborAdvert {
        /// Flags ([`NA_ROUTER`], [`NA_SOLICITED`], [`NA_OVERRIDE`]).
        flags: u8,
        /// The address advertised.
        target: Ipv6Addr,
        /// Options.
        options: &'a [u8],
    },
    /// Redirect.
    Redirect {
        /// The better first hop.
        target: Ipv6Addr,
        /// The destination redirected.
        dst_addr: Ipv6Addr,
        /// Options.
        options: &'a [u8],
    },
    /// Any other message, kept whole.
    Other {
        /// Type.
        msg_type: Message,
        /// Code.
        code: u8,
        /// The four message-specific bytes.
        rest_of_header: [u8; 4],
        /// The bytes after them.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Reads a message (which must have a full 8-byte header).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_header_len()?;
        let buf: &'a [u8] = T::as_ref(packet.buffer);
        let t = packet.msg_type();
        let rest = &buf[t.fixed_len()..];
        let code = packet.msg_code();
        let zero_rest = packet.rest_of_header() == [0; 4];
        Ok(match (t, code) {
            (Message::EchoRequest, 0) => Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data: rest,
            },
            (Message::EchoReply, 0) => Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data: rest,
            },
            (Message::DstUnreachable, _) if zero_rest => Repr::DstUnreachable {
                reason: code.into(),
                data: rest,
            },
            (Message::PktTooBig, 0) => Repr::PktTooBig {
                mtu: packet.mtu(),
                data: rest,
            },
            (Message::TimeExceeded, _) if zero_rest => Repr::TimeExceeded {
                reason: code.into(),
                data: rest,
            },
            (Message::ParamProblem, _) => Repr::ParamProblem {
                reason: code.into(),
                pointer: packet.pointer(),
                data: rest,
            },
            (Message::RouterSolicit, 0) if zero_rest => Repr::RouterSolicit { options: rest },
            (Message::RouterAdvert, 0) => Repr::RouterAdvert {
                hop_limit: packet.cur_hop_limit(),
                flags: packet.router_flags(),
                router_lifetime: packet.router_lifetime(),
                reachable_time: packet.reachable_time(),
                retrans_time: packet.retrans_time(),
                options: rest,
            },
            (Message::NeighborSolicit, 0) if zero_rest => Repr::NeighborSolicit {
                target: packet.target_addr(),
                options: rest,
            },
            (Message::NeighborAdvert, 0)
                if packet.rest_of_header() == [packet.neighbor_flags(), 0, 0, 0] =>
            {
                Repr::NeighborAdvert {
                    flags: packet.neighbor_flags(),
                    target: packet.target_addr(),
                    options: rest,
                }
            }
            (Message::Redirect, 0) if zero_rest => Repr::Redirect {
                target: packet.target_addr(),
                dst_addr: packet.redirect_dst_addr(),
                options: rest,
            },
            (msg_type, code) => Repr::Other {
                msg_type,
                code,
                rest_of_header: packet.rest_of_header(),
                data: &buf[HEADER_LEN..],
            },
        })
    }

    fn msg_type(&self) -> Message {
        match self {
            Repr::EchoRequest { .. } => Message::EchoRequest,
            Repr::EchoReply { .. } => Message::EchoReply,
            Repr::DstUnreachable { .. } => Message::DstUnreachable,
            Repr::PktTooBig { .. } => Message::PktTooBig,
            Repr::TimeExceeded { .. } => Message::TimeExceeded,
            Repr::ParamProblem { .. } => Message::ParamProblem,
            Repr::RouterSolicit { .. } => Message::RouterSolicit,
            Repr::RouterAdvert { .. } => Message::RouterAdvert,
            Repr::NeighborSolicit { .. } => Message::NeighborSolicit,
            Repr::NeighborAdvert { .. } => Message::NeighborAdvert,
            Repr::Redirect { .. } => Message::Redirect,
            Repr::Other { msg_type, .. } => *msg_type,
        }
    }

    fn tail(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::DstUnreachable { data, .. }
            | Repr::PktTooBig { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::ParamProblem { data, .. }
            | Repr::Other { data, .. } => data,
            Repr::RouterSolicit { options }
            | Repr::RouterAdvert { options, .. }
            | Repr::NeighborSolicit { options, .. }
            | Repr::NeighborAdvert { options, .. }
            | Repr::Redirect { options, .. } => options,
        }
    }

    fn fixed_len(&self) -> usize {
        match self {
            Repr::Other { .. } => HEADER_LEN,
            r => r.msg_type().fixed_len(),
        }
    }

    /// Bytes [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        self.fixed_len() + self.tail().len()
    }

    /// Writes the message with a correct checksum for `src` → `dst`.
    /// Neighbor advertisement flags outside the three defined bits are an
    /// error.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<()> {
        let buf = packet.buffer.as_mut();
        let fixed = self.fixed_len();
        buf[..fixed].fill(0);
        buf[field::TYPE] = self.msg_type().into();
        let mut code = 0;
        match *self {
            Repr::EchoRequest { ident, seq_no, .. } | Repr::EchoReply { ident, seq_no, .. } => {
                set_be::u16(&mut buf[field::ECHO_IDENT], ident);
                set_be::u16(&mut buf[field::ECHO_SEQNO], seq_no);
            }
            Repr::DstUnreachable { reason, .. } => code = reason.into(),
            Repr::PktTooBig { mtu, .. } => set_be::u32(&mut buf[field::MTU], mtu),
            Repr::TimeExceeded { reason, .. } => code = reason.into(),
            Repr::ParamProblem {
                reason, pointer, ..
            } => {
                code = reason.into();
                set_be::u32(&mut buf[field::POINTER], pointer);
            }
            Repr::RouterSolicit { .. } => {}
            Repr::RouterAdvert {
                hop_limit,
                flags,
                router_lifetime,
                reachable_time,
                retrans_time,
                ..
            } => {
                buf[field::CUR_HOP_LIMIT] = hop_limit;
                buf[field::ROUTER_FLAGS] = flags;
                set_be::u16(&mut buf[field::ROUTER_LIFETIME], router_lifetime);
                set_be::u32(&mut buf[field::REACHABLE_TIME], reachable_time);
                set_be::u32(&mut buf[field::RETRANS_TIME], retrans_time);
            }
            Repr::NeighborSolicit { target, .. } => {
                buf[field::TARGET].copy_from_slice(&target.octets());
            }
            Repr::NeighborAdvert { flags, target, .. } => {
                if flags & !0xe0 != 0 {
                    return Err(Error::new(
                        ErrorKind::Malformed,
                        Protocol::Icmpv6,
                        Reason::Invalid {
                            field: "neighbor advertisement flags",
                            value: flags.into(),
                        },
                    ));
                }
                buf[field::NA_FLAGS] = flags;
                buf[field::TARGET].copy_from_slice(&target.octets());
            }
            Repr::Redirect {
                target, dst_addr, ..
            } => {
                buf[field::TARGET].copy_from_slice(&target.octets());
                buf[field::REDIRECT_DEST].copy_from_slice(&dst_addr.octets());
            }
            Repr::Other {
                code: c,
                rest_of_header,
                ..
            } => {
                code = c;
                buf[field::UNUSED].copy_from_slice(&rest_of_header);
            }
        }
        buf[field::CODE] = code;
        let tail = self.tail();
        buf[fixed..fixed + tail.len()].copy_from_slice(tail);
        let n = self.buffer_len();
        let c = checksum::transport_v6(src, dst, IpProtocol::Icmpv6, &buf[..n], 2);
        set_be::u16(&mut buf[field::CHECKSUM], c);
        Ok(())
    }
}

impl fmt::Display for Repr<'_> {
    /// tcpdump's wording (`echo request, id 1, seq 1`, `neighbor
    /// solicitation, who has fd77::2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Repr::EchoRequest { ident, seq_no, .. } => {
                write!(f, "echo request, id {ident}, seq {seq_no}")
            }
            Repr::EchoReply { ident, seq_no, .. } => {
                write!(f, "echo reply, id {ident}, seq {seq_no}")
            }
            Repr::NeighborSolicit { target, .. } => {
                write!(f, "neighbor solicitation, who has {target}")
            }
            Repr::NeighborAdvert { target, .. } => {
                write!(f, "neighbor advertisement, tgt is {target}")
            }
            Repr::PktTooBig { mtu, .. } => write!(f, "packet too big, mtu {mtu}"),
            Repr::Redirect {
                target, dst_addr, ..
            } => write!(f, "redirect, {dst_addr} to {target}"),
            ref r => write!(f, "{}", r.msg_type()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ndisc_option;
    use proptest::prelude::*;

    // tcpdump's icmpv6.pcap, frame 1, bytes 54..230: a router
    // advertisement from fe80::b299:28ff:fec8:d66c to ff02::1 with seven
    // options (tcpdump: "[icmp6 sum ok]").
    const RA: [u8; 176] = [
        0x86, 0x00, 0x24, 0x01, 0x40, 0x20, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x03, 0x04, 0x48, 0xc0, 0x00, 0x27, 0x8d, 0x00, 0x00, 0x09, 0x3a, 0x80, 0x00, 0x00,
        0x00, 0x00, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44, 0x55, 0x55, 0x66, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x19, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xab, 0xcd, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xef, 0xef, 0x12, 0x34, 0x56,
        0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x1f, 0x07,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03,
        0x63, 0x6f, 0x6d, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x6f, 0x72,
        0x67, 0x00, 0x04, 0x64, 0x6f, 0x6d, 0x31, 0x04, 0x64, 0x6f, 0x6d, 0x32, 0x03, 0x74, 0x6c,
        0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x64, 0x01, 0x01, 0xb0, 0x99, 0x28, 0xc8, 0xd6, 0x6c, 0x07, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x13, 0x88, 0x08, 0x01, 0x00, 0x00, 0xc3, 0x51, 0x00, 0x0f,
    ];

    fn src() -> Ipv6Addr {
        "fe80::b299:28ff:fec8:d66c".parse().unwrap()
    }

    #[test]
    fn reads_router_advertisement_and_options() {
        let p = Packet::new_checked(&RA[..]).unwrap();
        assert_eq!(p.msg_type(), Message::RouterAdvert);
        assert!(p.verify_checksum(src(), "ff02::1".parse().unwrap()));
        assert_eq!(p.cur_hop_limit(), 64);
        assert_eq!(p.router_lifetime(), 15);
        let opts: Vec<_> = p.ndisc_options().collect::<Result<_>>().unwrap();
        assert_eq!(opts.len(), 7);
        assert_eq!(
            opts[0],
            ndisc_option::Repr::PrefixInformation {
                prefix_len: 72,
                flags: 0xc0,
                valid_lifetime: 2_592_000,
                preferred_lifetime: 604_800,
                prefix: "2222:3333:4444:5555:6600::".parse().unwrap(),
            }
        );
        assert_eq!(opts[3], ndisc_option::Repr::Mtu(100));
        assert_eq!(
            opts[4],
            ndisc_option::Repr::SourceLinkLayerAddr(&[0xb0, 0x99, 0x28, 0xc8, 0xd6, 0x6c])
        );
        assert_eq!(Repr::parse(&p).unwrap().to_string(), "router advertisement");
    }

    #[test]
    fn short_neighbor_solicitation_is_truncated() {
        let b = [135u8, 0, 0, 0, 0, 0, 0, 0, 0xfd, 0x77];
        let e = Packet::new_checked(&b[..]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert_eq!(e.reason(), Reason::Short { need: 24, have: 10 });
    }

    fn build<'a>(kind: u8, a: u16, b: u16, c: u8, x: u32, t: [u8; 16], data: &'a [u8]) -> Repr<'a> {
        let target = Ipv6Addr::from(t);
        match kind % 12 {
            0 => Repr::EchoRequest {
                ident: a,
                seq_no: b,
                data,
            },
            1 => Repr::EchoReply {
                ident: a,
                seq_no: b,
                data,
            },
            2 => Repr::DstUnreachable {
                reason: c.into(),
                data,
            },
            3 => Repr::PktTooBig { mtu: x, data },
            4 => Repr::TimeExceeded {
                reason: c.into(),
                data,
            },
            5 => Repr::ParamProblem {
                reason: c.into(),
                pointer: x,
                data,
            },
            6 => Repr::RouterSolicit { options: data },
            7 => Repr::RouterAdvert {
                hop_limit: c,
                flags: a as u8,
                router_lifetime: b,
                reachable_time: x,
                retrans_time: !x,
                options: data,
            },
            8 => Repr::NeighborSolicit {
                target,
                options: data,
            },
            9 => Repr::NeighborAdvert {
                flags: c & 0xe0,
                target,
                options: data,
            },
            10 => Repr::Redirect {
                target,
                dst_addr: Ipv6Addr::from(!u128::from(target)),
                options: data,
            },
            _ => Repr::Other {
                msg_type: Message::Unknown(200),
                code: c,
                rest_of_header: x.to_be_bytes(),
                data,
            },
        }
    }

    proptest! {
        #[test]
        fn round_trip(kind in any::<u8>(), a in any::<u16>(), b in any::<u16>(), c in any::<u8>(),
                      x in any::<u32>(), t in any::<[u8; 16]>(),
                      data in proptest::collection::vec(any::<u8>(), 0..40)) {
            let repr = build(kind, a, b, c, x, t, &data);
            let (s, d) = (src(), Ipv6Addr::from(t));
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), s, d).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(s, d));
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn accessors_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.data());
                let _ = p.to_string();
                for o in p.ndisc_options() { let _ = o; }
                if p.check_header_len().is_ok() { let _ = p.rest_of_header(); }
            }
        }
    }
}
