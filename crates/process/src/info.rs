//! `sluice info`: a summary of one capture file, like capinfos — format,
//! sections, interfaces, counts, times, rates and the protocol mix — made
//! in one streaming pass in constant memory.

use serde::Serialize;
use sluice_pcap::{Format, Reader, Record};
use sluice_wire::LinkType;
use sluice_wire::dissect::{Classes, Dissection, dissect_into};

/// What [`summarize`] found in one capture.
///
/// When reading stops on an error, everything read before it is still
/// here and [`Info::error`] says what went wrong and where.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Info {
    /// The file's name as given.
    pub file: String,
    /// `pcap` or `pcapng` (`null` if not even the header could be read).
    pub format: Option<&'static str>,
    /// A description of the encoding: byte order, and for pcap the
    /// timestamp resolution.
    pub encoding: Option<String>,
    /// Sections (pcapng section headers; 1 for pcap).
    pub sections: u64,
    /// Every interface of every section, in order.
    pub interfaces: Vec<InterfaceInfo>,
    /// The distinct linktypes, by name, in order of first appearance.
    pub linktypes: Vec<String>,
    /// Frames.
    pub packets: u64,
    /// Bytes captured (the sum of captured lengths).
    pub bytes: u64,
    /// Bytes on the wire (the sum of original lengths).
    pub bytes_on_wire: u64,
    /// Frames with fewer bytes captured than were on the wire.
    pub truncated: u64,
    /// Smallest captured length.
    pub min_caplen: Option<u32>,
    /// Largest captured length.
    pub max_caplen: Option<u32>,
    /// Earliest timestamp, ns since the epoch.
    pub first_ts: Option<u64>,
    /// Latest timestamp, ns since the epoch.
    pub last_ts: Option<u64>,
    /// Frames whose timestamp is earlier than the frame before them.
    pub out_of_order: u64,
    /// Frames without a timestamp (pcapng simple packet blocks).
    pub without_timestamp: u64,
    /// The protocol mix: frames in which each protocol was found (`None`
    /// when it was not asked for).
    pub protocols: Option<Protocols>,
    /// Interface statistics blocks, in order.
    pub stats: Vec<StatsInfo>,
    /// Name resolution records.
    pub name_records: u64,
    /// Blocks stepped over (decryption secrets, custom, unknown).
    pub skipped_blocks: u64,
    /// Bytes in those blocks.
    pub skipped_bytes: u64,
    /// Records whose captured length exceeded the snapshot length.
    pub caplen_over_snaplen: u64,
    /// Comments on sections and interfaces.
    pub comments: Vec<String>,
    /// Bytes of input read.
    pub file_bytes: u64,
    /// Why reading stopped early, with the byte offset.
    pub error: Option<String>,
}

/// One interface of the capture.
#[derive(Clone, Debug, Serialize)]
pub struct InterfaceInfo {
    /// Section number, from 0.
    pub section: u64,
    /// Interface id within its section.
    pub id: u32,
    /// Linktype value.
    pub linktype: u32,
    /// Linktype name.
    pub linktype_name: String,
    /// Snapshot length (0: none).
    pub snaplen: u32,
    /// `if_name`.
    pub name: Option<String>,
    /// `if_description`.
    pub description: Option<String>,
    /// `if_filter`, when it is libpcap filter text.
    pub filter: Option<String>,
    /// Timestamp units per second, when the resolution is representable.
    pub ts_per_second: Option<u64>,
    /// Frames captured on it.
    pub packets: u64,
}

/// An interface statistics block.
#[derive(Clone, Debug, Serialize)]
pub struct StatsInfo {
    /// Section number, from 0.
    pub section: u64,
    /// Interface id within its section.
    pub interface: u32,
    /// Packets received by the interface.
    pub ifrecv: Option<u64>,
    /// Packets dropped by the interface.
    pub ifdrop: Option<u64>,
    /// Packets dropped by the operating system.
    pub osdrop: Option<u64>,
    /// Packets accepted by the filter.
    pub filteraccept: Option<u64>,
}

/// Frames in which each protocol was found (a frame counts once per
/// protocol it holds: an IPv4 TCP frame counts for ethernet, ipv4 and tcp).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Protocols {
    /// Ethernet.
    pub ethernet: u64,
    /// 802.1Q / 802.1ad tags.
    pub vlan: u64,
    /// ARP and RARP.
    pub arp: u64,
    /// IPv4.
    pub ipv4: u64,
    /// IPv6.
    pub ipv6: u64,
    /// TCP.
    pub tcp: u64,
    /// UDP.
    pub udp: u64,
    /// ICMP.
    pub icmp: u64,
    /// ICMPv6.
    pub icmpv6: u64,
    /// SCTP.
    pub sctp: u64,
    /// MPLS.
    pub mpls: u64,
    /// PPPoE.
    pub pppoe: u64,
    /// 802.2 LLC.
    pub llc: u64,
    /// Linux cooked headers.
    pub sll: u64,
    /// BSD loopback headers.
    pub loopback: u64,
    /// IP-in-IP tunnels.
    pub tunnel: u64,
    /// IPsec (AH, ESP).
    pub ipsec: u64,
    /// IP fragments other than the first.
    pub fragment: u64,
    /// Something not dissected (unknown linktype, EtherType, protocol).
    pub other: u64,
    /// Frames cut by the snapshot length inside a header.
    pub truncated: u64,
    /// Malformed frames.
    pub malformed: u64,
}

impl Protocols {
    /// Counts and names in display order, including zeros.
    pub fn entries(&self) -> [(&'static str, u64); 21] {
        [
            ("ethernet", self.ethernet),
            ("vlan", self.vlan),
            ("arp", self.arp),
            ("ipv4", self.ipv4),
            ("ipv6", self.ipv6),
            ("tcp", self.tcp),
            ("udp", self.udp),
            ("icmp", self.icmp),
            ("icmpv6", self.icmpv6),
            ("sctp", self.sctp),
            ("mpls", self.mpls),
            ("pppoe", self.pppoe),
            ("llc", self.llc),
            ("sll", self.sll),
            ("loopback", self.loopback),
            ("tunnel", self.tunnel),
            ("ipsec", self.ipsec),
            ("fragment", self.fragment),
            ("other", self.other),
            ("truncated", self.truncated),
            ("malformed", self.malformed),
        ]
    }
}

/// A tally of class bit patterns. Frames of one capture fall into few
/// distinct patterns, so counting patterns and expanding them into
/// per-protocol counts at the end keeps the per-frame work to one lookup.
#[derive(Default)]
struct ClassTally {
    patterns: Vec<(u32, u64)>,
    last: usize,
}

impl ClassTally {
    #[inline]
    fn add(&mut self, c: Classes) {
        let bits = c.bits();
        if let Some(slot) = self.patterns.get_mut(self.last)
            && slot.0 == bits
        {
            slot.1 += 1;
            return;
        }
        match self.patterns.iter().position(|p| p.0 == bits) {
            Some(i) => {
                self.patterns[i].1 += 1;
                self.last = i;
            }
            None => {
                self.patterns.push((bits, 1));
                self.last = self.patterns.len() - 1;
            }
        }
    }

    fn protocols(&self) -> Protocols {
        let mut p = Protocols::default();
        for &(bits, n) in &self.patterns {
            let c = Classes::from_bits(bits);
            let fields: [(Classes, &mut u64); 21] = [
                (Classes::ETHERNET, &mut p.ethernet),
                (Classes::VLAN, &mut p.vlan),
                (Classes::ARP, &mut p.arp),
                (Classes::IPV4, &mut p.ipv4),
                (Classes::IPV6, &mut p.ipv6),
                (Classes::TCP, &mut p.tcp),
                (Classes::UDP, &mut p.udp),
                (Classes::ICMP, &mut p.icmp),
                (Classes::ICMPV6, &mut p.icmpv6),
                (Classes::SCTP, &mut p.sctp),
                (Classes::MPLS, &mut p.mpls),
                (Classes::PPPOE, &mut p.pppoe),
                (Classes::LLC, &mut p.llc),
                (Classes::SLL, &mut p.sll),
                (Classes::LOOPBACK, &mut p.loopback),
                (Classes::TUNNEL, &mut p.tunnel),
                (Classes::IPSEC, &mut p.ipsec),
                (Classes::FRAGMENT, &mut p.fragment),
                (Classes::OTHER, &mut p.other),
                (Classes::TRUNCATED, &mut p.truncated),
                (Classes::MALFORMED, &mut p.malformed),
            ];
            for (class, count) in fields {
                if c.contains(class) {
                    *count += n;
                }
            }
        }
        p
    }
}

/// Reads the whole capture and summarises it, with the protocol mix when
/// `protocol_mix` is set (without it only record headers are read, as
/// capinfos does). `progress` is called now and then with the number of
/// input bytes consumed so far.
///
/// Memory stays bounded whatever the file's size: the reader's buffer, one
/// dissection, and per-interface counters.
pub fn summarize(
    reader: &mut Reader,
    file: &str,
    protocol_mix: bool,
    progress: &mut dyn FnMut(u64),
) -> Info {
    let mut info = Info {
        file: file.to_string(),
        ..Info::default()
    };
    let mut tally = ClassTally::default();
    let mut dissection = Dissection::new();
    // Index into `info.interfaces` of the current section's interface 0.
    let mut section_base = 0usize;
    let mut prev_ts: Option<u64> = None;
    let mut since_progress = 0u32;
    let mut pending_ts: Option<u64> = None;
    let mut without_ts_seen = 0u64;

    while let Some(record) = reader.next_record() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                info.error = Some(e.to_string());
                break;
            }
        };
        match record {
            Record::Section(section) => {
                info.sections += 1;
                section_base = info.interfaces.len();
                if info.format.is_none() {
                    info.format = Some(section.format.name());
                    info.encoding = Some(match section.format {
                        Format::Pcap => format!(
                            "{}-endian, {}{}",
                            endian_name(section.endian),
                            if section.nanosecond {
                                "nanoseconds"
                            } else {
                                "microseconds"
                            },
                            if section.modified {
                                ", modified record layout"
                            } else {
                                ""
                            }
                        ),
                        Format::PcapNg => format!(
                            "{}-endian, version {}.{}",
                            endian_name(section.endian),
                            section.major,
                            section.minor
                        ),
                    });
                }
                info.comments.extend(section.comments.iter().cloned());
            }
            Record::Interface { id, interface } => {
                let name = interface.linktype.to_string();
                if !info.linktypes.contains(&name) {
                    info.linktypes.push(name.clone());
                }
                info.comments.extend(interface.comments.iter().cloned());
                info.interfaces.push(InterfaceInfo {
                    section: info.sections.saturating_sub(1),
                    id,
                    linktype: interface.linktype.0,
                    linktype_name: name,
                    snaplen: interface.snaplen,
                    name: interface.name.clone(),
                    description: interface.description.clone(),
                    filter: interface.filter.as_ref().and_then(|(kind, text)| {
                        (*kind == 0).then(|| String::from_utf8_lossy(text).into_owned())
                    }),
                    ts_per_second: interface.tsresol.units_per_second(),
                    packets: 0,
                });
            }
            Record::Frame(frame) => {
                let caplen = frame.caplen();
                info.packets += 1;
                info.bytes += u64::from(caplen);
                info.bytes_on_wire += u64::from(frame.origlen.max(caplen));
                if frame.is_truncated() {
                    info.truncated += 1;
                }
                info.min_caplen = Some(info.min_caplen.map_or(caplen, |m| m.min(caplen)));
                info.max_caplen = Some(info.max_caplen.map_or(caplen, |m| m.max(caplen)));
                if let Some(iface) = info
                    .interfaces
                    .get_mut(section_base + frame.interface_id as usize)
                {
                    iface.packets += 1;
                }
                pending_ts = Some(frame.ts_ns);
                if protocol_mix {
                    dissect_into(
                        &mut dissection,
                        frame.linktype,
                        frame.data,
                        frame.origlen as usize,
                    );
                    tally.add(dissection.classes());
                }
                since_progress += 1;
            }
            Record::Stats(stats) => info.stats.push(StatsInfo {
                section: info.sections.saturating_sub(1),
                interface: stats.interface_id,
                ifrecv: stats.ifrecv,
                ifdrop: stats.ifdrop,
                osdrop: stats.osdrop,
                filteraccept: stats.filteraccept,
            }),
            Record::Names(names) => info.name_records += names.entries.len() as u64,
            Record::Skipped(_) | Record::Truncated(_) => {}
        }
        if let Some(ts) = pending_ts.take() {
            // A frame without a timestamp (a simple packet block) is
            // counted by the reader and left out of the time span.
            let no_ts = reader.counts().frames_without_timestamp;
            if no_ts == without_ts_seen {
                info.first_ts = Some(info.first_ts.map_or(ts, |f| f.min(ts)));
                info.last_ts = Some(info.last_ts.map_or(ts, |l| l.max(ts)));
                if prev_ts.is_some_and(|p| ts < p) {
                    info.out_of_order += 1;
                }
                prev_ts = Some(ts);
            }
            without_ts_seen = no_ts;
        }
        if since_progress >= 65_536 {
            since_progress = 0;
            progress(reader.position());
        }
    }
    let counts = reader.counts();
    info.without_timestamp = counts.frames_without_timestamp;
    info.skipped_blocks = counts.skipped_blocks;
    info.skipped_bytes = counts.skipped_bytes;
    info.caplen_over_snaplen = counts.caplen_over_snaplen;
    info.file_bytes = reader.position();
    if counts.truncated > 0 && info.error.is_none() {
        info.error = Some(format!(
            "the input ends inside a record ({} record(s) cut short)",
            counts.truncated
        ));
    }
    info.protocols = protocol_mix.then(|| tally.protocols());
    progress(reader.position());
    info
}

fn endian_name(e: sluice_pcap::Endian) -> &'static str {
    match e {
        sluice_pcap::Endian::Little => "little",
        sluice_pcap::Endian::Big => "big",
    }
}

impl Info {
    /// Capture duration in nanoseconds (last minus first timestamp).
    pub fn duration_ns(&self) -> Option<u64> {
        Some(self.last_ts?.saturating_sub(self.first_ts?))
    }

    /// Mean captured bytes per frame.
    pub fn average_size(&self) -> Option<f64> {
        (self.packets > 0).then(|| self.bytes as f64 / self.packets as f64)
    }

    /// Frames per second over the capture's duration.
    pub fn packet_rate(&self) -> Option<f64> {
        let d = self.duration_ns()?;
        (d > 0).then(|| self.packets as f64 * 1e9 / d as f64)
    }

    /// Captured bytes per second over the capture's duration.
    pub fn byte_rate(&self) -> Option<f64> {
        let d = self.duration_ns()?;
        (d > 0).then(|| self.bytes as f64 * 1e9 / d as f64)
    }

    /// The linktypes as values.
    pub fn linktype_values(&self) -> Vec<LinkType> {
        let mut v: Vec<LinkType> = Vec::new();
        for i in &self.interfaces {
            let lt = LinkType(i.linktype);
            if !v.contains(&lt) {
                v.push(lt);
            }
        }
        v
    }

    /// The summary as one JSON object (the machine form of `sluice info`),
    /// with derived figures added.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = v.as_object_mut() {
            obj.insert("duration_ns".into(), self.duration_ns().into());
            obj.insert("average_size".into(), self.average_size().into());
            obj.insert("packet_rate".into(), self.packet_rate().into());
            obj.insert("byte_rate".into(), self.byte_rate().into());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_pcap::{Interface, ReaderOptions, RecordMeta, Writer, WriterOptions};

    fn eth_ipv4_udp() -> Vec<u8> {
        let mut f = vec![
            0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, // ethernet
            0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2, // ipv4
            0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0, // udp
        ];
        let sum = sluice_wire::checksum::data(&f[14..34]);
        f[24..26].copy_from_slice(&(!sum).to_be_bytes());
        f
    }

    fn write(format: Format, frames: &[(u64, Vec<u8>, u32)]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), WriterOptions::new(format).nanos(true)).unwrap();
        w.add_interface(&Interface::new(LinkType::ETHERNET, 65535))
            .unwrap();
        for (ts, data, orig) in frames {
            let meta = RecordMeta {
                interface_id: 0,
                ts_ns: *ts,
                origlen: *orig,
                ..RecordMeta::default()
            };
            w.write_packet(&meta, data).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn counts_times_and_protocols() {
        let f = eth_ipv4_udp();
        let n = f.len() as u32;
        for format in [Format::Pcap, Format::PcapNg] {
            let bytes = write(
                format,
                &[
                    (3_000_000_000, f.clone(), n),
                    (1_000_000_000, f.clone(), n),
                    (5_000_000_001, f[..36].to_vec(), n),
                ],
            );
            let mut r = Reader::from_bytes(bytes, ReaderOptions::default());
            let info = summarize(&mut r, "t", true, &mut |_| {});
            assert_eq!(info.error, None);
            assert_eq!(info.packets, 3);
            assert_eq!(info.bytes, u64::from(2 * n + 36));
            assert_eq!(info.bytes_on_wire, u64::from(3 * n));
            assert_eq!(info.truncated, 1);
            assert_eq!(info.first_ts, Some(1_000_000_000));
            assert_eq!(info.last_ts, Some(5_000_000_001));
            assert_eq!(info.out_of_order, 1);
            assert_eq!(info.linktypes, vec!["EN10MB".to_string()]);
            assert_eq!(info.protocols.as_ref().unwrap().ethernet, 3);
            assert_eq!(info.protocols.as_ref().unwrap().ipv4, 3);
            assert_eq!(info.protocols.as_ref().unwrap().udp, 2);
            assert_eq!(info.protocols.as_ref().unwrap().truncated, 1);
            assert_eq!(info.interfaces[0].packets, 3);
            assert_eq!(info.duration_ns(), Some(4_000_000_001));
            let json = info.to_json();
            assert_eq!(json["packets"], 3);
            assert_eq!(json["first_ts"], 1_000_000_000u64);
            assert_eq!(json["protocols"]["udp"], 2);
        }
    }

    #[test]
    fn keeps_what_was_read_before_an_error() {
        let f = eth_ipv4_udp();
        let n = f.len() as u32;
        let mut bytes = write(Format::Pcap, &[(1, f.clone(), n), (2, f, n)]);
        // Corrupt the second record's captured length.
        let second = 24 + 16 + n as usize;
        bytes[second + 8..second + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        let mut r = Reader::from_bytes(bytes, ReaderOptions::default());
        let info = summarize(&mut r, "t", true, &mut |_| {});
        assert_eq!(info.packets, 1);
        let err = info.error.expect("an error");
        assert!(err.contains(&second.to_string()), "{err}");
    }
}
