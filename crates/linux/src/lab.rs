//! A throwaway network lab: three network namespaces joined by veth pairs,
//! for tests, demos and benchmarks (`sluice lab up|down|status|exec`).
//!
//! ```text
//!   <p>h                 <p>m                     <p>n
//!  ┌──────────┐      ┌────────────────┐      ┌──────────┐
//!  │ eth0     │──────│ up0 ─ (br0) ─ lo0│──────│ eth0     │
//!  │10.77.X.1 │      │  (the middle)   │      │10.77.X.2 │
//!  │fd77:X::1 │      └────────────────┘      │fd77:X::2 │
//!  └──────────┘                              └──────────┘
//! ```
//!
//! `h` is the host side, `n` the network side; `m` holds `up0` (facing h)
//! and `lo0` (facing n). h and n share one layer-2 segment when something
//! in m joins up0 and lo0: the Linux bridge with `kbridge` (the baseline),
//! or a sluice redirector. Only 10.77.0.0/16 and fd77::/16 are used, inside
//! the lab's own namespaces; the machine's interfaces are never touched.
//!
//! Names are unique per lab (`sl` + the pid and a counter in base 36, or a
//! chosen prefix), so tests run in parallel. Everything the lab made goes
//! away on [`Lab::down`], on drop (also when a test panics), and, for labs
//! of processes that died, with [`Lab::cleanup_stale`].

use std::fmt::Write as _;
use std::fs::File;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, ErrorKind, Result};
use crate::sys;

/// One of the lab's namespaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ns {
    /// The host side (`<p>h`, interface `eth0`, address `.1`).
    Host,
    /// The network side (`<p>n`, interface `eth0`, address `.2`).
    Net,
    /// The middle (`<p>m`, interfaces `up0` and `lo0`).
    Middle,
}

impl Ns {
    fn suffix(self) -> char {
        match self {
            Ns::Host => 'h',
            Ns::Net => 'n',
            Ns::Middle => 'm',
        }
    }

    const ALL: [Ns; 3] = [Ns::Host, Ns::Net, Ns::Middle];
}

/// How to build a lab.
#[non_exhaustive]
#[derive(Clone, Debug, Default)]
pub struct LabOptions {
    /// Join up0 and lo0 with a Linux bridge `br0` in m.
    pub kbridge: bool,
    /// Turn TSO, GSO, GRO and TX checksumming on or off on all four veth
    /// ends (`ethtool -K`); `None` leaves the kernel's defaults.
    pub offloads: Option<bool>,
    /// MTU of all four veth ends; `None` leaves 1500.
    pub mtu: Option<u32>,
    /// Name prefix (1–12 of `[a-z0-9]`); `None` makes a unique one.
    pub prefix: Option<String>,
}

impl LabOptions {
    /// Defaults: no bridge, kernel offloads, MTU 1500, unique name.
    pub fn new() -> LabOptions {
        LabOptions::default()
    }
}

/// A running lab. Dropping it removes everything it made, unless it was
/// made to outlive the process with [`Lab::persist`].
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    subnet: u8,
    kbridge: bool,
    owned: bool,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn base36(mut v: u64, width: usize) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(v % 36) as usize];
        v /= 36;
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The subnet byte X of a prefix (1..=254), the same every time.
fn subnet_of(prefix: &str) -> u8 {
    let mut h: u32 = 0x811c_9dc5;
    for b in prefix.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    (h % 254) as u8 + 1
}

fn valid_prefix(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 12
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The pid encoded in an automatic lab name (`sl` + 5 base-36 digits of
/// the pid + 2 of a counter + the namespace letter).
fn auto_owner(ns_name: &str) -> Option<u32> {
    let b = ns_name.as_bytes();
    if b.len() != 10 || !ns_name.starts_with("sl") || !matches!(b[9], b'h' | b'n' | b'm') {
        return None;
    }
    u32::from_str_radix(&ns_name[2..7], 36).ok()
}

fn run(cmd: &mut Command, what: &str) -> Result<Output> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| {
        Error::with_kind(
            ErrorKind::Lab,
            format!("{what}: cannot run {:?}", cmd.get_program()),
            e,
        )
    })?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorKind::Lab,
            format!(
                "{what}: {:?} {:?} failed ({}): {}",
                cmd.get_program(),
                cmd.get_args().collect::<Vec<_>>(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(out)
}

fn ip(args: &[&str], what: &str) -> Result<Output> {
    run(Command::new("ip").args(args), what)
}

fn list_namespaces() -> Result<Vec<String>> {
    let out = ip(&["netns", "list"], "listing namespaces")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

fn delete_namespace(name: &str) -> Result<()> {
    ip(&["netns", "del", name], "deleting a lab namespace").map(|_| ())
}

fn tool_exists(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// Succeeds when this process runs as root (user id 0), which labs,
/// packet sockets and netfilter rules need; otherwise the error says so
/// and names `what` needed it. Live tests call it first, so that they fail
/// with the reason instead of an obscure `EPERM`.
pub fn require_root(what: &str) -> Result<()> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1));
    match uid {
        Some("0") => Ok(()),
        Some(u) => Err(Error::new(
            ErrorKind::Permission,
            format!(
                "{what} needs root (network namespaces, packet sockets, netfilter): running as user {u}"
            ),
        )),
        None => Err(Error::new(
            ErrorKind::Permission,
            format!("{what} needs root, and /proc/self/status does not say who this process is"),
        )),
    }
}

/// Succeeds when every tool in `tools` is a file in a `PATH` directory;
/// otherwise the error names the first one missing.
pub fn require_tools(tools: &[&str]) -> Result<()> {
    match tools.iter().find(|t| !tool_exists(t)) {
        None => Ok(()),
        Some(t) => Err(Error::new(
            ErrorKind::Lab,
            format!("`{t}` is not installed (not found on PATH)"),
        )),
    }
}

impl Lab {
    /// Builds a lab. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and the
    /// `ip` tool (iproute2); `ethtool` when offloads are set. On failure,
    /// whatever was made is removed.
    pub fn up(opts: &LabOptions) -> Result<Lab> {
        require_root("a lab")?;
        if !tool_exists("ip") {
            return Err(Error::new(
                ErrorKind::Lab,
                "the lab needs the `ip` tool: install the iproute2 package",
            ));
        }
        if opts.offloads.is_some() && !tool_exists("ethtool") {
            return Err(Error::new(
                ErrorKind::Lab,
                "setting offloads needs `ethtool`: install the ethtool package",
            ));
        }
        if let Some(m) = opts.mtu
            && !(68..=65_535).contains(&m)
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("lab MTU {m} outside 68..=65535"),
            ));
        }
        let prefix = match &opts.prefix {
            Some(p) if valid_prefix(p) => p.clone(),
            Some(p) => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("lab prefix {p:?} must be 1 to 12 of a-z and 0-9"),
                ));
            }
            None => {
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                format!(
                    "sl{}{}",
                    base36(u64::from(std::process::id()), 5),
                    base36(u64::from(n), 2)
                )
            }
        };
        let existing = list_namespaces()?;
        if let Some(n) = Ns::ALL
            .iter()
            .map(|ns| format!("{prefix}{}", ns.suffix()))
            .find(|n| existing.contains(n))
        {
            return Err(Error::new(
                ErrorKind::Lab,
                format!("a lab namespace named {n} already exists"),
            ));
        }
        let lab = Lab {
            subnet: subnet_of(&prefix),
            prefix,
            kbridge: opts.kbridge,
            owned: true,
        };
        // From here on, dropping `lab` on an error removes what was made.
        lab.build(opts)?;
        Ok(lab)
    }

    fn build(&self, opts: &LabOptions) -> Result<()> {
        let (h, n, m) = (
            self.ns_name(Ns::Host),
            self.ns_name(Ns::Net),
            self.ns_name(Ns::Middle),
        );
        for ns in [&h, &n, &m] {
            ip(&["netns", "add", ns], "creating a lab namespace")?;
        }
        // Quiet, immediate IPv6 on new devices: no DAD, no router
        // solicitations; none at all in the middle.
        for ns in [&h, &n] {
            self.sysctl(
                ns,
                &[
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.default.router_solicitations=0",
                ],
            )?;
        }
        self.sysctl(
            &m,
            &[
                "net.ipv6.conf.default.disable_ipv6=1",
                "net.ipv6.conf.all.disable_ipv6=1",
            ],
        )?;
        let x = self.subnet;
        let mac = |a: u8, b: u8| format!("02:77:{x:02x}:00:{a:02x}:{b:02x}");
        for (ns, end, host_mac, mid_mac) in [
            (&h, "up0", mac(0, 1), mac(1, 1)),
            (&n, "lo0", mac(0, 2), mac(1, 2)),
        ] {
            ip(
                &[
                    "-n", ns, "link", "add", "eth0", "address", &host_mac, "type", "veth", "peer",
                    "name", end, "address", &mid_mac, "netns", &m,
                ],
                "creating a lab veth pair",
            )?;
        }
        let ends = [(&h, "eth0"), (&n, "eth0"), (&m, "up0"), (&m, "lo0")];
        if let Some(mtu) = opts.mtu {
            let mtu = mtu.to_string();
            for (ns, dev) in ends {
                ip(
                    &["-n", ns, "link", "set", "dev", dev, "mtu", &mtu],
                    "setting the lab MTU",
                )?;
            }
        }
        if let Some(on) = opts.offloads {
            let v = if on { "on" } else { "off" };
            for (ns, dev) in ends {
                run(
                    Command::new("ip").args([
                        "netns", "exec", ns, "ethtool", "-K", dev, "tso", v, "gso", v, "gro", v,
                        "tx", v,
                    ]),
                    "setting lab offloads",
                )?;
            }
        }
        for (ns, last) in [(&h, 1), (&n, 2)] {
            ip(
                &[
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("10.77.{x}.{last}/24"),
                    "dev",
                    "eth0",
                ],
                "adding a lab address",
            )?;
            ip(
                &[
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("fd77:{x:x}::{last}/64"),
                    "dev",
                    "eth0",
                    "nodad",
                ],
                "adding a lab address",
            )?;
        }
        if self.kbridge {
            ip(
                &[
                    "-n",
                    &m,
                    "link",
                    "add",
                    "br0",
                    "type",
                    "bridge",
                    "stp_state",
                    "0",
                    "forward_delay",
                    "0",
                ],
                "creating the lab bridge",
            )?;
            for dev in ["up0", "lo0"] {
                ip(
                    &["-n", &m, "link", "set", "dev", dev, "master", "br0"],
                    "joining the lab bridge",
                )?;
            }
            ip(
                &["-n", &m, "link", "set", "dev", "br0", "up"],
                "bringing the lab bridge up",
            )?;
        }
        for (ns, dev) in ends.into_iter().chain([(&h, "lo"), (&n, "lo"), (&m, "lo")]) {
            ip(
                &["-n", ns, "link", "set", "dev", dev, "up"],
                "bringing a lab interface up",
            )?;
        }
        // The kernel activates a device's queueing and a bridge port only
        // when its link watcher has seen the carrier (up to a second later);
        // frames sent before that vanish. Wait until every end is UP and,
        // with the bridge, both ports forward, all at the same time.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (ready, state) = self.link_state(&ends)?;
            if ready {
                break;
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Lab,
                    format!("lab links not ready after 10 s: {state}"),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Ok(())
    }

    /// Whether every veth end is UP (and, with the bridge, both ports
    /// forward); the second value describes what was seen.
    fn link_state(&self, ends: &[(&String, &str)]) -> Result<(bool, String)> {
        let mut seen = String::new();
        let mut ready = true;
        for (ns, dev) in ends {
            let out = ip(
                &["-n", ns, "-br", "link", "show", "dev", dev],
                "reading a lab link state",
            )?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            ready &= text.split_whitespace().nth(1) == Some("UP");
            seen.push_str(text.trim());
            seen.push_str("; ");
        }
        // IPv6 routes of the lab prefix appear once addrconf has seen the
        // carrier.
        let prefix6 = format!("fd77:{:x}::/64", self.subnet);
        for ns in [Ns::Host, Ns::Net] {
            let name = self.ns_name(ns);
            let out = ip(
                &["-n", &name, "-6", "route", "show", &prefix6],
                "reading lab routes",
            )?;
            let has = !out.stdout.is_empty();
            ready &= has;
            if !has {
                seen.push_str(&format!("no route to {prefix6} in {name}; "));
            }
        }
        if self.kbridge {
            let m = self.ns_name(Ns::Middle);
            let out = run(
                Command::new("bridge").args(["-n", &m, "link", "show"]),
                "reading the lab bridge ports",
            )?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            for dev in ["up0", "lo0"] {
                let line = text.lines().find(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|n| n.trim_end_matches(':').split('@').next())
                        == Some(dev)
                });
                ready &= line
                    .is_some_and(|l| l.contains("state forwarding") && !l.contains("NO-CARRIER"));
            }
            seen.push_str(text.trim());
        }
        Ok((ready, seen))
    }

    fn sysctl(&self, ns: &str, settings: &[&str]) -> Result<()> {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, "sysctl", "-q", "-w"])
            .args(settings);
        run(&mut c, "setting lab sysctls").map(|_| ())
    }

    /// A handle on an existing lab made with `prefix` (for `sluice lab
    /// down|status|exec` after `lab up` in another process). The handle
    /// does not remove the lab on drop; call [`Lab::down`].
    pub fn attach(prefix: &str) -> Result<Lab> {
        if !valid_prefix(prefix) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("lab prefix {prefix:?} must be 1 to 12 of a-z and 0-9"),
            ));
        }
        let existing = list_namespaces()?;
        let mut lab = Lab {
            prefix: prefix.to_owned(),
            subnet: subnet_of(prefix),
            kbridge: false,
            owned: false,
        };
        if !Ns::ALL
            .iter()
            .any(|&ns| existing.contains(&lab.ns_name(ns)))
        {
            return Err(Error::new(ErrorKind::Lab, format!("no lab named {prefix}")));
        }
        lab.kbridge = lab
            .exec_unchecked(Ns::Middle, &["ip", "link", "show", "br0"])
            .is_ok_and(|o| o.status.success());
        Ok(lab)
    }

    /// Keeps the lab after this handle is dropped; returns its prefix.
    pub fn persist(mut self) -> String {
        self.owned = false;
        self.prefix.clone()
    }

    /// Removes the lab's namespaces (and with them its interfaces). Errors
    /// are collected: every namespace is tried.
    pub fn down(mut self) -> Result<()> {
        self.owned = false;
        self.remove()
    }

    fn remove(&self) -> Result<()> {
        let existing = list_namespaces()?;
        let mut first_err = None;
        for ns in Ns::ALL {
            let name = self.ns_name(ns);
            if existing.contains(&name)
                && let Err(e) = delete_namespace(&name)
            {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Removes the namespaces of automatically named labs whose process is
    /// gone (killed before it could clean up). Returns the names removed.
    pub fn cleanup_stale() -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for name in list_namespaces()? {
            if let Some(pid) = auto_owner(&name)
                && !std::path::Path::new(&format!("/proc/{pid}")).exists()
            {
                delete_namespace(&name)?;
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// Removes every namespace of the lab named `prefix` (h, n and m).
    pub fn remove_prefix(prefix: &str) -> Result<Vec<String>> {
        if !valid_prefix(prefix) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("lab prefix {prefix:?} must be 1 to 12 of a-z and 0-9"),
            ));
        }
        let mut removed = Vec::new();
        for name in list_namespaces()? {
            if name.len() == prefix.len() + 1
                && name.starts_with(prefix)
                && matches!(name.as_bytes()[prefix.len()], b'h' | b'n' | b'm')
            {
                delete_namespace(&name)?;
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// The lab's prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether up0 and lo0 are bridged by the kernel.
    pub fn kbridge(&self) -> bool {
        self.kbridge
    }

    /// The name of a namespace of the lab.
    pub fn ns_name(&self, ns: Ns) -> String {
        format!("{}{}", self.prefix, ns.suffix())
    }

    /// The subnet byte X (10.77.X.0/24, fd77:X::/64).
    pub fn subnet(&self) -> u8 {
        self.subnet
    }

    /// IPv4 address of h's eth0 (10.77.X.1).
    pub fn host_ip4(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.subnet, 1)
    }

    /// IPv4 address of n's eth0 (10.77.X.2).
    pub fn net_ip4(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, self.subnet, 2)
    }

    /// IPv6 address of h's eth0 (fd77:X::1).
    pub fn host_ip6(&self) -> Ipv6Addr {
        Ipv6Addr::new(0xfd77, u16::from(self.subnet), 0, 0, 0, 0, 0, 1)
    }

    /// IPv6 address of n's eth0 (fd77:X::2).
    pub fn net_ip6(&self) -> Ipv6Addr {
        Ipv6Addr::new(0xfd77, u16::from(self.subnet), 0, 0, 0, 0, 0, 2)
    }

    /// MAC address of h's eth0, n's eth0, m's up0 or lo0 (fixed by the lab).
    pub fn mac(&self, ns: Ns, middle_lower: bool) -> [u8; 6] {
        let (a, b) = match (ns, middle_lower) {
            (Ns::Host, _) => (0, 1),
            (Ns::Net, _) => (0, 2),
            (Ns::Middle, false) => (1, 1),
            (Ns::Middle, true) => (1, 2),
        };
        [0x02, 0x77, self.subnet, 0, a, b]
    }

    fn netns_command(&self, ns: Ns, cmd: &[&str]) -> Result<Command> {
        let (prog, args) = cmd
            .split_first()
            .ok_or_else(|| Error::new(ErrorKind::InvalidConfig, "empty command for the lab"))?;
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns_name(ns), prog])
            .args(args);
        Ok(c)
    }

    /// Runs `cmd` in namespace `ns` and waits; a non-zero exit is an error
    /// carrying its stderr.
    pub fn exec(&self, ns: Ns, cmd: &[&str]) -> Result<Output> {
        let mut c = self.netns_command(ns, cmd)?;
        run(&mut c, &format!("running {cmd:?} in {}", self.ns_name(ns)))
    }

    /// Runs `cmd` in namespace `ns` and waits, whatever its exit status.
    pub fn exec_unchecked(&self, ns: Ns, cmd: &[&str]) -> Result<Output> {
        let mut c = self.netns_command(ns, cmd)?;
        c.stdin(Stdio::null()).output().map_err(|e| {
            Error::with_kind(
                ErrorKind::Lab,
                format!("running {cmd:?} in {}", self.ns_name(ns)),
                e,
            )
        })
    }

    /// Starts `cmd` in namespace `ns` without waiting (output discarded
    /// unless the caller changes the returned command's settings first —
    /// use [`Lab::command`] for that).
    pub fn spawn(&self, ns: Ns, cmd: &[&str]) -> Result<Child> {
        let mut c = self.netns_command(ns, cmd)?;
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                Error::with_kind(
                    ErrorKind::Lab,
                    format!("starting {cmd:?} in {}", self.ns_name(ns)),
                    e,
                )
            })
    }

    /// A `Command` that runs `cmd` in namespace `ns`, to adjust and start.
    pub fn command(&self, ns: Ns, cmd: &[&str]) -> Result<Command> {
        self.netns_command(ns, cmd)
    }

    /// Runs `f` on a thread that has entered namespace `ns`, and returns its
    /// result. Sockets `f` opens belong to that namespace and can be used
    /// from any thread afterwards. A panic in `f` is passed on.
    pub fn run_in<T: Send, F: FnOnce() -> T + Send>(&self, ns: Ns, f: F) -> Result<T> {
        in_namespace(&self.ns_name(ns), f)
    }

    /// Every iptables rule in namespace `ns`, of both families and both
    /// variants (nft and legacy), as the `*-save` tools print them; a tool
    /// that is missing or fails adds nothing. For tests that check no rule
    /// was left behind.
    pub fn iptables_rules(&self, ns: Ns) -> String {
        let mut all = String::new();
        for tool in [
            "iptables-nft-save",
            "ip6tables-nft-save",
            "iptables-legacy-save",
            "ip6tables-legacy-save",
        ] {
            if let Ok(out) = self.exec_unchecked(ns, &[tool]) {
                all.push_str(&String::from_utf8_lossy(&out.stdout));
            }
        }
        all
    }

    /// A description of the lab: namespaces, links, addresses.
    pub fn status(&self) -> Result<String> {
        let existing = list_namespaces()?;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "lab {} (10.77.{x}.0/24, fd77:{x:x}::/64){}",
            self.prefix,
            if self.kbridge { ", kernel bridge" } else { "" },
            x = self.subnet
        );
        for ns in Ns::ALL {
            let name = self.ns_name(ns);
            if !existing.contains(&name) {
                let _ = writeln!(s, "  {name}: missing");
                continue;
            }
            let _ = writeln!(s, "  {name}:");
            let out = ip(
                &["-n", &name, "-br", "addr", "show"],
                "reading lab addresses",
            )?;
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = writeln!(s, "    {line}");
            }
        }
        Ok(s)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.owned {
            // Best effort: a failure here cannot be returned; cleanup_stale
            // catches what is left.
            let _ = self.remove();
        }
    }
}

/// Runs `f` on a new thread inside the named network namespace
/// (`/run/netns/<name>`), and returns its result. A panic in `f` is passed
/// on to the caller.
pub fn in_namespace<T: Send, F: FnOnce() -> T + Send>(name: &str, f: F) -> Result<T> {
    let file = File::open(format!("/run/netns/{name}")).map_err(|e| {
        Error::with_kind(
            ErrorKind::Lab,
            format!("opening network namespace {name}"),
            e,
        )
    })?;
    let joined = std::thread::scope(|s| {
        s.spawn(|| {
            sys::setns_net(file.as_fd())
                .map_err(|e| Error::io(format!("entering network namespace {name}"), e))?;
            Ok(f())
        })
        .join()
    });
    match joined {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_encode_the_owner() {
        let p = format!("sl{}{}", base36(4_194_303, 5), base36(7, 2));
        assert_eq!(p.len(), 9);
        assert_eq!(auto_owner(&format!("{p}h")), Some(4_194_303));
        assert_eq!(auto_owner("lab0h"), None);
        assert_eq!(auto_owner("sl00001007x"), None);
        assert!(valid_prefix("lab0"));
        assert!(!valid_prefix("Lab"));
        assert!(!valid_prefix("abcdefghijklm"));
        let x = subnet_of("lab0");
        assert!((1..=254).contains(&x));
        assert_eq!(subnet_of("lab0"), x);
    }
}
