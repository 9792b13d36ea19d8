//! Counts frames from a TPACKET_V3 ring for a while and prints what the
//! ring, the kernel and the clock say: the measuring tool behind the ring
//! defaults.
//!
//! `ringcount -i IF [--seconds S] [--block-kib K] [--blocks N]
//!  [--timeout-ms T] [--udp-port P] [--touch]`
//!
//! `--udp-port` attaches `udp dst port P` in the kernel; `--touch` reads
//! every byte of every frame (as a writer would) instead of only counting.
use std::time::{Duration, Instant};

use sluice_bpf::Insn;
use sluice_linux::RingConfig;
use sluice_linux::capture::{Capture, CaptureConfig, Next};

fn cpu_seconds() -> f64 {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks
    // (100 per second on Linux).
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // After the comm field: state is not numeric, so index 11/12 are
    // utime/stime.
    (f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)) as f64 / 100.0
}

fn udp_port(port: u16) -> Vec<Insn> {
    let p = u32::from(port);
    [
        (0x28, 0, 0, 12),
        (0x15, 0, 4, 0x86dd),
        (0x30, 0, 0, 20),
        (0x15, 0, 11, 17),
        (0x28, 0, 0, 56),
        (0x15, 8, 9, p),
        (0x15, 0, 8, 0x800),
        (0x30, 0, 0, 23),
        (0x15, 0, 6, 17),
        (0x28, 0, 0, 20),
        (0x45, 4, 0, 0x1fff),
        (0xb1, 0, 0, 14),
        (0x48, 0, 0, 16),
        (0x15, 0, 1, p),
        (0x6, 0, 0, 0x40000),
        (0x6, 0, 0, 0),
    ]
    .into_iter()
    .map(|(code, jt, jf, k)| Insn { code, jt, jf, k })
    .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut iface = String::from("eth0");
    let mut seconds = 10.0f64;
    let mut ring = RingConfig::DEFAULT;
    let mut port = None;
    let mut touch = false;
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "-i" => iface = val()?,
            "--seconds" => seconds = val()?.parse()?,
            "--block-kib" => ring.block_size = val()?.parse::<usize>()? << 10,
            "--blocks" => ring.block_count = val()?.parse()?,
            "--timeout-ms" => ring.block_timeout = Duration::from_millis(val()?.parse()?),
            "--udp-port" => port = Some(val()?.parse::<u16>()?),
            "--touch" => touch = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut cfg = CaptureConfig::new(iface.clone());
    cfg.ring = ring;
    cfg.filter = port.map(udp_port);
    let mut cap = Capture::open(&cfg)?;
    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let (mut frames, mut bytes, mut blocks, mut sum) = (0u64, 0u64, 0u64, 0u64);
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        match cap.next_block(Some(left.min(Duration::from_millis(100))))? {
            Next::Block(b) => {
                blocks += 1;
                for f in b.frames()? {
                    let f = f?;
                    frames += 1;
                    bytes += u64::from(f.caplen);
                    if touch {
                        sum = sum.wrapping_add(f.data.iter().map(|&x| u64::from(x)).sum::<u64>());
                    }
                }
            }
            Next::Timeout | Next::Interrupted => {}
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let st = cap.stats()?;
    println!(
        "iface={iface} block_kib={} blocks={} timeout_ms={} frames={frames} bytes={bytes} ring_blocks={blocks} \
         kernel_packets={} kernel_drops={} freeze={} wall_s={wall:.2} cpu_s={cpu:.2} ns_per_frame={:.0} checksum={sum}",
        ring.block_size >> 10,
        ring.block_count,
        ring.block_timeout.as_millis(),
        st.packets,
        st.drops,
        st.freeze_q_cnt,
        if frames > 0 {
            cpu * 1e9 / frames as f64
        } else {
            0.0
        },
    );
    Ok(())
}
