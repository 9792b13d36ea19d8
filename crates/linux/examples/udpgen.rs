//! Sends UDP frames as fast as it can (a small trafgen): the measuring tool
//! for the TX paths.
//!
//! `udpgen -i IF --src-mac M --dst-mac M --src A:P --dst A:P [--size N]
//!  [--count N | --seconds S] [--ring v2|v3] [--bypass] [--batch N]`
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sluice_linux::frames::{UdpFlow, UdpFrames};
use sluice_linux::tx::{TxConfig, TxRingConfig, TxRingVersion, TxSocket};

fn mac(s: &str) -> Result<[u8; 6], String> {
    let v: Vec<u8> = s
        .split(':')
        .filter_map(|p| u8::from_str_radix(p, 16).ok())
        .collect();
    v.try_into().map_err(|_| format!("bad MAC {s}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut cfg = TxConfig::new("eth0");
    let (mut src_mac, mut dst_mac) = ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let mut src: SocketAddr = "10.77.0.1:4000".parse()?;
    let mut dst: SocketAddr = "10.77.0.2:7777".parse()?;
    let (mut size, mut count, mut seconds, mut batch) = (64usize, u64::MAX, 10.0f64, 256usize);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "-i" => cfg.interface = val()?,
            "--src-mac" => src_mac = mac(&val()?)?,
            "--dst-mac" => dst_mac = mac(&val()?)?,
            "--src" => src = val()?.parse()?,
            "--dst" => dst = val()?.parse()?,
            "--size" => size = val()?.parse()?,
            "--count" => count = val()?.parse()?,
            "--seconds" => seconds = val()?.parse()?,
            "--batch" => batch = val()?.parse()?,
            "--bypass" => cfg.qdisc_bypass = true,
            "--ring" => {
                let version = match val()?.as_str() {
                    "v2" => TxRingVersion::V2,
                    "v3" => TxRingVersion::V3,
                    other => return Err(format!("unknown ring version {other}").into()),
                };
                cfg.ring = Some(TxRingConfig {
                    version,
                    ..TxRingConfig::DEFAULT
                });
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let udp = UdpFrames::new(
        &UdpFlow {
            src_mac,
            dst_mac,
            src,
            dst,
        },
        size,
    )?;
    let mut tx = TxSocket::open(&cfg)?;
    let mut buf = Vec::new();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let mut seq = 0u64;
    while seq < count && Instant::now() < end {
        let n = batch.min((count - seq) as usize);
        udp.fill(seq, n, &mut buf);
        let frames: Vec<&[u8]> = buf.chunks_exact(udp.len()).collect();
        tx.send(&frames)?;
        seq += n as u64;
    }
    let t = tx.totals();
    let wall = start.elapsed().as_secs_f64();
    println!(
        "sent={} failed={} retries={} bytes={} wall_s={wall:.2} pps={:.0} ring={:?} bypass={}",
        t.sent,
        t.failed,
        t.retries,
        t.bytes,
        t.sent as f64 / wall,
        cfg.ring.map(|r| r.version),
        cfg.qdisc_bypass
    );
    Ok(())
}
