//! Builds or removes a persistent lab: `labctl up NAME [--kbridge]
//! [--offloads on|off] [--mtu N]`, `labctl down NAME`, `labctl status NAME`.
use sluice_linux::lab::{Lab, LabOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, name) = match args.as_slice() {
        [c, n, ..] => (c.as_str(), n.clone()),
        _ => {
            return Err(
                "usage: labctl up|down|status NAME [--kbridge] [--offloads on|off] [--mtu N]"
                    .into(),
            );
        }
    };
    match cmd {
        "up" => {
            let mut o = LabOptions::new();
            o.prefix = Some(name);
            let mut it = args[2..].iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "--kbridge" => o.kbridge = true,
                    "--offloads" => o.offloads = Some(it.next().map(String::as_str) == Some("on")),
                    "--mtu" => o.mtu = it.next().and_then(|v| v.parse().ok()),
                    other => return Err(format!("unknown option {other}").into()),
                }
            }
            let lab = Lab::up(&o)?;
            print!("{}", lab.status()?);
            lab.persist();
        }
        "down" => Lab::attach(&name)?.down()?,
        "status" => print!("{}", Lab::attach(&name)?.status()?),
        other => return Err(format!("unknown command {other}").into()),
    }
    Ok(())
}
