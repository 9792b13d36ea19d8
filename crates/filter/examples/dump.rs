//! Prints sluice's program for an expression in tcpdump's `-d` form
//! (`--O0` for the unoptimised one, `--ir` for the graph, `--ast` for the tree,
//! `--netmask A.B.C.D` for `ip broadcast`).

use sluice_bpf::{Form, disasm};
use sluice_filter::{Names, Options, Target, compile_insns, lower, parse};
use sluice_wire::LinkType;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let mut opts = Options {
        netmask: Some(std::net::Ipv4Addr::UNSPECIFIED),
        ..Options::default()
    };
    opts.optimize = !flag("--O0");
    if flag("--kernel") {
        opts.target = Target::LinuxSocket;
    }
    if let Some(i) = args.iter().position(|a| a == "--netmask") {
        opts.netmask = Some(args[i + 1].parse().expect("a netmask"));
    }
    if let Some(i) = args.iter().position(|a| a == "--linktype") {
        opts.linktype = LinkType::from_name(&args[i + 1]).expect("a linktype name");
    }
    let expr = args.last().cloned().unwrap_or_default();
    if flag("--ast") {
        match parse::parse(&expr) {
            Ok(a) => println!("{a}"),
            Err(e) => println!("{}", e.render(&expr)),
        }
    }
    if flag("--ir") {
        match parse::parse(&expr).and_then(|a| lower::lower(&a, &opts, Names::system())) {
            Ok((mut ir, _)) => {
                if opts.optimize {
                    sluice_filter::opt::optimize(&mut ir);
                }
                print!("{ir}");
            }
            Err(e) => println!("{}", e.render(&expr)),
        }
    }
    match compile_insns(&expr, &opts, Names::system()) {
        Ok(p) => print!("{}", disasm(&p, Form::D)),
        Err(e) => println!("{}", e.render(&expr)),
    }
}
