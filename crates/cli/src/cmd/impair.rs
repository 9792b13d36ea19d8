//! `sluice impair`: a WAN emulator in user space (delay, jitter, loss,
//! duplication, reordering, corruption, rate), in wire mode between two
//! interfaces or in host mode (`--host`) on the host's own traffic through
//! a netfilter queue.

use std::io::Write;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sluice_redirect::samples::{Direction, Impair, ImpairConfig};

use crate::cmd::bridge::{WireArgs, print_summary, run_wire};
use crate::cmd::host::{HostArgs, HostRun, WIRE_ONLY, host_or_wire, run_host};
use crate::live::{parse_duration, usage};

/// Which directions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SideArg {
    /// Frames the host sends (upper to lower; in host mode, OUTPUT and
    /// forwarded packets from a --forward-upper interface).
    Up,
    /// Frames arriving from the network (lower to upper; in host mode,
    /// INPUT and the other forwarded packets).
    Down,
    /// Both directions.
    Both,
}

/// `sluice impair` flags.
#[derive(Args, Debug)]
#[command(mut_args(host_or_wire))]
pub struct ImpairArgs {
    /// Host mode: impair the host's own IPv4/IPv6 packets (received and
    /// sent unless --in, --out or --forward say otherwise) through a
    /// netfilter queue instead of bridging two interfaces. Packets are
    /// bare IP; held ones are released by injection (raw sockets).
    #[arg(long, conflicts_with_all = WIRE_ONLY)]
    pub host: bool,
    /// Fixed delay (50ms, 1.5s, 250us; a bare number is milliseconds).
    #[arg(long, value_parser = parse_ms, default_value = "0")]
    pub delay: Duration,
    /// Uniform jitter around the delay, ±.
    #[arg(long, value_parser = parse_ms, default_value = "0")]
    pub jitter: Duration,
    /// Loss, in percent (10 or 10%).
    #[arg(long, value_parser = parse_percent, default_value = "0")]
    pub loss: f64,
    /// Duplicates, in percent.
    #[arg(long, value_parser = parse_percent, default_value = "0")]
    pub dup: f64,
    /// Frames sent at once, overtaking the delayed ones, in percent.
    #[arg(long, value_parser = parse_percent, default_value = "0")]
    pub reorder: f64,
    /// Frames with one bit flipped, in percent.
    #[arg(long, value_parser = parse_percent, default_value = "0")]
    pub corrupt: f64,
    /// Rate limit in kbit/s.
    #[arg(long, value_name = "KBIT")]
    pub rate: Option<u64>,
    /// Directions to impair.
    #[arg(long, value_enum, default_value = "both")]
    pub side: SideArg,
    /// Seed of the random choices (same seed, same choices).
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
    #[command(flatten)]
    pub wire: WireArgs,
    #[command(flatten, next_help_heading = "Host mode (with --host)")]
    pub host_mode: HostArgs,
    /// Which frames to impair (pcap-filter syntax; over bare IP packets
    /// in host mode, where only they enter user space); the rest pass
    /// untouched on the fast path.
    #[arg(value_name = "EXPR", num_args = 0.., trailing_var_arg = true)]
    pub expr: Vec<String>,
}

/// A duration where a bare number means milliseconds.
fn parse_ms(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    if t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let v: f64 = t
            .parse()
            .map_err(|_| format!("{s:?} is not a number of milliseconds"))?;
        if !v.is_finite() || v < 0.0 {
            return Err(format!("{s:?} is not a positive delay"));
        }
        return Ok(Duration::from_secs_f64(v / 1000.0));
    }
    parse_duration(t)
}

/// A percentage: `10`, `10%`, `0.5%`.
fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    let v: f64 = t
        .parse()
        .map_err(|_| format!("{s:?} is not a percentage (like 10 or 0.5%)"))?;
    if !(0.0..=100.0).contains(&v) {
        return Err(format!("{s:?} is not between 0 and 100"));
    }
    Ok(v / 100.0)
}

/// Runs `sluice impair`.
pub fn run(args: ImpairArgs) -> anyhow::Result<()> {
    let config = ImpairConfig {
        delay: args.delay,
        jitter: args.jitter,
        loss: args.loss,
        dup: args.dup,
        reorder: args.reorder,
        corrupt: args.corrupt,
        rate_bps: args.rate.map(|k| k.saturating_mul(1000)),
        direction: match args.side {
            SideArg::Up => Direction::Up,
            SideArg::Down => Direction::Down,
            SideArg::Both => Direction::Both,
        },
        seed: args.seed,
        ..ImpairConfig::default()
    };
    if config.rate_bps == Some(0) {
        return Err(usage("--rate must be at least 1 kbit/s"));
    }
    let h = Impair::new(config).map_err(usage)?;
    let expr = args.expr.join(" ");
    let filter = (!expr.trim().is_empty()).then_some(expr);
    let (h, mut e) = if args.host {
        let run = HostRun {
            filter,
            quiet: args.wire.quiet,
            duration: args.wire.duration,
            ..HostRun::new()
        };
        let (_, h) = run_host(&args.host_mode, &run, h)?;
        (h, std::io::stderr().lock())
    } else {
        let (summary, h) = run_wire(&args.wire, filter, false, h)?;
        let mut e = std::io::stderr().lock();
        print_summary(&mut e, &args.wire, &summary);
        (h, e)
    };
    let s = h.stats;
    let _ = writeln!(
        e,
        "impair: {} frames decided; lost {}, corrupted {}, duplicated {}, reordered {}, delayed {} (at most {} held), {} dropped for a full queue, {} released at stop",
        s.seen,
        s.lost,
        s.corrupted,
        s.duplicated,
        s.reordered,
        s.delayed,
        s.max_held,
        s.queue_full,
        s.flushed_at_stop
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(clap::Parser, Debug)]
    struct T {
        #[command(flatten)]
        impair: ImpairArgs,
    }

    fn parse(args: &[&str]) -> Result<ImpairArgs, clap::Error> {
        use clap::Parser;
        T::try_parse_from(std::iter::once("impair").chain(args.iter().copied())).map(|t| t.impair)
    }

    #[test]
    fn wire_or_host_mode() {
        use clap::error::ErrorKind;
        let a = parse(&["--upper", "u", "--lower", "l", "--delay", "5", "udp"]).unwrap();
        assert!(!a.host);
        assert_eq!(a.expr, vec!["udp"]);
        let a = parse(&["--host", "--out", "--delay", "50", "--side", "up", "icmp"]).unwrap();
        assert!(a.host && a.host_mode.output && !a.host_mode.input);
        assert_eq!(a.delay, Duration::from_millis(50));
        assert_eq!(a.expr, vec!["icmp"]);
        let e = parse(&["--delay", "5"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
        let e = parse(&["--host", "--upper", "u"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
        let e = parse(&["--upper", "u", "--lower", "l", "--fail-closed"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn delays_and_percentages() {
        assert_eq!(parse_ms("50").unwrap(), Duration::from_millis(50));
        assert_eq!(parse_ms("50ms").unwrap(), Duration::from_millis(50));
        assert_eq!(parse_ms("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_ms("0").unwrap(), Duration::ZERO);
        assert!(parse_ms("-3").is_err());
        assert_eq!(parse_percent("10%").unwrap(), 0.1);
        assert_eq!(parse_percent("0.5").unwrap(), 0.005);
        assert!(parse_percent("101").is_err());
        assert!(parse_percent("lots").is_err());
    }
}
