//! `sluice compile EXPR`: the classic BPF program for an expression, in the
//! three text forms of `tcpdump -d`, `-dd` and `-ddd`.

use std::io::Write;

use clap::Args;
use sluice_bpf::{Form, disasm};

use crate::cmd::expr::{ExprArgs, diagnostic, join};

/// `sluice compile`
#[derive(Args, Debug)]
pub struct CompileArgs {
    /// Output form: -d human-readable (default), -dd C array, -ddd decimal
    /// (count, then `code jt jf k` per line: join the lines with commas for
    /// iptables' `-m bpf --bytecode`).
    #[arg(short = 'd', action = clap::ArgAction::Count)]
    pub dump: u8,
    /// Compile options.
    #[command(flatten)]
    pub opts: ExprArgs,
    /// The filter expression (pcap-filter(7)); several words are joined
    /// with spaces. Put `--` before an expression that starts with `-`.
    #[arg(value_name = "EXPR", trailing_var_arg = true, num_args = 0..)]
    pub expr: Vec<String>,
}

/// Runs `sluice compile`.
pub fn run(args: CompileArgs) -> anyhow::Result<()> {
    let expr = join(&args.expr);
    let opts = args.opts.options()?;
    let prog = sluice_filter::compile(&expr, &opts).map_err(|e| diagnostic(&e, &expr))?;
    let form = match args.dump {
        0 | 1 => Form::D,
        2 => Form::DD,
        _ => Form::DDD,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(disasm(prog.insns(), form).as_bytes())?;
    out.flush()?;
    Ok(())
}
