//! libpcap as a test oracle for the sluice filter compiler.
//!
//! sluice compiles the pcap-filter language itself; libpcap 1.10 is the
//! reference it is measured against. This crate is a small safe wrapper
//! over the few libpcap entry points the differential tests need:
//!
//! - [`compile`] / [`compile_with`]: `pcap_open_dead(linktype, snaplen)` +
//!   `pcap_compile(expr, optimize, netmask)`, giving the instructions or
//!   libpcap's error text; with [`Config::savefile`], the handle is a
//!   capture file's (`pcap_open_offline` on a header-only file), which
//!   is how tcpdump compiles for `-r` (libpcap then refuses the direction
//!   and interface tests it has no metadata for);
//! - [`LiveHandle`]: the same for a live capture on an interface, as
//!   tcpdump compiles for `-i`;
//! - [`run`]: libpcap's userland interpreter `bpf_filter` over one packet,
//!   after `bpf_validate` has accepted the program;
//! - [`image`]: the `tcpdump -d` listing of a program (`bpf_image`).
//!
//! It is a development dependency only (`publish = false`) and links the
//! system libpcap. libpcap's compiler keeps global state in older releases
//! and `bpf_image` returns a static buffer, so every call into libpcap that
//! is not a pure function is serialised by one process-wide lock.
//!
//! This is the only crate outside `sluice-linux` and `sluice-pcap` that
//! holds `unsafe`: it exists to call C, and each call is wrapped in a safe
//! function whose invariants are stated at the call site.
#![deny(missing_docs)]

use std::ffi::{CStr, CString, c_int, c_uint};
use std::fmt;
use std::sync::Mutex;

/// One classic BPF instruction as `(code, jt, jf, k)`, the layout of
/// libpcap's `struct bpf_insn`.
pub type RawInsn = (u16, u8, u8, u32);

/// `PCAP_NETMASK_UNKNOWN`: what `pcap_compile` is given when no netmask is
/// known (`ip broadcast` is then rejected).
pub const NETMASK_UNKNOWN: u32 = 0xffff_ffff;

/// How to compile an expression with libpcap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// The pcap `LINKTYPE_*` value (mapped to libpcap's `DLT_*` here).
    pub linktype: u32,
    /// The snapshot length; an accepting program returns it.
    pub snaplen: u32,
    /// Run libpcap's optimiser (`pcap_compile`'s `optimize` argument).
    pub optimize: bool,
    /// The IPv4 netmask in host order (`0xffffff00` for a /24), needed by
    /// `ip broadcast`; `None` passes `PCAP_NETMASK_UNKNOWN`.
    pub netmask: Option<u32>,
    /// Compile as for a capture file being read rather than on a dead
    /// handle. The two differ only where libpcap looks at whether it
    /// reads a file: `inbound`, `outbound` and `ifindex` on a linktype
    /// without those fields (after `geneve` too, which switches to
    /// Ethernet) compile to Linux ancillary loads on a dead handle and are
    /// refused for a file.
    pub savefile: bool,
}

impl Default for Config {
    /// Ethernet, snapshot length 262144, optimised, no netmask: what
    /// tcpdump uses on a capture file.
    fn default() -> Config {
        Config {
            linktype: 1,
            snaplen: 262_144,
            optimize: true,
            netmask: None,
            savefile: false,
        }
    }
}

/// A program that libpcap's `bpf_validate` refuses, so `bpf_filter` must
/// not be run on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidProgram {
    /// Number of instructions of the refused program.
    pub len: usize,
}

impl fmt::Display for InvalidProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "libpcap's bpf_validate refuses this {}-instruction program",
            self.len
        )
    }
}

impl std::error::Error for InvalidProgram {}

/// The libpcap `DLT_*` value for a pcap `LINKTYPE_*` value.
///
/// They are equal except for a few historical values; of those sluice
/// meets only `LINKTYPE_RAW` (101), which is `DLT_RAW` (12) on Linux.
pub fn dlt_of_linktype(linktype: u32) -> u32 {
    match linktype {
        101 => 12,
        other => other,
    }
}

/// Compiles `expr` for `linktype` with the default snapshot length and an
/// unknown netmask. Returns the instructions or libpcap's error message.
pub fn compile(expr: &str, linktype: u32, optimize: bool) -> Result<Vec<RawInsn>, String> {
    compile_with(
        expr,
        &Config {
            linktype,
            optimize,
            ..Config::default()
        },
    )
}

/// Compiles `expr` with libpcap under `config`. Returns the instructions or
/// libpcap's error message (as `pcap_geterr` gives it).
pub fn compile_with(expr: &str, config: &Config) -> Result<Vec<RawInsn>, String> {
    let c_expr = CString::new(expr).map_err(|_| "expression contains a NUL byte".to_string())?;
    let linktype = c_int::try_from(dlt_of_linktype(config.linktype))
        .map_err(|_| format!("linktype {} out of range", config.linktype))?;
    let snaplen = c_int::try_from(config.snaplen)
        .map_err(|_| format!("snapshot length {} out of range", config.snaplen))?;
    let _guard = lock();
    let handle = if config.savefile {
        Handle::open_file(config.linktype, config.snaplen)?
    } else {
        Handle::open_dead(linktype, snaplen)?
    };
    handle.compile(
        &c_expr,
        config.optimize,
        config.netmask.unwrap_or(NETMASK_UNKNOWN),
    )
}

/// libpcap opened on a network interface as tcpdump opens it for a live
/// capture (`pcap_create` + `pcap_activate`), to compile programs for it:
/// on Linux these read VLAN tags, direction and interface through the
/// kernel's ancillary loads (what `tcpdump -d -i IF` prints). Opening it
/// needs CAP_NET_RAW; the handle stays on the thread that opened it.
pub struct LiveHandle {
    handle: Handle,
}

impl LiveHandle {
    /// Opens `interface` (in the calling thread's network namespace).
    pub fn open(interface: &str) -> Result<LiveHandle, String> {
        let c_if = CString::new(interface).map_err(|_| "interface name contains a NUL byte")?;
        let mut errbuf = [0 as std::ffi::c_char; ffi::PCAP_ERRBUF_SIZE];
        let _guard = lock();
        // SAFETY: `c_if` is NUL-terminated and `errbuf` has the
        // PCAP_ERRBUF_SIZE bytes libpcap may write into.
        let raw = unsafe { ffi::pcap_create(c_if.as_ptr(), errbuf.as_mut_ptr()) };
        let Some(ptr) = std::ptr::NonNull::new(raw) else {
            // SAFETY: on failure libpcap wrote a NUL-terminated message.
            let msg = unsafe { CStr::from_ptr(errbuf.as_ptr()) };
            return Err(format!(
                "pcap_create({interface}): {}",
                msg.to_string_lossy()
            ));
        };
        let handle = Handle(ptr);
        // SAFETY: the handle is open and not yet activated.
        let rc = unsafe { ffi::pcap_activate(handle.0.as_ptr()) };
        if rc < 0 {
            // SAFETY: the handle is open; its error buffer is
            // NUL-terminated and copied before the handle is closed.
            let err = unsafe { CStr::from_ptr(ffi::pcap_geterr(handle.0.as_ptr())) };
            return Err(format!(
                "pcap_activate({interface}) failed ({rc}): {}",
                err.to_string_lossy()
            ));
        }
        Ok(LiveHandle { handle })
    }

    /// Compiles `expr` for this capture with an unknown netmask. Returns
    /// the instructions or libpcap's error message.
    pub fn compile(&self, expr: &str, optimize: bool) -> Result<Vec<RawInsn>, String> {
        let c_expr =
            CString::new(expr).map_err(|_| "expression contains a NUL byte".to_string())?;
        let _guard = lock();
        self.handle.compile(&c_expr, optimize, NETMASK_UNKNOWN)
    }
}

/// Runs `insns` with libpcap's `bpf_filter` over `packet` (the captured
/// bytes) with original length `wire_len`, and returns the program's
/// result (0 = reject, otherwise the number of bytes to keep).
///
/// The program is first checked with libpcap's `bpf_validate`, since
/// `bpf_filter` trusts its input. To run one program over many packets,
/// validate it once with [`Program::new`].
pub fn run(insns: &[RawInsn], packet: &[u8], wire_len: u32) -> Result<u32, InvalidProgram> {
    Ok(Program::new(insns)?.run(packet, wire_len))
}

/// A program that libpcap's `bpf_validate` accepted, ready for
/// `bpf_filter`.
#[derive(Clone)]
pub struct Program {
    insns: Vec<ffi::BpfInsn>,
}

impl Program {
    /// Validates `insns` with libpcap's `bpf_validate`.
    pub fn new(insns: &[RawInsn]) -> Result<Program, InvalidProgram> {
        let prog: Vec<ffi::BpfInsn> = insns.iter().map(|&i| ffi::BpfInsn::from(i)).collect();
        let invalid = InvalidProgram { len: prog.len() };
        let len = c_int::try_from(prog.len()).map_err(|_| invalid.clone())?;
        if prog.is_empty() {
            return Err(invalid);
        }
        // SAFETY: `prog` is a live array of `len` instructions;
        // bpf_validate only reads it.
        let valid = unsafe { ffi::bpf_validate(prog.as_ptr(), len) };
        if valid == 0 {
            return Err(invalid);
        }
        Ok(Program { insns: prog })
    }

    /// Runs the program with libpcap's `bpf_filter` over `packet` (the
    /// captured bytes) with original length `wire_len`.
    pub fn run(&self, packet: &[u8], wire_len: u32) -> u32 {
        // A packet longer than 4 GiB cannot be described to bpf_filter;
        // its first 4 GiB are what the program may look at anyway.
        let buflen = c_uint::try_from(packet.len()).unwrap_or(c_uint::MAX);
        // SAFETY: `new` had bpf_validate accept the program: every jump
        // stays inside `insns`, scratch indices are below BPF_MEMWORDS and
        // it ends in a return, so bpf_filter reads only `insns`. It
        // bounds-checks every packet load against `buflen`, which is at
        // most the length of `packet`.
        unsafe { ffi::bpf_filter(self.insns.as_ptr(), packet.as_ptr(), wire_len, buflen) }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Always false: an empty program is not valid.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Program({} instructions)", self.insns.len())
    }
}

/// The `tcpdump -d` listing of `insns`, one instruction a line, as
/// libpcap's `bpf_image` prints it.
pub fn image(insns: &[RawInsn]) -> String {
    let mut out = String::new();
    let _guard = lock();
    for (n, &insn) in insns.iter().enumerate() {
        let insn = ffi::BpfInsn::from(insn);
        let n = c_int::try_from(n).unwrap_or(c_int::MAX);
        // SAFETY: bpf_image reads the one instruction behind the pointer
        // and formats it into a static buffer, which the lock held here
        // keeps from being overwritten until the text is copied below.
        let text = unsafe { ffi::bpf_image(&insn, n) };
        if text.is_null() {
            out.push_str("(bpf_image returned nothing)\n");
            continue;
        }
        // SAFETY: a non-null result of bpf_image is a NUL-terminated
        // string in libpcap's static buffer, valid until the next call.
        let line = unsafe { CStr::from_ptr(text) };
        out.push_str(&line.to_string_lossy());
        out.push('\n');
    }
    out
}

/// The process-wide lock over libpcap's non-reentrant parts. A test that
/// panicked while holding it leaves libpcap in a usable state, so a
/// poisoned lock is taken over.
fn lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A `pcap_t` from `pcap_open_dead`, `pcap_open_offline` or
/// `pcap_create`, closed on drop.
struct Handle(std::ptr::NonNull<ffi::Pcap>);

impl Handle {
    fn open_dead(linktype: c_int, snaplen: c_int) -> Result<Handle, String> {
        // SAFETY: pcap_open_dead takes plain integers and returns a new
        // handle or NULL.
        let raw = unsafe { ffi::pcap_open_dead(linktype, snaplen) };
        std::ptr::NonNull::new(raw)
            .map(Handle)
            .ok_or_else(|| format!("pcap_open_dead({linktype}, {snaplen}) failed"))
    }

    /// A handle reading a capture file of `linktype` that holds only its
    /// header (written to a temporary file, removed once open).
    fn open_file(linktype: u32, snaplen: u32) -> Result<Handle, String> {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "sluice-pcap-oracle-{}-{n}.pcap",
            std::process::id()
        ));
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&snaplen.to_le_bytes());
        header.extend_from_slice(&linktype.to_le_bytes());
        std::fs::write(&path, &header).map_err(|e| format!("writing {}: {e}", path.display()))?;
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| "temporary path contains a NUL byte".to_string())?;
        let mut errbuf = [0 as std::ffi::c_char; ffi::PCAP_ERRBUF_SIZE];
        // SAFETY: `c_path` is a NUL-terminated path and `errbuf` has the
        // PCAP_ERRBUF_SIZE bytes libpcap may write its message into.
        let raw = unsafe { ffi::pcap_open_offline(c_path.as_ptr(), errbuf.as_mut_ptr()) };
        // libpcap holds the file open; its name is no longer needed.
        let _ = std::fs::remove_file(&path);
        std::ptr::NonNull::new(raw).map(Handle).ok_or_else(|| {
            // SAFETY: on failure libpcap wrote a NUL-terminated message
            // into `errbuf`, whose last byte it never overwrites.
            let msg = unsafe { CStr::from_ptr(errbuf.as_ptr()) };
            format!("pcap_open_offline: {}", msg.to_string_lossy())
        })
    }

    fn compile(&self, expr: &CStr, optimize: bool, netmask: u32) -> Result<Vec<RawInsn>, String> {
        let mut prog = ffi::BpfProgram {
            bf_len: 0,
            bf_insns: std::ptr::null_mut(),
        };
        // SAFETY: the handle is open, `prog` is a writable bpf_program and
        // `expr` a NUL-terminated string that outlives the call.
        let rc = unsafe {
            ffi::pcap_compile(
                self.0.as_ptr(),
                &mut prog,
                expr.as_ptr(),
                c_int::from(optimize),
                netmask,
            )
        };
        if rc != 0 {
            // SAFETY: the handle is open; pcap_geterr returns a pointer to
            // its NUL-terminated error buffer, copied before the handle is
            // used again.
            let err = unsafe { CStr::from_ptr(ffi::pcap_geterr(self.0.as_ptr())) };
            return Err(err.to_string_lossy().into_owned());
        }
        let len = usize::try_from(prog.bf_len).unwrap_or(0);
        let insns = if prog.bf_insns.is_null() || len == 0 {
            Vec::new()
        } else {
            // SAFETY: on success pcap_compile filled `prog` with a
            // malloc'ed array of `bf_len` instructions, freed only below.
            let slice = unsafe { std::slice::from_raw_parts(prog.bf_insns, len) };
            slice.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
        };
        // SAFETY: `prog` was filled by pcap_compile and is freed once.
        unsafe { ffi::pcap_freecode(&mut prog) };
        Ok(insns)
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from pcap_open_dead, pcap_open_offline or
        // pcap_create and is closed once.
        unsafe { ffi::pcap_close(self.0.as_ptr()) };
    }
}

/// The libpcap declarations used here (`<pcap/pcap.h>`, `<pcap/bpf.h>`).
mod ffi {
    use std::ffi::{c_char, c_int, c_uint};

    /// Opaque `pcap_t`.
    #[repr(C)]
    pub struct Pcap {
        _private: [u8; 0],
    }

    /// `struct bpf_insn`.
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct BpfInsn {
        pub code: u16,
        pub jt: u8,
        pub jf: u8,
        pub k: u32,
    }

    impl From<super::RawInsn> for BpfInsn {
        fn from((code, jt, jf, k): super::RawInsn) -> BpfInsn {
            BpfInsn { code, jt, jf, k }
        }
    }

    /// `struct bpf_program`.
    #[repr(C)]
    pub struct BpfProgram {
        pub bf_len: c_uint,
        pub bf_insns: *mut BpfInsn,
    }

    /// `PCAP_ERRBUF_SIZE`.
    pub const PCAP_ERRBUF_SIZE: usize = 256;

    unsafe extern "C" {
        pub fn pcap_open_dead(linktype: c_int, snaplen: c_int) -> *mut Pcap;
        pub fn pcap_open_offline(fname: *const c_char, errbuf: *mut c_char) -> *mut Pcap;
        pub fn pcap_create(source: *const c_char, errbuf: *mut c_char) -> *mut Pcap;
        pub fn pcap_activate(p: *mut Pcap) -> c_int;
        pub fn pcap_close(p: *mut Pcap);
        pub fn pcap_geterr(p: *mut Pcap) -> *mut c_char;
        pub fn pcap_compile(
            p: *mut Pcap,
            prog: *mut BpfProgram,
            expr: *const c_char,
            optimize: c_int,
            netmask: u32,
        ) -> c_int;
        pub fn pcap_freecode(prog: *mut BpfProgram);
        pub fn bpf_filter(
            prog: *const BpfInsn,
            packet: *const u8,
            wirelen: c_uint,
            buflen: c_uint,
        ) -> c_uint;
        pub fn bpf_validate(prog: *const BpfInsn, len: c_int) -> c_int;
        pub fn bpf_image(insn: *const BpfInsn, n: c_int) -> *mut c_char;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_runs_a_port_filter() {
        let prog = compile("tcp port 80", 1, true).unwrap();
        assert!(prog.len() > 5);
        let mut frame = vec![0u8; 54];
        frame[12] = 0x08; // IPv4
        frame[14] = 0x45;
        frame[23] = 6; // TCP
        frame[36] = 0;
        frame[37] = 80; // destination port 80
        assert_eq!(run(&prog, &frame, 54).unwrap(), 262_144);
        frame[37] = 81;
        assert_eq!(run(&prog, &frame, 54).unwrap(), 0);
    }

    #[test]
    fn reports_libpcap_errors() {
        let err = compile("tcp port", 1, true).unwrap_err();
        assert!(err.contains("syntax error"), "{err}");
        let err = compile("ip broadcast", 1, true).unwrap_err();
        assert!(err.contains("netmask"), "{err}");
        let ok = compile_with(
            "ip broadcast",
            &Config {
                netmask: Some(0xffff_ff00),
                ..Config::default()
            },
        );
        assert!(ok.is_ok());
    }

    #[test]
    fn refuses_to_run_an_invalid_program() {
        // A jump past the end.
        let bad = [(0x15, 5, 0, 0), (0x06, 0, 0, 0)];
        assert!(run(&bad, &[0; 4], 4).is_err());
        assert!(run(&[], &[0; 4], 4).is_err());
    }

    #[test]
    fn prints_tcpdump_listing() {
        let prog = compile("ip", 1, true).unwrap();
        let text = image(&prog);
        assert!(text.starts_with("(000) ldh      [12]"), "{text}");
        assert!(text.contains("ret      #262144"), "{text}");
    }

    #[test]
    fn a_capture_file_handle_refuses_direction() {
        let config = |savefile| Config {
            linktype: 1,
            savefile,
            ..Config::default()
        };
        assert!(compile_with("inbound", &config(false)).is_ok());
        let err = compile_with("inbound", &config(true)).unwrap_err();
        assert!(err.contains("savefiles"), "{err}");
        assert_eq!(
            compile_with("tcp port 80", &config(true)),
            compile_with("tcp port 80", &config(false))
        );
        let raw = Config {
            linktype: 101,
            savefile: true,
            ..Config::default()
        };
        assert!(compile_with("ip", &raw).is_ok());
    }

    #[test]
    fn maps_raw_linktype() {
        assert_eq!(dlt_of_linktype(101), 12);
        assert!(compile("ip", 101, true).is_ok());
    }
}
