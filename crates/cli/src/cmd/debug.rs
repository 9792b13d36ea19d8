//! `sluice debug ast|ir|bpf EXPR`: every stage of the filter compiler,
//! printed.

use std::io::Write;

use clap::{Args, ValueEnum};
use sluice_bpf::{Form, disasm};
use sluice_filter::Names;

use crate::cmd::expr::{ExprArgs, diagnostic, join};

/// Which stage to print.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The syntax tree, qualifiers resolved.
    Ast,
    /// The control-flow graph, before and (unless -O0) after optimisation.
    Ir,
    /// The final program (as `compile -d`).
    Bpf,
}

/// `sluice debug`
#[derive(Args, Debug)]
pub struct DebugArgs {
    /// The stage to print.
    #[arg(value_enum)]
    pub stage: Stage,
    /// Compile options.
    #[command(flatten)]
    pub opts: ExprArgs,
    /// The filter expression.
    #[arg(value_name = "EXPR", trailing_var_arg = true, num_args = 0..)]
    pub expr: Vec<String>,
}

/// Runs `sluice debug`.
pub fn run(args: DebugArgs) -> anyhow::Result<()> {
    let expr = join(&args.expr);
    let opts = args.opts.options()?;
    let mut out = std::io::stdout().lock();
    let ast = sluice_filter::parse::parse(&expr).map_err(|e| diagnostic(&e, &expr))?;
    match args.stage {
        Stage::Ast => writeln!(out, "{ast}")?,
        Stage::Ir => {
            let (mut ir, _) = sluice_filter::lower::lower(&ast, &opts, Names::system())
                .map_err(|e| diagnostic(&e, &expr))?;
            writeln!(out, "; lowered\n{ir}")?;
            if opts.optimize {
                sluice_filter::opt::optimize(&mut ir);
                writeln!(out, "; optimised\n{ir}")?;
            }
        }
        Stage::Bpf => {
            let prog = sluice_filter::compile(&expr, &opts).map_err(|e| diagnostic(&e, &expr))?;
            out.write_all(disasm(prog.insns(), Form::D).as_bytes())?;
        }
    }
    out.flush()?;
    Ok(())
}
