//! `sluice print -r FILE`: one line per frame, like `tcpdump -n -r`.

use std::io::Write;

use anyhow::Context;
use sluice_wire::dissect::{Dissection, dissect_into};
use sluice_wire::summary::{SummaryOptions, write_summary};

use crate::args::PrintArgs;
use crate::cmd::{display_name, open_input};
use crate::timefmt::TimeFormatter;

/// Runs `sluice print`.
pub fn run(args: PrintArgs) -> anyhow::Result<()> {
    let name = display_name(&args.read);
    let mut reader = open_input(&args.read)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut times = TimeFormatter::new(args.time_format(), args.nano);
    let options = SummaryOptions {
        link_header: args.link,
        verbose: args.verbose > 0,
    };
    let mut dissection = Dissection::new();
    let mut line = String::with_capacity(256);
    let mut n = 0u64;
    let limit = args.count.unwrap_or(u64::MAX);
    while n < limit {
        let frame = match reader.next_frame() {
            None => break,
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                out.flush()?;
                return Err(e).with_context(|| format!("reading {name} after {n} frames"));
            }
        };
        n += 1;
        line.clear();
        if args.number {
            line.push_str(&n.to_string());
            line.push_str("  ");
        }
        times.write(&mut line, frame.ts_ns);
        dissect_into(
            &mut dissection,
            frame.linktype,
            frame.data,
            frame.origlen as usize,
        );
        // Writing into a String cannot fail.
        let _ = write_summary(&mut line, frame.data, &dissection, options);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}
