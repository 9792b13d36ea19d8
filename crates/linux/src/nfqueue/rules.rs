//! The rules that send the host's packets to a queue (or, in monitor
//! mode, copies to an NFLOG group): chains of our own, hooked from the
//! built-in INPUT, OUTPUT and FORWARD chains, for IPv4 and IPv6, removed
//! on every exit path.
//!
//! # Where
//!
//! iptables' `mangle` table, in chains named `SLUICE-Q<n>-IN`, `-OUT`,
//! `-FWD` (`SLUICE-L<n>-…` for a log group), each reached from the first
//! position of its built-in chain by a jump with the comment `sluice
//! pid=<pid>` (the owner; `--cleanup` removes what dead owners left).
//! `mangle` runs before the `filter` table at every hook, so the handler
//! sees packets before the host's firewall decides, and the kernel
//! re-routes an outgoing packet whose addresses or mark the handler
//! changed. One consequence of `NF_ACCEPT` from a queue: the packet
//! leaves the `mangle` table at that hook, so `mangle` rules after our
//! jump do not see diverted packets (the `filter` table and later do).
//!
//! Each chain first returns packets that carry our injection mark (so
//! injected packets are never diverted again), then optionally selects
//! with the compiled filter in the kernel (`-m bpf --bytecode`, at most
//! [`XT_BPF_MAX_INSNS`] instructions), then queues
//! (`-j NFQUEUE --queue-num n [--queue-bypass]`, or `--queue-balance
//! n:m` over several queues: the kernel hashes the addresses, so the
//! packets of one flow stay on one queue and in order) or logs
//! (`-j NFLOG --nflog-group n`).
//!
//! # Which tool
//!
//! [`Backend::detect`] tries, in order: iptables over nf_tables
//! (`iptables-nft`, the kernel's xtables compatibility runs the `NFQUEUE`
//! target and the `bpf` match), the legacy iptables (`iptables-legacy`),
//! and nft's own `queue` / `log group` statements in a table of our own
//! (`inet sluice_q<n>_p<pid>`; no bpf there, so the selection is left to
//! user space). The variant the system's `iptables` command uses goes
//! first. Each rule set is installed with one `*-restore --noflush` per
//! family — atomically: all of it or nothing — and a backend that fails
//! is removed again before the next is tried.
//!
//! # Removal
//!
//! [`Rules`] removes its chains when dropped (also when a panic unwinds)
//! and by [`Rules::remove`], which reports failures. A process killed
//! with SIGKILL cannot; [`cleanup`] finds every chain and table named
//! after sluice in every backend, and removes those whose owner is dead
//! (or all of them, or those of one number). With `--queue-bypass`
//! (fail-open), rules left behind let packets through while nobody reads
//! the queue; without it (fail-closed) they drop them until removed.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

use sluice_bpf::Insn;

use crate::error::{Error, ErrorKind, Result};

/// The most instructions the iptables `bpf` match takes
/// (`XT_BPF_MAX_NUM_INSTR`).
pub const XT_BPF_MAX_INSNS: usize = 64;

/// The default mark of injected packets and the mask the rules test.
pub const INJECT_MARK: (u32, u32) = (0x5ce1_0000, 0xffff_0000);

/// A tool that installs rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `iptables-nft` / `ip6tables-nft`: iptables rules in nf_tables.
    IptablesNft,
    /// `iptables-legacy` / `ip6tables-legacy`.
    IptablesLegacy,
    /// `nft` with its own `queue` and `log` statements.
    Nft,
}

impl Backend {
    /// All backends in the default order.
    pub const ALL: [Backend; 3] = [Backend::IptablesNft, Backend::IptablesLegacy, Backend::Nft];

    /// A short name (`iptables-nft`, `iptables-legacy`, `nft`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::IptablesNft => "iptables-nft",
            Backend::IptablesLegacy => "iptables-legacy",
            Backend::Nft => "nft",
        }
    }

    fn tool(self, v6: bool, what: &str) -> String {
        let fam = if v6 { "ip6tables" } else { "iptables" };
        match self {
            Backend::IptablesNft => format!("{fam}-nft{what}"),
            Backend::IptablesLegacy => format!("{fam}-legacy{what}"),
            Backend::Nft => "nft".to_owned(),
        }
    }

    /// Whether the tool is installed.
    pub fn available(self) -> bool {
        tool_exists(&self.tool(false, "-restore"))
    }

    /// The backends to try, in order: installed ones, the variant the
    /// system's `iptables` command uses first.
    pub fn detect() -> Vec<Backend> {
        let mut order = Backend::ALL.to_vec();
        if let Ok(out) = Command::new("iptables")
            .arg("-V")
            .stdin(Stdio::null())
            .output()
            && String::from_utf8_lossy(&out.stdout).contains("legacy")
        {
            order.swap(0, 1);
        }
        order.into_iter().filter(|b| b.available()).collect()
    }

    /// Whether this backend can filter with the iptables `bpf` match.
    pub fn has_bpf_match(self) -> bool {
        self != Backend::Nft
    }
}

fn tool_exists(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// Which built-in chains to hook.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Directions {
    /// INPUT: packets for the host.
    pub input: bool,
    /// OUTPUT: packets the host sends.
    pub output: bool,
    /// FORWARD: packets the host routes.
    pub forward: bool,
}

impl Directions {
    fn hooks(self) -> impl Iterator<Item = Hook> {
        [
            (self.input, Hook::Input),
            (self.output, Hook::Output),
            (self.forward, Hook::Forward),
        ]
        .into_iter()
        .filter_map(|(on, h)| on.then_some(h))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hook {
    Input,
    Output,
    Forward,
}

impl Hook {
    fn builtin(self) -> &'static str {
        match self {
            Hook::Input => "INPUT",
            Hook::Output => "OUTPUT",
            Hook::Forward => "FORWARD",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Hook::Input => "IN",
            Hook::Output => "OUT",
            Hook::Forward => "FWD",
        }
    }

    fn nft_hook(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Output => "output",
            Hook::Forward => "forward",
        }
    }
}

/// What the rules do with a selected packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Queue it: `queue`, or `count` queues from `queue` on (balanced by
    /// flow), accepted when nobody reads the queue if `bypass`.
    Queue {
        /// The first queue number.
        queue: u16,
        /// How many queues (1: no balancing).
        count: u16,
        /// `--queue-bypass`: fail-open when no program is bound.
        bypass: bool,
    },
    /// Send a copy to NFLOG `group` and let the packet go on.
    Log {
        /// The group number.
        group: u16,
    },
}

impl Action {
    fn prefix(self) -> String {
        match self {
            Action::Queue { queue, .. } => format!("SLUICE-Q{queue}"),
            Action::Log { group } => format!("SLUICE-L{group}"),
        }
    }
}

/// What to install.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleSpec {
    /// The chains to hook.
    pub directions: Directions,
    /// Install for IPv4 (iptables).
    pub ipv4: bool,
    /// Install for IPv6 (ip6tables).
    pub ipv6: bool,
    /// Only packets coming in on / going out of this interface.
    pub interface: Option<String>,
    /// A classic BPF program over the IP header (RAW link type) that
    /// selects packets in the kernel; at most [`XT_BPF_MAX_INSNS`]
    /// instructions.
    pub bpf: Option<Vec<Insn>>,
    /// Queue or log.
    pub action: Action,
    /// Packets whose mark matches `(value, mask)` are skipped.
    pub skip_mark: (u32, u32),
    /// The tools to try, in order (empty: [`Backend::detect`]).
    pub backends: Vec<Backend>,
}

impl RuleSpec {
    /// Queue `queue` for both families, no selection, fail-open, skipping
    /// [`INJECT_MARK`], detected backends.
    pub fn new(directions: Directions, action: Action) -> RuleSpec {
        RuleSpec {
            directions,
            ipv4: true,
            ipv6: true,
            interface: None,
            bpf: None,
            action,
            skip_mark: INJECT_MARK,
            backends: Vec::new(),
        }
    }
}

/// Runs `prog args`, feeding `stdin`; the error carries stderr.
fn run_tool(prog: &str, args: &[&str], stdin: Option<&str>) -> Result<String> {
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        let kind = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::Unsupported
        } else {
            ErrorKind::Io
        };
        Error::with_kind(kind, format!("running {prog}"), e)
    })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A tool that exits early closes its end; its exit status says why.
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io(format!("waiting for {prog}"), e))?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "{prog} {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The comment on our jump rules.
fn owner_comment(pid: u32) -> String {
    format!("sluice pid={pid}")
}

/// The `iptables-restore` script that installs `spec` for one family.
fn iptables_install_script(spec: &RuleSpec, pid: u32) -> String {
    let mut s = String::from("*mangle\n");
    let prefix = spec.action.prefix();
    let comment = owner_comment(pid);
    for hook in spec.directions.hooks() {
        let chain = format!("{prefix}-{}", hook.suffix());
        let _ = writeln!(s, ":{chain} - [0:0]");
        let (v, m) = spec.skip_mark;
        let _ = writeln!(s, "-A {chain} -m mark --mark 0x{v:x}/0x{m:x} -j RETURN");
        let mut rule = format!("-A {chain}");
        if let Some(bpf) = &spec.bpf {
            let _ = write!(
                rule,
                " -m bpf --bytecode \"{}\"",
                sluice_bpf::disasm::iptables(bpf)
            );
        }
        match spec.action {
            Action::Queue {
                queue,
                count,
                bypass,
            } => {
                if count > 1 {
                    let last = queue.saturating_add(count - 1);
                    let _ = write!(rule, " -j NFQUEUE --queue-balance {queue}:{last}");
                } else {
                    let _ = write!(rule, " -j NFQUEUE --queue-num {queue}");
                }
                if bypass {
                    rule.push_str(" --queue-bypass");
                }
            }
            Action::Log { group } => {
                let _ = write!(rule, " -j NFLOG --nflog-group {group}");
            }
        }
        let _ = writeln!(s, "{rule}");
        let jump = |s: &mut String, dir: &str| match &spec.interface {
            Some(ifname) => {
                let _ = writeln!(
                    s,
                    "-I {} 1 {dir} {ifname} -m comment --comment \"{comment}\" -j {chain}",
                    hook.builtin()
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "-I {} 1 -m comment --comment \"{comment}\" -j {chain}",
                    hook.builtin()
                );
            }
        };
        match hook {
            Hook::Input => jump(&mut s, "-i"),
            Hook::Output => jump(&mut s, "-o"),
            Hook::Forward => {
                jump(&mut s, "-i");
                if spec.interface.is_some() {
                    jump(&mut s, "-o");
                }
            }
        }
    }
    s.push_str("COMMIT\n");
    s
}

fn nft_table_name(spec: &RuleSpec, pid: u32) -> String {
    match spec.action {
        Action::Queue { queue, .. } => format!("sluice_q{queue}_p{pid}"),
        Action::Log { group } => format!("sluice_l{group}_p{pid}"),
    }
}

/// The `nft -f` script that installs `spec` as a table of our own.
fn nft_install_script(spec: &RuleSpec, pid: u32) -> String {
    let table = nft_table_name(spec, pid);
    let mut s = format!("table inet {table} {{\n");
    for hook in spec.directions.hooks() {
        let _ = writeln!(
            s,
            "  chain {} {{\n    type filter hook {} priority mangle; policy accept;",
            hook.nft_hook(),
            hook.nft_hook()
        );
        let (v, m) = spec.skip_mark;
        let _ = writeln!(s, "    meta mark & 0x{m:08x} == 0x{v:08x} counter return");
        if !(spec.ipv4 && spec.ipv6) {
            let fam = if spec.ipv4 { "ipv6" } else { "ipv4" };
            let _ = writeln!(s, "    meta nfproto {fam} return");
        }
        let mut rule = String::from("    ");
        if let Some(ifname) = &spec.interface {
            let key = match hook {
                Hook::Input => "iifname",
                Hook::Output => "oifname",
                Hook::Forward => "iifname",
            };
            if hook == Hook::Forward {
                let _ = write!(
                    rule,
                    "iifname != \"{ifname}\" oifname != \"{ifname}\" return\n    "
                );
            } else {
                let _ = write!(rule, "{key} \"{ifname}\" ");
            }
        }
        rule.push_str("counter ");
        match spec.action {
            Action::Queue {
                queue,
                count,
                bypass,
            } => {
                if count > 1 {
                    let last = queue.saturating_add(count - 1);
                    let _ = write!(rule, "queue num {queue}-{last} fanout");
                } else {
                    let _ = write!(rule, "queue num {queue}");
                }
                if bypass {
                    rule.push_str(" bypass");
                }
            }
            Action::Log { group } => {
                let _ = write!(rule, "log group {group}");
            }
        }
        let _ = writeln!(s, "{rule}\n  }}");
    }
    s.push_str("}\n");
    s
}

/// Installed rules; removed when dropped.
#[derive(Debug)]
pub struct Rules {
    backend: Backend,
    spec: RuleSpec,
    pid: u32,
    installed: bool,
    refused: Vec<(Backend, String)>,
}

impl Rules {
    /// Installs `spec` with the first backend that takes it, in the
    /// calling thread's network namespace. Needs `CAP_NET_ADMIN` and the
    /// tools. The error lists why each backend failed.
    pub fn install(spec: &RuleSpec) -> Result<Rules> {
        if !spec.ipv4 && !spec.ipv6 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "rules for neither IPv4 nor IPv6",
            ));
        }
        if spec.directions.hooks().next().is_none() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "rules for no direction (input, output, forward)",
            ));
        }
        if let Some(b) = &spec.bpf
            && (b.is_empty() || b.len() > XT_BPF_MAX_INSNS)
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "the iptables bpf match takes 1 to {XT_BPF_MAX_INSNS} instructions, not {}",
                    b.len()
                ),
            ));
        }
        if let Some(i) = &spec.interface
            && (i.is_empty()
                || i.len() >= libc::IFNAMSIZ
                || !i
                    .bytes()
                    .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\\'))
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("{i:?} is not an interface name"),
            ));
        }
        let backends = if spec.backends.is_empty() {
            Backend::detect()
        } else {
            spec.backends.clone()
        };
        if backends.is_empty() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                "no rule tool found: install iptables (iptables-nft or iptables-legacy) or nft",
            ));
        }
        let pid = std::process::id();
        let mut refused = Vec::new();
        for backend in backends {
            if spec.bpf.is_some() && !backend.has_bpf_match() {
                refused.push((backend, "no bpf match".to_owned()));
                continue;
            }
            let mut rules = Rules {
                backend,
                spec: spec.clone(),
                pid,
                installed: true,
                refused: Vec::new(),
            };
            match rules.apply() {
                Ok(()) => {
                    rules.refused = refused;
                    return Ok(rules);
                }
                Err(e) => {
                    // Remove whatever part went in before the failure.
                    let _ = rules.remove_inner();
                    rules.installed = false;
                    refused.push((backend, e.to_string()));
                }
            }
        }
        let mut msg = String::from("no rule tool could install the rules:");
        for (b, why) in &refused {
            let _ = write!(msg, "\n  {}: {why}", b.name());
        }
        Err(Error::new(ErrorKind::Unsupported, msg))
    }

    fn apply(&self) -> Result<()> {
        match self.backend {
            Backend::Nft => {
                let script = nft_install_script(&self.spec, self.pid);
                run_tool("nft", &["-f", "-"], Some(&script))?;
            }
            b => {
                let script = iptables_install_script(&self.spec, self.pid);
                for v6 in self.families() {
                    run_tool(
                        &b.tool(v6, "-restore"),
                        &["--noflush", "-w", "5"],
                        Some(&script),
                    )?;
                }
            }
        }
        Ok(())
    }

    fn families(&self) -> Vec<bool> {
        let mut f = Vec::new();
        if self.spec.ipv4 {
            f.push(false);
        }
        if self.spec.ipv6 {
            f.push(true);
        }
        f
    }

    /// The tool that installed them.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The backends tried before it, and why they failed.
    pub fn refused(&self) -> &[(Backend, String)] {
        &self.refused
    }

    /// What was installed.
    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }

    /// Packets the queue or log rules matched, and packets the
    /// injection-mark rule returned, summed over chains and families.
    pub fn counters(&self) -> Result<RuleCounters> {
        let mut c = RuleCounters::default();
        match self.backend {
            Backend::Nft => {
                let table = nft_table_name(&self.spec, self.pid);
                let out = run_tool("nft", &["list", "table", "inet", &table], None)?;
                for line in out.lines() {
                    let l = line.trim();
                    let Some(pkts) = nft_counter(l) else { continue };
                    if l.starts_with("meta mark") {
                        c.skipped_marked += pkts;
                    } else if l.contains("queue") || l.contains("log group") {
                        c.matched += pkts;
                    }
                }
            }
            b => {
                let prefix = format!("{}-", self.spec.action.prefix());
                for v6 in self.families() {
                    let out = run_tool(&b.tool(v6, "-save"), &["-c", "-t", "mangle"], None)?;
                    for line in out.lines() {
                        let Some((pkts, rule)) = counted_rule(line) else {
                            continue;
                        };
                        let Some(chain) = rule
                            .strip_prefix("-A ")
                            .and_then(|r| r.split_whitespace().next())
                        else {
                            continue;
                        };
                        if !chain.starts_with(&prefix) {
                            continue;
                        }
                        if rule.contains(" -j RETURN") && rule.contains("-m mark") {
                            c.skipped_marked += pkts;
                        } else if rule.contains("-j NFQUEUE") || rule.contains("-j NFLOG") {
                            c.matched += pkts;
                        }
                    }
                }
            }
        }
        Ok(c)
    }

    /// Removes the rules, reporting any failure.
    pub fn remove(mut self) -> Result<()> {
        let r = self.remove_inner();
        self.installed = false;
        r
    }

    fn remove_inner(&self) -> Result<()> {
        match self.backend {
            Backend::Nft => {
                let table = nft_table_name(&self.spec, self.pid);
                match run_tool("nft", &["delete", "table", "inet", &table], None) {
                    Ok(_) => Ok(()),
                    Err(e) if e.to_string().contains("No such file") => Ok(()),
                    Err(e) => Err(e),
                }
            }
            b => {
                let prefix = format!("{}-", self.spec.action.prefix());
                let mut first = None;
                for v6 in self.families() {
                    if let Err(e) = remove_iptables(b, v6, |chain| {
                        chain.starts_with(&prefix)
                            && ["IN", "OUT", "FWD"].contains(&&chain[prefix.len()..])
                    }) {
                        first.get_or_insert(e);
                    }
                }
                first.map_or(Ok(()), Err)
            }
        }
    }
}

impl Drop for Rules {
    fn drop(&mut self) {
        if self.installed {
            // Best effort: `cleanup` finds whatever this leaves.
            let _ = self.remove_inner();
        }
    }
}

/// Packet counts of installed rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleCounters {
    /// Packets the queue (or log) rules took.
    pub matched: u64,
    /// Packets skipped for carrying the injection mark.
    pub skipped_marked: u64,
}

/// `[pkts:bytes] -A …` of `iptables-save -c`.
fn counted_rule(line: &str) -> Option<(u64, &str)> {
    let rest = line.strip_prefix('[')?;
    let (counts, rule) = rest.split_once("] ")?;
    let pkts = counts.split(':').next()?.parse().ok()?;
    Some((pkts, rule))
}

/// The packet count of an nft rule listed with `counter packets N bytes M`
/// (rules installed by us carry no counter statement: nft lists none, and
/// `None` is returned).
fn nft_counter(line: &str) -> Option<u64> {
    let at = line.find("counter packets ")?;
    line[at + 16..].split_whitespace().next()?.parse().ok()
}

/// One chain of ours found in the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// Which tool shows it.
    pub backend: Backend,
    /// `true` for ip6tables.
    pub ipv6: bool,
    /// The chain (or nft table) name.
    pub name: String,
    /// The owner's pid, from the comment or table name.
    pub owner: Option<u32>,
}

/// What the iptables-save text of `mangle` holds of ours: our chains and
/// the jump rules that reach them (as `-A …` lines), with owners.
fn ours_in_save(text: &str) -> (Vec<String>, Vec<(String, Option<u32>)>) {
    let mut chains = Vec::new();
    let mut jumps = Vec::new();
    for line in text.lines() {
        if let Some(decl) = line.strip_prefix(':') {
            let name = decl.split_whitespace().next().unwrap_or("");
            if name.starts_with("SLUICE-") {
                chains.push(name.to_owned());
            }
        } else if let Some(rule) = line.strip_prefix("-A ") {
            let chain = rule.split_whitespace().next().unwrap_or("");
            let target = rule
                .split_once(" -j ")
                .map(|(_, t)| t.split_whitespace().next().unwrap_or(""));
            if !chain.starts_with("SLUICE-") && target.is_some_and(|t| t.starts_with("SLUICE-")) {
                let owner = rule
                    .split_once("sluice pid=")
                    .and_then(|(_, r)| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
                jumps.push((line.to_owned(), owner));
            }
        }
    }
    (chains, jumps)
}

/// The `-j` target of a rule line.
fn jump_target(line: &str) -> &str {
    line.split_once(" -j ")
        .map(|(_, t)| t.split_whitespace().next().unwrap_or(""))
        .unwrap_or("")
}

/// Removes, in one family of one iptables backend, the chains `pick`
/// accepts and every jump to them.
fn remove_iptables(backend: Backend, v6: bool, pick: impl Fn(&str) -> bool) -> Result<usize> {
    let save = match run_tool(&backend.tool(v6, "-save"), &["-t", "mangle"], None) {
        Ok(s) => s,
        // No mangle table in this backend: nothing of ours either.
        Err(e) if e.to_string().contains("does not exist") => return Ok(0),
        Err(e) => return Err(e),
    };
    let (chains, jumps) = ours_in_save(&save);
    let chains: Vec<_> = chains.into_iter().filter(|c| pick(c)).collect();
    if chains.is_empty() {
        return Ok(0);
    }
    let mut script = String::from("*mangle\n");
    for (line, _) in &jumps {
        if chains.iter().any(|c| c == jump_target(line)) {
            let _ = writeln!(script, "-D {}", &line[3..]);
        }
    }
    for c in &chains {
        let _ = writeln!(script, "-F {c}");
    }
    for c in &chains {
        let _ = writeln!(script, "-X {c}");
    }
    script.push_str("COMMIT\n");
    run_tool(
        &backend.tool(v6, "-restore"),
        &["--noflush", "-w", "5"],
        Some(&script),
    )?;
    Ok(chains.len())
}

/// Every chain and table of ours in every installed backend.
pub fn list() -> Result<Vec<Found>> {
    let mut found = Vec::new();
    for backend in Backend::ALL.into_iter().filter(|b| b.available()) {
        if backend == Backend::Nft {
            let Ok(out) = run_tool("nft", &["list", "tables"], None) else {
                continue;
            };
            for line in out.lines() {
                let mut w = line.split_whitespace();
                if let (Some("table"), Some(fam), Some(name)) = (w.next(), w.next(), w.next())
                    && name.starts_with("sluice_")
                {
                    found.push(Found {
                        backend,
                        ipv6: fam != "ip",
                        name: name.to_owned(),
                        owner: name.rsplit_once("_p").and_then(|(_, p)| p.parse().ok()),
                    });
                }
            }
            continue;
        }
        for v6 in [false, true] {
            let Ok(save) = run_tool(&backend.tool(v6, "-save"), &["-t", "mangle"], None) else {
                continue;
            };
            let (chains, jumps) = ours_in_save(&save);
            for c in chains {
                let owner = jumps
                    .iter()
                    .find(|(l, _)| jump_target(l) == c)
                    .and_then(|(_, o)| *o);
                found.push(Found {
                    backend,
                    ipv6: v6,
                    name: c,
                    owner,
                });
            }
        }
    }
    Ok(found)
}

/// Which leftovers [`cleanup`] removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CleanupScope {
    /// Those whose owner process is gone (or unknown).
    DeadOwners,
    /// All of ours, also those of running processes.
    All,
}

/// What [`cleanup`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// Removed chains and tables.
    pub removed: Vec<Found>,
    /// Kept because their owner still runs.
    pub kept: Vec<Found>,
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes the chains and tables of ours that `scope` selects (of one
/// queue or log number when `number` is given), in every installed
/// backend and both families of the calling thread's network namespace.
pub fn cleanup(scope: CleanupScope, number: Option<u16>) -> Result<CleanupReport> {
    let mut report = CleanupReport::default();
    let found = list()?;
    let wanted = |f: &Found| -> bool {
        let num_ok = number.is_none_or(|n| {
            let n = n.to_string();
            match f.backend {
                Backend::Nft => {
                    f.name
                        .strip_prefix("sluice_")
                        .and_then(|r| r.get(1..))
                        .and_then(|r| r.split('_').next())
                        == Some(n.as_str())
                }
                _ => {
                    f.name
                        .strip_prefix("SLUICE-")
                        .and_then(|r| r.get(1..))
                        .and_then(|r| r.split('-').next())
                        == Some(n.as_str())
                }
            }
        });
        let owner_ok = match scope {
            CleanupScope::All => true,
            CleanupScope::DeadOwners => f.owner.is_none_or(|p| !alive(p)),
        };
        num_ok && owner_ok
    };
    let (remove, keep): (Vec<Found>, Vec<Found>) = found.into_iter().partition(|f| wanted(f));
    report.kept = keep;
    let mut first_err = None;
    for backend in Backend::ALL {
        let mine: Vec<&Found> = remove.iter().filter(|f| f.backend == backend).collect();
        if mine.is_empty() {
            continue;
        }
        if backend == Backend::Nft {
            for f in mine {
                match run_tool("nft", &["delete", "table", "inet", &f.name], None) {
                    Ok(_) => report.removed.push(f.clone()),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            continue;
        }
        for v6 in [false, true] {
            let names: Vec<&str> = mine
                .iter()
                .filter(|f| f.ipv6 == v6)
                .map(|f| f.name.as_str())
                .collect();
            if names.is_empty() {
                continue;
            }
            match remove_iptables(backend, v6, |c| names.contains(&c)) {
                Ok(_) => report
                    .removed
                    .extend(mine.iter().filter(|f| f.ipv6 == v6).map(|f| (*f).clone())),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// What the kernel and tools here can do, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Probe {
    /// Installed rule tools.
    pub backends: Vec<Backend>,
    /// nft's own `queue` statement works (checked with `nft -c`).
    pub nft_queue: bool,
}

/// Checks which tools are installed and whether nft's `queue` statement
/// is available (a dry run: nothing is installed).
pub fn probe() -> Probe {
    let backends = Backend::detect();
    let nft_queue = backends.contains(&Backend::Nft)
        && run_tool(
            "nft",
            &["-c", "-f", "-"],
            Some(
                "table inet sluice_probe {\n  chain c {\n    type filter hook output priority mangle;\n    queue num 0 bypass\n  }\n}\n",
            ),
        )
        .is_ok();
    Probe {
        backends,
        nft_queue,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RuleSpec {
        let mut s = RuleSpec::new(
            Directions {
                input: true,
                output: true,
                forward: false,
            },
            Action::Queue {
                queue: 7,
                count: 1,
                bypass: true,
            },
        );
        s.bpf = Some(vec![
            Insn::stmt(0x30, 9),
            Insn::jump(0x15, 6, 0, 1),
            Insn::stmt(0x06, 1),
            Insn::stmt(0x06, 0),
        ]);
        s
    }

    #[test]
    fn iptables_script() {
        let s = iptables_install_script(&spec(), 42);
        assert_eq!(
            s,
            "*mangle\n\
             :SLUICE-Q7-IN - [0:0]\n\
             -A SLUICE-Q7-IN -m mark --mark 0x5ce10000/0xffff0000 -j RETURN\n\
             -A SLUICE-Q7-IN -m bpf --bytecode \"4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\" -j NFQUEUE --queue-num 7 --queue-bypass\n\
             -I INPUT 1 -m comment --comment \"sluice pid=42\" -j SLUICE-Q7-IN\n\
             :SLUICE-Q7-OUT - [0:0]\n\
             -A SLUICE-Q7-OUT -m mark --mark 0x5ce10000/0xffff0000 -j RETURN\n\
             -A SLUICE-Q7-OUT -m bpf --bytecode \"4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\" -j NFQUEUE --queue-num 7 --queue-bypass\n\
             -I OUTPUT 1 -m comment --comment \"sluice pid=42\" -j SLUICE-Q7-OUT\n\
             COMMIT\n"
        );
        let mut sp = spec();
        sp.directions.forward = true;
        sp.interface = Some("eth0".into());
        sp.bpf = None;
        sp.action = Action::Queue {
            queue: 3,
            count: 4,
            bypass: false,
        };
        let s = iptables_install_script(&sp, 1);
        assert!(s.contains("-A SLUICE-Q3-FWD -j NFQUEUE --queue-balance 3:6\n"));
        assert!(s.contains("-I FORWARD 1 -i eth0 -m comment"));
        assert!(s.contains("-I FORWARD 1 -o eth0 -m comment"));
        assert!(s.contains("-I OUTPUT 1 -o eth0 -m comment"));
        sp.action = Action::Log { group: 9 };
        let s = iptables_install_script(&sp, 1);
        assert!(s.contains("-A SLUICE-L9-IN -j NFLOG --nflog-group 9\n"));
    }

    #[test]
    fn nft_script() {
        let mut sp = spec();
        sp.bpf = None;
        sp.ipv6 = false;
        sp.interface = Some("eth0".into());
        let s = nft_install_script(&sp, 42);
        assert!(s.starts_with("table inet sluice_q7_p42 {\n"));
        assert!(s.contains("type filter hook input priority mangle; policy accept;"));
        assert!(s.contains("meta mark & 0xffff0000 == 0x5ce10000 counter return"));
        assert!(s.contains("meta nfproto ipv6 return"));
        assert!(s.contains("iifname \"eth0\" counter queue num 7 bypass"));
        assert!(s.contains("oifname \"eth0\" counter queue num 7 bypass"));
    }

    #[test]
    fn finds_ours_in_save_output() {
        let save = "# Generated by iptables-nft-save v1.8.9 (nf_tables)\n\
                    *mangle\n\
                    :PREROUTING ACCEPT [0:0]\n\
                    :INPUT ACCEPT [0:0]\n\
                    :SLUICE-Q7-IN - [0:0]\n\
                    :SLUICE-L2-OUT - [0:0]\n\
                    :OTHER - [0:0]\n\
                    -A INPUT -m comment --comment \"sluice pid=4242\" -j SLUICE-Q7-IN\n\
                    -A INPUT -j OTHER\n\
                    -A OUTPUT -o eth0 -m comment --comment \"sluice pid=17\" -j SLUICE-L2-OUT\n\
                    -A SLUICE-Q7-IN -m mark --mark 0x5ce10000/0xffff0000 -j RETURN\n\
                    COMMIT\n";
        let (chains, jumps) = ours_in_save(save);
        assert_eq!(chains, vec!["SLUICE-Q7-IN", "SLUICE-L2-OUT"]);
        assert_eq!(jumps.len(), 2);
        assert_eq!(jumps[0].1, Some(4242));
        assert_eq!(jump_target(&jumps[1].0), "SLUICE-L2-OUT");
        assert_eq!(jumps[1].1, Some(17));
        assert_eq!(
            counted_rule("[12:3400] -A SLUICE-Q7-IN -j NFQUEUE --queue-num 7"),
            Some((12, "-A SLUICE-Q7-IN -j NFQUEUE --queue-num 7"))
        );
        assert_eq!(nft_counter("queue num 7 bypass"), None);
        assert_eq!(
            nft_counter("counter packets 5 bytes 300 queue num 7"),
            Some(5)
        );
    }

    #[test]
    fn refuses_bad_specs() {
        let mut s = spec();
        s.bpf = Some(vec![Insn::stmt(0x06, 1); 65]);
        assert_eq!(
            Rules::install(&s).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        let mut s = spec();
        s.interface = Some("a\"b".into());
        assert_eq!(
            Rules::install(&s).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
        let mut s = spec();
        s.directions = Directions::default();
        assert_eq!(
            Rules::install(&s).unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
    }
}
