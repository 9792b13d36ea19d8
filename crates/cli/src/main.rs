//! The `sluice` command-line tool: parses flags, wires library parts
//! together and prints. Logic that grows past glue belongs in a library
//! crate.
//!
//! `main` alone owns the exit codes: 0 for success (and for a broken pipe,
//! as in `sluice print | head`), 1 for an error, 2 for a usage error.
#![forbid(unsafe_code)]

mod args;
mod cmd;
mod live;
mod progress;
mod timefmt;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; real usage
            // errors go to stderr with exit code 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice: {e:#}");
            match e.downcast_ref::<args::UsageError>() {
                Some(_) => ExitCode::from(2),
                None => ExitCode::from(1),
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Info(a) => cmd::info::run(a),
        Command::Print(a) => cmd::print::run(a),
        Command::Convert(a) => cmd::convert::run(a),
        Command::Filter(a) => cmd::filter::run(a),
        Command::Compile(a) => cmd::compile::run(a),
        Command::Debug(a) => cmd::debug::run(a),
        Command::Capture(a) => cmd::capture::run(a),
        Command::Stats(a) => cmd::stats::run(a),
        Command::Inject(a) => cmd::inject::run(a),
        Command::Gen(a) => cmd::r#gen::run(a),
        Command::Lab(a) => cmd::lab::run(a),
        Command::Bridge(a) => cmd::bridge::run(a),
        Command::Tunnel(a) => cmd::tunnel::run(a),
        Command::Impair(a) => cmd::impair::run(a),
        Command::Echo(a) => cmd::echo::run(a),
        Command::Divert(a) => cmd::divert::run(a),
        Command::Completions(a) => cmd::docs::completions(a),
        Command::Man(a) => cmd::docs::man(a),
    }
}

/// True when the error comes from writing to a pipe whose reader has gone:
/// the reader wanted no more, which is not a failure.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
