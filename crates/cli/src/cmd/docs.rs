//! `sluice completions SHELL` and `sluice man DIR`: shell completions and
//! man pages generated from the one definition of the flags.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::args::Cli;

/// `sluice completions`
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `sluice man`
#[derive(Args, Debug)]
pub struct ManArgs {
    /// Directory to write `sluice.1` and `sluice-<command>.1` into.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Writes the completion script to stdout.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "sluice", &mut std::io::stdout());
    Ok(())
}

/// Writes one man page for sluice and one per subcommand.
pub fn man(args: ManArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let cmd = Cli::command();
    let write = |name: &str, cmd: clap::Command| -> anyhow::Result<()> {
        let path = args.dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut out)
            .context("rendering a man page")?;
        std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))
    };
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("sluice-{}", sub.get_name());
        write(&name, sub.clone().name(name.clone()))?;
    }
    write("sluice", cmd)?;
    Ok(())
}
