//! A node that does not exist: it answers ARP and ICMP echo (and IPv6
//! neighbour solicitation and ICMPv6 echo) for its addresses, so `ping`
//! works towards it (`sluice echo --ip ADDR`).
//!
//! Requests it answers are consumed (the reply goes back towards the side
//! the request came from); everything else passes. In wire mode frames are
//! Ethernet (one VLAN tag is kept in the reply). In host mode they are bare
//! IP packets ([`LinkType::RAW`]): there is no link layer, so no ARP and no
//! neighbour discovery — the host must route the node's address somewhere
//! (an on-link subnet of an interface, a route out of one) so that its
//! echo requests reach the OUTPUT hook (or FORWARD, on a router), and the
//! reply, from the node's address to the sender, is injected towards the
//! host. [`Echo::filter_for`] gives the redirect filter that selects what
//! the node may answer in either mode, so all other traffic takes the fast
//! path.

use core::net::{Ipv4Addr, Ipv6Addr};

use sluice_wire::{IpProtocol, LinkType, checksum};

use crate::frame::FrameMut;
use crate::handler::{Context, Handler, Verdict};

/// Who the node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EchoConfig {
    /// Its IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// Its IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
    /// Its MAC address.
    pub mac: [u8; 6],
}

impl EchoConfig {
    /// A node with these addresses and a locally administered MAC address
    /// derived from them (`02:ec:` + the last four bytes of the IPv4
    /// address, or of the IPv6 address without one).
    pub fn new(ipv4: Option<Ipv4Addr>, ipv6: Option<Ipv6Addr>) -> EchoConfig {
        let tail: [u8; 4] = match (ipv4, ipv6) {
            (Some(a), _) => a.octets(),
            (None, Some(a)) => {
                let o = a.octets();
                [o[12], o[13], o[14], o[15]]
            }
            (None, None) => [0; 4],
        };
        EchoConfig {
            ipv4,
            ipv6,
            mac: [0x02, 0xec, tail[0], tail[1], tail[2], tail[3]],
        }
    }
}

/// What the node answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EchoStats {
    /// ARP replies sent.
    pub arp: u64,
    /// ICMP echo replies sent.
    pub icmp: u64,
    /// IPv6 neighbour advertisements sent.
    pub ndp: u64,
    /// ICMPv6 echo replies sent.
    pub icmp6: u64,
    /// Frames for the node that it could not answer (malformed, other
    /// protocols): passed on.
    pub ignored: u64,
}

/// The echo node (see the module documentation).
#[derive(Clone, Debug)]
pub struct Echo {
    config: EchoConfig,
    /// What it answered so far.
    pub stats: EchoStats,
}

const ETH: usize = 14;

impl Echo {
    /// A node as `config` says.
    pub fn new(config: EchoConfig) -> Echo {
        Echo {
            config,
            stats: EchoStats::default(),
        }
    }

    /// The node's configuration.
    pub fn config(&self) -> &EchoConfig {
        &self.config
    }

    /// A redirect filter that selects the Ethernet frames the node may
    /// answer (wire mode): [`Echo::filter_for`] with
    /// [`LinkType::ETHERNET`].
    pub fn filter(&self) -> String {
        self.filter_for(LinkType::ETHERNET)
    }

    /// A redirect filter that selects the frames of `linktype` the node
    /// may answer. On Ethernet (wire mode): ARP, ICMP echo to its IPv4
    /// address and all of ICMPv6 (neighbour solicitations go to a
    /// multicast address; the handler looks at the target). On bare IP
    /// (host mode, [`LinkType::RAW`]), where neither ARP nor neighbour
    /// discovery exist: ICMP and ICMPv6 to its addresses.
    pub fn filter_for(&self, linktype: LinkType) -> String {
        let mut parts = Vec::new();
        if linktype == LinkType::ETHERNET {
            if let Some(a) = self.config.ipv4 {
                parts.push(format!("arp or (icmp and dst host {a})"));
            }
            if self.config.ipv6.is_some() {
                parts.push("icmp6".to_string());
            }
            if parts.is_empty() {
                return "arp or icmp or icmp6".into();
            }
        } else {
            if let Some(a) = self.config.ipv4 {
                parts.push(format!("(icmp and dst host {a})"));
            }
            if let Some(a) = self.config.ipv6 {
                parts.push(format!("(icmp6 and dst host {a})"));
            }
            if parts.is_empty() {
                return "icmp or icmp6".into();
            }
        }
        parts.join(" or ")
    }

    /// The reply to a frame (as bytes), if the node answers it.
    pub fn reply(&mut self, frame: &[u8], linktype: LinkType) -> Option<Vec<u8>> {
        if linktype == LinkType::ETHERNET {
            self.reply_ethernet(frame)
        } else {
            // Host mode: bare IP.
            match frame.first().map(|b| b >> 4) {
                Some(4) => self.reply_ipv4(frame, 0),
                Some(6) => self.reply_ipv6(frame, 0),
                _ => None,
            }
        }
    }

    fn reply_ethernet(&mut self, f: &[u8]) -> Option<Vec<u8>> {
        if f.len() < ETH {
            return None;
        }
        let mut l3 = ETH;
        let mut ethertype = u16::from_be_bytes([f[12], f[13]]);
        if matches!(ethertype, 0x8100 | 0x88a8) {
            if f.len() < ETH + 4 {
                return None;
            }
            ethertype = u16::from_be_bytes([f[16], f[17]]);
            l3 += 4;
        }
        let mut out = match ethertype {
            0x0806 => self.reply_arp(f, l3)?,
            0x0800 => self.reply_ipv4(f, l3)?,
            0x86dd => self.reply_ipv6(f, l3)?,
            _ => return None,
        };
        // Link header: back to the sender, from the node; the tag kept.
        let (mut dst, tag) = (f[6..12].to_vec(), f[12..l3].to_vec());
        if ethertype == 0x86dd && out.get(l3 + 24) == Some(&0xff) {
            // To an IPv6 multicast group (a reply to duplicate address
            // detection): its multicast MAC address.
            dst = vec![0x33, 0x33];
            dst.extend_from_slice(&out[l3 + 36..l3 + 40]);
        }
        out[..6].copy_from_slice(&dst);
        out[6..12].copy_from_slice(&self.config.mac);
        out[12..l3].copy_from_slice(&tag);
        Some(out)
    }

    fn reply_arp(&mut self, f: &[u8], l3: usize) -> Option<Vec<u8>> {
        let me = self.config.ipv4?;
        let a = f.get(l3..l3 + 28)?;
        // Ethernet/IPv4 request (htype 1, ptype 0x0800, 6, 4, op 1).
        if a[..8] != [0, 1, 8, 0, 6, 4, 0, 1] {
            return None;
        }
        if a[24..28] != me.octets() {
            return None;
        }
        let mut out = f[..l3 + 28].to_vec();
        let r = &mut out[l3..];
        r[7] = 2;
        let (sha, spa) = (a[8..14].to_vec(), a[14..18].to_vec());
        r[8..14].copy_from_slice(&self.config.mac);
        r[14..18].copy_from_slice(&me.octets());
        r[18..24].copy_from_slice(&sha);
        r[24..28].copy_from_slice(&spa);
        out.resize(out.len().max(60), 0);
        self.stats.arp += 1;
        Some(out)
    }

    fn reply_ipv4(&mut self, f: &[u8], l3: usize) -> Option<Vec<u8>> {
        let me = self.config.ipv4?;
        let ip = f.get(l3..)?;
        if ip.len() < 20 || ip[0] >> 4 != 4 || ip[16..20] != me.octets() {
            return None;
        }
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if ihl < 20 || total < ihl + 8 || total > ip.len() || ip[9] != 1 {
            self.stats.ignored += 1;
            return None;
        }
        // Fragments are not answered.
        if u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0 {
            self.stats.ignored += 1;
            return None;
        }
        let icmp = &ip[ihl..total];
        if icmp[0] != 8 || icmp[1] != 0 {
            self.stats.ignored += 1;
            return None;
        }
        let mut out = f[..l3 + total].to_vec();
        let r = &mut out[l3..];
        let (src, dst) = (r[12..16].to_vec(), r[16..20].to_vec());
        r[12..16].copy_from_slice(&dst);
        r[16..20].copy_from_slice(&src);
        r[8] = 64;
        r[10..12].fill(0);
        let c = checksum::ipv4_header(&r[..ihl]);
        r[10..12].copy_from_slice(&c.to_be_bytes());
        let m = &mut r[ihl..];
        m[0] = 0;
        m[2..4].fill(0);
        let c = checksum::icmpv4(m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
        if l3 > 0 {
            out.resize(out.len().max(60), 0);
        }
        self.stats.icmp += 1;
        Some(out)
    }

    fn reply_ipv6(&mut self, f: &[u8], l3: usize) -> Option<Vec<u8>> {
        let me = self.config.ipv6?;
        let ip = f.get(l3..l3 + 40)?;
        if ip[0] >> 4 != 6 || ip[6] != 58 {
            return None;
        }
        let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let body = f.get(l3 + 40..l3 + 40 + plen)?;
        if body.len() < 8 {
            return None;
        }
        let src: [u8; 16] = ip[8..24].try_into().ok()?;
        let dst: [u8; 16] = ip[24..40].try_into().ok()?;
        match body[0] {
            // Neighbour solicitation for our address; only where there is
            // a link layer (not on bare IP in host mode).
            135 if l3 > 0 && body.len() >= 24 && body[8..24] == me.octets() && ip[7] == 255 => {
                let unspecified = src == [0; 16];
                let to: [u8; 16] = if unspecified {
                    Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1).octets()
                } else {
                    src
                };
                let mut out = vec![0u8; l3 + 40 + 32];
                out[..l3].copy_from_slice(&f[..l3]);
                let r = &mut out[l3..];
                r[0] = 0x60;
                r[4..6].copy_from_slice(&32u16.to_be_bytes());
                r[6] = 58;
                r[7] = 255;
                r[8..24].copy_from_slice(&me.octets());
                r[24..40].copy_from_slice(&to);
                let m = &mut r[40..];
                m[0] = 136;
                // Solicited (unless answering DAD) and override.
                m[4] = if unspecified { 0x20 } else { 0x60 };
                m[8..24].copy_from_slice(&me.octets());
                m[24] = 2; // target link-layer address
                m[25] = 1;
                m[26..32].copy_from_slice(&self.config.mac);
                finish_icmp6(&mut out[l3..]);
                self.stats.ndp += 1;
                Some(out)
            }
            // Echo request to our address.
            128 if dst == me.octets() && body[1] == 0 => {
                let mut out = f[..l3 + 40 + plen].to_vec();
                let r = &mut out[l3..];
                r[8..24].copy_from_slice(&me.octets());
                r[24..40].copy_from_slice(&src);
                r[7] = 64;
                r[40] = 129;
                finish_icmp6(&mut out[l3..]);
                self.stats.icmp6 += 1;
                Some(out)
            }
            _ => None,
        }
    }
}

/// Fills the ICMPv6 checksum of a bare IPv6 packet with no extension
/// headers.
fn finish_icmp6(ip: &mut [u8]) {
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[8..24]).unwrap_or([0; 16]));
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[24..40]).unwrap_or([0; 16]));
    let m = &mut ip[40..];
    m[2..4].fill(0);
    let c = checksum::transport_v6(src, dst, IpProtocol::Icmpv6, m, 2);
    m[2..4].copy_from_slice(&c.to_be_bytes());
}

impl Handler for Echo {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
        let linktype = frame.meta().linktype;
        match self.reply(frame.data(), linktype) {
            Some(reply) => {
                if ctx.inject_owned(frame.side(), reply) {
                    Verdict::Drop
                } else {
                    // Monitor mode: nothing can be answered.
                    Verdict::Pass
                }
            }
            None => Verdict::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_wire::dissect;

    fn node() -> Echo {
        Echo::new(EchoConfig::new(
            Some(Ipv4Addr::new(10, 77, 1, 99)),
            Some("fd77:1::99".parse().unwrap()),
        ))
    }

    const HOST_MAC: [u8; 6] = [2, 0x77, 1, 0, 0, 1];

    fn eth(ethertype: u16, body: &[u8]) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&HOST_MAC);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn answers_arp_for_its_address_only() {
        let mut e = node();
        let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
        arp.extend_from_slice(&HOST_MAC);
        arp.extend_from_slice(&[10, 77, 1, 1]);
        arp.extend_from_slice(&[0; 6]);
        arp.extend_from_slice(&[10, 77, 1, 99]);
        let r = e.reply(&eth(0x0806, &arp), LinkType::ETHERNET).unwrap();
        assert_eq!(&r[..6], &HOST_MAC);
        assert_eq!(&r[6..12], &e.config().mac);
        assert_eq!(r[14 + 7], 2);
        assert_eq!(&r[14 + 8..14 + 14], &e.config().mac);
        assert_eq!(&r[14 + 14..14 + 18], &[10, 77, 1, 99]);
        assert_eq!(&r[14 + 18..14 + 24], &HOST_MAC);
        assert_eq!(&r[14 + 24..14 + 28], &[10, 77, 1, 1]);
        arp[27] = 98;
        assert!(e.reply(&eth(0x0806, &arp), LinkType::ETHERNET).is_none());
        assert_eq!(e.stats.arp, 1);
    }

    fn ping4(dst: [u8; 4]) -> Vec<u8> {
        let mut ip = vec![0x45, 0, 0, 28 + 4, 0, 1, 0x40, 0, 64, 1, 0, 0];
        ip.extend_from_slice(&[10, 77, 1, 1]);
        ip.extend_from_slice(&dst);
        let c = checksum::ipv4_header(&ip);
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let mut icmp = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g'];
        let c = checksum::icmpv4(&icmp);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        ip.extend_from_slice(&icmp);
        ip
    }

    #[test]
    fn answers_ping_with_valid_checksums() {
        let mut e = node();
        let r = e
            .reply(&eth(0x0800, &ping4([10, 77, 1, 99])), LinkType::ETHERNET)
            .unwrap();
        let d = dissect::dissect(LinkType::ETHERNET, &r);
        assert!(!d.is_malformed(), "{:?}", d.error());
        let ip = &r[14..34];
        assert!(checksum::verify_ipv4_header(ip));
        assert_eq!(&ip[12..16], &[10, 77, 1, 99]);
        assert_eq!(&ip[16..20], &[10, 77, 1, 1]);
        let icmp = &r[34..46];
        assert_eq!(icmp[0], 0);
        assert!(checksum::verify_icmpv4(icmp));
        assert_eq!(&icmp[4..], &[0x12, 0x34, 0, 1, b'p', b'i', b'n', b'g']);
        assert!(
            e.reply(&eth(0x0800, &ping4([10, 77, 1, 98])), LinkType::ETHERNET)
                .is_none()
        );
        // Host mode: bare IP.
        let r = e.reply(&ping4([10, 77, 1, 99]), LinkType::RAW).unwrap();
        assert_eq!(r.len(), 32);
        assert_eq!(e.stats.icmp, 2);
    }

    fn ip6(src: [u8; 16], dst: [u8; 16], hop: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(body.len() as u16).to_be_bytes());
        p.extend_from_slice(&[58, hop]);
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(body);
        finish_icmp6(&mut p);
        p
    }

    #[test]
    fn answers_neighbour_solicitation_and_ping6() {
        let mut e = node();
        let me: Ipv6Addr = "fd77:1::99".parse().unwrap();
        let host: Ipv6Addr = "fd77:1::1".parse().unwrap();
        let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
        ns.extend_from_slice(&me.octets());
        ns.extend_from_slice(&[1, 1]);
        ns.extend_from_slice(&HOST_MAC);
        let sol: Ipv6Addr = "ff02::1:ff00:99".parse().unwrap();
        let f = eth(0x86dd, &ip6(host.octets(), sol.octets(), 255, &ns));
        let r = e.reply(&f, LinkType::ETHERNET).unwrap();
        assert_eq!(&r[..6], &HOST_MAC);
        let p = &r[14..];
        assert_eq!(p[6], 58);
        assert_eq!(p[7], 255);
        assert_eq!(&p[24..40], &host.octets());
        assert_eq!(p[40], 136);
        assert_eq!(p[44], 0x60);
        assert_eq!(&p[48..64], &me.octets());
        assert_eq!(&p[66..72], &e.config().mac);
        assert!(checksum::verify_transport(
            me.into(),
            host.into(),
            IpProtocol::Icmpv6,
            &p[40..]
        ));
        let echo = [128, 0, 0, 0, 0, 7, 0, 1, 1, 2, 3];
        let f = eth(0x86dd, &ip6(host.octets(), me.octets(), 64, &echo));
        let r = e.reply(&f, LinkType::ETHERNET).unwrap();
        let p = &r[14..];
        assert_eq!(p[40], 129);
        assert_eq!(&p[44..], &echo[4..]);
        assert!(checksum::verify_transport(
            me.into(),
            host.into(),
            IpProtocol::Icmpv6,
            &p[40..]
        ));
        assert_eq!((e.stats.ndp, e.stats.icmp6), (1, 1));
    }

    #[test]
    fn keeps_a_vlan_tag_and_survives_junk() {
        let mut e = node();
        let mut body = vec![0x00, 0x05, 0x08, 0x00];
        body.extend_from_slice(&ping4([10, 77, 1, 99]));
        let r = e.reply(&eth(0x8100, &body), LinkType::ETHERNET).unwrap();
        assert_eq!(&r[12..18], &[0x81, 0x00, 0x00, 0x05, 0x08, 0x00]);
        for n in 0..80 {
            let junk: Vec<u8> = (0..n).map(|i| (i * 37 + n) as u8).collect();
            let _ = e.reply(&junk, LinkType::ETHERNET);
            let _ = e.reply(&junk, LinkType::RAW);
        }
        assert!(compile_ok(&e.filter()));
    }

    #[test]
    fn host_mode_answers_echo_only_and_its_filter_compiles_for_raw() {
        let mut e = node();
        let me: Ipv6Addr = "fd77:1::99".parse().unwrap();
        let host: Ipv6Addr = "fd77:1::1".parse().unwrap();
        // ICMPv6 echo on bare IP.
        let echo = [128, 0, 0, 0, 0, 7, 0, 1, 1, 2, 3];
        let r = e
            .reply(&ip6(host.octets(), me.octets(), 64, &echo), LinkType::RAW)
            .unwrap();
        assert_eq!(r.len(), 40 + echo.len());
        assert_eq!(&r[8..24], &me.octets());
        assert_eq!(&r[24..40], &host.octets());
        assert_eq!(r[40], 129);
        assert!(checksum::verify_transport(
            me.into(),
            host.into(),
            IpProtocol::Icmpv6,
            &r[40..]
        ));
        // A neighbour solicitation means nothing without a link layer.
        let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
        ns.extend_from_slice(&me.octets());
        let p = ip6(host.octets(), me.octets(), 255, &ns);
        assert!(e.reply(&p, LinkType::RAW).is_none());
        assert_eq!((e.stats.ndp, e.stats.icmp6), (0, 1));
        // ICMP that is not an echo request is passed and counted.
        let mut not_echo = ping4([10, 77, 1, 99]);
        not_echo[20] = 13; // timestamp request
        assert!(e.reply(&not_echo, LinkType::RAW).is_none());
        assert_eq!(e.stats.ignored, 1);

        let f = e.filter_for(LinkType::RAW);
        assert_eq!(
            f,
            "(icmp and dst host 10.77.1.99) or (icmp6 and dst host fd77:1::99)"
        );
        assert!(!f.contains("arp"));
        assert!(crate::host::select::plan(Some(&f), true).is_ok(), "{f}");
        assert_eq!(e.filter(), e.filter_for(LinkType::ETHERNET));
        let v6only = Echo::new(EchoConfig::new(None, Some(me)));
        assert_eq!(
            v6only.filter_for(LinkType::RAW),
            "(icmp6 and dst host fd77:1::99)"
        );
        let nobody = Echo::new(EchoConfig::new(None, None));
        assert!(crate::host::select::plan(Some(&nobody.filter_for(LinkType::RAW)), true).is_ok());
    }

    fn compile_ok(expr: &str) -> bool {
        crate::wire::compile_filter(expr).is_ok()
    }
}
