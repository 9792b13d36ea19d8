//! ICMP for IPv4 (RFC 792): echo, destination unreachable, time exceeded,
//! redirect, parameter problem and the rest by type and code.
//!
//! Error messages carry the start of the datagram that caused them (its IP
//! header and at least 8 bytes); [`Packet::invoking_packet`] gives a
//! checked IPv4 view of it.

use core::fmt;
use core::net::Ipv4Addr;

use crate::checksum;
use crate::error::{Error, Protocol, Result};
use crate::ipv4;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const UNUSED: Field = 4..8;
    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQNO: Field = 6..8;
    pub const POINTER: usize = 4;
    pub const GATEWAY: Field = 4..8;
    pub const MTU: Field = 6..8;
    pub const DATA: usize = UNUSED.end;
}

/// Length of the ICMPv4 header (type, code, checksum and the 4-byte
/// type-specific field).
pub const HEADER_LEN: usize = field::DATA;

crate::enum_with_unknown! {
    /// ICMPv4 message type.
    pub enum Message(u8) {
        /// Echo reply.
        EchoReply = 0,
        /// Destination unreachable.
        DstUnreachable = 3,
        /// Source quench (deprecated).
        SourceQuench = 4,
        /// Redirect.
        Redirect = 5,
        /// Echo request.
        EchoRequest = 8,
        /// Router advertisement.
        RouterAdvert = 9,
        /// Router solicitation.
        RouterSolicit = 10,
        /// Time exceeded.
        TimeExceeded = 11,
        /// Parameter problem.
        ParamProblem = 12,
        /// Timestamp request.
        Timestamp = 13,
        /// Timestamp reply.
        TimestampReply = 14,
        /// Information request (obsolete).
        InfoRequest = 15,
        /// Information reply (obsolete).
        InfoReply = 16,
        /// Address mask request.
        AddressMaskRequest = 17,
        /// Address mask reply.
        AddressMaskReply = 18,
    }
}

impl Message {
    /// True for error messages, which carry the invoking datagram.
    pub fn is_error(self) -> bool {
        matches!(
            self,
            Message::DstUnreachable
                | Message::SourceQuench
                | Message::Redirect
                | Message::TimeExceeded
                | Message::ParamProblem
        )
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::EchoReply => f.write_str("echo reply"),
            Message::DstUnreachable => f.write_str("destination unreachable"),
            Message::SourceQuench => f.write_str("source quench"),
            Message::Redirect => f.write_str("redirect"),
            Message::EchoRequest => f.write_str("echo request"),
            Message::RouterAdvert => f.write_str("router advertisement"),
            Message::RouterSolicit => f.write_str("router solicitation"),
            Message::TimeExceeded => f.write_str("time exceeded"),
            Message::ParamProblem => f.write_str("parameter problem"),
            Message::Timestamp => f.write_str("time stamp query"),
            Message::TimestampReply => f.write_str("time stamp reply"),
            Message::InfoRequest => f.write_str("information request"),
            Message::InfoReply => f.write_str("information reply"),
            Message::AddressMaskRequest => f.write_str("address mask request"),
            Message::AddressMaskReply => f.write_str("address mask reply"),
            Message::Unknown(t) => write!(f, "type-#{t}"),
        }
    }
}

crate::enum_with_unknown! {
    /// Destination unreachable codes.
    pub enum DstUnreachable(u8) {
        /// Network unreachable.
        NetUnreachable = 0,
        /// Host unreachable.
        HostUnreachable = 1,
        /// Protocol unreachable.
        ProtoUnreachable = 2,
        /// Port unreachable.
        PortUnreachable = 3,
        /// Fragmentation needed and DF set.
        FragRequired = 4,
        /// Source route failed.
        SrcRouteFailed = 5,
        /// Destination network unknown.
        DstNetUnknown = 6,
        /// Destination host unknown.
        DstHostUnknown = 7,
        /// Source host isolated.
        SrcHostIsolated = 8,
        /// Network administratively prohibited.
        NetProhibited = 9,
        /// Host administratively prohibited.
        HostProhibited = 10,
        /// Network unreachable for ToS.
        NetUnreachToS = 11,
        /// Host unreachable for ToS.
        HostUnreachToS = 12,
        /// Communication administratively prohibited.
        CommProhibited = 13,
        /// Host precedence violation.
        HostPrecedViol = 14,
        /// Precedence cutoff in effect.
        PrecedCutoff = 15,
    }
}

crate::enum_with_unknown! {
    /// Time exceeded codes.
    pub enum TimeExceeded(u8) {
        /// TTL expired in transit.
        TtlExpired = 0,
        /// Fragment reassembly time exceeded.
        FragExpired = 1,
    }
}

crate::enum_with_unknown! {
    /// Redirect codes.
    pub enum Redirect(u8) {
        /// Redirect for the network.
        Net = 0,
        /// Redirect for the host.
        Host = 1,
        /// Redirect for type of service and network.
        TosNet = 2,
        /// Redirect for type of service and host.
        TosHost = 3,
    }
}

crate::enum_with_unknown! {
    /// Parameter problem codes.
    pub enum ParamProblem(u8) {
        /// The pointer indicates the error.
        Pointer = 0,
        /// A required option is missing.
        MissingOption = 1,
        /// Bad length.
        BadLength = 2,
    }
}

/// A read/write view of an ICMPv4 message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the 8-byte header fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 8-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Icmpv4, HEADER_LEN, len))
        } else {
            Ok(())
        }
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

    /// Echo identifier (echo, timestamp, information and mask messages).
    pub fn echo_ident(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    /// Echo sequence number.
    pub fn echo_seq_no(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ECHO_SEQNO])
    }

    /// Parameter problem pointer.
    pub fn pointer(&self) -> u8 {
        self.buffer.as_ref()[field::POINTER]
    }

    /// Redirect gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::GATEWAY];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Next-hop MTU of a "fragmentation needed" message (RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::MTU])
    }

    /// The four type-specific bytes after the checksum.
    pub fn rest_of_header(&self) -> [u8; 4] {
        let b = &self.buffer.as_ref()[field::UNUSED];
        [b[0], b[1], b[2], b[3]]
    }

    /// The bytes after the 8-byte header (echo data, or the invoking
    /// datagram of an error).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..]
    }

    /// The invoking datagram of an error message as a checked IPv4 view.
    pub fn invoking_packet(&self) -> Result<ipv4::Packet<&[u8]>> {
        ipv4::Packet::new_checked(self.data()).map_err(|e| e.shifted(field::DATA))
    }

    /// True if the checksum over the whole buffer is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify_icmpv4(self.buffer.as_ref())
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

    /// Sets the echo identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::ECHO_IDENT], v);
    }

    /// Sets the echo sequence number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::ECHO_SEQNO], v);
    }

    /// Sets the four type-specific bytes.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        self.buffer.as_mut()[field::UNUSED].copy_from_slice(&v);
    }

    /// The data after the header, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::DATA..]
    }

    /// Computes and stores the checksum over the whole buffer.
    pub fn fill_checksum(&mut self) {
        let c = checksum::icmpv4(self.buffer.as_ref());
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(&Packet::new_unchecked(self.buffer.as_ref())) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ICMP ({e})"),
        }
    }
}

/// The parsed contents of an ICMPv4 message.
///
/// The `data` of echo messages is their payload; the `data` of errors is
/// the invoking datagram. `parse` does not check the checksum (see
/// [`Packet::verify_checksum`]); `emit` computes it.
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
        /// Next-hop MTU (for `FragRequired`, else 0).
        next_hop_mtu: u16,
        /// The invoking datagram.
        data: &'a [u8],
    },
    /// Time exceeded.
    TimeExceeded {
        /// Why.
        reason: TimeExceeded,
        /// The invoking datagram.
        data: &'a [u8],
    },
    /// Redirect.
    Redirect {
        /// Why.
        reason: Redirect,
        /// The better gateway.
        gateway: Ipv4Addr,
        /// The invoking datagram.
        data: &'a [u8],
    },
    /// Parameter problem.
    ParamProblem {
        /// Why.
        reason: ParamProblem,
        /// Byte where the problem is.
        pointer: u8,
        /// The invoking datagram.
        data: &'a [u8],
    },
    /// Any other message, kept whole.
    Other {
        /// Type.
        msg_type: Message,
        /// Code.
        code: u8,
        /// The four type-specific bytes.
        rest_of_header: [u8; 4],
        /// The bytes after the header.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Reads a checked message.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        packet.check_len()?;
        let data: &'a [u8] = &T::as_ref(packet.buffer)[field::DATA..];
        let code = packet.msg_code();
        Ok(match (packet.msg_type(), code) {
            (Message::EchoRequest, 0) => Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            (Message::EchoReply, 0) => Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            (Message::DstUnreachable, _) if be::u16(&packet.rest_of_header()) == 0 => {
                Repr::DstUnreachable {
                    reason: code.into(),
                    next_hop_mtu: packet.next_hop_mtu(),
                    data,
                }
            }
            (Message::TimeExceeded, _) if packet.rest_of_header() == [0; 4] => Repr::TimeExceeded {
                reason: code.into(),
                data,
            },
            (Message::Redirect, _) => Repr::Redirect {
                reason: code.into(),
                gateway: packet.gateway(),
                data,
            },
            (Message::ParamProblem, _) if packet.rest_of_header()[1..] == [0; 3] => {
                Repr::ParamProblem {
                    reason: code.into(),
                    pointer: packet.pointer(),
                    data,
                }
            }
            (msg_type, code) => Repr::Other {
                msg_type,
                code,
                rest_of_header: packet.rest_of_header(),
                data,
            },
        })
    }

    /// The bytes after the header.
    pub fn data(&self) -> &'a [u8] {
        match *self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::DstUnreachable { data, .. }
            | Repr::TimeExceeded { data, .. }
            | Repr::Redirect { data, .. }
            | Repr::ParamProblem { data, .. }
            | Repr::Other { data, .. } => data,
        }
    }

    /// Bytes [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Writes the message with a correct checksum.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        let (t, code, rest) = match *self {
            Repr::EchoRequest { ident, seq_no, .. } => {
                (Message::EchoRequest, 0, echo(ident, seq_no))
            }
            Repr::EchoReply { ident, seq_no, .. } => (Message::EchoReply, 0, echo(ident, seq_no)),
            Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                let m = next_hop_mtu.to_be_bytes();
                (Message::DstUnreachable, reason.into(), [0, 0, m[0], m[1]])
            }
            Repr::TimeExceeded { reason, .. } => (Message::TimeExceeded, reason.into(), [0; 4]),
            Repr::Redirect {
                reason, gateway, ..
            } => (Message::Redirect, reason.into(), gateway.octets()),
            Repr::ParamProblem {
                reason, pointer, ..
            } => (Message::ParamProblem, reason.into(), [pointer, 0, 0, 0]),
            Repr::Other {
                msg_type,
                code,
                rest_of_header,
                ..
            } => (msg_type, code, rest_of_header),
        };
        packet.set_msg_type(t);
        packet.set_msg_code(code);
        packet.set_rest_of_header(rest);
        let data = self.data();
        packet.data_mut()[..data.len()].copy_from_slice(data);
        packet.set_checksum(0);
        let n = self.buffer_len();
        let c = checksum::icmpv4(&packet.buffer.as_ref()[..n]);
        packet.set_checksum(c);
    }
}

fn echo(ident: u16, seq_no: u16) -> [u8; 4] {
    let i = ident.to_be_bytes();
    let s = seq_no.to_be_bytes();
    [i[0], i[1], s[0], s[1]]
}

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => write!(
                f,
                "ICMP echo request, id {ident}, seq {seq_no}, length {}",
                data.len() + HEADER_LEN
            ),
            Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => write!(
                f,
                "ICMP echo reply, id {ident}, seq {seq_no}, length {}",
                data.len() + HEADER_LEN
            ),
            Repr::DstUnreachable { reason, .. } => {
                write!(f, "ICMP destination unreachable ({})", u8::from(reason))
            }
            Repr::TimeExceeded { reason, .. } => {
                write!(f, "ICMP time exceeded ({})", u8::from(reason))
            }
            Repr::Redirect { gateway, .. } => write!(f, "ICMP redirect to {gateway}"),
            Repr::ParamProblem { pointer, .. } => {
                write!(f, "ICMP parameter problem - octet {pointer}")
            }
            Repr::Other { msg_type, code, .. } => write!(f, "ICMP {msg_type}, code {code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's e1000g.pcap, frame 1, bytes 44..108: an echo request
    // (id 6901, seq 0) with 56 bytes of data.
    const ECHO: [u8; 64] = [
        0x08, 0x00, 0x32, 0xe2, 0x1a, 0xf5, 0x00, 0x00, 0xed, 0x76, 0x0d, 0x4b, 0xb9, 0x63, 0x0b,
        0x00, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24,
        0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ];

    // tcpdump's afs.pcap, frame 29, bytes 34..70: port unreachable with the
    // start of the invoking UDP datagram (the capture holds all of it; the
    // checksum covers all of it, so it is not checked here).
    const UNREACH: [u8; 36] = [
        0x03, 0x03, 0x27, 0x31, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x01, 0xb8, 0xcb, 0x91, 0x40,
        0x00, 0xfe, 0x11, 0x87, 0x24, 0x83, 0x97, 0x01, 0x3b, 0x83, 0x97, 0x20, 0x15, 0x1b, 0x5b,
        0x07, 0x00, 0x01, 0xa4, 0xae, 0x1e,
    ];

    #[test]
    fn reads_echo() {
        let p = Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.msg_type(), Message::EchoRequest);
        assert_eq!(p.echo_ident(), 6901);
        assert_eq!(p.echo_seq_no(), 0);
        assert!(p.verify_checksum());
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r.to_string(),
            "ICMP echo request, id 6901, seq 0, length 64"
        );
        let mut b = ECHO;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_echo_seq_no(1);
        assert!(!p.verify_checksum());
        p.fill_checksum();
        assert!(p.verify_checksum());
    }

    #[test]
    fn reads_port_unreachable_with_invoking_header() {
        let p = Packet::new_checked(&UNREACH[..]).unwrap();
        match Repr::parse(&p).unwrap() {
            Repr::DstUnreachable { reason, data, .. } => {
                assert_eq!(reason, DstUnreachable::PortUnreachable);
                assert_eq!(data.len(), 28);
            }
            other => panic!("{other:?}"),
        }
        let inner = p.invoking_packet().unwrap();
        assert_eq!(inner.src_addr(), Ipv4Addr::new(131, 151, 1, 59));
        assert_eq!(inner.dst_addr(), Ipv4Addr::new(131, 151, 32, 21));
        assert_eq!(inner.protocol(), crate::IpProtocol::Udp);
        assert_eq!(inner.payload(), &UNREACH[28..36]);
        let e = Packet::new_checked(&UNREACH[..20])
            .unwrap()
            .invoking_packet()
            .unwrap_err();
        assert_eq!(e.offset(), 8);
    }

    #[test]
    fn codes_keep_unknown_values() {
        assert_eq!(DstUnreachable::from(99), DstUnreachable::Unknown(99));
        assert_eq!(Message::from(42).to_string(), "type-#42");
        assert!(Message::TimeExceeded.is_error());
    }

    fn build(kind: u8, a: u16, b: u16, c: u8, rest: [u8; 4], data: &[u8]) -> Repr<'_> {
        match kind % 7 {
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
                next_hop_mtu: b,
                data,
            },
            3 => Repr::TimeExceeded {
                reason: c.into(),
                data,
            },
            4 => Repr::Redirect {
                reason: c.into(),
                gateway: rest.into(),
                data,
            },
            5 => Repr::ParamProblem {
                reason: c.into(),
                pointer: rest[0],
                data,
            },
            // Types without a dedicated variant.
            _ => Repr::Other {
                msg_type: [13u8, 14, 17, 18, 42][usize::from(rest[0] % 5)].into(),
                code: c,
                rest_of_header: rest,
                data,
            },
        }
    }

    proptest! {
        #[test]
        fn round_trip(kind in any::<u8>(), a in any::<u16>(), b in any::<u16>(), c in any::<u8>(),
                      rest in any::<[u8; 4]>(), data in proptest::collection::vec(any::<u8>(), 0..40)) {
            let repr = build(kind, a, b, c, rest, &data);
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }
    }
}
